"""Forward scope and backward trace walked over the in-memory topology index.

Each walk follows the same steps, in the same order and with the same rules, as the Cypher walk in
:mod:`.scope` (the compiled phases in :mod:`.kernels` name the query files of theirs),
so both give the same scope; the tests hold them to that on generated graphs. A step takes a whole
frontier at once: each node's pointers in the index give the relationships leaving (or entering) it,
and a mask marks each node reached, and each batch visited, once. A small walk is one compiled call;
a long one returns to Python every :data:`WORK` relationships, and its limits are checked there.
A walk sees no change half applied (:meth:`Topology.walked <lineage.graph.topology.Topology.walked>`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lineage.graph import topology as index
from lineage.graph.model import OPEN_END, OPEN_START, NodeRef, RelType
from lineage.graph.topology import LABEL_CODE, REL_CODE, Marks, Topology

#: Called with the number of nodes reached so far; raises when the scope is over its budget.
Checkpoint = Callable[[int], None]
#: Relationships a compiled call takes before it returns to check the time limit: a few
#: milliseconds of work, so a walk overruns its time limit by no more than that.
WORK = 1 << 16
R = RelType
#: The order a scope lists its relationship types in: the order the walk first takes them.
FORWARD_TYPES = (R.SUPPLIED, R.RAN_ON, R.HANDLED_BY, R.CONSUMED_BY, R.SHIPPED_IN, R.DELIVERED_TO)
FORWARD_TYPES += (R.DISPATCHED, R.SOLD_IN, R.SOLD)
BACKWARD_TYPES = (R.ABOUT, R.DELIVERED_TO, R.SOLD, R.SOLD_IN, R.SHIPPED_IN, R.CONSUMED_BY, R.RAN_ON)
BACKWARD_TYPES += (R.HANDLED_BY, R.INSPECTED, R.SUPPLIED)
Positions = dict[RelType, np.ndarray]
Ends = dict[RelType, tuple[np.ndarray, np.ndarray]]


class Found(NamedTuple):
    """A walk's nodes and relationships, as a scope holds them."""

    ids: np.ndarray  # sorted
    taken: np.ndarray  # index-wide positions, in no order
    start: int  # the source's position in ids
    cuts: list[int]  # where each kind's run of ids starts in ids, and the last one ends
    names: np.ndarray | None  # the uids of ids (kernels.named), when the walk's one call named them


class Selection:
    """The relationships a walk took and the nodes it reached, as the compiled phases return them;
    those it reached are noted in ``marks`` too, unless the call that reached them unmarked them
    itself (a walk done in one call)."""

    def __init__(self, topology: Topology, source: NodeRef, marks: Marks, limit: int) -> None:
        self.topology = topology
        self.source = topology.id(source)  # None: no relationship at all, so the walk takes none
        self.label = source.label
        self.marks = marks
        self.limit = limit
        self.taken: list[np.ndarray] = []
        self.nodes: list[np.ndarray] = []
        #: Nodes reached, the source included: what the node limit is checked against.
        self.reached = 0
        #: From a walk done in one call: its nodes unmarked, sorted and named there.
        self.whole: Found | None = None

    def add(
        self, taken: np.ndarray, reached: np.ndarray, found: tuple[int, np.ndarray, np.ndarray] | None = None
    ) -> None:
        """``found``: what :func:`lineage.graph.kernels.found` said of ``reached``, when the call that
        returned them walked the whole scope (and unmarked them)."""
        self.taken.append(taken)
        self.nodes.append(reached)
        self.reached += reached.size
        if found is None:
            self.marks.note(reached)
        else:
            start, cuts, names = found
            self.whole = Found(reached, taken, start, cuts.tolist(), names)

    def gathered(self) -> Found:
        """The scope's nodes and relationships. Only the ids are sorted here: the questions asked
        of most scopes (who is in it, how many of each kind) need no relationship, so
        :func:`by_type` waits for a caller who asks for them."""
        if self.whole is not None:
            return self.whole
        ids = np.sort(np.concatenate(self.nodes))
        cuts = np.searchsorted(ids, self.topology.offsets).tolist()
        return Found(ids, np.concatenate(self.taken), int(np.searchsorted(ids, self.source)), cuts, None)

    def edges(self) -> Positions:
        """By type, the positions of the relationships taken in their relation, sorted."""
        found = self.gathered()
        return by_type(self.topology, found.ids, found.taken, tuple(RelType))[0]


