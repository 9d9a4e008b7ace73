"""``GET /lookup``: the public question a consumer portal or a till asks, answered and rate-limited.

No key is needed, so each client address gets ``LINEAGE_LOOKUP_PER_MINUTE`` lookups in any sliding
minute, then ``429`` with ``Retry-After``. The count lives in the API process: behind a load
balancer with N processes a client gets at most N times the limit, which still stops a scraper
walking the code space; behind a proxy run uvicorn with ``--proxy-headers`` so the address is the
client's.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from api.deps import StoreDep
from api.problems import documented
from api.responses import ModelJSON
from lineage.recall.lookup import LookupAnswer, lookup

router = APIRouter(responses=documented(422, 429, 500, 503), tags=["public"])
WINDOW_S = 60.0
MAX_CLIENTS = 100_000  # the oldest client's count is forgotten past this, so memory stays bounded


class RateLimiter:
    def __init__(self) -> None:
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, client: str, limit: int, now: float | None = None) -> float:
        """0 if ``client`` may go now (and counts it), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(client, None) or deque()
            while times and times[0] <= now - WINDOW_S:
                times.popleft()
            self._seen[client] = times
            if len(self._seen) > MAX_CLIENTS:
                self._seen.popitem(last=False)
            if len(times) >= limit:
                return times[0] + WINDOW_S - now
            times.append(now)
            return 0.0


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    if not hasattr(state, "lookup_limiter"):
        state.lookup_limiter = RateLimiter()
    return state.lookup_limiter  # type: ignore[no-any-return]


@router.get("/lookup", response_model=LookupAnswer)
def public_lookup(
    request: Request,
    store: StoreDep,
    code: Annotated[str, Query(min_length=1, max_length=256, description="a batch code or serial number")],
) -> ModelJSON:
    """Whether the product with this batch code or serial number is under an active recall, and
    what to do. Public; says nothing about customers, quantities or other batches, and answers a
    code it does not know the same as one that is not recalled."""
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).wait_for(client, store.settings.lookup_per_minute)
    if wait > 0:
        raise HTTPException(
            429,
            f"more than {store.settings.lookup_per_minute} lookups in a minute from {client}; "
            f"try again in {wait:.0f} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    return ModelJSON(lookup(store, code))
