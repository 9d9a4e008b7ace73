"""Complaint intake against the demo: stored always, linked to what exists, flagged with every reason
where it does not match the lineage; over HTTP and from a file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from apiserver import Api
from pydantic import ValidationError
from test_loading import node_count

from lineage.complaints.intake import ComplaintForm, intake
from lineage.graph.model import Label, NodeRef
from lineage.graph.nodes import node_detail
from lineage.graph.scope import backward
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.demo import demo_dir

NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


@pytest.fixture
def demo(store: Store) -> Store:
    load(store, [demo_dir()])
    return store


def form(**fields: object) -> ComplaintForm:
    return ComplaintForm.model_validate({"channel": "phone", "category": "spoilage", **fields})


def links(store: Store, uid: str) -> set[tuple[str, str, str]]:
    detail = node_detail(store, NodeRef(Label.COMPLAINT, uid))
    return {(n.type, n.label, n.uid) for n in detail.neighbours}


def test_a_matching_complaint_is_verified_linked_and_traceable(demo: Store) -> None:
    done = intake(demo, form(uid="CP-100", customer="C-RET-N1", batch="B-2001", category="illness"), NOW)
    assert (done.verification, done.reasons, done.safety) == ("verified", [], True)
    assert done.linked == {"batch": "B-2001", "customer": "C-RET-N1"}
    assert links(demo, "CP-100") == {("ABOUT", "Batch", "B-2001"), ("REPORTED_BY", "Customer", "C-RET-N1")}
    stored = node_detail(demo, NodeRef(Label.COMPLAINT, "CP-100")).properties
    assert stored["received_at"] == "2026-03-09T08:00:00Z" and stored["verification"] == "verified"
    trace = backward(demo, NodeRef(Label.COMPLAINT, "CP-100"))
    assert {"L-4471", "B-1001"} <= trace.uids(Label.MATERIAL_LOT) | trace.uids(Label.BATCH)


def test_a_customer_in_a_region_the_batch_reached_is_enough(demo: Store) -> None:
    # C-RET-N2 never received B-2001, but North did (C-RET-N1): plausible, so verified.
    done = intake(demo, form(customer="C-RET-N2", batch="B-2001"), NOW)
    assert done.verification == "verified"


@pytest.mark.parametrize(
    ("fields", "reasons", "linked"),
    [
        ({"batch": "B-9999", "customer": "C-RET-N1"}, ["batch 'B-9999' is not in the lineage"], {"customer"}),
        ({"customer": "C-RET-E1"}, ["no batch code and no serial: it cannot be traced"], {"customer"}),
        (
            {"batch": "B-2002", "customer": "C-RET-E1"},
            ["batch 'B-2002' was never shipped or sold to customer 'C-RET-E1' or into its region 'East'"],
            {"batch", "customer"},
        ),
        (
            {"batch": "B-2001", "serial": "SA-02"},
            ["serial 'SA-02' was sold from batch B-2002, not 'B-2001'"],
            {"batch", "sale"},
        ),
        (
            {"serial": "SA-77", "customer": "C-NOBODY", "category": "weird"},
            [
                "serial 'SA-77' is not in the lineage",
                "customer 'C-NOBODY' is not in the lineage",
                "category 'weird' is not one of allergen, choking, fire, foreign body, illness, injury, other, "
                "packaging, quality, spoilage, taste",
            ],
            set(),
        ),
    ],
)
def test_what_does_not_match_is_stored_unverified_with_every_reason(
    demo: Store, fields: dict[str, str], reasons: list[str], linked: set[str]
) -> None:
    done = intake(demo, form(**fields), NOW)
    assert (done.verification, done.reasons) == ("unverified", reasons)
    assert set(done.linked) == linked
    stored = node_detail(demo, NodeRef(Label.COMPLAINT, done.uid)).properties
    assert stored["verification"] == "unverified"
    assert stored["verification_reasons"].split("\n") == reasons
    assert {what for what, _, _ in links(demo, done.uid)} <= {"ABOUT", "REPORTED_BY"}
    assert len(links(demo, done.uid)) == len(linked)


def test_the_same_form_twice_is_one_complaint(demo: Store) -> None:
    nodes = node_count(demo)
    first = intake(demo, form(batch="B-2001", customer="C-RET-N1", received_at="2026-03-08T10:00:00Z"))
    again = intake(demo, form(batch="B-2001", customer="C-RET-N1", received_at="2026-03-08T10:00:00Z"))
    assert first.uid == again.uid and first.uid.startswith("CP-20260308-")
    assert node_count(demo) == nodes + 1
    assert len(links(demo, first.uid)) == 2


def test_a_malformed_form_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="channel"):
        form(channel="pigeon")
    with pytest.raises(ValidationError, match="occurred_at"):
        form(occurred_at="yesterday-ish")


def test_post_complaints_over_http(api: Api) -> None:
    body = {
        "channel": "web",
        "category": "choking",
        "batch": "B-3001",
        "customer": "C-RET-E1",
        "documents": ["https://photos.example/1.jpg"],
        "expected_resolution": "refund",
    }
    with api.client("editor") as editor:
        created = editor.post("/complaints", json=body)
        assert created.status_code == 201, created.text
        result = created.json()
        assert result["verification"] == "verified" and result["safety"] is True
        stored = editor.get(f"/nodes/Complaint/{result['uid']}").json()
        assert stored["properties"]["documents"] == "https://photos.example/1.jpg"
        unknown = editor.post("/complaints", json=body | {"batch": "B-0000"}).json()
        assert unknown["verification"] == "unverified" and unknown["reasons"] == [
            "batch 'B-0000' is not in the lineage"
        ]
        bad = editor.post("/complaints", json=body | {"channel": "fax"})
        assert bad.status_code == 422 and "channel" in bad.text
    with api.client("viewer") as viewer:
        assert viewer.post("/complaints", json=body).status_code == 403


def test_load_complaints_from_a_file(api: Api, tmp_path: Path) -> None:
    import subprocess
    import sys

    file = tmp_path / "complaints.jsonl"
    file.write_text(
        json.dumps({"uid": "CP-F1", "channel": "mail", "category": "taste", "batch": "B-2002"})
        + "\n"
        + json.dumps({"uid": "CP-F2", "channel": "mail", "category": "taste", "batch": "B-NOPE"})
        + "\n"
    )
    env = {"LINEAGE_DATA_DIR": str(api.data_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli", "load", "--complaints", str(file), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = {r["uid"]: r for r in json.loads(done.stdout)}
    assert results["CP-F1"]["verification"] == "verified"
    assert results["CP-F2"]["reasons"] == ["batch 'B-NOPE' is not in the lineage"]
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"uid": "CP-F3", "channel": "mail", "category": "taste"}\n{"channel": "telex"}\n')
    refused = subprocess.run(
        [sys.executable, "-m", "lineage.cli", "load", "--complaints", str(broken)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert refused.returncode == 1 and "broken.jsonl: line 2" in refused.stderr
    with httpx.Client(base_url=api.url, headers={"X-API-Key": "viewer-key-1"}) as viewer:
        assert viewer.get("/nodes/Complaint/CP-F3").status_code == 404  # nothing of the file


def nearest_batches(client: httpx.Client, complaint: str) -> set[str]:
    trace = client.get(
        "/scope/backward", params={"label": "Complaint", "uid": complaint, "kinds": "Batch"}
    ).json()
    nearest = min(n["depth"] for n in trace["nodes"])
    return {n["uid"] for n in trace["nodes"] if n["depth"] == nearest}


def test_common_cause_over_http_and_the_command_line(api: Api) -> None:
    import subprocess
    import sys

    with api.client("viewer") as viewer:
        response = viewer.post("/analysis/common-cause", json={"complaints": ["CP-01", "CP-02", "CP-NOPE"]})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["untraced"] == {"CP-NOPE": "no such complaint"}
        assert set(body["complaint_batches"]) == nearest_batches(viewer, "CP-01") | nearest_batches(
            viewer, "CP-02"
        )
        suspects = body["suspects"]
        picked = [s["explains_first"] for s in suspects if s["explains_first"]]
        assert picked == list(range(1, len(picked) + 1)) and all(
            s["explains_first"] for s in suspects[: len(picked)]
        )
        rest = [s["score"] for s in suspects[len(picked) :]]
        assert rest == sorted(rest, reverse=True) and len(suspects) > 5
        placed = len(body["complaints"]) - len(body["untraced"]) - len(body["unplaced"])
        for s in suspects:
            of = len(body["complaint_batches"]) if s["basis"] == "batches" else placed
            assert s["support"] == round(s["hits"] / of, 4)
            assert s["score"] == pytest.approx(s["support"] - s["share"], abs=1e-3)
        upstream = {
            n["uid"]
            for c in ("CP-01", "CP-02")
            for n in viewer.get("/scope/backward", params={"label": "Complaint", "uid": c}).json()["nodes"]
            if n["label"] in ("MaterialLot", "Supplier", "Machine", "Operator", "Inspection")
        }
        assert {s["uid"] for s in suspects if s["basis"] == "batches" and s["label"] != "Batch"} == upstream
        chosen = viewer.post(
            "/analysis/common-cause",
            json={"received_from": "2026-03-07T00:00:00Z", "received_to": "2026-03-08T00:00:00Z"},
        ).json()
        assert chosen["complaints"] == ["CP-01", "CP-02"] and chosen["suspects"] == suspects
        empty = viewer.post("/analysis/common-cause", json={})
        assert empty.status_code == 422 and "choose complaints" in empty.text
    env = {"LINEAGE_DATA_DIR": str(api.data_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli", "suspects", "CP-01", "CP-02", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["suspects"] == suspects
