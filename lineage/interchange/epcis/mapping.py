"""EPCIS events as lineage records, so a document loads through the same checks as any input.

A document becomes the records ``lineage load`` reads from JSON Lines (:mod:`lineage.loading`):
validated, checked against the graph (references, cycles, holds), upserted on ``uid`` (loading the
same document twice changes nothing) and audited. Each record's position is its event's number in
the document, so a problem is reported as ``document.json:3`` for the third event.

- **Objects**: every EPC, lot class and product class an event names is a ``Batch`` keyed by its
  canonical GS1 key (:func:`lineage.graph.gs1.canonical`): the URN and the Digital Link of
  one key are one node. A lot class (``lgtin``) or an item carries its GTIN as ``sku``; an SSCC is a
  ``logistic_unit``. Commissioning (ObjectEvent ADD) gives a class its quantity and unit and the
  start of its life (``started_at``); ``ilmd`` fields are kept as the product description where one
  names it.
- **Parties and locations** named as source or destination are ``Customer`` nodes keyed by their
  GLN (``region`` unknown: EPCIS does not say).
- **Shipping and receiving**: an ObjectEvent with a destination (or the bizStep ``shipping``) is a
  ``Shipment`` (uid: ``EV-`` and the event's id or hash) carrying what it names (``SHIPPED_IN``, with
  the quantity of a class), ``DELIVERED_TO`` the destination, ``DISPATCHED`` by the source party; a
  receiving event of the same objects from the same source completes that shipment's
  ``delivered_at`` instead of making another.
- **Transformation**: every input ``CONSUMED_BY`` every output (with the input's quantity when
  there is one output, so quantities are not counted twice).
- **Aggregation and association**: packing (ADD, OBSERVE) puts each child ``CONSUMED_BY`` the
  parent (a pallet carries what was packed into it, so shipping the pallet ships them; a component
  installed in an asset goes with the asset), unless the child was unpacked (DELETE, of it or of
  all children) before the pallet moved (:class:`_Journey`): what left a pallet before it shipped
  did not ship with it. A child unpacked after the pallet moved stays linked to it (also to its
  later shipments), and so does one unpacked in a later document.
- **Transaction**: the objects it names are kept as nodes (the business transaction is evidence).
- **Error declarations**: an event declared in error (the event again, with ``errorDeclaration``)
  links nothing, nor does the original it retracts in the same document (the objects they name are
  kept as nodes).
- Every relationship carries the event id as ``evidence``, and every event is kept whole as an
  ``EpcisEvent`` record (:func:`stored_events`), with what its document's context declares: what a
  trace rests on can be listed in time order and exported again, and a later document can retract it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lineage.graph.gs1 import DL_HOST, key_of
from lineage.graph.model import to_epoch_ms
from lineage.interchange.epcis.document import (
    EPC_LISTS,
    ISO_TIME,
    QUANTITY_LISTS,
    Document,
    context_declarations,
)

#: The CBV business transaction types in words, for a shipment's ``document_type``.
BIZ_TRANSACTIONS = {
    "bol": "bill of lading",
    "cert": "certificate",
    "desadv": "despatch advice",
    "inv": "invoice",
    "pedigree": "pedigree",
    "po": "purchase order",
    "poc": "purchase order confirmation",
    "prodorder": "production order",
    "recadv": "receiving advice",
    "rma": "return merchandise authorisation",
    "testprd": "test product",
    "testres": "test result",
    "upevt": "upstream EPCIS event",
}
#: UN/ECE units as the documents give them, to the lineage's short forms where one is common.
UNITS = {"KGM": "kg", "GRM": "g", "LTR": "l", "MTR": "m", "H87": "pcs", "EA": "pcs"}


#: What an event's hash leaves out: what the capturing system or a later declaration adds, as
#: EPCIS's own event hash does, so that a declaration of error names the event it repeats.
_UNHASHED = frozenset(("@context", "eventID", "recordTime", "errorDeclaration"))
#: Fields whose text is an identifier (or a list of them), hashed in their canonical spelling.
_KEYS = frozenset(("epcList", "childEPCs", "inputEPCList", "outputEPCList", "epcClass", "parentID", "id"))


def event_id(event: dict[str, Any]) -> str:
    """The event's own id, or a hash of its content where it has none: the same in either syntax
    (XML or JSON-LD) and in any spelling of its keys, so importing the same event twice, however
    it is written, names one event."""
    given = event.get("eventID")
    if isinstance(given, str) and given:
        return given
    content = _canonical({k: v for k, v in event.items() if k not in _UNHASHED})
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "hash:" + hashlib.sha256(body.encode()).hexdigest()[:32]


def _canonical(value: Any, key: str = "") -> Any:
    """``value`` as both syntaxes give it: every leaf as text (a number as a float's text), an
    identifier in its canonical spelling, a time (ISO-8601 with offset) as epoch milliseconds, a
    list in sorted order."""
    if isinstance(value, dict):
        return {k: _canonical(v, k) for k, v in value.items() if not k.startswith("@") or k == "@value"}
    if isinstance(value, list):
        return sorted((_canonical(v, key) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(float(value))
    text = str(value).strip()
    if key in _KEYS:
        return key_of(text)
    if ISO_TIME.match(text):
        try:
            return str(to_epoch_ms(text))
        except ValueError:
            return text
    try:
        return repr(float(text)) if text and text[0] in "+-.0123456789" else text
    except ValueError:
        return text


def short_step(value: Any) -> str:
    """``shipping`` for ``shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` or its CBV URI."""
    return str(value or "").rsplit("/", 1)[-1].rsplit("-", 1)[-1].rsplit(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An ``EpcisEvent`` (the event whole) or an ``EpcisMention`` (one object it names, looked up by
    the object's key through an index): kept apart from the lineage records, so no input other
    than an EPCIS document can make one, and no scope walks them."""

    label: str
    uid: str
    props: dict[str, Any]


#: An event's lists by the role their objects play in it.
_ROLES = {
    "epcList": "object",
    "quantityList": "object",
    "childEPCs": "child",
    "childQuantityList": "child",
    "inputEPCList": "input",
    "inputQuantityList": "input",
    "outputEPCList": "output",
    "outputQuantityList": "output",
}


def stored_events(document: Document) -> Iterator[tuple[int, StoredEvent]]:
    """(event number, record) for every event and every object it names. An event keeps its type,
    time, step, where, its business transactions and itself as JSON; a declaration of error marks
    the event it names ``retracted`` (with when and why), whether that event is in this document or
    an earlier one."""
    kept: dict[str, tuple[int, dict[str, Any]]] = {}
    context = _namespaces(document.context)
    for position, event in document.numbered():
        uid = event_id(event)
        props = kept.setdefault(uid, (position, {}))[1]
        declared = event.get("errorDeclaration")
        if declared:
            props.update(
                retracted=True,
                retracted_at=to_epoch_ms(declared["declarationTime"]),
                retraction_reason=str(declared.get("reason") or ""),
                declaration=json.dumps(event, sort_keys=True, ensure_ascii=False),
                context=context,
            )
            props.setdefault("event_time", to_epoch_ms(event["eventTime"]))  # of the event it declares
            continue
        if "event_type" in props:
            continue  # the same event twice: the first says it
        at = to_epoch_ms(event["eventTime"])
        roles = {key_of(event["parentID"]): "parent"} if event.get("parentID") else {}
        for epcs, quantities in zip(EPC_LISTS, QUANTITY_LISTS, strict=True):
            for key, _, _ in _objects(event, epcs, quantities):
                roles.setdefault(key, _ROLES[epcs])
        transactions = [str(t.get("bizTransaction")) for t in event.get("bizTransactionList") or []]
        props.update(
            event_type=event["type"],
            event_time=at,
            action=event.get("action"),
            biz_step=short_step(event.get("bizStep")) or None,
            objects=" ".join(roles),
            parent=next((key for key, role in roles.items() if role == "parent"), None),
            biz_transactions=" ".join(transactions) or None,
            body=json.dumps(event, sort_keys=True, ensure_ascii=False),
            context=context,
            **_state(event),
        )
        for key, role in roles.items():
            mention = {"event": uid, "object": key, "role": role, "at": at}
            yield position, StoredEvent("EpcisMention", f"{uid} {key}", mention)
    for uid, (position, props) in kept.items():
        yield position, StoredEvent("EpcisEvent", uid, {k: v for k, v in props.items() if v is not None})


def _namespaces(context: Any) -> str | None:
    """What a document's ``@context`` declares by name (its prefixes and terms), as JSON, kept with
    each of its events so that an export can declare them again; None where it declares none."""
    declared = context_declarations(context)
    return json.dumps(declared, sort_keys=True, ensure_ascii=False) if declared else None


def shipment_uid(event: str) -> str:
    """The uid of the shipment a shipping event (by id) makes."""
    return "EV-" + hashlib.sha256(event.encode()).hexdigest()[:16].upper()


def gtin_of(key: str) -> str | None:
    prefix = DL_HOST + "/01/"
    return key[len(prefix) : len(prefix) + 14] if key.startswith(prefix) else None


@dataclass
class _Records:
    nodes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    positions: dict[tuple[str, str], int] = field(default_factory=dict)
    rels: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def node(self, position: int, kind_: str, uid: str, **props: Any) -> None:
        known = self.nodes.setdefault((kind_, uid), {"kind": kind_, "uid": uid})
        self.positions.setdefault((kind_, uid), position)
        for name, value in props.items():
            if value is not None and name not in known:
                known[name] = value

    def update(self, kind_: str, uid: str, **props: Any) -> None:
        """Properties that follow the object: the latest event's (events are mapped in time order)."""
        known = self.nodes[(kind_, uid)]
        known.update({name: value for name, value in props.items() if value is not None})

    def rel(self, position: int, **record: Any) -> None:
        """One relationship per kind and ends: a second event between the same two adds its
        quantity and its id to the evidence."""
        if record["from"] == record["to"]:
            return  # a class in and out of one transformation (a pattern on both sides) goes nowhere
        record = {k: v for k, v in record.items() if v is not None}
        key = (record["kind"], record["from"], record["to"])
        if key not in self.rels:
            self.rels[key] = (position, record)
            return
        known = self.rels[key][1]
        if record.get("evidence") and record["evidence"] not in known.get("evidence", "").split():
            known["evidence"] = f"{known.get('evidence', '')} {record['evidence']}".strip()
        if "quantity" in record and "quantity" in known and record.get("unit") == known.get("unit"):
            known["quantity"] += record["quantity"]


def _object(out: _Records, position: int, key: str, ilmd: dict[str, Any] | None = None) -> str:
    gtin = gtin_of(key)
    if key.startswith((DL_HOST + "/00/", "urn:epc:id:sscc:")):  # the second: kept opaque, malformed
        product, batch_type = "logistic unit (SSCC)", "logistic_unit"
    else:
        product, batch_type = (f"GTIN {gtin}" if gtin else key), "production"
    out.node(position, "Batch", key, product=_description(ilmd) or product, sku=gtin, batch_type=batch_type)
    return key


def _description(ilmd: dict[str, Any] | None) -> str | None:
    for name, value in (ilmd or {}).items():
        if name.split(":")[-1].lower() in ("itemdescription", "tradeitemdescription", "productname"):
            return str(value)
    return None


def _objects(event: dict[str, Any], epcs: str, quantities: str) -> list[tuple[str, float | None, str | None]]:
    found: list[tuple[str, float | None, str | None]] = [
        (key_of(e), None, None) for e in event.get(epcs) or []
    ]
    for q in event.get(quantities) or []:
        unit = q.get("uom")
        found.append((key_of(q["epcClass"]), q.get("quantity"), UNITS.get(unit, unit) if unit else None))
    return found


def _party(out: _Records, position: int, entries: Any, key: str) -> str | None:
    """The owning or possessing party of a source or destination list, else its location."""
    ranked = sorted(entries or [], key=lambda s: ("party" not in str(s.get("type", "")), str(s.get("type"))))
    if not ranked:
        return None
    uid = key_of(ranked[0][key])
    out.node(position, "Customer", uid, region="unknown")
    return uid


@dataclass
class _Journey:
    """What the mapping remembers from one event to the next: the shipment each set of objects left
    in (for the receiving that completes it), and who is packed in which logistic unit since when.

    A packing links a child to its unit only if the unit moved (shipped or was received) while the
    child was in it, or if it was not unpacked by the end of the document (it may ship later): a
    child unpacked before its pallet left does not travel with the pallet.
    """

    shipments: dict[tuple[frozenset[str], str | None], str] = field(default_factory=dict)
    packed: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    moved: set[tuple[str, str]] = field(default_factory=set)

    def pack(self, position: int, child: str, parent: str, record: dict[str, Any]) -> None:
        self.packed.setdefault((child, parent), []).append((position, record))

    def move(self, units: Iterable[str]) -> None:
        moving = set(units)
        self.moved.update(key for key in self.packed if key[1] in moving)

    def unpack(self, out: _Records, parent: str, children: set[str] | None) -> None:
        """``children`` out of ``parent`` (all of them when None)."""
        for key in [k for k in self.packed if k[1] == parent and (children is None or k[0] in children)]:
            records = self.packed.pop(key)
            if key in self.moved:
                self.moved.discard(key)
                for position, record in records:
                    out.rel(position, **record)

    def finish(self, out: _Records) -> None:
        for records in self.packed.values():
            for position, record in records:
                out.rel(position, **record)


def records(document: Document) -> Iterator[tuple[int, dict[str, Any]]]:
    """(event number, record) for every record the document maps to, nodes first."""
    out = _Records()
    journey = _Journey()
    # An event declared in error is retracted: its declaration (the same event with its id and an
    # errorDeclaration) and the original both map to nothing.
    retracted = {event_id(e) for e in document.events if e.get("errorDeclaration")}
    ordered = sorted(document.numbered(), key=lambda p: to_epoch_ms(p[1]["eventTime"]))
    for position, event in ordered:
        if event_id(event) in retracted:
            _named(out, position, event)  # the objects stay; nothing the event said of them does
        else:
            _map_event(out, position, event, journey)
    journey.finish(out)
    _master_data(out, document.master)
    for key, record in out.nodes.items():
        yield out.positions[key], record
    yield from out.rels.values()


#: The lists whose objects an event's ``ilmd`` describes: what it commissions or makes.
_DESCRIBED = ("epcList", "quantityList", "outputEPCList", "outputQuantityList")


def _named(out: _Records, position: int, event: dict[str, Any]) -> list[str]:
    """The objects an event names, as nodes (their keys, for what the event says of them)."""
    keys = []
    for epcs, quantities in zip(EPC_LISTS, QUANTITY_LISTS, strict=True):
        ilmd = event.get("ilmd") if epcs in _DESCRIBED else None
        for key, _, _ in _objects(event, epcs, quantities):
            keys.append(_object(out, position, key, ilmd))
            if ilmd:
                out.update("Batch", key, ilmd=json.dumps(ilmd, sort_keys=True))
    if event.get("parentID"):
        keys.append(_object(out, position, key_of(event["parentID"])))
    return keys


#: Master data vocabularies whose elements are parties or places: ``Customer`` nodes.
_PLACES = frozenset(("location", "businesslocation", "readpoint", "party"))
#: The attributes of a place that make its address, in the order they are written.
_ADDRESS = (
    "streetAddressOne",
    "streetAddressTwo",
    "streetAddressThree",
    "city",
    "state",
    "postalCode",
    "countryCode",
)
#: The attributes of a product class that describe it, the first one given.
_DESCRIPTIONS = ("descriptionShort", "tradeItemDescription", "regulatedProductName", "description", "name")


def _master_data(out: _Records, master: Iterable[Any]) -> None:
    """A place or party in the master data is a ``Customer`` with its name and address; a product
    class is a node like a class a quantity list names, and its description becomes the product
    of every object of its GTIN in the document that no ``ilmd`` described. Every attribute is kept
    as ``master_data`` (JSON). Master data records are placed at line 0, the document's header."""
    described: dict[str, str] = {}
    for element in master:
        key, attributes = key_of(element.id), element.attributes
        kept = json.dumps(attributes, sort_keys=True, ensure_ascii=False, default=str)
        if element.vocabulary in _PLACES:
            address = ", ".join(str(attributes[a]) for a in _ADDRESS if attributes.get(a)) or None
            name = attributes.get("name")
            out.node(0, "Customer", key, region="unknown")
            out.update("Customer", key, name=name and str(name), address=address, master_data=kept)
        elif element.vocabulary == "epcclass":
            text = next((str(attributes[a]) for a in _DESCRIPTIONS if attributes.get(a)), None)
            _object(out, 0, key)
            out.update("Batch", key, master_data=kept, product=text)
            if text:
                described[gtin_of(key) or key] = text
    for (kind_, uid), known in out.nodes.items():
        text = described.get(known.get("sku") or uid) if kind_ == "Batch" else None
        if text and known.get("product", "").startswith(("GTIN ", uid)):
            known["product"] = text


def _state(event: dict[str, Any]) -> dict[str, Any]:
    """Where and in what state an event saw what it names."""
    return {
        "biz_location": key_of((event.get("bizLocation") or {}).get("id", "")) or None,
        "read_point": key_of((event.get("readPoint") or {}).get("id", "")) or None,
        "disposition": event.get("disposition"),
    }


def _persistent(known: dict[str, Any], event: dict[str, Any]) -> str | None:
    """A persistent disposition holds until an event unsets it: what was set before, with this
    event's set added and its unset taken away."""
    change = event.get("persistentDisposition") or {}
    held = set(str(known.get("persistent_disposition", "")).split())
    held = (held | set(change.get("set") or [])) - set(change.get("unset") or [])
    return " ".join(sorted(held)) or None


def _map_event(out: _Records, position: int, event: dict[str, Any], journey: _Journey) -> None:
    state = _state(event)
    for key in _named(out, position, event):
        held = _persistent(out.nodes[("Batch", key)], event)
        out.update("Batch", key, **state, persistent_disposition=held)
    _link(out, position, event, journey, state)


def _link(
    out: _Records, position: int, event: dict[str, Any], journey: _Journey, state: dict[str, Any]
) -> None:
    evidence = event_id(event)
    at = to_epoch_ms(event["eventTime"])
    kind_ = event["type"]
    step = short_step(event.get("bizStep"))
    if kind_ == "ObjectEvent":
        things = _objects(event, "epcList", "quantityList")
        for key, quantity, unit in things:
            if event.get("action") == "ADD" and step in ("commissioning", ""):
                out.node(position, "Batch", key, quantity=quantity, unit=unit, started_at=at)
        if event.get("destinationList") or step in ("shipping", "receiving"):
            journey.move(key for key, _, _ in things)
            uid = _shipment(out, position, event, things, step, at, evidence, journey.shipments)
            out.update(
                "Shipment",
                uid,
                biz_location=state["biz_location"],
                read_point=state["read_point"],
                disposition=state["disposition"],
            )
    elif kind_ == "TransformationEvent":
        inputs = _objects(event, "inputEPCList", "inputQuantityList")
        outputs = _objects(event, "outputEPCList", "outputQuantityList")
        for key, quantity, unit in outputs:
            out.node(position, "Batch", key, quantity=quantity, unit=unit, started_at=at)
        for key, quantity, unit in inputs:
            for target, _, _ in outputs:
                share = quantity if len(outputs) == 1 else None
                ends = {"from": key, "to": target, "from_label": "Batch"}
                amount = {"quantity": share, "unit": unit if share is not None else None}
                out.rel(position, kind="CONSUMED_BY", **ends, **amount, evidence=evidence)
    elif kind_ in ("AggregationEvent", "AssociationEvent") and event.get("parentID"):
        parent = key_of(event["parentID"])
        children = _objects(event, "childEPCs", "childQuantityList")
        if event.get("action") == "DELETE":  # unpacked or disassociated: the named children, or all
            journey.unpack(out, parent, {key for key, _, _ in children} or None)
            return
        for key, quantity, unit in children:
            ends = {"from": key, "to": parent, "from_label": "Batch"}
            record = {"kind": "CONSUMED_BY", **ends, "quantity": quantity, "unit": unit, "evidence": evidence}
            journey.pack(position, key, parent, record)


def _shipment(
    out: _Records,
    position: int,
    event: dict[str, Any],
    things: list[tuple[str, float | None, str | None]],
    step: str,
    at: int,
    evidence: str,
    shipments: dict[Any, str],
) -> str:
    source = _party(out, position, event.get("sourceList"), "source")
    destination = _party(out, position, event.get("destinationList"), "destination")
    if destination is None and step == "receiving" and isinstance(event.get("bizLocation"), dict):
        destination = _party(out, position, [{"type": "location", "at": event["bizLocation"]["id"]}], "at")
    keys = frozenset(key for key, _, _ in things)
    earlier = shipments.get((keys, source))
    if step == "receiving" and earlier is not None:
        out.node(position, "Shipment", earlier, delivered_at=at)
        if destination is not None:  # the receipt is evidence of the delivery
            out.rel(position, kind="DELIVERED_TO", **{"from": earlier, "to": destination}, evidence=evidence)
        return earlier
    uid = shipment_uid(event_id(event))
    transactions = event.get("bizTransactionList") or []
    documents = " ".join(str(t.get("bizTransaction")) for t in transactions)
    kinds = [BIZ_TRANSACTIONS.get(short_step(t.get("type")), short_step(t.get("type"))) for t in transactions]
    timing = {"delivered_at": at} if step == "receiving" else {"shipped_at": at}
    document_type = "; ".join(dict.fromkeys(k for k in kinds if k)) or None
    out.node(position, "Shipment", uid, document=documents or None, document_type=document_type, **timing)
    shipments[(keys, source)] = uid
    for key, quantity, unit in things:
        ends = {"from": key, "to": uid}
        out.rel(position, kind="SHIPPED_IN", **ends, quantity=quantity, unit=unit, evidence=evidence)
    if destination is not None:
        out.rel(position, kind="DELIVERED_TO", **{"from": uid, "to": destination}, evidence=evidence)
    if source is not None:
        out.rel(position, kind="DISPATCHED", **{"from": source, "to": uid}, evidence=evidence)
    return uid
