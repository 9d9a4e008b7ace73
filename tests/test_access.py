"""Safe by default, over real HTTP against ``lineage serve``: no write from another site, no answer
to a foreign Host, keys that carry roles (a supplier's and a regulator's among them), keys given as
digests and rotated without a restart, and odd input that gets a 4xx naming what is wrong."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from apiserver import KEYS, Api, free_port, serve
from conftest import short_tmpdir
from test_api import assert_problem

from lineage.config import key_digest

READ = {"viewer", "editor", "admin"}
REGULATED = READ | {"regulator"}
SCOPES = REGULATED | {"supplier"}
EDIT = {"editor", "admin"}
PUBLIC: set[str] = set()  # no key needed

#: Every route of the OpenAPI document and the roles whose keys it lets through.
ROUTES: dict[tuple[str, str], set[str]] = {
    ("GET", "/lots/{uid}/affected"): REGULATED,
    ("GET", "/scope/forward"): SCOPES,
    ("GET", "/scope/backward"): SCOPES,
    ("GET", "/scope/forward/evidence"): REGULATED,
    ("GET", "/scope/backward/evidence"): REGULATED,
    ("GET", "/scope/forward/export"): SCOPES,
    ("GET", "/scope/backward/export"): SCOPES,
    ("GET", "/why"): REGULATED,
    ("GET", "/nodes/{label}/{uid}"): READ,
    ("GET", "/search"): READ,
    ("POST", "/ingest"): EDIT | {"supplier"},
    ("GET", "/admin/status"): {"admin"},
    ("POST", "/complaints"): EDIT,
    ("POST", "/analysis/common-cause"): READ,
    ("GET", "/signals"): READ,
    ("POST", "/signals/evaluate"): EDIT,
    ("POST", "/signals/{uid}/acknowledge"): EDIT,
    ("POST", "/signals/{uid}/close"): EDIT,
    ("GET", "/recalls"): REGULATED,
    ("POST", "/recalls"): EDIT,
    ("GET", "/recalls/{uid}"): REGULATED,
    ("PATCH", "/recalls/{uid}"): EDIT,
    ("POST", "/recalls/{uid}/activate"): EDIT,
    ("POST", "/recalls/{uid}/accept-pending"): EDIT,
    ("POST", "/recalls/{uid}/close"): EDIT,
    ("GET", "/recalls/{uid}/holds"): REGULATED,
    ("GET", "/holds"): READ,
    ("POST", "/holds/{uid}/release"): EDIT,
    ("GET", "/recalls/{uid}/notices"): REGULATED,
    ("GET", "/recalls/{uid}/notices/{customer}"): REGULATED,
    ("GET", "/recalls/{uid}/notifications.csv"): REGULATED,
    ("POST", "/recalls/{uid}/customers/{customer}/followup"): EDIT,
    ("GET", "/recalls/{uid}/effectiveness"): REGULATED,
    ("GET", "/recalls/{uid}/report"): REGULATED,
    ("GET", "/lots/{uid}/drill"): READ,
    ("GET", "/lookup"): PUBLIC,
    ("GET", "/audit"): {"admin", "regulator"},
    ("GET", "/audit/verify"): {"admin", "regulator"},
    ("GET", "/export/epcis"): REGULATED,
    ("GET", "/export/fsma204"): REGULATED,
    ("GET", "/health"): PUBLIC,
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ROLE_REFUSED = "needs a key with the role"
JSONL = {"content-type": "application/x-ndjson"}


def operations(api: Api) -> list[tuple[str, str]]:
    schema = httpx.get(f"{api.url}/openapi.json", timeout=30).json()
    return [(method.upper(), path) for path, ops in schema["paths"].items() for method in ops]


def concrete(path: str) -> str:
    """A path with its parameters filled: a node kind for ``{label}``, an unknown uid elsewhere."""
    return path.replace("{label}", "Batch").replace("{uid}", "NONE-1").replace("{customer}", "NONE-2")


def test_every_route_lets_through_exactly_the_roles_it_should(api: Api) -> None:
    found = operations(api)
    assert sorted(found) == sorted(ROUTES), "a route was added or removed: give it its roles in ROUTES"
    wrong: list[str] = []
    with httpx.Client(base_url=api.url, timeout=60) as client:
        for method, path in found:
            allowed = ROUTES[(method, path)]
            for role, key in KEYS.items():
                response = client.request(method, concrete(path), headers={"X-API-Key": key}, json={})
                refused = response.status_code == 403 and ROLE_REFUSED in response.json()["detail"]
                if refused != (bool(allowed) and role not in allowed) or response.status_code == 401:
                    wrong.append(f"{method} {path} as {role}: {response.status_code} {response.text[:120]}")
            if not allowed:
                assert client.request(method, concrete(path)).status_code not in (401, 403), path
            else:
                assert client.request(method, concrete(path)).status_code == 401, path
    assert not wrong, "\n".join(wrong)


def test_a_regulator_key_reads_recalls_and_the_audit_log_and_writes_nothing(api: Api) -> None:
    with api.client("regulator") as regulator:
        assert regulator.get("/recalls").status_code == 200
        assert regulator.get("/audit/verify").json()["ok"] is True
        assert regulator.get("/lots/L-4471/affected").status_code == 200
        refused = regulator.post("/ingest", content=b'{"kind":"Supplier","uid":"SUP-REG"}\n', headers=JSONL)
        assert_problem(refused, 403, "editor or admin or supplier", "has regulator")
        assert regulator.get("/search", params={"q": "SUP"}).status_code == 403


# --- a supplier's key ----------------------------------------------------------------------------


def test_a_supplier_reads_only_scopes_of_its_own_lots_without_other_parties_customers(api: Api) -> None:
    with api.client("supplier") as supplier, api.client("viewer") as viewer:
        own = {"label": "MaterialLot", "uid": "L-4471"}
        mine = supplier.get("/scope/forward", params=own | {"limit": 1000}).json()
        whole = viewer.get("/scope/forward", params=own | {"limit": 1000}).json()
        kinds = {n["label"] for n in mine["nodes"]}
        assert "Batch" in kinds and "Shipment" in kinds
        assert not kinds & {"Customer", "Sale", "Complaint"}
        assert {"Customer", "Sale"} <= {n["label"] for n in whole["nodes"]}
        assert not set(mine["counts"]) & {"Customer", "Sale", "Complaint"}
        assert not {v["label"] for n in mine["nodes"] for v in n["via"]} & {"Customer", "Sale", "Complaint"}
        capped = supplier.get("/scope/forward", params=own | {"max_nodes": 1})  # its size stays unsaid
        assert capped.status_code == 200 and capped.json()["total"] == mine["total"]
        assert {(n["label"], n["uid"]) for n in mine["nodes"]} == {
            (n["label"], n["uid"])
            for n in whole["nodes"]
            if n["label"] not in ("Customer", "Sale", "Complaint")
        }
        exported = supplier.get("/scope/forward/export", params=own).text
        assert "Customer" not in exported and "Batch" in exported

        other = supplier.get("/scope/forward", params={"label": "MaterialLot", "uid": "L-5100"})
        assert_problem(other, 403, "SUP-MILKCO", "L-5100", "own material lots")
        assert_problem(supplier.get("/scope/forward", params={"label": "Supplier", "uid": "SUP-SUGAR"}), 403)
        hidden = supplier.get("/scope/forward", params=own | {"kinds": "Customer"})
        assert_problem(hidden, 403, "does not see Customer")
        assert_problem(supplier.get("/lots/L-4471/affected"), 403, "has supplier")


@pytest.fixture(scope="module")
def scratch() -> Iterator[Api]:
    with serve() as running:
        yield running


def node_exists(api: Api, label: str, uid: str) -> bool:
    with api.client("viewer") as viewer:
        return viewer.get(f"/nodes/{label}/{uid}").status_code == 200


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_a_supplier_writes_its_own_lots_and_nothing_about_another_party(scratch: Api) -> None:
    with scratch.client("supplier") as supplier, scratch.client("admin") as admin:
        new_lot = {"kind": "MaterialLot", "uid": "L-NF-9", "material": "milk powder"}
        supplied = {"kind": "SUPPLIED", "from": "SUP-MILKCO", "to": "L-NF-9"}
        sent = supplier.post("/ingest", content=jsonl(new_lot, supplied), headers=JSONL)
        assert sent.status_code == 200, sent.text
        assert node_exists(scratch, "MaterialLot", "L-NF-9")
        again = supplier.post("/ingest", content=jsonl({**new_lot, "material": "whey"}), headers=JSONL)
        assert again.status_code == 200, again.text  # its own stored lot, with no SUPPLIED this time

        bad = jsonl(
            {"kind": "MaterialLot", "uid": "L-NF-10", "material": "cream"},
            {"kind": "SUPPLIED", "from": "SUP-MILKCO", "to": "L-NF-10"},
            {"kind": "MaterialLot", "uid": "L-5100", "material": "sugar, relabelled"},
            {"kind": "Batch", "uid": "B-NF-1", "product": "yoghurt"},
            {"kind": "SUPPLIED", "from": "SUP-SUGAR", "to": "L-NF-10"},
        )
        refused = supplier.post("/ingest", content=bad, headers=JSONL)
        body = assert_problem(refused, 403, "SUP-MILKCO", "nothing was written")
        places = {(p["line"], p["field"]) for p in body["problems"]}
        assert places == {(3, "uid"), (4, "kind"), (5, "from")}, body["problems"]
        said = json.dumps(body["problems"])
        assert "'L-5100' is not its own" in said and "supplied by" not in said  # whose it is stays unsaid
        assert not node_exists(scratch, "MaterialLot", "L-NF-10")
        assert not node_exists(scratch, "Batch", "B-NF-1")
        with scratch.client("viewer") as viewer:
            sugar = viewer.get("/nodes/MaterialLot/L-5100").json()["properties"]
        assert sugar["material"] != "sugar, relabelled"

        # a stored lot nobody supplied (the plant's own) cannot be claimed
        assert admin.post("/ingest", content=jsonl({**new_lot, "uid": "L-INHOUSE"}), headers=JSONL).is_success
        claim = jsonl({"kind": "SUPPLIED", "from": "SUP-MILKCO", "to": "L-INHOUSE"})
        assert_problem(
            supplier.post("/ingest", content=claim, headers=JSONL), 403, "'L-INHOUSE' is not its own"
        )
        taken = supplier.get("/scope/forward", params={"label": "MaterialLot", "uid": "L-INHOUSE"})
        assert_problem(taken, 403, "own material lots")

        epcis = supplier.post(
            "/ingest", content=b'{"type":"EPCISDocument"}', headers={"content-type": "application/ld+json"}
        )
        assert epcis.status_code in (403, 415, 422), epcis.text

        entries = admin.get("/audit", params={"limit": 1000}).json()["entries"]
        loads = [e for e in entries if e["action"] == "load" and "Northfield uploads" in e["who"]]
        assert len(loads) == 2 and all("(supplier)" in e["who"] for e in loads)
        assert not any(key in json.dumps(entries) for key in KEYS.values())
        assert admin.get("/audit/verify").json()["ok"] is True


# --- cross-site writes, hosts, CORS --------------------------------------------------------------


def supplier_form(uid: str) -> dict:
    content = json.dumps({"kind": "Supplier", "uid": uid, "name": "from a web page"}).encode()
    return {"files": ("a.jsonl", content, "application/x-ndjson")}


@pytest.mark.parametrize("keys", [True, False], ids=["keys", "no-keys"])
def test_writes_from_another_site_are_refused_and_from_the_api_s_own_origin_work(keys: bool) -> None:
    with serve(keys=keys) as api:
        headers = {"X-API-Key": KEYS["editor"]} if keys else {}
        with httpx.Client(base_url=api.url, headers=headers, timeout=60) as client:
            evil = {"Origin": "http://evil.example"}
            refused = client.post("/ingest", files=supplier_form("SUP-EVIL-1"), headers=evil)
            assert_problem(refused, 403, "http://evil.example", "LINEAGE_ALLOWED_ORIGINS")
            as_json = client.post(
                "/recalls", json={"title": "x", "source": "MaterialLot:L-4471"}, headers=evil
            )
            assert_problem(as_json, 403, "evil.example")
            null = client.post("/ingest", files=supplier_form("SUP-EVIL-2"), headers={"Origin": "null"})
            assert_problem(null, 403, "'null'")
            fetch = client.post(
                "/ingest", files=supplier_form("SUP-EVIL-3"), headers={"Sec-Fetch-Site": "cross-site"}
            )
            assert_problem(fetch, 403, "Sec-Fetch-Site")
            for uid in ("SUP-EVIL-1", "SUP-EVIL-2", "SUP-EVIL-3"):
                assert not node_exists(api, "Supplier", uid)
            assert "access-control-allow-origin" not in refused.headers
            read = client.get("/lots/L-4471/affected", headers=evil)
            assert read.status_code == 200 and "access-control-allow-origin" not in read.headers
            # an <img> on another site asking for a drill (which the audit log records) is refused;
            # a link the user follows, or the view's own request, is not
            for site in ("cross-site", "same-site"):
                image = client.get(
                    "/lots/L-4471/drill", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors"}
                )
                assert_problem(image, 403, f"Sec-Fetch-Site: {site}")
            followed = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
            assert client.get("/lots/L-4471/affected", headers=followed).status_code == 200
            own = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
            assert client.get("/lots/L-4471/drill", headers=own).status_code == 200

            same = client.post("/ingest", files=supplier_form("SUP-OWN"), headers={"Origin": api.url})
            assert same.status_code == 200, same.text
            plain = client.post("/ingest", files=supplier_form("SUP-CURL"))  # curl: no Origin
            assert plain.status_code == 200, plain.text
            assert node_exists(api, "Supplier", "SUP-OWN") and node_exists(api, "Supplier", "SUP-CURL")


def test_a_foreign_host_is_refused_on_every_route_and_served_names_work() -> None:
    with serve(keys=False, allowed_hosts='["lineage.plant.example"]') as api:
        port = api.url.rsplit(":", 1)[1]
        with httpx.Client(base_url=api.url, timeout=60) as client:
            for method, path in operations(api):
                response = client.request(method, concrete(path), headers={"Host": "rebind.evil.example"})
                body = assert_problem(response, 421, "rebind.evil.example", "LINEAGE_ALLOWED_HOSTS")
                assert "localhost" not in body["detail"]  # the names it does serve stay unsaid
            for host in (f"localhost:{port}", f"[::1]:{port}", f"127.0.0.1:{port}", "lineage.plant.example"):
                assert client.get("/health", headers={"Host": host}).status_code == 200, host
            assert client.get("/lots/L-4471/affected", headers={"Host": "LocalHost"}).status_code == 200
            for odd in (f"127.0.0.1:{port}@evil.example", "localhost:evil.example", "[::1]evil.example"):
                assert_problem(client.get("/health", headers={"Host": odd}), 400, "one Host header")
        with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as raw:
            raw.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n")
            assert raw.recv(4096).startswith(b"HTTP/1.1 400")


def test_listed_origins_may_write_and_get_cors_headers() -> None:
    portal = "https://portal.example"
    with (
        serve(allowed_origins=json.dumps([portal])) as api,
        httpx.Client(base_url=api.url, headers={"X-API-Key": KEYS["editor"]}, timeout=60) as client,
    ):
        written = client.post("/ingest", files=supplier_form("SUP-PORTAL"), headers={"Origin": portal})
        assert written.status_code == 200, written.text
        assert written.headers["access-control-allow-origin"] == portal
        preflight = client.options(
            "/ingest",
            headers={
                "Origin": portal,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key",
            },
        )
        assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
        other = client.post(
            "/ingest", files=supplier_form("SUP-X"), headers={"Origin": "https://other.example"}
        )
        assert_problem(other, 403, "other.example")


def test_serve_binds_beyond_loopback_only_with_keys_or_a_loud_override(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_DATA_DIR"] = str(short_tmpdir("lin-bind-"))
    command = [sys.executable, "-m", "lineage.cli", "serve", "--host", "0.0.0.0", "--port", str(free_port())]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    message = " ".join(refused.stderr.split())
    assert "Refusing to serve 0.0.0.0" in message and "LINEAGE_API_KEYS" in message
    with serve(keys=False, args=("--host", "0.0.0.0", "--insecure-open")) as api:
        assert httpx.get(f"{api.url}/health", timeout=30).json()["auth"] == "open"
        assert "--insecure-open: NO API KEYS" in " ".join((api.data_dir / "api.log").read_text().split())
    with serve(args=("--host", "0.0.0.0")) as api:  # keys configured: allowed
        assert httpx.get(f"{api.url}/health", timeout=30).json()["auth"] == "keys"


# --- keys as digests, rotated without a restart ----------------------------------------------------


def test_keys_given_as_digests_in_a_file_rotate_without_a_restart(tmp_path: Path) -> None:
    first, second = "first-key-0123456789", "second-key-9876543210"
    digest = subprocess.run(
        [sys.executable, "-m", "lineage.cli", "key-digest"],
        input=first + "\n",
        capture_output=True,
        text=True,
    )
    assert digest.returncode == 0 and digest.stdout.strip() == key_digest(first)
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({digest.stdout.strip(): {"role": "viewer", "label": "night shift"}}))
    assert first not in keys_file.read_text()
    with serve(keys=False, api_keys_file=str(keys_file)) as api:

        def status(key: str) -> int:
            return httpx.get(
                f"{api.url}/lots/L-4471/affected", headers={"X-API-Key": key}, timeout=30
            ).status_code

        assert (status(first), status(second)) == (200, 401)
        keys_file.write_text(json.dumps({key_digest(second): "viewer"}))
        deadline = time.monotonic() + 10
        while status(second) != 200:
            assert time.monotonic() < deadline, "the rotated key was not taken"
            time.sleep(0.1)
        assert status(first) == 401
        keys_file.write_text("{not json")  # a broken file: the keys read before stay in force
        time.sleep(0.2)
        assert (status(first), status(second)) == (401, 200)
        assert "keys read before stay in force" in (api.data_dir / "api.log").read_text()
        keys_file.write_text("{}")  # no keys in the file: nobody gets in, the API does not open up
        deadline = time.monotonic() + 10
        while status(second) != 401:
            assert time.monotonic() < deadline, "the emptied keys file was not taken"
            time.sleep(0.1)
        assert httpx.get(f"{api.url}/lots/L-4471/affected", timeout=30).status_code == 401
        assert httpx.get(f"{api.url}/health", timeout=30).json()["auth"] == "keys"


# --- odd input ------------------------------------------------------------------------------------


def test_odd_input_over_http_is_a_4xx_naming_line_and_field(scratch: Api) -> None:
    latin = "uid,name,region\nC-LAT-1,Caf\u00e9 du Nord,North\n".encode("latin-1")
    with scratch.client("editor") as editor:
        refused = editor.post(
            "/ingest", params={"kind": "Customer"}, content=latin, headers={"content-type": "text/csv"}
        )
        body = assert_problem(refused, 422, "not UTF-8 text", "charset=")
        assert body["problems"][0]["line"] == 2
        assert not node_exists(scratch, "Customer", "C-LAT-1")
        named = editor.post(
            "/ingest",
            params={"kind": "Customer"},
            content=latin,
            headers={"content-type": "text/csv; charset=latin-1"},
        )
        assert named.status_code == 200, named.text
        with scratch.client("viewer") as viewer:
            assert viewer.get("/nodes/Customer/C-LAT-1").json()["properties"]["name"] == "Caf\u00e9 du Nord"

        huge = b'{"kind":"Batch","uid":"B-HUGE","product":"p","quantity":1e999}\n'
        body = assert_problem(editor.post("/ingest", content=huge, headers=JSONL), 422)
        assert body["problems"][0]["field"] == "quantity" and "finite" in body["problems"][0]["message"]
        short = b"uid,name,region,customer_type\nC-SHORT,Shop\n"
        body = assert_problem(
            editor.post(
                "/ingest", params={"kind": "Customer"}, content=short, headers={"content-type": "text/csv"}
            ),
            422,
        )
        assert "fewer cells than header columns (2 of 4)" in body["problems"][0]["message"]
        # each file of a form in its own charset
        files = [
            (
                "files",
                (
                    "Customer.csv",
                    "uid,name,region\nC-LAT-2,Br\u00f8d,North\n".encode("latin-1"),
                    "text/csv; charset=latin-1",
                ),
            ),
            (
                "files",
                ("more/Customer.csv", "uid,name,region\nC-UTF-2,Br\u00f8d,North\n".encode(), "text/csv"),
            ),
        ]
        both = editor.post("/ingest", files=files)
        assert both.status_code == 200 and both.json()["records"] == 2, both.text
        with scratch.client("viewer") as viewer:
            for uid in ("C-LAT-2", "C-UTF-2"):
                assert viewer.get(f"/nodes/Customer/{uid}").json()["properties"]["name"] == "Br\u00f8d"
        # a byte that Latin-1 reads as U+0085 (cp1252's ellipsis) is text in a cell, not a line break
        ellipsis = b"uid,region,name\nC-ONE,North,Caf\x85C-INJECTED,North,Smuggled\n"
        one = editor.post(
            "/ingest",
            params={"kind": "Customer"},
            content=ellipsis,
            headers={"content-type": "text/csv; charset=latin-1"},
        )
        assert assert_problem(one, 422)["problems"][0]["message"] == "more cells than header columns"
        assert not node_exists(scratch, "Customer", "C-INJECTED") and not node_exists(
            scratch, "Customer", "C-ONE"
        )
        assert not node_exists(scratch, "Batch", "B-HUGE") and not node_exists(scratch, "Customer", "C-SHORT")


def test_the_cli_names_the_encoding_of_a_latin_1_csv_without_a_traceback(tmp_path: Path) -> None:
    latin = tmp_path / "Customer.csv"
    latin.write_bytes("uid,name,region\nC-1,Caf\u00e9,North\n".encode("latin-1"))
    env = {**os.environ, "LINEAGE_DATA_DIR": str(short_tmpdir("lin-enc-"))}
    command = [sys.executable, "-m", "lineage.cli", "load", str(latin)]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    message = " ".join(refused.stderr.split())
    assert f"{latin}:2:" in message and "--encoding" in message
    loaded = subprocess.run(
        [*command, "--encoding", "latin-1"], env=env, capture_output=True, text=True, timeout=120
    )
    assert loaded.returncode == 0, loaded.stderr
    subprocess.run([sys.executable, "-m", "lineage.cli", "stop"], env=env, capture_output=True, timeout=60)
