"""The API over real HTTP, against a real `lineage serve` process on the embedded engine.

``api`` serves the demo read-only (every test here leaves it as it found it); ``scratch`` is a second
server for tests that write, break the engine, or let schemathesis loose.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
from collections.abc import Iterator

import httpx
import networkx as nx
import pytest
from apiserver import KEYS, Api, serve

from lineage.graph.engines.embedded_server import EmbeddedServer

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, *fragments: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:lineage:problem:")
    for fragment in fragments:
        assert fragment in body["detail"], body["detail"]
    assert "Traceback" not in response.text
    return body


# --- health, docs, keys and roles ---------------------------------------------------------------


def test_health_is_public_and_names_the_engine(api: Api) -> None:
    with api.client(None) as anonymous:
        body = anonymous.get("/health").json()
    assert body["status"] == "ok" and body["auth"] == "keys"
    assert body["engine"] == "falkordb" and body["version"].startswith("FalkorDB 4.")


def test_openapi_documents_every_route_and_the_key(api: Api) -> None:
    schema = httpx.get(f"{api.url}/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/health",
        "/lots/{uid}/affected",
        "/scope/forward",
        "/scope/backward",
        "/scope/forward/export",
        "/scope/backward/export",
        "/why",
        "/nodes/{label}/{uid}",
        "/search",
        "/ingest",
        "/admin/status",
    } <= paths
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (None, "GET", "/lots/L-4471/affected", 401),
        ("wrong", "GET", "/scope/forward?label=MaterialLot&uid=L-4471", 401),
        ("viewer", "GET", "/lots/L-4471/affected", 200),
        ("viewer", "POST", "/ingest", 403),
        ("viewer", "GET", "/admin/status", 403),
        ("editor", "GET", "/search?q=L-", 200),
        ("editor", "GET", "/admin/status", 403),
        ("admin", "GET", "/admin/status", 200),
    ],
)
def test_keys_and_roles(api: Api, role: str | None, method: str, path: str, status: int) -> None:
    headers = {"X-API-Key": KEYS.get(role, "not-a-key")} if role else {}
    response = httpx.request(method, api.url + path, headers=headers, content=b"{}", timeout=30)
    if status == 200:
        assert response.status_code == 200, response.text
        return
    body = assert_problem(response, status)
    if status == 401:
        assert ("no API key given" if role is None else "not valid") in body["detail"]
        assert response.headers["www-authenticate"] == "APIKey"
    else:
        assert f"has {role}" in body["detail"]


# --- the coordinator's answer -------------------------------------------------------------------


def line(batch: str, quantity: float, unit: str = "cups") -> dict:
    return {"quantity": quantity, "unit": unit, "batch": batch}


def amount(quantity: float, unit: str = "cups") -> list[dict]:
    return [{"quantity": quantity, "unit": unit}]


def customer(
    uid: str, name: str, kind: str, region: str, contact: tuple[str, str, str], received: list, sold: list
) -> dict:
    return {
        "uid": uid,
        "name": name,
        "customer_type": kind,
        "region": region,
        "contact_name": contact[0],
        "contact_email": contact[1],
        "contact_phone": contact[2],
        "received": received,
        "sold": sold,
    }


def batch(
    uid: str,
    product: str,
    sku: str | None,
    kind: str,
    quantity: float,
    unit: str,
    start: str,
    end: str,
    depth: int,
) -> dict:
    found = {
        "uid": uid,
        "product": product,
        "sku": sku,
        "batch_type": kind,
        "quantity": quantity,
        "unit": unit,
        "site": "Hamar",
        "started_at": start,
        "ended_at": end,
        "depth": depth,
    }
    return {k: v for k, v in found.items() if v is not None}


def shipment(
    uid: str,
    shipped: str,
    delivered: str,
    carrier: str,
    document: str,
    origin: str | None,
    to: str,
    lines: list,
) -> dict:
    found = {
        "uid": uid,
        "shipped_at": shipped,
        "delivered_at": delivered,
        "carrier": carrier,
        "document": document,
        "origin": origin,
        "customer": to,
        "lines": lines,
    }
    return {k: v for k, v in found.items() if v is not None}


def stock(
    batch: str,
    quantity: float,
    unit: str,
    location: str,
    region: str | None = None,
    scrapped: float | None = None,
    counted_at: str | None = None,
) -> dict:
    found = {
        "quantity": quantity,
        "unit": unit,
        "batch": batch,
        "location": location,
        "holder": "customer" if region else "plant",
        "region": region,
        "scrapped": scrapped,
        "counted_at": counted_at,
    }
    return {k: v for k, v in found.items() if v is not None}


def without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


# Checked by hand against fixtures/demo: L-4471 went 200 kg into yogurt base B-1001, which went into
# B-2001 (600 kg) and B-2002 (400 kg); 100 cups of B-2001 were reworked into B-3001. Stock on hand:
# B-1001 1200-600-400 kg, B-2001 1200-600 shipped-100 reworked, B-2002 1200-400; the distributor
# kept 600-300 of B-2001, the retailers what they received less what they sold.
AFFECTED_L4471 = {
    "source": {"label": "MaterialLot", "uid": "L-4471"},
    "properties": {
        "material": "skimmed milk powder",
        "quantity": 1000.0,
        "received_at": "2026-03-01T07:30:00Z",
        "unit": "kg",
        "on_hand": 780.0,
        "counted_at": "2026-03-07T16:00:00Z",
        "scrapped": 15.0,
        "scrap_document": "SCRAP-0311",
    },
    "counts": {"Batch": 4, "Shipment": 4, "Customer": 4, "Sale": 3},
    "batches": [
        batch(
            "B-1001",
            "yogurt base",
            None,
            "intermediate",
            1200.0,
            "kg",
            "2026-03-02T06:00:00Z",
            "2026-03-02T10:00:00Z",
            1,
        ),
        batch(
            "B-2001",
            "Strawberry yogurt 500 g",
            "YOG-STR-500",
            "production",
            1200.0,
            "cups",
            "2026-03-02T10:00:00Z",
            "2026-03-02T14:00:00Z",
            2,
        ),
        batch(
            "B-2002",
            "Plain yogurt 500 g",
            "YOG-PLN-500",
            "production",
            1200.0,
            "cups",
            "2026-03-02T18:00:00Z",
            "2026-03-02T22:00:00Z",
            2,
        ),
        batch(
            "B-3001",
            "Strawberry yogurt 500 g",
            "YOG-STR-500",
            "rework",
            100.0,
            "cups",
            "2026-03-03T10:00:00Z",
            "2026-03-03T11:00:00Z",
            3,
        ),
    ],
    "shipments": [
        shipment(
            "SH-01",
            "2026-03-03T15:00:00Z",
            "2026-03-04T06:00:00Z",
            "ColdLine",
            "DN-5501",
            None,
            "C-DIST-NORTH",
            [line("B-2001", 600.0)],
        ),
        shipment(
            "SH-02",
            "2026-03-04T12:00:00Z",
            "2026-03-05T08:00:00Z",
            "ColdLine",
            "DN-NC-1201",
            "C-DIST-NORTH",
            "C-RET-N1",
            [line("B-2001", 300.0)],
        ),
        shipment(
            "SH-04",
            "2026-03-03T16:00:00Z",
            "2026-03-04T07:00:00Z",
            "FjordFrakt",
            "DN-5502",
            None,
            "C-RET-S1",
            [line("B-2002", 400.0)],
        ),
        shipment(
            "SH-05",
            "2026-03-03T17:00:00Z",
            "2026-03-04T08:00:00Z",
            "FjordFrakt",
            "DN-5503",
            None,
            "C-RET-E1",
            [line("B-3001", 100.0)],
        ),
    ],
    "regions": [
        {
            "region": "East",
            "sold": amount(5.0),
            "on_hand": amount(95.0),
            "customers": [
                customer(
                    "C-RET-E1",
                    "Østmarked Fredrikstad",
                    "retailer",
                    "East",
                    ("Eva Strand", "manager@ostmarked.example", "+47 69 00 00 09"),
                    [line("B-3001", 100.0)],
                    [line("B-3001", 5.0)],
                )
            ],
        },
        {
            "region": "North",
            "sold": amount(12.0),
            "on_hand": amount(300.0 + 288.0),
            "customers": [
                customer(
                    "C-DIST-NORTH",
                    "Nordic Chill Distribution",
                    "distributor",
                    "North",
                    ("Ida Lund", "recall@nordicchill.example", "+47 22 00 00 01"),
                    [line("B-2001", 600.0)],
                    [],
                ),
                customer(
                    "C-RET-N1",
                    "FreshMart Tromsø",
                    "retailer",
                    "North",
                    ("Ola Nilsen", "store17@freshmart.example", "+47 77 00 00 17"),
                    [line("B-2001", 300.0)],
                    [line("B-2001", 12.0)],
                ),
            ],
        },
        {
            "region": "South",
            "sold": amount(30.0),
            "on_hand": amount(370.0),
            "customers": [
                customer(
                    "C-RET-S1",
                    "Sørhandel Kristiansand",
                    "retailer",
                    "South",
                    ("Per Holm", "qa@sorhandel.example", "+47 38 00 00 05"),
                    [line("B-2002", 400.0)],
                    [line("B-2002", 30.0)],
                )
            ],
        },
    ],
    "sold": amount(12.0 + 30.0 + 5.0),
    "stock_on_hand": [
        stock("B-1001", 200.0, "kg", "Hamar"),
        # the count on B-2001's record, as the drill's mass balance has it; its scrap apart
        stock("B-2001", 480.0, "cups", "Hamar", scrapped=20.0, counted_at="2026-03-07T16:00:00Z"),
        stock("B-2002", 800.0, "cups", "Hamar"),
        stock("B-2001", 300.0, "cups", "C-DIST-NORTH", "North"),
        stock("B-3001", 95.0, "cups", "C-RET-E1", "East"),
        stock("B-2001", 288.0, "cups", "C-RET-N1", "North"),
        stock("B-2002", 370.0, "cups", "C-RET-S1", "South"),
    ],
    "response": {
        "level": "national",
        "regions_reached": 3,
        "rule": "national from 3 regions, regional from 2, local below; 3 reached "
        "(LINEAGE_RESPONSE_NATIONAL_REGIONS, LINEAGE_RESPONSE_REGIONAL_REGIONS)",
    },
}


def test_the_demo_bad_lot_affected_answer_exactly(viewer: httpx.Client) -> None:
    response = viewer.get("/lots/L-4471/affected")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.pop("elapsed_ms") > 0
    assert without_nulls(body) == AFFECTED_L4471


def test_the_response_level_follows_the_thresholds_in_settings() -> None:
    with serve(keys=False, response_national_regions="5", response_regional_regions="3") as local:
        body = httpx.get(f"{local.url}/lots/L-4471/affected").json()
        assert body["response"]["level"] == "regional" and body["response"]["regions_reached"] == 3
        # The yogurt culture went into both bases, so into every region (4): still below 5.
        other = httpx.get(f"{local.url}/lots/L-6200/affected").json()
        assert other["response"]["regions_reached"] == 4 and other["response"]["level"] == "regional"


def test_an_unknown_lot_is_a_404_naming_it(viewer: httpx.Client) -> None:
    body = assert_problem(viewer.get("/lots/L-0000/affected"), 404, "no MaterialLot with uid 'L-0000'")
    assert body["label"] == "MaterialLot" and body["uid"] == "L-0000"
    assert body["instance"] == "/lots/L-0000/affected"


# --- scopes in pages ----------------------------------------------------------------------------


def all_pages(client: httpx.Client, path: str, **params: object) -> list[dict]:
    pages = []
    cursor = None
    while True:
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages


def test_a_scope_pages_with_a_stable_cursor(viewer: httpx.Client) -> None:
    whole = viewer.get(
        "/scope/forward", params={"label": "Supplier", "uid": "SUP-PACK", "limit": 1000}
    ).json()
    pages = all_pages(viewer, "/scope/forward", label="Supplier", uid="SUP-PACK", limit=4)
    assert len(pages) == -(-whole["total"] // 4) and whole["next_cursor"] is None
    paged = [node for page in pages for node in page["nodes"]]
    assert paged == whole["nodes"]
    assert len({(n["label"], n["uid"]) for n in paged}) == len(paged) == whole["total"]
    assert [(n["depth"], n["label"]) for n in paged][:1] == [(1, "MaterialLot")]
    assert sum(whole["counts"].values()) == whole["total"]
    # Each relationship appears once, under the node it leads to.
    edges = viewer.get(
        "/scope/forward/export",
        params={"label": "Supplier", "uid": "SUP-PACK", "format": "jsonl", "what": "edges"},
    )
    assert sum(len(n["via"]) for n in paged) == len(edges.text.splitlines())


def test_a_cursor_only_fits_its_own_request(viewer: httpx.Client) -> None:
    first = viewer.get("/scope/forward", params={"label": "MaterialLot", "uid": "L-4471", "limit": 2}).json()
    other = viewer.get(
        "/scope/forward",
        params={"label": "MaterialLot", "uid": "L-4472", "limit": 2, "cursor": first["next_cursor"]},
    )
    assert_problem(other, 422, "the cursor belongs to a different request")
    broken = viewer.get("/scope/forward", params={"label": "MaterialLot", "uid": "L-4471", "cursor": "x!y"})
    assert_problem(broken, 422, "the cursor is malformed")


def test_scope_filters_by_kind_and_depth(viewer: httpx.Client) -> None:
    params = {"label": "MaterialLot", "uid": "L-4471", "kinds": ["Customer", "Sale"]}
    body = viewer.get("/scope/forward", params=params).json()
    assert {(n["label"], n["uid"]) for n in body["nodes"]} == {
        ("Customer", "C-DIST-NORTH"),
        ("Customer", "C-RET-N1"),
        ("Customer", "C-RET-S1"),
        ("Customer", "C-RET-E1"),
        ("Sale", "SA-01"),
        ("Sale", "SA-02"),
        ("Sale", "SA-04"),
    }
    assert body["total"] == 7 and body["counts"]["Batch"] == 4
    shallow = viewer.get(
        "/scope/forward", params={"label": "MaterialLot", "uid": "L-4471", "depth": 2}
    ).json()
    assert {n["uid"] for n in shallow["nodes"]} == {"B-1001", "B-2001", "B-2002"}
    assert shallow["nodes"][0]["via"] == [
        {
            "type": "CONSUMED_BY",
            "label": "MaterialLot",
            "uid": "L-4471",
            "direction": "out",
            "quantity": 200.0,
            "unit": "kg",
            "start": None,
            "end": None,
        }
    ]


def test_a_machine_scope_over_a_window(viewer: httpx.Client) -> None:
    params = {
        "label": "Machine",
        "uid": "M-FILL3",
        "from": "2026-03-02T11:00:00Z",
        "to": "2026-03-02T12:00:00Z",
        "kinds": "Batch",
    }
    body = viewer.get("/scope/forward", params=params).json()
    assert [n["uid"] for n in body["nodes"]] == ["B-2001", "B-3001"]
    assert body["window"] == {"start": 1772449200000, "end": 1772452800000}
    ran_on = body["nodes"][0]["via"][0]
    assert (ran_on["type"], ran_on["direction"], ran_on["start"]) == ("RAN_ON", "in", "2026-03-02T10:00:00Z")
    backwards = viewer.get("/scope/forward", params=params | {"to": "2026-03-01"})
    assert_problem(backwards, 422, "to (2026-03-01) must be after from (2026-03-02T11:00:00Z)")
    on_a_lot = viewer.get(
        "/scope/forward", params={"label": "MaterialLot", "uid": "L-4471", "from": "2026-03-01"}
    )
    assert_problem(on_a_lot, 422, "a time window applies to Machine and Operator scopes, not to MaterialLot")
    assert_problem(
        viewer.get("/scope/forward", params=params | {"from": "yesterday"}),
        422,
        "from: 'yesterday' is not an ISO-8601 time",
    )


def test_backward_trace_of_a_complaint(viewer: httpx.Client) -> None:
    body = viewer.get("/scope/backward", params={"label": "Complaint", "uid": "CP-01", "limit": 1000}).json()
    found = {(n["label"], n["uid"]) for n in body["nodes"]}
    assert {uid for label, uid in found if label == "MaterialLot"} == {"L-4471", "L-5100", "L-6200", "L-7300"}
    assert {uid for label, uid in found if label == "Supplier"} == {
        "SUP-MILKCO",
        "SUP-SUGAR",
        "SUP-CULTURE",
        "SUP-PACK",
    }
    assert {("Machine", "M-MIX1"), ("Machine", "M-FILL3"), ("Inspection", "I-03")} <= found
    wrong_way = viewer.get("/scope/backward", params={"label": "Supplier", "uid": "SUP-PACK"})
    assert_problem(wrong_way, 422, "query.label: Input should be 'Complaint'")


def test_a_scope_over_its_node_limit_is_413_naming_the_limit(viewer: httpx.Client) -> None:
    response = viewer.get("/scope/forward", params={"label": "Supplier", "uid": "SUP-PACK", "max_nodes": 3})
    body = assert_problem(response, 413, "passed its limit of 3 nodes", "narrow it")
    assert body["limit"] == "max_nodes"


def test_unknown_sources_and_labels(viewer: httpx.Client) -> None:
    assert_problem(viewer.get("/scope/backward", params={"label": "Sale", "uid": "SA-99"}), 404, "no Sale")
    bad = viewer.get("/scope/forward", params={"label": "Batch) DETACH DELETE (n", "uid": "B-1001"})
    assert_problem(bad, 422, "query.label")
    assert viewer.get("/nodes/Batch/B-1001").status_code == 200  # still there


# --- exports ------------------------------------------------------------------------------------


def test_exports_stream_csv_and_json_lines(viewer: httpx.Client) -> None:
    params = {"label": "MaterialLot", "uid": "L-4471"}
    page = viewer.get("/scope/forward", params=params).json()
    with viewer.stream("GET", "/scope/forward/export", params=params | {"format": "csv"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert 'filename="forward-MaterialLot-L-4471-nodes.csv"' in response.headers["content-disposition"]
        text = response.read().decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["label"], r["uid"], int(r["depth"])) for r in rows] == [
        (n["label"], n["uid"], n["depth"]) for n in page["nodes"]
    ]
    by_uid = {r["uid"]: r for r in rows}
    assert by_uid["C-RET-N1"]["region"] == "North" and by_uid["SH-02"]["carrier"] == "ColdLine"
    assert by_uid["SH-02"]["shipped_at"] == "2026-03-04T12:00:00Z"
    lines = viewer.get(
        "/scope/backward/export",
        params={"label": "Complaint", "uid": "CP-02", "format": "jsonl", "kinds": "Supplier"},
    )
    assert lines.headers["content-type"] == "application/x-ndjson"
    assert sorted(json.loads(x)["uid"] for x in lines.text.splitlines()) == [
        "SUP-CULTURE",
        "SUP-MILKCO",
        "SUP-PACK",
        "SUP-SUGAR",
    ]
    edges = viewer.get("/scope/forward/export", params=params | {"what": "edges"}).text.splitlines()
    assert edges[0] == "type,source_label,source_uid,target_label,target_uid,quantity,unit,start,end"
    assert "SHIPPED_IN,Batch,B-2001,Shipment,SH-02,300.0,cups,," in edges


def test_exports_as_graph_documents(viewer: httpx.Client) -> None:
    params = {"label": "Complaint", "uid": "CP-02"}
    trace = viewer.get("/scope/backward", params=params).json()
    expected = {f"{n['label']}:{n['uid']}" for n in trace["nodes"]} | {"Complaint:CP-02"}
    graphml = viewer.get("/scope/backward/export", params=params | {"format": "graphml"})
    assert graphml.headers["content-type"] == "application/graphml+xml"
    assert 'filename="backward-Complaint-CP-02.graphml"' in graphml.headers["content-disposition"]
    graph = nx.read_graphml(io.BytesIO(graphml.content))
    assert set(graph.nodes) == expected
    assert graph.nodes["Complaint:CP-02"]["source"] is True
    assert graph.nodes["Supplier:SUP-MILKCO"]["kind"] == "Supplier"
    assert graph.graph["scope_direction"] == "backward"
    gexf = nx.read_gexf(
        io.BytesIO(viewer.get("/scope/backward/export", params=params | {"format": "gexf"}).content)
    )
    cyjs = nx.cytoscape_graph(viewer.get("/scope/backward/export", params=params | {"format": "cyjs"}).json())
    assert set(gexf.nodes) == set(cyjs.nodes) == expected
    assert gexf.number_of_edges() == cyjs.number_of_edges() == graph.number_of_edges() > 10
    capped = viewer.get("/scope/backward/export", params=params | {"format": "gexf", "max_nodes": 2})
    assert_problem(capped, 413, "limit of 2 nodes")


def wait_for_index(client: httpx.Client) -> None:
    """Until the server's index is built: on a new clone its first build compiles the walk's loops
    too (a minute or more on a busy 2-core machine)."""
    deadline = time.monotonic() + 300
    while (index := client.get("/health").json()["index"])["state"] != "built":
        assert time.monotonic() < deadline, index
        time.sleep(0.05)


def test_a_scope_past_the_page_limit_streams_whole_as_an_export(viewer: httpx.Client) -> None:
    params = {"label": "Supplier", "uid": "SUP-PACK"}
    pages = all_pages(viewer, "/scope/forward", **params, limit=7)
    expected = [(n["label"], n["uid"], str(n["depth"])) for p in pages for n in p["nodes"]]
    edges = sorted(viewer.get("/scope/forward/export", params=params | {"what": "edges"}).text.splitlines())
    assert len(expected) > 20
    with serve(scope_max_nodes="5") as small, small.client() as client:
        wait_for_index(client)  # the export then streams from the index walk's arrays
        too_big = client.get("/scope/forward", params=params)
        assert_problem(
            too_big, 413, "limit of 5 nodes", "exports stream up to LINEAGE_SCOPE_STREAM_MAX_NODES"
        )
        assert_problem(client.get("/lots/L-4471/affected"), 413, "limit of 5 nodes")
        with client.stream("GET", "/scope/forward/export", params=params) as response:
            assert response.status_code == 200
            rows = list(csv.DictReader(io.StringIO(response.read().decode())))
        assert [(r["label"], r["uid"], r["depth"]) for r in rows] == expected
        assert {r["uid"]: r["region"] for r in rows}["C-RET-N1"] == "North"
        streamed = client.get("/scope/forward/export", params=params | {"what": "edges"}).text.splitlines()
        assert sorted(streamed) == edges
        capped = client.get("/scope/forward/export", params=params | {"max_nodes": 3})
        assert_problem(capped, 413, "limit of 3 nodes")


# --- why, nodes, search -------------------------------------------------------------------------


def test_why_explains_a_customer(viewer: httpx.Client) -> None:
    body = viewer.get("/why", params={"source": "MaterialLot:L-4471", "target": "Customer:C-RET-N1"}).json()
    assert [n["uid"] for n in body["nodes"]] == ["L-4471", "B-1001", "B-2001", "SH-02", "C-RET-N1"]
    assert body["description"].startswith("MaterialLot L-4471 -[CONSUMED_BY 200 kg]- Batch B-1001")
    outside = viewer.get("/why", params={"source": "MaterialLot:L-4471", "target": "Customer:C-RET-N2"})
    assert_problem(outside, 422, "Customer:C-RET-N2", "is not in the forward scope")
    assert_problem(
        viewer.get("/why", params={"source": "L-4471", "target": "Customer:C-RET-N2"}),
        422,
        "should be Label:uid",
    )


def test_a_node_with_its_neighbours(viewer: httpx.Client) -> None:
    body = viewer.get("/nodes/Batch/B-2001").json()
    assert body["properties"]["started_at"] == "2026-03-02T10:00:00Z"
    assert body["degree"] == {
        "CONSUMED_BY": 3,
        "HANDLED_BY": 1,
        "INSPECTED": 1,
        "RAN_ON": 1,
        "SHIPPED_IN": 2,
        "SOLD_IN": 1,
    }
    assert not body["truncated"] and len(body["neighbours"]) == 9
    reworked = [n for n in body["neighbours"] if n["uid"] == "B-3001"]
    assert reworked == [
        {
            "type": "CONSUMED_BY",
            "direction": "out",
            "label": "Batch",
            "uid": "B-3001",
            "name": None,
            "properties": {"evidence": "RW-3001", "quantity": 100.0, "unit": "cups"},
        }
    ]
    cut = viewer.get("/nodes/Batch/B-2001", params={"limit": 2}).json()
    assert cut["truncated"] and len(cut["neighbours"]) == 2
    assert_problem(viewer.get("/nodes/Batch/B-9999"), 404, "no Batch with uid 'B-9999'")
    assert_problem(viewer.get("/nodes/Widget/B-2001"), 422, "path.label")


def test_search_by_uid_prefix_and_name(viewer: httpx.Client) -> None:
    hits = viewer.get("/search", params={"q": "c-ret"}).json()
    assert [h["uid"] for h in hits] == ["C-RET-E1", "C-RET-N1", "C-RET-N2", "C-RET-S1", "C-RET-W1"]
    assert {h["match"] for h in hits} == {"uid_prefix"}
    milk = viewer.get("/search", params={"q": "Milk", "kinds": ["MaterialLot", "Supplier"]}).json()
    assert [(h["label"], h["uid"]) for h in milk] == [
        ("MaterialLot", "L-4471"),
        ("MaterialLot", "L-4472"),
        ("Supplier", "SUP-MILKCO"),
    ]
    exact = viewer.get("/search", params={"q": "B-2001"}).json()
    assert exact[0] == {"label": "Batch", "uid": "B-2001", "name": "Strawberry yogurt 500 g", "match": "uid"}
    assert viewer.get("/search", params={"q": "no such thing"}).json() == []
    assert_problem(viewer.get("/search", params={"q": ""}), 422, "query.q")


# --- writing: ingest, engine down, and the schema fuzzed ----------------------------------------


@pytest.fixture(scope="module")
def scratch() -> Iterator[Api]:
    with serve(ingest_max_bytes="4096") as running:
        yield running


def node_total(api: Api) -> int:
    with api.client("admin") as admin:
        return sum(admin.get("/admin/status").json()["nodes"].values())


def test_ingest_jsonl_csv_and_files_all_or_nothing(scratch: Api) -> None:
    before = node_total(scratch)
    with scratch.client("editor") as editor:
        body = (
            b'{"kind":"MaterialLot","uid":"L-9001","material":"salt"}\n'
            b'{"kind":"SUPPLIED","from":"SUP-SUGAR","to":"L-9001"}\n'
        )
        headers = {"content-type": "application/x-ndjson"}
        first = editor.post("/ingest", content=body, headers=headers).json()
        assert (first["files"], first["nodes"], first["relationships"]) == (["body.jsonl"], 1, 1)
        assert editor.post("/ingest", content=body, headers=headers).json()["digest"] == first["digest"]
        assert node_total(scratch) == before + 1  # the same input twice changes nothing

        bad = b'{"kind":"MaterialLot","uid":"L-9002","material":"pepper"}\n{"kind":"MaterialLot","uid":"L-9003"}\n'
        problem = assert_problem(
            editor.post("/ingest", content=bad, headers=headers), 422, "nothing was written"
        )
        assert problem["problems"] == [
            {"source": "body.jsonl", "line": 2, "field": "material", "message": "Field required"}
        ]
        missing = b'{"kind":"CONSUMED_BY","from":"L-9001","from_label":"MaterialLot","to":"B-7777"}\n'
        problem = assert_problem(editor.post("/ingest", content=missing, headers=headers), 422, "B-7777")
        assert problem["problems"][0]["source"] == "body.jsonl"
        assert node_total(scratch) == before + 1

        csv_body = b"uid,material\nL-9004,pepper\nL-9005,thyme\n"
        report = editor.post(
            "/ingest", params={"kind": "MaterialLot"}, content=csv_body, headers={"content-type": "text/csv"}
        ).json()
        assert (report["files"], report["nodes"]) == (["MaterialLot.csv"], 2)
        files = [
            ("files", ("Operator.csv", b"uid,name\nOP-NEW,Nina\n", "text/csv")),
            ("files", ("more.jsonl", b'{"kind":"Machine","uid":"M-NEW"}\n', "application/x-ndjson")),
        ]
        report = editor.post("/ingest", files=files).json()
        assert (report["files"], report["nodes"]) == (["Operator.csv", "more.jsonl"], 2)
        assert node_total(scratch) == before + 5

        assert_problem(
            editor.post("/ingest", content=b"x", headers={"content-type": "text/plain"}),
            415,
            "send JSON Lines",
        )
        huge = b'{"kind":"Machine","uid":"M-X"}\n' * 200
        assert_problem(editor.post("/ingest", content=huge, headers=headers), 413, "4,096-byte limit")
        assert node_total(scratch) == before + 5


def test_schemathesis_finds_no_server_error_and_no_schema_violation(scratch: Api) -> None:
    """Every operation fuzzed from the OpenAPI schema, with an admin key: no 5xx, every response as
    documented (status, content type, body)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    # Not checked: that every schema-valid request succeeds. Some 422s depend on the data, which a
    # schema cannot say (a window on a lot, `to` before `from`, a cursor from another request).
    lenient = [positive_data_acceptance]

    schema = schemathesis.openapi.from_url(f"{scratch.url}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
        )
        def check(case: schemathesis.Case) -> None:
            try:
                case.call_and_validate(
                    base_url=scratch.url, headers={"X-API-Key": KEYS["admin"]}, excluded_checks=lenient
                )
            except AssertionError as e:  # schemathesis reports what failed
                failures.append(f"{case.operation.label}: {str(e)[:600]}")
            except Exception as e:
                failures.append(f"{case.operation.label}: {type(e).__name__}: {str(e)[:600]}")

        check()
    assert not failures, "\n\n".join(failures[:5])


