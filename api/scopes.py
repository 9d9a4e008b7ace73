"""Scopes over HTTP: the coordinator's `affected` answer, forward and backward scopes in pages and
as streamed exports, and the path that explains why a node is in a scope."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import REGULATED, SCOPES, CallerDep, StoreDep
from api.problems import documented
from api.responses import ModelJSON
from api.schemas import Why
from api.security import Caller
from lineage.graph.evidence import Evidence, evidence_of
from lineage.graph.model import UID_PATTERN, Label, NodeRef, node_key, parse_ref
from lineage.graph.scope import (
    BACKWARD_SOURCES,
    FORWARD_SOURCES,
    Direction,
    Scope,
    WhyPath,
    why,
    window_between,
)
from lineage.graph.store import Store
from lineage.interchange.graphs import MEDIA_TYPES as GRAPH_MEDIA_TYPES
from lineage.interchange.graphs import GraphFormat
from lineage.interchange.paging import (
    PAGE_MAX,
    Format,
    ScopePage,
    ScopeRequest,
    What,
    export,
    graph_document,
    page,
)
from lineage.loading import parties
from lineage.recall.affected import Affected, affected_rows

router = APIRouter(responses=documented(401, 403, 422, 500, 503))
SCOPE_PROBLEMS = documented(404, 413)

#: Source kinds per direction, as their own enums so the OpenAPI schema offers only what works.
ForwardLabel = StrEnum("ForwardLabel", {label.name: label.value for label in FORWARD_SOURCES})
BackwardLabel = StrEnum("BackwardLabel", {label.name: label.value for label in BACKWARD_SOURCES})
ForwardQ = Annotated[ForwardLabel, Query(alias="label", description="the kind of the source node")]
BackwardQ = Annotated[BackwardLabel, Query(alias="label", description="the kind of the source node")]
UidQ = Annotated[
    str, Query(min_length=1, max_length=256, pattern=UID_PATTERN, description="the source node's uid")
]
FromQ = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=64,
        description="Machine or Operator: batches whose run overlaps [from, to); ISO-8601 or epoch ms",
    ),
]
ToQ = Annotated[str | None, Query(alias="to", max_length=64, description="end of the window, exclusive")]
KindsQ = Annotated[list[Label] | None, Query(description="only nodes of these kinds (repeat the parameter)")]
DepthQ = Annotated[int | None, Query(ge=1, le=10_000, description="only nodes at most this many hops away")]
LimitQ = Annotated[int, Query(ge=1, le=PAGE_MAX, description="nodes per page")]
CursorQ = Annotated[str | None, Query(max_length=1024, description="next_cursor of the previous page")]
MaxNodesQ = Annotated[
    int | None, Query(ge=1, description="stop past this many nodes (at most the server's own limit)")
]
ExportFormat = Format | GraphFormat
FormatQ = Annotated[
    ExportFormat,
    Query(
        description="csv or jsonl: rows, streamed (up to LINEAGE_SCOPE_STREAM_MAX_NODES); graphml, gexf or "
        "cyjs (Cytoscape JSON): the nodes and the relationships among them as one graph document (up to "
        "LINEAGE_SCOPE_MAX_NODES; `what` does not apply)"
    ),
]
LotUid = Annotated[str, Path(max_length=256, pattern=UID_PATTERN, description="the lot's uid")]
WhatQ = Annotated[What, Query(description="the nodes, or the relationships among them")]


def node_cap(store: Store, asked: int | None, stream: bool = False) -> int:
    settings = store.settings
    limit = settings.scope_stream_max_nodes if stream else settings.scope_max_nodes
    return min(asked, limit) if asked else limit


def _scope(store: Store, request: ScopeRequest, max_nodes: int | None, stream: bool = False) -> Scope:
    return request.walk(store, node_cap(store, max_nodes, stream))


async def _request(
    store: Store,
    who: CallerDep,
    direction: Direction,
    label: StrEnum,
    uid: str,
    start: str | None,
    end: str | None,
    kinds: list[Label] | None,
    depth: int | None,
) -> ScopeRequest:
    """The request; a supplier's key only from its own lots, and only the kinds it may see."""
    source = NodeRef(Label(label.value), node_key(uid))
    asked = frozenset(kinds or ())
    if who.supplier is not None:
        await run_in_threadpool(parties.check_source, store, who.supplier, source)
        asked = parties.visible_kinds(who.supplier, asked)
    return ScopeRequest(
        direction=direction,
        source=source,
        window=window_between(start, end),
        kinds=asked,
        max_depth=depth,
    )


