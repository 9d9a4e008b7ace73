"""Records in the forms partners and regulators send and ask for.

Owns EPCIS documents read into lineage records (:mod:`.epcis`), the FSMA 204 sortable spreadsheet
(:mod:`.fsma`, written as a file by :mod:`.fsma_sheet`), scopes in pages and streamed as CSV or
JSON Lines (:mod:`.paging`), as graph files (:mod:`.graphs`) and drawn as SVG or PNG
(:mod:`.render`).

May import: :mod:`lineage.graph`, :mod:`lineage.recall` (a notice's contact cells), :mod:`lineage.config`,
:mod:`lineage.errors`.
"""
