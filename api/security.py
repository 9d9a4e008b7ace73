"""API keys with roles from settings: ``viewer`` reads, ``editor`` also ingests, ``admin`` also
administers. ``/health`` is public. With no keys configured, every route is open (a local tool on
one machine); ``lineage serve`` says so when it starts."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from lineage.config import Role, Settings

RANK: dict[Role, int] = {"viewer": 1, "editor": 2, "admin": 3}
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key from settings")


def role_of(settings: Settings, key: str | None) -> Role | None:
    """The key's role; compared in constant time against every configured key."""
    if key is None:
        return None
    found: Role | None = None
    for secret, role in settings.api_keys.items():
        if hmac.compare_digest(secret.get_secret_value().encode(), key.encode()):
            found = role
    return found


def require(role: Role) -> Callable[..., Awaitable[None]]:
    async def check(request: Request, key: Annotated[str | None, Depends(api_key_header)]) -> None:
        settings: Settings = request.app.state.store.settings
        if not settings.api_keys:
            return
        held = role_of(settings, key)
        if held is None:
            detail = "no API key given" if key is None else "the API key is not valid"
            raise HTTPException(
                401, f"{detail}; send one in the X-API-Key header", headers={"WWW-Authenticate": "APIKey"}
            )
        if RANK[held] < RANK[role]:
            raise HTTPException(403, f"this needs the {role} role; the key given has {held}")

    return check
