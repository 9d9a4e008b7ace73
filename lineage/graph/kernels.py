"""A walk compiled, so that a small scope costs what it touches, not what Python's calls cost.

A small scope is a few dozen ids per step, where a numpy call's dispatch costs more than its work,
and every call from Python costs several times its warm price when the processor's caches hold other
work, as they do between two requests. So a small walk is one compiled call here
(:func:`forward_scope`, :func:`backward_trace`) and a long one a call per phase: a walk returns to
Python every 65,536 relationships (:data:`lineage.graph.walk.WORK`), for its time limit to be
checked, as numba's compiled code cannot read a clock.

Every function takes the index as one :class:`~lineage.graph.layout.Index` (every relation's arrays
end to end), and relationships by their index-wide position. The calls from Python pass its arrays
as a plain tuple (:attr:`Topology.arrays <lineage.graph.topology.Topology.arrays>`) and make the
Index inside, since numba checks a NamedTuple argument's type at about twice a tuple's price. The
loops release the GIL, so the API's threads scope in parallel. Compiled code is cached beside this
file (``__pycache__``): the first process on a new install compiles, later ones load it;
:func:`warm` does either when an index is made, so no request waits on it (the container image runs
it once as it is built, where the server's user could not write the cache). Importing numba is
slow, so :mod:`lineage.graph.topology` loads this module with the first index, and a command that
never walks (a load, a recall, ``--help``) never pays for it.

The module is one file on purpose, longer than the others: numba checks a cached function against
the file that defines it only, so a walk cached in one file would keep calling the old code of a
primitive changed in another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from lineage.graph.layout import Index

#: An :class:`Index` as a plain tuple of its arrays, as Python passes it.
Arrays = tuple[np.ndarray, ...]
#: What :func:`found` says of a whole scope's nodes.
Found = tuple[int, np.ndarray, np.ndarray]

# Positions in lineage.graph.model's RelType and Label. Numba fixes a global's value when it compiles, and
# checks its cache against this file only: so they are written out here, and tests/test_kernels.py
# holds them to the model's order.
SUPPLIED, CONSUMED_BY, RAN_ON, HANDLED_BY, INSPECTED, SHIPPED_IN, DISPATCHED, DELIVERED_TO = range(8)
SOLD_IN, SOLD, ABOUT = 8, 9, 10
SUPPLIER, MATERIAL_LOT, MACHINE, OPERATOR, BATCH, INSPECTION, SHIPMENT, CUSTOMER, SALE, COMPLAINT = range(10)
#: A walk's two marks on a node, bits of one byte of its mask (one array to lend and one cache line
#: to miss per node, where two masks were two): reached (the scope holds it), and, for a batch,
#: visited (expanded or queued, the Cypher walk's ``seen``). Every node visited is reached.
REACHED, VISITED = np.uint8(1), np.uint8(2)
#: Positions in Index.changes: relationships added since the index was built, and removed.
ADDED, REMOVED = 0, 1


@njit(cache=True, nogil=True)
def ranges(ptr: np.ndarray, base: int, nodes: np.ndarray) -> np.ndarray:
    """Positions ``ptr[n - base]`` up to ``ptr[n - base + 1]`` for every node ``n`` in ``nodes``, in
    turn: the relationships leaving ``nodes`` in a compressed sparse row index."""
    total = 0
    for n in nodes:
        total += ptr[n - base + 1] - ptr[n - base]
    out = np.empty(total, np.int64)
    k = 0
    for n in nodes:
        for p in range(ptr[n - base], ptr[n - base + 1]):
            out[k] = p
            k += 1
    return out


@njit(cache=True, nogil=True)
def fresh(mask: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Mark ``ids`` visited in ``mask``; those not visited before, sorted, each once."""
    out = _marking(mask, VISITED, ids, np.arange(ids.size))
    out.sort()
    return out


