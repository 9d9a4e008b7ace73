"""Signals: ``GET /signals`` lists them with the complaints behind them; an editor acknowledges or
closes one with a reason, or evaluates the rules over the whole history
(see :mod:`lineage.complaints.signals`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import EDITOR, VIEWER, ActorDep, StoreDep, named
from api.problems import documented
from api.responses import ModelJSON
from lineage.complaints.signals import (
    Evaluation,
    Signal,
    acknowledge,
    close,
    evaluate_history,
    load_rules,
    parse_statuses,
    signals_with,
)
from lineage.graph.model import Label, NodeRef, Text, readable
from lineage.graph.scope import fetch_properties

router = APIRouter(responses=documented(401, 403, 422, 500, 503), tags=["signals"])
#: What of a complaint a signal's list shows: enough to judge it without opening each one.
SHOWN = (
    "received_at",
    "category",
    "safety",
    "verification",
    "batch_code",
    "serial",
    "customer_uid",
    "description",
)


class SignalWithComplaints(Signal):
    details: list[dict[str, Any]] = Field(
        description="the complaints behind it: uid, received_at, category, ..."
    )


class Acknowledgement(BaseModel):
    by: Text = Field(description="who acknowledges it")
    note: Text | None = Field(None, description="what is being done")


class Closing(BaseModel):
    by: Text = Field(description="who closes it")
    reason: Text = Field(min_length=1, description="why: a false alarm, handled by recall R-12, ...")


@router.get("/signals", response_model=list[SignalWithComplaints], dependencies=VIEWER)
def list_signals(
    store: StoreDep,
    status: Annotated[list[str] | None, Query(description="open, acknowledged, closed or all")] = None,
) -> ModelJSON:
    """Signals, the highest level first: open and acknowledged ones unless `status` says otherwise,
    each with the complaints behind it."""
    found = signals_with(store, parse_statuses(status))
    refs = [NodeRef(Label.COMPLAINT, c) for s in found for c in s.complaints]
    props = fetch_properties(store, refs)
    body = []
    for s in found:
        details = []
        for c in s.complaints:
            p = readable(props.get(NodeRef(Label.COMPLAINT, c), {}))
            details.append({"uid": c} | {k: p[k] for k in SHOWN if k in p})
        body.append(SignalWithComplaints(**s.model_dump(), details=details))
    return ModelJSON(body)


@router.post("/signals/evaluate", response_model=Evaluation, dependencies=EDITOR)
def evaluate_all(store: StoreDep, who: ActorDep) -> ModelJSON:
    """Evaluate every rule over the whole complaint history: what would have been raised had the
    rules been in force all along (complaints loaded as plain records are counted here)."""
    return ModelJSON(evaluate_history(store, load_rules(store.settings.signal_rules), who))


@router.post(
    "/signals/{uid}/acknowledge", response_model=Signal, dependencies=EDITOR, responses=documented(404)
)
def acknowledge_signal(store: StoreDep, uid: str, body: Acknowledgement, who: ActorDep) -> ModelJSON:
    """Someone is on it: it stays live, and complaints of its group keep joining it."""
    return ModelJSON(acknowledge(store, uid, named(body.by, who), body.note))


@router.post("/signals/{uid}/close", response_model=Signal, dependencies=EDITOR, responses=documented(404))
def close_signal(store: StoreDep, uid: str, body: Closing, who: ActorDep) -> ModelJSON:
    """Closed with a reason; its complaints no longer count, so its group raises a new signal only
    when enough new complaints arrive."""
    return ModelJSON(close(store, uid, named(body.by, who), body.reason))
