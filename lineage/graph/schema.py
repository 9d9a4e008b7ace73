"""The record schema: what a record of each kind of node and relationship may hold, checked by
pydantic-core as it is read, and the properties each kind may store.

Records are TypedDicts: a record comes out of validation as a plain dict, with no model object made
and taken apart again, which halves the cost of checking one; a large load checks millions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, Union, get_args, get_origin

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from lineage.graph.model import (
    REL_ENDPOINTS,
    EpochMs,
    JsonText,
    L,
    Label,
    Quantity,
    RelType,
    Text,
    Uid,
    Unit,
    iso,
)

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)


def _check_window(start: int | None, end: int | None, start_name: str, end_name: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{end_name} ({iso(end)}) is before {start_name} ({iso(start)})")


def _batch_window(record: dict[str, Any]) -> dict[str, Any]:
    _check_window(record.get("started_at"), record.get("ended_at"), "started_at", "ended_at")
    return record


def _run_window(record: dict[str, Any]) -> dict[str, Any]:
    _check_window(record["start"], record["end"], "start", "end")
    return record


@with_config(_STRICT)
class _Node(TypedDict):
    uid: Uid
    name: NotRequired[Text]


@with_config(_STRICT)
class SupplierRecord(_Node):
    kind: Literal["Supplier"]
    country: NotRequired[Text]
    contact_email: NotRequired[Text]


@with_config(_STRICT)
class MaterialLotRecord(_Node):
    kind: Literal["MaterialLot"]
    material: Text
    quantity: NotRequired[Quantity]
    unit: NotRequired[Unit]
    received_at: NotRequired[EpochMs]
    expires_at: NotRequired[EpochMs]
    on_hand: NotRequired[Quantity]
    counted_at: NotRequired[EpochMs]
    scrapped: NotRequired[Quantity]
    scrap_document: NotRequired[Text]


@with_config(_STRICT)
class MachineRecord(_Node):
    kind: Literal["Machine"]
    line: NotRequired[Text]
    site: NotRequired[Text]


@with_config(_STRICT)
class OperatorRecord(_Node):
    kind: Literal["Operator"]
    shift: NotRequired[Text]


@with_config(_STRICT)
class BatchRecord(_Node):
    kind: Literal["Batch"]
    product: Text
    sku: NotRequired[Text]
    # production if absent; a logistic unit (a pallet, an SSCC) carries what was packed into it
    batch_type: NotRequired[Literal["production", "intermediate", "rework", "logistic_unit"]]
    quantity: NotRequired[Quantity]
    unit: NotRequired[Unit]
    started_at: NotRequired[EpochMs]
    ended_at: NotRequired[EpochMs]
    site: NotRequired[Text]
    on_hand: NotRequired[Quantity]
    counted_at: NotRequired[EpochMs]
    scrapped: NotRequired[Quantity]
    scrap_document: NotRequired[Text]
    # From EPCIS events (lineage.interchange.epcis.mapping): where it was last seen and in what state, and the
    # instance/lot master data given when it was commissioned (JSON text).
    biz_location: NotRequired[Text]
    read_point: NotRequired[Text]
    disposition: NotRequired[Text]
    persistent_disposition: NotRequired[Text]
    ilmd: NotRequired[JsonText]
    master_data: NotRequired[JsonText]  # an EPCIS master data element's attributes (JSON text)


@with_config(_STRICT)
class InspectionRecord(_Node):
    kind: Literal["Inspection"]
    inspection_type: NotRequired[Text]
    result: Literal["pass", "fail", "conditional"]
    inspected_at: NotRequired[EpochMs]
    notes: NotRequired[Text]


@with_config(_STRICT)
class ShipmentRecord(_Node):
    kind: Literal["Shipment"]
    shipped_at: NotRequired[EpochMs]
    delivered_at: NotRequired[EpochMs]
    carrier: NotRequired[Text]
    document: NotRequired[Text]
    document_type: NotRequired[Text]  # what `document` is: bill of lading, despatch advice, ...
    # From the EPCIS event it was made from (lineage.interchange.epcis.mapping).
    biz_location: NotRequired[Text]
    read_point: NotRequired[Text]
    disposition: NotRequired[Text]


@with_config(_STRICT)
class CustomerRecord(_Node):
    kind: Literal["Customer"]
    customer_type: NotRequired[Literal["distributor", "retailer", "end_customer"]]  # retailer if absent
    region: Annotated[str, Field(min_length=1, max_length=128)]
    contact_name: NotRequired[Text]
    contact_email: NotRequired[Text]
    contact_phone: NotRequired[Text]
    address: NotRequired[Text]
    master_data: NotRequired[JsonText]  # an EPCIS master data element's attributes (JSON text)


@with_config(_STRICT)
class SaleRecord(_Node):
    kind: Literal["Sale"]
    sold_at: NotRequired[EpochMs]
    quantity: NotRequired[Quantity]
    unit: NotRequired[Unit]
    serial: NotRequired[Text]


@with_config(_STRICT)
class ComplaintRecord(_Node):
    kind: Literal["Complaint"]
    received_at: NotRequired[EpochMs]
    occurred_at: NotRequired[EpochMs]
    category: NotRequired[Text]
    channel: NotRequired[Text]
    description: NotRequired[Text]
    # Written by complaint intake (lineage.complaints.intake), loadable as they are:
    product: NotRequired[Text]
    sku: NotRequired[Text]
    batch_code: NotRequired[Text]
    serial: NotRequired[Text]
    customer_uid: NotRequired[Text]
    documents: NotRequired[Text]
    expected_resolution: NotRequired[Text]
    safety: NotRequired[bool]
    verification: NotRequired[Literal["verified", "unverified"]]
    verification_reasons: NotRequired[Text]


NODE_RECORDS: dict[Label, Any] = {
    L.SUPPLIER: SupplierRecord,
    L.MATERIAL_LOT: MaterialLotRecord,
    L.MACHINE: MachineRecord,
    L.OPERATOR: OperatorRecord,
    L.BATCH: Annotated[BatchRecord, AfterValidator(_batch_window)],
    L.INSPECTION: InspectionRecord,
    L.SHIPMENT: ShipmentRecord,
    L.CUSTOMER: CustomerRecord,
    L.SALE: SaleRecord,
    L.COMPLAINT: ComplaintRecord,
}


#: A label by its name, checked as a Label would be but kept as text: a checked record holds only
#: text, numbers, booleans and None, so the validation helper can send it back with marshal.
LabelName = Literal[tuple(label.value for label in Label)]  # type: ignore[valid-type]


# "from" is a Python keyword, so the fields every relationship has are declared functionally.
_Ends = TypedDict(
    "_Ends",
    {
        "from": Uid,
        "to": Uid,
        "from_label": NotRequired[LabelName],
        "to_label": NotRequired[LabelName],
        "evidence": NotRequired[Text],
    },
)


_Ends.__pydantic_config__ = _STRICT  # type: ignore[attr-defined]


class _Flow(_Ends):
    quantity: NotRequired[Quantity]
    unit: NotRequired[Unit]


class _Windowed(_Ends):
    start: EpochMs
    end: EpochMs


class _Handled(_Windowed):
    role: NotRequired[Text]


def _rel(kind: RelType, base: type) -> Any:
    """A relationship record: ``base`` with ``kind`` fixed to the type's name."""
    name = f"{kind.value.title().replace('_', '')}Record"
    record = TypedDict(name, {"kind": Literal[kind.value]})  # type: ignore[misc]  # noqa: UP013 (a name made at run time)
    merged = type(name, (base, record), {"__pydantic_config__": _STRICT})
    return Annotated[merged, AfterValidator(_run_window)] if base in (_Windowed, _Handled) else merged


