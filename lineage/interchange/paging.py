"""A scope in pages, and streamed as CSV or JSON Lines, so a scope of a million rows never has to fit
in one response.

Nodes are ordered by (depth, kind, uid); each node carries the relationships that lead to it from
nearer the source (its ``via``), so paging the nodes pages the relationships too, each exactly once.
The cursor is the last key of a page plus a fingerprint of the request: the API stays stateless
(each page recomputes the scope) and a cursor keeps its place even if data is added between pages,
because it names a position in the order, not an offset.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from lineage.errors import InvalidRequest
from lineage.graph.model import Label, NodeRef, iso, readable
from lineage.graph.schema import NODE_PROPERTIES, PROPERTIES_BY_LABEL
from lineage.graph.scope import (
    CHUNK,
    Direction,
    Scope,
    ScopeEdge,
    ScopeNode,
    Window,
    backward,
    forward,
    oriented,
)
from lineage.graph.store import Store
from lineage.interchange.graphs import GraphFormat, scope_graph, serialize

PAGE_MAX = 10_000  # nodes per page at most
_KIND_ORDER = {label: i for i, label in enumerate(Label)}
UNREACHED = 1 << 30  # sorts nodes with no explaining path (depth -1) last


@dataclass(frozen=True)
class ScopeRequest:
    """What a scope page or export was asked for: everything that decides its rows."""

    direction: Direction
    source: NodeRef
    window: Window | None = None
    kinds: frozenset[Label] = frozenset()  # empty: every kind
    max_depth: int | None = None

    def fingerprint(self) -> str:
        parts = [
            self.direction,
            self.source.label.value,
            self.source.uid,
            repr(self.window and (self.window.start, self.window.end)),
            ",".join(sorted(self.kinds)),
            repr(self.max_depth),
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def walk(self, store: Store, max_nodes: int) -> Scope:
        """The scope asked for, nodes only: pages and exports fetch the properties of what they show."""
        if self.direction == "forward":
            return forward(store, self.source, self.window, max_nodes=max_nodes, properties=())
        return backward(store, self.source, max_nodes=max_nodes, properties=())

    def keeps(self, node: ScopeNode) -> bool:
        if node.depth == 0:
            return False
        if self.kinds and node.label not in self.kinds:
            return False
        return self.max_depth is None or 0 < node.depth <= self.max_depth


class Via(BaseModel):
    type: str
    label: str
    uid: str
    direction: Literal["out", "in"] = Field(
        description="'out': stored from the node before this one; 'in': stored towards it"
    )
    quantity: float | None = None
    unit: str | None = None
    start: str | None = None
    end: str | None = None


class PageNode(BaseModel):
    label: str
    uid: str
    depth: int
    properties: dict[str, Any]
    via: list[Via] = Field(description="relationships that lead to this node from nearer the source")


class ScopePage(BaseModel):
    direction: Direction
    source: dict[str, str]
    window: dict[str, int] | None
    counts: dict[str, int] = Field(description="the whole scope by kind, before filters")
    total: int = Field(description="nodes that pass the filters, over all pages")
    nodes: list[PageNode]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    elapsed_ms: float


def _key(node: ScopeNode) -> tuple[int, int, str]:
    return (node.depth if node.depth >= 0 else UNREACHED, _KIND_ORDER[node.label], node.uid)


def encode_cursor(request: ScopeRequest, key: tuple[int, int, str]) -> str:
    raw = json.dumps({"f": request.fingerprint(), "k": list(key)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(request: ScopeRequest, cursor: str) -> tuple[int, int, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        depth, kind, uid = raw["k"]
        fingerprint = raw["f"]
        if not (isinstance(depth, int) and isinstance(kind, int) and isinstance(uid, str)):
            raise ValueError
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("the cursor is malformed; use the next_cursor of a previous page") from None
    if fingerprint != request.fingerprint():
        raise InvalidRequest(
            "the cursor belongs to a different request; keep the source, window, kinds and depth of the "
            "request that returned it"
        )
    return depth, kind, uid


def selected(scope: Scope, request: ScopeRequest) -> list[ScopeNode]:
    """The nodes that pass the request's filters, in page order."""
    return sorted((n for n in scope.nodes if request.keeps(n)), key=_key)


