"""Answers the API sends as plain rows (the affected answer, a scope's pages) must be exactly what
their documented models say, whatever the scope holds: each is checked against the model it
stands for, validated and dumped again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lineage.graph.model import Label, NodeRef, to_epoch_ms
from lineage.graph.scope import Window, backward, forward
from lineage.graph.store import Store
from lineage.interchange.paging import ScopePage, ScopeRequest, page
from lineage.loading.load import load
from lineage.recall.affected import affected, affected_rows
from lineage.samples.generate import generate_plant
from tests.conftest import ready

L = Label


def both_ways(store: Store, source: NodeRef, window: Window | None = None) -> tuple[Any, Any]:
    fast = json.loads(json.dumps(affected_rows(store, source, window)))
    model = json.loads(affected(store, source, window).model_dump_json())
    for answer in (fast, model):
        assert answer.pop("elapsed_ms") >= 0
    return fast, model


def test_every_demo_source_gives_the_models_answer(demo_store: Store) -> None:
    sources = [
        NodeRef(label, uid)
        for label, uids in (
            (L.MATERIAL_LOT, ["L-4471", "L-4472", "L-5100", "L-6200", "L-7300"]),
            (L.BATCH, ["B-1001", "B-2001", "B-2003", "B-3001"]),
            (L.SUPPLIER, ["SUP-MILKCO", "SUP-CULTURE", "SUP-PACK"]),
        )
        for uid in uids
    ]
    compared = 0
    for source in sources:
        fast, model = both_ways(demo_store, source)
        assert fast == model, source
        compared += bool(model["batches"]) and bool(model["regions"]) and bool(model["stock_on_hand"])
    assert compared >= 6  # real answers, not empty ones
    shift = Window(start=to_epoch_ms("2026-03-02T06:00:00Z"), end=to_epoch_ms("2026-03-02T14:00:00Z"))
    fast, model = both_ways(demo_store, NodeRef(L.MACHINE, "M-FILL3"), shift)
    assert fast == model and fast["window"] == {"from": "2026-03-02T06:00:00Z", "to": "2026-03-02T14:00:00Z"}


def test_a_generated_plant_gives_the_models_answer(store: Store, walk: str, tmp_path: Path) -> None:
    """Distributors that re-ship, rework, partial shipments and sales: every lot of a small plant."""
    generate_plant(tmp_path / "plant", nodes=2500, seed=5)
    load(store, [tmp_path / "plant"])
    ready(store, walk)
    lots = json.loads((tmp_path / "plant" / "samples.json").read_text())["lots"]
    held_at_customers = 0
    for lot in lots[:40]:
        fast, model = both_ways(store, NodeRef(L.MATERIAL_LOT, lot))
        assert fast == model, lot
        held_at_customers += any(s["holder"] == "customer" for s in fast["stock_on_hand"])
    assert held_at_customers > 0


def as_model(rows: dict[str, Any]) -> Any:
    return json.loads(ScopePage.model_validate(rows).model_dump_json())


def test_scope_pages_give_the_models_answer(demo_store: Store) -> None:
    lot, complaint = NodeRef(L.MATERIAL_LOT, "L-4471"), NodeRef(L.COMPLAINT, "CP-01")
    forward_request = ScopeRequest("forward", lot)
    whole = forward(demo_store, lot, properties=())
    rows = json.loads(json.dumps(page(demo_store, whole, forward_request, 500, None)))
    assert rows == as_model(rows) and rows["total"] == len(rows["nodes"]) > 10
    assert any(via["quantity"] is not None for node in rows["nodes"] for via in node["via"])
    # A page that ends early, then the next one from its cursor.
    first = page(demo_store, whole, forward_request, 4, None)
    assert json.loads(json.dumps(first)) == as_model(first) and first["next_cursor"]
    rest = page(demo_store, whole, forward_request, 500, first["next_cursor"])
    assert [n["uid"] for n in first["nodes"] + rest["nodes"]] == [n["uid"] for n in rows["nodes"]]
    # Filtered by kind, and a machine over a window (times on the relationships).
    customers = ScopeRequest("forward", lot, kinds=frozenset({L.CUSTOMER}))
    only = page(demo_store, whole, customers, 500, None)
    assert json.loads(json.dumps(only)) == as_model(only) and {n["label"] for n in only["nodes"]} == {
        "Customer"
    }
    shift = Window(start=to_epoch_ms("2026-03-02T06:00:00Z"), end=to_epoch_ms("2026-03-02T14:00:00Z"))
    machine = ScopeRequest("forward", NodeRef(L.MACHINE, "M-FILL3"), shift)
    ran = page(demo_store, forward(demo_store, machine.source, shift, properties=()), machine, 500, None)
    assert json.loads(json.dumps(ran)) == as_model(ran)
    assert any(via["start"] for node in ran["nodes"] for via in node["via"])
    # Backward from a complaint: sales' properties come from the database, not the index.
    trace = ScopeRequest("backward", complaint)
    back = page(demo_store, backward(demo_store, complaint, properties=()), trace, 500, None)
    assert json.loads(json.dumps(back)) == as_model(back)
    assert any(n["label"] == "Sale" and n["properties"] for n in back["nodes"])
