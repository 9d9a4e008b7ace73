"""Checks that need the graph as well as the input: dangling references, material flow cycles, and
shipments of batches on hold.

Both run before the first write, because FalkorDB has no multi-statement transactions: once a load
starts writing, the only safe outcome is that it can be completed, so everything that could make it
invalid is found first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Protocol, TypeVar

import networkx as nx

from lineage.errors import CycleDetected, HeldBatchShipped, HeldLotConsumed, MissingReferences, Problem
from lineage.graph.engines.base import Row
from lineage.graph.model import LABEL_BY_NAME, LABEL_SLUG, Label, NodeRef, RelType, iso
from lineage.graph.scope import fetch_properties
from lineage.graph.store import Store
from lineage.loading.validate import Input, Position

T = TypeVar("T")
LOOKUP_CHUNK = 10_000
Statement = tuple[str, dict[str, Any]]


class Reader(Protocol):
    def run(self, name: str, timeout_s: float | None = None, **params: Any) -> list[Row]: ...


class Answers:
    """The reads of one load's checks. The first read of each kind the checks make (for an input
    of up to :data:`LOOKUP_CHUNK` uids of a kind, every read they make) is sent ahead, all in one
    round trip (:func:`reads_ahead`): on a busy server each round trip of a small ingest waits its
    turn for the interpreter. A check's read is answered from those, else asked of the store."""

    def __init__(self, store: Store, ahead: list[Statement]) -> None:
        self.store = store
        rows = store.run_many(ahead)
        self._ahead = {_key(name, params): got for (name, params), got in zip(ahead, rows, strict=True)}

    def run(self, name: str, timeout_s: float | None = None, **params: Any) -> list[Row]:
        rows = self._ahead.pop(_key(name, params), None)
        return self.store.run(name, timeout_s=timeout_s, **params) if rows is None else rows


def _key(name: str, params: dict[str, Any]) -> str:
    return f"{name} {json.dumps(params, sort_keys=True)}"


def reads_ahead(data: Input) -> list[Statement]:
    """The first read of each kind that :func:`check_references`, :func:`check_cycles` and
    :func:`check_holds` will make of ``data``, with whether the graph is empty."""
    ahead: list[Statement] = [("admin_graph_empty", {})]
    for wanted in (_referenced(data), {Label.BATCH: _cycle_endpoints(data)}):
        ahead += [("admin_existing", params) for params in islice(_existing_params(wanted), 1)]
    if shipped := sorted({batch for batch, _ in _shipped(data)}):
        first = {"uids": shipped[:LOOKUP_CHUNK]}
        ahead += [("hold_active_for_batches", first), ("recall_unheld_batches", first)]
    if lots := sorted({lot for lot, _ in _consuming(data)}):
        ahead.append(("hold_active_for_lots", {"uids": lots[:LOOKUP_CHUNK]}))
    return ahead


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def existing(reader: Reader, wanted: dict[Label, set[str]]) -> set[tuple[Label, str]]:
    """Which of the wanted (label, uid) pairs are already stored; one query per chunk."""
    found: set[tuple[Label, str]] = set()
    for params in _existing_params(wanted):
        for row in reader.run("admin_existing", **params):
            found.add((LABEL_BY_NAME[row["label"]], row["uid"]))
    return found


def _existing_params(wanted: dict[Label, set[str]]) -> Iterator[dict[str, list[str]]]:
    """``admin_existing``'s parameters for each chunk of the wanted uids, in sorted order."""
    pending = {label: sorted(uids) for label, uids in wanted.items() if uids}
    while pending:
        params: dict[str, list[str]] = {slug: [] for slug in LABEL_SLUG.values()}
        for label in list(pending):
            uids = pending[label]
            params[LABEL_SLUG[label]] = uids[:LOOKUP_CHUNK]
            pending[label] = uids[LOOKUP_CHUNK:]
            if not pending[label]:
                del pending[label]
        yield params


def _referenced(data: Input) -> dict[Label, set[str]]:
    """The relationship ends that the input names but does not hold, by label."""
    referenced: dict[Label, set[str]] = {}
    for (_, src_label, dst_label), pairs in data.rels.items():
        src_known = data.nodes.get(src_label, {})
        dst_known = data.nodes.get(dst_label, {})
        outside_src = {src for src, _ in pairs if src not in src_known}
        outside_dst = {dst for _, dst in pairs if dst not in dst_known}
        if outside_src:
            referenced.setdefault(src_label, set()).update(outside_src)
        if outside_dst:
            referenced.setdefault(dst_label, set()).update(outside_dst)
    return referenced


