"""Holds: stock that must not move while a recall is on.

Activating a recall holds every affected batch where some of it is: at the plant (with its stock
as :func:`lineage.recall.balance.plant_stock` counts it, or with no quantity when the records give none)
and at each customer of the recall still holding some of it. A batch the records leave none of at
the plant gets no hold there, and the activation says so; one held nowhere still ships no more
while the recall is active (``recall_unheld_batches``). It also holds the lots at the recall's
source (the recalled lot, or every lot of a recalled supplier), with what is left of them at their
last count, where their batches were made. While a batch has an active hold, a load or an ingest
that would ship it is refused; while a lot has one, so is a load that would have a new batch
consume it (a use recorded late, by a batch that started before the hold, still loads); each
refusal names the hold and the recall
(:func:`lineage.loading.checks.check_holds`). Releasing a hold needs a reason, and is recorded on
the hold and in the audit log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from lineage.errors import Conflict, InvalidRequest, NotFound
from lineage.graph import audit
from lineage.graph.model import iso, now_ms
from lineage.graph.store import Store

RECORD = "Hold"


class Hold(BaseModel):
    """A hold on a batch's stock at one location, or on a material lot's (``batch`` is then null)."""

    uid: str
    recall: str
    batch: str | None = Field(None, description="the batch held; null for a lot's hold")
    lot: str | None = Field(None, description="the material lot held: no new batch may consume it")
    location: str = Field(description="the plant site, or the customer holding the stock")
    holder: Literal["plant", "customer"]
    region: str | None = None
    quantity: float | None = Field(
        None, description="unshipped stock when placed; null: the records give none"
    )
    unit: str | None = None
    status: Literal["active", "released"]
    placed_at: str
    placed_by: str
    released_at: str | None = None
    released_by: str | None = None
    release_reason: str | None = None

    @property
    def held(self) -> str:
        return f"batch {self.batch}" if self.batch is not None else f"lot {self.lot}"


def _uid(recall: str, row: dict[str, Any]) -> str:
    held = row["batch"] if "batch" in row else f"MaterialLot\x1f{row['lot']}"
    key = "\x1f".join((recall, held, row["location"])).encode()
    return "H-" + hashlib.sha256(key).hexdigest()[:12].upper()


def _hold(props: dict[str, Any]) -> Hold:
    times = {k: iso(props.get(k)) for k in ("placed_at", "released_at")}
    return Hold.model_validate({**props, **times})


@dataclass(frozen=True)
class Holding:
    """What activating (or widening) a recall held, and where the records leave nothing to hold."""

    placed: list[Hold]
    #: "B-3001 at Hamar": batches whose records leave none of them at the plant; not held there
    #: (there is nothing to hold), while the recall keeps any new shipment of them from loading.
    nothing_left: list[str]

    def said(self) -> str:
        empty = f"; nothing left at the plant of {', '.join(self.nothing_left)}" if self.nothing_left else ""
        return f"{len(self.placed)} holds placed{empty}"


def place(
    store: Store,
    recall: str,
    scope: Any,
    by: str,
    only: set[str] | None = None,
    only_lots: set[str] | None = None,
) -> Holding:
    """Hold the stock of ``scope``'s batches and source lots (a :class:`lineage.recall.recalls.RecallScope`),
    or of the ``only`` batches and ``only_lots`` lots among them, where the stock is: at the plant
    and at customers. A batch that records no quantity is held at its site all the same (what is
    left cannot be known), and so is a lot with no count; where the records leave nothing, no hold
    is placed, and the answer says so."""
    now = now_ms()
    rows: list[dict[str, Any]] = []
    at_plant = set()
    site = {b.uid: b.site or "plant" for b in scope.batches}
    made = {b.uid: b for b in scope.batches}
    for stock in scope.stock:
        if (only is not None and stock.batch not in only) or stock.quantity <= 0:
            continue
        if stock.holder == "plant":
            at_plant.add(stock.batch)
        fields = ("batch", "location", "holder", "region", "quantity", "unit")
        rows.append({name: getattr(stock, name) for name in fields})
    nothing_left = []
    for batch in sorted(site):
        if (only is None or batch in only) and batch not in at_plant:
            b = made[batch]
            if b.quantity is not None:
                nothing_left.append(f"{batch} at {site[batch]}")
                continue
            row = {
                "batch": batch,
                "location": site[batch],
                "holder": "plant",
                "quantity": None,
                "unit": b.unit,
            }
            rows.append(row)
    sites = {b.site for b in scope.batches if b.site}
    lot_site = sites.pop() if len(sites) == 1 else "plant"  # where its batches were made, if one place
    for lot in scope.lots:
        if only_lots is None or lot.uid in only_lots:
            rows.append(
                {
                    "lot": lot.uid,
                    "location": lot_site,
                    "holder": "plant",
                    "quantity": lot.on_hand,
                    "unit": lot.unit,
                }
            )
    written = []
    for row in rows:
        props = {k: v for k, v in row.items() if v is not None}
        props |= {"recall": recall, "status": "active", "placed_at": now, "placed_by": by}
        written.append({"uid": _uid(recall, row), "props": props})
    placed = [_hold({"uid": w["uid"], **w["props"]}) for w in written]
    if written:
        store.run("hold_write", rows=written)
        held = sorted({h.held for h in placed})
        shown = ", ".join(held[:20]) + (f" and {len(held) - 20} more" if len(held) > 20 else "")
        batches, lots = {h.batch for h in placed if h.batch}, {h.lot for h in placed if h.lot}
        counts = {"holds": len(written), "batches": len(batches), "lots": len(lots)}
        audit.record(store, by, "hold.place", recall, counts, shown)
    return Holding(placed, nothing_left)


def holds(store: Store, recall: str | None = None) -> list[Hold]:
    return [_hold(row["props"]) for row in store.run("hold_list", recall=recall)]


def release(store: Store, uid: str, by: str, reason: str) -> Hold:
    """Release one hold: the stock may move again (once no other hold keeps its batch or lot)."""
    if not reason.strip():
        raise InvalidRequest("releasing a hold needs a reason: destroyed, cleared by testing, ...")
    rows = store.run("hold_get", uid=uid)
    if not rows:
        raise NotFound(RECORD, uid)
    props = dict(rows[0]["props"])
    if props["status"] != "active":
        raise Conflict(f"hold {uid} was already released by {props.get('released_by')}")
    props |= {"status": "released", "released_at": now_ms()}
    props |= {"released_by": by, "release_reason": reason}
    store.run("hold_write", rows=[{"uid": uid, "props": props}])
    released = _hold(props)
    detail = f"{released.held} at {released.location} (recall {released.recall}): {reason}"
    audit.record(store, by, "hold.release", uid, {}, detail)
    return released
