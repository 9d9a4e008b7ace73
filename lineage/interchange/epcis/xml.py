"""EPCIS XML, 1.2 and 2.0 (capture documents, query documents, master data documents), read into
the shape of an EPCIS 2.0 JSON-LD document, so that one set of checks and one mapping serve both.

- Events keep their fields under the JSON-LD names; what EPCIS 1.2 wraps in ``extension`` and
  ``baseExtension`` (quantity lists, sources, ``ilmd``, the event id, an error declaration, a
  TransformationEvent in the event list) is read as if it stood on the event, as 2.0 writes it.
- An element of another namespace is an extension named ``prefix:name`` by the prefix the document
  declares for it (its namespace URI where it declares none); its children and attributes become
  an object, its text a value.
- Master data (``EPCISMasterData``, in the header or as a master data document's body) becomes
  ``epcisHeader.epcisMasterData.vocabularyList``.
- A bare event (the root element an event) is a list of that one event; an element marked
  ``xsi:nil`` is absent; a query document's ``createdAt`` is its ``creationDate``.

Parsed by :mod:`defusedxml`: a document that declares entities (the "billion laughs") or points at
an external one is refused before anything is expanded or fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException

from lineage.errors import Problem, ValidationFailed
from lineage.interchange.epcis.vocabulary import EVENT_TYPES

#: The namespaces of EPCIS's own elements: their names are the JSON-LD names, with no prefix.
OWN_NAMESPACES = frozenset(
    (
        "",
        "urn:epcglobal:epcis:xsd:1",
        "urn:epcglobal:epcis:xsd:2",
        "urn:epcglobal:epcis-query:xsd:1",
        "urn:epcglobal:epcis-query:xsd:2",
        "urn:epcglobal:epcis-masterdata:xsd:1",
        "urn:epcglobal:epcis-masterdata:xsd:2",
    )
)
XML_DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument", "EPCISMasterDataDocument")
_EPC_LISTS = frozenset(("epcList", "childEPCs", "inputEPCList", "outputEPCList"))
_QUANTITY_LISTS = frozenset(("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"))
_ENDS = {"sourceList": "source", "destinationList": "destination"}
_WRAPPERS = frozenset(("extension", "baseExtension"))
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
#: Sensor report attributes that hold numbers.
_NUMBERS = frozenset(("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"))


def xml_document(path: Path) -> dict[str, Any] | list[dict[str, Any]]:
    """The document at ``path`` as EPCIS 2.0 JSON-LD would hold it; refused if it is not XML or
    declares entities."""
    prefixes: dict[str, str] = {}
    root: Element | None = None
    try:
        for event, item in SafeTree.iterparse(str(path), events=("start-ns", "start")):
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(uri, prefix)
            elif root is None:
                root = item
    except DefusedXmlException as e:
        raise _refused(path, None, f"refused: {e} (entities and external references are not read)") from None
    except SafeTree.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise _refused(path, line, f"not XML: {e}") from None
    except OSError as e:
        raise _refused(path, None, f"cannot be read: {e}") from None
    assert root is not None  # a parse that ended without error had a root element
    return _Reader(prefixes).document(root)


def _refused(path: Path, line: int | None, message: str) -> ValidationFailed:
    return ValidationFailed("not an EPCIS document", [Problem(str(path), line, None, message)])


def local(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an element's tag."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


class _Reader:
    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes

    def name(self, tag: str) -> str:
        namespace, name = local(tag)
        if namespace in OWN_NAMESPACES:
            return name
        prefix = self.prefixes.get(namespace)
        return f"{prefix}:{name}" if prefix else f"{namespace}{name}"

    def document(self, root: Element) -> dict[str, Any] | list[dict[str, Any]]:
        """The document; a bare event (the root an event) as a list of that one event."""
        if local(root.tag)[1] in EVENT_TYPES:
            return [self.event(root)]
        context = [
            {prefix: uri for uri, prefix in self.prefixes.items() if prefix and uri not in OWN_NAMESPACES}
        ]
        body: dict[str, Any] = {
            "@context": context,
            "type": local(root.tag)[1],
            "schemaVersion": root.get("schemaVersion"),
            "creationDate": root.get("creationDate") or root.get("createdAt"),
        }
        vocabularies = [v for held in _descendants(root, "VocabularyList") for v in self.vocabularies(held)]
        if vocabularies:
            body["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}
        lists = list(_descendants(root, "EventList"))
        if lists:
            body["epcisBody"] = {"eventList": [self.event(e) for held in lists for e in _events(held)]}
        return body

    def vocabularies(self, held: Element) -> list[dict[str, Any]]:
        found = []
        for vocabulary in _descendants(held, "Vocabulary"):
            elements = [
                {
                    "id": element.get("id"),
                    "attributes": [
                        {"id": a.get("id"), "attribute": self.attribute(a)}
                        for a in element
                        if local(a.tag)[1] == "attribute"
                    ],
                }
                for element in _descendants(vocabulary, "VocabularyElement")
            ]
            found.append({"type": vocabulary.get("type"), "vocabularyElementList": elements})
        return found

    def attribute(self, element: Element) -> Any:
        """A master data attribute's value: its text, or its children (its ``id`` names it)."""
        if len(element) == 0:
            return _text(element)
        return {self.name(child.tag): self.value(child) for child in element}

    def event(self, element: Element) -> dict[str, Any]:
        event: dict[str, Any] = {"type": local(element.tag)[1]}
        self.fields(element, event)
        return event

    def fields(self, element: Element, into: dict[str, Any]) -> None:
        for child in element:
            if child.get(_NIL) == "true":
                continue  # xsi:nil: absent
            name = self.name(child.tag)
            if name in _WRAPPERS:
                self.fields(child, into)
            else:
                into[name] = self.field(name, child)

    def field(self, name: str, element: Element) -> Any:
        if name in _EPC_LISTS:
            return [_text(epc) for epc in element]
        if name in _QUANTITY_LISTS:
            return [self.quantity(q) for q in element]
        if name in _ENDS:
            return [{"type": e.get("type"), _ENDS[name]: _text(e)} for e in element]
        if name == "bizTransactionList":
            return [{"bizTransaction": _text(t), **_given(type=t.get("type"))} for t in element]
        if name == "persistentDisposition":
            held: dict[str, list[str]] = {}
            for part in element:
                held.setdefault(local(part.tag)[1], []).append(_text(part))
            return held
        if name == "sensorElementList":
            return [self.sensor(s) for s in element]
        if name == "errorDeclaration":
            declared: dict[str, Any] = {}
            self.fields(element, declared)
            if isinstance(declared.get("correctiveEventIDs"), dict):
                ids = declared["correctiveEventIDs"].get("correctiveEventID")
                declared["correctiveEventIDs"] = ids if isinstance(ids, list) else [ids]
            return declared
        return self.value(element)

    def quantity(self, element: Element) -> dict[str, Any]:
        fields = {local(part.tag)[1]: _text(part) for part in element if part.get(_NIL) != "true"}
        if "quantity" in fields:
            fields["quantity"] = _number(fields["quantity"])
        return fields

    def sensor(self, element: Element) -> dict[str, Any]:
        sensor: dict[str, Any] = {}
        for part in element:
            name = local(part.tag)[1]
            attributes = {k: _number(v) if k in _NUMBERS else v for k, v in part.attrib.items()}
            if name == "sensorReport":
                sensor.setdefault("sensorReport", []).append(attributes)
            else:
                sensor[name] = attributes
        return sensor

    def value(self, element: Element) -> Any:
        """Text where the element holds only text; else its attributes and children as an object (a
        child name given more than once holds a list)."""
        if len(element) == 0 and not element.attrib:
            return _text(element)
        held: dict[str, Any] = {self.name(k): v for k, v in element.attrib.items()}
        for child in element:
            name, value = self.name(child.tag), self.value(child)
            if name in held:
                held[name] = [*held[name], value] if isinstance(held[name], list) else [held[name], value]
            else:
                held[name] = value
        if len(element) == 0 and _text(element):
            held["@value"] = _text(element)
        return held


def _descendants(element: Element, name: str) -> list[Element]:
    return [e for e in element.iter() if local(e.tag)[1] == name]


def _events(held: Element) -> list[Element]:
    """The events of an EventList, with those EPCIS 1.2 wraps in ``extension``."""
    found = []
    for child in held:
        if local(child.tag)[1] == "extension":
            found += _events(child)
        else:
            found.append(child)
    return found


def _text(element: Element) -> str:
    return (element.text or "").strip()


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _number(text: str) -> Any:
    """A number where the text is one; else the text, for the checks to refuse by name."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
