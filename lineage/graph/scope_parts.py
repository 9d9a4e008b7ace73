"""The parts of a scope: its nodes, relationships and window, the kinds a scope may start from,
and the path that explains why a node is in it."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from lineage.errors import InvalidRequest, QueryTimeout, ScopeTooLarge
from lineage.graph.model import OPEN_END, OPEN_START, Label, NodeRef, RelType, iso, to_epoch_ms
from lineage.graph.store import Store

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
CONTEXT_TYPES = {RelType.RAN_ON, RelType.HANDLED_BY, RelType.ABOUT, RelType.SOLD}


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


T = TypeVar("T")


def oriented(
    direction: Direction, edges: Iterable[tuple[RelType, NodeRef, NodeRef, T]]
) -> Iterator[tuple[NodeRef, NodeRef, T]]:
    """Each edge turned the way an explanation reads it: from the end nearer the source."""
    backward = direction == "backward"
    context = CONTEXT_TYPES
    for rel, a, b, payload in edges:
        yield (b, a, payload) if (rel in context) != backward else (a, b, payload)


def shortest_parents(
    start: NodeRef, oriented: Iterable[tuple[NodeRef, NodeRef, T]]
) -> dict[NodeRef, tuple[NodeRef, T] | None]:
    """Breadth-first with parent links: they spell one shortest path to every node reached.
    Kept apart from :func:`depths_from`, which runs for every scope and is several times cheaper
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


def depths_from(start: NodeRef, oriented: Iterable[tuple[NodeRef, NodeRef, Any]]) -> dict[NodeRef, int]:
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


class Budget:
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
