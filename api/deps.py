"""What every route depends on: the process's one store, and the role a route needs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.security import require
from lineage.store import Store


def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]
VIEWER = [Depends(require("viewer"))]
EDITOR = [Depends(require("editor"))]
ADMIN = [Depends(require("admin"))]