def _vias(scope: Scope, wanted: set[NodeRef]) -> dict[NodeRef, list[Row]]:
    vias: dict[NodeRef, list[Row]] = {ref: [] for ref in wanted}
    edges = ((e.type, e.source, e.target, e) for e in scope.edges)
    for near, far, edge in oriented(scope.direction, edges):
        if far in wanted:
            vias[far].append(_via(edge, near))
    for found in vias.values():
        found.sort(key=_via_order)
    return vias


def _via_order(via: Row) -> tuple[str, str, str]:
    return via["type"], via["label"], via["uid"]


def _via(edge: ScopeEdge, near: NodeRef) -> Row:
    """A :class:`Via` as a plain row."""
    quantity = edge.quantity
    return {
        "type": edge.type.value,
        "label": near.label.value,
        "uid": near.uid,
        "direction": "out" if edge.source == near else "in",
        "quantity": None if quantity is None else float(quantity),
        "unit": edge.unit,
        "start": iso(edge.start),
        "end": iso(edge.end),
    }


def page(store: Store, scope: Scope, request: ScopeRequest, limit: int, cursor: str | None) -> Row:
    """One page of ``scope`` after ``cursor``, with the properties of its nodes: plain rows in
    :class:`ScopePage`'s shape, sent on as JSON as they are (a page of a few hundred nodes spent
    more time in the constructors of its models than in its scope; ``tests/test_plain_answers.py`` holds
    the rows to the model)."""
    rows = selected(scope, request)
    if cursor:
        after = decode_cursor(request, cursor)
        rows_after = [n for n in rows if _key(n) > after]
    else:
        rows_after = rows
    chosen = rows_after[:limit]
    properties = scope.properties_of(store, [n.ref for n in chosen])
    vias = _vias(scope, {n.ref for n in chosen})
    more = len(rows_after) > limit
    nodes = []
    for n in chosen:
        ref = n.ref
        nodes.append(
            {
                "label": n.label.value,
                "uid": n.uid,
                "depth": n.depth,
                "properties": readable(properties.get(ref, _NONE)),
                "via": vias[ref],
            }
        )
    return {
        "direction": scope.direction,
        "source": {"label": scope.source.label.value, "uid": scope.source.uid},
        "window": scope.window.model_dump() if scope.window else None,
        "counts": scope.counts(),
        "total": len(rows),
        "nodes": nodes,
        "next_cursor": encode_cursor(request, _key(chosen[-1])) if more and chosen else None,
        "elapsed_ms": round(scope.elapsed_ms, 3),
    }


Row = dict[str, Any]
_NONE: Row = {}


# --- streamed exports ---------------------------------------------------------------------------

NODE_COLUMNS = ("label", "uid", "depth", "name", *(p for p in NODE_PROPERTIES if p != "name"))


def node_columns(labels: Iterable[Label]) -> tuple[str, ...]:
    """The columns of a table of nodes of ``labels``: only the properties those kinds have."""
    present = frozenset().union(*(PROPERTIES_BY_LABEL[label] for label in labels))
    return tuple(c for c in NODE_COLUMNS if c in ("label", "uid", "depth") or c in present)


def _kinds_shown(scope: Scope, request: ScopeRequest) -> list[Label]:
    found = [Label(name) for name in scope.counts()]
    return [label for label in found if not request.kinds or label in request.kinds]


EDGE_COLUMNS = (
    "type",
    "source_label",
    "source_uid",
    "target_label",
    "target_uid",
    "quantity",
    "unit",
    "start",
    "end",
)
Format = Literal["csv", "jsonl"]
What = Literal["nodes", "edges"]


class _Chosen:
    """The nodes a page order lists after the request's filters, worked out once for both the nodes
    and the relationships among them: positions in the index walk's arrays while the scope is held
    as arrays (made into objects a chunk at a time, so an export of millions of nodes never holds
    them all as objects), else the scope's own nodes."""

    def __init__(self, scope: Scope, request: ScopeRequest) -> None:
        self.scope = scope
        self.arrays = scope.arrays
        if self.arrays is not None:
            self.positions = self.arrays.selection(request.kinds, request.max_depth)
        else:
            self.nodes = selected(scope, request)

    def node_chunks(self) -> Iterator[list[ScopeNode]]:
        if self.arrays is not None:
            for start in range(0, self.positions.size, CHUNK):
                yield self.arrays.nodes_at(self.positions[start : start + CHUNK])
            return
        for start in range(0, len(self.nodes), CHUNK):
            yield self.nodes[start : start + CHUNK]

    def edge_chunks(self) -> Iterator[list[ScopeEdge]]:
        if self.arrays is not None:
            yield from self.arrays.edges_among(self.positions, CHUNK)
            return
        kept = {n.ref for n in self.nodes} | {self.scope.source}
        yield [e for e in self.scope.edges if e.source in kept and e.target in kept]


