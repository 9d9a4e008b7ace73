"""Every error leaves the API as ``application/problem+json`` (RFC 9457), from this one place.

Lineage's own errors map by type; request validation is 422; anything unexpected is a 500 whose body
says only that, with the details in the server log. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from lineage.errors import (
    Conflict,
    EngineError,
    EngineUnavailable,
    InputRejected,
    InvalidRequest,
    LineageError,
    NotFound,
    NotPermitted,
    QueryTimeout,
    RecordsNotPermitted,
    ScopeTooLarge,
)

log = logging.getLogger("lineage.api")
MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_S = 5


class Problem(BaseModel):
    """RFC 9457 problem details, with lineage's extensions where they apply."""

    type: str = Field(description="a URN naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str = Field(description="the request path")
    limit: str | None = Field(None, description="413: which limit the scope passed")
    label: str | None = Field(None, description="404: the kind of the missing node")
    uid: str | None = Field(None, description="404: the uid of the missing node")
    problems: list[dict[str, Any]] | None = Field(
        None, description="422 on ingest: each problem with source, line, field and message"
    )
    errors: list[dict[str, Any]] | None = Field(None, description="422: each invalid parameter")


def problem(
    request: Request,
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = problem_body(status, kind, title, detail, request.url.path) | {
        k: v for k, v in extensions.items() if v is not None
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def problem_body(status: int, kind: str, title: str, detail: str, instance: str) -> dict[str, Any]:
    """The members every problem has (api.guard answers with them too, before any route runs)."""
    return {
        "type": f"urn:lineage:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }


def _lineage_error(request: Request, error: Exception) -> JSONResponse:
    detail = str(error)
    if isinstance(error, NotFound):
        return problem(request, 404, "not-found", "Not found", detail, label=error.label, uid=error.uid)
    if isinstance(error, ScopeTooLarge):
        return problem(request, 413, "scope-too-large", "Scope too large", detail, limit=error.limit)
    if isinstance(error, NotPermitted):
        return problem(request, 403, "forbidden", "Forbidden", detail)
    if isinstance(error, InputRejected):
        problems = [
            {"source": p.source, "line": p.line, "field": p.field, "message": p.message}
            for p in error.problems
        ]
        if isinstance(error, RecordsNotPermitted):
            return problem(request, 403, "forbidden", "Forbidden", detail, problems=problems)
        return problem(request, 422, "input-rejected", "Input rejected", detail, problems=problems)
    if isinstance(error, Conflict):
        return problem(request, 409, "conflict", "Conflict", detail)
    if isinstance(error, InvalidRequest):
        return problem(request, 422, "invalid-request", "Invalid request", detail)
    if isinstance(error, EngineUnavailable | QueryTimeout):
        retry = {"Retry-After": str(RETRY_AFTER_S)}
        return problem(request, 503, "engine-unavailable", "Engine unavailable", detail, headers=retry)
    if isinstance(error, EngineError):
        log.error("engine error on %s: %s", request.url.path, error)
        return problem(request, 500, "engine-error", "Engine error", detail)
    log.error("lineage error on %s: %s", request.url.path, error)
    return problem(request, 500, "internal", "Internal error", detail)


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"location": [str(part) for part in e.get("loc", ())], "message": e.get("msg", "")}
        for e in error.errors()
    ]
    detail = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors) or "invalid request"
    return problem(request, 422, "invalid-request", "Invalid request", detail, errors=errors)


_TITLES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Content too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    title = _TITLES.get(error.status_code, "Error")
    kind = title.lower().replace(" ", "-")
    return problem(request, error.status_code, kind, title, str(error.detail), headers=error.headers)


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s", request.url.path, exc_info=error)
    return problem(request, 500, "internal", "Internal error", "the server failed; the cause is in its log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LineageError, _lineage_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


#: What each documented status means, for the OpenAPI description.
_MEANINGS = {
    401: "No or a wrong API key",
    403: "The key's role is too small",
    404: "No such node or record",
    409: "The record's state does not allow it",
    413: "Scope or body past its limit",
    415: "Unsupported media type",
    422: "Invalid parameters or input",
    429: "Too many requests from this client",
    500: "Internal error",
    503: "Engine unavailable",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer with."""
    return {
        status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": _MEANINGS[status]}
        for status in statuses
    }
