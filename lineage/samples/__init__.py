"""Data to try lineage on: the hand-written demo dairy (:mod:`.demo`) and seeded generators of
plants, diamonds and distributions (:mod:`.generate`).

May import: :mod:`lineage.graph`.
"""
