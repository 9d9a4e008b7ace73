"""What every route depends on: the process's one store, the role a route needs, and who is asking
(for the audit log). Each is ``async``: they only read the request, and FastAPI runs a plain
function dependency on a worker thread, a hop there and back for every request."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from api.security import api_key_header, require, role_of
from lineage.store import Store


async def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


async def actor(request: Request, key: Annotated[str | None, Depends(api_key_header)]) -> str:
    """Who the audit log names for a request: the key's role and a fingerprint of the key (never
    the key), and the client's address. A route that takes a person's name adds it in front."""
    settings = request.app.state.store.settings
    client = request.client.host if request.client else "unknown"
    if not settings.api_keys or key is None:
        return f"api (no key) from {client}"
    fingerprint = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"api key {role_of(settings, key)}#{fingerprint} from {client}"


StoreDep = Annotated[Store, Depends(get_store)]
ActorDep = Annotated[str, Depends(actor)]
VIEWER = [Depends(require("viewer"))]
EDITOR = [Depends(require("editor"))]
ADMIN = [Depends(require("admin"))]


def named(by: str, who: str) -> str:
    """A person's name as given in a request, with the key it came with."""
    return f"{by} ({who})"
