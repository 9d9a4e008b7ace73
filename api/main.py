"""The FastAPI app: one store per process, made in the lifespan and closed on shutdown.

Routes stay thin: they parse, call the library, and return its pydantic models. Settings come from
the environment (``LINEAGE_*``), so the same app serves the embedded engine or a Neo4j cluster.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import (
    analysis,
    audit,
    complaints,
    exports,
    ingest,
    lookup,
    nodes,
    problems,
    recalls,
    scopes,
    signals,
)
from api.deps import StoreDep
from api.guard import Guard
from api.schemas import Health
from api.security import Keyring, keyring
from lineage import __version__
from lineage.config import Settings
from lineage.errors import EngineError
from lineage.graph.store import Store


def _settle() -> None:
    """Put what the process holds for good out of the collector's reach. Everything imported at
    start (FastAPI, pydantic, numpy, the drivers) lives as long as the process, and so does what
    building the index adds (numba, scipy's graph routines and the compiled walk, loaded in the
    building thread): each full collection would walk them all, tens of milliseconds landing in
    whichever request was running. So this runs after the index is built, not only at start."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings()
    app.state.keyring = Keyring(settings)  # a keys file that cannot be read stops the start
    app.state.store = Store.open(settings)
    # Routes run in worker threads (but scopes the index answers: on the loop, see api/scopes.py),
    # and a scope's work is Python holding the GIL: past a few threads they only take turns at it,
    # and the turns cost: a few threads (settings: api_threads) spend less CPU per request than
    # anyio's default forty.
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.store.settings.api_threads
    if app.state.store.settings.topology_index:
        app.state.store.topology.keep_current(then=lambda _: _settle())
    _settle()
    try:
        yield
    finally:
        app.state.store.close()


app = FastAPI(
    title="lineage",
    version=__version__,
    lifespan=lifespan,
    description="Who and what is affected by a lot, and where a complaint came from. Send the key in "
    "`X-API-Key`; `/health` is public. The investigation view, a page over these routes, is at `/ui/`.",
)
problems.install(app)
app.add_middleware(Guard)
app.include_router(scopes.router)
app.include_router(nodes.router)
app.include_router(ingest.router)
app.include_router(complaints.router)
app.include_router(analysis.router)
app.include_router(signals.router)
app.include_router(recalls.router)
app.include_router(lookup.router)
app.include_router(audit.router)
app.include_router(exports.router)
# The investigation view: static files (the page asks the routes above for everything it shows).
app.mount("/ui", StaticFiles(directory=str(resources.files("lineage") / "ui"), html=True), name="ui")


@app.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/ui/")


@app.get("/health", response_model=Health, responses=problems.documented(503), tags=["health"])
def health(request: Request, store: StoreDep) -> JSONResponse | Health:
    """Whether the engine answers, which one it is, and whether API keys are required."""
    auth = "keys" if keyring(request).configured() else "open"
    try:
        info = store.info()
    except EngineError as e:
        body = Health(status="unavailable", lineage=__version__, auth=auth, detail=str(e))
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "5"})
    return Health(
        status="ok",
        lineage=__version__,
        engine=info.engine,
        version=info.version,
        auth=auth,
        index=store.topology.state(),
    )
