"""How the topology index lays out its arrays: the one :class:`Index` that :mod:`.topology` builds
and the compiled walk (:mod:`.kernels`) takes, neither importing the other."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lineage.graph.model import Label, RelType

#: Node kinds in index order: a kind's ids run from ``bounds[k]`` to ``bounds[k + 1]``.
LABELS = tuple(Label)
#: Each relationship type's position in an :class:`Index` (and in lineage.graph.kernels' numbering).
REL_CODE = {rel: code for code, rel in enumerate(RelType)}


class Index(NamedTuple):
    """Every relation's arrays end to end, in :data:`RelType` order, for the compiled walk
    (:mod:`lineage.graph.kernels`): one argument where each relation's would be a dozen. Relationship
    ``p`` of type ``r`` (its position in its :class:`Relation`) is at ``at[r] + p`` in ``src``,
    ``dst``, ``start`` and ``end``; ``by_dst``, ``out_ptr`` and ``in_ptr`` hold positions within a
    relation, as the relation's own do, ``out_ptr``'s of type ``r`` from ``out_at[r]`` on (for ids
    from ``out_base[r]``). ``bounds`` are :attr:`Topology.offsets`; ``names``, ``name_starts`` and
    ``name_ends`` say where each node's uid is in :attr:`Topology.names`. Each :class:`Relation`'s
    arrays are views of these, so the index holds them once.

    Each kind's ids and each type's positions run on past what the build read, into room kept for
    what is written later (:func:`lineage.graph.arrays.spare`). A relationship written later takes
    the type's next free position and is put at the head of a list per node, ``out_head[node]``
    then ``out_next[p]`` (``in_head``, ``in_next`` by end node) until -1; ``alive[p]`` is 0 for one
    removed. The compiled walk reads the lists and ``alive`` only while ``changes`` counts any added
    and removed."""

    src: np.ndarray
    dst: np.ndarray
    by_dst: np.ndarray
    out_ptr: np.ndarray
    in_ptr: np.ndarray
    at: np.ndarray
    out_at: np.ndarray
    out_base: np.ndarray
    in_at: np.ndarray
    in_base: np.ndarray
    start: np.ndarray
    end: np.ndarray
    bounds: np.ndarray
    names: np.ndarray
    name_starts: np.ndarray
    name_ends: np.ndarray
    alive: np.ndarray
    out_head: np.ndarray
    out_next: np.ndarray
    in_head: np.ndarray
    in_next: np.ndarray
    changes: np.ndarray

    @classmethod
    def empty(cls, width: type) -> Index:
        """An index of no relationship, with pointers ``width`` wide (the compiled walk's code
        differs by it): what :func:`lineage.graph.kernels.warm` compiles against."""
        none, per_type = np.empty(0, np.int64), np.zeros(len(RelType), np.int64)
        return cls(
            src=none,
            dst=none,
            by_dst=none,
            out_ptr=np.zeros(1, width),
            in_ptr=np.zeros(1, width),
            at=np.zeros(len(RelType) + 1, np.int64),
            out_at=per_type,
            out_base=per_type,
            in_at=per_type,
            in_base=per_type,
            start=np.empty(0),
            end=np.empty(0),
            bounds=np.zeros(len(LABELS) + 1, np.int64),
            names=np.empty(0, np.uint8),
            name_starts=none,
            name_ends=none,
            alive=np.empty(0, np.uint8),
            out_head=np.full(1, -1, width),
            out_next=np.empty(0, width),
            in_head=np.full(1, -1, width),
            in_next=np.empty(0, width),
            changes=np.zeros(2, np.int64),
        )
