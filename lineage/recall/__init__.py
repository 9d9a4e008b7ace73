"""Recall work: from a lot's affected answer to a closed recall.

Owns the coordinator's first answer (:mod:`.affected`), mass balance (:mod:`.balance`), recall
cases (:mod:`.cases`, :mod:`.recalls`), holds (:mod:`.holds`), notices (:mod:`.notices`), follow-up
and effectiveness (:mod:`.completion`), mock drills (:mod:`.drill`) and the public lookup
(:mod:`.lookup`).

May import: :mod:`lineage.graph`, :mod:`lineage.config`, :mod:`lineage.errors`.
"""
