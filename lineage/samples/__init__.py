"""Data to try lineage on: the hand-written demo dairy (:mod:`.demo`) and seeded generators of
plants (:mod:`.generate`), diamonds and distributions (:mod:`.shapes`).

May import: :mod:`lineage.graph`.
"""
