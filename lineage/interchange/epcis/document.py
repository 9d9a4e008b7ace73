"""Reading an EPCIS document, JSON-LD 2.0 or XML 1.2 / 2.0 (:mod:`.xml` reads the XML into the
JSON-LD shape), and refusing one that breaks the standard.

A document (``EPCISDocument``, an ``EPCISQueryDocument`` with its results, or a bare list of events;
UTF-8 with or without a byte-order mark) is checked whole before anything is made of it, and every
fault is reported with where it is (``eventList[1].action``) and what is wrong, as a
:class:`lineage.errors.ValidationFailed` naming the file: the same contract as every other input
(nothing of a refused document is written).

Lenient where the standard is, the document is taken with a :class:`lineage.errors.Notice` for what
was not as written: a URI that is a malformed GS1 key (``urn:epc:id:sscc:`` with a wrong digit
count) is kept as an opaque identifier, since EPCIS allows any URI; an event field that no
``@context`` defines is kept in the stored event; an ``eventTime`` without offset takes the event's
``eventTimeZoneOffset``; the same event twice is one event. An empty string where an optional value
may stand is an absent value, and a field the document's (or the event's) ``@context`` defines by
name (``"harvestStartDate": "gdst:harvestStartDate"``) is an extension like a prefixed one.
Master data (``epcisHeader.epcisMasterData``) is read beside the events; a document of master data
alone is taken.

What is checked is what the standard's JSON schema and the Core Business Vocabulary (CBV 2.0)
require of a capture document: the ``@context``; the five event types; ``eventTime`` and
``eventTimeZoneOffset`` on every event and ``action`` (ADD, OBSERVE, DELETE) where the type has one;
the identifiers each type needs; quantity elements (``epcClass``, a numeric ``quantity``, ``uom``,
nothing else); a bare-word ``bizStep``, ``disposition``, source or destination type, business
transaction type or error reason must be the CBV's own (anything else is written as a URI or with a
declared prefix); ``ilmd`` fields and extensions carry a namespace; dates in certification details
are dates; every EPC URN and GS1 Digital Link is well formed (:mod:`lineage.graph.gs1`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lineage.errors import Notice, Problem, ValidationFailed
from lineage.graph.gs1 import IdentifierError, canonical
from lineage.interchange.epcis.vocabulary import (
    ACTIONS,
    BIZ_STEPS,
    BIZ_TRANSACTION_TYPES,
    DISPOSITIONS,
    DOCUMENT_TYPES,
    ERROR_REASONS,
    EVENT_TYPES,
    SOURCE_TYPES,
    cbv_word,
    words,
)
from lineage.interchange.epcis.xml import XML_DOCUMENT_TYPES, xml_document

#: The fields of an event the standard defines (an extension carries a prefix: ``example:myField``).
EVENT_FIELDS = words(
    """
    @context @type action bizLocation bizStep bizTransactionList certificationInfo childEPCs
    childQuantityList destinationList disposition epcList errorDeclaration eventID eventTime
    eventTimeZoneOffset ilmd inputEPCList inputQuantityList outputEPCList outputQuantityList
    parentID persistentDisposition quantityList readPoint recordTime sensorElementList sourceList
    transformationID type
    """
)
EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
_NO_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$")
_OFFSET = re.compile(r"^[+-]\d\d:\d\d$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d([T ].*)?$")


#: Event fields that are never absent, even when empty: the checks name them.
REQUIRED_FIELDS = frozenset(("type", "eventTime", "eventTimeZoneOffset", "action"))


@dataclass(frozen=True)
class MasterData:
    """One element of a master data vocabulary: its type's last word in lower case (``location``,
    ``businesslocation``, ``party``, ``epcclass``, ...), its id, and its attributes by their last
    word (``urn:epcglobal:cbv:mda#name`` as ``name``)."""

    vocabulary: str
    id: str
    attributes: dict[str, Any]


@dataclass
class Document:
    """A document that passed every check: its events in document order, each with its number in
    the document (from 1; a repeated event is left out), its master data, and what was taken though
    not as written."""

    path: Path
    kind: str
    events: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    master: list[MasterData] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: The document's ``@context`` (from XML: the namespaces it declares), for what its events'
    #: prefixed names stand for.
    context: Any = None

    def numbered(self) -> list[tuple[int, dict[str, Any]]]:
        return list(zip(self.numbers, self.events, strict=True))


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.notices: list[Notice] = []
        #: The terms the document's own ``@context`` defines by name: extensions without a prefix.
        self.terms: frozenset[str] = frozenset()

    def fail(self, where: str, message: str) -> None:
        self.problems.append(Problem(str(self.path), None, where or None, message))

    def note(self, kind: str, where: str, message: str) -> None:
        self.notices.append(Notice(kind, str(self.path), None, where or None, message))

    def time(self, value: Any, where: str, required: bool = True) -> None:
        if value is None:
            if required:
                self.fail(where, "missing; an ISO-8601 time with its offset, e.g. 2026-07-22T06:45:00+02:00")
            return
        if not isinstance(value, str) or not ISO_TIME.match(value) or _parse_time(value) is None:
            self.fail(where, f"{value!r} is not an ISO-8601 time with an offset (2026-07-22T06:45:00+02:00)")

    def vocabulary(self, value: Any, allowed: frozenset[str], what: str, where: str) -> None:
        """A CBV value is a bare word of the vocabulary, or any URI or prefixed name."""
        if not isinstance(value, str) or not value:
            self.fail(where, f"{what} must be text")
            return
        if ":" in value:
            word = value.rsplit(":", 1)[1] if value.startswith("urn:epcglobal:cbv:") else None
            if word is not None and word not in allowed:  # a later CBV's word, likely: a URI still
                self.note("unknown CBV word", where, f"{value!r} names no CBV 2.0 {what}; kept as written")
            return
        if value not in allowed:
            self.fail(
                where,
                f"{value!r} is not a CBV {what}; a non-standard one is written as a URI or "
                "with a declared prefix (example:my_step)",
            )

    def identifier(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "an identifier must be non-empty text")
            return
        try:
            canonical(value)
        except IdentifierError as e:
            self.note("opaque identifier", where, f"{e}; kept as given, as an opaque identifier")

    def quantities(self, items: Any, where: str) -> None:
        if not isinstance(items, list):
            self.fail(where, "must be a list of quantity elements")
            return
        for i, q in enumerate(items):
            at = f"{where}[{i}]"
            if not isinstance(q, dict):
                self.fail(at, "must be an object with epcClass, quantity and uom")
                continue
            for extra in sorted(set(q) - {"epcClass", "quantity", "uom"}):
                self.fail(f"{at}.{extra}", "unknown field in a quantity element (epcClass, quantity, uom)")
            if "epcClass" not in q:
                self.fail(f"{at}.epcClass", "missing")
            else:
                self.identifier(q["epcClass"], f"{at}.epcClass")
            quantity = q.get("quantity")
            if "quantity" in q and (isinstance(quantity, bool) or not isinstance(quantity, int | float)):
                self.fail(f"{at}.quantity", f"must be a number, not {quantity!r}")
            if "uom" in q and "quantity" not in q:
                self.fail(f"{at}.uom", "a unit without a quantity")


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _prefixed(key: str) -> bool:
    return ":" in key or key.startswith(("http://", "https://"))


def context_declarations(context: Any) -> dict[str, Any]:
    """What a JSON-LD ``@context`` (a URL, an object, or a list of them) declares by name: its
    prefixes and terms, each with what it stands for."""
    items = context if isinstance(context, list) else [context]
    return {key: value for item in items if isinstance(item, dict) for key, value in item.items()}


def context_terms(context: Any) -> frozenset[str]:
    """The terms a JSON-LD ``@context`` defines by name."""
    return frozenset(key for key in context_declarations(context) if not key.startswith("@"))


def _cbv_words(e: dict[str, Any]) -> None:
    """Every CBV value of the event as its bare word: XML and JSON-LD renderings read alike."""
    for name, vocabulary in (("bizStep", "bizstep"), ("disposition", "disp")):
        if name in e:
            e[name] = cbv_word(e[name], vocabulary)
    persistent = e.get("persistentDisposition")
    if isinstance(persistent, dict):
        for part in ("set", "unset"):
            if isinstance(persistent.get(part), list):
                persistent[part] = [cbv_word(v, "disp") for v in persistent[part]]
    for name in ("sourceList", "destinationList"):
        for item in e.get(name) if isinstance(e.get(name), list) else []:
            if isinstance(item, dict) and "type" in item:
                item["type"] = cbv_word(item["type"], "sdt")
    for item in e.get("bizTransactionList") if isinstance(e.get("bizTransactionList"), list) else []:
        if isinstance(item, dict) and "type" in item:
            item["type"] = cbv_word(item["type"], "btt")
    declared = e.get("errorDeclaration")
    if isinstance(declared, dict) and "reason" in declared:
        declared["reason"] = cbv_word(declared["reason"], "er")


def _lenient(c: _Checker, e: dict[str, Any], where: str) -> None:
    """Read the event as the standard allows it to be written: an empty optional value is absent,
    a CBV value is its bare word however it is written, and a time without offset is at the
    event's ``eventTimeZoneOffset`` (which stays required)."""
    for key in [k for k, v in e.items() if v == "" and k not in REQUIRED_FIELDS]:
        del e[key]
    _cbv_words(e)
    for place in ("readPoint", "bizLocation"):
        if isinstance(e.get(place), dict) and e[place].get("id") == "":
            del e[place]
    offset = e.get("eventTimeZoneOffset")
    if isinstance(offset, str) and _OFFSET.match(offset):
        for name in ("eventTime", "recordTime"):
            value = e.get(name)
            if isinstance(value, str) and _NO_OFFSET.match(value):
                e[name] = value + offset
                c.note(
                    "time without offset",
                    f"{where}.{name}",
                    f"{value!r} taken at eventTimeZoneOffset {offset}",
                )


def _check_event(c: _Checker, e: Any, where: str) -> None:
    if not isinstance(e, dict):
        c.fail(where, "an event must be an object")
        return
    kind = e.get("type")
    if kind not in EVENT_TYPES:
        c.fail(f"{where}.type", f"{kind!r} is not an event type; expected one of {', '.join(EVENT_TYPES)}")
        return
    _lenient(c, e, where)
    c.time(e.get("eventTime"), f"{where}.eventTime")
    offset = e.get("eventTimeZoneOffset")
    if offset is None:
        c.fail(f"{where}.eventTimeZoneOffset", "missing; e.g. +02:00")
    elif not isinstance(offset, str) or not _OFFSET.match(offset):
        c.fail(f"{where}.eventTimeZoneOffset", f"{offset!r} is not an offset like +02:00")
    c.time(e.get("recordTime"), f"{where}.recordTime", required=False)
    terms = c.terms | context_terms(e.get("@context"))
    for key in sorted(e):
        if key not in EVENT_FIELDS and not _prefixed(key) and key not in terms:
            c.note(
                "unknown field",
                f"{where}.{key}",
                "not an EPCIS field, and no namespace or @context names it; kept in the stored event",
            )
    if kind == "TransformationEvent":
        if "action" in e:
            c.fail(f"{where}.action", "a TransformationEvent has no action")
    elif "action" not in e:
        c.fail(f"{where}.action", f"missing; one of {', '.join(ACTIONS)}")
    elif e["action"] not in ACTIONS:
        c.fail(f"{where}.action", f"{e['action']!r} is not one of {', '.join(ACTIONS)}")
    _check_identifiers(c, e, kind, where)
    if "bizStep" in e:
        c.vocabulary(e["bizStep"], BIZ_STEPS, "business step", f"{where}.bizStep")
    if "disposition" in e:
        c.vocabulary(e["disposition"], DISPOSITIONS, "disposition", f"{where}.disposition")
    persistent = e.get("persistentDisposition")
    if persistent is not None:
        for part in ("set", "unset"):
            for i, value in enumerate(
                (persistent or {}).get(part, []) if isinstance(persistent, dict) else []
            ):
                c.vocabulary(value, DISPOSITIONS, "disposition", f"{where}.persistentDisposition.{part}[{i}]")
    for place in ("readPoint", "bizLocation"):
        if place in e:
            value = e[place]
            if not isinstance(value, dict) or "id" not in value:
                c.fail(f"{where}.{place}", "must be an object with an id")
            else:
                c.identifier(value["id"], f"{where}.{place}.id")
    for name, key in (("sourceList", "source"), ("destinationList", "destination")):
        for i, item in enumerate(e.get(name) or []):
            at = f"{where}.{name}[{i}]"
            if not isinstance(item, dict) or key not in item or "type" not in item:
                c.fail(at, f"must have a type and a {key}")
                continue
            c.vocabulary(item["type"], SOURCE_TYPES, f"{key} type", f"{at}.type")
            c.identifier(item[key], f"{at}.{key}")
    for i, item in enumerate(e.get("bizTransactionList") or []):
        at = f"{where}.bizTransactionList[{i}]"
        if not isinstance(item, dict) or not item.get("bizTransaction"):
            c.fail(at, "must have a bizTransaction")
        elif "type" in item:
            c.vocabulary(item["type"], BIZ_TRANSACTION_TYPES, "business transaction type", f"{at}.type")
    ilmd = e.get("ilmd")
    if ilmd is not None:
        if not isinstance(ilmd, dict):
            c.fail(f"{where}.ilmd", "must be an object")
        else:
            defined = terms | context_terms(ilmd.get("@context"))
            for key in sorted(ilmd):
                if not _prefixed(key) and key not in ("@context", "@type") and key not in defined:
                    c.fail(
                        f"{where}.ilmd.{key}", "an ilmd field carries a namespace prefix (example:lotNumber)"
                    )
    declaration = e.get("errorDeclaration")
    if declaration is not None:
        c.time(
            declaration.get("declarationTime") if isinstance(declaration, dict) else None,
            f"{where}.errorDeclaration.declarationTime",
        )
        if isinstance(declaration, dict) and "reason" in declaration:
            c.vocabulary(
                declaration["reason"], ERROR_REASONS, "error reason", f"{where}.errorDeclaration.reason"
            )
    _check_dates(c, e.get("certificationInfo"), f"{where}.certificationInfo")


def _check_identifiers(c: _Checker, e: dict[str, Any], kind: str, where: str) -> None:
    for name in EPC_LISTS:
        if name in e:
            if not isinstance(e[name], list):
                c.fail(f"{where}.{name}", "must be a list of identifiers")
                continue
            for i, value in enumerate(e[name]):
                c.identifier(value, f"{where}.{name}[{i}]")
    for name in QUANTITY_LISTS:
        if name in e:
            c.quantities(e[name], f"{where}.{name}")
    if "parentID" in e:
        c.identifier(e["parentID"], f"{where}.parentID")

    def has(*names: str) -> bool:
        return any(isinstance(e.get(n), list) and e[n] for n in names)

    sensed = kind == "ObjectEvent" and bool(e.get("sensorElementList"))
    if (
        kind in ("ObjectEvent", "TransactionEvent")
        and not sensed
        and not any(isinstance(e.get(n), list) for n in ("epcList", "quantityList"))
    ):
        c.fail(where, f"an {kind} names what it is about: epcList or quantityList (empty for sensor data)")
    if kind == "AggregationEvent" and e.get("action") in ("ADD", "DELETE") and "parentID" not in e:
        c.fail(f"{where}.parentID", f"missing; an aggregation {e.get('action')} names its parent")
    if kind == "AssociationEvent" and "parentID" not in e:
        c.fail(f"{where}.parentID", "missing; an association names its parent")
    if kind == "TransformationEvent" and not has(*EPC_LISTS[2:], *QUANTITY_LISTS[2:], "transformationID"):
        c.fail(where, "a TransformationEvent names its inputs or outputs")
    if kind == "TransactionEvent" and not has("bizTransactionList"):
        c.fail(f"{where}.bizTransactionList", "missing; a TransactionEvent names its business transaction")


def _check_dates(c: _Checker, value: Any, where: str) -> None:
    """Certification details: any field named ...Date holds a date."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_dates(c, item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("Date") and isinstance(item, str) and not _DATE.match(item):
                c.fail(f"{where}.{key}", f"{item!r} is not a date (2023-12-20)")
            else:
                _check_dates(c, item, f"{where}.{key}")


def events_of(body: Any) -> list[Any] | None:
    if not isinstance(body, dict):
        return None
    if "eventList" in body:
        return body["eventList"] if isinstance(body["eventList"], list) else None
    results = body.get("queryResults", {})
    inner = results.get("resultsBody", {}) if isinstance(results, dict) else {}
    found = inner.get("eventList") if isinstance(inner, dict) else None
    return found if isinstance(found, list) else None


def _master_data(c: _Checker, header: Any) -> list[MasterData]:
    """The elements of ``epcisHeader.epcisMasterData.vocabularyList``."""
    held = header.get("epcisMasterData") if isinstance(header, dict) else None
    vocabularies = held.get("vocabularyList") if isinstance(held, dict) else None
    found: list[MasterData] = []
    for i, vocabulary in enumerate(vocabularies if isinstance(vocabularies, list) else []):
        at = f"epcisHeader.epcisMasterData.vocabularyList[{i}]"
        if not isinstance(vocabulary, dict):
            c.fail(at, "a vocabulary must be an object with a type and a vocabularyElementList")
            continue
        kind = str(vocabulary.get("type") or "").rsplit(":", 1)[-1].lower()
        for j, element in enumerate(vocabulary.get("vocabularyElementList") or []):
            where = f"{at}.vocabularyElementList[{j}]"
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                c.fail(where, "a vocabulary element must be an object with an id")
                continue
            c.identifier(element["id"], f"{where}.id")
            attributes = {}
            for attribute in element.get("attributes") or []:
                if isinstance(attribute, dict) and isinstance(attribute.get("id"), str):
                    name = attribute["id"].rsplit("#", 1)[-1].rsplit(":", 1)[-1]
                    attributes[name] = attribute.get("attribute")
            found.append(MasterData(kind, element["id"], attributes))
    return found


def _once(c: _Checker, events: list[Any]) -> list[tuple[int, Any]]:
    """The events numbered from 1, each id once: an event given again as it was is one event; given
    again otherwise, it is refused with both places named. A declaration of error repeats the id
    of the event it declares, and is not a repeat."""
    seen: dict[str, tuple[int, Any]] = {}
    kept: list[tuple[int, Any]] = []
    for number, event in enumerate(events, start=1):
        uid = event.get("eventID") if isinstance(event, dict) else None
        if isinstance(uid, str) and uid and not event.get("errorDeclaration"):
            first = seen.setdefault(uid, (number, event))
            if first[1] is not event:
                where, was = f"eventList[{number - 1}]", f"eventList[{first[0] - 1}]"
                if first[1] == event:
                    c.note("repeated event", where, f"{uid} as at {was}; taken once")
                    continue
                c.fail(f"{where}.eventID", f"{uid!r} is also the id of {was}, whose content differs")
        kept.append((number, event))
    return kept


def _parse(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValidationFailed(
            "not an EPCIS document", [Problem(str(path), None, None, f"not JSON: {e}")]
        ) from None


def read_document(path: Path) -> Document:
    """Parse and check one document (EPCIS XML where the name ends in ``.xml``, else JSON-LD);
    refuse it whole, naming every fault, if anything is wrong."""
    c = _Checker(path)
    xml = path.suffix.lower() == ".xml"
    data = xml_document(path) if xml else _parse(path)
    if isinstance(data, dict) and data.get("type") in EVENT_TYPES:  # a bare event
        data = [data]
    if isinstance(data, list):  # a bare list of events
        kind, events, master = "eventList", data, []
    elif not isinstance(data, dict):
        c.fail("", "an EPCIS document is a JSON object (or a list of events)")
        raise ValidationFailed("EPCIS document refused", c.problems)
    else:
        kind = data.get("type")
        kinds = XML_DOCUMENT_TYPES if xml else DOCUMENT_TYPES
        if kind not in kinds:
            c.fail("type", f"{kind!r}; expected {' or '.join(kinds)}")
        if not xml and not data.get("@context"):
            c.fail(
                "@context",
                "missing; an EPCIS 2.0 JSON-LD document names its context "
                "(https://ref.gs1.org/standards/epcis/epcis-context.jsonld)",
            )
        c.terms = context_terms(data.get("@context"))
        version = str(data.get("schemaVersion", ""))
        if xml and not version.startswith(("1.", "2.")):  # the elements say which: both are read
            c.note(
                "schema version",
                "schemaVersion",
                f"{data.get('schemaVersion')!r}; read as EPCIS XML 1.2 / 2.0",
            )
        elif not xml and not version.startswith("2."):
            c.fail(
                "schemaVersion",
                f"{data.get('schemaVersion')!r}; this reader takes EPCIS 2.0 (XML: 1.x and 2.x)",
            )
        c.time(data.get("creationDate"), "creationDate", required=False)
        master = _master_data(c, data.get("epcisHeader"))
        events = events_of(data.get("epcisBody"))
        if events is None and not master:
            c.fail("epcisBody", "missing its eventList (or queryResults.resultsBody.eventList)")
        events = events or []
    for i, event in enumerate(events):
        _check_event(c, event, f"eventList[{i}]")
    kept = _once(c, events)
    if c.problems:
        raise ValidationFailed("EPCIS document refused", c.problems)
    return Document(
        path=path,
        kind=str(kind),
        events=[event for _, event in kept],
        numbers=[number for number, _ in kept],
        master=master,
        notices=c.notices,
        context=None if isinstance(data, list) else data.get("@context"),
    )
