"""What a trace rests on, as an EPCIS user means it: from every object of a multi-party chain, in
JSON-LD and in EPCIS 1.2 XML, the exact set of events, derived by hand below.

The chain: a farm harvests lot H (f1); the packer packs it into two cases (p1, a transformation
that commissions them) and the cases onto a pallet (p2); a 3PL ships the pallet (t1) and the
processor receives it (t2), unpacks it (r1), makes soup of case 1 (r2) and ships the soup (r3) to
a retailer, who receives it (r4). Afterwards the processor sends case 2 on elsewhere (x1), and the
pallet is reused: packed with another case (x2) and shipped (x3).

The rule (lineage.graph.evidence): every event of the source; of another object, its history up
to the last event of the trace that names it going backward (from the first going forward); and
of a container an object was packed into within that stretch, its events from the packing to that
object's unpacking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from test_epcis import document, event, ids, party

from lineage.graph.evidence import evidence_of
from lineage.graph.gs1 import canonical
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import backward, forward
from lineage.graph.store import Store
from lineage.loading.load import load

FARM, PACKER, PROCESSOR, RETAILER, ELSEWHERE = (f"urn:epc:id:pgln:06141{n}.00001" for n in range(41, 46))
LOT = "urn:epc:class:lgtin:0614141.011111.H1"
CASE1, CASE2, OTHER_CASE = (f"urn:epc:id:sgtin:0614141.011111.{n}" for n in (1, 2, 3))
PALLET = "urn:epc:id:sscc:0614141.1000000009"
SOUP = "urn:epc:class:lgtin:0614141.022222.S1"


def kg(epc_class: str, amount: int) -> list[dict[str, Any]]:
    return [{"epcClass": epc_class, "quantity": amount, "uom": "KGM"}]


def moved(step: str, source: str, destination: str, **what: Any) -> dict[str, Any]:
    return {
        "action": "OBSERVE",
        "bizStep": step,
        "sourceList": party("source", source),
        "destinationList": party("destination", destination),
        **what,
    }


def packed(action: str, *children: str) -> dict[str, Any]:
    listed = {"childEPCs": list(children)} if children else {}
    return {
        "action": action,
        "bizStep": "packing" if action == "ADD" else "unpacking",
        "parentID": PALLET,
        **listed,
    }


CHAIN = [
    event(
        "ObjectEvent",
        "1T06:00:00",
        eventID="f1",
        action="ADD",
        bizStep="commissioning",
        quantityList=kg(LOT, 500),
    ),
    event(
        "TransformationEvent",
        "1T10:00:00",
        eventID="p1",
        bizStep="commissioning",
        inputQuantityList=kg(LOT, 500),
        outputEPCList=[CASE1, CASE2],
    ),
    event("AggregationEvent", "1T11:00:00", eventID="p2", **packed("ADD", CASE1, CASE2)),
    event(
        "ObjectEvent", "1T14:00:00", eventID="t1", **moved("shipping", PACKER, PROCESSOR, epcList=[PALLET])
    ),
    event(
        "ObjectEvent", "2T08:00:00", eventID="t2", **moved("receiving", PACKER, PROCESSOR, epcList=[PALLET])
    ),
    event("AggregationEvent", "2T09:00:00", eventID="r1", **packed("DELETE")),
    event(
        "TransformationEvent",
        "2T12:00:00",
        eventID="r2",
        bizStep="commissioning",
        inputEPCList=[CASE1],
        outputQuantityList=kg(SOUP, 200),
    ),
    event(
        "ObjectEvent",
        "3T06:00:00",
        eventID="r3",
        **moved("shipping", PROCESSOR, RETAILER, quantityList=kg(SOUP, 200)),
    ),
    event(
        "ObjectEvent",
        "3T15:00:00",
        eventID="r4",
        **moved("receiving", PROCESSOR, RETAILER, quantityList=kg(SOUP, 200)),
    ),
    event(
        "ObjectEvent", "4T09:00:00", eventID="x1", **moved("shipping", PROCESSOR, ELSEWHERE, epcList=[CASE2])
    ),
    event("AggregationEvent", "4T10:00:00", eventID="x2", **packed("ADD", OTHER_CASE)),
    event(
        "ObjectEvent", "4T12:00:00", eventID="x3", **moved("shipping", PROCESSOR, ELSEWHERE, epcList=[PALLET])
    ),
]

#: From each object, the events its trace rests on (the ids, in time order), and why.
BACKWARD = {
    # The soup, its input case 1 up to its use (r2), case 1's input lot up to its use (p1), and the
    # pallet case 1 rode on from its packing to the unpacking: not case 2's later trip, nor the
    # pallet's reuse.
    SOUP: "f1 p1 p2 t1 t2 r1 r2 r3 r4",
    # All of the pallet's events (its reuse too: it is the source), the cases and the other case
    # up to their packing onto it, the lot up to the cases' making.
    PALLET: "f1 p1 p2 t1 t2 r1 x2 x3",
    # Case 1's own events, the lot up to p1, the pallet from packing to unpacking.
    CASE1: "f1 p1 p2 t1 t2 r1 r2",
    CASE2: "f1 p1 p2 t1 t2 r1 x1",
    LOT: "f1 p1",
    # The other case rode on the pallet from x2 and was never unpacked.
    OTHER_CASE: "x2 x3",
}
FORWARD = {
    # Everything the lot went into: the cases, the pallet from when they were packed onto it (its
    # reuse is still in the graph, the cases having left it only after it moved), the soup.
    LOT: "f1 p1 p2 t1 t2 r1 r2 r3 r4 x1 x2 x3",
    CASE1: "p1 p2 t1 t2 r1 r2 r3 r4 x2 x3",
    CASE2: "p1 p2 t1 t2 r1 x1 x2 x3",
    PALLET: "p2 t1 t2 r1 x2 x3",
    SOUP: "r2 r3 r4",
    # The pallet from when the other case went onto it; but the walk follows the pallet's links,
    # which hold no time, so its earlier trip (t1, t2) is in the scope, and with it what the
    # relationships walked rest on and the pallet's events after (r1).
    OTHER_CASE: "t1 t2 r1 x2 x3",
}


def xml_12(events: list[dict[str, Any]]) -> str:
    """The events as EPCIS 1.2 XML writes them: CBV URNs, extension and baseExtension wrappers, the
    TransformationEvent in an extension."""
    cbv = "urn:epcglobal:cbv"

    def epcs(name: str, values: list[str]) -> str:
        return f"<{name}>{''.join(f'<epc>{escape(v)}</epc>' for v in values)}</{name}>"

    def quantities(name: str, items: list[dict[str, Any]]) -> str:
        inner = "".join(
            f"<quantityElement><epcClass>{q['epcClass']}</epcClass><quantity>{q['quantity']}</quantity>"
            f"<uom>{q['uom']}</uom></quantityElement>"
            for q in items
        )
        return f"<{name}>{inner}</{name}>"

    def ends(name: str, key: str, items: list[dict[str, str]]) -> str:
        inner = "".join(f'<{key} type="{cbv}:sdt:{i["type"]}">{i[key]}</{key}>' for i in items)
        return f"<{name}>{inner}</{name}>"

    rendered = []
    for e in events:
        kind = e["type"]
        head = f"<eventTime>{e['eventTime']}</eventTime><eventTimeZoneOffset>{e['eventTimeZoneOffset']}</eventTimeZoneOffset>"
        base = f"<baseExtension><eventID>{e['eventID']}</eventID></baseExtension>"
        step = f"<bizStep>{cbv}:bizstep:{e['bizStep']}</bizStep>" if "bizStep" in e else ""
        action = f"<action>{e['action']}</action>" if "action" in e else ""
        parent = f"<parentID>{e['parentID']}</parentID>" if "parentID" in e else ""
        extension = "".join(
            quantities(name, e[name]) for name in ("quantityList", "childQuantityList") if name in e
        ) + "".join(
            ends(name, key, e[name])
            for name, key in (("sourceList", "source"), ("destinationList", "destination"))
            if name in e
        )
        if kind == "TransformationEvent":
            lists = "".join(epcs(n, e[n]) for n in ("inputEPCList", "outputEPCList") if n in e)
            lists += "".join(
                quantities(n, e[n]) for n in ("inputQuantityList", "outputQuantityList") if n in e
            )
            rendered.append(
                f"<extension><TransformationEvent>{head}{base}{lists}{step}</TransformationEvent></extension>"
            )
            continue
        listed = epcs(
            "childEPCs" if kind == "AggregationEvent" else "epcList", e.get("childEPCs", e.get("epcList", []))
        )
        body = f"{head}{base}{parent}{listed}{action}{step}"
        rendered.append(
            f"<{kind}>{body}{f'<extension>{extension}</extension>' if extension else ''}</{kind}>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" '
        f'schemaVersion="1.2" creationDate="2026-05-05T00:00:00Z"><EPCISBody><EventList>{"".join(rendered)}'
        "</EventList></EPCISBody></epcis:EPCISDocument>"
    )


@pytest.fixture(params=["jsonld", "xml"])
def chain(request: pytest.FixtureRequest, store: Store, tmp_path: Path) -> Store:
    store.clear()
    if request.param == "jsonld":
        path = document(tmp_path, CHAIN, "chain.jsonld")
    else:
        path = tmp_path / "chain.xml"
        path.write_text(xml_12(CHAIN))
    load(store, [path])
    return store


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_the_evidence_from_every_object_is_the_set_derived_by_hand(chain: Store, direction: str) -> None:
    expected = BACKWARD if direction == "backward" else FORWARD
    walk = backward if direction == "backward" else forward
    for obj, events in expected.items():
        found = evidence_of(chain, walk(chain, NodeRef(Label.BATCH, canonical(obj))))
        assert ids(found) == events.split(), f"{direction} from {obj}"
        assert all(e.why and e.event_type and e.time for e in found)


def test_each_event_says_why_it_is_in(chain: Store) -> None:
    found = {e.id: e for e in evidence_of(chain, backward(chain, NodeRef(Label.BATCH, canonical(SOUP))))}
    assert found["r3"].why == "an event of the source"
    assert found["r2"].why == found["p1"].why == "the trace's relationships rest on it"
    assert found["f1"].why == "an event of an input" and found["f1"].objects == [canonical(LOT)]
    assert found["t1"].why.startswith("an event of a container") and found["t1"].objects == [
        canonical(PALLET)
    ]
    assert (found["r1"].event_type, found["r1"].action, found["r1"].biz_step) == (
        "AggregationEvent",
        "DELETE",
        "unpacking",
    )