@njit(cache=True, nogil=True)
def marked(mask: np.ndarray, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Mark ``ids[positions]`` reached in ``mask``; those not reached before, each once, in the order
    met."""
    return _marking(mask, REACHED, ids, positions)


@njit(cache=True, nogil=True)
def _marking(mask: np.ndarray, bit: np.uint8, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Set ``bit`` on ``ids[positions]`` in ``mask``; those it was not set on before, each once, in
    the order met."""
    out = np.empty(positions.size, np.int64)
    k = 0
    for p in positions:
        i = ids[p]
        if not mask[i] & bit:
            mask[i] |= bit
            out[k] = i
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def distinct(ids: np.ndarray) -> np.ndarray:
    """``ids`` sorted, each once (a new array unless there are fewer than two)."""
    if ids.size < 2:
        return ids
    out = np.sort(ids)
    k = 1
    for i in range(1, out.size):
        if out[i] != out[k - 1]:
            out[k] = out[i]
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def within(ids: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The ids among ``ids`` from ``lo`` up to ``hi``, in their order."""
    out = np.empty(ids.size, np.int64)
    k = 0
    for i in ids:
        if lo <= i < hi:
            out[k] = i
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def among(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of ``ids`` are in ``sorted_ids``."""
    found = np.zeros(ids.size, np.bool_)
    if sorted_ids.size:
        at = np.searchsorted(sorted_ids, ids)
        for j in range(ids.size):
            found[j] = at[j] < sorted_ids.size and sorted_ids[at[j]] == ids[j]
    return found


@njit(cache=True, nogil=True)
def joined(parts: Any) -> np.ndarray:
    """The arrays of ``parts`` end to end (numba's ``np.concatenate`` takes a tuple, not a list)."""
    total = 0
    for part in parts:
        total += part.size
    out = np.empty(total, np.int64)
    k = 0
    for part in parts:
        out[k : k + part.size] = part
        k += part.size
    return out


@njit(cache=True, nogil=True)
def listed(head: np.ndarray, after: np.ndarray, lo: int, hi: int, nodes: np.ndarray) -> np.ndarray:
    """Positions from ``lo`` up to ``hi`` on the lists of relationships added since the index was
    built that start at ``head[n]`` for every node ``n`` of ``nodes``, each list ending at -1."""
    total = 0
    for n in nodes:
        p = head[n]
        while p >= 0:
            if lo <= p < hi:
                total += 1
            p = after[p]
    out = np.empty(total, np.int64)
    k = 0
    for n in nodes:
        p = head[n]
        while p >= 0:
            if lo <= p < hi:
                out[k] = p
                k += 1
            p = after[p]
    return out


@njit(cache=True, nogil=True)
def _living(
    g: Any, rel: int, positions: np.ndarray, head: np.ndarray, after: np.ndarray, nodes: np.ndarray
) -> np.ndarray:
    """``positions`` (the compacted arrays' relationships of type ``rel``), with those added since
    the index was built, and without those removed; neither costs a look while there are none."""
    if g.changes[ADDED]:
        positions = joined([positions, listed(head, after, g.at[rel], g.at[rel + 1], nodes)])
    if g.changes[REMOVED]:
        positions = positions[g.alive[positions] != 0]
    return positions


@njit(cache=True, nogil=True)
def out_of(g: Any, rel: int, nodes: np.ndarray) -> np.ndarray:
    """Positions of the relationships of type ``rel`` that leave any of ``nodes`` (of the kinds it
    starts from, as every step of a walk asks)."""
    positions = ranges(g.out_ptr[g.out_at[rel] :], g.out_base[rel], nodes) + g.at[rel]
    return _living(g, rel, positions, g.out_head, g.out_next, nodes)


@njit(cache=True, nogil=True)
def into(g: Any, rel: int, nodes: np.ndarray) -> np.ndarray:
    """Positions of the relationships of type ``rel`` that enter any of ``nodes``."""
    at = g.at[rel]
    positions = g.by_dst[ranges(g.in_ptr[g.in_at[rel] :], g.in_base[rel], nodes) + at] + at
    return _living(g, rel, positions, g.in_head, g.in_next, nodes)


@njit(cache=True, nogil=True)
def leaving(arrays: Arrays, rel: int, nodes: np.ndarray) -> np.ndarray:
    """:func:`out_of` called from Python (a change applied to the index looks its relationships up)."""
    return out_of(Index(*arrays), rel, nodes)


@njit(cache=True, nogil=True)
def entering(arrays: Arrays, rel: int, nodes: np.ndarray) -> np.ndarray:
    """:func:`into` called from Python."""
    return into(Index(*arrays), rel, nodes)


@njit(cache=True, nogil=True)
def of_kind(g: Any, kind: int, ids: np.ndarray) -> np.ndarray:
    return within(ids, g.bounds[kind], g.bounds[kind + 1])


@njit(cache=True, nogil=True)
def _start(mask: np.ndarray, source: int) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The source marked reached, and the lists a phase gathers its relationships and new nodes in."""
    here = np.full(1, source, np.int64)
    mask[source] |= REACHED
    return here, [here[:0]], [here]


@njit(cache=True, nogil=True)
def forward_start(
    g: Any, mask: np.ndarray, source: int, kind: int, lo: float, hi: float, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``scope_supplier_lots`` (or a machine's or operator's batches run in the window, ``lo`` to
    ``hi``), then, unless that passed ``limit`` nodes, ``scope_lot_consumers``: the relationships
    taken, the nodes reached (the source first), and the first level of batches."""
    here, taken, reached = _start(mask, source)
    lots, batches = here[:0], here[:0]
    if kind == SUPPLIER:
        t = out_of(g, SUPPLIED, here)
        taken.append(t)
        reached.append(marked(mask, g.dst, t))
        lots = distinct(g.dst[t])
    elif kind == MATERIAL_LOT:
        lots = here
    elif kind == BATCH:
        batches = here
    else:  # scope_machine_batches, scope_operator_batches: runs overlapping the window
        t = into(g, RAN_ON if kind == MACHINE else HANDLED_BY, here)
        t = t[(g.start[t] < hi) & (g.end[t] > lo)]
        taken.append(t)
        reached.append(marked(mask, g.src, t))
        batches = distinct(g.src[t])
    if joined(reached).size <= limit:
        first = fresh(mask, batches)  # batches expanded or queued, as the Cypher walk's `seen`
        t = out_of(g, CONSUMED_BY, lots)
        taken.append(t)
        reached.append(marked(mask, g.dst, t))
        return joined(taken), joined(reached), joined([first, fresh(mask, g.dst[t])])
    return joined(taken), joined(reached), here[:0]


@njit(cache=True, nogil=True)
def forward_levels(
    arrays: Arrays, mask: np.ndarray, level: np.ndarray, count: int, limit: int, work: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``scope_batch_consumers`` one level at a time from ``level``, until no batch is left, ``count``
    nodes reached passes ``limit``, or ``work`` relationships were taken: the relationships, the new
    nodes, the batches of every level reached, and the next level (empty when done)."""
    g = Index(*arrays)
    taken, reached, batches = [level[:0]], [level[:0]], [level[:0]]
    done = 0
    while level.size and count <= limit and done < work:
        t = out_of(g, CONSUMED_BY, level)
        new = marked(mask, g.dst, t)
        taken.append(t)
        reached.append(new)
        count += new.size
        done += t.size
        level = fresh(mask, g.dst[t])
        batches.append(level)
    return joined(taken), joined(reached), joined(batches), level


@njit(cache=True, nogil=True)
def forward_outflow(arrays: Arrays, mask: np.ndarray, batches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scope_batch_outflow``: shipments and sales of ``batches``, their customers, and a
    distributor's dispatch of a shipment only when that distributor received scoped goods."""
    g = Index(*arrays)
    shipped = out_of(g, SHIPPED_IN, batches)
    shipments = distinct(g.dst[shipped])
    delivered = out_of(g, DELIVERED_TO, shipments)
    receivers = distinct(g.dst[delivered])
    dispatched = into(g, DISPATCHED, shipments)
    dispatched = dispatched[among(g.src[dispatched], receivers)]
    sold_in = out_of(g, SOLD_IN, batches)
    sold = into(g, SOLD, distinct(g.dst[sold_in]))
    reached = [
        marked(mask, g.dst, shipped),
        marked(mask, g.dst, delivered),
        marked(mask, g.src, dispatched),
        marked(mask, g.dst, sold_in),
        marked(mask, g.src, sold),
    ]
    return joined([shipped, delivered, dispatched, sold_in, sold]), joined(reached)


@njit(cache=True, nogil=True)
def backward_start(
    g: Any, mask: np.ndarray, source: int, kind: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``trace_complaint_subjects`` or ``trace_customer_receipts``, then ``trace_sale_batches`` and
    ``trace_shipment_batches``: the relationships taken, the nodes reached (the source first), the
    first level of batches, and the lots the trace starts from (a lot's own)."""
    here, taken, reached = _start(mask, source)
    sales, shipments, batches, lots = here[:0], here[:0], here[:0], here[:0]
    if kind == COMPLAINT:
        t = out_of(g, ABOUT, here)
        taken.append(t)
        reached.append(marked(mask, g.dst, t))
        sales, batches = of_kind(g, SALE, g.dst[t]), of_kind(g, BATCH, g.dst[t])
    elif kind == SALE:
        sales = here
    elif kind == SHIPMENT:
        shipments = here
    elif kind == CUSTOMER:
        t = into(g, DELIVERED_TO, here)
        taken.append(t)
        reached.append(marked(mask, g.src, t))
        shipments = g.src[t]
        t = out_of(g, SOLD, here)
        taken.append(t)
        reached.append(marked(mask, g.dst, t))
        sales = g.dst[t]
    elif kind == BATCH:
        batches = here
    else:
        lots = here
    sold_in = into(g, SOLD_IN, distinct(sales))
    shipped = into(g, SHIPPED_IN, distinct(shipments))
    taken += [sold_in, shipped]
    reached += [marked(mask, g.src, sold_in), marked(mask, g.src, shipped)]
    level = fresh(mask, joined([batches, g.src[sold_in], g.src[shipped]]))
    return joined(taken), joined(reached), level, lots


@njit(cache=True, nogil=True)
def backward_levels(
    arrays: Arrays, mask: np.ndarray, level: np.ndarray, count: int, limit: int, work: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``trace_batch_inputs`` one level at a time, stopping as :func:`forward_levels` does: the
    relationships, the new nodes, the batches of every level reached, the lots met, and the next
    level."""
    g = Index(*arrays)
    taken, reached, batches, lots = [level[:0]], [level[:0]], [level[:0]], [level[:0]]
    done = 0
    while level.size and count <= limit and done < work:
        t = into(g, CONSUMED_BY, level)
        new = marked(mask, g.src, t)
        taken.append(t)
        reached.append(new)
        count += new.size
        done += t.size
        sources = g.src[t]
        lots.append(of_kind(g, MATERIAL_LOT, sources))
        level = fresh(mask, of_kind(g, BATCH, sources))
        batches.append(level)
    return joined(taken), joined(reached), joined(batches), joined(lots), level


@njit(cache=True, nogil=True)
def backward_context(
    arrays: Arrays, mask: np.ndarray, batches: np.ndarray, lots: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``trace_batch_machines``, ``trace_batch_operators``, ``trace_batch_inspections``,
    ``trace_lot_inspections`` and ``trace_lot_suppliers`` of the batches and lots found."""
    g = Index(*arrays)
    lots = distinct(lots)
    ran = out_of(g, RAN_ON, batches)
    handled = out_of(g, HANDLED_BY, batches)
    inspected = into(g, INSPECTED, joined([batches, lots]))
    supplied = into(g, SUPPLIED, lots)
    reached = [
        marked(mask, g.dst, ran),
        marked(mask, g.dst, handled),
        marked(mask, g.src, inspected),
        marked(mask, g.src, supplied),
    ]
    return joined([ran, handled, inspected, supplied]), joined(reached)


@njit(cache=True, nogil=True)
def forward_scope(
    arrays: Arrays,
    mask: np.ndarray,
    source: int,
    kind: int,
    lo: float,
    hi: float,
    limit: int,
    work: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool, Found]:
    """A forward scope in one call while it stays small: :func:`forward_start`, then
    :func:`forward_levels` up to ``work`` relationships and, when no level is left and ``limit`` was
    not passed, :func:`forward_outflow`. Returns the relationships, the nodes reached, the batches,
    the level left to expand, and whether the scope is whole; if not, the caller goes on with the
    phases itself, checking its limits between them, and gives ``mask`` back unmarked. A whole
    scope leaves ``mask`` as it found it, its nodes sorted, and what :func:`found` says of them (each
    call from Python costs 30-60 us out of cache: one is all a small scope makes)."""
    g = Index(*arrays)
    taken, reached, level = forward_start(g, mask, source, kind, lo, hi, limit)
    more, new, met, level_left = forward_levels(arrays, mask, level, reached.size, limit, work)
    taken, reached, batches = joined([taken, more]), joined([reached, new]), joined([level, met])
    if level_left.size or reached.size > limit:
        return taken, reached, batches, level_left, False, _unfound(g)
    more, new = forward_outflow(arrays, mask, batches)
    ids = unmarked(mask, joined([reached, new]))
    return joined([taken, more]), ids, batches, level_left, True, found(g, ids, source)


@njit(cache=True, nogil=True)
def backward_trace(
    arrays: Arrays, mask: np.ndarray, source: int, kind: int, limit: int, work: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool, Found]:
    """A backward trace in one call while it stays small, as :func:`forward_scope` is: the
    relationships, the nodes reached, the batches, the lots met, the level left, whether the trace
    is whole, and if so, what :func:`found` says of its nodes."""
    g = Index(*arrays)
    taken, reached, level, lots = backward_start(g, mask, source, kind)
    more, new, met, inputs, level_left = backward_levels(arrays, mask, level, reached.size, limit, work)
    taken, reached, batches = joined([taken, more]), joined([reached, new]), joined([level, met])
    lots = joined([lots, inputs])
    if level_left.size or reached.size > limit:
        return taken, reached, batches, lots, level_left, False, _unfound(g)
    more, new = backward_context(arrays, mask, batches, lots)
    ids = unmarked(mask, joined([reached, new]))
    return joined([taken, more]), ids, batches, lots, level_left, True, found(g, ids, source)


@njit(cache=True, nogil=True)
def unmarked(mask: np.ndarray, reached: np.ndarray) -> np.ndarray:
    """``reached`` unmarked in ``mask`` (every node a walk marks, it reached) and sorted: a walk done
    in one call gives its mask back clean while its lines are still in the cache, where Python
    unmarking it after was a fifth of a customer's trace out of cache."""
    for i in reached:
        mask[i] = 0
    reached.sort()
    return reached


@njit(cache=True, nogil=True)
def found(g: Any, ids: np.ndarray, source: int) -> Found:
    """Of a scope's nodes ``ids`` (sorted, the source among them): the source's position, where
    each kind's run of ids starts (and the last one ends), and their uids (:func:`named`)."""
    names = named(g.names, g.name_starts, g.name_ends, ids)
    return np.searchsorted(ids, source), np.searchsorted(ids, g.bounds), names


@njit(cache=True, nogil=True)
def _unfound(g: Any) -> Found:
    """:func:`found`'s answer's shape, for a walk that is not whole."""
    return 0, g.bounds[:0], g.names[:0]


@njit(cache=True, nogil=True)
def gather(arrays: Arrays, taken: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A walk's relationships sorted (so each type's are one run, in the order they are stored),
    with each one's ends as positions among the walk's nodes ``ids`` (sorted)."""
    g = Index(*arrays)
    taken = np.sort(taken)
    return taken, np.searchsorted(ids, g.src[taken]), np.searchsorted(ids, g.dst[taken])


@njit(cache=True, nogil=True)
def named(names: np.ndarray, starts: np.ndarray, ends: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The uids of ``ids``, in their order, as UTF-8 with a NUL between two: the bytes of uid ``i``
    in ``names`` run from ``starts[i]`` up to ``ends[i]``."""
    total = max(ids.size - 1, 0)
    for i in ids:
        total += ends[i] - starts[i]
    out = np.empty(total, np.uint8)
    k = 0
    for j in range(ids.size):
        i = ids[j]
        lo = starts[i]
        n = ends[i] - lo
        out[k : k + n] = names[lo : lo + n]
        k += n
        if j + 1 < ids.size:
            out[k] = 0
            k += 1
    return out


def warm(index: Any = None) -> None:
    """Compile every phase for the arrays ``index`` holds (or load them from the cache), so that the
    first scope does not wait on it; without one, for both widths of pointer (32-bit below 2**31
    relationships, 64-bit above). Each phase runs on a one-node mask from a source whose branch reads
    nothing from the index (compiled code does not check bounds)."""
    if index is None:
        for width in (np.int32, np.int64):
            warm(Index.empty(width))
        return
    arrays, none, mask = tuple(index), np.empty(0, np.int64), np.zeros(1, np.uint8)
    forward_scope(arrays, mask, 0, BATCH, 0.0, 0.0, -1, 0)
    backward_trace(arrays, mask, 0, MATERIAL_LOT, -1, 0)
    forward_levels(arrays, mask, none, 0, 0, 0)
    forward_outflow(arrays, mask, none)
    backward_levels(arrays, mask, none, 0, 0, 0)
    backward_context(arrays, mask, none, none)
    gather(arrays, none, none)
    leaving(arrays, 0, none)
    entering(arrays, 0, none)
    named(index.names, index.name_starts, index.name_ends, none)
