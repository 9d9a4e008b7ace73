"""Forward scope and backward trace walked over the in-memory topology index.

Each walk follows the same steps, in the same order and with the same rules, as the Cypher walk in
:mod:`lineage.scope` (the query files it names are cited at each step), so both give the same scope;
the tests hold them to that on generated graphs. A step takes a whole frontier at once: each node's
pointers in the index give the relationships leaving (or entering) it, and a visited mask keeps each
node to one visit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from lineage.model import OPEN_END, OPEN_START, Label, NodeRef, RelType
from lineage.topology import EMPTY, Marks, Topology, among, distinct

#: Called with the number of nodes reached so far; raises when the scope is over its budget.
Checkpoint = Callable[[int], None]
L = Label
R = RelType


class Selection:
    """The relationships a walk took, as positions in each :class:`~lineage.topology.Relation`."""

    def __init__(self, topology: Topology, source: NodeRef, seen: Marks) -> None:
        self.topology = topology
        self.source = topology.id(source)  # None: no relationship at all, so the walk takes none
        self.taken: dict[RelType, list[np.ndarray]] = {}
        self.seen = seen
        self.here = EMPTY if self.source is None else np.array([self.source])
        self.reached = self.seen.fresh(self.here).size

    def take(self, rel: RelType, positions: np.ndarray, far: Literal["src", "dst"]) -> None:
        """Take the relationships at ``positions``, found from the nodes at their other end: those
        were reached before, so only the ``far`` ends are marked, half the marking; the count of
        nodes reached is what the node limit is checked against."""
        if positions.size:
            self.taken.setdefault(rel, []).append(positions)
            relation = self.topology.relations[rel]
            self.reached += self.seen.fresh(relation.dst if far == "dst" else relation.src, positions).size

    def edges(self) -> dict[RelType, np.ndarray]:
        """Sorted: each step takes relationships from nodes no step started from before, so none
        is taken twice (the Cypher walk's comparison in the tests would show a duplicate)."""
        return {rel: np.sort(np.concatenate(parts)) for rel, parts in self.taken.items()}


def forward(
    topology: Topology, source: NodeRef, window: tuple[int, int] | None, checkpoint: Checkpoint
) -> Selection:
    with topology.marks() as seen, topology.marks() as visited:
        return _forward(topology, source, window, checkpoint, seen, visited)


def _forward(
    topology: Topology,
    source: NodeRef,
    window: tuple[int, int] | None,
    checkpoint: Checkpoint,
    seen: Marks,
    visited: Marks,
) -> Selection:
    rel = topology.relations
    walk = Selection(topology, source, seen)
    if walk.source is None:
        return walk
    here = walk.here
    lots, batches = EMPTY, EMPTY
    if source.label == L.SUPPLIER:  # scope_supplier_lots
        taken = rel[R.SUPPLIED].out_of(here)
        walk.take(R.SUPPLIED, taken, "dst")
        lots = distinct(rel[R.SUPPLIED].dst[taken])
    elif source.label == L.MATERIAL_LOT:
        lots = here
    elif source.label == L.BATCH:
        batches = here
    else:  # scope_machine_batches, scope_operator_batches: runs overlapping the window
        kind = R.RAN_ON if source.label == L.MACHINE else R.HANDLED_BY
        lo, hi = window or (OPEN_START, OPEN_END)
        taken = rel[kind].into(here)
        taken = taken[(rel[kind].start[taken] < hi) & (rel[kind].end[taken] > lo)]
        walk.take(kind, taken, "src")
        batches = distinct(rel[kind].src[taken])
    checkpoint(walk.reached)

    consumed = rel[R.CONSUMED_BY]
    frontier = [visited.fresh(batches)]  # batches expanded or queued, as the Cypher walk's `seen`
    taken = consumed.out_of(lots)  # scope_lot_consumers
    walk.take(R.CONSUMED_BY, taken, "dst")
    frontier.append(visited.fresh(consumed.dst, taken))
    level = np.concatenate(frontier)
    every = [level]
    while level.size:  # scope_batch_consumers, one level at a time
        checkpoint(walk.reached)
        taken = consumed.out_of(level)
        walk.take(R.CONSUMED_BY, taken, "dst")
        level = visited.fresh(consumed.dst, taken)
        every.append(level)
    batches = np.concatenate(every)
    checkpoint(walk.reached)

    # scope_batch_outflow: shipments and sales of the scoped batches, their customers, and a
    # distributor's dispatch of a shipment only when that distributor received scoped goods.
    taken = rel[R.SHIPPED_IN].out_of(batches)
    walk.take(R.SHIPPED_IN, taken, "dst")
    shipments = distinct(rel[R.SHIPPED_IN].dst[taken])
    taken = rel[R.DELIVERED_TO].out_of(shipments)
    walk.take(R.DELIVERED_TO, taken, "dst")
    receivers = distinct(rel[R.DELIVERED_TO].dst[taken])
    taken = rel[R.DISPATCHED].into(shipments)
    walk.take(R.DISPATCHED, taken[among(rel[R.DISPATCHED].src[taken], receivers)], "src")
    taken = rel[R.SOLD_IN].out_of(batches)
    walk.take(R.SOLD_IN, taken, "dst")
    walk.take(R.SOLD, rel[R.SOLD].into(distinct(rel[R.SOLD_IN].dst[taken])), "src")
    checkpoint(walk.reached)
    return walk


def backward(topology: Topology, source: NodeRef, checkpoint: Checkpoint) -> Selection:
    with topology.marks() as seen, topology.marks() as visited:
        return _backward(topology, source, checkpoint, seen, visited)


def _backward(
    topology: Topology, source: NodeRef, checkpoint: Checkpoint, seen: Marks, visited: Marks
) -> Selection:
    rel = topology.relations
    walk = Selection(topology, source, seen)
    if walk.source is None:
        return walk
    here = walk.here
    sales, shipments, batches, lots = EMPTY, EMPTY, EMPTY, EMPTY
    if source.label == L.COMPLAINT:  # trace_complaint_subjects
        taken = rel[R.ABOUT].out_of(here)
        walk.take(R.ABOUT, taken, "dst")
        subjects = rel[R.ABOUT].dst[taken]
        sales, batches = topology.ids_of(L.SALE, subjects), topology.ids_of(L.BATCH, subjects)
    elif source.label == L.SALE:
        sales = here
    elif source.label == L.SHIPMENT:
        shipments = here
    elif source.label == L.CUSTOMER:  # trace_customer_receipts
        taken = rel[R.DELIVERED_TO].into(here)
        walk.take(R.DELIVERED_TO, taken, "src")
        shipments = rel[R.DELIVERED_TO].src[taken]
        taken = rel[R.SOLD].out_of(here)
        walk.take(R.SOLD, taken, "dst")
        sales = rel[R.SOLD].dst[taken]
    elif source.label == L.BATCH:
        batches = here
    else:
        lots = here

    found = [batches]
    for kind, ends in ((R.SOLD_IN, sales), (R.SHIPPED_IN, shipments)):  # trace_sale_batches, ..._shipment_
        taken = rel[kind].into(distinct(ends))
        walk.take(kind, taken, "src")
        found.append(rel[kind].src[taken])
    checkpoint(walk.reached)

    consumed = rel[R.CONSUMED_BY]
    level = visited.fresh(np.concatenate(found))
    every, inputs = [level], [lots]
    while level.size:  # trace_batch_inputs, one level at a time
        checkpoint(walk.reached)
        taken = consumed.into(level)
        walk.take(R.CONSUMED_BY, taken, "src")
        sources = consumed.src[taken]
        inputs.append(topology.ids_of(L.MATERIAL_LOT, sources))
        level = visited.fresh(topology.ids_of(L.BATCH, sources))
        every.append(level)
    batches, lots = np.concatenate(every), distinct(np.concatenate(inputs))
    checkpoint(walk.reached)

    walk.take(R.RAN_ON, rel[R.RAN_ON].out_of(batches), "dst")  # trace_batch_machines
    walk.take(R.HANDLED_BY, rel[R.HANDLED_BY].out_of(batches), "dst")  # trace_batch_operators
    inspected = np.concatenate([batches, lots])  # trace_batch_inspections, trace_lot_inspections
    walk.take(R.INSPECTED, rel[R.INSPECTED].into(inspected), "src")
    walk.take(R.SUPPLIED, rel[R.SUPPLIED].into(lots), "src")  # trace_lot_suppliers
    checkpoint(walk.reached)
    return walk