def test_engine_down_is_503_with_retry_after() -> None:
    with serve(demo=False, keys=False) as broken:
        pid = EmbeddedServer(broken.data_dir).pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        response = httpx.get(
            f"{broken.url}/scope/forward", params={"label": "Batch", "uid": "B-1"}, timeout=30
        )
        assert_problem(response, 503, "cannot be reached")
        assert response.headers["retry-after"] == "5"
        health = httpx.get(f"{broken.url}/health", timeout=30)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"


def test_the_server_keeps_its_index_and_an_ingest_is_in_the_next_scope(scratch: Api) -> None:
    with scratch.client("editor") as editor:
        wait_for_index(editor)
        index = editor.get("/health").json()["index"]
        assert index["relationships"] > 0 and index["nodes"] > 0
        body = (
            b'{"kind":"Customer","uid":"C-RET-W9","name":"West shop","region":"West"}\n'
            b'{"kind":"Shipment","uid":"SH-99"}\n'
            b'{"kind":"SHIPPED_IN","from":"B-3001","to":"SH-99","quantity":5,"unit":"cups"}\n'
            b'{"kind":"DELIVERED_TO","from":"SH-99","to":"C-RET-W9"}\n'
        )
        ingest = editor.post("/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert ingest.status_code == 200, ingest.text
        affected = editor.get("/lots/L-4471/affected").json()  # at once: no waiting for the index
        regions = {r["region"]: [c["uid"] for c in r["customers"]] for r in affected["regions"]}
        assert regions["West"] == ["C-RET-W9"]


def test_plant_stock_is_one_number_in_the_affected_answer_and_the_drill(viewer: httpx.Client) -> None:
    """The drill's mass balance and the affected answer say the same stock and scrap for every batch
    at the plant: the count on record where there is one, else what the records leave."""
    affected = viewer.get("/lots/L-4471/affected").json()
    drill = viewer.get("/lots/L-4471/drill").json()
    shown = {s["batch"]: s for s in affected["stock_on_hand"] if s["holder"] == "plant"}
    for balance in drill["mass_balance"]["batches"]:
        terms = {t["name"]: t["quantity"] for t in balance["terms"]}
        in_stock = terms.get("in stock", balance["unaccounted"])
        if not in_stock and not terms["scrapped"]:
            assert balance["uid"] not in shown
            continue
        stock = shown[balance["uid"]]
        assert (stock["quantity"], stock.get("scrapped") or 0.0) == (in_stock, terms["scrapped"]), balance[
            "uid"
        ]
    assert shown["B-2001"]["quantity"] == 480 and shown["B-2001"]["scrapped"] == 20
