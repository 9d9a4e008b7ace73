"""Recall cases: from a scope to a decision, frozen when it goes live, carried to closure.

A recall starts as a **draft** over a forward scope (a lot, batch, supplier, or a machine or
operator over a window), with a strategy: **full** (everyone in scope), **targeted** (only some
regions or customers) or **selective replacement** (a defect that is not a safety risk: the product
is replaced or repaired rather than returned). Its response level is computed from the regions the
recall reaches (:func:`lineage.recall.affected.response_level`) unless someone overrides it with a reason.

**Activating** freezes the scope: the batches, shipments, customers and stock it names are stored
with the recall, and every affected batch's unshipped stock goes on hold, as do the lots at its
source, so that no new batch consumes them (:mod:`lineage.recall.holds`).
From then on the scope changes only when someone accepts it: data loaded later that widens (or
narrows) the scope shows as a pending change (:func:`pending`), never silently. **Closing** needs a
note and records what was still open. Every change is kept in the recall's history (who, when,
what) and appended to the audit log.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from lineage.errors import Conflict, InvalidRequest, NotFound
from lineage.graph import audit
from lineage.graph.model import Label, NodeRef, iso, now_ms, parse_ref
from lineage.graph.scope import FORWARD_SOURCES, Window, fetch_properties, window_between
from lineage.graph.store import Store
from lineage.recall.affected import (
    Affected,
    AffectedShipment,
    affected,
    response_level,
)
from lineage.recall.cases import (
    INSTRUCTIONS,
    RECORD,
    Change,
    Pending,
    Recall,
    RecallBrief,
    RecallCustomer,
    RecalledLot,
    RecallRequest,
    RecallScope,
    RecallUpdate,
    State,
)


def _source(request: RecallRequest) -> tuple[NodeRef, Window | None]:
    ref = parse_ref(request.source)
    if ref.label not in FORWARD_SOURCES:
        kinds = ", ".join(label.value for label in FORWARD_SOURCES)
        raise InvalidRequest(f"a recall starts from a {kinds}, not a {ref.label.value}")
    return ref, window_between(request.window_from, request.window_to, "window_")


def _reshipped(shipments: Iterable[AffectedShipment]) -> dict[str, list[dict[str, Any]]]:
    by_origin: dict[str, dict[tuple[str, str], float]] = {}
    for s in shipments:
        if s.origin is None:
            continue
        lines = by_origin.setdefault(s.origin, {})
        for line in s.lines:
            key = (line.batch, line.unit)
            lines[key] = lines.get(key, 0.0) + line.quantity
    return {
        origin: [{"batch": b, "unit": u, "quantity": q} for (b, u), q in sorted(lines.items())]
        for origin, lines in by_origin.items()
    }


def scope_of(found: Affected, props: dict[str, Any], store: Store) -> RecallScope:
    """The recall's part of an affected summary: everything for a full recall or a selective
    replacement, the named regions and customers (and what reached them) for a targeted one."""
    regions, named = set(props.get("regions") or []), set(props.get("customers") or [])
    targeted = props["strategy"] == "targeted"
    everyone = [c for group in found.regions for c in group.customers]
    kept = [c for c in everyone if not targeted or c.region in regions or c.uid in named]
    kept_uids = {c.uid for c in kept}
    reshipped = _reshipped(found.shipments)
    customers = [RecallCustomer(**c.model_dump(), reshipped=reshipped.get(c.uid, [])) for c in kept]
    shipments = [s for s in found.shipments if not targeted or s.customer in kept_uids]
    stock = [s for s in found.stock_on_hand if s.holder == "plant" or s.location in kept_uids]
    reached = sorted({c.region for c in kept})
    return RecallScope(
        batches=found.batches,
        lots=_source_lots(store, NodeRef(Label(props["source_label"]), props["source_uid"])),
        shipments=shipments,
        customers=customers,
        stock=stock,
        regions=reached,
        left_out=len(everyone) - len(kept),
        response=response_level(len(reached), store.settings),
    )


def _source_lots(store: Store, source: NodeRef) -> list[RecalledLot]:
    """The recalled lot itself, or every lot a recalled supplier delivered; no lot for a batch, a
    machine or an operator, whose inputs are not what is wrong."""
    if source.label == Label.MATERIAL_LOT:
        uids = [source.uid]
    elif source.label == Label.SUPPLIER:
        uids = sorted(row["uid"] for row in store.run("scope_supplier_lots", uid=source.uid))
    else:
        return []
    found = fetch_properties(store, [NodeRef(Label.MATERIAL_LOT, uid) for uid in uids])
    lots = []
    for uid in uids:
        props = found.get(NodeRef(Label.MATERIAL_LOT, uid))
        if props is not None:
            lots.append(RecalledLot(uid=uid, **{k: props.get(k) for k in ("material", "on_hand", "unit")}))
    return lots


def _live_scope(store: Store, props: dict[str, Any]) -> RecallScope:
    ref = NodeRef(Label(props["source_label"]), props["source_uid"])
    window = window_between(props.get("window_from"), props.get("window_to"), "window_")
    return scope_of(affected(store, ref, window), props, store)


def _products(scope: RecallScope) -> str:
    sold = [b for b in scope.batches if b.product and b.batch_type != "intermediate"]
    names = sorted({f"{b.product} ({b.sku})" if b.sku else str(b.product) for b in sold})
    return "; ".join(names) or "see the batch codes"


def _history(props: dict[str, Any]) -> list[Change]:
    return [Change(**json.loads(entry)) for entry in props.get("history") or []]


def _change(props: dict[str, Any], by: str, what: str) -> list[str]:
    entry = json.dumps({"at": iso(now_ms()), "by": by, "what": what})
    return [*(props.get("history") or []), entry]


def create(store: Store, request: RecallRequest, by: str) -> Recall:
    """A draft recall over the request's scope (the source must exist and reach something)."""
    check_deadline(request.deadline, request.force)
    ref, window = _source(request)
    found = affected(store, ref, window)
    if not found.batches:
        raise InvalidRequest(
            f"{ref} reaches no batch{' in that window' if window else ''}: nothing to recall"
        )
    uid = f"R-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    remedy = request.chosen_remedy
    props: dict[str, Any] = {
        "state": "draft",
        "source_label": ref.label.value,
        "source_uid": ref.uid,
        "strategy": request.strategy,
        "regions": list(request.regions),
        "customers": list(request.customers),
        "reason": request.reason,
        "risk": request.risk,
        "safety": request.safety,
        "remedy": remedy,
        "instructions": INSTRUCTIONS[remedy],
        "owner": request.owner,
        "deadline": request.deadline,
        "created_at": now_ms(),
        "created_by": by,
    }
    for name in ("window_from", "window_to"):
        if getattr(request, name) is not None:
            props[name] = getattr(request, name)
    scope = scope_of(found, props, store)
    unknown = sorted(set(request.customers) - {c.uid for c in scope.customers})
    if unknown:
        raise InvalidRequest(f"customers {', '.join(unknown)} are not in the scope of {ref}")
    nowhere = sorted(set(request.regions) - set(scope.regions))
    if nowhere:
        raise InvalidRequest(f"the scope of {ref} reaches no customer in {', '.join(nowhere)}")
    level = request.level or scope.response.level
    props |= {
        "product": _products(scope),
        "level": level,
        "level_computed": scope.response.level,
        "level_rule": scope.response.rule,
        "batches": [b.uid for b in scope.batches],
        "history": _change({}, by, f"created as a draft: {request.strategy} recall of {ref}"),
    }
    if request.level is not None:
        props["level_reason"] = request.level_reason
        why = f"level set to {level} (computed {scope.response.level}): {request.level_reason}"
        props["history"] = _change(props, by, why)
    store.run("recall_write", uid=uid, props=props)
    counts = {"batches": len(scope.batches), "customers": len(scope.customers)}
    audit.record(
        store, by, "recall.create", uid, counts, f"{request.strategy} recall of {ref}: {request.reason}"
    )
    return _recall(uid, props, scope, None)