async def forward_request(
    store: StoreDep,
    who: CallerDep,
    label: ForwardQ,
    uid: UidQ,
    start: FromQ = None,
    end: ToQ = None,
    kinds: KindsQ = None,
    depth: DepthQ = None,
) -> ScopeRequest:
    """The parameters every forward route shares, as one request (a dependency, so declared once;
    ``async``, as it only parses but for a supplier's key: see api/deps.py)."""
    return await _request(store, who, "forward", label, uid, start, end, kinds, depth)


async def backward_request(
    store: StoreDep,
    who: CallerDep,
    label: BackwardQ,
    uid: UidQ,
    kinds: KindsQ = None,
    depth: DepthQ = None,
) -> ScopeRequest:
    return await _request(store, who, "backward", label, uid, None, None, kinds, depth)


ForwardRequest = Annotated[ScopeRequest, Depends(forward_request)]
BackwardRequest = Annotated[ScopeRequest, Depends(backward_request)]


def _export(
    store: Store, request: ScopeRequest, fmt: ExportFormat, what: What, max_nodes: int | None
) -> Response:
    name = f"{request.direction}-{request.source.label.value}-{request.source.uid}"
    if fmt in GRAPH_MEDIA_TYPES:
        scope = _scope(store, request, max_nodes)
        filename = f"{name}.{'cyjs.json' if fmt == 'cyjs' else fmt}"
        return Response(
            graph_document(store, scope, request, fmt),
            media_type=GRAPH_MEDIA_TYPES[fmt],
            headers=attachment(filename),
        )
    scope = _scope(store, request, max_nodes, stream=True)
    return StreamingResponse(
        export(store, scope, request, fmt, what),
        media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
        headers=attachment(f"{name}-{what}.{fmt}"),
    )


