"""Complaint intake: a standard form in, a stored complaint out, checked against the lineage.

A complaint is evidence, so it is never refused for not matching the records: a batch code that is
not in the lineage, a serial that was never sold, a customer the batch never reached are reasons to
flag it ``unverified`` (with every reason, in words), not to lose it. What is malformed (a channel
that is not one of the five, a text too long) is refused whole, as any input is.

The complaint links to what it names only where that exists: ``ABOUT`` the batch and the unit
(``Sale``, by serial), ``REPORTED_BY`` the customer. Intake is idempotent: the same form (same uid,
or the same content when the uid is left to intake) stores the same complaint once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from lineage.complaints.signals import Evaluation, Rule, evaluate_new, load_rules, trace_keys
from lineage.config import Settings
from lineage.errors import InvalidRequest
from lineage.graph import audit
from lineage.graph.audit import local_actor
from lineage.graph.model import EpochMs, Label, NodeRef, Text, Uid, to_epoch_ms
from lineage.graph.nodes import node_detail
from lineage.graph.scope import fetch_properties, forward
from lineage.graph.store import Store

Channel = Literal["phone", "mail", "web", "social", "retailer"]
Resolution = Literal["refund", "replacement", "repair", "information", "apology", "other"]


class ComplaintForm(BaseModel):
    """What a complaint says, as a coordinator's intake form asks it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    uid: Uid | None = Field(None, description="left out: made from the content (a form sent twice is one)")
    customer: Uid | None = Field(None, description="the complaining customer's uid")
    channel: Channel
    product: Text | None = None
    sku: Text | None = None
    batch: Uid | None = Field(None, description="the batch code on the pack")
    serial: Uid | None = Field(None, description="the unit's serial number (a Sale's uid)")
    occurred_at: str | int | None = Field(None, description="when it happened; ISO-8601 or epoch ms")
    received_at: str | int | None = Field(None, description="when it reached us; now if left out")
    category: Text
    description: Text = ""
    documents: list[Text] = Field(default_factory=list, max_length=50, description="photos, files (links)")
    expected_resolution: Resolution | None = None

    @field_validator("occurred_at", "received_at")
    @classmethod
    def _time(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            TIME_CHECK.validate_python(value)  # raises a ValueError that names the problem
        return value


TIME_CHECK: TypeAdapter[int] = TypeAdapter(EpochMs)


class Intake(BaseModel):
    """What intake made of one form."""

    uid: str
    verification: Literal["verified", "unverified"]
    reasons: list[str] = Field(description="why it is unverified; empty when verified")
    safety: bool = Field(description="its category is one marked as a safety category in settings")
    linked: dict[str, str] = Field(description="what it was linked to: batch, sale, customer (uids)")
    signals: list[str] = Field(
        default_factory=list, description="signals it raised or joined (uids); see GET /signals"
    )


def _uid(form: ComplaintForm, received: int) -> str:
    if form.uid:
        return form.uid
    content = form.model_dump(exclude={"uid", "received_at"})
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"CP-{datetime.fromtimestamp(received / 1000, tz=UTC):%Y%m%d}-{digest}"


_NAMED = {Label.BATCH: "batch", Label.SALE: "serial", Label.CUSTOMER: "customer"}
_LINKED_AS = {Label.BATCH: "batch", Label.SALE: "sale", Label.CUSTOMER: "customer"}


def check(store: Store, form: ComplaintForm) -> tuple[list[str], dict[str, str]]:
    """Every way the form does not match the lineage, in words, and what it does match."""
    named = ((Label.BATCH, form.batch), (Label.SALE, form.serial), (Label.CUSTOMER, form.customer))
    wanted = [NodeRef(label, uid) for label, uid in named if uid]
    found = fetch_properties(store, wanted)
    reasons: list[str] = []
    linked: dict[str, str] = {}
    for ref in wanted:
        if ref in found:
            linked[_LINKED_AS[ref.label]] = ref.uid
        else:
            reasons.append(f"{_NAMED[ref.label]} {ref.uid!r} is not in the lineage")
    if not form.batch and not form.serial:
        reasons.append("no batch code and no serial: it cannot be traced")
    sale_batches: set[str] = set()
    if "sale" in linked:
        sale_batches = {n.uid for n in _sale_sources(store, linked["sale"])}
        if "batch" in linked and linked["batch"] not in sale_batches:
            sources = ", ".join(sorted(sale_batches)) or "none recorded"
            batch = linked["batch"]
            reasons.append(f"serial {linked['sale']!r} was sold from batch {sources}, not {batch!r}")
    if "customer" in linked:
        customer = NodeRef(Label.CUSTOMER, linked["customer"])
        region = found[customer].get("region")
        for batch in sorted({linked["batch"]} if "batch" in linked else sale_batches):
            scope = forward(store, NodeRef(Label.BATCH, batch), properties=(Label.CUSTOMER,))
            if customer.uid in scope.uids(Label.CUSTOMER):
                continue
            if region and region in scope.customers_by_region():
                continue
            where = f"or into its region {region!r}" if region else "(which has no region recorded)"
            reasons.append(f"batch {batch!r} was never shipped or sold to customer {customer.uid!r} {where}")
    return reasons, linked


def _sale_sources(store: Store, sale: str) -> list[NodeRef]:
    detail = node_detail(store, NodeRef(Label.SALE, sale), limit=100)
    return [NodeRef(Label.BATCH, n.uid) for n in detail.neighbours if n.type == "SOLD_IN"]


def intake(
    store: Store,
    form: ComplaintForm,
    now: datetime | None = None,
    signal: bool = True,
    rules: list[Rule] | None = None,
    who: str | None = None,
) -> Intake:
    """Check the form against the lineage, store it (flagged when it does not match), link it to
    what it names that exists, keep what it traces to, and evaluate the signal rules for it (a
    caller taking in many at once says ``signal=False`` and evaluates them together after); the
    rules are those of settings unless given. The audit log names ``who`` took it in (this
    machine's account when not given)."""
    who = who or local_actor()
    settings: Settings = store.settings
    received = (
        to_epoch_ms(form.received_at)
        if form.received_at is not None
        else to_epoch_ms(now or datetime.now(UTC))
    )
    uid = _uid(form, received)
    reasons, linked = check(store, form)
    categories = settings.complaint_categories
    if form.category not in categories:
        reasons.append(f"category {form.category!r} is not one of {', '.join(sorted(categories))}")
    safety = bool(categories.get(form.category, False))
    props: dict[str, Any] = {
        "channel": form.channel,
        "category": form.category,
        "safety": safety,
        "description": form.description,
        "received_at": received,
        "verification": "unverified" if reasons else "verified",
        "verification_reasons": "\n".join(reasons),
    }
    if form.occurred_at is not None:
        props["occurred_at"] = to_epoch_ms(form.occurred_at)
    optional = {
        "product": form.product,
        "sku": form.sku,
        "batch_code": form.batch,
        "serial": form.serial,
        "customer_uid": form.customer,
        "documents": "\n".join(form.documents) or None,
        "expected_resolution": form.expected_resolution,
    }
    props |= {k: v for k, v in optional.items() if v is not None}
    store.run("load_node_complaint", rows=[{"uid": uid, "props": props}])
    links = {
        "batch": "load_rel_about__complaint__batch",
        "sale": "load_rel_about__complaint__sale",
        "customer": "load_rel_reported_by__complaint__customer",
    }
    for what, target in linked.items():
        store.run(links[what], rows=[{"src": uid, "dst": target, "props": {}}])
    keys = trace_keys(store, uid, linked.get("customer"), form.product)
    store.run("signal_complaint_keys", uid=uid, trace_keys=keys)
    verdict = "unverified: " + "; ".join(reasons) if reasons else "verified"
    audit.record(store, who, "complaint", uid, {"links": len(linked)}, f"{form.category}, {verdict}")
    done = Intake(
        uid=uid,
        verification="unverified" if reasons else "verified",
        reasons=reasons,
        safety=safety,
        linked=linked,
    )
    if signal:
        rules = rules if rules is not None else load_rules(settings.signal_rules)
        done.signals = signal_uids(evaluate_new(store, rules, [uid], who), uid)
    return done


def signal_uids(evaluation: Evaluation, complaint: str) -> list[str]:
    """The signals of an evaluation that hold ``complaint``."""
    return [s.uid for s in evaluation.raised + evaluation.grown if complaint in s.complaints]


def forms_from(path_text: str) -> list[ComplaintForm]:
    """Complaint forms from JSON Lines text, each line one form; a malformed line is refused with
    its line number, and nothing of the file is taken."""
    forms = []
    for number, line in enumerate(path_text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            forms.append(ComplaintForm.model_validate_json(line))
        except ValueError as e:
            raise InvalidRequest(f"line {number}: {e}") from None
    return forms
