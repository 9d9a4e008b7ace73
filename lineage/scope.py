"""Forward scope, backward trace, and the path that explains why a node is in a scope.

Traversal is a frontier expansion: one query per level over the nodes first reached at the level
before, with the visited set kept here. Each node and edge is touched once, so the cost follows the
size of the scope. A variable-length pattern (``-[*]->``) would enumerate paths instead, and lineage
graphs, where every batch shares inputs with many others, have exponentially many of those.

Distribution is batch-aware: a shipment is in the forward scope only if it carries a batch in scope,
so a distributor that received an affected batch and an unaffected one and re-shipped only the
unaffected one does not pull its onward customers in.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lineage.errors import InvalidRequest, NotFound, QueryTimeout, ScopeTooLarge
from lineage.gcpause import gc_paused
from lineage.model import (
    LABEL_BY_NAME,
    LABEL_SLUG,
    OPEN_END,
    OPEN_START,
    Label,
    NodeRef,
    RelType,
    iso,
    to_epoch_ms,
)
from lineage.store import Store
from lineage.topology import FLOW_TYPES, KIND_NAMES, LABEL_CODE, LABELS, RUN_TYPES, Topology
from lineage.walk import BACKWARD_TYPES, FORWARD_TYPES, Ends, Found, Positions, Selection, by_type
from lineage.walk import backward as walk_backward
from lineage.walk import forward as walk_forward

Direction = Literal["forward", "backward"]
CHUNK = 10_000

FORWARD_SOURCES = (Label.MATERIAL_LOT, Label.BATCH, Label.SUPPLIER, Label.MACHINE, Label.OPERATOR)
BACKWARD_SOURCES = (
    Label.COMPLAINT,
    Label.SALE,
    Label.SHIPMENT,
    Label.CUSTOMER,
    Label.BATCH,
    Label.MATERIAL_LOT,
)
WINDOWED_SOURCES = (Label.MACHINE, Label.OPERATOR)
#: Kinds whose stored properties a scope carries by default: what a summary shows (names, regions,
#: contacts, batch types, results, shipping dates). Not sales: they are the bulk of a large scope,
#: and their quantities are on their relationships. Ask for ``ALL_LABELS`` for every kind.
SUMMARY_LABELS = tuple(label for label in Label if label != Label.SALE)
ALL_LABELS = tuple(Label)
#: Relationship types stored pointing from a thing to its context rather than along the flow of
#: material (a batch to the machine it ran on, a seller to its sale); an explanation walks them
#: against their direction going forward, and along it going backward.
_CONTEXT_TYPES = {RelType.RAN_ON, RelType.HANDLED_BY, RelType.ABOUT, RelType.SOLD}


def ref_dict(node: NodeRef) -> dict[str, str]:
    return {"label": node.label.value, "uid": node.uid}


@dataclass(slots=True)
class ScopeNode:
    label: Label
    uid: str
    depth: int  # relationships between the source and this node, shortest
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> NodeRef:
        return NodeRef(self.label, self.uid)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label.value, "uid": self.uid, "depth": self.depth,
                "properties": self.properties}  # fmt: skip


@dataclass(slots=True)
class ScopeEdge:
    """A relationship as stored (``source`` to ``target`` in the graph's direction)."""

    type: RelType
    source: NodeRef
    target: NodeRef
    quantity: float | None = None
    unit: str | None = None
    start: int | None = None
    end: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type.value, "source": ref_dict(self.source),
                                "target": ref_dict(self.target)}  # fmt: skip
        for name in ("quantity", "unit", "start", "end"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


class Window(BaseModel):
    """A time window in epoch milliseconds: ``start`` inclusive, ``end`` exclusive."""

    model_config = ConfigDict(frozen=True)

    start: int
    end: int

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"the window must end after it starts ({iso(self.start)} .. {iso(self.end)})")
        return self


def window_between(start: str | int | None, end: str | int | None, prefix: str = "") -> Window | None:
    """A window from two optional times (ISO-8601 or epoch ms); an open end reaches as far as time
    does. ``prefix`` is how the caller spells its options (``--`` on the command line)."""
    if start is None and end is None:
        return None
    lo, hi = (_time(text, prefix + name) for text, name in ((start, "from"), (end, "to")))
    lo = lo if lo is not None else OPEN_START
    hi = hi if hi is not None else OPEN_END
    if hi <= lo:
        said = [iso(v) if isinstance(v, int) else v for v in (start, end)]  # as the caller wrote it
        raise InvalidRequest(f"{prefix}to ({said[1]}) must be after {prefix}from ({said[0]})")
    return Window(start=lo, end=hi)