def by_type(
    topology: Topology, ids: np.ndarray, taken: np.ndarray, types: tuple[RelType, ...]
) -> tuple[Positions, Ends]:
    """By type, in ``types``' order, the positions of the relationships ``taken`` in their
    :class:`~lineage.graph.arrays.Relation` (sorted), and their ends as positions among ``ids`` (the
    sorted ids of the scope they belong to)."""
    at = topology.index.at
    taken, a, b = index.kernels.gather(topology.arrays, taken, ids)
    cuts, starts = np.searchsorted(taken, at).tolist(), at.tolist()
    positions, ends = {}, {}
    for rel in types:
        code = REL_CODE[rel]
        lo, hi = cuts[code], cuts[code + 1]
        if lo < hi:
            positions[rel] = taken[lo:hi] - starts[code]
            ends[rel] = (a[lo:hi], b[lo:hi])
    return positions, ends


def forward(
    topology: Topology, source: NodeRef, window: tuple[int, int] | None, checkpoint: Checkpoint, limit: int
) -> Selection:
    steps: Callable[[Selection], None] = lambda w: _forward(w, window, checkpoint)  # noqa: E731
    return topology.walked(lambda: _walked(topology, source, limit, steps))


def _walked(topology: Topology, source: NodeRef, limit: int, steps: Callable[[Selection], None]) -> Selection:
    walk = Selection(topology, source, topology.lend(), limit)
    try:
        if walk.source is not None:
            steps(walk)
    finally:
        topology.give_back(walk.marks)
    return walk


def _forward(walk: Selection, window: tuple[int, int] | None, checkpoint: Checkpoint) -> None:
    k, g, mask = index.kernels, walk.topology.arrays, walk.marks.array
    lo, hi = window or (OPEN_START, OPEN_END)
    kind = LABEL_CODE[walk.label]
    source, limit = walk.source, walk.limit
    taken, reached, batches, level, whole, found = k.forward_scope(g, mask, source, kind, lo, hi, limit, WORK)
    walk.add(taken, reached, found if whole else None)
    checkpoint(walk.reached)
    if whole:
        return
    every = [batches]
    while level.size:
        taken, reached, met, level = k.forward_levels(g, mask, level, walk.reached, walk.limit, WORK)
        walk.add(taken, reached)
        every.append(met)
        checkpoint(walk.reached)
    walk.add(*k.forward_outflow(g, mask, np.concatenate(every)))
    checkpoint(walk.reached)


def backward(topology: Topology, source: NodeRef, checkpoint: Checkpoint, limit: int) -> Selection:
    return topology.walked(lambda: _walked(topology, source, limit, lambda w: _backward(w, checkpoint)))


def _backward(walk: Selection, checkpoint: Checkpoint) -> None:
    k, g, mask = index.kernels, walk.topology.arrays, walk.marks.array
    kind = LABEL_CODE[walk.label]
    source, limit = walk.source, walk.limit
    taken, reached, batches, lots, level, whole, found = k.backward_trace(g, mask, source, kind, limit, WORK)
    walk.add(taken, reached, found if whole else None)
    checkpoint(walk.reached)
    if whole:
        return
    every, inputs = [batches], [lots]
    while level.size:
        taken, reached, met, lots, level = k.backward_levels(g, mask, level, walk.reached, walk.limit, WORK)
        walk.add(taken, reached)
        every.append(met)
        inputs.append(lots)
        checkpoint(walk.reached)
    walk.add(*k.backward_context(g, mask, np.concatenate(every), np.concatenate(inputs)))
    checkpoint(walk.reached)
