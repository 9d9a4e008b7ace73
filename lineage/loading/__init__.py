"""The write path: input read, validated, checked against the graph and written all or nothing.

Owns reading files (:mod:`.read`), the record schema (:mod:`.records`), validation and its helper
process (:mod:`.validate`, :mod:`.helper`), the checks that need the graph (:mod:`.checks`), the load
itself (:mod:`.load`), uploads over HTTP (:mod:`.uploads`) and what a supplier's key may send and see
(:mod:`.parties`).

May import: :mod:`lineage.graph`, :mod:`lineage.interchange` (EPCIS documents), :mod:`lineage.config`,
:mod:`lineage.errors`.
"""
