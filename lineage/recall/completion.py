"""Follow-up and effectiveness: who was told, who answered, and how much product came back.

Each action on a customer of an active recall (notified, acknowledged, so much returned, destroyed
or corrected) is stored as its own ``Followup`` record, never changed, so two people recording at
once never overwrite each other; the figures are sums over them.

The quantity affected at a customer is what it received of the recalled batches less what it passed
on (which counts at the customers it went to), so no unit is counted twice. Completion is the
quantity accounted for (returned + destroyed + corrected) against it, per unit; coverage is the
share of customers notified. Both come overall, by region, and by level of the chain (distributor,
retailer, end customer), with the plant's held stock beside them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from lineage.errors import Conflict, InvalidRequest
from lineage.graph import audit
from lineage.graph.model import EpochMs, Quantity, Text, Unit, iso, now_ms
from lineage.graph.store import Store
from lineage.recall import recalls
from lineage.recall.cases import Recall, RecallCustomer
from lineage.recall.holds import Hold, holds
from lineage.recall.recalls import scope

Action = Literal["notified", "acknowledged", "returned", "destroyed", "corrected", "withdrawn"]
QUANTITY_ACTIONS = ("returned", "destroyed", "corrected")
_TOLERANCE = 1e-9


class FollowupRequest(BaseModel):
    action: Action
    quantity: Quantity | None = Field(None, description="for returned, destroyed, corrected")
    unit: Unit | None = Field(None, description="defaults to the unit the customer received")
    at: EpochMs | None = Field(None, description="when it happened; default now")
    channel: Text | None = Field(None, description="for notified: email, phone, post, visit")
    note: Text | None = None
    replaces: str | None = Field(
        None,
        max_length=64,
        description="the uid of an earlier follow-up of this customer that this one corrects (withdrawn: "
        "takes it back); both stay on record",
    )


class FollowupAction(BaseModel):
    uid: str
    recall: str
    customer: str
    action: Action
    quantity: float | None = None
    unit: str | None = None
    at: str
    channel: str | None = None
    note: str | None = None
    replaces: str | None = None
    by: str


class Amounts(BaseModel):
    unit: str
    affected: float
    returned: float = 0.0
    destroyed: float = 0.0
    corrected: float = 0.0
    accounted: float = 0.0
    completion: float | None = Field(None, description="accounted / affected; null when nothing is affected")


class CustomerProgress(BaseModel):
    uid: str
    name: str | None = None
    region: str
    level: str = Field(description="distributor, retailer or end_customer")
    notified_at: str | None = None
    acknowledged_at: str | None = None
    amounts: list[Amounts]
    done: bool = Field(description="notified, and everything affected accounted for")
    overdue: bool = Field(False, description="not done, and the recall's deadline has passed")


class Figures(BaseModel):
    group: str
    customers: int
    notified: int
    acknowledged: int
    coverage: float | None = Field(description="notified / customers")
    amounts: list[Amounts]


class Effectiveness(BaseModel):
    recall: str
    state: str
    deadline: str | None = None
    overdue: bool = Field(
        False, description="the recall is active, its deadline has passed and a customer is not done"
    )
    overall: Figures
    by_region: list[Figures]
    by_level: list[Figures]
    held_at_plant: list[dict[str, Any]] = Field(description="quantity on hold at the plant, by unit")
    customers: list[CustomerProgress]


def _affected(customer: RecallCustomer) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for line in customer.received:
        totals[line.unit] += line.quantity
    for line in customer.reshipped:
        totals[line["unit"]] -= line["quantity"]
    return {unit: max(q, 0.0) for unit, q in totals.items()}


def _actions(store: Store, recall: str) -> list[FollowupAction]:
    found = []
    for row in store.run("followup_of_recall", recall=recall):
        props = dict(row["props"])
        props["at"] = iso(props["at"])
        props.pop("recorded_at", None)
        found.append(FollowupAction.model_validate(props))
    return found


def standing(actions: list[FollowupAction]) -> list[FollowupAction]:
    """The actions that count: none that a later one corrected or withdrew, nor the withdrawals."""
    replaced = {a.replaces for a in actions if a.replaces}
    return [a for a in actions if a.uid not in replaced and a.action != "withdrawn"]


def record_action(
    store: Store, recall_uid: str, customer: str, request: FollowupRequest, by: str
) -> FollowupAction:
    """Record what happened with one customer of an active recall, or correct (``replaces``) or
    withdraw an earlier record: nothing is changed, the correction is appended and names the
    original. A quantity beyond what the customer holds of the recalled batches is refused."""
    recall, frozen = scope(store, recall_uid)
    if recall.state != "active":
        raise Conflict(f"recall {recall_uid} is {recall.state}; follow-up is recorded while it is active")
    member = next((c for c in frozen.customers if c.uid == customer), None)
    if member is None:
        raise InvalidRequest(f"customer {customer!r} is not in recall {recall_uid}")
    earlier = [a for a in _actions(store, recall_uid) if a.customer == customer]
    counting = standing(earlier)
    if request.replaces is not None:
        if request.replaces not in {a.uid for a in counting}:
            known = {a.uid for a in earlier}
            why = "was corrected or withdrawn already" if request.replaces in known else "is not one"
            raise InvalidRequest(
                f"follow-up {request.replaces!r} of {customer} in recall {recall_uid} {why}; "
                "give the uid of one that stands"
            )
        counting = [a for a in counting if a.uid != request.replaces]
    elif request.action == "withdrawn":
        raise InvalidRequest("withdrawn needs replaces: the uid of the follow-up taken back")
    unit = request.unit
    if request.action in QUANTITY_ACTIONS:
        if request.quantity is None:
            raise InvalidRequest(f"{request.action} needs a quantity")
        units = sorted({line.unit for line in member.received})
        if unit is None:
            if len(units) != 1:
                raise InvalidRequest(f"{customer} received {' and '.join(units) or 'no unit'}: give the unit")
            unit = units[0]
        _check_quantity(customer, _affected(member).get(unit, 0.0), unit, counting, request.quantity)
    elif request.quantity is not None:
        raise InvalidRequest(f"{request.action} takes no quantity")
    now = now_ms()
    props: dict[str, Any] = {
        "recall": recall_uid,
        "customer": customer,
        "action": request.action,
        "at": request.at if request.at is not None else now,
        "by": by,
        "recorded_at": now,
    }
    extra = {"quantity": request.quantity, "unit": unit, "channel": request.channel, "note": request.note,
             "replaces": request.replaces}  # fmt: skip
    props |= {k: v for k, v in extra.items() if v is not None}
    uid = f"F-{uuid.uuid4().hex[:12].upper()}"
    store.run("followup_write", uid=uid, props=props)
    amount = f" {request.quantity:g} {unit}" if request.quantity is not None else ""
    counts = {"quantity": round(request.quantity)} if request.quantity is not None else {}
    subject = f"{recall_uid} {customer}"
    detail = f"{request.action}{amount}" + (f", replacing {request.replaces}" if request.replaces else "")
    audit.record(store, by, f"followup.{request.action}", subject, counts, detail)
    props["at"] = iso(props["at"])
    props.pop("recorded_at")
    return FollowupAction(uid=uid, **props)


def _check_quantity(
    customer: str, held: float, unit: str, counting: list[FollowupAction], quantity: float
) -> None:
    done = sum(a.quantity or 0.0 for a in counting if a.action in QUANTITY_ACTIONS and (a.unit or "") == unit)
    if done + quantity > held + _TOLERANCE:
        raise InvalidRequest(
            f"{customer} holds {held:g} {unit} of the recalled batches and {done:g} {unit} are accounted "
            f"for already: {quantity:g} {unit} more would make {done + quantity:g} of {held:g}; correct an "
            "earlier record with replaces if it was wrong"
        )


def _progress(customer: RecallCustomer, actions: list[FollowupAction]) -> CustomerProgress:
    notified = [a.at for a in actions if a.action == "notified"]
    acknowledged = [a.at for a in actions if a.action == "acknowledged"]
    affected = _affected(customer)
    done_by: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for a in actions:
        if a.action in QUANTITY_ACTIONS and a.quantity is not None:
            done_by[a.unit or ""][a.action] += a.quantity
    units = sorted(set(affected) | set(done_by))
    amounts = [_amounts(unit, affected.get(unit, 0.0), done_by.get(unit, {})) for unit in units]
    complete = all(a.completion is None or a.completion >= 1 - _TOLERANCE for a in amounts)
    return CustomerProgress(
        uid=customer.uid,
        name=customer.name,
        region=customer.region,
        level=customer.customer_type or "retailer",
        notified_at=min(notified) if notified else None,
        acknowledged_at=min(acknowledged) if acknowledged else None,
        amounts=amounts,
        done=bool(notified) and complete,
    )


def _amounts(unit: str, affected: float, done: dict[str, float]) -> Amounts:
    kinds = {k: done.get(k, 0.0) for k in QUANTITY_ACTIONS}
    accounted = sum(kinds.values())
    completion = accounted / affected if affected > 0 else None
    return Amounts(unit=unit, affected=affected, accounted=accounted, completion=completion, **kinds)


def _figures(group: str, members: Iterable[CustomerProgress]) -> Figures:
    members = list(members)
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for m in members:
        for a in m.amounts:
            for name in ("affected", *QUANTITY_ACTIONS):
                totals[a.unit][name] += getattr(a, name)
    amounts = [_amounts(unit, t["affected"], t) for unit, t in sorted(totals.items())]
    notified = sum(1 for m in members if m.notified_at)
    return Figures(
        group=group,
        customers=len(members),
        notified=notified,
        acknowledged=sum(1 for m in members if m.acknowledged_at),
        coverage=notified / len(members) if members else None,
        amounts=amounts,
    )


def _grouped(progress: list[CustomerProgress], key: str) -> list[Figures]:
    groups: dict[str, list[CustomerProgress]] = defaultdict(list)
    for p in progress:
        groups[getattr(p, key)].append(p)
    return [_figures(name, members) for name, members in sorted(groups.items())]


def effectiveness(store: Store, recall_uid: str) -> Effectiveness:
    recall, frozen = scope(store, recall_uid)
    by_customer: dict[str, list[FollowupAction]] = defaultdict(list)
    for a in standing(_actions(store, recall_uid)):
        by_customer[a.customer].append(a)
    progress = [_progress(c, by_customer.get(c.uid, [])) for c in frozen.customers]
    late = recall.past_deadline()
    for p in progress:
        p.overdue = late and not p.done
    plant: dict[str, float] = defaultdict(float)
    for h in holds(store, recall_uid):
        if h.holder == "plant" and h.status == "active" and h.quantity is not None:
            plant[h.unit or ""] += h.quantity
    return Effectiveness(
        recall=recall_uid,
        state=recall.state,
        deadline=recall.deadline,
        overdue=any(p.overdue for p in progress),
        overall=_figures("all", progress),
        by_region=_grouped(progress, "region"),
        by_level=_grouped(progress, "level"),
        held_at_plant=[{"unit": u, "quantity": q} for u, q in sorted(plant.items())],
        customers=progress,
    )


def open_items(store: Store, recall_uid: str) -> list[str]:
    """What keeps a recall from being complete: customers not notified, quantities not accounted
    for, holds still active."""
    return _open(effectiveness(store, recall_uid), holds(store, recall_uid))


def _open(found: Effectiveness, placed: list[Hold]) -> list[str]:
    items = []
    late = [c.uid for c in found.customers if c.overdue]
    if late:
        items.append(
            f"OVERDUE: the deadline {found.deadline} has passed with {len(late)} customer(s) not done: "
            + ", ".join(late[:10])
        )
    silent = [c.uid for c in found.customers if not c.notified_at]
    if silent:
        items.append(f"{len(silent)} customer(s) not notified: {', '.join(silent[:10])}")
    short = [c for c in found.customers if c.notified_at and not c.done]
    if short:
        names = ", ".join(c.uid for c in short[:10])
        items.append(f"{len(short)} customer(s) with quantities not accounted for: {names}")
    active = [h for h in placed if h.status == "active"]
    if active:
        items.append(f"{len(active)} hold(s) still active")
    return items


class ClosingReport(BaseModel):
    recall: Recall
    effectiveness: Effectiveness
    holds: list[Hold]
    actions: list[FollowupAction]
    open_items: list[str]


def closing_report(store: Store, recall_uid: str) -> ClosingReport:
    """Scope, actions, completion figures and open items: what a closed recall leaves on file
    (made for an active recall too, as the report so far)."""
    recall, _ = scope(store, recall_uid)
    figures, placed = effectiveness(store, recall_uid), holds(store, recall_uid)
    return ClosingReport(
        recall=recall,
        effectiveness=figures,
        holds=placed,
        actions=_actions(store, recall_uid),  # every record, corrections beside what they correct
        open_items=_open(figures, placed),
    )


def amount_text(amounts: list[Amounts]) -> str:
    parts = []
    for a in amounts:
        share = f" ({a.completion:.0%})" if a.completion is not None else ""
        parts.append(f"{a.accounted:g} of {a.affected:g} {a.unit}{share}")
    return "; ".join(parts) or "nothing affected"


def _figures_rows(figures: list[Figures]) -> list[str]:
    rows = ["| group | customers | notified | acknowledged | accounted for |", "|---|---:|---:|---:|---|"]
    for f in figures:
        rows.append(
            f"| {f.group} | {f.customers} | {f.notified} | {f.acknowledged} | {amount_text(f.amounts)} |"
        )
    return rows


def report_markdown(report: ClosingReport) -> str:
    """The closing report as a document to file: the decision, the scope, what was done, the
    figures, and what is still open."""
    r, e = report.recall, report.effectiveness
    scope_part = r.scope
    source = f"{r.source['label']} {r.source['uid']}"
    decision = f"{r.strategy.replace('_', ' ')} recall of {source}, level {r.level}, owner {r.owner}"
    out = [
        f"# Recall {r.uid}: {r.product}",
        "",
        f"State **{r.state}**; {decision}, deadline {r.deadline[:10]}.",
    ]
    out += ["", f"Reason: {r.reason}", "", f"Risk: {r.risk}", "", "## Scope", ""]
    if scope_part is not None:
        batches = ", ".join(b.uid for b in scope_part.batches)
        reached = f"{len(scope_part.customers)} customers in {len(scope_part.regions)} regions"
        out.append(
            f"{len(scope_part.batches)} batches ({batches}), {len(scope_part.shipments)} shipments, "
            f"{reached} ({', '.join(scope_part.regions)})."
        )
    notified = f"{e.overall.notified} of {e.overall.customers} customers notified"
    out += ["", "## Completion", "", f"Overall: {amount_text(e.overall.amounts)}; {notified}.", ""]
    out += ["By region:", ""]
    out += [*_figures_rows(e.by_region), "", "By level of the chain:", "", *_figures_rows(e.by_level)]
    out += ["", "## Holds", ""]
    for h in report.holds:
        amount = "quantity unknown" if h.quantity is None else f"{h.quantity:g} {h.unit or ''}"
        state = (
            f"released {h.released_at[:10] if h.released_at else ''} by {h.released_by}: {h.release_reason}"
        )
        out.append(f"- {h.held} at {h.location}, {amount}: " + ("active" if h.status == "active" else state))
    out += ["", "## Actions", ""]
    corrected_by = {a.replaces: a.uid for a in report.actions if a.replaces}
    for a in report.actions:
        amount = f" {a.quantity:g} {a.unit or ''}" if a.quantity is not None else ""
        marks = f", replacing {a.replaces}" if a.replaces else ""
        marks += f"; corrected by {corrected_by[a.uid]}" if a.uid in corrected_by else ""
        out.append(f"- {a.at[:10]} {a.customer}: {a.action}{amount} ({a.uid}, recorded by {a.by}{marks})")
    out += ["", "## History", ""] + [f"- {c.at} {c.by}: {c.what}" for c in r.history]
    out += ["", "## Open items", ""] + ([f"- {item}" for item in report.open_items] or ["None."])
    return "\n".join(out) + "\n"


def close(store: Store, uid: str, by: str, note: str) -> Recall:
    """Close an active recall; what is still open (holds, customers not notified or not done) is
    recorded with the closing, not hidden."""
    return recalls.close(store, uid, by, note, open_items(store, uid))
