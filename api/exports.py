"""Exports for partners and regulators over HTTP: the FSMA 204 sortable spreadsheet of a trace, and
the EPCIS events a trace (or a period) rests on as an EPCIS 2.0 document.

A viewer's key reads it (the same records a scope export gives); each export is in the audit log
with the key it came with and, where given, the person who asked (``by``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import REGULATED, ActorDep, StoreDep, named
from api.problems import documented
from api.scopes import SCOPE_PROBLEMS, FromQ, MaxNodesQ, ToQ, attachment, node_cap
from lineage.graph.model import UID_PATTERN, parse_ref
from lineage.graph.scope import window_between
from lineage.interchange import fsma_sheet
from lineage.interchange.epcis import export as epcis

router = APIRouter(dependencies=REGULATED, responses=documented(401, 403, 422, 500, 503), tags=["export"])

SourceQ = Annotated[
    str,
    Query(
        min_length=3,
        max_length=300,
        pattern=UID_PATTERN,
        description="Label:uid (MaterialLot:L-4471), or a GS1 key alone (EPC URN or Digital Link)",
    ),
]


@router.get(
    "/export/fsma204",
    response_class=Response,
    responses=SCOPE_PROBLEMS
    | {200: {"content": {t: {} for t in fsma_sheet.MEDIA_TYPES.values()}, "description": "the spreadsheet"}},
)
def fsma204_export(
    store: StoreDep,
    who: ActorDep,
    source: SourceQ,
    start: FromQ = None,
    end: ToQ = None,
    format: Annotated[fsma_sheet.Format, Query(description="csv or xlsx")] = "csv",
    direction: Annotated[Literal["both", "forward", "backward"], Query()] = "both",
    by: Annotated[str | None, Query(max_length=200, description="who asks, for the audit log")] = None,
    max_nodes: MaxNodesQ = None,
) -> Response:
    """The FDA Food Traceability Rule's sortable spreadsheet for the trace through ``source``: one row
    per Critical Tracking Event and traceability lot with its Key Data Elements, events in
    [from, to) (docs/formats.md has the columns)."""
    _, content, name = fsma_sheet.export(
        store,
        parse_ref(source),
        window_between(start, end),
        direction,
        format,
        named(by, who) if by else who,
        node_cap(store, max_nodes),
    )
    return Response(content, media_type=fsma_sheet.MEDIA_TYPES[format], headers=attachment(name))


@router.get(
    "/export/epcis",
    response_class=Response,
    responses=SCOPE_PROBLEMS
    | {200: {"content": {t: {} for t in epcis.MEDIA_TYPES.values()}, "description": "the EPCIS document"}},
)
def epcis_export(
    store: StoreDep,
    who: ActorDep,
    source: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=300,
            pattern=UID_PATTERN,
            description="Label:uid or a GS1 key; leave out to export every event in [from, to)",
        ),
    ] = None,
    start: FromQ = None,
    end: ToQ = None,
    format: Annotated[
        epcis.Format, Query(description="jsonld (EPCIS 2.0 JSON-LD) or xml (EPCIS 2.0 XML)")
    ] = "jsonld",
    direction: Annotated[Literal["both", "forward", "backward"], Query()] = "both",
    by: Annotated[str | None, Query(max_length=200, description="who asks, for the audit log")] = None,
    max_nodes: MaxNodesQ = None,
) -> Response:
    """The EPCIS events the trace through ``source`` rests on (those in [from, to) where given), or
    with no source every event in [from, to), as one EPCIS 2.0 document that the partner's system,
    or lineage, reads back into the same graph (docs/formats.md)."""
    _, content, name = epcis.export(
        store,
        parse_ref(source) if source else None,
        direction,
        window_between(start, end),
        format,
        named(by, who) if by else who,
        node_cap(store, max_nodes),
    )
    return Response(content, media_type=epcis.MEDIA_TYPES[format], headers=attachment(name))
