"""A recall carried from decision to closure over the real API on the demo data: create, activate
(holds appear), a shipment of a held batch refused, notices for exactly the customers the reference
scope names, returns recorded, completion figures right against sums over the input records, the
public lookup and its rate limit, a pending change from new data, release, close, and the audit
log of all of it. Expected values come from the demo's records, read here, not from lineage."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiserver import Api, serve
from reference import Reference
from test_embedded_server import cli

from lineage.graph.model import iso, to_epoch_ms
from lineage.samples.demo import demo_dir

SOURCE = "L-4471"
#: Deadlines ahead of today (one already past is refused unless forced).
DEADLINE = f"{(datetime.now(UTC) + timedelta(days=90)).date()}T12:00:00Z"
LATER = f"{(datetime.now(UTC) + timedelta(days=120)).date()}T00:00:00Z"
RISK = "Salmonella was found in the milk powder: eating it may cause serious food poisoning <b>."


def demo_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(demo_dir().iterdir()):
        if path.suffix == ".jsonl":
            records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        elif path.suffix == ".csv":
            records += [{"kind": path.stem, **row} for row in csv.DictReader(io.StringIO(path.read_text()))]
    return records


RECORDS = demo_records()
REFERENCE = Reference(RECORDS)
EXPECTED = REFERENCE.forward("MaterialLot", SOURCE)
BY_UID = {r["uid"]: r for r in RECORDS if "uid" in r}


def rels(kind: str) -> list[dict[str, Any]]:
    return [r for r in RECORDS if r["kind"] == kind and "uid" not in r]


def plant_unshipped(batch: str) -> float:
    """The count on the batch's record where there is one (B-2001: 480 cups, 20 scrapped apart);
    else produced, less what left the plant (shipments no distributor dispatched), less what went
    into other batches, less what was scrapped."""
    record = BY_UID[batch]
    if "on_hand" in record:
        return float(record["on_hand"])
    dispatched = {r["to"] for r in rels("DISPATCHED")}
    out = sum(r["quantity"] for r in rels("SHIPPED_IN") if r["from"] == batch and r["to"] not in dispatched)
    out += sum(r["quantity"] for r in rels("CONSUMED_BY") if r["from"] == batch)
    return float(record["quantity"]) - out - record.get("scrapped", 0)


def customer_net(customer: str) -> float:
    """Received of the recalled batches, less what the customer passed on."""
    batches = EXPECTED["Batch"]
    into = {r["from"] for r in rels("DELIVERED_TO") if r["to"] == customer}
    onward = {r["to"] for r in rels("DISPATCHED") if r["from"] == customer}
    got = sum(r["quantity"] for r in rels("SHIPPED_IN") if r["to"] in into and r["from"] in batches)
    gave = sum(r["quantity"] for r in rels("SHIPPED_IN") if r["to"] in onward and r["from"] in batches)
    return got - gave


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with serve(lookup_per_minute="6") as running:
        yield running


@pytest.fixture(scope="module")
def editor(api: Api) -> Iterator[httpx.Client]:
    with api.client("editor") as client:
        yield client


@pytest.fixture
def clients(api: Api) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client]]:
    with api.client("viewer") as viewer, api.client("admin") as admin, api.client(None) as public:
        yield viewer, admin, public


def ingest(client: httpx.Client, records: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(json.dumps(r) + "\n" for r in records)
    return client.post("/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})


def recall_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "source": f"MaterialLot:{SOURCE}",
        "reason": "retained sample of L-4471 positive for Salmonella",
        "risk": RISK,
        "owner": "QA Anna Berg",
        "deadline": DEADLINE,
        "by": "Anna",
    }
    return body | overrides


def test_a_recall_from_decision_to_closure(editor: httpx.Client, clients: tuple[httpx.Client, ...]) -> None:
    viewer, admin, public = clients
    customers = EXPECTED["Customer"]
    batches = EXPECTED["Batch"]

    # --- create: a draft over the live scope; a viewer may not -------------------------------------
    assert viewer.post("/recalls", json=recall_body()).status_code == 403
    made = editor.post("/recalls", json=recall_body())
    assert made.status_code == 201, made.text
    recall = made.json()
    uid = recall["uid"]
    assert recall["state"] == "draft" and recall["strategy"] == "full" and recall["remedy"] == "return"
    assert {c["uid"] for c in recall["scope"]["customers"]} == customers
    assert {b["uid"] for b in recall["scope"]["batches"]} == batches
    regions = {BY_UID[c]["region"] for c in customers}
    assert recall["level_computed"] == ("national" if len(regions) >= 3 else "regional")
    assert recall["level"] == recall["level_computed"] and recall["level_reason"] is None
    assert recall["history"][0]["by"].startswith("Anna (api key editor#")

    # --- activate: scope frozen, every affected batch held at the plant, stock held at customers ---
    assert editor.post(f"/recalls/{uid}/activate", json={"by": "Anna"}).json()["state"] == "active"
    again = editor.post(f"/recalls/{uid}/activate", json={"by": "Anna"})
    assert again.status_code == 409 and "is active" in again.json()["detail"]
    holds = viewer.get(f"/recalls/{uid}/holds").json()
    at_plant = {h["batch"]: h for h in holds if h["holder"] == "plant" and h["batch"]}
    left = {b for b in batches if plant_unshipped(b) > 0}  # B-3001: all of it left the plant
    assert set(at_plant) == left and left < batches and all(h["status"] == "active" for h in holds)
    assert all(h["quantity"] > 0 for h in holds if h["batch"])  # a hold on nothing is not placed ...
    empty = sorted(batches - left)
    activated = viewer.get(f"/recalls/{uid}").json()["history"][-1]["what"]
    assert f"nothing left at the plant of {', '.join(f'{b} at Hamar' for b in empty)}" in activated
    [lot_hold] = [h for h in holds if h["lot"]]  # the recalled lot, with what is left of it, where it is used
    assert lot_hold["lot"] == SOURCE and lot_hold["batch"] is None and lot_hold["holder"] == "plant"
    assert lot_hold["location"] == "Hamar"
    assert lot_hold["quantity"] == BY_UID[SOURCE].get("on_hand") and lot_hold["recall"] == uid
    for batch, hold in at_plant.items():
        assert hold["quantity"] == max(plant_unshipped(batch), 0.0), batch
        assert hold["location"] == BY_UID[batch]["site"]
    distributor = next(h for h in holds if h["location"] == "C-DIST-NORTH")
    assert distributor["batch"] == "B-2001" and distributor["quantity"] == customer_net("C-DIST-NORTH")

    # --- a shipment of a held batch is refused, naming the hold and the recall; nothing written ----
    new_shipment = [
        {"kind": "Shipment", "uid": "SH-LATE", "shipped_at": "2026-03-08T08:00:00Z"},
        {"kind": "SHIPPED_IN", "from": "B-2002", "to": "SH-LATE", "quantity": 100, "unit": "cups"},
        {"kind": "DELIVERED_TO", "from": "SH-LATE", "to": "C-RET-S1"},
    ]
    refused = ingest(editor, new_shipment)
    assert refused.status_code == 422, refused.text
    problem = refused.json()["problems"][0]
    assert problem["line"] == 2 and problem["field"] == "from"
    assert at_plant["B-2002"]["uid"] in problem["message"] and uid in problem["message"]
    assert viewer.get("/nodes/Shipment/SH-LATE").status_code == 404
    # a batch with nothing left at the plant still ships no more while the recall is active
    late_again = [{**r, "from": empty[0]} if r["kind"] == "SHIPPED_IN" else r for r in new_shipment]
    refused = ingest(editor, late_again)
    assert refused.status_code == 422 and uid in refused.json()["problems"][0]["message"]
    # The same demo shipments loaded again are no new shipment; an unaffected batch ships freely.
    distribution = (demo_dir() / "04-distribution.jsonl").read_text()
    reload = editor.post("/ingest", content=distribution, headers={"Content-Type": "application/x-ndjson"})
    assert reload.status_code == 200, reload.text
    assert "B-2003" not in batches
    free = [{**r, "from": "B-2003"} if r["kind"] == "SHIPPED_IN" else r for r in new_shipment]
    assert ingest(editor, free).status_code == 200

    # --- no new batch may consume the held lot; a use recorded late, before the hold, loads ---------
    def consuming(batch: str, **started: str) -> list[dict[str, Any]]:
        made = {"kind": "Batch", "uid": batch, "product": "Milk powder blend", "site": "Hamar", **started}
        used = {
            "kind": "CONSUMED_BY",
            "from": SOURCE,
            "from_label": "MaterialLot",
            "to": batch,
            "quantity": 1,
        }
        return [made, used]

    after = iso(to_epoch_ms(lot_hold["placed_at"]) + 3_600_000)
    for refused_use in (consuming("B-AFTER", started_at=after), consuming("B-UNDATED")):
        refused = ingest(editor, refused_use)
        assert refused.status_code == 422, refused.text
        problem = refused.json()["problems"][0]
        assert problem["line"] == 2 and problem["field"] == "from"
        assert lot_hold["uid"] in problem["message"] and uid in problem["message"]
        assert f"may not go into batch {refused_use[0]['uid']!r}" in problem["message"]
        assert viewer.get(f"/nodes/Batch/{refused_use[0]['uid']}").status_code == 404
    assert ingest(editor, consuming("B-BEFORE", started_at="2026-03-04T06:00:00Z")).status_code == 200
    production = (demo_dir() / "03-production.jsonl").read_text()  # the lot's stored uses, again
    assert (
        editor.post(
            "/ingest", content=production, headers={"Content-Type": "application/x-ndjson"}
        ).status_code
        == 200
    )

    # --- notices for exactly the expected customers, saying what, why, how and when ---------------
    notices = viewer.get(f"/recalls/{uid}/notices").json()
    assert {n["customer"] for n in notices} == customers
    for n in notices:
        received = {
            r["from"]
            for r in rels("SHIPPED_IN")
            if r["from"] in batches
            and r["to"] in {d["from"] for d in rels("DELIVERED_TO") if d["to"] == n["customer"]}
        }
        for batch in received:
            assert f"batch code {batch}" in n["markdown"] and batch in n["html"]
        assert RISK in n["markdown"] and DEADLINE[:10] in n["markdown"] and "return it" in n["markdown"]
        assert "&lt;b&gt;" in n["html"] and "<b>." not in n["html"]
    assert "tell your customers" in next(n for n in notices if n["customer"] == "C-DIST-NORTH")["markdown"]
    page = viewer.get(f"/recalls/{uid}/notices/C-RET-N1", params={"format": "markdown"})
    assert page.headers["content-type"].startswith("text/markdown") and "# Safety recall" in page.text
    assert viewer.get(f"/recalls/{uid}/notices/C-RET-N2").status_code == 404  # not in this recall
    listed = list(csv.DictReader(io.StringIO(viewer.get(f"/recalls/{uid}/notifications.csv").text)))
    assert {row["customer"] for row in listed} == customers
    for row in listed:
        assert row["contact_email"] == BY_UID[row["customer"]].get("contact_email", "")
        assert row["channel"] == "email" and row["recall"] == uid and row["deadline"] == DEADLINE[:10]

    # --- follow-up: everyone notified, returns recorded; completion against the records ------------
    def follow(customer: str, **body: Any) -> httpx.Response:
        return editor.post(f"/recalls/{uid}/customers/{customer}/followup", json={"by": "Ben", **body})

    for c in sorted(customers):
        assert follow(c, action="notified", channel="email", at="2026-03-08T09:00:00Z").status_code == 201
    assert follow("C-RET-N1", action="acknowledged").status_code == 201
    returned = {"C-RET-N1": 200.0, "C-RET-S1": customer_net("C-RET-S1")}
    for c, quantity in returned.items():
        assert follow(c, action="returned", quantity=quantity).status_code == 201
    assert follow("C-RET-E1", action="destroyed", quantity=40, unit="cups").status_code == 201
    assert follow("C-RET-N1", action="returned").status_code == 422  # a quantity is needed
    assert follow("C-RET-N2", action="notified").status_code == 422  # not in the recall

    figures = viewer.get(f"/recalls/{uid}/effectiveness").json()
    affected = sum(customer_net(c) for c in customers)
    accounted = sum(returned.values()) + 40
    overall = figures["overall"]
    assert overall["customers"] == len(customers) and overall["notified"] == len(customers)
    assert overall["coverage"] == 1.0 and overall["acknowledged"] == 1
    [cups] = overall["amounts"]
    assert cups["unit"] == "cups" and cups["affected"] == affected and cups["accounted"] == accounted
    assert cups["completion"] == pytest.approx(accounted / affected)
    by_region = {f["group"]: f for f in figures["by_region"]}
    assert set(by_region) == regions
    north = [c for c in customers if BY_UID[c]["region"] == "North"]
    assert by_region["North"]["amounts"][0]["affected"] == sum(customer_net(c) for c in north)
    assert by_region["South"]["amounts"][0]["completion"] == 1.0
    by_level = {f["group"]: f for f in figures["by_level"]}
    assert (
        by_level["distributor"]["customers"] == 1 and by_level["retailer"]["customers"] == len(customers) - 1
    )

    # --- the public lookup: a code under recall, and nothing else ----------------------------------
    hit = public.get("/lookup", params={"code": "B-2001"})
    assert hit.status_code == 200 and hit.json()["recalled"] is True
    assert hit.json()["recalls"][0]["recall"] == uid and hit.json()["recalls"][0]["risk"] == RISK
    for secret in [*customers, "B-2002", "quantity", "C-"]:
        assert secret not in hit.text, secret
    serial = next(s for b, s in ((r["from"], r["to"]) for r in rels("SOLD_IN")) if b == "B-2001")
    assert public.get("/lookup", params={"code": serial}).json()["recalled"] is True
    unknown = public.get("/lookup", params={"code": "NO-SUCH-CODE"}).json()
    clean = public.get("/lookup", params={"code": "B-2003"}).json()
    assert unknown["recalled"] is False and {k: v for k, v in clean.items() if k != "code"} == {
        k: v for k, v in unknown.items() if k != "code"
    }
    for _ in range(2):  # the fifth and sixth in this minute
        assert public.get("/lookup", params={"code": "B-2001"}).status_code == 200
    limited = public.get("/lookup", params={"code": "B-2001"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1

    # --- new data widens the scope: shown as pending, taken in only when accepted -----------------
    widening = [
        {
            "kind": "Batch",
            "uid": "B-9001",
            "product": "Milk powder blend",
            "quantity": 50,
            "unit": "kg",
            "site": "Hamar",
            "started_at": "2026-03-09T06:00:00Z",
        },
        {
            "kind": "CONSUMED_BY",
            "from": SOURCE,
            "from_label": "MaterialLot",
            "to": "B-9001",
            "quantity": 5,
            "unit": "kg",
        },
    ]
    assert ingest(editor, widening).status_code == 200
    shown = viewer.get(f"/recalls/{uid}").json()
    assert shown["pending"]["added"]["batches"] == ["B-9001", "B-BEFORE"]  # B-BEFORE: the late use above
    assert {b["uid"] for b in shown["scope"]["batches"]} == batches  # frozen: not silently widened
    assert editor.post(f"/recalls/{uid}/accept-pending", json={"by": "Anna"}).status_code == 200
    assert not any(viewer.get(f"/recalls/{uid}").json()["pending"]["added"].values())
    assert any(h["batch"] == "B-9001" for h in viewer.get(f"/recalls/{uid}/holds").json())

    # --- release: needs a reason; once every hold on a batch is released it ships again -----------
    rework = [h for h in viewer.get(f"/recalls/{uid}/holds").json() if h["batch"] == "B-3001"]
    assert (
        editor.post(f"/holds/{rework[0]['uid']}/release", json={"by": "Anna", "reason": ""}).status_code
        == 422
    )
    for h in rework:
        released = editor.post(
            f"/holds/{h['uid']}/release", json={"by": "Anna", "reason": "destroyed, DR-77"}
        )
        assert released.status_code == 200 and released.json()["status"] == "released"
    again_release = editor.post(f"/holds/{rework[0]['uid']}/release", json={"by": "Anna", "reason": "x"})
    assert again_release.status_code == 409
    rework_ship = [
        {**r, "from": "B-3001", "to": "SH-REWORK"} if r["kind"] == "SHIPPED_IN" else r for r in new_shipment
    ]
    rework_ship[0], rework_ship[2] = (
        {**rework_ship[0], "uid": "SH-REWORK"},
        {**rework_ship[2], "from": "SH-REWORK"},
    )
    assert ingest(editor, rework_ship).status_code == 200

    # --- close: a note is needed; what is open is recorded; the report tells all ------------------
    assert editor.post(f"/recalls/{uid}/close", json={"by": "Anna", "note": ""}).status_code == 422
    closed = editor.post(f"/recalls/{uid}/close", json={"by": "Anna", "note": "returns in, destroyed"}).json()
    assert closed["state"] == "closed"
    last = closed["history"][-1]["what"]
    assert "C-DIST-NORTH" in last and "hold(s) still active" in last  # the distributor returned nothing
    report = viewer.get(f"/recalls/{uid}/report").json()
    assert report["effectiveness"]["overall"]["amounts"][0]["accounted"] == accounted
    assert len(report["actions"]) == len(customers) + 1 + len(returned) + 1
    assert any("not accounted for" in item for item in report["open_items"])
    assert public.get("/lookup", params={"code": "B-2001"}).status_code == 429  # still limited
    assert editor.post(f"/recalls/{uid}/activate", json={"by": "Anna"}).status_code == 409

    # --- the audit log has every write, with who; an editor may not read it ------------------------
    assert editor.get("/audit").status_code == 403
    entries = admin.get("/audit", params={"limit": 1000}).json()["entries"]
    actions = [e["action"] for e in entries]
    for expected in (
        "load",
        "recall.create",
        "recall.activate",
        "hold.place",
        "followup.notified",
        "followup.returned",
        "recall.accept_pending",
        "hold.release",
        "recall.close",
    ):
        assert expected in actions, expected
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(e["prev"] == p["hash"] for p, e in itertools.pairwise(entries))
    assert next(e for e in entries if e["action"] == "recall.close")["who"].startswith(
        "Anna (api key editor#"
    )
    assert admin.get("/audit/verify").json()["ok"] is True


def test_recall_requests_that_cannot_work_are_refused_with_the_reason(editor: httpx.Client) -> None:
    def refused(body: dict[str, Any], status: int = 422) -> str:
        response = editor.post("/recalls", json=body)
        assert response.status_code == status, response.text
        return str(response.json()["detail"])

    past = refused(recall_body(deadline="2026-03-20T12:00:00Z"))
    assert "the deadline 2026-03-20T12:00:00Z is already past" in past and "force" in past
    forced = editor.post("/recalls", json=recall_body(deadline="2026-03-20T12:00:00Z", force=True))
    assert forced.status_code == 201 and forced.json()["deadline"] == "2026-03-20T12:00:00Z"
    moved = editor.patch(f"/recalls/{forced.json()['uid']}", json={"by": "Anna", "deadline": "2026-03-01"})
    assert moved.status_code == 422 and "already past" in moved.json()["detail"]
    assert "targeted recall names the regions" in refused(recall_body(strategy="targeted"))
    assert "no safety risk" in refused(recall_body(strategy="selective_replacement"))
    assert "level_reason" in refused(recall_body(level="local"))
    assert "not a Customer" in refused(recall_body(source="Customer:C-RET-N1"))
    assert "no MaterialLot with uid" in refused(recall_body(source="MaterialLot:L-0000"), 404)
    assert "not in the scope" in refused(recall_body(strategy="targeted", customers=["C-RET-N2"]))
    assert "reaches no customer in Atlantis" in refused(
        recall_body(strategy="targeted", regions=["Atlantis"])
    )


def test_a_targeted_replacement_covers_only_its_region_with_the_level_overridden(
    editor: httpx.Client,
) -> None:
    body = recall_body(
        strategy="selective_replacement", safety=False, remedy="replace", risk="the lid may leak"
    )
    made = editor.post("/recalls", json=body | {"level": "local", "level_reason": "few units, one market"})
    assert made.status_code == 201, made.text
    assert made.json()["level"] == "local" and made.json()["level_computed"] != "local"
    assert "level set to local" in made.json()["history"][-1]["what"]
    north = sorted(c for c in EXPECTED["Customer"] if BY_UID[c]["region"] == "North")
    targeted = editor.post("/recalls", json=recall_body(strategy="targeted", regions=["North"]))
    scope = targeted.json()["scope"]
    assert sorted(c["uid"] for c in scope["customers"]) == north
    assert scope["left_out"] == len(EXPECTED["Customer"]) - len(north) and scope["regions"] == ["North"]
    # Every affected batch is in it, whatever the region: its stock is held all the same (the first
    # test may have added one more batch made from the lot).
    assert EXPECTED["Batch"] <= {b["uid"] for b in scope["batches"]}
    uid = made.json()["uid"]
    notice = editor.get(f"/recalls/{uid}/notices/C-RET-N1", params={"format": "html"})
    assert "Replacement notice" in notice.text and "replacement arrives" in notice.text
    changed = editor.patch(f"/recalls/{uid}", json={"by": "Anna", "deadline": LATER})
    assert (
        changed.status_code == 200
        and f"deadline '{DEADLINE}' -> '{LATER}'" in (changed.json()["history"][-1]["what"])
    )


def test_the_drill_reports_scope_mass_balance_and_notification_list(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "load", str(demo_dir())).returncode == 0
    done = cli(data, "drill", SOURCE, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert f"drill of {SOURCE}" in done.stdout
    report = json.loads((tmp_path / "out" / f"drill-{SOURCE}.json").read_text())
    lot = BY_UID[SOURCE]
    used = sum(r["quantity"] for r in rels("CONSUMED_BY") if r["from"] == SOURCE)
    assert report["seconds"] > 0
    assert (
        report["mass_balance"]["lot"]["unaccounted"]
        == lot["quantity"] - used - lot["on_hand"] - lot["scrapped"]
    )
    assert {row["customer"] for row in report["notification_list"]} == EXPECTED["Customer"]
    assert {b["uid"] for b in report["scope"]["batches"]} == EXPECTED["Batch"]
    markdown = (tmp_path / "out" / f"drill-{SOURCE}.md").read_text()
    assert f"# Mock recall drill: lot {SOURCE}" in markdown and "SCRAP-0311" in markdown
    assert "| **unaccounted** | **5 kg** |" in markdown
    verified = cli(data, "audit", "verify")
    assert (
        verified.returncode == 0 and "audit log intact: 2 entries" in verified.stdout
    )  # the load, the drill


def test_recall_commands_on_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "load", str(demo_dir())).returncode == 0
    made = cli(
        data,
        "recall",
        "create",
        f"MaterialLot:{SOURCE}",
        "--reason",
        "salmonella",
        "--risk",
        RISK,
        "--owner",
        "QA",
        "--deadline",
        DEADLINE[:10],
        "--by",
        "Anna",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    uid = json.loads(made.stdout)["uid"]
    assert cli(data, "recall", "activate", uid).returncode == 0
    holds = json.loads(cli(data, "recall", "holds", uid, "--json").stdout)
    left = {b for b in EXPECTED["Batch"] if plant_unshipped(b) > 0}
    assert {h["batch"] for h in holds if h["holder"] == "plant" and h["batch"]} == left
    assert [h["lot"] for h in holds if h["lot"]] == [SOURCE]
    shown = cli(data, "recall", "holds", uid).stdout
    assert f"lot {SOURCE}" in shown and "batch B-1001" in shown
    written = cli(data, "recall", "notices", uid, "--out", str(tmp_path / "notices"))
    assert written.returncode == 0, written.stderr
    files = sorted(p.name for p in (tmp_path / "notices").iterdir())
    assert len(files) == 2 * len(EXPECTED["Customer"]) + 1 and f"{uid}-notifications.csv" in files
    assert cli(data, "recall", "followup", uid, "C-RET-S1", "notified").returncode == 0
    s1 = customer_net("C-RET-S1")

    def returned(*args: str) -> str:
        done = cli(data, "recall", "followup", uid, "C-RET-S1", *args)
        assert done.returncode == 0, done.stderr
        return done.stdout.split(":")[0]

    def south() -> dict[str, Any]:
        figures = json.loads(cli(data, "recall", "effectiveness", uid, "--json").stdout)
        return next(f for f in figures["by_region"] if f["group"] == "South")["amounts"][0]

    first = returned("returned", "--quantity", str(s1))
    assert south()["completion"] == 1.0
    # --- more than the customer holds is refused, both numbers named; a wrong record is corrected --
    over = cli(data, "recall", "followup", uid, "C-RET-S1", "returned", "--quantity", "5000")
    assert over.returncode == 1
    said = " ".join(over.stderr.split())
    assert f"C-RET-S1 holds {s1:g} cups" in said and f"{s1:g} cups are accounted for already" in said
    assert f"would make {s1 + 5000:g} of {s1:g}" in said
    fixed = returned("returned", "--quantity", str(s1 - 10), "--replaces", first)
    assert south()["accounted"] == s1 - 10
    again = cli(
        data, "recall", "followup", uid, "C-RET-S1", "returned", "--quantity", "1", "--replaces", first
    )
    assert again.returncode == 1 and "corrected or withdrawn already" in again.stderr
    returned("withdrawn", "--replaces", fixed)
    assert south()["accounted"] == 0
    returned("returned", "--quantity", str(s1))
    assert south()["completion"] == 1.0
    # --- a use of the lot recorded late shows as a pending change, in words --------------------
    late = [
        {"kind": "Batch", "uid": "B-LATE", "product": "p", "started_at": "2026-03-01T00:00:00Z"},
        {"kind": "CONSUMED_BY", "from": SOURCE, "from_label": "MaterialLot", "to": "B-LATE", "quantity": 1},
    ]
    (tmp_path / "late.jsonl").write_text("".join(json.dumps(r) + "\n" for r in late))
    assert cli(data, "load", str(tmp_path / "late.jsonl")).returncode == 0
    shown = " ".join(cli(data, "recall", "show", uid).stdout.split())
    assert "pending change: added batches B-LATE; removed nothing" in shown, shown
    kept = json.loads(cli(data, "recall", "report", uid, "--json").stdout)["actions"]
    assert {a["uid"] for a in kept} >= {first, fixed}  # the originals stay on record
    assert next(a for a in kept if a["action"] == "withdrawn")["replaces"] == fixed
    bad = cli(data, "recall", "followup", uid, "C-RET-S1", "returned")
    assert bad.returncode == 1 and "returned needs a quantity" in bad.stderr
    assert cli(data, "recall", "close", uid, "--note", "done").returncode == 0
    report = cli(data, "recall", "report", uid)
    assert report.returncode == 0 and f"# Recall {uid}" in report.stdout and "## Open items" in report.stdout
    assert f"- lot {SOURCE} at Hamar, 780 kg: active" in report.stdout  # where its batches were made
    entries = json.loads(cli(data, "audit", "list", "--json", "--limit", "100").stdout)["entries"]
    assert entries[1]["who"].startswith("Anna (") and entries[1]["action"] == "recall.create"
    assert any(e["action"] == "followup.withdrawn" and fixed in e["detail"] for e in entries)
    assert f"corrected by {fixed}" in report.stdout


def _quantities(balance: dict[str, Any]) -> dict[str, float]:
    return {t["name"]: t["quantity"] for t in balance["terms"]}


def test_mass_balance_names_every_record_and_the_unaccounted_remainder(store: Any) -> None:
    from test_reference import load_records

    from lineage.recall.balance import mass_balance

    records = [
        {
            "kind": "MaterialLot",
            "uid": "LOT-A",
            "material": "flour",
            "quantity": 100,
            "unit": "kg",
            "on_hand": 40,
            "counted_at": "2026-05-02T00:00:00Z",
            "scrapped": 5,
            "scrap_document": "SC-1",
        },
        {"kind": "MaterialLot", "uid": "LOT-B", "material": "salt", "quantity": 10, "unit": "kg"},
        {"kind": "Batch", "uid": "BA-1", "product": "bread", "quantity": 60, "unit": "loaves", "on_hand": 5},
        {"kind": "Batch", "uid": "BA-2", "product": "rolls", "quantity": 30, "unit": "bags"},
        {"kind": "Batch", "uid": "BA-3", "product": "crumbs", "quantity": 5, "unit": "loaves"},
        {
            "kind": "CONSUMED_BY",
            "from": "LOT-A",
            "from_label": "MaterialLot",
            "to": "BA-1",
            "quantity": 30,
            "unit": "kg",
            "evidence": "WO-1",
        },
        {
            "kind": "CONSUMED_BY",
            "from": "LOT-A",
            "from_label": "MaterialLot",
            "to": "BA-2",
            "quantity": 20,
            "unit": "kg",
            "evidence": "WO-2",
        },
        {
            "kind": "CONSUMED_BY",
            "from": "LOT-B",
            "from_label": "MaterialLot",
            "to": "BA-1",
            "quantity": 2000,
            "unit": "g",
            "evidence": "WO-1",
        },
        {
            "kind": "CONSUMED_BY",
            "from": "BA-1",
            "from_label": "Batch",
            "to": "BA-3",
            "quantity": 5,
            "unit": "loaves",
            "evidence": "RW-1",
        },
        {"kind": "Customer", "uid": "DIST", "region": "N", "customer_type": "distributor"},
        {"kind": "Customer", "uid": "SHOP", "region": "N"},
        {"kind": "Shipment", "uid": "S-1", "document": "DN-1", "shipped_at": "2026-05-03T00:00:00Z"},
        {"kind": "Shipment", "uid": "S-2", "document": "DN-2"},
        {"kind": "SHIPPED_IN", "from": "BA-1", "to": "S-1", "quantity": 50, "unit": "loaves"},
        {"kind": "DELIVERED_TO", "from": "S-1", "to": "DIST"},
        {"kind": "DISPATCHED", "from": "DIST", "to": "S-2"},
        {"kind": "SHIPPED_IN", "from": "BA-1", "to": "S-2", "quantity": 20, "unit": "loaves"},
        {"kind": "DELIVERED_TO", "from": "S-2", "to": "SHOP"},
    ]
    load_records(store, records)
    found = mass_balance(store, "LOT-A", ["BA-1", "BA-2"]).model_dump()
    lot = found["lot"]
    assert lot["start"] == 100 and lot["unit"] == "kg"
    assert _quantities(lot) == {"consumed into batches": 50, "in stock": 40, "scrapped": 5}
    assert lot["unaccounted"] == 5 and lot["balanced"] is False
    consumed = next(t for t in lot["terms"] if t["name"] == "consumed into batches")
    assert [(e["ref"], e["quantity"], e["evidence"]) for e in consumed["entries"]] == [
        ("BA-1", 30, "WO-1"),
        ("BA-2", 20, "WO-2"),
    ]
    assert next(t for t in lot["terms"] if t["name"] == "scrapped")["entries"][0]["ref"] == "SC-1"
    bread, rolls = found["batches"]
    # 60 made: 50 left the plant (the distributor's re-shipment of 20 is not the plant's), 5 into
    # crumbs, 5 counted on hand: balanced.
    assert _quantities(bread) == {
        "shipped from the plant": 50,
        "consumed into batches": 5,
        "in stock": 5,
        "scrapped": 0,
    }
    assert bread["unaccounted"] == 0 and bread["balanced"] is True
    shipped = next(t for t in bread["terms"] if t["name"] == "shipped from the plant")["entries"]
    assert [(e["ref"], e["evidence"]) for e in shipped] == [("S-1", "DN-1")]
    assert rolls["unaccounted"] == 30 and any("no stock count" in n for n in rolls["notes"])
    assert found["unbalanced"] == ["MaterialLot:LOT-A", "Batch:BA-2"]
    salt = mass_balance(store, "LOT-B", []).model_dump()["lot"]
    assert salt["other_units"][0]["unit"] == "g" and salt["unaccounted"] == 10 and not salt["balanced"]


def test_a_supplier_recall_holds_every_lot_it_delivered_and_none_of_a_batch(
    store: Any, tmp_path: Path
) -> None:
    from lineage.errors import HeldLotConsumed
    from lineage.loading.load import load
    from lineage.recall.cases import RecallRequest
    from lineage.recall.holds import holds, release
    from lineage.recall.recalls import accept_pending, activate, create, get

    load(store, [demo_dir()])
    asked = {"reason": "aflatoxin", "risk": RISK, "owner": "QA", "deadline": to_epoch_ms(DEADLINE)}
    supplier = create(store, RecallRequest(source="Supplier:SUP-MILKCO", **asked), "Anna")
    activate(store, supplier.uid, "Anna")
    held = {h.lot: h for h in holds(store, supplier.uid) if h.lot}
    assert set(held) == {"L-4471", "L-4472"}
    assert held["L-4472"].quantity == BY_UID["L-4472"].get("on_hand")

    def use(lot: str, batch: str) -> Path:
        records = [
            {"kind": "Batch", "uid": batch, "product": "Blend", "started_at": "2099-01-01T00:00:00Z"},
            {"kind": "CONSUMED_BY", "from": lot, "from_label": "MaterialLot", "to": batch, "quantity": 2},
        ]
        path = tmp_path / f"{batch}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        return path

    with pytest.raises(HeldLotConsumed, match=r"lot 'L-4472' is on hold and may not go into batch 'B-NEW'"):
        load(store, [use("L-4472", "B-NEW")])
    # A lot the supplier delivers later shows as a pending change; accepting it holds that lot too.
    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"kind": "MaterialLot", "uid": "L-4473", "material": "skimmed milk powder", "on_hand": 500, "unit": "kg"}\n'
        '{"kind": "SUPPLIED", "from": "SUP-MILKCO", "to": "L-4473"}\n'
    )
    load(store, [late])
    assert get(store, supplier.uid).pending.added["lots"] == ["L-4473"]  # type: ignore[union-attr]
    accept_pending(store, supplier.uid, "Anna")
    assert "L-4473" in {h.lot for h in holds(store, supplier.uid)}
    with pytest.raises(HeldLotConsumed):
        load(store, [use("L-4473", "B-NEW2")])
    # Released, the lot may be used again; a batch recall holds no lot at all.
    release(store, held["L-4472"].uid, "Anna", "cleared by testing, LAB-12")
    load(store, [use("L-4472", "B-NEW")])
    batch = create(store, RecallRequest(source="Batch:B-2001", **asked), "Anna")
    activate(store, batch.uid, "Anna")
    assert not [h for h in holds(store, batch.uid) if h.lot]


def test_a_recall_changed_meanwhile_is_not_overwritten(store: Any) -> None:
    """Recalls are read, changed and written back: a write from a stale read is refused (409 in the
    API), and of two coordinators activating one draft at once exactly one succeeds."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from lineage.errors import Conflict
    from lineage.loading.load import load
    from lineage.recall import recalls

    load(store, [demo_dir()])
    asked = {"reason": "salmonella", "risk": RISK, "owner": "QA", "deadline": to_epoch_ms(DEADLINE)}
    uid = recalls.create(store, recalls.RecallRequest(source=f"MaterialLot:{SOURCE}", **asked), "Anna").uid
    stale = recalls._stored(store, uid)
    recalls.update(store, uid, recalls.RecallUpdate(owner="Ben"), "Ben")
    stale |= {"owner": "Carl", "history": recalls._change(stale, "Carl", "changed owner to Carl")}
    with pytest.raises(Conflict, match=f"recall {uid} was changed by someone else meanwhile"):
        recalls._save(store, uid, stale)
    shown = recalls.get(store, uid)
    assert shown.owner == "Ben" and [c.by for c in shown.history] == ["Anna", "Ben"]

    start = Barrier(2)

    def activate(by: str) -> str:
        start.wait()
        try:
            recalls.activate(store, uid, by)
        except Conflict:
            return "refused"
        return "activated"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(activate, ["Anna", "Ben"]))
    assert outcomes == ["activated", "refused"]
    assert [c.what.split(":")[0] for c in recalls.get(store, uid).history].count("activated") == 1


