"""EPCIS as partners really send it: JSON-LD by extension and media type, a byte-order mark, a
malformed GS1 key among sound events, extensions a document's own context defines, empty values,
times without offset, master data, repeated events. Taken with notices where the standard is
lenient; refused where the data would be wrong; ``--strict`` refuses any notice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apiserver import serve
from test_embedded_server import cli
from test_epcis import CONTEXT, FARM, PACKER, PALLET, event, party

from lineage.errors import ValidationFailed
from lineage.graph.evidence import evidence_of
from lineage.graph.gs1 import canonical
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import backward, fetch_properties, forward
from lineage.graph.store import Store
from lineage.interchange.epcis.document import read_document
from lineage.loading.load import load
from lineage.loading.validate import validate

BAD_SSCC = "urn:epc:id:sscc:08600031303.0005"  # 16 digits where an SSCC has 17: not a GS1 key
GDST_CONTEXT = [
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    {"gdst": "https://traceability-dialogue.org/epcis", "harvestStartDate": "gdst:harvestStartDate"},
    {"productOwner": {"@id": "gdst:productOwner", "@type": "@id"}},
]
TUNA = "urn:epc:class:lgtin:4012345.012345.TUNA-1"


def write(path: Path, body: Any, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + json.dumps(body).encode())
    return path


def doc(events: list[dict[str, Any]], context: Any = CONTEXT, **more: Any) -> dict[str, Any]:
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-04T00:00:00Z",
        "epcisBody": {"eventList": events},
        **more,
    }


SOUND = [
    event(
        "ObjectEvent",
        "1T06:00:00",
        eventID="urn:uuid:p1",
        action="ADD",
        bizStep="commissioning",
        quantityList=[{"epcClass": TUNA, "quantity": 40, "uom": "KGM"}],
    ),
    event(
        "AggregationEvent",
        "1T07:00:00",
        eventID="urn:uuid:p2",
        action="ADD",
        bizStep="packing",
        parentID=BAD_SSCC,
        childQuantityList=[{"epcClass": TUNA, "quantity": 40, "uom": "KGM"}],
    ),
    event(
        "ObjectEvent",
        "1T09:00:00",
        eventID="urn:uuid:p3",
        action="OBSERVE",
        bizStep="shipping",
        epcList=[BAD_SSCC],
        sourceList=party("source", FARM),
        destinationList=party("destination", PACKER),
    ),
]


def test_a_malformed_gs1_key_is_kept_opaque_and_named_the_rest_loads(store: Store, tmp_path: Path) -> None:
    store.clear()
    report = load(store, [write(tmp_path / "partner.jsonld", doc(SOUND), bom=True)])
    assert {n.field for n in report.notices} == {"eventList[1].parentID", "eventList[2].epcList[0]"}
    assert {n.kind for n in report.notices} == {"opaque identifier"}
    assert all(BAD_SSCC in n.message and "17 digits" in n.message for n in report.notices)
    # The pallet is one node under the spelling it came in, a logistic unit, and the lot shipped in it.
    props = fetch_properties(store, [NodeRef(Label.BATCH, BAD_SSCC)])[NodeRef(Label.BATCH, BAD_SSCC)]
    assert props["batch_type"] == "logistic_unit"
    ahead = forward(store, NodeRef(Label.BATCH, canonical(TUNA))).uids_by_label()
    assert ahead["Batch"] == {BAD_SSCC} and len(ahead["Shipment"]) == 1
    assert ahead["Customer"] == {canonical(PACKER)}


def test_strict_refuses_what_would_be_a_notice_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    store.clear()
    path = write(tmp_path / "partner.jsonld", doc(SOUND))
    with pytest.raises(ValidationFailed) as refused:
        load(store, [path], strict=True)
    assert "refused as --strict asks" in str(refused.value)
    assert [p.field for p in refused.value.problems] == ["eventList[1].parentID", "eventList[2].epcList[0]"]
    assert store.run("admin_graph_empty") == [{"empty": True}]


def test_the_cli_takes_jsonld_with_a_bom_and_sums_up_its_warnings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = write(tmp_path / "from-the-packer.jsonld", doc(SOUND), bom=True)
    done = cli(data, "load", str(path))
    assert done.returncode == 0, done.stderr
    assert "2 warning(s): 2 opaque identifier" in done.stderr
    assert "eventList[1].parentID" in done.stderr and "--strict refuses them" in done.stderr
    strict = cli(data, "load", "--strict", str(tmp_path / "from-the-packer.jsonld"))
    assert strict.returncode != 0 and "eventList[2].epcList[0]" in strict.stderr
    folder = cli(data, "load", "--json", str(tmp_path))  # a folder's .jsonld files are input
    assert folder.returncode == 0, folder.stderr
    assert [n["kind"] for n in json.loads(folder.stdout)["notices"]] == ["opaque identifier"] * 2


def test_extensions_a_context_defines_are_kept_and_unknown_fields_are_noticed(tmp_path: Path) -> None:
    harvest = event(
        "ObjectEvent",
        "1T06:00:00",
        eventID="urn:uuid:h1",
        action="ADD",
        bizStep="commissioning",
        quantityList=[{"epcClass": TUNA, "quantity": 40, "uom": "KGM"}],
        productOwner="urn:gdst:example.org:party:fisher.1",
        ilmd={"harvestStartDate": "2026-04-30", "gdst:vesselName": "Vessel 1"},
        bestGuess="not defined anywhere",
    )
    scoped = event(
        "ObjectEvent",
        "1T07:00:00",
        eventID="urn:uuid:h2",
        action="OBSERVE",
        epcList=[canonical(TUNA).replace("/10/", "/21/")],
        ilmd={"@context": {"catchArea": "gdst:catchArea"}, "catchArea": "FAO 71"},
    )
    read = read_document(write(tmp_path / "gdst.jsonld", doc([harvest, scoped], context=GDST_CONTEXT)))
    assert [(n.kind, n.field) for n in read.notices] == [("unknown field", "eventList[0].bestGuess")]
    assert read.events[0]["ilmd"]["harvestStartDate"] == "2026-04-30"
    undefined = doc([{**harvest, "ilmd": {"harvestEndDate": "2026-05-01"}}], context=GDST_CONTEXT)
    with pytest.raises(ValidationFailed, match=r"ilmd\.harvestEndDate"):  # ilmd needs a namespace
        read_document(write(tmp_path / "undefined.jsonld", undefined))


def test_empty_values_times_without_offset_and_sensor_only_events_are_read(tmp_path: Path) -> None:
    blank = event(
        "ObjectEvent",
        "1T06:00:00",
        action="OBSERVE",
        epcList=[PALLET],
        disposition="",
        bizStep="",
        readPoint={"id": ""},
    )
    local = {**event("ObjectEvent", "1T06:00:00", action="OBSERVE", epcList=[PALLET])}
    local["eventTime"] = "2026-05-01T06:00:00"
    local["recordTime"] = "2026-05-01T06:00:05.1234567"
    sensor = event(
        "ObjectEvent",
        "1T08:00:00",
        action="OBSERVE",
        sensorElementList=[{"sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}]}],
    )
    read = read_document(write(tmp_path / "lenient.jsonld", doc([blank, local, sensor])))
    assert not {"disposition", "bizStep", "readPoint"} & read.events[0].keys()
    assert read.events[1]["eventTime"] == "2026-05-01T06:00:00+02:00"
    assert read.events[1]["recordTime"] == "2026-05-01T06:00:05.1234567+02:00"
    assert [(n.kind, n.field) for n in read.notices] == [
        ("time without offset", "eventList[1].eventTime"),
        ("time without offset", "eventList[1].recordTime"),
    ]
    assert len(read.events) == 3
    no_offset = {k: v for k, v in local.items() if k != "eventTimeZoneOffset"}
    with pytest.raises(ValidationFailed, match="eventTimeZoneOffset"):  # still required
        read_document(write(tmp_path / "no-offset.jsonld", doc([no_offset])))


def test_a_repeated_event_is_one_and_a_different_one_under_its_id_is_refused(
    store: Store, tmp_path: Path
) -> None:
    store.clear()
    commissioned = SOUND[0]
    report = load(store, [write(tmp_path / "twice.jsonld", doc([commissioned, commissioned]))])
    assert [(n.kind, n.field) for n in report.notices] == [("repeated event", "eventList[1]")]
    props = fetch_properties(store, [NodeRef(Label.BATCH, canonical(TUNA))])
    assert props[NodeRef(Label.BATCH, canonical(TUNA))]["quantity"] == 40
    other = {**commissioned, "quantityList": [{"epcClass": TUNA, "quantity": 41, "uom": "KGM"}]}
    with pytest.raises(ValidationFailed) as refused:
        read_document(write(tmp_path / "clash.jsonld", doc([commissioned, SOUND[1], other])))
    [problem] = refused.value.problems
    assert problem.field == "eventList[2].eventID"
    assert "urn:uuid:p1" in problem.message and "eventList[0]" in problem.message


MASTER = {
    "epcisMasterData": {
        "vocabularyList": [
            {
                "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                "vocabularyElementList": [
                    {
                        "id": "urn:epc:id:sgln:0614142.00001.0",
                        "attributes": [
                            {"id": "urn:epcglobal:cbv:mda#name", "attribute": "Packer's plant"},
                            {"id": "urn:epcglobal:cbv:mda#streetAddressOne", "attribute": "1 Quay Road"},
                            {"id": "urn:epcglobal:cbv:mda#city", "attribute": "Bergen"},
                            {"id": "urn:epcglobal:cbv:mda#countryCode", "attribute": "NO"},
                        ],
                    }
                ],
            },
            {
                "type": "urn:epcglobal:epcis:vtype:EPCClass",
                "vocabularyElementList": [
                    {
                        "id": "urn:epc:idpat:sgtin:4012345.012345.*",
                        "attributes": [
                            {"id": "urn:epcglobal:cbv:mda#descriptionShort", "attribute": "Yellowfin tuna"}
                        ],
                    }
                ],
            },
        ]
    }
}


def test_master_data_names_places_and_products_even_alone(store: Store, tmp_path: Path) -> None:
    store.clear()
    body = doc([], epcisHeader=MASTER)
    del body["epcisBody"]
    load(store, [write(tmp_path / "master.jsonld", body)])
    plant = NodeRef(Label.CUSTOMER, canonical("urn:epc:id:sgln:0614142.00001.0"))
    props = fetch_properties(store, [plant])[plant]
    assert props["name"] == "Packer's plant" and props["address"] == "1 Quay Road, Bergen, NO"
    assert json.loads(props["master_data"])["city"] == "Bergen"
    load(store, [write(tmp_path / "with-events.jsonld", doc(SOUND[:1], epcisHeader=MASTER))])
    lot = NodeRef(Label.BATCH, canonical(TUNA))
    assert fetch_properties(store, [lot])[lot]["product"] == "Yellowfin tuna"


def test_a_bare_list_of_events_is_a_document(tmp_path: Path) -> None:
    read = read_document(write(tmp_path / "events.jsonld", SOUND))
    assert read.kind == "eventList" and len(read.events) == 3


def test_post_ingest_takes_jsonld_parts_by_type_and_returns_notices(tmp_path: Path) -> None:
    body = json.dumps(doc(SOUND)).encode()
    with serve(demo=False) as api, api.client("editor") as editor:
        strict = editor.post(
            "/ingest",
            content=body,
            params={"strict": "true"},
            headers={"Content-Type": "application/ld+json"},
        )
        assert strict.status_code == 422, strict.text
        assert {p["field"] for p in strict.json()["problems"]} == {
            "eventList[1].parentID",
            "eventList[2].epcList[0]",
        }
        sent = editor.post(
            "/ingest", files={"files": ("from-the-packer", b"\xef\xbb\xbf" + body, "application/ld+json")}
        )
        assert sent.status_code == 200, sent.text
        report = sent.json()
        assert report["files"] == ["from-the-packer.jsonld"] and report["nodes"] > 0
        assert report["notice_counts"] == {"opaque identifier": 2}
        assert [n["field"] for n in report["notices"]] == ["eventList[1].parentID", "eventList[2].epcList[0]"]
        assert all(n["source"] == "from-the-packer.jsonld" for n in report["notices"])


MILK, CHEESE = "urn:epc:class:lgtin:4012345.011111.MILK-7", "urn:epc:class:lgtin:4012345.022222.CHEESE-7"


def made(uid: str, at: str) -> dict[str, Any]:
    return event(
        "TransformationEvent",
        at,
        eventID=uid,
        bizStep="commissioning",
        inputQuantityList=[{"epcClass": MILK, "quantity": 100, "uom": "KGM"}],
        outputQuantityList=[{"epcClass": CHEESE, "quantity": 10, "uom": "KGM"}],
    )


def test_partners_documents_that_name_the_same_objects_load_together(store: Store, tmp_path: Path) -> None:
    """Two documents whose events name the same objects and link the same pair: in one load the
    link rests on both events, with both quantities; the later event's properties are the node's."""
    store.clear()
    first = write(tmp_path / "monday.jsonld", doc([made("urn:uuid:t1", "1T06:00:00")]))
    second = write(tmp_path / "tuesday.jsonld", doc([made("urn:uuid:t2", "2T06:00:00")]))
    load(store, [first, second])
    [link] = store.run("scope_batch_consumers", uids=[canonical(MILK)])
    assert link["dst"] == canonical(CHEESE)
    evidence = {e.id: e for e in evidence_of(store, backward(store, NodeRef(Label.BATCH, canonical(CHEESE))))}
    assert all(evidence[f"urn:uuid:t{n}"].relationships for n in (1, 2))


def test_a_link_made_by_two_loads_rests_on_both_and_survives_one_retraction(
    store: Store, tmp_path: Path
) -> None:
    store.clear()
    load(store, [write(tmp_path / "monday.jsonld", doc([made("urn:uuid:t1", "1T06:00:00")]))])
    load(store, [write(tmp_path / "tuesday.jsonld", doc([made("urn:uuid:t2", "2T06:00:00")]))])
    cheese = NodeRef(Label.BATCH, canonical(CHEESE))
    evidence = {e.id: e for e in evidence_of(store, backward(store, cheese))}
    assert all(
        evidence[f"urn:uuid:t{n}"].relationships for n in (1, 2)
    )  # the second load kept the first's id
    wrong = {
        **made("urn:uuid:t2", "2T06:00:00"),
        "errorDeclaration": {"declarationTime": "2026-05-03T00:00:00Z"},
    }
    load(store, [write(tmp_path / "correction.jsonld", doc([wrong]))])
    assert backward(store, cheese).uids_by_label()["Batch"] == {canonical(MILK)}  # still rests on t1


# --- a peer's test data (OpenTraceability, MIT: tests/data/opentraceability) ----------------------

PEER = Path(__file__).resolve().parent / "data" / "opentraceability"
#: What of the peer's test data lineage refuses, and why: ilmd fields with neither a namespace nor
#: a definition in the document's context (the standard's schema and the shared invalid set refuse
#: them), one id given to events of different content, quantity elements with a field EPCIS does
#: not have, a trailing comma, no events or master data, and files that are not EPCIS documents
#: (web vocabulary, a test list of identifiers).
PEER_REFUSED = {
    "undefined ilmd field": {f"EPCISQUERYDOCUMENT_advanced_{n}.jsonld" for n in (1, 3, 9, 10, 11, 14, 17, 18)}
    | {"EPCISQUERYDOCUMENT_with_errorDeclarations.jsonld"},
    "one id, two events": {"traceback_tests.jsonld"},
    "not JSON": {"EPCISQUERYDOCUMENT_advanced_5.jsonld"},
    "no records": {"EPCISQUERYDOCUMENT_advanced_16.jsonld"},
    "not EPCIS": {
        "epc_tests.json",
        "gs1-vocab-locations01.json",
        "gs1-vocab-tradingparties01.json",
        "webvocab_location_geocoordinates.jsonld",
        "webvocab_location_geoshape.jsonld",
    },
    # quantity elements with a `count` (EPCIS has epcClass, quantity, uom), a creation date without offset
    "unknown field in a quantity": {"querydoc_example02.xml"},
}


def test_the_peers_test_documents_load_but_for_those_named_with_their_reason() -> None:
    assert "MIT License" in (PEER / "LICENSE").read_text()
    refused = {name for names in PEER_REFUSED.values() for name in names}
    documents = sorted(p for p in PEER.iterdir() if p.suffix in (".json", ".jsonld", ".xml"))
    assert len(documents) == 53
    for path in documents:
        if path.name in refused:
            with pytest.raises(ValidationFailed):
                validate([path])
        else:
            assert validate([path]).records > 0, path.name
