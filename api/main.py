"""The FastAPI app: one store per process, made in the lifespan and closed on shutdown.

Routes stay thin; the library does the work. This issue's app answers ``/health``; the scope routes
come with the API issue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from lineage import __version__
from lineage.config import Settings
from lineage.errors import EngineError, LineageError
from lineage.store import Store


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.store = Store.open(Settings())
    try:
        yield
    finally:
        app.state.store.close()


app = FastAPI(title="lineage", version=__version__, lifespan=lifespan)


def get_store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


StoreDep = Annotated[Store, Depends(get_store)]


@app.get("/health")
def health(store: StoreDep) -> JSONResponse:
    """Whether the engine answers, and which one it is."""
    body: dict[str, Any] = {"status": "ok", "lineage": __version__}
    try:
        info = store.info()
    except (EngineError, LineageError) as e:
        return JSONResponse(
            {"status": "unavailable", "detail": str(e)}, status_code=503, headers={"Retry-After": "5"}
        )
    body |= {"engine": info.engine, "version": info.version}
    return JSONResponse(body)