def _time(text: str | int | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return int(to_epoch_ms(text))
    except ValueError as e:
        raise InvalidRequest(f"{name}: {e}") from None


class Scope:
    """A forward scope or a backward trace: plain data, made in bulk (scopes reach 100,000 nodes).

    From an index walk, a scope is held as arrays (:class:`Walked`) and its :attr:`nodes` and
    :attr:`edges` are made on first use: the questions asked most (how many of each kind, which
    customers, is this node in it) are answered from the arrays, without the 40,000 objects a
    supplier's scope makes. ``elapsed_ms`` is the walk's time; making the objects comes on top.
    """

    __slots__ = ("_edges", "_nodes", "_walked", "direction", "elapsed_ms", "source", "window")

    def __init__(
        self,
        direction: Direction,
        source: NodeRef,
        window: Window | None,
        nodes: list[ScopeNode] | None,
        edges: list[ScopeEdge] | None,
        elapsed_ms: float,
        walked: Walked | None = None,
    ) -> None:
        self.direction = direction
        self.source = source
        self.window = window
        self.elapsed_ms = elapsed_ms
        self._nodes = nodes
        self._edges = edges
        self._walked = walked

    @property
    def nodes(self) -> list[ScopeNode]:
        """Every node, ordered by depth (the source first), each with its properties."""
        if self._nodes is None:
            assert self._walked is not None
            with gc_paused():
                self._nodes = self._walked.all_nodes()
        return self._nodes

    @property
    def edges(self) -> list[ScopeEdge]:
        """Made apart from the nodes: a caller who lists who is affected never pays for the
        relationships (a supplier's scope has half as many again as it has nodes)."""
        if self._edges is None:
            assert self._walked is not None
            with gc_paused():
                self._edges = self._walked.all_edges()
        return self._edges

    @property
    def arrays(self) -> Walked | None:
        """The index walk's arrays while no objects have been made of them (streams read these,
        so a scope of millions of nodes is never held as objects)."""
        return self._walked if self._nodes is None else None

    def counts(self) -> dict[str, int]:
        """Nodes by kind, the source excluded: from the walk's arrays whenever there are some, even
        once its objects are made (an affected answer makes them first, and counting them was 2%
        of the API's busiest route); so are :meth:`uids` and :meth:`uids_by_label`."""
        if self._walked is not None:
            return self._walked.counts()
        counter = Counter(n.label.value for n in self.nodes if n.depth > 0)
        return {label.value: counter[label.value] for label in Label if counter[label.value]}

    def uids(self, label: Label) -> set[str]:
        if self._walked is not None:
            return self._walked.uids_by_label(label).get(label, set())
        return {n.uid for n in self.nodes if n.label == label and n.depth > 0}

    def nearest(self, label: Label) -> list[ScopeNode]:
        """The nodes of ``label`` closest to the source (the source excluded): for a complaint's
        backward trace and ``Batch``, the batches its unit came from, not those that fed them."""
        found = [n for n in self.nodes if n.label == label and n.depth > 0]
        closest = min((n.depth for n in found), default=0)
        return [n for n in found if n.depth == closest]

    def uids_by_label(self) -> dict[str, set[str]]:
        """Every node's uid by kind, the source excluded (from the walk's arrays, as :meth:`counts`)."""
        if self._walked is not None:
            return self._walked.uids_by_label()
        found: dict[str, set[str]] = {}
        for n in self.nodes:
            if n.depth > 0:
                found.setdefault(n.label.value, set()).add(n.uid)
        return found

    def node(self, label: Label, uid: str) -> ScopeNode | None:
        if self._nodes is None and self._walked is not None:
            at = self._walked.position(NodeRef(label, uid))
            return None if at is None else self._walked.node_at(at)
        for n in self.nodes:
            if n.label == label and n.uid == uid:
                return n
        return None

    def properties_of(self, store: Store, refs: list[NodeRef]) -> dict[NodeRef, dict[str, Any]]:
        """The stored properties of ``refs``: from the index the scope was walked on where it holds
        them (as of that walk), the rest from the database in one round trip per chunk."""
        found: dict[NodeRef, dict[str, Any]] = {}
        rest = refs
        if self._walked is not None:
            topology = self._walked.topology
            rest = []
            for ref in refs:
                node = topology.id(ref)
                props = topology.properties(node) if node is not None else None
                if props is None:
                    rest.append(ref)
                else:
                    found[ref] = props
        if rest:
            found.update(fetch_properties(store, rest))
        return found

    def customers_by_region(self) -> dict[str, list[str]]:
        regions: dict[str, list[str]] = {}
        for n in self.nodes:
            if n.label == Label.CUSTOMER and n.depth > 0:
                region = str(n.properties.get("region", "unknown"))
                regions.setdefault(region, []).append(n.uid)
        return {region: sorted(uids) for region, uids in sorted(regions.items())}

    def quantities(self) -> dict[str, dict[str, float]]:
        """Totals by unit: taken from the source, shipped from the plant, re-shipped by distributors
        (a share of what they received, so not added to it), and sold."""
        reshipped = {e.target for e in self.edges if e.type == RelType.DISPATCHED}
        totals: dict[str, dict[str, float]] = {}
        for e in self.edges:
            if e.quantity is None:
                continue
            if e.type == RelType.CONSUMED_BY and e.source == self.source:
                name = "consumed_from_source"
            elif e.type == RelType.SHIPPED_IN:
                name = "reshipped" if e.target in reshipped else "shipped"
            elif e.type == RelType.SOLD_IN:
                name = "sold"
            else:
                continue
            by_unit = totals.setdefault(name, {})
            by_unit[e.unit or ""] = by_unit.get(e.unit or "", 0.0) + e.quantity
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "source": ref_dict(self.source),
            "window": self.window.model_dump() if self.window else None,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "elapsed_ms": round(self.elapsed_ms, 3),
        }

    def path_to(self, label: Label, uid: str) -> WhyPath:
        """One shortest chain of relationships from the source that explains the target's presence."""
        target = NodeRef(label, uid)
        if self._nodes is None and self._walked is not None:
            at = self._walked.position(target)
            if at is None:
                raise InvalidRequest(f"{target} is not in the {self.direction} scope of {self.source}")
            nodes, edges = self._walked.path(at)
            return WhyPath(self.direction, self.source, target, nodes, edges)
        with gc_paused():
            parents = _parents(
                self.source, oriented(self.direction, ((e.type, e.source, e.target, e) for e in self.edges))
            )
        if target not in parents:
            raise InvalidRequest(f"{target} is not in the {self.direction} scope of {self.source}")
        chain, steps = [target], []
        while (link := parents[chain[-1]]) is not None:
            chain.append(link[0])
            steps.append(link[1])
        by_key = {n.ref: n for n in self.nodes}
        return WhyPath(
            direction=self.direction,
            source=self.source,
            target=target,
            nodes=[by_key[k] for k in reversed(chain)],
            edges=steps[::-1],
        )


