"""EPCIS 2.0 documents out, JSON-LD or XML: the events a trace rests on, or a period's events, so a
partner can be sent what lineage says and read it into their own system (or lineage again).

The events go out as they were read (:mod:`.document`; CBV values as bare words in JSON-LD, as
URNs in XML), each whole, with what their documents' contexts declared for their prefixed
names; an event without an id of its own goes with the one lineage gave it (``hash:...``), so that
reading the document again names the same event. An event declared in error goes with its
declaration. Records that did not come from EPCIS (JSON Lines, CSV) have no event to send and are
not in the document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

from lineage.errors import InvalidRequest
from lineage.graph.evidence import evidence_of
from lineage.graph.model import OPEN_END, OPEN_START, NodeRef, iso, now_ms, to_epoch_ms
from lineage.graph.scope import Scope, Window, backward, forward
from lineage.graph.store import Store
from lineage.interchange.epcis.vocabulary import CBV_FORMS
from lineage.interchange.fsma import Direction

Format = Literal["jsonld", "xml"]
MEDIA_TYPES: dict[str, str] = {"jsonld": "application/ld+json", "xml": "application/xml"}
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
PAGE = 5_000
#: Prefixes the EPCIS context declares, by the namespaces EPCIS XML gives them.
STANDARD_PREFIXES = {"cbvmda": "urn:epcglobal:cbv:mda", "gs1": "https://gs1.org/voc/"}

#: An event whole (and its declaration of error, if one was made), and what its document's context
#: declared (JSON), as stored.
Stored = tuple[list[dict[str, Any]], str | None]


def export(
    store: Store,
    source: NodeRef | None,
    direction: Direction,
    window: Window | None,
    fmt: Format,
    who: str,
    max_nodes: int | None = None,
) -> tuple[int, bytes, str]:
    """(events, content, file name) of the document: the events the trace through ``source`` rests
    on (``direction`` both: forward and backward), those in ``window`` only where one is given; or,
    with no source, every event in ``window``. The audit log says who sent what out."""
    from lineage.graph.audit import record
    from lineage.recall.notices import file_stem

    if source is None:
        if window is None:
            raise InvalidRequest(
                "give a source, or a period (a from, a to, or both) to export every event in"
            )
        events = list(events_between(store, window.start, window.end))
        start, end = _when(window.start), _when(window.end)
        name, subject = f"epcis-{start}", f"events {start} to {end}"
    else:
        walks = {"forward": [forward], "backward": [backward], "both": [backward, forward]}[direction]
        chosen: dict[str, Stored] = {}
        for walk in walks:
            found = scope_events(store, walk(store, source, max_nodes=max_nodes))
            chosen.update((bodies[0]["eventID"], (bodies, context)) for bodies, context in found if bodies)
        events = sorted(chosen.values(), key=lambda e: to_epoch_ms(e[0][0]["eventTime"]))
        if window is not None:
            events = [e for e in events if window.start <= to_epoch_ms(e[0][0]["eventTime"]) < window.end]
        name, subject = f"epcis-{direction}-{file_stem(source.uid)}", f"{source.label.value}:{source.uid}"
    content = render(events, fmt)
    count = sum(len(bodies) for bodies, _ in events)
    record(store, who, "export.epcis", subject[:1000], {"events": count}, f"{direction}; {fmt}")
    return count, content, f"{name}.{fmt}".replace(":", "")


def _when(ms: int) -> str:
    """A window's end as a time, or ``open`` where it reaches as far as time does."""
    return "open" if ms in (OPEN_START, OPEN_END) else iso(ms) or "open"


def scope_events(store: Store, scope: Scope) -> list[Stored]:
    """The stored events the scope rests on (:func:`lineage.graph.evidence.evidence_of`), oldest
    first; one declared in error with its declaration."""
    rows = store.run_over("epcis_event_bodies", "ids", [e.id for e in evidence_of(store, scope)])
    return [_stored(row) for row in sorted(rows, key=lambda r: (r["event_time"] or 0, r["id"]))]