def test_a_past_deadline_needs_force_and_then_shows_overdue_everywhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "load", str(demo_dir())).returncode == 0
    create = ["recall", "create", f"MaterialLot:{SOURCE}", "--reason", "salmonella", "--risk", RISK,
              "--owner", "QA", "--deadline", "2026-03-20", "--json"]  # fmt: skip
    refused = cli(data, *create)
    assert refused.returncode == 1
    assert (
        "2026-03-20T00:00:00Z is already past" in " ".join(refused.stderr.split())
        and "--force" in refused.stderr
    )
    made = cli(data, *create, "--force")
    assert made.returncode == 0, made.stderr
    uid = json.loads(made.stdout)["uid"]
    assert "OVERDUE" not in cli(data, "recall", "show", uid).stdout  # a draft is not overdue
    assert cli(data, "recall", "activate", uid).returncode == 0
    assert "OVERDUE" in cli(data, "recall", "show", uid).stdout
    figures = json.loads(cli(data, "recall", "effectiveness", uid, "--json").stdout)
    assert figures["overdue"] is True and all(c["overdue"] for c in figures["customers"])
    assert "OVERDUE" in cli(data, "recall", "effectiveness", uid).stdout
    report = cli(data, "recall", "report", uid).stdout
    assert "OVERDUE: the deadline 2026-03-20T00:00:00Z has passed with" in " ".join(report.split())


