"""``POST /analysis/common-cause``: what a set of complaints has in common upstream."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import VIEWER, StoreDep
from api.problems import documented
from api.responses import ModelJSON
from lineage.complaints.ranking import CommonCause
from lineage.complaints.signals import get_signal
from lineage.complaints.suspects import choose_complaints, common_cause
from lineage.graph.model import Text, Uid
from lineage.graph.scope import window_between

router = APIRouter(dependencies=VIEWER, responses=documented(401, 403, 404, 422, 500, 503), tags=["analysis"])


class Choice(BaseModel):
    """The complaints to analyse: by uid, those of a signal, or those received in a window (of one
    category); together, all of them."""

    complaints: list[Uid] = Field(default_factory=list, max_length=5000)
    signal: Uid | None = Field(None, description="a signal's uid: its complaints")
    received_from: str | None = Field(None, description="ISO-8601 or epoch ms, with received_to")
    received_to: str | None = None
    category: Text | None = None
    margin_days: float = Field(1.0, ge=0, le=365, description="the comparison period's margin each side")


@router.post("/analysis/common-cause", response_model=CommonCause)
def analyse(store: StoreDep, choice: Choice) -> ModelJSON:
    """Trace each complaint back and rank every upstream lot, supplier, batch, machine, operator and
    inspection by support (share of the complaint batches it feeds) against its share of all batches
    of the period, grouped by cause category."""
    window = window_between(choice.received_from, choice.received_to, prefix="received_")
    named = choice.complaints + (get_signal(store, choice.signal).complaints if choice.signal else [])
    uids = choose_complaints(store, named, window, choice.category)
    return ModelJSON(common_cause(store, uids, choice.margin_days))
