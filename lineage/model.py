"""The lineage model: node labels, relationship types, and the records that describe them.

This module is the allowlist: a label or relationship type that is not here can never reach a query.
Records are pydantic models, one per node label and one per relationship type, validated before
anything is written. Times are stored as epoch milliseconds (UTC) because FalkorDB cannot return
temporal values (see docs/model.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)


class Label(StrEnum):
    SUPPLIER = "Supplier"
    MATERIAL_LOT = "MaterialLot"
    MACHINE = "Machine"
    OPERATOR = "Operator"
    BATCH = "Batch"
    INSPECTION = "Inspection"
    SHIPMENT = "Shipment"
    CUSTOMER = "Customer"
    SALE = "Sale"
    COMPLAINT = "Complaint"


class RelType(StrEnum):
    SUPPLIED = "SUPPLIED"
    CONSUMED_BY = "CONSUMED_BY"
    RAN_ON = "RAN_ON"
    HANDLED_BY = "HANDLED_BY"
    INSPECTED = "INSPECTED"
    SHIPPED_IN = "SHIPPED_IN"
    DISPATCHED = "DISPATCHED"
    DELIVERED_TO = "DELIVERED_TO"
    SOLD_IN = "SOLD_IN"
    SOLD = "SOLD"
    ABOUT = "ABOUT"
    REPORTED_BY = "REPORTED_BY"


L = Label
#: Which labels each relationship type may join, as (from, to) pairs. Each pair has its own upsert
#: query file in cypher/load/, because labels cannot be query parameters.
REL_ENDPOINTS: dict[RelType, tuple[tuple[Label, Label], ...]] = {
    RelType.SUPPLIED: ((L.SUPPLIER, L.MATERIAL_LOT),),
    RelType.CONSUMED_BY: ((L.MATERIAL_LOT, L.BATCH), (L.BATCH, L.BATCH)),
    RelType.RAN_ON: ((L.BATCH, L.MACHINE),),
    RelType.HANDLED_BY: ((L.BATCH, L.OPERATOR),),
    RelType.INSPECTED: ((L.INSPECTION, L.BATCH), (L.INSPECTION, L.MATERIAL_LOT)),
    RelType.SHIPPED_IN: ((L.BATCH, L.SHIPMENT),),
    RelType.DISPATCHED: ((L.CUSTOMER, L.SHIPMENT),),
    RelType.DELIVERED_TO: ((L.SHIPMENT, L.CUSTOMER),),
    RelType.SOLD_IN: ((L.BATCH, L.SALE),),
    RelType.SOLD: ((L.CUSTOMER, L.SALE),),
    RelType.ABOUT: ((L.COMPLAINT, L.BATCH), (L.COMPLAINT, L.SALE)),
    RelType.REPORTED_BY: ((L.COMPLAINT, L.CUSTOMER),),
}

#: Short names used in query file names, e.g. ``load_rel_consumed_by__lot__batch``.
LABEL_SLUG: dict[Label, str] = {
    L.SUPPLIER: "supplier",
    L.MATERIAL_LOT: "lot",
    L.MACHINE: "machine",
    L.OPERATOR: "operator",
    L.BATCH: "batch",
    L.INSPECTION: "inspection",
    L.SHIPMENT: "shipment",
    L.CUSTOMER: "customer",
    L.SALE: "sale",
    L.COMPLAINT: "complaint",
}


def node_query_name(label: Label) -> str:
    return f"load_node_{LABEL_SLUG[label]}"


def rel_query_name(rel: RelType, src: Label, dst: Label) -> str:
    return f"load_rel_{rel.value.lower()}__{LABEL_SLUG[src]}__{LABEL_SLUG[dst]}"


def parse_label(text: str) -> Label:
    """Accept a label in any case (``batch``, ``Batch``, ``MaterialLot``, ``lot``) or fail clearly."""
    lowered = text.strip().lower()
    for label in Label:
        if lowered in (label.value.lower(), LABEL_SLUG[label]):
            return label
    raise ValueError(f"unknown kind {text!r}; expected one of {', '.join(Label)}")


# --- value types -------------------------------------------------------------------------------


def to_epoch_ms(value: Any) -> Any:
    """Times arrive as ISO-8601 text, dates, or epoch milliseconds; they are stored as epoch ms.

    A time without a zone is taken as UTC, so the same record always stores the same number.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO-8601 time (e.g. 2026-03-01T10:00:00Z) nor epoch milliseconds"
            ) from None
    else:
        return value  # let the int validator name the type error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds back to ISO-8601 UTC text for people."""
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


