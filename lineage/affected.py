"""The answer a recall coordinator needs first: who and what a lot (or any forward source) reached.

Built from one forward scope: the affected batches, the shipments that carried them, the customers
they reached grouped by region with their contact fields, what was sold, the stock still on hand at
the plant and at each customer, and a suggested response level from the number of regions reached.

Stock on hand is a balance of recorded quantities, per batch and unit: at the plant, produced minus
shipped out minus consumed into other batches; at a customer, received minus re-shipped minus sold.
A balance below zero means the records do not add up; it is reported as it is, not hidden.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, Field

from lineage.config import Settings
from lineage.model import Label, NodeRef, RelType, iso, readable
from lineage.scope import Scope, Window, forward
from lineage.store import Store

ResponseLevel = Literal["national", "regional", "local", "none"]
L = Label


class Amount(BaseModel):
    quantity: float
    unit: str = ""


class BatchLine(Amount):
    """A quantity of one batch (in a shipment, a sale, a stock)."""

    batch: str


class AffectedBatch(BaseModel):
    uid: str
    product: str | None = None
    sku: str | None = None
    batch_type: str | None = None
    quantity: float | None = None
    unit: str | None = None
    site: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    depth: int = Field(description="relationships between the source and this batch")


class AffectedShipment(BaseModel):
    uid: str
    shipped_at: str | None = None
    delivered_at: str | None = None
    carrier: str | None = None
    document: str | None = None
    origin: str | None = Field(None, description="the distributor that re-shipped it; null: the plant")
    customer: str | None = None
    lines: list[BatchLine]


class AffectedCustomer(BaseModel):
    uid: str
    name: str | None = None
    customer_type: str | None = None
    region: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    received: list[BatchLine]
    sold: list[BatchLine]


class RegionGroup(BaseModel):
    """Customers of one region; its totals do not count re-shipped quantities twice."""

    region: str
    customers: list[AffectedCustomer]
    sold: list[Amount]
    on_hand: list[Amount]


class StockOnHand(BatchLine):
    location: str = Field(description="the plant site, or the customer holding it")
    holder: Literal["plant", "customer"]
    region: str | None = None


class Response(BaseModel):
    level: ResponseLevel
    regions_reached: int
    rule: str


class Affected(BaseModel):
    source: dict[str, str]
    window: dict[str, str | None] | None = None
    properties: dict[str, Any] = Field(description="the source's stored properties")
    counts: dict[str, int]
    batches: list[AffectedBatch]
    shipments: list[AffectedShipment]
    regions: list[RegionGroup]
    sold: list[Amount]
    stock_on_hand: list[StockOnHand]
    response: Response
    elapsed_ms: float


_CONTACT_FIELDS = ("name", "customer_type", "contact_name", "contact_email", "contact_phone", "address")
_BATCH_FIELDS = ("product", "sku", "batch_type", "quantity", "unit", "site", "started_at", "ended_at")
_SHIPMENT_FIELDS = ("shipped_at", "delivered_at", "carrier", "document")


def _picked(properties: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named stored properties (None where absent), times as ISO-8601."""
    return readable({name: properties.get(name) for name in names})


def response_level(regions: int, settings: Settings) -> Response:
    """Suggested response level by how many regions the product reached (thresholds in settings)."""
    national, regional = settings.response_national_regions, settings.response_regional_regions
    if regions >= national:
        level: ResponseLevel = "national"
    elif regions >= regional:
        level = "regional"
    elif regions >= 1:
        level = "local"
    else:
        level = "none"
    rule = (
        f"national from {national} regions, regional from {regional}, local below; "
        f"{regions} reached (LINEAGE_RESPONSE_NATIONAL_REGIONS, LINEAGE_RESPONSE_REGIONAL_REGIONS)"
    )
    return Response(level=level, regions_reached=regions, rule=rule)


def affected(store: Store, source: NodeRef, window: Window | None = None) -> Affected:
    """Who and what ``source`` reached, ready for a coordinator (see the module docstring)."""
    scope = forward(store, source, window, properties=(L.BATCH, L.SHIPMENT, L.CUSTOMER))  # what it shows
    return summarise(scope, store.settings)


Row = dict[str, Any]


def _lines(totals: dict[tuple[str, str], float]) -> list[Row]:
    return [{"batch": batch, "unit": unit, "quantity": q} for (batch, unit), q in sorted(totals.items())]


def _amounts(lines: list[Row]) -> list[Row]:
    """Quantities of ``lines`` added up by unit."""
    totals: dict[str, float] = defaultdict(float)
    for line in lines:
        totals[line["unit"]] += line["quantity"]
    return [{"quantity": q, "unit": u} for u, q in sorted(totals.items())]