def check_references(reader: Reader, data: Input, graph_empty: bool = False) -> set[tuple[Label, str]]:
    """Every relationship end must exist in the input or the graph; returns the pre-existing ones."""
    referenced = _referenced(data)
    stored = set() if graph_empty else existing(reader, referenced)
    if sum(len(uids) for uids in referenced.values()) == len(stored):
        return stored
    problems: list[Problem] = []
    for (rel, src_label, dst_label), pairs in data.rels.items():
        src_known = data.nodes.get(src_label, {})
        dst_known = data.nodes.get(dst_label, {})
        for (src, dst), (_, position) in pairs.items():
            for uid, label, known, end in (
                (src, src_label, src_known, "from"),
                (dst, dst_label, dst_known, "to"),
            ):
                if uid not in known and (label, uid) not in stored:
                    problems.append(
                        data.problem(
                            position,
                            end,
                            f"{rel.value} names {label.value} {uid!r}, which is neither in the input "
                            "nor in the graph",
                        )
                    )
    raise MissingReferences("relationships name nodes that do not exist", problems)


def check_cycles(reader: Reader, data: Input, timeout_s: float, graph_empty: bool = False) -> None:
    """Refuse input whose CONSUMED_BY edges, with those stored, would make material consume itself.

    The stored graph is acyclic (this check guards every load), so a cycle must use a new edge, and
    every stored stretch of it starts at a batch that a new edge touches. Expanding downstream from
    the stored batches among those endpoints therefore pulls in every stored edge a cycle could use;
    the cost follows their downstream scope, not the size of the graph. Kahn's algorithm peels off
    everything that is not on a cycle; only what is left goes to networkx to name one cycle.
    """
    new_edges = data.rels.get((RelType.CONSUMED_BY, Label.BATCH, Label.BATCH), {})
    if not new_edges:
        return
    edges: set[tuple[str, str]] = set(new_edges)
    endpoints = _cycle_endpoints(data)
    stored = set() if graph_empty else {uid for _, uid in existing(reader, {Label.BATCH: endpoints})}
    frontier, seen = list(stored), set(stored)
    while frontier:
        next_frontier: list[str] = []
        for chunk in chunked(frontier, LOOKUP_CHUNK):
            for row in reader.run("scope_batch_consumers", timeout_s=timeout_s, uids=chunk):
                edges.add((row["src"], row["dst"]))
                if row["dst"] not in seen:
                    seen.add(row["dst"])
                    next_frontier.append(row["dst"])
        frontier = next_frontier
    cyclic = _on_cycles(edges)
    if not cyclic:
        return
    graph: nx.DiGraph = nx.DiGraph((a, b) for a, b in edges if a in cyclic and b in cyclic)
    cycle = nx.find_cycle(graph)
    names = [edge[0] for edge in cycle] + [cycle[0][0]]
    problems = [
        data.problem(new_edges[(a, b)][1], None, f"CONSUMED_BY {a!r} -> {b!r} closes the cycle")
        for a, b, *_ in cycle
        if (a, b) in new_edges
    ]
    raise CycleDetected(names, problems)


def _cycle_endpoints(data: Input) -> set[str]:
    edges = data.rels.get((RelType.CONSUMED_BY, Label.BATCH, Label.BATCH), {})
    return {uid for pair in edges for uid in pair}


def _shipped(data: Input) -> dict[tuple[str, str], tuple[dict[str, Any], Position]]:
    return data.rels.get((RelType.SHIPPED_IN, Label.BATCH, Label.SHIPMENT), {})


def _consuming(data: Input) -> dict[tuple[str, str], tuple[dict[str, Any], Position]]:
    return data.rels.get((RelType.CONSUMED_BY, Label.MATERIAL_LOT, Label.BATCH), {})


def _on_cycles(edges: set[tuple[str, str]]) -> set[str]:
    """Nodes left after repeatedly removing those with no incoming edge: empty iff acyclic."""
    successors: dict[str, list[str]] = defaultdict(list)
    incoming: dict[str, int] = defaultdict(int)
    for a, b in edges:
        successors[a].append(b)
        incoming[b] += 1
    ready = [n for n in successors if incoming[n] == 0]
    while ready:
        for m in successors.get(ready.pop(), ()):
            incoming[m] -= 1
            if incoming[m] == 0:
                ready.append(m)
    return {n for n, count in incoming.items() if count > 0}