EpochMs = Annotated[int, BeforeValidator(to_epoch_ms)]
Uid = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[str, Field(max_length=4096, pattern=r"^[^\x00]*$")]  # NUL ends text in the bulk format
Quantity = Annotated[float, Field(ge=0)]
Unit = Annotated[str, Field(min_length=1, max_length=32)]


class _Record(BaseModel):
    """Strict about names (a misspelt field is an error, not a silently dropped value)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, coerce_numbers_to_str=True
    )

    def properties(self) -> dict[str, Any]:
        """What is stored on the node or relationship: every field given, less the addressing.

        Read from ``__dict__`` rather than ``model_dump``: the values are already plain scalars,
        and this runs once per record of a load.
        """
        return {k: v for k, v in self.__dict__.items() if v is not None and k not in _ADDRESSING}


_ADDRESSING = {"kind", "uid", "from_", "to", "from_label", "to_label"}


# --- nodes --------------------------------------------------------------------------------------


class _Node(_Record):
    uid: Uid
    name: Text | None = None


class SupplierRecord(_Node):
    kind: Literal["Supplier"]
    country: Text | None = None
    contact_email: Text | None = None


class MaterialLotRecord(_Node):
    kind: Literal["MaterialLot"]
    material: Text
    quantity: Quantity | None = None
    unit: Unit | None = None
    received_at: EpochMs | None = None
    expires_at: EpochMs | None = None


class MachineRecord(_Node):
    kind: Literal["Machine"]
    line: Text | None = None
    site: Text | None = None


class OperatorRecord(_Node):
    kind: Literal["Operator"]
    shift: Text | None = None


class BatchRecord(_Node):
    kind: Literal["Batch"]
    product: Text
    sku: Text | None = None
    batch_type: Literal["production", "intermediate", "rework"] = "production"
    quantity: Quantity | None = None
    unit: Unit | None = None
    started_at: EpochMs | None = None
    ended_at: EpochMs | None = None
    site: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> BatchRecord:
        _check_window(self.started_at, self.ended_at, "started_at", "ended_at")
        return self


class InspectionRecord(_Node):
    kind: Literal["Inspection"]
    inspection_type: Text | None = None
    result: Literal["pass", "fail", "conditional"]
    inspected_at: EpochMs | None = None
    notes: Text | None = None


class ShipmentRecord(_Node):
    kind: Literal["Shipment"]
    shipped_at: EpochMs | None = None
    delivered_at: EpochMs | None = None
    carrier: Text | None = None
    document: Text | None = None


class CustomerRecord(_Node):
    kind: Literal["Customer"]
    customer_type: Literal["distributor", "retailer", "end_customer"] = "retailer"
    region: Annotated[str, Field(min_length=1, max_length=128)]
    contact_name: Text | None = None
    contact_email: Text | None = None
    contact_phone: Text | None = None
    address: Text | None = None


class SaleRecord(_Node):
    kind: Literal["Sale"]
    sold_at: EpochMs | None = None
    quantity: Quantity | None = None
    unit: Unit | None = None
    serial: Text | None = None


class ComplaintRecord(_Node):
    kind: Literal["Complaint"]
    received_at: EpochMs | None = None
    occurred_at: EpochMs | None = None
    category: Text | None = None
    channel: Text | None = None
    description: Text | None = None


NODE_MODELS: dict[Label, type[_Node]] = {
    L.SUPPLIER: SupplierRecord,
    L.MATERIAL_LOT: MaterialLotRecord,
    L.MACHINE: MachineRecord,
    L.OPERATOR: OperatorRecord,
    L.BATCH: BatchRecord,
    L.INSPECTION: InspectionRecord,
    L.SHIPMENT: ShipmentRecord,
    L.CUSTOMER: CustomerRecord,
    L.SALE: SaleRecord,
    L.COMPLAINT: ComplaintRecord,
}


# --- relationships ------------------------------------------------------------------------------


def _check_window(start: int | None, end: int | None, start_name: str, end_name: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{end_name} ({iso(end)}) is before {start_name} ({iso(start)})")


class _Rel(_Record):
    model_config = ConfigDict(populate_by_name=True)

    from_: Uid = Field(alias="from")
    to: Uid
    from_label: Label | None = None
    to_label: Label | None = None
    evidence: Text | None = None

    @property
    def endpoints(self) -> tuple[Label, Label]:
        """The labels this relationship joins; ValueError if they are missing or not allowed.

        Checked outside pydantic's own validation on purpose: a Python validator per record costs
        more than the rest of the record's validation, and loads validate millions of them.
        """
        return endpoints(self.kind, self.from_label, self.to_label)  # type: ignore[attr-defined]


@cache
def endpoints(kind: str, from_label: Label | None, to_label: Label | None) -> tuple[Label, Label]:
    """Resolve (and check) the labels a relationship of ``kind`` joins; memoised per combination."""
    return _endpoints(RelType(kind), from_label, to_label)


def _endpoints(rel: RelType, from_label: Label | None, to_label: Label | None) -> tuple[Label, Label]:
    pairs = REL_ENDPOINTS[rel]
    if len(pairs) == 1 and from_label in (None, pairs[0][0]) and to_label in (None, pairs[0][1]):
        return pairs[0]
    chosen = []
    for given, allowed, name in (
        (from_label, sorted({p[0] for p in pairs}), "from_label"),
        (to_label, sorted({p[1] for p in pairs}), "to_label"),
    ):
        if given is None and len(allowed) > 1:
            raise ValueError(f"{name} is required for {rel.value}: one of {', '.join(allowed)}")
        if given is not None and given not in allowed:
            raise ValueError(
                f"{name} {given.value!r} is not allowed for {rel.value}; expected {', '.join(allowed)}"
            )
        chosen.append(given or allowed[0])
    return chosen[0], chosen[1]


class _Flow(_Rel):
    quantity: Quantity | None = None
    unit: Unit | None = None


class _Windowed(_Rel):
    start: EpochMs
    end: EpochMs

    @model_validator(mode="after")
    def _ordered(self) -> _Windowed:
        _check_window(self.start, self.end, "start", "end")
        return self


class SuppliedRecord(_Rel):
    kind: Literal["SUPPLIED"]


class ConsumedByRecord(_Flow):
    kind: Literal["CONSUMED_BY"]


class RanOnRecord(_Windowed):
    kind: Literal["RAN_ON"]


class HandledByRecord(_Windowed):
    kind: Literal["HANDLED_BY"]
    role: Text | None = None


class InspectedRecord(_Rel):
    kind: Literal["INSPECTED"]


class ShippedInRecord(_Flow):
    kind: Literal["SHIPPED_IN"]


class DispatchedRecord(_Rel):
    kind: Literal["DISPATCHED"]


class DeliveredToRecord(_Rel):
    kind: Literal["DELIVERED_TO"]


class SoldInRecord(_Flow):
    kind: Literal["SOLD_IN"]


class SoldRecord(_Rel):
    kind: Literal["SOLD"]


class AboutRecord(_Rel):
    kind: Literal["ABOUT"]


class ReportedByRecord(_Rel):
    kind: Literal["REPORTED_BY"]


REL_MODELS: dict[RelType, type[_Rel]] = {
    RelType.SUPPLIED: SuppliedRecord,
    RelType.CONSUMED_BY: ConsumedByRecord,
    RelType.RAN_ON: RanOnRecord,
    RelType.HANDLED_BY: HandledByRecord,
    RelType.INSPECTED: InspectedRecord,
    RelType.SHIPPED_IN: ShippedInRecord,
    RelType.DISPATCHED: DispatchedRecord,
    RelType.DELIVERED_TO: DeliveredToRecord,
    RelType.SOLD_IN: SoldInRecord,
    RelType.SOLD: SoldRecord,
    RelType.ABOUT: AboutRecord,
    RelType.REPORTED_BY: ReportedByRecord,
}

NodeRecord = (
    SupplierRecord
    | MaterialLotRecord
    | MachineRecord
    | OperatorRecord
    | BatchRecord
    | InspectionRecord
    | ShipmentRecord
    | CustomerRecord
    | SaleRecord
    | ComplaintRecord
)
RelRecord = (
    SuppliedRecord
    | ConsumedByRecord
    | RanOnRecord
    | HandledByRecord
    | InspectedRecord
    | ShippedInRecord
    | DispatchedRecord
    | DeliveredToRecord
    | SoldInRecord
    | SoldRecord
    | AboutRecord
    | ReportedByRecord
)
Record = Annotated[NodeRecord | RelRecord, Field(discriminator="kind")]
RECORD_ADAPTER: TypeAdapter[Any] = TypeAdapter(Record)
KINDS: tuple[str, ...] = tuple(label.value for label in Label) + tuple(r.value for r in RelType)


class NodeRef(NamedTuple):
    """A node as the outside world names it: label and natural key (a tuple: scopes make many)."""

    label: Label
    uid: str

    def __str__(self) -> str:
        return f"{self.label.value}:{self.uid}"