def _with_properties(store: Store, scope: Scope, chosen: _Chosen) -> Iterator[dict[str, Any]]:
    """Node rows with their properties, looked up a chunk at a time while the stream is read."""
    for part in chosen.node_chunks():
        properties = scope.properties_of(store, [n.ref for n in part])
        for n in part:
            props = readable(properties.get(n.ref, {}))
            yield {"label": n.label.value, "uid": n.uid, "depth": n.depth} | props


def _edge_rows(chosen: _Chosen) -> Iterator[dict[str, Any]]:
    for part in chosen.edge_chunks():
        for e in part:
            times = readable({"start": e.start, "end": e.end})
            yield {
                "type": e.type.value,
                "source_label": e.source.label.value,
                "source_uid": e.source.uid,
                "target_label": e.target.label.value,
                "target_uid": e.target.uid,
                "quantity": e.quantity,
                "unit": e.unit,
                **times,
            }


def graph_document(store: Store, scope: Scope, request: ScopeRequest, fmt: GraphFormat) -> bytes:
    """The selected nodes, the source and the relationships among them as one GraphML, GEXF or
    Cytoscape JSON document (a whole graph: held in memory, unlike the row exports)."""
    chosen = _Chosen(scope, request)
    nodes = [ScopeNode(scope.source.label, scope.source.uid, 0)]
    for part in chosen.node_chunks():
        nodes.extend(part)
    properties = scope.properties_of(store, [n.ref for n in nodes])
    edges = [e for part in chosen.edge_chunks() for e in part]
    return serialize(scope_graph(scope, nodes, edges, properties), fmt)


def export(store: Store, scope: Scope, request: ScopeRequest, fmt: Format, what: What) -> Iterator[bytes]:
    """The selected nodes (with every property) or the relationships among them, as CSV (one column
    per property the model knows) or JSON Lines, in chunks of bytes for a streamed response."""
    chosen = _Chosen(scope, request)
    if what == "nodes":
        rows = _with_properties(store, scope, chosen)
        columns = node_columns(_kinds_shown(scope, request))
    else:
        rows = _edge_rows(chosen)
        columns = EDGE_COLUMNS
    if fmt == "jsonl":
        yield from _chunks(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n" for row in rows)
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()

    def lines() -> Iterator[str]:
        for row in rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    yield buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    yield from _chunks(lines())


def _chunks(lines: Iterator[str], size: int = 64 * 1024) -> Iterator[bytes]:
    part: list[str] = []
    length = 0
    for line in lines:
        part.append(line)
        length += len(line)
        if length >= size:
            yield "".join(part).encode()
            part, length = [], 0
    if part:
        yield "".join(part).encode()


def workbook(store: Store, scope: Scope, request: ScopeRequest) -> bytes:
    """The selected nodes as an XLSX workbook: one sheet per kind, with that kind's columns, and a
    sheet of the relationships among them."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    chosen = _Chosen(scope, request)
    sheets: dict[str, Any] = {}
    columns: dict[str, tuple[str, ...]] = {}
    for label in _kinds_shown(scope, request):  # sheets in the model's order, made before any row
        sheets[label.value] = book.create_sheet(label.value)
        columns[label.value] = node_columns([label])
        sheets[label.value].append(list(columns[label.value]))
    for row in _with_properties(store, scope, chosen):
        sheets[row["label"]].append([_cell(row.get(c)) for c in columns[row["label"]]])
    edges = book.create_sheet("relationships")
    edges.append(list(EDGE_COLUMNS))
    for row in _edge_rows(chosen):
        edges.append([_cell(row.get(c)) for c in EDGE_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """A value a spreadsheet cell holds as it is; lists and the like as text, and text that a
    spreadsheet would run as a formula made inert."""
    from lineage.recall.notices import inert_cell

    if value is None or isinstance(value, bool | int | float):
        return value
    return inert_cell(value if isinstance(value, str) else json.dumps(value))