T = TypeVar("T")


def oriented(
    direction: Direction, edges: Iterable[tuple[RelType, NodeRef, NodeRef, T]]
) -> Iterator[tuple[NodeRef, NodeRef, T]]:
    """Each edge turned the way an explanation reads it: from the end nearer the source."""
    backward = direction == "backward"
    context = _CONTEXT_TYPES
    for rel, a, b, payload in edges:
        yield (b, a, payload) if (rel in context) != backward else (a, b, payload)


def _parents(
    start: NodeRef, oriented: Iterable[tuple[NodeRef, NodeRef, T]]
) -> dict[NodeRef, tuple[NodeRef, T] | None]:
    """Breadth-first with parent links: they spell one shortest path to every node reached.
    Kept apart from :func:`_depths`, which runs for every scope and is several times cheaper
    without the links."""
    adjacency: dict[NodeRef, list[tuple[NodeRef, T]]] = defaultdict(list)
    for a, b, payload in oriented:
        adjacency[a].append((b, payload))
    parents: dict[NodeRef, tuple[NodeRef, T] | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for there, payload in adjacency.get(here, ()):
            if there not in parents:
                parents[there] = (here, payload)
                queue.append(there)
    return parents


def _depths(start: NodeRef, oriented: Iterable[tuple[NodeRef, NodeRef, Any]]) -> dict[NodeRef, int]:
    """Each node's distance from the source, walked level by level; the dict's order is by depth."""
    adjacency: dict[NodeRef, list[NodeRef]] = defaultdict(list)
    for a, b, _ in oriented:
        adjacency[a].append(b)
    depth = {start: 0}
    frontier = [start]
    level = 0
    while frontier:
        level += 1
        reached = []
        for here in frontier:
            for there in adjacency.get(here, ()):
                if there not in depth:
                    depth[there] = level
                    reached.append(there)
        frontier = reached
    return depth


@dataclass(slots=True)
class WhyPath:
    direction: Direction
    source: NodeRef
    target: NodeRef
    nodes: list[ScopeNode]
    edges: list[ScopeEdge]

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "source": ref_dict(self.source),
            "target": ref_dict(self.target),
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
        }

    def describe(self) -> str:
        parts = [f"{self.nodes[0].label.value} {self.nodes[0].uid}"]
        for node, edge in zip(self.nodes[1:], self.edges, strict=True):
            qty = f" {edge.quantity:g} {edge.unit or ''}".rstrip() if edge.quantity is not None else ""
            parts.append(f"-[{edge.type.value}{qty}]- {node.label.value} {node.uid}")
        return " ".join(parts)


# --- building a scope ---------------------------------------------------------------------------