def _save(store: Store, uid: str, props: dict[str, Any]) -> None:
    """Write a recall read with :func:`_stored` and changed, unless someone changed it in between:
    two coordinators activating, changing or closing one recall at once must not both succeed, nor
    the later write drop the other's history entry."""
    version = props.get("version", 0)
    changed = {k: v for k, v in props.items() if k != "version"}
    if not store.run("recall_update", uid=uid, version=version, props=changed)[0]["written"]:
        raise Conflict(f"recall {uid} was changed by someone else meanwhile; read it again and retry")
    props["version"] = version + 1


def _stored(store: Store, uid: str) -> dict[str, Any]:
    rows = store.run("recall_get", uid=uid)
    if not rows:
        raise NotFound(RECORD, uid)
    return dict(rows[0]["props"])


def _frozen(props: dict[str, Any]) -> RecallScope | None:
    text = props.get("frozen")
    return RecallScope.model_validate_json(text) if text else None


def _recall(uid: str, props: dict[str, Any], scope: RecallScope | None, pending: Pending | None) -> Recall:
    window = None
    if props.get("window_from") is not None or props.get("window_to") is not None:
        window = {"from": iso(props.get("window_from")), "to": iso(props.get("window_to"))}
    return Recall(
        uid=uid,
        state=props["state"],
        source={"label": props["source_label"], "uid": props["source_uid"]},
        window=window,
        strategy=props["strategy"],
        regions=props.get("regions") or [],
        customers=props.get("customers") or [],
        reason=props["reason"],
        risk=props["risk"],
        safety=bool(props["safety"]),
        remedy=props["remedy"],
        instructions=props["instructions"],
        product=props["product"],
        level=props["level"],
        level_computed=props["level_computed"],
        level_reason=props.get("level_reason"),
        level_rule=props["level_rule"],
        owner=props["owner"],
        deadline=iso(props["deadline"]) or "",
        created_at=iso(props["created_at"]) or "",
        created_by=props["created_by"],
        history=_history(props),
        scope=scope,
        pending=pending,
    )


