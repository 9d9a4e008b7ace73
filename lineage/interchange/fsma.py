"""The FDA Food Traceability Rule's sortable spreadsheet (FSMA 204, 21 CFR 1.1455(c)(3)(ii)) for a trace.

When the FDA asks, a firm has 24 hours to send, for the foods and dates asked about, one row per
Critical Tracking Event with its Key Data Elements. lineage makes it from the graph, whatever the
records came in as (EPCIS events, CSV, JSON Lines), so the same export serves a plant's own records
and the partners' EPCIS data:

- the **traceability lots** are the lots and batches of the trace: the forward scope and the
  backward trace of the source (a lot, batch, EPC or lot class, supplier, machine or operator over
  the dates, shipment, customer, sale, complaint), logistic units (pallets) left out as lots and
  looked into when they ship;
- **Receiving** of each material lot from its supplier at the firm, and of each shipment of a
  traced lot at its recipient (when its delivery is recorded);
- **Initial packing** of a lot that was made from nothing recorded (an EPCIS commissioning: a
  harvest packed and given its lot code);
- **Transformation** of each batch made from other foods, naming every food used (in the trace or
  not) with its lot code and quantity;
- **Shipping** of each traced lot in each shipment, also inside a pallet.

Where the records lack a Key Data Element the row still appears, and its last column names what is
missing: an investigator sees the gap rather than a silent hole. ``LINEAGE_FIRM_LOCATION`` describes
the firm's own site for the events that happen there (name, address, phone or a GLN).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, Field

from lineage.errors import InvalidRequest
from lineage.graph.evidence import stored_events_by_id
from lineage.graph.model import OPEN_END, OPEN_START, Label, NodeRef, iso, to_epoch_ms
from lineage.graph.scope import BACKWARD_SOURCES, FORWARD_SOURCES, Window, backward, fetch_properties, forward
from lineage.graph.store import Store

Cte = Literal["Initial packing", "Receiving", "Transformation", "Shipping"]
Direction = Literal["both", "forward", "backward"]
_ORDER = {"Initial packing": 0, "Receiving": 1, "Transformation": 2, "Shipping": 3}


class CteRow(BaseModel):
    """One Critical Tracking Event of one traceability lot, with its Key Data Elements."""

    cte: Cte
    date: str | None = Field(None, description="YYYY-MM-DD (UTC)")
    time: str | None = Field(None, description="ISO-8601, UTC")
    traceability_lot_code: str
    traceability_lot_code_source: str | None = None
    product_description: str | None = None
    quantity: float | None = None
    unit_of_measure: str | None = None
    location: str | None = Field(None, description="where the event happened")
    immediate_previous_source: str | None = Field(None, description="Receiving: whom it came from")
    immediate_subsequent_recipient: str | None = Field(None, description="Shipping: whom it went to")
    foods_used: str | None = Field(None, description="Transformation: lot code (product, quantity); ...")
    reference_document_type: str | None = None
    reference_document_number: str | None = None
    lineage_record: str = Field(description="the lineage record the row comes from (Label:uid)")
    missing: list[str] = Field(default_factory=list, description="Key Data Elements the records lack")


#: (field, column heading) in the spreadsheet's order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("cte", "Critical tracking event"),
    ("date", "Event date"),
    ("time", "Event time (UTC)"),
    ("traceability_lot_code", "Traceability lot code"),
    ("traceability_lot_code_source", "Traceability lot code source"),
    ("product_description", "Product description"),
    ("quantity", "Quantity"),
    ("unit_of_measure", "Unit of measure"),
    ("location", "Location of the event"),
    ("immediate_previous_source", "Immediate previous source"),
    ("immediate_subsequent_recipient", "Immediate subsequent recipient"),
    ("foods_used", "Foods used (lot code, product, quantity)"),
    ("reference_document_type", "Reference document type"),
    ("reference_document_number", "Reference document number"),
    ("lineage_record", "lineage record"),
    ("missing", "Missing key data elements"),
)
_HEADINGS = dict(COLUMNS)
#: The Key Data Elements each event must have, beyond those every event has.
_REQUIRED = (
    "traceability_lot_code_source",
    "product_description",
    "quantity",
    "unit_of_measure",
    "location",
    "date",
    "reference_document_type",
    "reference_document_number",
)
_REQUIRED_BY_CTE = {
    "Receiving": ("immediate_previous_source",),
    "Shipping": ("immediate_subsequent_recipient",),
    "Transformation": ("foods_used",),
}


class Fsma204(BaseModel):
    source: str
    direction: Direction
    start: str | None
    end: str | None
    firm_location: str | None
    rows: list[CteRow]


def fsma204(
    store: Store,
    source: NodeRef,
    window: Window | None = None,
    direction: Direction = "both",
    max_nodes: int | None = None,
) -> Fsma204:
    """The rows for every traceability lot of the trace through ``source``, with their events in
    ``window`` (all of them without one), oldest first."""
    lots = _lots(store, source, window, direction, max_nodes)
    rows = _Rows(store, store.settings.firm_location).build(lots)
    if window is not None:
        rows = [r for r in rows if r.time is None or window.start <= to_epoch_ms(r.time) < window.end]
    rows.sort(key=lambda r: (r.time is None, r.time or "", r.traceability_lot_code, _ORDER[r.cte]))
    return Fsma204(
        source=f"{source.label.value}:{source.uid}",
        direction=direction,
        start=_edge(window.start) if window else None,
        end=_edge(window.end) if window else None,
        firm_location=store.settings.firm_location,
        rows=rows,
    )


def _edge(epoch_ms: int) -> str | None:
    """A window's end as ISO-8601, none where it was left open."""
    return None if epoch_ms in (OPEN_START, OPEN_END) else iso(epoch_ms)


