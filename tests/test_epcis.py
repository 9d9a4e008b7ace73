"""EPCIS 2.0 documents: the openepcis test documents in fixtures/epcis (Apache-2.0, notice kept
beside them) read or are refused naming the fault; GS1 keys in URN and Digital Link form are one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apiserver import serve
from test_loading import write_jsonl

from lineage.errors import InvalidRequest, ValidationFailed
from lineage.graph.evidence import Evidence, evidence_of
from lineage.graph.gs1 import IdentifierError, canonical, check_digit, kind
from lineage.graph.model import Label, NodeRef, parse_ref
from lineage.graph.scope import backward, fetch_properties, forward
from lineage.graph.store import Store
from lineage.interchange.epcis.document import read_document
from lineage.interchange.epcis.mapping import shipment_uid
from lineage.loading.load import load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "epcis"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))

#: What each invalid document is refused for: (where, words of the message), every one reported.
REFUSED = {
    "Combination_of_events_with_missing_mandatory_fields": [
        ("eventList[0].action", "missing"),
        ("eventList[1].eventTimeZoneOffset", "missing"),
        ("eventList[1].action", "missing"),
    ],
    "Combination_of_multiple_invalid_fields": [
        ("eventList[0].bizStep", "'transforming' is not a CBV business step"),
        ("eventList[1].disposition", "'in_transport' is not a CBV disposition"),
        ("eventList[2].sourceList[0].type", "'place' is not a CBV source type"),
        ("eventList[3].ilmd.materialType", "namespace prefix"),
        ("eventList[4].eventTime", "'22-07-2026' is not an ISO-8601 time"),
        ("eventList[4].action", "'CREATE' is not one of ADD, OBSERVE, DELETE"),
    ],
    "Combination_of_non_standard_bizStep_and_disposition": [
        ("eventList[0].bizStep", "'transforming' is not a CBV business step"),
        ("eventList[1].disposition", "'in_transport' is not a CBV disposition"),
    ],
    "EPCISDocument_without_context": [("@context", "missing")],
    "ObjectEvent_with_ilmd_field_without_namespace": [("eventList[0].ilmd.materialType", "namespace prefix")],
    "ObjectEvent_with_invalid_action": [
        ("eventList[0].action", "'CREATE' is not one of ADD, OBSERVE, DELETE")
    ],
    "ObjectEvent_with_invalid_certificationInfo": [
        (
            "eventList[0].certificationInfo[1].gs1:CertificationDetails.gs1:certificationAuditDate",
            "'wrong date format' is not a date",
        ),
    ],
    "ObjectEvent_with_invalid_eventTime_format": [
        ("eventList[0].eventTime", "'22-07-2026' is not an ISO-8601")
    ],
    "ObjectEvent_with_non_standard_bizStep": [("eventList[0].bizStep", "'transforming' is not a CBV")],
    "ObjectEvent_with_non_standard_bizStep_in_second_event": [("eventList[1].bizStep", "'transforming'")],
    "ObjectEvent_with_non_standard_disposition": [("eventList[0].disposition", "'in_transport'")],
    "ObjectEvent_with_quantity_as_text": [
        ("eventList[0].quantityList[0].quantity", "must be a number, not 'twenty'")
    ],
    "ObjectEvent_with_unknown_field_in_quantityList": [
        ("eventList[0].quantityList[0].weight", "unknown field")
    ],
    "ObjectEvent_without_action_and_eventTime": [
        ("eventList[0].eventTime", "missing"),
        ("eventList[0].eventTimeZoneOffset", "missing"),
        ("eventList[0].action", "missing"),
    ],
    "ObjectEvent_without_identifier_list": [("eventList[0]", "epcList or quantityList")],
}


def test_the_fixtures_are_the_shared_documents_with_their_licence() -> None:
    licence = (FIXTURES / "LICENSE").read_text()
    assert licence.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "openepcis-test-resources" in (FIXTURES / "README.md").read_text()
    assert len(VALID) >= 30 and {p.stem for p in INVALID} == set(REFUSED)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_every_valid_document_reads_whole(path: Path) -> None:
    document = read_document(path)
    data = json.loads(path.read_text())
    assert document.kind == data["type"]
    assert len(document.events) == len(data["epcisBody"]["eventList"])


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_invalid_document_is_refused_naming_each_fault(path: Path) -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_document(path)
    found = [(p.field, p.message) for p in refused.value.problems]
    assert all(p.source == str(path) for p in refused.value.problems)
    assert len(found) == len(REFUSED[path.stem]), found
    for (where, words), (field, message) in zip(REFUSED[path.stem], found, strict=True):
        assert field == where and words in message, (field, message)
    assert "nothing was written" in str(refused.value)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "EPCISDocument", ')
    with pytest.raises(ValidationFailed, match="not JSON"):
        read_document(broken)


def test_the_two_spellings_of_a_key_are_one() -> None:
    same = [
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://example.com/01/10614141073464/21/2017"),
        ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467/254/1234"),
        ("urn:epc:id:sgln:4012345.00002.0", "https://brand.example/414/4012345000023"),
        ("urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"),
        # a Digital Link with a serial names the item, whatever else it qualifies
        (
            "https://id.gs1.org/01/09521141012345/10/LOT7/21/2017",
            "https://id.gs1.org/01/09521141012345/21/2017",
        ),
    ]
    for urn, link in same:
        assert canonical(urn) == canonical(link), urn
    assert kind(canonical("urn:epc:id:sgtin:0614141.107346.2017")) == "instance"
    assert kind(canonical("urn:epc:class:lgtin:4012345.012345.998877")) == "lot"
    assert kind(canonical("urn:epc:idpat:sgtin:4012345.066666.*")) == "class"
    assert kind(canonical("urn:epc:id:sgln:0614141.07346.1234")) == "location"
    assert kind(canonical("urn:epc:id:sscc:0614141.1234567890")) == "instance"
    assert canonical("urn:epc:id:cpi:4012345.ABC.123") == "urn:epc:id:cpi:4012345.ABC.123"  # kept as written


def test_check_digits_and_malformed_keys() -> None:
    assert check_digit("0061414112345") == "2"  # GS1's own example GTIN 00614141123452
    with pytest.raises(IdentifierError, match="check digit"):
        canonical("https://id.gs1.org/01/00614141123453")
    with pytest.raises(IdentifierError, match="3 dot-separated parts"):
        canonical("urn:epc:id:sgtin:0614141.107346")
    with pytest.raises(IdentifierError, match="13 digits together"):
        canonical("urn:epc:id:sgtin:0614141.10734.1")


# --- into the graph -------------------------------------------------------------------------------

CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"example": "http://ns.example.com/"}]
FARM, PACKER, SHOP = (
    "urn:epc:id:pgln:0614141.00001",
    "urn:epc:id:pgln:0614142.00001",
    "urn:epc:id:pgln:0614143.00001",
)
LETTUCE = "urn:epc:class:lgtin:0614141.012345.HARVEST-7"
SALAD = "https://brand.example/01/00614142543211/10/CUT-19"  # a Digital Link on any host
PALLET = "urn:epc:id:sscc:0614141.1000000001"


def event(kind: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": f"2026-05-0{at}+02:00", "eventTimeZoneOffset": "+02:00", **fields}


def party(role: str, gln: str) -> list[dict[str, str]]:
    return [{"type": "owning_party", role: gln}]


CHAIN = [
    event(
        "ObjectEvent",
        "1T06:00:00",
        eventID="urn:uuid:e1",
        action="ADD",
        bizStep="commissioning",
        quantityList=[{"epcClass": LETTUCE, "quantity": 1000, "uom": "KGM"}],
        ilmd={"cbvmda:itemDescription": "Romaine lettuce"},
    ),
    event(
        "AggregationEvent",
        "1T08:00:00",
        eventID="urn:uuid:e2",
        action="ADD",
        bizStep="packing",
        parentID=PALLET,
        childQuantityList=[{"epcClass": LETTUCE, "quantity": 1000, "uom": "KGM"}],
    ),
    event(
        "ObjectEvent",
        "1T09:00:00",
        eventID="urn:uuid:e3",
        action="OBSERVE",
        bizStep="shipping",
        epcList=[PALLET],
        sourceList=party("source", FARM),
        destinationList=party("destination", PACKER),
        bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:example:desadv:D1"}],
    ),
    event(
        "ObjectEvent",
        "2T07:00:00",
        eventID="urn:uuid:e4",
        action="OBSERVE",
        bizStep="receiving",
        epcList=[PALLET],
        sourceList=party("source", FARM),
        destinationList=party("destination", PACKER),
    ),
    event(
        "TransformationEvent",
        "2T10:00:00",
        eventID="urn:uuid:e5",
        bizStep="commissioning",
        inputQuantityList=[{"epcClass": LETTUCE, "quantity": 1000, "uom": "KGM"}],
        outputQuantityList=[{"epcClass": SALAD, "quantity": 800, "uom": "KGM"}],
    ),
    event(
        "ObjectEvent",
        "3T05:00:00",
        eventID="urn:uuid:e6",
        action="OBSERVE",
        bizStep="shipping",
        quantityList=[{"epcClass": SALAD, "quantity": 800, "uom": "KGM"}],
        sourceList=party("source", PACKER),
        destinationList=party("destination", SHOP),
    ),
]


def document(tmp_path: Path, events: list[dict[str, Any]], name: str = "chain.json") -> Path:
    body = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-05-04T00:00:00Z",
        "epcisBody": {"eventList": events},
    }
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def test_a_chain_traces_forward_and_backward_across_both_spellings(store: Store, tmp_path: Path) -> None:
    store.clear()
    report = load(store, [document(tmp_path, CHAIN)])
    lettuce, salad, pallet = canonical(LETTUCE), canonical(SALAD), canonical(PALLET)
    packer, shop = canonical(PACKER), canonical(SHOP)
    ahead = forward(store, NodeRef(Label.BATCH, lettuce)).uids_by_label()
    assert ahead["Batch"] == {salad, pallet}  # transformed into the salad, packed on the pallet
    assert ahead["Customer"] == {packer, shop} and len(ahead["Shipment"]) == 2
    behind = backward(store, NodeRef(Label.BATCH, salad)).uids_by_label()
    assert behind["Batch"] == {lettuce}
    from_shop = backward(store, NodeRef(Label.CUSTOMER, shop)).uids_by_label()
    assert from_shop["Batch"] == {salad, lettuce}
    props = fetch_properties(store, [NodeRef(Label.BATCH, lettuce), NodeRef(Label.BATCH, pallet)])
    assert props[NodeRef(Label.BATCH, lettuce)]["product"] == "Romaine lettuce"
    assert (
        props[NodeRef(Label.BATCH, lettuce)]["quantity"] == 1000
        and props[NodeRef(Label.BATCH, lettuce)]["unit"] == "kg"
    )
    assert props[NodeRef(Label.BATCH, pallet)]["batch_type"] == "logistic_unit"
    # The receiving event completed the shipping event's shipment rather than making another.
    shipped = [n for n in forward(store, NodeRef(Label.BATCH, pallet)).nodes if n.label == Label.SHIPMENT]
    [pallet_shipment] = shipped
    shipment_props = fetch_properties(store, [pallet_shipment.ref])[pallet_shipment.ref]
    assert shipment_props["delivered_at"] > shipment_props["shipped_at"]
    assert shipment_props["document"] == "urn:example:desadv:D1"
    # The same document again, and the chain in the other spelling, change nothing.
    again = load(store, [document(tmp_path, CHAIN)])
    assert (again.nodes, again.relationships) == (report.nodes, report.relationships)
    assert forward(store, NodeRef(Label.BATCH, lettuce)).uids_by_label() == ahead


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_every_valid_document_imports_and_importing_it_again_changes_nothing(
    store: Store, path: Path
) -> None:
    store.clear()
    first = load(store, [path])
    counts = store.run("admin_label_counts")
    load(store, [path])
    assert store.run("admin_label_counts") == [
        {**c, "nodes": c["nodes"] + (1 if c["label"] == "AuditEntry" else 0)} for c in counts
    ]
    assert first.nodes > 0


@pytest.mark.parametrize("path", INVALID[:4], ids=lambda p: p.stem)
def test_an_invalid_document_writes_nothing(store: Store, path: Path) -> None:
    store.clear()
    with pytest.raises(ValidationFailed):
        load(store, [path])
    assert store.run("admin_graph_empty") == [{"empty": True}]


def test_post_ingest_takes_a_document_as_json_ld_or_as_a_file(tmp_path: Path) -> None:
    valid = (FIXTURES / "valid" / "TransformationEvent.json").read_bytes()
    invalid = (FIXTURES / "invalid" / "ObjectEvent_with_invalid_action.json").read_bytes()
    with serve(demo=False) as api, api.client("editor") as editor:
        sent = editor.post("/ingest", content=valid, headers={"Content-Type": "application/ld+json"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["files"] == ["epcis.jsonld"] and sent.json()["nodes"] > 0
        as_file = editor.post("/ingest", files={"files": ("capture.json", valid, "application/ld+json")})
        assert as_file.status_code == 200 and as_file.json()["nodes"] == sent.json()["nodes"]
        chain = document(tmp_path, CHAIN).read_bytes()
        assert editor.post("/ingest", content=chain, headers={"Content-Type": "application/json"}).is_success
        asked = {"label": "Batch", "uid": SALAD}  # asked in the spelling the document used
        behind = editor.get("/scope/backward/evidence", params=asked)
        assert behind.status_code == 200, behind.text
        assert [e["id"] for e in behind.json()] == [f"urn:uuid:e{n}" for n in range(1, 7)]
        ahead = editor.get("/scope/forward/evidence", params={"label": "Batch", "uid": LETTUCE})
        assert [e["id"] for e in ahead.json()][-1] == "urn:uuid:e6"
        refused = editor.post("/ingest", content=invalid, headers={"Content-Type": "application/ld+json"})
        assert refused.status_code == 422
        [problem] = refused.json()["problems"]
        assert problem["source"] == "epcis.jsonld" and problem["field"] == "eventList[0].action"
        assert "'CREATE' is not one of ADD, OBSERVE, DELETE" in problem["message"]


def test_where_and_in_what_state_an_object_was_last_seen_is_kept(store: Store, tmp_path: Path) -> None:
    store.clear()
    load(store, [FIXTURES / "valid" / "ObjectEvent.json"])
    shipped, received = (canonical(f"urn:epc:id:sgtin:0614141.107346.{n}") for n in (2017, 2018))
    props = fetch_properties(store, [NodeRef(Label.BATCH, shipped), NodeRef(Label.BATCH, received)])
    # 2017 was last seen shipping, 2018 receiving a day later somewhere else.
    assert props[NodeRef(Label.BATCH, shipped)]["disposition"] == "in_transit"
    assert props[NodeRef(Label.BATCH, shipped)]["read_point"] == canonical(
        "urn:epc:id:sgln:0614141.07346.1234"
    )
    assert "biz_location" not in props[NodeRef(Label.BATCH, shipped)]
    assert props[NodeRef(Label.BATCH, received)]["disposition"] == "in_progress"
    assert props[NodeRef(Label.BATCH, received)]["biz_location"] == canonical(
        "urn:epc:id:sgln:0012345.11111.0"
    )
    load(store, [FIXTURES / "valid" / "ObjectEvent_with_persistentDisposition.json"])
    item = NodeRef(Label.BATCH, canonical("urn:epc:id:sgtin:9520001.012346.10000001001"))
    # set completeness_inferred, then set completeness_verified and unset completeness_inferred
    assert fetch_properties(store, [item])[item]["persistent_disposition"] == "completeness_verified"
    load(store, [document(tmp_path, CHAIN)])
    lettuce = NodeRef(Label.BATCH, canonical(LETTUCE))
    assert json.loads(fetch_properties(store, [lettuce])[lettuce]["ilmd"]) == {
        "cbvmda:itemDescription": "Romaine lettuce"
    }


def test_a_scope_starts_from_any_spelling_of_a_key(store: Store, tmp_path: Path) -> None:
    store.clear()
    load(store, [document(tmp_path, CHAIN)])
    link = "https://shop.example/01/00614141123452/10/HARVEST-7"  # LETTUCE as a Digital Link
    assert canonical(link) == canonical(LETTUCE)
    for spelling in (LETTUCE, link):
        ref = parse_ref(f"Batch:{spelling}")
        assert ref.uid == canonical(LETTUCE)
        assert canonical(SALAD) in forward(store, ref).uids_by_label()["Batch"]
    with pytest.raises(InvalidRequest, match="check digit"):
        parse_ref("Batch:https://id.gs1.org/01/00614141123453/10/HARVEST-7")


def ids(events: list[Evidence]) -> list[str]:
    return [e.id for e in events]


def test_a_trace_returns_the_events_it_rests_on_in_time_order(store: Store, tmp_path: Path) -> None:
    store.clear()
    load(store, [document(tmp_path, CHAIN)])
    salad, lettuce = NodeRef(Label.BATCH, canonical(SALAD)), NodeRef(Label.BATCH, canonical(LETTUCE))
    every = [f"urn:uuid:e{n}" for n in range(1, 7)]
    # Where the salad came from: the lettuce's commissioning, its packing on the pallet, the pallet's
    # shipping and receiving, the transformation; and the salad's own history, its shipping.
    behind = evidence_of(store, backward(store, salad))
    assert ids(behind) == every
    times = [e.time for e in behind]
    assert times == sorted(times) and all(times)
    assert [e.biz_step for e in behind] == [
        "commissioning",
        "packing",
        "shipping",
        "receiving",
        "commissioning",
        "shipping",
    ]
    assert [e.why.split(" ")[-1] for e in behind] == ["input", "input", "it", "it", "it", "source"]
    [transformation] = [e for e in behind if e.relationships]  # the one relationship the trace walked
    assert transformation.id == "urn:uuid:e5" and transformation.event_type == "TransformationEvent"
    assert set(transformation.objects) == {salad.uid, lettuce.uid}
    shipped = behind[2]
    assert shipped.objects == [canonical(PALLET)] and shipped.biz_transactions == ["urn:example:desadv:D1"]
    # Where the lettuce went rests on all six; the shop's trace too.
    ahead = evidence_of(store, forward(store, lettuce))
    assert ids(ahead) == every
    # The receipt at the packer is the evidence of the pallet's delivery there.
    [receipt] = [e for e in ahead if e.id == "urn:uuid:e4"]
    assert [(r.type, r.target["uid"]) for r in receipt.relationships] == [("DELIVERED_TO", canonical(PACKER))]
    assert ids(evidence_of(store, backward(store, NodeRef(Label.CUSTOMER, canonical(SHOP))))) == every
    # A later document declares the receipt in error: it is kept, marked, and no longer evidence.
    load(store, [document(tmp_path, [declared(CHAIN[3])], "correction.json")])
    assert ids(evidence_of(store, backward(store, salad))) == every[:3] + every[4:]
    assert ids(evidence_of(store, forward(store, lettuce))) == every[:3] + every[4:]
    [stored] = store.run("epcis_events_by_id", ids=["urn:uuid:e4"])
    assert stored["retracted"] is True


def declared(original: dict[str, Any]) -> dict[str, Any]:
    """The event again, declared in error."""
    return {
        **original,
        "errorDeclaration": {"declarationTime": "2026-05-05T00:00:00Z", "reason": "incorrect_data"},
    }


def test_a_later_declaration_of_error_takes_back_what_the_event_linked(store: Store, tmp_path: Path) -> None:
    store.clear()
    load(store, [document(tmp_path, CHAIN)])
    lettuce = NodeRef(Label.BATCH, canonical(LETTUCE))
    assert canonical(PALLET) in forward(store, lettuce).uids_by_label()["Batch"]
    # The packing of the lettuce on the pallet did not happen: the pallet's journey is not its own.
    correction = document(tmp_path, [declared(CHAIN[1])], "correction.json")
    load(store, [correction])
    ahead = forward(store, lettuce).uids_by_label()
    assert ahead["Batch"] == {canonical(SALAD)} and ahead["Customer"] == {canonical(SHOP)}
    assert "urn:uuid:e2" not in ids(
        evidence_of(store, backward(store, NodeRef(Label.BATCH, canonical(SALAD))))
    )
    relationships = store.run("admin_relationship_count")
    assert load(store, [correction]) and store.run("admin_relationship_count") == relationships
    # The shipping of the salad did not happen either: its shipment goes with what it said.
    load(store, [document(tmp_path, [declared(CHAIN[5])], "second.json")])
    assert "Shipment" not in forward(store, NodeRef(Label.BATCH, canonical(SALAD))).uids_by_label()
    assert fetch_properties(store, [NodeRef(Label.SHIPMENT, shipment_uid("urn:uuid:e6"))]) == {}


def test_a_document_without_epcis_events_rests_on_the_evidence_ids_it_gave(
    store: Store, tmp_path: Path
) -> None:
    store.clear()
    rows = [
        {"kind": "MaterialLot", "uid": "L1", "material": "milk"},
        {"kind": "Batch", "uid": "B1", "product": "cheese"},
        {
            "kind": "CONSUMED_BY",
            "from": "L1",
            "to": "B1",
            "from_label": "MaterialLot",
            "evidence": "WO-7 WO-8",
        },
    ]
    load(store, [write_jsonl(tmp_path / "plain.jsonl", rows)])
    found = evidence_of(store, forward(store, NodeRef(Label.MATERIAL_LOT, "L1")))
    assert ids(found) == ["WO-7", "WO-8"] and all(e.time is None and e.event_type is None for e in found)
    assert [r.type for r in found[0].relationships] == ["CONSUMED_BY"]


def aggregation(
    at: str, uid: str, action: str, parent: str, children: list[str] | None = None
) -> dict[str, Any]:
    step = "packing" if action == "ADD" else "unpacking"
    listed = {"childEPCs": children} if children else {}
    return event(
        "AggregationEvent",
        at,
        eventID=f"urn:uuid:{uid}",
        action=action,
        bizStep=step,
        parentID=parent,
        **listed,
    )


def test_what_was_unpacked_before_the_pallet_left_did_not_ship_with_it(store: Store, tmp_path: Path) -> None:
    store.clear()
    kept, taken_off, left_later = (f"urn:epc:id:sgtin:0614141.107346.{n}" for n in (1, 2, 3))
    other = "urn:epc:id:sscc:0614141.1000000002"
    events = [
        aggregation("1T08:00:00", "p1", "ADD", PALLET, [kept, taken_off, left_later]),
        aggregation("1T08:30:00", "p2", "DELETE", PALLET, [taken_off]),
        event(
            "ObjectEvent",
            "1T09:00:00",
            eventID="urn:uuid:p3",
            action="OBSERVE",
            bizStep="shipping",
            epcList=[PALLET],
            sourceList=party("source", FARM),
            destinationList=party("destination", PACKER),
        ),
        aggregation("2T08:00:00", "p4", "DELETE", PALLET),  # unpacked after it moved: it travelled on it
        # a second pallet packed and emptied again without moving carries nothing
        aggregation("2T09:00:00", "p5", "ADD", other, [taken_off]),
        aggregation("2T09:10:00", "p6", "DELETE", other),
    ]
    load(store, [document(tmp_path, events)])

    def reached(epc: str) -> set[str]:
        return forward(store, NodeRef(Label.BATCH, canonical(epc))).uids_by_label().get("Customer", set())

    assert reached(kept) == reached(left_later) == {canonical(PACKER)}
    assert reached(taken_off) == set()
    assert "Batch" not in forward(store, NodeRef(Label.BATCH, canonical(taken_off))).uids_by_label()
    behind = backward(store, NodeRef(Label.CUSTOMER, canonical(PACKER))).uids_by_label()["Batch"]
    assert behind == {canonical(PALLET), canonical(kept), canonical(left_later)}


def into(store: Store, key: str) -> set[str]:
    """What the object with this key went into: the batches one CONSUMED_BY step downstream."""
    scope = forward(store, NodeRef(Label.BATCH, canonical(key)))
    return {n.uid for n in scope.nodes if n.depth == 1 and n.label == Label.BATCH}


def test_each_event_type_maps_onto_the_graph(store: Store) -> None:
    valid = FIXTURES / "valid"
    store.clear()
    load(store, [valid / "AggregationEvent.json"])
    pallet = canonical("urn:epc:id:sscc:0614141.1234567890")
    children = [
        "urn:epc:id:sgtin:0614141.107346.2017",
        "urn:epc:id:sgtin:0614141.107346.2018",
        "urn:epc:idpat:sgtin:4012345.098765.*",
        "urn:epc:class:lgtin:4012345.012345.998877",
    ]
    for child in children:  # instances and classes alike are on the pallet
        assert into(store, child) == {pallet}
    behind = backward(store, NodeRef(Label.BATCH, pallet))
    assert {n.uid for n in behind.nodes if n.depth == 1} == {canonical(c) for c in children}
    [lot_on_pallet] = [e for e in behind.edges if e.source.uid == canonical(children[3])]
    assert (lot_on_pallet.quantity, lot_on_pallet.unit) == (200.5, "kg")

    store.clear()
    load(store, [valid / "AssociationEvent.json"])
    # a component installed in two assets in turn goes with each
    assert into(store, "urn:epc:id:giai:4000001.12345") == {
        canonical("urn:epc:id:grai:4012345.55555.987"),
        canonical("urn:epc:id:grai:4012345.55555.98765"),
    }
    assert into(store, "urn:epc:class:lgtin:4023333.002000.998877") == {
        canonical("urn:epc:id:grai:4012345.55555.98765")
    }

    store.clear()
    load(store, [valid / "TransformationEvent.json"])
    outputs = {canonical(f"urn:epc:id:sgtin:4012345.077889.{n}") for n in (25, 26, 27, 28)}
    for given in ("urn:epc:id:sgtin:4012345.011122.25", "urn:epc:class:lgtin:4012345.011111.4444"):
        assert into(store, given) == outputs  # every input into every output
    made = backward(store, NodeRef(Label.BATCH, canonical("urn:epc:id:sgtin:4012345.077889.25")))
    assert len([n for n in made.nodes if n.depth == 1]) == 5  # two instances and three classes
    event = first_event_id(valid / "TransformationEvent.json")
    [stored] = store.run("epcis_events_by_id", ids=[event])  # kept whole, under its own id
    assert stored["event_type"] == "TransformationEvent" and stored["biz_step"] == "commissioning"

    store.clear()
    load(store, [valid / "TransactionEvent.json"])
    # what a transaction names is kept (and findable), with the transaction as the event's evidence
    for key in ("urn:epc:id:gsrn:95252084.000000001", "urn:epc:id:giai:952005385.w2"):
        assert fetch_properties(store, [NodeRef(Label.BATCH, canonical(key))])
    mentions = store.run("epcis_mentions_of", keys=[canonical("urn:epc:id:giai:952005385.w2")])
    [stored] = store.run("epcis_events_by_id", ids=[m["event"] for m in mentions])
    assert stored["event_type"] == "TransactionEvent"
    assert stored["biz_transactions"] == "http://transaction.examplerail.com/passage/xyz12345"


def first_event_id(path: Path) -> str:
    return json.loads(path.read_text())["epcisBody"]["eventList"][0]["eventID"]