def check_holds(reader: Answers, data: Input) -> None:
    """Stock on hold (:mod:`lineage.recall.holds`) must not move: a new ``SHIPPED_IN`` of a held batch is
    refused, and so is a new ``CONSUMED_BY`` of a held lot by a batch that did not start before the
    hold was placed (or gives no start), each naming the hold and the recall. What is stored already
    may be loaded again, and a use of the lot recorded late, by a batch that started earlier, loads."""
    _check_shipments(reader, data)
    _check_consumption(reader, data)


def _active_holds(reader: Reader, query: str, held: str, uids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """The active holds on these batches or lots, by the batch or lot each holds."""
    holds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunked(sorted(uids), LOOKUP_CHUNK):
        for row in reader.run(query, uids=chunk):
            holds[row[held]].append(row)
    return holds


def _check_shipments(reader: Reader, data: Input) -> None:
    shipping = _shipped(data)
    if not shipping:
        return
    shipped = {batch for batch, _ in shipping}
    holds = _active_holds(reader, "hold_active_for_batches", "batch", shipped)
    # A batch of an active recall that the records left nothing of was never held; it ships no more.
    # Asked for every shipped batch (so the read can go ahead of the holds'), kept for the unheld.
    held = set(holds)
    for chunk in chunked(sorted(shipped), LOOKUP_CHUNK):
        for row in reader.run("recall_unheld_batches", uids=chunk):
            if row["batch"] not in held:
                holds[row["batch"]].append({"recall": row["recall"]})
    if not holds:
        return
    stored = {(row["batch"], row["shipment"]) for row in reader.run("batch_shipments", uids=sorted(holds))}
    problems = []
    for (batch, shipment), (_, position) in shipping.items():
        if batch in holds and (batch, shipment) not in stored:
            named = "; ".join(
                f"hold {h['uid']} at {h['location']} (recall {h['recall']})"
                if "uid" in h
                else f"active recall {h['recall']}, whose records leave none of it to hold"
                for h in holds[batch]
            )
            problems.append(
                data.problem(
                    position,
                    "from",
                    f"batch {batch!r} is on hold and may not be shipped ({shipment}): {named}",
                )
            )
    if problems:
        raise HeldBatchShipped("shipments of batches on hold", problems)


def _check_consumption(reader: Answers, data: Input) -> None:
    consuming = _consuming(data)
    if not consuming:
        return
    holds = _active_holds(reader, "hold_active_for_lots", "lot", {lot for lot, _ in consuming})
    if not holds:
        return
    stored = {(row["src"], row["dst"]) for row in reader.run("scope_lot_consumers", uids=sorted(holds))}
    new = {(lot, batch) for lot, batch in consuming if lot in holds and (lot, batch) not in stored}
    started = _batch_starts(reader.store, data, {batch for _, batch in new})
    problems = []
    for (lot, batch), (_, position) in consuming.items():
        if (lot, batch) not in new:
            continue
        start = started.get(batch)
        against = [h for h in holds[lot] if start is None or start >= h["placed_at"]]
        if not against:
            continue  # a use before every hold on the lot, recorded late
        named = "; ".join(
            f"hold {h['uid']} placed {iso(h['placed_at'])} (recall {h['recall']})" for h in against
        )
        when = "gives no start" if start is None else f"started {iso(start)}"
        problems.append(
            data.problem(
                position,
                "from",
                f"lot {lot!r} is on hold and may not go into batch {batch!r}, which {when}: {named}",
            )
        )
    if problems:
        raise HeldLotConsumed("new uses of lots on hold", problems)


def _batch_starts(store: Store, data: Input, batches: set[str]) -> dict[str, int]:
    """When each batch started: as the input gives it, else as stored; absent when neither says."""
    given = data.nodes.get(Label.BATCH, {})
    starts = {b: given[b][0]["started_at"] for b in batches if b in given and "started_at" in given[b][0]}
    asked = [NodeRef(Label.BATCH, b) for b in sorted(batches - starts.keys())]
    for ref, props in fetch_properties(store, asked).items():
        if props.get("started_at") is not None:
            starts[ref.uid] = props["started_at"]
    return starts