def _lots(
    store: Store, source: NodeRef, window: Window | None, direction: Direction, max_nodes: int | None
) -> dict[NodeRef, dict[str, Any]]:
    """The traceability lots of the trace (lots and batches, not pallets), with their properties."""
    found: set[NodeRef] = set()
    if direction in ("both", "forward") and source.label in FORWARD_SOURCES:
        machine = source.label in (Label.MACHINE, Label.OPERATOR)
        scope = forward(store, source, window if machine else None, max_nodes=max_nodes, properties=())
        found.update(n.ref for n in scope.nodes)
    if direction in ("both", "backward") and source.label in BACKWARD_SOURCES:
        found.update(n.ref for n in backward(store, source, max_nodes=max_nodes, properties=()).nodes)
    if not found:
        kinds = {"forward": FORWARD_SOURCES, "backward": BACKWARD_SOURCES}.get(direction, ())
        raise InvalidRequest(
            f"no {direction} trace starts from a {source.label.value}; start from one of {', '.join(kinds)}"
        )
    wanted = [n for n in found if n.label in (Label.MATERIAL_LOT, Label.BATCH)]
    props = fetch_properties(store, wanted)
    return {n: p for n, p in props.items() if p.get("batch_type") != "logistic_unit"}


def _when(epoch_ms: Any) -> tuple[str | None, str | None]:
    if not isinstance(epoch_ms, int):
        return None, None
    at = iso(epoch_ms)
    return (at[:10] if at else None), at


def _amount(quantity: Any, unit: Any) -> str:
    return " ".join(str(v) for v in (number(quantity), unit) if v is not None)


