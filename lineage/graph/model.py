"""The lineage model: node labels, relationship types, how nodes are named, and times.

This module is the allowlist: a label or relationship type that is not here can never reach a query.
What a record of each kind may hold is in :mod:`.schema`, checked before anything is written.
Times are stored as epoch milliseconds (UTC) because FalkorDB cannot return
temporal values (see docs/model.md).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import BeforeValidator, Field

from lineage.errors import InvalidRequest
from lineage.graph.gs1 import IdentifierError, canonical
from lineage.graph.gs1 import kind as identifier_kind


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


#: Labels of lineage's own records, kept in the same database but not part of the lineage: what a
#: load did (``LoadRun``), what the signal rules raised (``Signal``), recalls with their holds and
#: per-customer follow-up, the audit log with the head of its hash chain, the EPCIS events the
#: lineage of imported documents rests on, with the objects each names, the lineage's revision
#: (the token and sequence number topology indexes compare, see lineage.graph.topology) and its change
#: log (``LineageChange``, one entry per statement that changed the lineage, see lineage.graph.live).
RECORD_LABELS = (
    "LoadRun",
    "Signal",
    "Recall",
    "Hold",
    "Followup",
    "AuditEntry",
    "AuditHead",
    "EpcisEvent",
    "EpcisMention",
    "Revision",
    "LineageChange",
)
#: Every label whose ``uid`` the engine keeps unique: the lineage's and lineage's own records (but
#: the change log's entries, which have no uid: they are keyed by ``seq``, see LOOKUP_INDEXES).
CONSTRAINED_LABELS: tuple[str, ...] = tuple(label.value for label in Label) + tuple(
    label for label in RECORD_LABELS if label != "LineageChange"
)
#: Properties looked up by value besides ``uid``, indexed by both engines: a till's public lookup
#: by serial number must not scan every sale, nor the evidence of a trace every EPCIS event, nor an
#: index catching up the whole change log (lineage.graph.live).
LOOKUP_INDEXES: tuple[tuple[str, str], ...] = (
    ("Sale", "serial"),
    ("EpcisMention", "object"),
    ("LineageChange", "seq"),
)

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

#: Label and relationship type by name, for engine rows and input records: a dict lookup is
#: several times cheaper than calling the Enum, and both arrive by the million.
LABEL_BY_NAME: dict[str, Label] = {label.value: label for label in Label}
REL_TYPE_BY_NAME: dict[str, RelType] = {rel.value: rel for rel in RelType}

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


_GS1_PREFIXES = ("urn:epc:", "http://", "https://")


def node_key(uid: str) -> str:
    """A uid as stored: a GS1 key in any spelling (EPC URN, Digital Link on any host) is the
    canonical one EPCIS imports store (:mod:`lineage.graph.gs1`); any other uid as given."""
    if not uid.startswith(_GS1_PREFIXES):
        return uid
    try:
        return canonical(uid)
    except IdentifierError as e:
        raise InvalidRequest(str(e)) from None


def node_ref(label: str, uid: str) -> NodeRef:
    try:
        return NodeRef(parse_label(label), node_key(uid))
    except ValueError as e:
        raise InvalidRequest(str(e)) from None


def parse_ref(text: str) -> NodeRef:
    """``Label:uid`` (the label in any case the allowlist knows) to a node reference; a GS1 key
    alone (EPC URN or Digital Link) is the node an EPCIS import made of it: a party or location
    (GLN) is a Customer, anything else a Batch."""
    if text.startswith(_GS1_PREFIXES):
        key = node_key(text)
        return NodeRef(Label.CUSTOMER if identifier_kind(key) == "location" else Label.BATCH, key)
    label, sep, uid = text.partition(":")
    if not sep or not uid:
        raise InvalidRequest(f"{text!r} should be Label:uid, e.g. MaterialLot:L-4471")
    return node_ref(label, uid)


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
    # In integers: float seconds times 1000 turned 05:07:50.911 into ...910.
    return (moment - _EPOCH_UTC) // _MILLISECOND


#: The ends of all time, in epoch ms: a window left open on one side reaches them (far beyond any
#: record's year, well inside a 64-bit integer the engines compare natively).
OPEN_START, OPEN_END = -(2**62), 2**62


def now_ms() -> int:
    """The time now as it is stored: epoch milliseconds."""
    return time.time_ns() // 1_000_000


def iso(epoch_ms: int | None) -> str | None:
    """Epoch milliseconds back to ISO-8601 UTC text for people, to the millisecond when there is one.

    Integer arithmetic: going through seconds as a float showed 10:44:30.474 as 10:44:30.473999.
    """
    if epoch_ms is None:
        return None
    moment = _EPOCH + timedelta(milliseconds=epoch_ms)
    return moment.isoformat(timespec="milliseconds" if epoch_ms % 1000 else "seconds") + "Z"


_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


#: Times from year 1 to 9999: anything else is garbage, and Python's datetime cannot show it.
EpochMs = Annotated[int, BeforeValidator(to_epoch_ms), Field(ge=-62_135_596_800_000, le=253_402_300_799_999)]
UID_PATTERN = r"^[^\x00-\x1f\x7f]+$"  # no control characters
Uid = Annotated[str, Field(min_length=1, max_length=256, pattern=UID_PATTERN)]
Text = Annotated[str, Field(max_length=4096, pattern=r"^[^\x00]*$")]  # NUL ends text in the bulk format
#: A record kept whole as JSON text (an EPCIS event's ilmd, a master data element's attributes).
JsonText = Annotated[str, Field(max_length=65_536, pattern=r"^[^\x00]*$")]
#: Up to 10^15 of a unit: further is a typo or an attack, and no engine keeps it exactly.
Quantity = Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]
Unit = Annotated[str, Field(min_length=1, max_length=32)]


# --- nodes --------------------------------------------------------------------------------------


#: Properties stored as epoch milliseconds (of nodes, then of relationships), shown to people as
#: ISO-8601 again.
_TIMES = (
    "received_at expires_at counted_at started_at ended_at inspected_at shipped_at delivered_at sold_at "
    "occurred_at"
)
TIME_PROPERTIES = frozenset([*_TIMES.split(), "start", "end"])


def readable(properties: dict[str, Any]) -> dict[str, Any]:
    """Stored properties with their times as ISO-8601 text."""
    return {k: iso(v) if k in TIME_PROPERTIES and isinstance(v, int) else v for k, v in properties.items()}


#: Stored when a record leaves them out, so every node of a kind can be read the same way.
NODE_DEFAULTS: dict[Label, dict[str, str]] = {
    L.BATCH: {"batch_type": "production"},
    L.CUSTOMER: {"customer_type": "retailer"},
}


class NodeRef(NamedTuple):
    """A node as the outside world names it: label and natural key (a tuple: scopes make many)."""

    label: Label
    uid: str

    def __str__(self) -> str:
        return f"{self.label.value}:{self.uid}"
