"""Recalls over HTTP: cases, holds, notices, follow-up, effectiveness, closing report, and drills.

Reading needs a viewer's key, every change an editor's; each change names a person (``by``), which
the audit log records with the key it came with. The library does the work (:mod:`lineage.recall`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from api.deps import EDITOR, REGULATED, VIEWER, ActorDep, StoreDep, named
from api.problems import documented
from api.responses import ModelJSON
from lineage.errors import NotFound
from lineage.graph.model import UID_PATTERN, Text
from lineage.recall import completion, drill, holds, notices, recalls

router = APIRouter(responses=documented(401, 403, 404, 409, 422, 500, 503), tags=["recalls"])
UidP = Annotated[str, Path(min_length=1, max_length=256, pattern=UID_PATTERN)]


class By(BaseModel):
    by: Text = Field(min_length=1, description="who does it (the audit log adds the key it came with)")


class RecallCreate(recalls.RecallRequest, By):
    pass


class RecallChange(recalls.RecallUpdate, By):
    pass


class Closing(By):
    note: Text = Field(min_length=1, description="why the recall is done")


class Release(By):
    reason: Text = Field(min_length=1, description="why the stock may move: destroyed, cleared, ...")


class Followup(completion.FollowupRequest, By):
    pass


@router.post("/recalls", response_model=recalls.Recall, status_code=201, dependencies=EDITOR)
def create_recall(store: StoreDep, body: RecallCreate, who: ActorDep) -> ModelJSON:
    """Open a draft recall over a forward scope, with its strategy, reason, risk, owner and deadline;
    the response level is computed from the regions it reaches unless overridden with a reason."""
    request = recalls.RecallRequest.model_validate(body.model_dump(exclude={"by"}))
    return ModelJSON(recalls.create(store, request, named(body.by, who)), status_code=201)


@router.get("/recalls", response_model=list[recalls.RecallBrief], dependencies=REGULATED)
def list_recalls(store: StoreDep) -> ModelJSON:
    return ModelJSON(recalls.listing(store))


@router.get("/recalls/{uid}", response_model=recalls.Recall, dependencies=REGULATED)
def get_recall(store: StoreDep, uid: UidP) -> ModelJSON:
    """A recall with its history and scope (live in a draft, frozen once active), and for an active
    one what data loaded since adds to or takes from its scope (`pending`)."""
    return ModelJSON(recalls.get(store, uid))


@router.patch("/recalls/{uid}", response_model=recalls.Recall, dependencies=EDITOR)
def change_recall(store: StoreDep, uid: UidP, body: RecallChange, who: ActorDep) -> ModelJSON:
    """Change owner, deadline, risk wording or level (with a reason) of a draft or active recall."""
    changes = recalls.RecallUpdate.model_validate(body.model_dump(exclude={"by"}))
    return ModelJSON(recalls.update(store, uid, changes, named(body.by, who)))


@router.post("/recalls/{uid}/activate", response_model=recalls.Recall, dependencies=EDITOR)
def activate_recall(store: StoreDep, uid: UidP, body: By, who: ActorDep) -> ModelJSON:
    """Freeze the scope and put every affected batch's unshipped stock on hold."""
    return ModelJSON(recalls.activate(store, uid, named(body.by, who)))


@router.post("/recalls/{uid}/accept-pending", response_model=recalls.Recall, dependencies=EDITOR)
def accept_pending(store: StoreDep, uid: UidP, body: By, who: ActorDep) -> ModelJSON:
    """Take the pending change into the active recall's scope; new batches go on hold."""
    return ModelJSON(recalls.accept_pending(store, uid, named(body.by, who)))


@router.post("/recalls/{uid}/close", response_model=recalls.Recall, dependencies=EDITOR)
def close_recall(store: StoreDep, uid: UidP, body: Closing, who: ActorDep) -> ModelJSON:
    """Close an active recall; what was still open is recorded in its history."""
    return ModelJSON(completion.close(store, uid, named(body.by, who), body.note))


@router.get("/recalls/{uid}/holds", response_model=list[holds.Hold], dependencies=REGULATED)
def recall_holds(store: StoreDep, uid: UidP) -> ModelJSON:
    recalls.get(store, uid, with_pending=False)  # 404 for an unknown recall, not an empty list
    return ModelJSON(holds.holds(store, uid))


