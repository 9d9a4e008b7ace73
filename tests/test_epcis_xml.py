"""EPCIS XML, 1.2 and 2.0: the same document in XML and in JSON-LD makes the same graph; master
data in XML names places; a document that declares entities is refused before any is expanded."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from apiserver import serve
from test_epcis import CHAIN, FARM, FIXTURES, LETTUCE, PACKER, PALLET, SALAD, SHOP, document

from lineage.errors import ValidationFailed
from lineage.graph.gs1 import canonical
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import backward, fetch_properties
from lineage.graph.store import Store
from lineage.interchange.epcis.document import read_document
from lineage.loading.load import load
from lineage.loading.validate import Input, validate

CBV = "urn:epcglobal:cbv"


def quantity(element: str, epc_class: str, amount: float) -> str:
    return (
        f"<{element}><quantityElement><epcClass>{epc_class}</epcClass><quantity>{amount}</quantity>"
        f"<uom>KGM</uom></quantityElement></{element}>"
    )


def ends(source: str, destination: str) -> str:
    return (
        f'<sourceList><source type="{CBV}:sdt:owning_party">{source}</source></sourceList>'
        f'<destinationList><destination type="{CBV}:sdt:owning_party">{destination}</destination>'
        "</destinationList>"
    )


def at(day: str) -> str:
    return f"<eventTime>2026-05-0{day}+02:00</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>"


#: test_epcis.CHAIN as a partner on EPCIS 1.2 writes it: CBV values as URNs, quantity lists, sources,
#: ilmd and event ids in extension and baseExtension, the TransformationEvent in an extension.
CHAIN_12 = f"""<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:cbvmda="urn:epcglobal:cbv:mda"
    schemaVersion="1.2" creationDate="2026-05-04T00:00:00Z">
  <EPCISBody><EventList>
    <ObjectEvent>{at("1T06:00:00")}<epcList/><action>ADD</action>
      <bizStep>{CBV}:bizstep:commissioning</bizStep>
      <extension>{quantity("quantityList", LETTUCE, 1000)}
        <ilmd><cbvmda:itemDescription>Romaine lettuce</cbvmda:itemDescription></ilmd></extension>
      <baseExtension><eventID>urn:uuid:e1</eventID></baseExtension>
    </ObjectEvent>
    <AggregationEvent>{at("1T08:00:00")}<parentID>{PALLET}</parentID><childEPCs/><action>ADD</action>
      <bizStep>{CBV}:bizstep:packing</bizStep>
      <extension>{quantity("childQuantityList", LETTUCE, 1000)}</extension>
      <baseExtension><eventID>urn:uuid:e2</eventID></baseExtension>
    </AggregationEvent>
    <ObjectEvent>{at("1T09:00:00")}<epcList><epc>{PALLET}</epc></epcList><action>OBSERVE</action>
      <bizStep>{CBV}:bizstep:shipping</bizStep>
      <bizTransactionList><bizTransaction type="{CBV}:btt:desadv">urn:example:desadv:D1</bizTransaction>
      </bizTransactionList>
      <extension>{ends(FARM, PACKER)}</extension>
      <baseExtension><eventID>urn:uuid:e3</eventID></baseExtension>
    </ObjectEvent>
    <ObjectEvent>{at("2T07:00:00")}<epcList><epc>{PALLET}</epc></epcList><action>OBSERVE</action>
      <bizStep>{CBV}:bizstep:receiving</bizStep>
      <extension>{ends(FARM, PACKER)}</extension>
      <baseExtension><eventID>urn:uuid:e4</eventID></baseExtension>
    </ObjectEvent>
    <extension><TransformationEvent>{at("2T10:00:00")}
      <baseExtension><eventID>urn:uuid:e5</eventID></baseExtension>
      {quantity("inputQuantityList", LETTUCE, 1000)}{quantity("outputQuantityList", SALAD, 800)}
      <bizStep>{CBV}:bizstep:commissioning</bizStep>
    </TransformationEvent></extension>
    <ObjectEvent>{at("3T05:00:00")}<epcList/><action>OBSERVE</action>
      <bizStep>{CBV}:bizstep:shipping</bizStep>
      <extension>{quantity("quantityList", SALAD, 800)}{ends(PACKER, SHOP)}</extension>
      <baseExtension><eventID>urn:uuid:e6</eventID></baseExtension>
    </ObjectEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>