def events_between(store: Store, start: int, end: int) -> Iterator[Stored]:
    """Every stored event that happened in [start, end), oldest first, a page at a time."""
    after_time, after_id = start - 1, ""
    while True:
        params = {"start": start, "end": end, "after_time": after_time, "after_id": after_id, "limit": PAGE}
        rows = store.run("epcis_events_between", **params)
        yield from (_stored(row) for row in rows)
        if len(rows) < PAGE:
            return
        after_time, after_id = rows[-1]["event_time"], rows[-1]["id"]


def _stored(row: dict[str, Any]) -> Stored:
    bodies = [json.loads(row[part]) for part in ("body", "declaration") if row.get(part)]
    return [{**body, "eventID": body.get("eventID") or row["id"]} for body in bodies], row.get("context")


def render(events: Iterable[Stored], fmt: Format) -> bytes:
    """An ``EPCISDocument`` of the events."""
    events = list(events)
    declared: dict[str, Any] = {}
    for _, context in events:
        declared.update(json.loads(context) if context else {})
    bodies = [body for kept, _ in events for body in kept]
    if fmt == "xml":
        return _xml(bodies, declared).encode()
    document = {
        "@context": [EPCIS_CONTEXT, declared] if declared else [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(now_ms()),
        "epcisBody": {"eventList": bodies},
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


# --- XML -------------------------------------------------------------------------------------------

#: Each event type's fields in the order EPCIS 2.0's XML schema gives them (extensions follow).
_HEAD = ("eventTime", "recordTime", "eventTimeZoneOffset", "certificationInfo", "eventID", "errorDeclaration")
_WHERE = ("readPoint", "bizLocation")
_TAIL = ("sourceList", "destinationList", "sensorElementList", "ilmd")
_STATE = ("action", "bizStep", "disposition", "persistentDisposition", *_WHERE)
ORDER = {
    "ObjectEvent": (*_HEAD, "epcList", *_STATE, "bizTransactionList", "quantityList", *_TAIL),
    "AggregationEvent": (
        *_HEAD,
        "parentID",
        "childEPCs",
        *_STATE,
        "bizTransactionList",
        "childQuantityList",
        *_TAIL,
    ),
    "TransactionEvent": (
        *_HEAD,
        "bizTransactionList",
        "parentID",
        "epcList",
        *_STATE,
        "quantityList",
        *_TAIL,
    ),
    "TransformationEvent": (
        *_HEAD,
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        *_STATE[1:],
        "bizTransactionList",
        *_TAIL,
    ),
    "AssociationEvent": (
        *_HEAD,
        "parentID",
        "childEPCs",
        "childQuantityList",
        *_STATE,
        "bizTransactionList",
        *_TAIL,
    ),
}
_EPCS = frozenset(("epcList", "childEPCs", "inputEPCList", "outputEPCList"))
_QUANTITIES = frozenset(("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"))
_ENDS = {"sourceList": "source", "destinationList": "destination"}
#: The CBV vocabulary of each field written as a URN in XML.
_URNS = {"bizStep": "bizstep", "disposition": "disp"}


def _xml(events: list[dict[str, Any]], declared: dict[str, Any]) -> str:
    prefixes = STANDARD_PREFIXES | {k: v for k, v in declared.items() if isinstance(v, str) and ":" in v}
    for event in events:  # a prefix no context declared still needs a namespace to be XML
        for name in _names(event):
            prefix = name.split(":", 1)[0]
            if ":" in name and not name.startswith(("http:", "https:", "urn:")) and prefix not in prefixes:
                prefixes[prefix] = f"urn:lineage:undeclared-prefix:{prefix}"
    namespaces = "".join(f" xmlns:{p}={quoteattr(str(uri))}" for p, uri in sorted(prefixes.items()))
    body = "".join(_event(e) for e in events)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"{namespaces} schemaVersion="2.0" '
        f'creationDate="{iso(now_ms())}"><EPCISBody><EventList>{body}</EventList></EPCISBody>'
        "</epcis:EPCISDocument>\n"
    )


def _names(value: Any) -> Iterator[str]:
    """Every key of an event, nested ones too."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


def _event(event: dict[str, Any]) -> str:
    kind = event["type"]
    order = ORDER.get(kind, ())
    known = [name for name in order if name in event]
    extensions = [name for name in event if name not in order and name != "type" and not name.startswith("@")]
    inner = "".join(_field(name, event[name]) for name in [*known, *extensions])
    return f"<{kind}>{inner}</{kind}>"


def _field(name: str, value: Any) -> str:
    if name in _EPCS:
        return _tag(name, "".join(_tag("epc", escape(str(v))) for v in value))
    if name in _QUANTITIES:
        return _tag(name, "".join(_tag("quantityElement", _quantity(q)) for q in value))
    if name in _ENDS:
        key = _ENDS[name]
        items = "".join(
            f"<{key} type={quoteattr(_urn(i.get('type'), 'sdt'))}>{escape(str(i.get(key, '')))}</{key}>"
            for i in value
        )
        return _tag(name, items)
    if name == "bizTransactionList":
        items = "".join(
            f"<bizTransaction{_type(t.get('type'), 'btt')}>{escape(str(t.get('bizTransaction', '')))}"
            "</bizTransaction>"
            for t in value
        )
        return _tag(name, items)
    if name in _URNS:
        return _tag(name, escape(_urn(value, _URNS[name])))
    if name == "persistentDisposition":
        parts = "".join(
            _tag(part, escape(_urn(v, "disp"))) for part in ("set", "unset") for v in value.get(part, [])
        )
        return _tag(name, parts)
    if name == "errorDeclaration":
        declared = dict(value)
        ids = declared.pop("correctiveEventIDs", None)
        parts = "".join(
            _field(k, _urn(v, "er") if k == "reason" else v)
            for k, v in declared.items()
            if not k.startswith("@")
        )
        if ids:
            parts += _tag(
                "correctiveEventIDs", "".join(_tag("correctiveEventID", escape(str(i))) for i in ids)
            )
        return _tag(name, parts)
    if name == "sensorElementList":
        return _tag(name, "".join(_tag("sensorElement", _sensor(s)) for s in value))
    return _value(name, value)


def _quantity(q: dict[str, Any]) -> str:
    return "".join(_tag(k, escape(_number(q[k]))) for k in ("epcClass", "quantity", "uom") if k in q)


def _sensor(sensor: dict[str, Any]) -> str:
    meta = sensor.get("sensorMetadata")
    parts = f"<sensorMetadata{_attributes(meta)}/>" if isinstance(meta, dict) else ""
    return parts + "".join(f"<sensorReport{_attributes(r)}/>" for r in sensor.get("sensorReport") or [])


def _attributes(values: dict[str, Any]) -> str:
    return "".join(
        f" {k}={quoteattr(_number(v))}"
        for k, v in values.items()
        if _name_ok(k) and not isinstance(v, dict | list)
    )


def _value(name: str, value: Any) -> str:
    """Any other field: text, an object's fields as elements (``@value`` its text), a list as the
    element repeated."""
    if not _name_ok(name):
        return ""
    if isinstance(value, list):
        return "".join(_value(name, item) for item in value)
    if isinstance(value, dict):
        text = escape(_number(value["@value"])) if "@value" in value else ""
        return _tag(name, text + "".join(_value(k, v) for k, v in value.items() if not k.startswith("@")))
    return _tag(name, escape(_number(value)))


def _name_ok(name: str) -> bool:
    """Whether the name can be an XML element's (a URI key cannot)."""
    return bool(name) and not name.startswith(("http:", "https:", "urn:", "@")) and " " not in name


def _tag(name: str, inner: str) -> str:
    return f"<{name}>{inner}</{name}>"


def _type(value: Any, vocabulary: str) -> str:
    return f" type={quoteattr(_urn(value, vocabulary))}" if value else ""


def _urn(value: Any, vocabulary: str) -> str:
    """A CBV bare word as its URN (``shipping``: ``urn:epcglobal:cbv:bizstep:shipping``), as XML
    writes it; anything else as it is."""
    text = str(value or "")
    return f"urn:epcglobal:cbv:{vocabulary}:{text}" if text in CBV_FORMS[vocabulary][1] else text


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