@router.get("/holds", response_model=list[holds.Hold], dependencies=VIEWER)
def all_holds(
    store: StoreDep, status: Annotated[Literal["active", "released", "all"], Query()] = "active"
) -> ModelJSON:
    return ModelJSON([h for h in holds.holds(store) if status == "all" or h.status == status])


@router.post("/holds/{uid}/release", response_model=holds.Hold, dependencies=EDITOR)
def release_hold(store: StoreDep, uid: UidP, body: Release, who: ActorDep) -> ModelJSON:
    """Release one hold, with a reason: its stock may be shipped again once no other hold keeps it."""
    return ModelJSON(holds.release(store, uid, named(body.by, who), body.reason))


@router.get("/recalls/{uid}/notices", response_model=list[notices.Notice], dependencies=REGULATED)
def recall_notices(store: StoreDep, uid: UidP) -> ModelJSON:
    """One notice for every customer of the recall (what, why, how, by when), in Markdown and HTML."""
    recall, scope = recalls.scope(store, uid)
    return ModelJSON(notices.notices(recall, scope))


@router.get(
    "/recalls/{uid}/notices/{customer}",
    dependencies=REGULATED,
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
def recall_notice(
    store: StoreDep,
    uid: UidP,
    customer: UidP,
    format: Annotated[Literal["markdown", "html"], Query()] = "html",
) -> Response:
    """One customer's notice as a document to send."""
    recall, scope = recalls.scope(store, uid)
    member = next((c for c in scope.customers if c.uid == customer), None)
    if member is None:
        raise NotFound("Customer of recall " + uid, customer)
    made = notices.notice(recall, scope, member)
    if format == "html":
        return HTMLResponse(made.html)
    return PlainTextResponse(made.markdown, media_type="text/markdown; charset=utf-8")


@router.get(
    "/recalls/{uid}/notifications.csv",
    dependencies=REGULATED,
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def notification_list(store: StoreDep, uid: UidP) -> Response:
    """Whom to notify and how: one row per customer with contact fields and channel."""
    recall, scope = recalls.scope(store, uid)
    headers = {"Content-Disposition": f'attachment; filename="{uid}-notifications.csv"'}
    return Response(
        notices.notification_csv(recall, scope), media_type="text/csv; charset=utf-8", headers=headers
    )


@router.post(
    "/recalls/{uid}/customers/{customer}/followup",
    response_model=completion.FollowupAction,
    status_code=201,
    dependencies=EDITOR,
)
def record_followup(store: StoreDep, uid: UidP, customer: UidP, body: Followup, who: ActorDep) -> ModelJSON:
    """Record that a customer was notified, acknowledged, or returned, destroyed or corrected a
    quantity, with the date it happened."""
    request = completion.FollowupRequest.model_validate(body.model_dump(exclude={"by"}))
    action = completion.record_action(store, uid, customer, request, named(body.by, who))
    return ModelJSON(action, status_code=201)


@router.get("/recalls/{uid}/effectiveness", response_model=completion.Effectiveness, dependencies=REGULATED)
def recall_effectiveness(store: StoreDep, uid: UidP) -> ModelJSON:
    """Notification coverage and completion (accounted for against affected), overall, by region
    and by level of the chain, with every customer's progress."""
    return ModelJSON(completion.effectiveness(store, uid))


@router.get("/recalls/{uid}/report", response_model=completion.ClosingReport, dependencies=REGULATED)
def recall_report(store: StoreDep, uid: UidP) -> ModelJSON:
    """The closing report: scope, holds, actions, completion figures and open items."""
    return ModelJSON(completion.closing_report(store, uid))


@router.get("/lots/{uid}/drill", response_model=drill.DrillReport, dependencies=VIEWER, tags=["drill"])
def lot_drill(
    store: StoreDep,
    uid: UidP,
    who: ActorDep,
    format: Annotated[Literal["json", "markdown"], Query()] = "json",
) -> Response:
    """A mock recall drill of a lot: full scope, mass balance and notification list, timed."""
    report = drill.drill(store, uid, who)
    if format == "markdown":
        return PlainTextResponse(drill.to_markdown(report), media_type="text/markdown; charset=utf-8")
    return ModelJSON(report)