"""


#: What a stored event keeps of the document it came in: its own copy (in its syntax's shape), its
#: declaration's, and what the document's context declared.
AS_WRITTEN = frozenset(("body", "declaration", "context"))


def graph(data: Input) -> dict[str, Any]:
    """What a load of ``data`` writes, but what each stored event keeps as it was written."""
    events = {
        label: {uid: {k: v for k, v in props.items() if k not in AS_WRITTEN} for uid, props in table.items()}
        for label, table in data.events.items()
    }
    nodes = {label: {uid: props for uid, (props, _) in table.items()} for label, table in data.nodes.items()}
    rels = {key: {ends: props for ends, (props, _) in pairs.items()} for key, pairs in data.rels.items()}
    return {"nodes": nodes, "rels": rels, "events": events}


def test_the_same_document_in_xml_1_2_and_json_ld_makes_the_same_graph(tmp_path: Path) -> None:
    as_xml = tmp_path / "chain.xml"
    as_xml.write_text(CHAIN_12)
    from_xml, from_json = graph(validate([as_xml])), graph(validate([document(tmp_path, CHAIN)]))
    assert from_xml == from_json
    assert len(from_xml["events"]["EpcisEvent"]) == 6 and sum(map(len, from_xml["rels"].values())) >= 6


def test_xml_2_0_with_extensions_sensors_and_an_error_declaration(store: Store, tmp_path: Path) -> None:
    """EPCIS 2.0 XML writes fields on the event; an element of another namespace is an extension."""
    body = f"""<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="http://ns.example.com/"
        schemaVersion="2.0" creationDate="2026-05-04T00:00:00Z"><EPCISBody><EventList>
      <ObjectEvent>{at("1T06:00:00")}<eventID>urn:uuid:x1</eventID><epcList><epc>{PALLET}</epc></epcList>
        <action>OBSERVE</action><bizStep>shipping</bizStep><ex:truck plate="AB 123">Reefer 7</ex:truck>
        {ends(FARM, PACKER)}
        <sensorElementList><sensorElement><sensorMetadata deviceID="urn:ex:probe:1"/>
          <sensorReport type="Temperature" value="4.5" uom="CEL"/><sensorReport type="Temperature" value="5" uom="CEL"/>
        </sensorElement></sensorElementList>
        <persistentDisposition><set>{CBV}:disp:in_transit</set></persistentDisposition>
      </ObjectEvent>
      <ObjectEvent>{at("1T07:00:00")}<eventID>urn:uuid:x1</eventID><epcList><epc>{PALLET}</epc></epcList>
        <action>OBSERVE</action><bizStep>shipping</bizStep>{ends(FARM, PACKER)}
        <errorDeclaration><declarationTime>2026-05-02T00:00:00Z</declarationTime>
          <reason>{CBV}:er:incorrect_data</reason>
          <correctiveEventIDs><correctiveEventID>urn:uuid:x2</correctiveEventID></correctiveEventIDs>
        </errorDeclaration>
      </ObjectEvent>
    </EventList></EPCISBody></epcis:EPCISDocument>"""
    path = tmp_path / "v2.xml"
    path.write_text(body)
    read = read_document(path)
    shipped, declared = read.events
    assert shipped["ex:truck"] == {"plate": "AB 123", "@value": "Reefer 7"}
    assert shipped["sensorElementList"][0]["sensorReport"][0] == {
        "type": "Temperature",
        "value": 4.5,
        "uom": "CEL",
    }
    assert shipped["persistentDisposition"] == {"set": ["in_transit"]}  # a CBV URN read as its word
    assert declared["errorDeclaration"]["correctiveEventIDs"] == ["urn:uuid:x2"]
    assert read.notices == []
    store.clear()
    report = load(store, [path])
    assert report.relationships == 0  # the shipping event was declared in error: it links nothing


def test_xml_master_data_names_places(store: Store, tmp_path: Path) -> None:
    body = f"""<epcismd:EPCISMasterDataDocument xmlns:epcismd="urn:epcglobal:epcis-masterdata:xsd:1"
        schemaVersion="1.2" creationDate="2026-05-04T00:00:00Z"><EPCISBody><VocabularyList>
      <Vocabulary type="urn:epcglobal:epcis:vtype:BusinessLocation"><VocabularyElementList>
        <VocabularyElement id="urn:epc:id:sgln:0614142.00001.0">
          <attribute id="{CBV}:mda#name">Packer's plant</attribute>
          <attribute id="{CBV}:mda#city">Bergen</attribute>
        </VocabularyElement></VocabularyElementList></Vocabulary>
    </VocabularyList></EPCISBody></epcismd:EPCISMasterDataDocument>"""
    path = tmp_path / "places.xml"
    path.write_text(body)
    store.clear()
    load(store, [path])
    plant = NodeRef(Label.CUSTOMER, canonical("urn:epc:id:sgln:0614142.00001.0"))
    props = fetch_properties(store, [plant])[plant]
    assert (props["name"], props["address"]) == ("Packer's plant", "Bergen")


LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2"
    creationDate="2026-05-04T00:00:00Z"><EPCISBody><EventList><ObjectEvent>
  <eventTime>2026-05-01T06:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
  <epcList><epc>urn:example:&lol9;</epc></epcList><action>OBSERVE</action>
</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE doc [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2"
    creationDate="2026-05-04T00:00:00Z"><EPCISBody><EventList/></EPCISBody>&secret;</epcis:EPCISDocument>
"""