def _diff(frozen: RecallScope, now: RecallScope) -> Pending:
    def sets(scope: RecallScope) -> dict[str, set[str]]:
        return {
            "batches": {b.uid for b in scope.batches},
            "lots": {lot.uid for lot in scope.lots},
            "shipments": {s.uid for s in scope.shipments},
            "customers": {c.uid for c in scope.customers},
        }

    before, after = sets(frozen), sets(now)
    return Pending(
        added={k: sorted(after[k] - before[k]) for k in before},
        removed={k: sorted(before[k] - after[k]) for k in before},
    )


def get(store: Store, uid: str, with_pending: bool = True) -> Recall:
    """A recall; a draft with its live scope, an active one with its frozen scope and what data now
    adds to it or takes from it."""
    props = _stored(store, uid)
    if props["state"] == "draft":
        live = _live_scope(store, props)
        return _recall(uid, props | _frozen_props(props, live), live, None)
    frozen = _frozen(props)
    pending = None
    if props["state"] == "active" and with_pending and frozen is not None:
        pending = _diff(frozen, _live_scope(store, props))
    return _recall(uid, props, frozen, pending)


def scope(store: Store, uid: str) -> tuple[Recall, RecallScope]:
    """The recall and the scope it acts on (frozen once active), without the pending comparison."""
    found = get(store, uid, with_pending=False)
    assert found.scope is not None
    return found, found.scope


def listing(store: Store) -> list[RecallBrief]:
    return [
        RecallBrief(
            uid=row["uid"],
            state=row["state"],
            strategy=row["strategy"],
            level=row["level"],
            source=f"{row['source_label']}:{row['source_uid']}",
            owner=row["owner"],
            deadline=iso(row["deadline"]),
            created_at=iso(row["created_at"]),
            reason=row["reason"],
        )
        for row in store.run("recall_list")
    ]


def _require(props: dict[str, Any], uid: str, *states: State) -> None:
    if props["state"] not in states:
        raise Conflict(f"recall {uid} is {props['state']}; this needs it {' or '.join(states)}")


def _frozen_props(props: dict[str, Any], frozen: RecallScope) -> dict[str, Any]:
    """What freezing a scope stores: the scope, its batches (for the lookup), its products, and the
    level the scope now computes to (the level itself too, unless someone overrode it)."""
    level = frozen.response.level
    found = {"frozen": frozen.model_dump_json(), "batches": [b.uid for b in frozen.batches]}
    found |= {"product": _products(frozen), "level_computed": level, "level_rule": frozen.response.rule}
    if not props.get("level_reason"):
        found["level"] = level
    return found