def test_a_batch_with_nothing_left_anywhere_gets_no_hold_and_ships_no_more(
    store: Any, tmp_path: Path
) -> None:
    from lineage.errors import HeldBatchShipped
    from lineage.loading.load import load
    from lineage.recall.cases import RecallRequest
    from lineage.recall.holds import holds
    from lineage.recall.recalls import activate, create, get

    all_sold = [
        {"kind": "Batch", "uid": "B-GONE", "product": "yogurt", "quantity": 10, "unit": "cups", "site": "Hamar"},
        {"kind": "CONSUMED_BY", "from": SOURCE, "from_label": "MaterialLot", "to": "B-GONE", "quantity": 1},
        {"kind": "Shipment", "uid": "SH-GONE"},
        {"kind": "SHIPPED_IN", "from": "B-GONE", "to": "SH-GONE", "quantity": 10, "unit": "cups"},
        {"kind": "DELIVERED_TO", "from": "SH-GONE", "to": "C-RET-N1"},
        {"kind": "Sale", "uid": "SA-GONE", "quantity": 10, "unit": "cups"},
        {"kind": "SOLD_IN", "from": "B-GONE", "to": "SA-GONE", "quantity": 10, "unit": "cups"},
        {"kind": "SOLD", "from": "C-RET-N1", "to": "SA-GONE"},
    ]  # fmt: skip
    extra = tmp_path / "gone.jsonl"
    extra.write_text("".join(json.dumps(r) + "\n" for r in all_sold))
    load(store, [demo_dir(), extra])
    asked = {"reason": "salmonella", "risk": RISK, "owner": "QA", "deadline": to_epoch_ms(DEADLINE)}
    uid = create(store, RecallRequest(source=f"MaterialLot:{SOURCE}", **asked), "Anna").uid
    activate(store, uid, "Anna")
    assert not [h for h in holds(store, uid) if h.batch == "B-GONE"]  # a hold on nothing is not placed
    assert "nothing left at the plant of" in get(store, uid).history[-1].what
    assert "B-GONE at Hamar" in get(store, uid).history[-1].what
    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"kind": "Shipment", "uid": "SH-LATE"}\n'
        '{"kind": "SHIPPED_IN", "from": "B-GONE", "to": "SH-LATE", "quantity": 1, "unit": "cups"}\n'
    )
    with pytest.raises(
        HeldBatchShipped, match=f"active recall {uid}, whose records leave none of it to hold"
    ):
        load(store, [late])
