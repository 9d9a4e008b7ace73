"""The graph core: the lineage model, the one database session, and the walks over it.

Owns the node and relationship vocabulary (:mod:`.model`, the record schema in :mod:`.schema`, GS1
keys in :mod:`.gs1`), the query files and the engine adapters (:mod:`.queries`, :mod:`.engines`),
the store (:mod:`.store`) with its audit log (:mod:`.audit`), the in-memory topology index and how
writes keep it current (:mod:`.topology`, :mod:`.topology_build`, :mod:`.arrays`, :mod:`.layout`,
:mod:`.live`, :mod:`.cache`, :mod:`.catalog`, :mod:`.hugepages`, :mod:`.kernels`, :mod:`.walk`), and
the scopes built from them (:mod:`.scope` and the modules it names, :mod:`.evidence`,
:mod:`.nodes`).

May import: :mod:`lineage.config` and :mod:`lineage.errors`. Nothing here knows recalls, complaints,
file formats, the command line or HTTP.
"""