def activate(store: Store, uid: str, by: str) -> Recall:
    """Freeze the scope; hold every affected batch's unshipped stock, and the lots at its source."""
    from lineage.recall.holds import place

    props = _stored(store, uid)
    _require(props, uid, "draft")
    frozen = _live_scope(store, props)
    held = place(store, uid, frozen, by)
    frozen_at = f"{len(frozen.batches)} batches, {len(frozen.customers)} customers"
    what = f"activated: scope frozen at {frozen_at}; {held.said()}"
    props |= _frozen_props(props, frozen) | {"state": "active", "activated_at": now_ms()}
    props["history"] = _change(props, by, what)
    _save(store, uid, props)
    counts = {"batches": len(frozen.batches), "customers": len(frozen.customers), "holds": len(held.placed)}
    audit.record(store, by, "recall.activate", uid, counts, what)
    return _recall(uid, props, frozen, Pending(added={}, removed={}))


def accept_pending(store: Store, uid: str, by: str) -> Recall:
    """Take what data now says into an active recall's scope: new batches go on hold."""
    from lineage.recall.holds import place

    props = _stored(store, uid)
    _require(props, uid, "active")
    frozen = _frozen(props)
    assert frozen is not None
    now = _live_scope(store, props)
    change = _diff(frozen, now)
    if change.empty:
        raise Conflict(f"recall {uid} has no pending change: its scope is what the data says")
    held = place(store, uid, now, by, only=set(change.added["batches"]), only_lots=set(change.added["lots"]))
    parts = [f"+{len(v)} {k}" for k, v in change.added.items() if v]
    parts += [f"-{len(v)} {k}" for k, v in change.removed.items() if v]
    what = f"scope widened or narrowed by data loaded since: {', '.join(parts)}; {held.said()}"
    props |= _frozen_props(props, now)
    props["history"] = _change(props, by, what)
    _save(store, uid, props)
    audit.record(store, by, "recall.accept_pending", uid, {"holds": len(held.placed)}, what)
    return _recall(uid, props, now, Pending(added={}, removed={}))


def check_deadline(deadline: int, force: bool) -> None:
    """A deadline already past is refused unless forced: it would make every customer overdue."""
    now = now_ms()
    if deadline <= now and not force:
        raise InvalidRequest(
            f"the deadline {iso(deadline)} is already past (now {iso(now)}): give a later one, or force it "
            "(--force, or force: true) to record a recall afterwards"
        )


def update(store: Store, uid: str, changes: RecallUpdate, by: str) -> Recall:
    """Change the owner, deadline, risk wording or level of a draft or active recall."""
    props = _stored(store, uid)
    _require(props, uid, "draft", "active")
    given = changes.model_dump(exclude_none=True, exclude={"force"})
    if "deadline" in given:
        check_deadline(given["deadline"], changes.force)
    if not given:
        raise InvalidRequest("nothing to change: give owner, deadline, risk or level (with level_reason)")
    said = []
    for name, value in given.items():
        if name == "level_reason":
            continue
        old = props.get(name)
        shown = (iso(old), iso(value)) if name == "deadline" else (old, value)
        said.append(f"{name} {shown[0]!r} -> {shown[1]!r}")
        props[name] = value
    if "level" in given:
        props["level_reason"] = given["level_reason"]
        said.append(f"because {given['level_reason']}")
    what = "changed " + "; ".join(said)
    props["history"] = _change(props, by, what)
    _save(store, uid, props)
    audit.record(store, by, "recall.update", uid, {}, what)
    return get(store, uid)


def close(store: Store, uid: str, by: str, note: str, still: list[str]) -> Recall:
    """Close an active recall, recording with the closing what is still open (``still``: holds,
    customers not notified or not done; :func:`lineage.recall.completion.close` finds them)."""
    if not note.strip():
        raise InvalidRequest("closing a recall needs a note: why it is done")
    props = _stored(store, uid)
    _require(props, uid, "active")
    what = f"closed: {note}" + (f" (open at closing: {'; '.join(still)})" if still else "")
    history = _change(props, by, what)
    props |= {"state": "closed", "closed_at": now_ms(), "close_note": note, "history": history}
    _save(store, uid, props)
    audit.record(store, by, "recall.close", uid, {"open_items": len(still)}, what)
    return _recall(uid, props, _frozen(props), None)