def number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _Rows:
    """Builds the rows; holds what the events share (parties, stored EPCIS events) once."""

    def __init__(self, store: Store, firm: str | None) -> None:
        self.store = store
        self.firm = firm
        self.props: dict[NodeRef, dict[str, Any]] = {}
        self.made: dict[str, dict[str, Any]] = {}

    def build(self, lots: dict[NodeRef, dict[str, Any]]) -> list[CteRow]:
        self.props.update(lots)
        batches = [n.uid for n in lots if n.label == Label.BATCH]
        material = [n.uid for n in lots if n.label == Label.MATERIAL_LOT]
        inputs = self.store.run_over("fsma_batch_inputs", "uids", batches)
        receipts = self.store.run_over("fsma_lot_receipts", "uids", material)
        shipped = self.store.run_over("fsma_lot_shipments", "uids", batches)
        parties = {
            r["shipment"]: r
            for r in self.store.run_over("fsma_shipment_parties", "uids", {s["shipment"] for s in shipped})
        }
        self._fetch(
            [NodeRef(Label(r["label"]), r["input"]) for r in inputs]
            + [NodeRef(Label.SUPPLIER, r["supplier"]) for r in receipts]
            + [NodeRef(Label.SHIPMENT, s) for s in parties]
            + [
                NodeRef(Label.CUSTOMER, c)
                for p in parties.values()
                for c in (p["recipient"], p["dispatcher"])
                if c
            ]
        )
        self.made = self._making_events(batches)
        rows = [self._receipt(r) for r in receipts]
        used: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in inputs:
            used[r["batch"]].append(r)
        for uid in batches:
            rows.append(self._transformation(uid, used[uid]) if used[uid] else self._packing(uid))
        for s in shipped:
            rows.extend(self._shipment(s, parties[s["shipment"]]))
        for row in rows:
            row.missing = [
                _HEADINGS[k]
                for k in (*_REQUIRED, *_REQUIRED_BY_CTE.get(row.cte, ()))
                if getattr(row, k) in (None, "")
            ]
        return rows

    def _fetch(self, refs: list[NodeRef]) -> None:
        self.props.update(fetch_properties(self.store, [r for r in set(refs) if r not in self.props]))

    def _making_events(self, batches: list[str]) -> dict[str, dict[str, Any]]:
        """The EPCIS event that made each batch (commissioned it or output it), where there is one."""
        mentions = self.store.run_over("epcis_mentions_of", "keys", batches)
        events = stored_events_by_id(self.store, [m["event"] for m in mentions])
        made: dict[str, dict[str, Any]] = {}
        for m in sorted(mentions, key=lambda m: m["at"]):
            event = events.get(m["event"]) or {}
            making = (m["role"] == "output") or (
                m["role"] == "object"
                and event.get("event_type") == "ObjectEvent"
                and event.get("action") == "ADD"
            )
            if making and not event.get("retracted"):
                made.setdefault(m["object"], event)
        return made

    # --- descriptions of places ---

    def site(self, site: Any = None) -> str | None:
        parts = [p for p in (self.firm, f"site {site}" if site else None) if p]
        return ", ".join(parts) or None

    def party(self, label: Label, uid: str | None) -> str | None:
        if uid is None:
            return None
        p = self.props.get(NodeRef(label, uid), {})
        if label == Label.SUPPLIER:
            parts = [p.get("name"), p.get("country")]
        else:
            parts = [p.get("name"), p.get("address"), p.get("contact_phone")]
        known = ", ".join(str(v) for v in parts if v)
        return f"{known} ({uid})" if known else uid

    def source_of(self, lot: NodeRef) -> str | None:
        """Where a batch's lot code was assigned: where an EPCIS event made it, else the firm's site."""
        props = self.props.get(lot, {})
        made = self.made.get(lot.uid)
        if made is not None:  # made by a partner's event, maybe: not the firm's site unless it says so
            return made.get("biz_location") or made.get("read_point")
        return self.site(props.get("site"))

    # --- the events ---

    def _receipt(self, r: dict[str, Any]) -> CteRow:
        lot = NodeRef(Label.MATERIAL_LOT, r["lot"])
        props = self.props.get(lot, {})
        supplier = self.party(Label.SUPPLIER, r["supplier"])
        date, time = _when(props.get("received_at"))
        return CteRow(
            cte="Receiving",
            date=date,
            time=time,
            traceability_lot_code=lot.uid,
            traceability_lot_code_source=supplier,
            product_description=props.get("material") or props.get("name"),
            quantity=props.get("quantity"),
            unit_of_measure=props.get("unit"),
            location=self.site(),
            immediate_previous_source=supplier,
            reference_document_type="receiving record" if r.get("evidence") else None,
            reference_document_number=r.get("evidence"),
            lineage_record=f"MaterialLot:{lot.uid}",
        )

    def _made(self, uid: str, cte: Cte, foods: str | None, evidence: list[str]) -> CteRow:
        lot = NodeRef(Label.BATCH, uid)
        props = self.props.get(lot, {})
        event = self.made.get(uid)
        if event is not None:
            document = ("EPCIS " + str(event.get("event_type")), str(event.get("id")))
            date, time = _when(event.get("event_time"))
            where = event.get("biz_location") or event.get("read_point")
        else:
            document = ("work order", " ".join(dict.fromkeys(evidence)) or uid)
            date, time = _when(props.get("ended_at") or props.get("started_at"))
            where = self.site(props.get("site"))
        return CteRow(
            cte=cte,
            date=date,
            time=time,
            traceability_lot_code=uid,
            traceability_lot_code_source=where,
            product_description=_product(props),
            quantity=props.get("quantity"),
            unit_of_measure=props.get("unit"),
            location=where,
            foods_used=foods,
            reference_document_type=document[0],
            reference_document_number=document[1],
            lineage_record=f"Batch:{uid}",
        )

    def _transformation(self, uid: str, inputs: list[dict[str, Any]]) -> CteRow:
        foods = []
        for r in sorted(inputs, key=lambda r: r["input"]):
            props = self.props.get(NodeRef(Label(r["label"]), r["input"]), {})
            what = ", ".join(v for v in (_product(props), _amount(r.get("quantity"), r.get("unit"))) if v)
            foods.append(f"{r['input']} ({what})" if what else r["input"])
        evidence = [e for r in inputs for e in str(r.get("evidence") or "").split()]
        return self._made(uid, "Transformation", "; ".join(foods), evidence)

    def _packing(self, uid: str) -> CteRow:
        return self._made(uid, "Initial packing", None, [])

    def _shipment(self, s: dict[str, Any], parties: dict[str, Any]) -> list[CteRow]:
        shipment = NodeRef(Label.SHIPMENT, s["shipment"])
        props = self.props.get(shipment, {})
        lot = NodeRef(Label.BATCH, s["batch"])
        product = _product(self.props.get(lot, {}))
        sender = (
            self.party(Label.CUSTOMER, parties["dispatcher"])
            if parties["dispatcher"]
            else props.get("biz_location") or self.site(self.props.get(lot, {}).get("site"))
        )
        recipient = self.party(Label.CUSTOMER, parties["recipient"])
        if props.get("document"):
            document = (props.get("document_type") or "shipping document", props["document"])
        elif s.get("evidence"):
            document = ("EPCIS event", str(s["evidence"]))
        else:
            document = (None, None)
        via = f" on {s['container']}" if s.get("container") else ""
        common = {
            "traceability_lot_code": lot.uid,
            "traceability_lot_code_source": self.source_of(lot),
            "product_description": product,
            "quantity": s.get("quantity"),
            "unit_of_measure": s.get("unit"),
            "reference_document_type": document[0],
            "reference_document_number": document[1],
            "lineage_record": f"Shipment:{shipment.uid}{via}",
        }
        date, time = _when(props.get("shipped_at"))
        rows = [
            CteRow(
                cte="Shipping",
                date=date,
                time=time,
                location=sender,
                immediate_subsequent_recipient=recipient,
                **common,
            )
        ]
        if props.get("delivered_at") is not None:
            date, time = _when(props.get("delivered_at"))
            rows.append(
                CteRow(
                    cte="Receiving",
                    date=date,
                    time=time,
                    location=recipient,
                    immediate_previous_source=sender,
                    **common,
                )
            )
        return rows


def _product(props: dict[str, Any]) -> str | None:
    name = props.get("product") or props.get("material") or props.get("name")
    sku = props.get("sku")
    return f"{name} ({sku})" if name and sku and sku not in str(name) else name