_REL_BASES = {
    RelType.CONSUMED_BY: _Flow,
    RelType.SHIPPED_IN: _Flow,
    RelType.SOLD_IN: _Flow,
    RelType.RAN_ON: _Windowed,
    RelType.HANDLED_BY: _Handled,
}


REL_RECORDS: dict[RelType, Any] = {rel: _rel(rel, _REL_BASES.get(rel, _Ends)) for rel in RelType}


Record = Annotated[
    Union[tuple(NODE_RECORDS.values()) + tuple(REL_RECORDS.values())],  # noqa: UP007
    Field(discriminator="kind"),
]


RECORD_ADAPTER: TypeAdapter[Any] = TypeAdapter(Record)


KINDS: tuple[str, ...] = tuple(label.value for label in Label) + tuple(r.value for r in RelType)


#: Keys of a relationship record that address it rather than describe it.
REL_ADDRESSING = ("kind", "from", "to", "from_label", "to_label")


def endpoints(kind: str, from_label: str | None, to_label: str | None) -> tuple[Label, Label]:
    """Resolve (and check) the labels a relationship of ``kind`` joins (validation asks once per
    combination in a load and keeps the table it leads to)."""
    return _endpoints(
        RelType(kind), Label(from_label) if from_label else None, Label(to_label) if to_label else None
    )


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


def _record_keys(record: Any) -> frozenset[str]:
    if get_origin(record) is Annotated:
        record = get_args(record)[0]
    return frozenset(record.__required_keys__ | record.__optional_keys__) - {"kind"}


#: The properties a node of each kind may store.
PROPERTIES_BY_LABEL: dict[Label, frozenset[str]] = {
    Label(name): _record_keys(record) - {"uid"} for name, record in NODE_RECORDS.items()
}


#: Every property a node may store, for tables with one column per property.
NODE_PROPERTIES: tuple[str, ...] = tuple(sorted(frozenset().union(*PROPERTIES_BY_LABEL.values())))