@pytest.mark.parametrize("body", [LAUGHS, EXTERNAL], ids=["billion laughs", "external entity"])
def test_a_document_that_declares_entities_is_refused_before_expanding_them(
    store: Store, tmp_path: Path, body: str
) -> None:
    store.clear()
    path = tmp_path / "hostile.xml"
    path.write_text(body)
    started = time.monotonic()
    with pytest.raises(ValidationFailed, match="entities and external references are not read"):
        load(store, [path])
    assert time.monotonic() - started < 10  # expanded, the laughs would be 3 GB of text
    assert store.run("admin_graph_empty") == [{"empty": True}]


def test_not_xml_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text('<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1">\n<EPCISBody>\n</Oops>')
    with pytest.raises(ValidationFailed) as refused:
        read_document(path)
    [problem] = refused.value.problems
    assert problem.line == 3 and problem.message.startswith("not XML: mismatched tag")


def test_post_ingest_takes_xml_as_a_body_and_as_a_part(tmp_path: Path) -> None:
    with serve(demo=False) as api, api.client("editor") as editor:
        sent = editor.post("/ingest", content=CHAIN_12.encode(), headers={"Content-Type": "application/xml"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["files"] == ["epcis.xml"] and sent.json()["nodes"] > 0
        part = editor.post("/ingest", files={"files": ("from-the-3pl", CHAIN_12.encode(), "text/xml")})
        assert part.status_code == 200 and part.json()["files"] == ["from-the-3pl.xml"]
        behind = editor.get("/scope/backward/evidence", params={"label": "Batch", "uid": SALAD})
        assert [e["id"] for e in behind.json()] == [f"urn:uuid:e{n}" for n in range(1, 7)]


def test_a_trace_from_the_shop_reaches_the_farm_lot_through_the_xml(store: Store, tmp_path: Path) -> None:
    store.clear()
    path = tmp_path / "chain.xml"
    path.write_text(CHAIN_12)
    load(store, [path])
    behind = backward(store, NodeRef(Label.CUSTOMER, canonical(SHOP))).uids_by_label()
    assert behind["Batch"] == {canonical(SALAD), canonical(LETTUCE)}


# --- the standard's own test documents in XML (openepcis-test-resources, fixtures/epcis/xml) ---------

XML_FIXTURES = FIXTURES / "xml"
XML_VALID = sorted(
    [
        *XML_FIXTURES.glob("2.0/valid/*.xml"),
        *XML_FIXTURES.glob("1.2/valid/*.xml"),
        *XML_FIXTURES.glob("2.0/query/*.xml"),
    ]
)
#: The invalid ones lineage takes, and why: an element EPCIS does not define is a warning (refused
#: with --strict), and elements out of the schema's order say the same thing in another order.
TAKEN = {"ObjectEvent_with_unknown_element": ["unknown field"], "ObjectEvent_with_wrong_element_order": []}
#: XML renderings whose content differs from the JSON-LD one of the same name: a declaration an
#: hour apart, certification details as a structure where JSON-LD gives a URI, ilmd numbers as text.
RENDERED_OTHERWISE = {
    "Combination_of_different_event",
    "CurieString_document",
    "Namespaces_at_different_level",
    "SensorData_with_combined_events",
    "TransformationEvent_all_possible_fields",
}


def test_the_xml_fixtures_are_the_test_resources_with_their_licence() -> None:
    assert "openepcis-test-resources" in (XML_FIXTURES / "README.md").read_text()
    assert "Apache" in (XML_FIXTURES / "README.md").read_text() and (FIXTURES / "LICENSE").exists()
    assert len(XML_VALID) >= 30 and len(list(XML_FIXTURES.glob("2.0/invalid/*.xml"))) == 7


@pytest.mark.parametrize("path", XML_VALID, ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_every_xml_test_document_loads(store: Store, path: Path) -> None:
    store.clear()
    report = load(store, [path])
    assert report.records > 0
    assert {n.kind for n in report.notices} <= {"unknown field", "unknown CBV word"}


@pytest.mark.parametrize("path", sorted(XML_FIXTURES.glob("2.0/invalid/*.xml")), ids=lambda p: p.stem)
def test_every_invalid_xml_document_is_refused_or_taken_as_said(path: Path) -> None:
    if path.stem in TAKEN:
        assert [n.kind for n in read_document(path).notices] == TAKEN[path.stem]
        return
    with pytest.raises(ValidationFailed) as refused:
        read_document(path)
    assert all(p.source == str(path) and p.message for p in refused.value.problems)


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(XML_FIXTURES.glob("2.0/valid/*.xml"))
        if (FIXTURES / "valid" / f"{p.stem}.json").exists()
    ],
    ids=lambda p: p.stem,
)
def test_the_xml_and_json_ld_renderings_of_a_test_document_make_the_same_graph(path: Path) -> None:
    same = graph(validate([path])) == graph(validate([FIXTURES / "valid" / f"{path.stem}.json"]))
    assert same == (path.stem not in RENDERED_OTHERWISE)