class _Budget:
    """The node limit and the time limit every scope runs under. What it is the budget of (``what``,
    and the source) is only put into words when a limit is passed: a customer's trace takes 0.3 ms,
    and formatting a message no one reads was a few percent of that out of the processor's caches."""

    def __init__(
        self, store: Store, what: str, source: NodeRef, max_nodes: int | None, timeout_s: float | None
    ) -> None:
        self.store = store
        self.what = what
        self.source = source
        self.max_nodes = max_nodes or store.settings.scope_max_nodes
        self.timeout_s = timeout_s or store.settings.scope_timeout_s
        self.started = time.perf_counter()
        self.deadline = self.started + self.timeout_s

    def run(self, name: str, **params: Any) -> list[dict[str, Any]]:
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise self._timed_out()
        try:
            return self.store.run(name, timeout_s=remaining, **params)
        except QueryTimeout as e:
            raise self._timed_out() from e

    def run_chunked(self, name: str, uids: Iterable[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        items = list(uids)
        for i in range(0, len(items), CHUNK):
            rows.extend(self.run(name, uids=items[i : i + CHUNK]))
        return rows

    def check(self, nodes: int) -> None:
        """Called at every level of a walk, so that both limits hold without a database call."""
        if time.perf_counter() > self.deadline:
            raise self._timed_out()
        if nodes > self.max_nodes:
            raise ScopeTooLarge(
                "max_nodes",
                f"the {self.what} of {self.source} passed its limit of {self.max_nodes:,} nodes; narrow it "
                "(a time window, a lot instead of a supplier), or export it: pages and summaries stop at "
                "LINEAGE_SCOPE_MAX_NODES, exports stream up to LINEAGE_SCOPE_STREAM_MAX_NODES",
            )

    def _timed_out(self) -> ScopeTooLarge:
        return ScopeTooLarge(
            "timeout",
            f"the {self.what} of {self.source} passed its time limit of {self.timeout_s:g} s; narrow it "
            "(a time window, a lot instead of a supplier) or raise LINEAGE_SCOPE_TIMEOUT_S",
        )

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class _Builder:
    """Collects a scope as plain tuples; the result objects are made once, at the end."""

    def __init__(self, budget: _Budget, source: NodeRef, properties: Iterable[Label]) -> None:
        self.budget = budget
        self.source = source
        self.properties = frozenset(properties)
        self.nodes: set[NodeRef] = {source}
        self.edges: dict[tuple[RelType, NodeRef, NodeRef], tuple[Any, ...]] = {}

    def add(
        self,
        rel: RelType,
        a: NodeRef,
        b: NodeRef,
        quantity: float | None = None,
        unit: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> None:
        self.nodes.add(a)
        self.nodes.add(b)
        self.edges.setdefault((rel, a, b), (quantity, unit, start, end))

    def checkpoint(self) -> None:
        self.budget.check(len(self.nodes))

    def finish(self, direction: Direction, window: Window | None) -> Scope:
        described = [n for n in self.nodes if n.label in self.properties or n == self.source]
        properties = fetch_properties(self.budget.store, described, self.budget)
        if self.source not in properties:  # checked last: one round trip fewer for every scope
            raise NotFound(self.source.label.value, self.source.uid)
        depths = _depths(self.source, oriented(direction, ((r, a, b, None) for r, a, b in self.edges)))
        # The walk is breadth-first, so its order is by depth: no sort needed.
        nodes = [ScopeNode(n.label, n.uid, d, properties.get(n, {})) for n, d in depths.items()]
        nodes += [ScopeNode(n.label, n.uid, -1, properties.get(n, {})) for n in self.nodes - depths.keys()]
        edges = [ScopeEdge(rel, a, b, *props) for (rel, a, b), props in self.edges.items()]
        return Scope(direction, self.source, window, nodes, edges, self.budget.elapsed_ms)


def fetch_properties(
    store: Store, nodes: Iterable[NodeRef], budget: _Budget | None = None
) -> dict[NodeRef, dict[str, Any]]:
    wanted: dict[str, list[str]] = {slug: [] for slug in LABEL_SLUG.values()}
    for n in nodes:
        wanted[LABEL_SLUG[n.label]].append(n.uid)
    result: dict[NodeRef, dict[str, Any]] = {}
    while any(wanted.values()):
        params = {slug: uids[:CHUNK] for slug, uids in wanted.items()}
        wanted = {slug: uids[CHUNK:] for slug, uids in wanted.items()}
        rows = budget.run("nodes_properties", **params) if budget else store.run("nodes_properties", **params)
        for row in rows:
            props = dict(row["props"])
            props.pop("uid", None)
            result[NodeRef(LABEL_BY_NAME[row["label"]], row["uid"])] = props
    return result


def _assemble(
    walk: Selection,
    budget: _Budget,
    source: NodeRef,
    direction: Direction,
    window: Window | None,
    properties: Iterable[Label],
) -> Scope:
    """A :class:`Scope` from a walk over the index: the same nodes, edges and depths as the Cypher
    walk's :meth:`_Builder.finish` gives, held as arrays until they are asked for."""
    if walk.source is None:  # the source has no relationship at all: the scope is the source alone
        found = fetch_properties(budget.store, [source], budget)
        if source not in found:
            raise NotFound(source.label.value, source.uid)
        node = ScopeNode(source.label, source.uid, 0, found[source])
        return Scope(direction, source, window, [node], [], budget.elapsed_ms)
    found = walk.gathered()
    budget.check(found.ids.size)
    shown = frozenset(properties) | {source.label}
    walked = Walked(walk.topology, found, direction, shown)
    return Scope(direction, source, window, None, None, budget.elapsed_ms, walked)


class Walked:
    """An index walk's scope as arrays: its node ids (sorted), the relationships it took, and what
    making objects of them needs."""

    def __init__(self, topology: Topology, found: Found, direction: Direction, shown: set[Label]) -> None:
        self.topology = topology
        self.ids = found.ids
        self.start = found.start  # the source's position in ids
        self.direction = direction
        self.shown = shown  # kinds whose properties the caller asked for (and the source's)
        self._found = found
        self._uids: list[str] | None = None
        self._by_type: tuple[Positions, Ends] | None = None
        self._depths: np.ndarray | None = None

    @property
    def taken(self) -> Positions:
        """By type, the positions of the relationships taken in their relation (sorted)."""
        return self._relationships()[0]

    @property
    def local(self) -> Ends:
        """By type, each taken relationship's ends as positions in ids."""
        return self._relationships()[1]

    def _relationships(self) -> tuple[Positions, Ends]:
        """Sorted by type on first use: who is in a scope and how many of each kind, the questions
        asked most, need none of it (on a customer's trace, out of cache, it was a third of the
        time)."""
        if self._by_type is None:
            types = FORWARD_TYPES if self.direction == "forward" else BACKWARD_TYPES
            self._by_type = by_type(self.topology, self.ids, self._found.taken, types)
        return self._by_type

    def uids(self) -> list[str]:
        """Every node's uid, in the order of ids: decoded from the walk's call when it named them."""
        if self._uids is None:
            names = self._found.names
            if names is None:
                self._uids = self.topology.uids_of(self.ids)
            else:
                self._uids = str(names, "utf-8").split("\0")  # decoded from the array, not a copy
        return self._uids

    def uids_at(self, positions: np.ndarray) -> list[str]:
        """The uids of the nodes at ``positions`` in ids: from :meth:`uids` once they are decoded
        (or the walk named them), else named alone (a page of customers out of a scope of 800,000)."""
        if self._uids is None and self._found.names is None:
            return self.topology.uids_of(self.ids[positions])
        names = self.uids()
        return [names[p] for p in positions.tolist()]

    def depths(self) -> np.ndarray:
        """Each node's distance from the source along the edges turned as :func:`oriented` turns
        them; -1 for a node no such path reaches (none, from a walk: each step goes from nodes it
        reached to new ones, which is what lets :meth:`uids_by_label` skip this)."""
        if self._depths is None:
            rels, tail, head, _ = self._oriented()
            size = self.ids.size
            if not rels:
                self._depths = np.where(np.arange(size) == self.start, 0, -1)
            elif tail.size <= _SMALL_WALK_EDGES:
                self._depths = _levels(size, self.start, tail, head)
            else:
                order = np.argsort(tail, kind="stable")  # CSR made directly: scipy's COO route costs more
                indptr = np.concatenate([[0], np.cumsum(np.bincount(tail, minlength=size))]).astype(np.int32)
                indices = head[order].astype(np.int32)
                graph = csr_matrix((np.ones(tail.size, dtype=bool), indices, indptr), shape=(size, size))
                distance = dijkstra(graph, directed=True, indices=self.start, unweighted=True)
                self._depths = np.where(np.isinf(distance), -1, distance).astype(np.int64)
        return self._depths

    def uids_by_label(self, only: Label | None = None) -> dict[str, set[str]]:
        """The uids of the nodes reached, by kind (its name as a plain string, which its
        :class:`Label` equals), the source excluded; kinds it reaches none of are left out. Ids are
        sorted and numbered kind by kind, so each kind is one slice. Every node a walk holds is
        reached (see :meth:`depths`), so the depths, a third of a lot's scope, wait for a caller
        who asks for them."""
        cuts = self._found.cuts
        if only is None:
            lo, uids, codes = 0, self.uids(), range(len(KIND_NAMES))
        else:
            code = LABEL_CODE[only]
            lo, codes = cuts[code], range(code, code + 1)
            uids = self.uids_at(np.arange(lo, cuts[code + 1]))
        found = {}
        for code in codes:
            first, last = cuts[code], cuts[code + 1]
            if first < last:
                named = set(uids[first - lo : last - lo])
                if first <= self.start < last:
                    named.discard(uids[self.start - lo])
                if named:
                    found[KIND_NAMES[code]] = named
        return found

    def counts(self) -> dict[str, int]:
        """Nodes by kind, the source excluded, in :class:`Label` order: the length of each kind's
        run of ids, with no uid named (an affected summary asks for these first)."""
        cuts, counts = self._found.cuts, {}
        for code, name in enumerate(KIND_NAMES):
            count = cuts[code + 1] - cuts[code] - (cuts[code] <= self.start < cuts[code + 1])
            if count:
                counts[name] = count
        return counts

    def position(self, node: NodeRef) -> int | None:
        """Where ``node`` is in ids; None when the walk did not reach it."""
        found = self.topology.id(node)
        if found is None:
            return None
        at = int(np.searchsorted(self.ids, found))
        return at if at < self.ids.size and int(self.ids[at]) == found else None

    def node_at(self, at: int) -> ScopeNode:
        """The node at position ``at`` in ids, as :meth:`all_nodes` makes it, without making the rest."""
        return self._made(np.array([at]))[0]

    def path(self, at: int) -> tuple[list[ScopeNode], list[ScopeEdge]]:
        """One shortest chain of relationships from the source to the node at ``at``, made from the
        arrays: asked why a customer is in a distributor's scope of 800,000 nodes, the objects of
        the whole scope (and a walk over them in Python) took seconds for a chain of three. Walked back
        from the node: each step takes the first relationship, in the scope's order, that comes from
        a node one level nearer the source."""
        depth = self.depths()
        rels, tails, heads, firsts = self._oriented()
        chain, taken = [at], []
        while chain[-1] != self.start:
            here = chain[-1]
            into = np.flatnonzero(heads == here)
            edge = int(into[np.flatnonzero(depth[tails[into]] == depth[here] - 1)[0]])
            taken.append(edge)
            chain.append(int(tails[edge]))
        chain.reverse()
        taken.reverse()
        nodes = self._made(np.array(chain))
        refs = {p: n.ref for p, n in zip(chain, nodes, strict=True)}
        edges = []
        for edge in taken:
            kind = int(np.searchsorted(firsts, edge, "right")) - 1
            rel, row = rels[kind], edge - firsts[kind]
            a, b = self.local[rel]
            one = slice(row, row + 1)
            local = {rel: (a[one], b[one])}
            edges += _edges(self.topology, rel, self.taken[rel][one], local, refs)
        return nodes, edges

    def _oriented(self) -> tuple[list[RelType], np.ndarray, np.ndarray, list[int]]:
        """Every relationship taken, in the scope's order (by type, then by position), turned as
        :func:`oriented` turns it, as positions in ids: its types, tails and heads, and where each
        type's run starts."""
        backward = self.direction == "backward"
        rels, tails, heads, firsts, count = [], [], [], [], 0
        for rel, (a, b) in self.local.items():
            turned = (rel in _CONTEXT_TYPES) != backward
            rels.append(rel)
            tails.append(b if turned else a)
            heads.append(a if turned else b)
            firsts.append(count)
            count += a.size
        if not rels:
            return [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
        return rels, np.concatenate(tails), np.concatenate(heads), firsts

    def selection(self, kinds: frozenset[Label], max_depth: int | None) -> np.ndarray:
        """Positions in ``ids`` of the nodes a page or an export lists (the source aside; only
        ``kinds``, when given; at most ``max_depth`` hops, when given), in page order: by depth (no
        path last), kind, uid."""
        depth = self.depths()
        codes = np.searchsorted(self.topology.offsets, self.ids, "right") - 1
        keep = depth != 0
        if max_depth is not None:
            keep &= (depth > 0) & (depth <= max_depth)
        if kinds:
            keep &= np.isin(codes, [LABEL_CODE[label] for label in kinds])
        chosen = np.flatnonzero(keep)
        uids = np.array(self.uids_at(chosen), dtype=str)
        order = np.lexsort((uids, codes[chosen], np.where(depth[chosen] > 0, depth[chosen], depth.size)))
        return chosen[order]

    def nodes_at(self, positions: np.ndarray) -> list[ScopeNode]:
        """The nodes at these positions, without properties (a stream looks them up a chunk at a time)."""
        refs = self.topology.refs(self.ids[positions])
        depths = self.depths()[positions].tolist()
        return [ScopeNode(r.label, r.uid, d, {}) for r, d in zip(refs, depths, strict=True)]

    def edges_among(self, positions: np.ndarray, size: int) -> Iterator[list[ScopeEdge]]:
        """The relationships taken between nodes at ``positions`` (and the source), ``size`` at a time."""
        kept = np.zeros(self.ids.size, dtype=bool)
        kept[positions] = True
        kept[self.start] = True
        for rel, taken in self.taken.items():
            a, b = self.local[rel]
            both = np.flatnonzero(kept[a] & kept[b])
            for lo in range(0, both.size, size):
                part = both[lo : lo + size]
                ends = np.unique(np.concatenate([a[part], b[part]]))
                refs = dict(zip(ends.tolist(), self.topology.refs(self.ids[ends]), strict=True))
                local = {rel: (a[part], b[part])}
                yield list(_edges(self.topology, rel, taken[part], local, refs))

    def all_nodes(self) -> list[ScopeNode]:
        """Every node as an object, by depth (no path last), with the properties asked for."""
        depth = self.depths()
        return self._made(np.argsort(np.where(depth >= 0, depth, depth.size), kind="stable"))

    def _made(self, positions: np.ndarray) -> list[ScopeNode]:
        """The nodes at ``positions`` in ids as objects, with the properties asked for. Kinds and
        uids come from the arrays (:meth:`uids_at`), with no :class:`NodeRef` per node: a supplier's
        scope makes 15,000 nodes, and every object made here is one more for the garbage collector
        to scan once the burst is over."""
        topology = self.topology
        node_ids = self.ids[positions]
        codes = (np.searchsorted(topology.offsets, node_ids, "right") - 1).tolist()
        uids = self.uids_at(positions)
        unpack, shown = topology.properties, [label in self.shown for label in LABELS]
        nodes = []
        depths = self.depths()[positions].tolist()
        for node, code, uid, d in zip(node_ids.tolist(), codes, uids, depths, strict=True):
            props = (unpack(node) or {}) if shown[code] else {}
            nodes.append(ScopeNode(LABELS[code], uid, d, props))
        return nodes

    def all_edges(self) -> list[ScopeEdge]:
        refs = self.topology.refs(self.ids)
        return [
            edge
            for rel, positions in self.taken.items()
            for edge in _edges(self.topology, rel, positions, self.local, refs)
        ]


#: Up to this many relationships, a scope's depths are found by a breadth-first walk in Python
#: (50 us for a lot's 200); scipy's call costs 120 us however small the graph, and less per edge.
_SMALL_WALK_EDGES = 400


def _levels(size: int, start: int, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """:func:`_depths`' walk over positions, in lists: 40 us for a lot's scope, where calling
    :func:`_depths` on them (dicts) took 70."""
    adjacency: list[list[int]] = [[] for _ in range(size)]
    for a, b in zip(tail.tolist(), head.tolist(), strict=True):
        adjacency[a].append(b)
    depth = [-1] * size
    depth[start] = 0
    frontier, level = [start], 0
    while frontier:
        level += 1
        reached = []
        for here in frontier:
            for there in adjacency[here]:
                if depth[there] < 0:
                    depth[there] = level
                    reached.append(there)
        frontier = reached
    return np.array(depth, dtype=np.int64)


def _edges(
    topology: Topology,
    rel: RelType,
    positions: np.ndarray,
    local: dict[RelType, tuple[np.ndarray, np.ndarray]],
    refs: list[NodeRef] | dict[int, NodeRef],
) -> Iterator[ScopeEdge]:
    relation = topology.relations[rel]
    a, b = local[rel]
    nothing = [None] * positions.size
    quantity, unit, start, end = nothing, nothing, nothing, nothing
    # NaN is the index's null: the only value not equal to itself.
    if rel in FLOW_TYPES:
        units = topology.units
        quantity = [None if q != q else q for q in relation.quantity[positions].tolist()]
        unit = [None if u < 0 else units[u] for u in relation.unit[positions].tolist()]
    elif rel in RUN_TYPES:
        start = [None if t != t else int(t) for t in relation.start[positions].tolist()]
        end = [None if t != t else int(t) for t in relation.end[positions].tolist()]
    for x, y, q, u, s, e in zip(a.tolist(), b.tolist(), quantity, unit, start, end, strict=True):
        yield ScopeEdge(rel, refs[x], refs[y], q, u, s, e)


def _consumers(scope: _Builder, query: str, label: Label, uids: list[str], seen: set[str]) -> list[str]:
    """One level downstream: record each CONSUMED_BY edge, return the batches not seen before."""
    reached: list[str] = []
    for row in scope.budget.run_chunked(query, uids):
        scope.add(RelType.CONSUMED_BY, NodeRef(label, row["src"]), NodeRef(Label.BATCH, row["dst"]),
                  row["quantity"], row["unit"])  # fmt: skip
        if row["dst"] not in seen:
            seen.add(row["dst"])
            reached.append(row["dst"])
    return reached


def _forward(
    store: Store,
    source: NodeRef,
    window: Window | None,
    max_nodes: int | None,
    timeout_s: float | None,
    properties: Iterable[Label],
) -> Scope:
    if source.label not in FORWARD_SOURCES:
        raise InvalidRequest(
            f"a forward scope starts from {', '.join(FORWARD_SOURCES)}, not {source.label.value}; "
            f"use a backward trace for a {source.label.value}"
        )
    if window is not None and source.label not in WINDOWED_SOURCES:
        raise InvalidRequest(
            f"a time window applies to Machine and Operator scopes, not to {source.label.value}"
        )
    budget = _Budget(store, "forward scope", source, max_nodes, timeout_s)
    topology = store.topology.current()
    if topology is not None:
        span = (window.start, window.end) if window else None
        walk = walk_forward(topology, source, span, budget.check, budget.max_nodes)
        return _assemble(walk, budget, source, "forward", window, properties)
    store.topology.fallbacks += 1
    with gc_paused():
        return _forward_in_cypher(budget, source, window, properties)


def _forward_in_cypher(
    budget: _Budget, source: NodeRef, window: Window | None, properties: Iterable[Label]
) -> Scope:
    """The forward scope walked in the database, level by level: a row and a few NodeRefs per
    relationship, which is why the collector waits (an index walk makes next to no objects)."""
    scope = _Builder(budget, source, properties)
    L = Label

    lots: list[str] = []
    batches: list[str] = []
    if source.label == L.SUPPLIER:
        for row in budget.run("scope_supplier_lots", uid=source.uid):
            scope.add(RelType.SUPPLIED, source, NodeRef(L.MATERIAL_LOT, row["uid"]))
            lots.append(row["uid"])
    elif source.label == L.MATERIAL_LOT:
        lots.append(source.uid)
    elif source.label == L.BATCH:
        batches.append(source.uid)
    else:
        query, rel = (
            ("scope_machine_batches", RelType.RAN_ON)
            if source.label == L.MACHINE
            else ("scope_operator_batches", RelType.HANDLED_BY)
        )
        span = window or Window(start=OPEN_START, end=OPEN_END)
        for row in budget.run(query, uid=source.uid, window_from=span.start, window_to=span.end):
            scope.add(rel, NodeRef(L.BATCH, row["uid"]), source, start=row["start"], end=row["end"])
            batches.append(row["uid"])
    scope.checkpoint()

    seen = set(batches)
    batches += _consumers(scope, "scope_lot_consumers", L.MATERIAL_LOT, lots, seen)
    frontier = list(batches)
    while frontier:
        scope.checkpoint()
        frontier = _consumers(scope, "scope_batch_consumers", L.BATCH, frontier, seen)
        batches.extend(frontier)
    scope.checkpoint()

    outflow = budget.run_chunked("scope_batch_outflow", batches)
    shipments = [row for row in outflow if row["kind"] == "shipment"]
    receivers = {row["customer"] for row in shipments if row["customer"] is not None}
    for row in shipments:
        shipment = NodeRef(L.SHIPMENT, row["uid"])
        scope.add(RelType.SHIPPED_IN, NodeRef(L.BATCH, row["batch"]), shipment, row["quantity"], row["unit"])
        if row["customer"] is not None:
            scope.add(RelType.DELIVERED_TO, shipment, NodeRef(L.CUSTOMER, row["customer"]))
        if row["origin"] is not None and row["origin"] in receivers:
            scope.add(RelType.DISPATCHED, NodeRef(L.CUSTOMER, row["origin"]), shipment)
    for row in outflow:
        if row["kind"] == "sale":
            sale = NodeRef(L.SALE, row["uid"])
            scope.add(RelType.SOLD_IN, NodeRef(L.BATCH, row["batch"]), sale, row["quantity"], row["unit"])
            if row["customer"] is not None:
                scope.add(RelType.SOLD, NodeRef(L.CUSTOMER, row["customer"]), sale)
    scope.checkpoint()
    return scope.finish("forward", window)


def _backward(
    store: Store,
    source: NodeRef,
    max_nodes: int | None,
    timeout_s: float | None,
    properties: Iterable[Label],
) -> Scope:
    if source.label not in BACKWARD_SOURCES:
        raise InvalidRequest(
            f"a backward trace starts from {', '.join(BACKWARD_SOURCES)}, not {source.label.value}; "
            f"use a forward scope for a {source.label.value}"
        )
    budget = _Budget(store, "backward trace", source, max_nodes, timeout_s)
    topology = store.topology.current()
    if topology is not None:
        walk = walk_backward(topology, source, budget.check, budget.max_nodes)
        return _assemble(walk, budget, source, "backward", None, properties)
    store.topology.fallbacks += 1
    with gc_paused():
        return _backward_in_cypher(budget, source, properties)


def _backward_in_cypher(budget: _Budget, source: NodeRef, properties: Iterable[Label]) -> Scope:
    """The backward trace walked in the database, as :func:`_forward_in_cypher` walks a scope."""
    scope = _Builder(budget, source, properties)
    L = Label

    sales: list[str] = []
    shipments: list[str] = []
    batches: list[str] = []
    lots: list[str] = []
    if source.label == L.COMPLAINT:
        for row in budget.run("trace_complaint_subjects", uid=source.uid):
            subject = NodeRef(LABEL_BY_NAME[row["label"]], row["uid"])
            scope.add(RelType.ABOUT, source, subject)
            (sales if subject.label == L.SALE else batches).append(subject.uid)
    elif source.label == L.SALE:
        sales.append(source.uid)
    elif source.label == L.SHIPMENT:
        shipments.append(source.uid)
    elif source.label == L.CUSTOMER:
        for row in budget.run("trace_customer_receipts", uid=source.uid):
            if row["shipment"] is not None:
                scope.add(RelType.DELIVERED_TO, NodeRef(L.SHIPMENT, row["shipment"]), source)
                shipments.append(row["shipment"])
            if row["sale"] is not None:
                scope.add(RelType.SOLD, source, NodeRef(L.SALE, row["sale"]))
                sales.append(row["sale"])
    elif source.label == L.BATCH:
        batches.append(source.uid)
    else:
        lots.append(source.uid)

    for row in budget.run_chunked("trace_sale_batches", sales):
        scope.add(
            RelType.SOLD_IN,
            NodeRef(L.BATCH, row["batch"]),
            NodeRef(L.SALE, row["sale"]),
            quantity=row["quantity"],
            unit=row["unit"],
        )
        batches.append(row["batch"])
    for row in budget.run_chunked("trace_shipment_batches", shipments):
        scope.add(
            RelType.SHIPPED_IN,
            NodeRef(L.BATCH, row["batch"]),
            NodeRef(L.SHIPMENT, row["shipment"]),
            quantity=row["quantity"],
            unit=row["unit"],
        )
        batches.append(row["batch"])
    scope.checkpoint()

    batches = list(dict.fromkeys(batches))
    seen = set(batches)
    seen_lots = set(lots)
    frontier = list(batches)
    while frontier:
        scope.checkpoint()
        next_frontier = []
        for row in budget.run_chunked("trace_batch_inputs", frontier):
            label = LABEL_BY_NAME[row["label"]]
            scope.add(
                RelType.CONSUMED_BY,
                NodeRef(label, row["src"]),
                NodeRef(L.BATCH, row["dst"]),
                quantity=row["quantity"],
                unit=row["unit"],
            )
            if label == L.BATCH and row["src"] not in seen:
                seen.add(row["src"])
                next_frontier.append(row["src"])
            elif label == L.MATERIAL_LOT and row["src"] not in seen_lots:
                seen_lots.add(row["src"])
                lots.append(row["src"])
        batches.extend(next_frontier)
        frontier = next_frontier
    scope.checkpoint()

    for query, rel, column in (
        ("trace_batch_machines", RelType.RAN_ON, "machine"),
        ("trace_batch_operators", RelType.HANDLED_BY, "operator"),
    ):
        target_label = L.MACHINE if column == "machine" else L.OPERATOR
        for row in budget.run_chunked(query, batches):
            scope.add(
                rel,
                NodeRef(L.BATCH, row["batch"]),
                NodeRef(target_label, row[column]),
                start=row["start"],
                end=row["end"],
            )
    for query, subject_label, subjects in (
        ("trace_batch_inspections", L.BATCH, batches),
        ("trace_lot_inspections", L.MATERIAL_LOT, lots),
    ):
        for row in budget.run_chunked(query, subjects):
            scope.add(
                RelType.INSPECTED,
                NodeRef(L.INSPECTION, row["inspection"]),
                NodeRef(subject_label, row["subject"]),
            )
    for row in budget.run_chunked("trace_lot_suppliers", lots):
        scope.add(RelType.SUPPLIED, NodeRef(L.SUPPLIER, row["supplier"]), NodeRef(L.MATERIAL_LOT, row["lot"]))
    scope.checkpoint()
    return scope.finish("backward", None)


def forward(
    store: Store,
    source: NodeRef,
    window: Window | None = None,
    *,
    max_nodes: int | None = None,
    timeout_s: float | None = None,
    properties: Iterable[Label] = SUMMARY_LABELS,
) -> Scope:
    """Everything downstream of ``source``: batches, shipments, customers, sales, quantities.

    For a Machine or Operator the scope starts at the batches whose run overlaps ``window`` (all of
    them when no window is given). Stops with :class:`ScopeTooLarge` past ``max_nodes`` or
    ``timeout_s`` (defaults from settings).
    """
    return _forward(store, source, window, max_nodes, timeout_s, properties)


def backward(
    store: Store,
    source: NodeRef,
    *,
    max_nodes: int | None = None,
    timeout_s: float | None = None,
    properties: Iterable[Label] = SUMMARY_LABELS,
) -> Scope:
    """Everything upstream of ``source``: batches, lots, suppliers, machines, operators, inspections."""
    return _backward(store, source, max_nodes, timeout_s, properties)


def why(
    store: Store,
    source: NodeRef,
    target: NodeRef,
    window: Window | None = None,
    *,
    max_nodes: int | None = None,
    timeout_s: float | None = None,
) -> WhyPath:
    """The shortest explanation of ``target`` from ``source``: downstream first, then upstream."""
    tried: list[str] = []
    if source.label in FORWARD_SOURCES:
        scope = forward(store, source, window, max_nodes=max_nodes, timeout_s=timeout_s)
        if scope.node(target.label, target.uid) is not None:
            return scope.path_to(target.label, target.uid)
        tried.append("forward scope")
    if source.label in BACKWARD_SOURCES and window is None:
        scope = backward(store, source, max_nodes=max_nodes, timeout_s=timeout_s)
        if scope.node(target.label, target.uid) is not None:
            return scope.path_to(target.label, target.uid)
        tried.append("backward trace")
    raise InvalidRequest(f"{target} is not in the {' nor the '.join(tried)} of {source}")
