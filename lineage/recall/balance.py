"""Mass balance: where every kilogram of a lot and every unit of a batch went, record by record.

For a lot: received = consumed into batches + still in stock + scrapped + unaccounted. For a batch:
produced = shipped from the plant + consumed into other batches + on hand + scrapped + unaccounted.
"Still in stock" and "scrapped" are what the lot's or batch's own record says (``on_hand`` with
``counted_at``, ``scrapped`` with ``scrap_document``); the rest are relationships, each listed with
its record (the batch, the shipment and its document, the evidence). Unaccounted is what is left:
the number a mock-recall drill exists to find. It is reported as it is, negative when more went out
than came in (a record is wrong), and an outflow recorded in another unit is listed, not added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from lineage.errors import NotFound
from lineage.graph.model import Label, NodeRef, iso
from lineage.graph.scope import fetch_properties
from lineage.graph.store import Store

#: A remainder smaller than this (in the record's unit) is rounding, not a loss.
TOLERANCE = 1e-6


def plant_stock(
    produced: float | None, out: float, on_hand: float | None, scrapped: float | None
) -> float | None:
    """A batch's stock still at the plant, as every answer shows it (affected, holds, recalls): the
    count on its record (``on_hand``) when there is one, as the mass balance's "in stock" term; else
    what its records leave, produced less what went out (shipped from the plant, consumed) and less
    what was scrapped, which is the balance's unaccounted remainder. None: nothing to count from."""
    if on_hand is not None:
        return float(on_hand)
    if produced is None:
        return None
    return max(float(produced) - out - float(scrapped or 0.0), 0.0)


class Entry(BaseModel):
    """One record behind a term of a balance."""

    record: str = Field(description="what it is: consumed by, shipment, stock count, scrap")
    ref: str = Field(description="the batch, shipment or document the record names")
    quantity: float | None
    unit: str | None = None
    at: str | None = None
    evidence: str | None = None


class Term(BaseModel):
    name: str
    quantity: float
    entries: list[Entry]


class Balance(BaseModel):
    label: str
    uid: str
    description: str | None = None
    unit: str | None
    start_name: str = Field(description="received (a lot) or produced (a batch)")
    start: float | None = Field(description="null: the record gives no quantity to balance against")
    terms: list[Term]
    unaccounted: float | None
    balanced: bool = Field(description="nothing unaccounted (within rounding)")
    other_units: list[Entry] = Field(description="records in another unit than the start's: not added")
    notes: list[str]


class MassBalance(BaseModel):
    lot: Balance
    batches: list[Balance]
    unbalanced: list[str] = Field(description="lot and batches with something unaccounted or unknown")


def _entries(rows: Iterable[dict[str, Any]], record: str, ref: str, evidence: str) -> list[Entry]:
    return [
        Entry(
            record=record,
            ref=row[ref],
            quantity=row["quantity"],
            unit=row["unit"],
            at=iso(row["at"]),
            evidence=row.get(evidence),
        )
        for row in rows
    ]


def _balance(
    ref: NodeRef, props: dict[str, Any], start_name: str, outflows: list[tuple[str, list[Entry]]]
) -> Balance:
    unit = props.get("unit")
    start = props.get("quantity")
    notes: list[str] = []
    terms: list[Term] = []
    other: list[Entry] = []
    for name, entries in outflows:
        same = [e for e in entries if e.unit in (unit, None) and e.quantity is not None]
        other += [e for e in entries if e not in same]
        terms.append(Term(name=name, quantity=sum(e.quantity or 0.0 for e in same), entries=same))
    if props.get("on_hand") is not None:
        count = Entry(
            record="stock count",
            ref=ref.uid,
            quantity=props["on_hand"],
            unit=unit,
            at=iso(props.get("counted_at")),
        )
        terms.append(Term(name="in stock", quantity=props["on_hand"], entries=[count]))
    else:
        notes.append("no stock count on record (on_hand): whatever is still in stock is in the remainder")
    scrapped = props.get("scrapped")
    scrap = [Entry(record="scrap", ref=props.get("scrap_document") or ref.uid, quantity=scrapped, unit=unit)]
    terms.append(Term(name="scrapped", quantity=scrapped or 0.0, entries=scrap if scrapped else []))
    if other:
        notes.append(f"{len(other)} record(s) in another unit than {unit!r} are listed, not added")
    unaccounted = None
    if start is None:
        notes.append(f"the {ref.label.value} records no quantity: nothing to balance against")
    else:
        unaccounted = round(start - sum(t.quantity for t in terms), 9)
        if unaccounted < -TOLERANCE:
            notes.append(
                f"{-unaccounted:g} {unit or ''} more went out than was {start_name}: a record is wrong"
            )
    balanced = unaccounted is not None and abs(unaccounted) <= TOLERANCE and not other
    description = props.get("material") or props.get("product")
    return Balance(
        label=ref.label.value,
        uid=ref.uid,
        description=description,
        unit=unit,
        start_name=start_name,
        start=start,
        terms=terms,
        unaccounted=unaccounted,
        balanced=balanced,
        other_units=other,
        notes=notes,
    )


def lot_balance(store: Store, lot: str) -> Balance:
    ref = NodeRef(Label.MATERIAL_LOT, lot)
    props = fetch_properties(store, [ref]).get(ref)
    if props is None:
        raise NotFound(Label.MATERIAL_LOT.value, lot)
    uses = _entries(store.run("balance_lot_uses", uid=lot), "consumed by", "batch", "evidence")
    return _balance(ref, props, "received", [("consumed into batches", uses)])


def batch_balances(store: Store, batches: Iterable[str]) -> list[Balance]:
    uids = sorted(set(batches))
    refs = [NodeRef(Label.BATCH, uid) for uid in uids]
    props = fetch_properties(store, refs)
    shipped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    consumed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.run("balance_batch_shipments", uids=uids):
        shipped[row["batch"]].append(row)
    for row in store.run("balance_batch_consumers", uids=uids):
        consumed[row["batch"]].append(row)
    found = []
    for ref in refs:
        if ref not in props:
            raise NotFound(Label.BATCH.value, ref.uid)
        outflows = [
            ("shipped from the plant", _entries(shipped[ref.uid], "shipment", "shipment", "document")),
            ("consumed into batches", _entries(consumed[ref.uid], "consumed by", "consumer", "evidence")),
        ]
        found.append(_balance(ref, props[ref], "produced", outflows))
    return found


def mass_balance(store: Store, lot: str, batches: Iterable[str]) -> MassBalance:
    """The lot's balance and each of ``batches``' (the lot's affected batches, for a drill)."""
    lot_part = lot_balance(store, lot)
    batch_part = batch_balances(store, batches)
    unbalanced = [f"{b.label}:{b.uid}" for b in [lot_part, *batch_part] if not b.balanced]
    return MassBalance(lot=lot_part, batches=batch_part, unbalanced=unbalanced)
