"""``POST /ingest``: the formats, validation and all-or-nothing rule of ``lineage load``, over HTTP."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from api.deps import ADMIN, INGEST, ActorDep, CallerDep
from api.problems import documented
from lineage.graph.schema import KINDS
from lineage.graph.status import data_report
from lineage.loading.read import SUFFIXES
from lineage.loading.uploads import Upload, load_uploads

router = APIRouter(responses=documented(401, 403, 413, 415, 422, 500, 503))

JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/ndjson")
CSV_TYPES = ("text/csv",)
EPCIS_TYPES = ("application/ld+json", "application/json")
EPCIS_XML_TYPES = ("application/xml", "text/xml")
MULTIPART = "multipart/form-data"


#: Notices listed in full in a report; all are counted.
NOTICES_SHOWN = 200


class IngestNotice(BaseModel):
    kind: str = Field(description="what was taken though not as written, e.g. 'opaque identifier'")
    source: str
    line: int | None
    field: str | None
    message: str


class IngestReport(BaseModel):
    files: list[str]
    records: int
    nodes: int
    relationships: int
    method: str
    digest: str
    seconds: dict[str, float]
    notice_counts: dict[str, int] = Field(description="notices by kind (`strict=true` refuses any)")
    notices: list[IngestNotice] = Field(description=f"the first {NOTICES_SHOWN} notices")


BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "JSON Lines, CSV (a `kind` column, or `?kind=`), an EPCIS 2.0 JSON-LD document, "
        "EPCIS XML 1.2 or 2.0, or files as multipart/form-data (`.jsonld`, `.json` and `.xml` files, "
        "and parts sent as application/ld+json or application/xml, are EPCIS documents)",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/ld+json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "string"}},
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            },
        },
    }
}


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is over the {limit:,}-byte limit (LINEAGE_INGEST_MAX_BYTES)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is over the {limit:,}-byte limit (LINEAGE_INGEST_MAX_BYTES)")
        chunks.append(chunk)
    return b"".join(chunks)


def charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, if it names one."""
    for part in (content_type or "").split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"'):
            return value.strip().strip('"')
    return None


async def _uploads(request: Request, kind: str | None, limit: int) -> list[Upload]:
    declared = request.headers.get("content-type")
    media = (declared or "").split(";")[0].strip().lower()
    if media in JSONL_TYPES:
        return [("body.jsonl", await _body(request, limit), None)]
    if media in CSV_TYPES:
        return [(f"{kind or 'body'}.csv", await _body(request, limit), charset(declared))]
    if media in EPCIS_TYPES:
        return [("epcis.jsonld", await _body(request, limit), None)]
    if media in EPCIS_XML_TYPES:
        return [("epcis.xml", await _body(request, limit), None)]
    if media == MULTIPART:
        return await _files(request, limit)
    raise HTTPException(
        415,
        f"send JSON Lines ({JSONL_TYPES[0]}), CSV (text/csv), an EPCIS document ({EPCIS_TYPES[0]} or "
        f"{EPCIS_XML_TYPES[0]}) or files ({MULTIPART}), "
        f"not {media or 'nothing'}",
    )


async def _files(request: Request, limit: int) -> list[Upload]:
    uploads, size = [], 0
    try:
        async with request.form(max_files=1000, max_fields=1000) as form:
            for field, value in form.multi_items():
                if not isinstance(value, UploadFile):
                    raise HTTPException(422, f"form field {field!r} is not a file; send input files only")
                content = await value.read()
                size += len(content)
                if size > limit:
                    raise HTTPException(413, f"the files are over the {limit:,}-byte limit")
                name = value.filename or "upload"
                media = (value.content_type or "").split(";")[0].strip().lower()
                if Path(name).suffix not in SUFFIXES:  # the part's type says what its name does not
                    name += (
                        ".jsonld" if media == EPCIS_TYPES[0] else ".xml" if media in EPCIS_XML_TYPES else ""
                    )
                uploads.append((name, content, charset(value.content_type)))
    except HTTPException as e:
        if e.status_code != 400:
            raise
        raise HTTPException(422, f"the form cannot be read: {e.detail}") from None
    if not uploads:
        raise HTTPException(422, "the form holds no files")
    return uploads


@router.post(
    "/ingest", response_model=IngestReport, dependencies=INGEST, openapi_extra=BODY_DOC, tags=["ingest"]
)
async def ingest(
    request: Request,
    who: ActorDep,
    caller: CallerDep,
    kind: Annotated[
        str | None,
        Query(
            description="the kind of every row of a CSV body without a kind column",
            json_schema_extra={"enum": list(KINDS)},
        ),
    ] = None,
    strict: Annotated[
        bool, Query(description="refuse the input for any notice (an identifier kept opaque, ...)")
    ] = False,
) -> IngestReport:
    """Validate everything, check it against the graph, then write it, or write nothing and list
    every problem (source, line, field, message). What was taken though not as written (an EPCIS
    identifier that is not a well-formed GS1 key, kept opaque) comes back as notices."""
    store = request.app.state.store
    uploads = await _uploads(request, kind, store.settings.ingest_max_bytes)
    report = await run_in_threadpool(load_uploads, store, uploads, who, caller.supplier, strict)
    return IngestReport(
        files=report.files,
        records=report.records,
        nodes=report.nodes,
        relationships=report.relationships,
        method=report.method,
        digest=report.digest,
        seconds={k: round(v, 4) for k, v in report.seconds.items()},
        notice_counts=dict(Counter(n.kind for n in report.notices)),
        notices=[IngestNotice(**vars(n)) for n in report.notices[:NOTICES_SHOWN]],
    )


@router.get("/admin/status", dependencies=ADMIN, tags=["admin"])
def admin_status(request: Request) -> dict[str, Any]:
    """Engine, data by kind, and loads that were cut short (complete them by loading again)."""
    return data_report(request.app.state.store)