def summarise(scope: Scope, settings: Settings) -> Affected:
    props = {n.ref: n.properties for n in scope.nodes}

    dispatched_by: dict[str, str] = {}
    delivered_to: dict[str, str] = {}
    seller: dict[str, str] = {}
    for e in scope.edges:
        if e.type == RelType.DISPATCHED:
            dispatched_by[e.target.uid] = e.source.uid
        elif e.type == RelType.DELIVERED_TO:
            delivered_to[e.source.uid] = e.target.uid
        elif e.type == RelType.SOLD:
            seller[e.target.uid] = e.source.uid

    shipment_lines: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    received: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    sold: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    out_of_batch: dict[tuple[str, str], float] = defaultdict(float)  # shipped from the plant, consumed
    held: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    for e in scope.edges:
        if e.quantity is None:
            continue
        key = (e.source.uid, e.unit or "")
        if e.type == RelType.SHIPPED_IN:
            shipment = e.target.uid
            shipment_lines[shipment][key] += e.quantity
            if shipment in delivered_to:
                received[delivered_to[shipment]][key] += e.quantity
                held[delivered_to[shipment]][key] += e.quantity
            if shipment in dispatched_by:
                held[dispatched_by[shipment]][key] -= e.quantity
            else:
                out_of_batch[key] += e.quantity
        elif e.type == RelType.CONSUMED_BY and e.source.label == L.BATCH:
            out_of_batch[key] += e.quantity
        elif e.type == RelType.SOLD_IN:
            customer = seller.get(e.target.uid)
            if customer is not None:
                sold[customer][key] += e.quantity
                held[customer][key] -= e.quantity

    # Plain rows, validated into the answer once at the end: a typical lot makes some 400 of them,
    # and one validation of the whole is a fraction of the cost of 400 model constructors.
    batches = [
        {"uid": n.uid, "depth": n.depth, **_picked(n.properties, _BATCH_FIELDS)}
        for n in sorted(scope.nodes, key=lambda n: (n.depth, n.uid))
        if n.label == L.BATCH
    ]
    shipments = [
        {
            "uid": uid,
            **_picked(props.get(NodeRef(L.SHIPMENT, uid), {}), _SHIPMENT_FIELDS),
            "origin": dispatched_by.get(uid),
            "customer": delivered_to.get(uid),
            "lines": _lines(lines),
        }
        for uid, lines in sorted(shipment_lines.items())
    ]

    customers: dict[str, list[Row]] = defaultdict(list)
    for n in sorted(scope.nodes, key=lambda n: n.uid):
        if n.label != L.CUSTOMER or n.depth == 0:
            continue
        region = str(n.properties.get("region", "unknown"))
        customers[region].append(
            {
                "uid": n.uid,
                "region": region,
                "received": _lines(received.get(n.uid, {})),
                "sold": _lines(sold.get(n.uid, {})),
                **_picked(n.properties, _CONTACT_FIELDS),
            }
        )
    regions = [
        {
            "region": region,
            "customers": members,
            "sold": _amounts([line for c in members for line in c["sold"]]),
            "on_hand": _amounts([line for c in members for line in _lines(held.get(c["uid"], {}))]),
        }
        for region, members in sorted(customers.items())
    ]

    stock: list[Row] = []
    for b in batches:
        quantity = b["quantity"]
        if quantity is None:
            continue
        unit = b["unit"] or ""
        left = quantity - out_of_batch.get((b["uid"], unit), 0.0)
        if left:
            location = b["site"] or "plant"
            stock.append(
                {"batch": b["uid"], "quantity": left, "unit": unit, "location": location, "holder": "plant"}
            )
    region_of = {c["uid"]: group["region"] for group in regions for c in group["customers"]}
    for customer, balance in sorted(held.items()):
        for (batch, unit), left in sorted(balance.items()):
            if left:
                stock.append(
                    {
                        "batch": batch,
                        "quantity": left,
                        "unit": unit,
                        "location": customer,
                        "holder": "customer",
                        "region": region_of.get(customer),
                    }
                )

    return Affected.model_validate(
        {
            "source": {"label": scope.source.label.value, "uid": scope.source.uid},
            "window": {"from": iso(scope.window.start), "to": iso(scope.window.end)}
            if scope.window
            else None,
            "properties": readable(props.get(scope.source, {})),
            "counts": scope.counts(),
            "batches": batches,
            "shipments": shipments,
            "regions": regions,
            "sold": _amounts([line for lines in sold.values() for line in _lines(lines)]),
            "stock_on_hand": stock,
            "response": response_level(len(regions), settings),
            "elapsed_ms": round(scope.elapsed_ms, 3),
        }
    )
