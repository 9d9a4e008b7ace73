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
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from lineage.config import Settings
from lineage.graph.gcpause import gc_paused
from lineage.graph.model import Label, NodeRef, RelType, iso, readable
from lineage.graph.scope import Scope, ScopeNode, Window, forward
from lineage.graph.store import Store
from lineage.recall.balance import plant_stock

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
    scrapped: float | None = Field(
        None, description="at the plant: what the batch's record says was scrapped, apart from the stock"
    )
    counted_at: str | None = Field(
        None, description="at the plant: when the stock was counted; null: what the records leave"
    )


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


_CUSTOMER_FIELDS = ("name", "customer_type")
_CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "address")
_BATCH_FIELDS = ("product", "sku", "batch_type", "quantity", "unit", "site", "started_at", "ended_at")
_SHIPMENT_FIELDS = ("shipped_at", "delivered_at", "carrier", "document")


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
    return Affected.model_validate(affected_rows(store, source, window))


def affected_rows(store: Store, source: NodeRef, window: Window | None = None) -> Row:
    """The same answer as plain rows in :class:`Affected`'s shape, for a caller that only sends it
    on as JSON: the API's busiest route spent a fifth of its time validating rows this module had
    just built (``tests/test_plain_answers.py`` holds the two to the same answer)."""
    with gc_paused():
        scope = forward(store, source, window, properties=(L.BATCH, L.SHIPMENT, L.CUSTOMER))  # what it shows
        return summarise(scope, store.settings)


Row = dict[str, Any]


def _picked(properties: dict[str, Any], names: tuple[str, ...]) -> Row:
    """The named stored properties (None where absent), times as ISO-8601, a quantity as the
    model's float."""
    row = readable({name: properties.get(name) for name in names})
    if row.get("quantity") is not None:
        row["quantity"] = float(row["quantity"])
    return row


def _lines(totals: dict[tuple[str, str], float]) -> list[Row]:
    if not totals:
        return []
    return [{"quantity": q, "unit": unit, "batch": batch} for (batch, unit), q in sorted(totals.items())]


def _amounts(lines: list[Row]) -> list[Row]:
    """Quantities of ``lines`` added up by unit."""
    return _by_unit((line["unit"], line["quantity"]) for line in lines)


def _summed(balances: Iterable[dict[tuple[str, str], float]]) -> list[Row]:
    """Balances by (batch, unit) added up by unit, each balance's batches in order, as listed."""
    return _by_unit(
        (unit, quantity) for balance in balances for (_, unit), quantity in sorted(balance.items())
    )


def _by_unit(quantities: Iterable[tuple[str, float]]) -> list[Row]:
    totals: dict[str, float] = defaultdict(float)
    for unit, quantity in quantities:
        totals[unit] += quantity
    return [{"quantity": q, "unit": u} for u, q in sorted(totals.items())]


def _balances() -> defaultdict[str, defaultdict[tuple[str, str], float]]:
    return defaultdict(lambda: defaultdict(float))