def attachment(filename: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


async def _answered(store: Store, work: Callable[[], ModelJSON]) -> ModelJSON:
    """``work`` on the event loop when the index answers it without the database and no request is
    at work in a thread, else in a worker thread (a walk of the database waits on the engine, and
    must not stop the loop meanwhile).

    A scope from the index never waits on I/O, so for a lone request a thread adds only the
    hand-off. While requests are at work in threads (ingests, node details, walks of the database),
    a scope on the loop would hold up their answers, which only the loop sends, and take the
    interpreter from them: under a mix of reads and writes that costs more than the hand-off."""
    idle = anyio.to_thread.current_default_thread_limiter().borrowed_tokens == 0
    if idle and store.topology.ready():
        return work()
    return await run_in_threadpool(work)


def _page(
    store: Store, who: Caller, request: ScopeRequest, limit: int, cursor: str | None, max_nodes: int | None
) -> ModelJSON:
    """A page of the scope. A supplier's leaves out, besides the nodes of the kinds it does not see,
    their counts and the relationships to them, and takes no node limit of its own (the limit it
    passes would tell how big the hidden part is)."""
    found = page(store, _scope(store, request, _cap(who, max_nodes)), request, limit, cursor)
    if who.supplier is not None:
        found["counts"] = {k: n for k, n in found["counts"].items() if Label(k) in request.kinds}
        for node in found["nodes"]:
            node["via"] = [v for v in node["via"] if Label(v["label"]) in request.kinds]
    return ModelJSON(found)


def _cap(who: Caller, max_nodes: int | None) -> int | None:
    return None if who.supplier is not None else max_nodes


@router.get(
    "/lots/{uid}/affected",
    response_model=Affected,
    responses=SCOPE_PROBLEMS,
    dependencies=REGULATED,
    tags=["scope"],
)
async def lot_affected(store: StoreDep, uid: LotUid) -> ModelJSON:
    """Who and what the lot reached: batches, shipments, customers by region with contacts, what was
    sold, stock still on hand by location, and a suggested response level."""
    return await _answered(store, lambda: ModelJSON(affected_rows(store, NodeRef(Label.MATERIAL_LOT, uid))))


@router.get(
    "/scope/forward", response_model=ScopePage, responses=SCOPE_PROBLEMS, dependencies=SCOPES, tags=["scope"]
)
async def scope_forward(
    store: StoreDep,
    who: CallerDep,
    request: ForwardRequest,
    limit: LimitQ = 500,
    cursor: CursorQ = None,
    max_nodes: MaxNodesQ = None,
) -> ModelJSON:
    """Everything downstream of a lot, batch, supplier, or a machine or operator over a window, a page
    at a time (nodes by depth, kind, uid; each with the relationships that lead to it)."""
    return await _answered(store, lambda: _page(store, who, request, limit, cursor, max_nodes))


@router.get(
    "/scope/backward", response_model=ScopePage, responses=SCOPE_PROBLEMS, dependencies=SCOPES, tags=["scope"]
)
async def scope_backward(
    store: StoreDep,
    who: CallerDep,
    request: BackwardRequest,
    limit: LimitQ = 500,
    cursor: CursorQ = None,
    max_nodes: MaxNodesQ = None,
) -> ModelJSON:
    """Everything upstream of a complaint, sale, shipment, customer, batch or lot, a page at a time."""
    return await _answered(store, lambda: _page(store, who, request, limit, cursor, max_nodes))


@router.get(
    "/scope/forward/evidence",
    response_model=list[Evidence],
    responses=SCOPE_PROBLEMS,
    dependencies=REGULATED,
    tags=["scope"],
)
def scope_forward_evidence(
    store: StoreDep, request: ForwardRequest, max_nodes: MaxNodesQ = None
) -> ModelJSON:
    """The event and document ids the forward scope rests on, oldest first: ids on its
    relationships, and every EPCIS event of an object in it (see docs/formats.md)."""
    return ModelJSON(evidence_of(store, _scope(store, request, max_nodes)))


@router.get(
    "/scope/backward/evidence",
    response_model=list[Evidence],
    responses=SCOPE_PROBLEMS,
    dependencies=REGULATED,
    tags=["scope"],
)
def scope_backward_evidence(
    store: StoreDep, request: BackwardRequest, max_nodes: MaxNodesQ = None
) -> ModelJSON:
    """The event and document ids the backward trace rests on, oldest first: ids on its
    relationships, every EPCIS event of the source, its inputs' up to their use, and the events
    of the units they were packed in from packing to unpacking (see docs/formats.md)."""
    return ModelJSON(evidence_of(store, _scope(store, request, max_nodes)))


EXPORTED = {
    200: {
        "content": {"text/csv": {}, "application/x-ndjson": {}} | {t: {} for t in GRAPH_MEDIA_TYPES.values()},
        "description": "the rows, or the graph document",
    }
}


@router.get(
    "/scope/forward/export",
    responses=SCOPE_PROBLEMS | EXPORTED,
    response_class=Response,
    dependencies=SCOPES,
    tags=["scope"],
)
def scope_forward_export(
    store: StoreDep,
    who: CallerDep,
    request: ForwardRequest,
    format: FormatQ = "csv",
    what: WhatQ = "nodes",
    max_nodes: MaxNodesQ = None,
) -> Response:
    """The whole forward scope streamed as CSV or JSON Lines (nodes with every property, or the
    relationships among them), or as a graph for Gephi, yEd or Cytoscape."""
    return _export(store, request, format, what, _cap(who, max_nodes))


@router.get(
    "/scope/backward/export",
    responses=SCOPE_PROBLEMS | EXPORTED,
    response_class=Response,
    dependencies=SCOPES,
    tags=["scope"],
)
def scope_backward_export(
    store: StoreDep,
    who: CallerDep,
    request: BackwardRequest,
    format: FormatQ = "csv",
    what: WhatQ = "nodes",
    max_nodes: MaxNodesQ = None,
) -> Response:
    """The whole backward trace streamed as CSV or JSON Lines, or as a graph document."""
    return _export(store, request, format, what, _cap(who, max_nodes))


RefQ = Annotated[
    str,
    Query(
        min_length=3, max_length=300, pattern=UID_PATTERN, description="Label:uid, e.g. MaterialLot:L-4471"
    ),
]


@router.get("/why", response_model=Why, responses=SCOPE_PROBLEMS, dependencies=REGULATED, tags=["scope"])
def why_path(
    store: StoreDep,
    source: RefQ,
    target: RefQ,
    start: FromQ = None,
    end: ToQ = None,
    max_nodes: MaxNodesQ = None,
) -> ModelJSON:
    """One shortest chain of relationships from the source to the target: why the target is in the
    source's forward scope (or, failing that, its backward trace)."""
    path: WhyPath = why(
        store,
        parse_ref(source),
        parse_ref(target),
        window_between(start, end),
        max_nodes=node_cap(store, max_nodes),
    )
    return ModelJSON(Why.of(path))
