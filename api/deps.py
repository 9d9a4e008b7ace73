"""What every route depends on: the process's one store, the roles a route lets through, and who
is asking (for the audit log). Each is ``async``: they only read the request, and FastAPI runs a
plain function dependency on a worker thread, a hop there and back for every request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.security import Caller, caller, require
from lineage.graph.store import Store


async def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


async def actor(request: Request, who: Annotated[Caller, Depends(caller)]) -> str:
    """Who the audit log names for a request: the key's label and role (never the key), and the
    client's address. A route that takes a person's name adds it in front."""
    client = request.client.host if request.client else "unknown"
    if who.role is None:
        return f"api (no key) from {client}"
    return f"api key {who.label} ({who.role}) from {client}"


StoreDep = Annotated[Store, Depends(get_store)]
ActorDep = Annotated[str, Depends(actor)]
CallerDep = Annotated[Caller, Depends(caller)]

# The roles each kind of route lets through; tests/test_access.py holds every route to its kind.
#: Reading the lineage, its complaints, signals and analyses.
VIEWER = [Depends(require("viewer", "editor", "admin"))]
#: Reading what a regulator may pull at any time: recalls and their notices and effectiveness,
#: scopes, the FSMA 204 export.
REGULATED = [Depends(require("viewer", "editor", "admin", "regulator"))]
#: Forward and backward scopes: a supplier's key only from its own lots (see api/scopes.py).
SCOPES = [Depends(require("viewer", "editor", "admin", "regulator", "supplier"))]
#: Changing recalls, holds, complaints and signals.
EDITOR = [Depends(require("editor", "admin"))]
#: Sending records: a supplier's key only records about itself and its own lots.
INGEST = [Depends(require("editor", "admin", "supplier"))]
#: The audit log.
AUDIT = [Depends(require("admin", "regulator"))]
ADMIN = [Depends(require("admin"))]


def named(by: str, who: str) -> str:
    """A person's name as given in a request, with the key it came with."""
    return f"{by} ({who})"