def summarise(scope: Scope, settings: Settings) -> Row:
    """The answer as plain rows in :class:`Affected`'s shape, from a forward scope with the
    properties of batches, shipments and customers."""
    source = scope.source
    source_props: dict[str, Any] = {}
    batch_nodes, customer_nodes, shipment_props = [], [], {}
    batch_props: dict[str, Row] = {}
    for n in scope.nodes:  # by depth
        label = n.label
        if label == L.BATCH:
            batch_nodes.append(n)
            batch_props[n.uid] = n.properties
        elif label == L.SHIPMENT:
            shipment_props[n.uid] = n.properties
        elif label == L.CUSTOMER and n.depth:
            customer_nodes.append(n)
        if n.depth == 0 and label == source.label and n.uid == source.uid:
            source_props = n.properties

    dispatched_by: dict[str, str] = {}
    delivered_to: dict[str, str] = {}
    seller: dict[str, str] = {}
    flows = []
    for e in scope.edges:
        kind = e.type
        if kind == _DISPATCHED:
            dispatched_by[e.target.uid] = e.source.uid
        elif kind == _DELIVERED_TO:
            delivered_to[e.source.uid] = e.target.uid
        elif kind == _SOLD:
            seller[e.target.uid] = e.source.uid
        elif e.quantity is not None and kind in _FLOWS:
            flows.append(e)

    shipment_lines = _balances()
    received = _balances()
    sold = _balances()
    out_of_batch: dict[tuple[str, str], float] = defaultdict(float)  # shipped from the plant, consumed
    held = _balances()
    for e in flows:
        key = (e.source.uid, e.unit or "")
        quantity = e.quantity
        if e.type == _SHIPPED_IN:
            shipment = e.target.uid
            shipment_lines[shipment][key] += quantity
            customer = delivered_to.get(shipment)
            if customer is not None:
                received[customer][key] += quantity
                held[customer][key] += quantity
            origin = dispatched_by.get(shipment)
            if origin is not None:
                held[origin][key] -= quantity
            else:
                out_of_batch[key] += quantity
        elif e.type == _CONSUMED_BY:
            if e.source.label == _BATCH:
                out_of_batch[key] += quantity
        else:  # SOLD_IN
            customer = seller.get(e.target.uid)
            if customer is not None:
                sold[customer][key] += quantity
                held[customer][key] -= quantity

    batch_nodes.sort(key=_by_depth_then_uid)
    batches = [{"uid": n.uid, **_picked(n.properties, _BATCH_FIELDS), "depth": n.depth} for n in batch_nodes]
    shipments = [
        {
            "uid": uid,
            **_picked(shipment_props.get(uid, _NONE), _SHIPMENT_FIELDS),
            "origin": dispatched_by.get(uid),
            "customer": delivered_to.get(uid),
            "lines": _lines(lines),
        }
        for uid, lines in sorted(shipment_lines.items())
    ]

    customers: dict[str, list[Row]] = defaultdict(list)
    customer_nodes.sort(key=_by_uid)
    for n in customer_nodes:
        region = str(n.properties.get("region", "unknown"))
        customers[region].append(
            {
                "uid": n.uid,
                **_picked(n.properties, _CUSTOMER_FIELDS),
                "region": region,
                **_picked(n.properties, _CONTACT_FIELDS),
                "received": _lines(received.get(n.uid, _NONE)),
                "sold": _lines(sold.get(n.uid, _NONE)),
            }
        )
    regions = [
        {
            "region": region,
            "customers": members,
            "sold": _amounts([line for c in members for line in c["sold"]]),
            "on_hand": _summed(held[c["uid"]] for c in members if c["uid"] in held),
        }
        for region, members in sorted(customers.items())
    ]

    stock: list[Row] = []
    for b in batches:
        props = batch_props[b["uid"]]
        unit = b["unit"] or ""
        out = out_of_batch.get((b["uid"], unit), 0.0)
        left = plant_stock(b["quantity"], out, props.get("on_hand"), props.get("scrapped"))
        if left is None:
            continue
        scrapped = props.get("scrapped")
        if left or scrapped:
            stock.append(
                {
                    "quantity": left,
                    "unit": unit,
                    "batch": b["uid"],
                    "location": b["site"] or "plant",
                    "holder": "plant",
                    "region": None,
                    "scrapped": float(scrapped) if scrapped is not None else None,
                    "counted_at": iso(props.get("counted_at")) if props.get("on_hand") is not None else None,
                }
            )
    region_of = {c["uid"]: group["region"] for group in regions for c in group["customers"]}
    for customer, balance in sorted(held.items()):
        for (batch, unit), left in sorted(balance.items()):
            if left:
                stock.append(
                    {
                        "quantity": left,
                        "unit": unit,
                        "batch": batch,
                        "location": customer,
                        "holder": "customer",
                        "region": region_of.get(customer),
                        "scrapped": None,
                        "counted_at": None,
                    }
                )

    return {
        "source": {"label": source.label.value, "uid": source.uid},
        "window": {"from": iso(scope.window.start), "to": iso(scope.window.end)} if scope.window else None,
        "properties": readable(source_props),
        "counts": scope.counts(),
        "batches": batches,
        "shipments": shipments,
        "regions": regions,
        "sold": _summed(sold.values()),
        "stock_on_hand": stock,
        "response": response_level(len(regions), settings).model_dump(),
        "elapsed_ms": round(scope.elapsed_ms, 3),
    }


_FLOWS = frozenset({RelType.SHIPPED_IN, RelType.CONSUMED_BY, RelType.SOLD_IN})
# Plain names for the members the loops compare with: an enum member looked up on its class costs
# a descriptor call each time (Python 3.11).
_DISPATCHED, _DELIVERED_TO, _SOLD = RelType.DISPATCHED, RelType.DELIVERED_TO, RelType.SOLD
_SHIPPED_IN, _CONSUMED_BY, _BATCH = RelType.SHIPPED_IN, RelType.CONSUMED_BY, Label.BATCH
_NONE: dict[Any, Any] = {}


def _by_depth_then_uid(n: ScopeNode) -> tuple[int, str]:
    return n.depth, n.uid


def _by_uid(n: ScopeNode) -> str:
    return n.uid
