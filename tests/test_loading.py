"""Loading: every validation rule names file, line and field; bad input writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage import CycleDetected, MissingReferences, ValidationFailed
from lineage.graph.engines import falkor_bulk
from lineage.graph.model import (
    CONSTRAINED_LABELS,
    LOOKUP_INDEXES,
    RECORD_LABELS,
    Label,
    NodeRef,
    iso,
    to_epoch_ms,
)
from lineage.graph.nodes import node_detail
from lineage.graph.scope import ALL_LABELS, backward, fetch_properties, forward
from lineage.graph.status import collect
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.demo import demo_dir


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def node_count(store: Store) -> int:
    """Nodes of the lineage: not lineage's own records (load runs, the audit log)."""
    return sum(r["nodes"] for r in store.run("admin_label_counts") if r["label"] not in RECORD_LABELS)


def snapshot(store: Store) -> tuple[int, int]:
    return node_count(store), store.run("admin_relationship_count")[0]["relationships"]


LOT = {"kind": "MaterialLot", "uid": "L1", "material": "flour"}
BATCH = {"kind": "Batch", "uid": "B1", "product": "bread"}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("{not json", r"bad\.jsonl:2: not valid JSON"),
        ({"uid": "X"}, r"bad\.jsonl:2: kind: missing; expected one of Supplier, MaterialLot"),
        ({"kind": "Widget", "uid": "X"}, r"bad\.jsonl:2: kind: unknown kind 'Widget'"),
        ({"kind": "Batch", "uid": "B2"}, r"bad\.jsonl:2: product: Field required"),
        ({**BATCH, "uid": "B2", "colour": "red"}, r"bad\.jsonl:2: colour: unknown field \(misspelt\?\)"),
        (
            {**BATCH, "uid": "B2", "quantity": "lots"},
            r"bad\.jsonl:2: quantity: Input should be a valid number",
        ),
        (
            {**BATCH, "uid": "B2", "quantity": -5},
            r"bad\.jsonl:2: quantity: Input should be greater than or equal to 0",
        ),
        ({**BATCH, "uid": ""}, r"bad\.jsonl:2: uid: String should have at least 1 character"),
        (
            '{"kind": "Batch", "uid": "B2", "product": "bread", "quantity": 1e999}',
            r"bad\.jsonl:2: quantity: Input should be a finite number",
        ),
        (
            {**BATCH, "uid": "B2", "quantity": 1e16},
            r"bad\.jsonl:2: quantity: Input should be less than or equal to 1000000000000000",
        ),
        (
            {**BATCH, "uid": "B2", "started_at": "2026-03-02T10:00:00Z", "ended_at": "2026-03-02T09:00:00Z"},
            r"bad\.jsonl:2: ended_at \(2026-03-02T09:00:00Z\) is before started_at \(2026-03-02T10:00:00Z\)",
        ),
        (
            {**BATCH, "uid": "B2", "started_at": "yesterday"},
            r"bad\.jsonl:2: started_at: 'yesterday' is not an ISO-8601 time",
        ),
        (
            {**BATCH, "uid": "B2", "batch_type": "magic"},
            r"bad\.jsonl:2: batch_type: Input should be 'production', 'intermediate', 'rework' or 'logistic_unit'",
        ),
        (
            {"kind": "CONSUMED_BY", "from": "L1", "to": "B1"},
            r"bad\.jsonl:2: from_label: from_label is required for CONSUMED_BY: one of Batch, MaterialLot",
        ),
        (
            {"kind": "CONSUMED_BY", "from": "L1", "from_label": "Customer", "to": "B1"},
            r"bad\.jsonl:2: from_label: from_label 'Customer' is not allowed for CONSUMED_BY; expected Batch, MaterialLot",
        ),
        ({"kind": "RAN_ON", "from": "B1", "to": "M1", "start": 5}, r"bad\.jsonl:2: end: Field required"),
        ({"kind": "Customer", "uid": "C1"}, r"bad\.jsonl:2: region: Field required"),
        (
            {**LOT, "material": "rye"},
            r"bad\.jsonl:2: uid: MaterialLot 'L1' was already given at .*bad\.jsonl:1 with different properties",
        ),
    ],
)
def test_each_validation_rule_names_file_line_and_field(
    store: Store, tmp_path: Path, record: Any, expected: str
) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", [LOT, record, BATCH])
    with pytest.raises(ValidationFailed, match=expected):
        load(store, [bad])
    assert snapshot(store) == (0, 0)


def test_csv_in_another_encoding_or_with_missing_cells_is_refused_naming_line(
    store: Store, tmp_path: Path
) -> None:
    latin = tmp_path / "Customer.csv"
    latin.write_bytes("uid,name,region\nC-1,Shop,North\nC-2,Caf\u00e9 du Nord,North\n".encode("latin-1"))
    with pytest.raises(ValidationFailed) as caught:
        load(store, [latin])
    [problem] = caught.value.problems
    assert (problem.source, problem.line) == (str(latin), 3)
    assert "not UTF-8 text: byte 0xe9" in problem.message and "--encoding" in problem.message
    assert snapshot(store) == (0, 0)

    load(store, [latin], encoding="latin-1")
    shop = node_detail(store, NodeRef(Label.CUSTOMER, "C-2"))
    assert shop.properties["name"] == "Caf\u00e9 du Nord"

    with pytest.raises(ValidationFailed, match="unknown encoding 'klingon'"):
        load(store, [latin], encoding="klingon")

    bom = tmp_path / "bom" / "Customer.csv"
    bom.parent.mkdir()
    bom.write_bytes(b"\xef\xbb\xbfuid,name,region\nC-3,Shop,West\n")
    load(store, [bom])  # a UTF-8 byte-order mark is UTF-8
    short = tmp_path / "short" / "Customer.csv"
    short.parent.mkdir()
    short.write_text("uid,name,region,customer_type\nC-4,Shop\n")
    with pytest.raises(
        ValidationFailed, match=r"Customer\.csv:2: fewer cells than header columns \(2 of 4\)"
    ):
        load(store, [short])
    assert node_count(store) == 3


def test_a_relationship_given_twice_must_say_the_same_both_times(store: Store, tmp_path: Path) -> None:
    used = {"kind": "CONSUMED_BY", "from": "L1", "from_label": "MaterialLot", "to": "B1", "quantity": 5}
    # The same relationship with its labels spelt out once and left to the defaults once is one.
    again = {**used, "to_label": "Batch"}
    same = write_jsonl(tmp_path / "same.jsonl", [LOT, BATCH, used, again, used])
    load(store, [same])
    assert snapshot(store) == (2, 1)

    other = write_jsonl(tmp_path / "other.jsonl", [used, {**again, "quantity": 6}])
    with pytest.raises(ValidationFailed) as caught:
        load(store, [other])
    assert [str(p) for p in caught.value.problems] == [
        f"{other}:2: CONSUMED_BY 'L1' -> 'B1' was already given at {other}:1 with different properties"
    ]
    assert snapshot(store) == (2, 1)


def test_every_problem_is_listed_and_nothing_is_written_even_beside_a_good_file(
    store: Store, tmp_path: Path
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [LOT, BATCH])
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"kind": "Batch", "uid": "B9"}, {"kind": "Nope"}])
    with pytest.raises(ValidationFailed) as caught:
        load(store, [good, bad])
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}:1: product: Field required",
        f"{bad}:2: kind: unknown kind 'Nope'; expected one of " + ", ".join(
            [label.value for label in Label]
            + ["SUPPLIED", "CONSUMED_BY", "RAN_ON", "HANDLED_BY", "INSPECTED", "SHIPPED_IN", "DISPATCHED",
               "DELIVERED_TO", "SOLD_IN", "SOLD", "ABOUT", "REPORTED_BY"]
        ),
    ]  # fmt: skip
    assert "nothing was written" in str(caught.value)
    assert snapshot(store) == (0, 0)


def test_csv_rows_are_validated_with_their_line(store: Store, tmp_path: Path) -> None:
    (tmp_path / "Customer.csv").write_text("uid,name,region\nC1,Shop,North\nC2,Shop 2,\n")
    with pytest.raises(ValidationFailed, match=r"Customer\.csv:3: region: Field required"):
        load(store, [tmp_path / "Customer.csv"])
    (tmp_path / "things.csv").write_text("uid,name\nX,Y\n")
    with pytest.raises(
        ValidationFailed, match=r"things\.csv:1: kind: no 'kind' column and the file name is not a kind"
    ):
        load(store, [tmp_path / "things.csv"])
    (tmp_path / "Supplier.csv").write_text("uid,name\nS1,Acme,extra\n")
    with pytest.raises(ValidationFailed, match=r"Supplier\.csv:2: more cells than header columns"):
        load(store, [tmp_path / "Supplier.csv"])


def test_missing_files_and_formats_are_named(store: Store, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValidationFailed, match=r"nowhere\.jsonl: no such file or folder") as caught:
        load(store, [tmp_path / "nowhere.jsonl", tmp_path / "notes.txt"])
    assert "notes.txt: unknown format; expected .jsonl, .ndjson, .csv" in str(caught.value)


def test_missing_references_are_all_listed(store: Store, tmp_path: Path) -> None:
    load(store, [write_jsonl(tmp_path / "stored.jsonl", [LOT])])
    before = snapshot(store)
    rels = write_jsonl(
        tmp_path / "rels.jsonl",
        [
            BATCH,
            {"kind": "CONSUMED_BY", "from": "L1", "from_label": "MaterialLot", "to": "B1"},  # L1 is stored
            {"kind": "CONSUMED_BY", "from": "L404", "from_label": "MaterialLot", "to": "B1"},
            {"kind": "RAN_ON", "from": "B1", "to": "M404", "start": 0, "end": 1},
            {"kind": "SHIPPED_IN", "from": "B404", "to": "SH404"},
        ],
    )
    with pytest.raises(MissingReferences) as caught:
        load(store, [rels])
    assert [str(p) for p in caught.value.problems] == [
        f"{rels}:3: from: CONSUMED_BY names MaterialLot 'L404', which is neither in the input nor in the graph",
        f"{rels}:4: to: RAN_ON names Machine 'M404', which is neither in the input nor in the graph",
        f"{rels}:5: from: SHIPPED_IN names Batch 'B404', which is neither in the input nor in the graph",
        f"{rels}:5: to: SHIPPED_IN names Shipment 'SH404', which is neither in the input nor in the graph",
    ]
    assert snapshot(store) == before


def test_a_cycle_in_the_input_is_refused_and_named(store: Store, tmp_path: Path) -> None:
    cyclic = write_jsonl(
        tmp_path / "cycle.jsonl",
        [
            {**BATCH, "uid": "B1"},
            {**BATCH, "uid": "B2"},
            {**BATCH, "uid": "B3"},
            {"kind": "CONSUMED_BY", "from": "B1", "from_label": "Batch", "to": "B2"},
            {"kind": "CONSUMED_BY", "from": "B2", "from_label": "Batch", "to": "B3"},
            {"kind": "CONSUMED_BY", "from": "B3", "from_label": "Batch", "to": "B1"},
        ],
    )
    with pytest.raises(CycleDetected, match=r"material flow cycle B\d -> B\d -> B\d -> B\d") as caught:
        load(store, [cyclic])
    assert len(caught.value.cycle) == 4 and caught.value.cycle[0] == caught.value.cycle[-1]
    assert set(caught.value.cycle) == {"B1", "B2", "B3"}
    assert len(caught.value.problems) == 3
    assert snapshot(store) == (0, 0)


def test_a_cycle_closed_through_stored_edges_is_refused(store: Store, tmp_path: Path) -> None:
    chain = write_jsonl(
        tmp_path / "chain.jsonl",
        [
            {**BATCH, "uid": "B1"},
            {**BATCH, "uid": "B2"},
            {**BATCH, "uid": "B3"},
            {"kind": "CONSUMED_BY", "from": "B1", "from_label": "Batch", "to": "B2"},
            {"kind": "CONSUMED_BY", "from": "B2", "from_label": "Batch", "to": "B3"},
        ],
    )
    load(store, [chain])
    before = snapshot(store)
    closing = write_jsonl(
        tmp_path / "closing.jsonl",
        [{"kind": "CONSUMED_BY", "from": "B3", "from_label": "Batch", "to": "B1", "quantity": 1}],
    )
    with pytest.raises(CycleDetected) as caught:
        load(store, [closing])
    assert set(caught.value.cycle) == {"B1", "B2", "B3"}
    assert [str(p) for p in caught.value.problems] == [
        f"{closing}:1: CONSUMED_BY 'B3' -> 'B1' closes the cycle"
    ]
    assert snapshot(store) == before
    # Self-consumption is the shortest cycle.
    with pytest.raises(CycleDetected, match="B2 -> B2"):
        load(
            store,
            [
                write_jsonl(
                    tmp_path / "self.jsonl",
                    [{"kind": "CONSUMED_BY", "from": "B2", "from_label": "Batch", "to": "B2"}],
                )
            ],
        )


def test_loading_twice_changes_nothing(store: Store) -> None:
    first = load(store, [demo_dir()])
    counts = snapshot(store)
    scope = forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471"))
    second = load(store, [demo_dir()])
    assert snapshot(store) == counts == (first.nodes, first.relationships)
    again = forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471"))
    assert (again.to_dict() | {"elapsed_ms": 0}) == (scope.to_dict() | {"elapsed_ms": 0})
    assert second.digest == first.digest


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("bulk", [False, True], ids=["upsert", "bulk"])
def test_an_interrupted_load_is_recorded_and_completed_by_loading_again(
    store: Store, falkor_settings, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.settings, "load_bulk", bulk)
    progress = None
    if bulk:
        if store.engine.name != "falkordb":
            pytest.skip("the bulk path is the embedded engine's")
        # Small commands; once the LoadRun and some demo nodes are in, the next never arrives.
        # (The LoadRun names the input files, so how many commands it fills depends on the path.)
        monkeypatch.setattr(falkor_bulk, "COMMAND_BYTES", 400)
        sent = falkor_bulk.BulkWriter.flush

        def flush_once(self: falkor_bulk.BulkWriter) -> None:
            if self.sent_nodes > 1:
                raise Interrupted
            sent(self)

        monkeypatch.setattr(falkor_bulk.BulkWriter, "flush", flush_once)
    else:
        # Statements of a few rows, so that the load is cut between two of them (a load that fits in
        # one statement's rows is sent in one round trip).
        monkeypatch.setattr(store.settings, "load_batch_rows", 10)

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage == "write" and done > 0:
                raise Interrupted

    with pytest.raises(Interrupted):
        load(store, [demo_dir()], **({"progress": progress} if progress else {}))
    monkeypatch.undo()
    runs = store.run("load_runs_interrupted")
    assert len(runs) == 1 and runs[0]["records"] == 105
    assert 0 < node_count(store) < 42
    if store.engine.name == "falkordb":
        report = collect(falkor_settings)
        assert [r["uid"] for r in report["interrupted_loads"]] == [runs[0]["uid"]]
    second = load(store, [demo_dir()])
    assert second.method == "upsert"
    assert store.run("load_runs_interrupted") == []
    assert snapshot(store) == (42, 63)


def canonical(store: Store) -> tuple[list, list]:
    """Every node with its properties and every relationship with its properties, sorted."""
    nodes, edges = [], []
    for supplier in ("SUP-MILKCO", "SUP-SUGAR", "SUP-CULTURE", "SUP-PACK"):
        scope = forward(store, NodeRef(Label.SUPPLIER, supplier), properties=ALL_LABELS)
        nodes += [(n.label, n.uid, sorted(n.properties.items())) for n in scope.nodes]
        edges += [json.dumps(e.to_dict(), sort_keys=True) for e in scope.edges]
    for complaint in ("CP-01", "CP-02"):
        scope = backward(store, NodeRef(Label.COMPLAINT, complaint), properties=ALL_LABELS)
        nodes += [(n.label, n.uid, sorted(n.properties.items())) for n in scope.nodes]
        edges += [json.dumps(e.to_dict(), sort_keys=True) for e in scope.edges]
    return sorted(set(map(repr, nodes))), sorted(set(edges))


def test_bulk_and_upsert_build_the_same_graph(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    if store.engine.name != "falkordb":
        pytest.skip("the bulk path is the embedded engine's")
    assert load(store, [demo_dir()]).method == "bulk"
    assert store.run("load_runs_interrupted") == []
    bulk = canonical(store), snapshot(store)
    store.clear()
    monkeypatch.setattr(store.settings, "load_bulk", False)
    assert load(store, [demo_dir()]).method == "upsert"
    assert (canonical(store), snapshot(store)) == bulk
    assert len(bulk[0][0]) == 42 and len(bulk[0][1]) > 40


def test_a_bulk_load_split_over_many_commands_builds_the_same_graph(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands of a few hundred bytes: every label and type is split across commands mid-token."""
    if store.engine.name != "falkordb":
        pytest.skip("the bulk path is the embedded engine's")
    monkeypatch.setattr(store.settings, "load_bulk", False)
    load(store, [demo_dir()])
    upserted = canonical(store), snapshot(store)
    store.clear()
    monkeypatch.setattr(store.settings, "load_bulk", True)
    monkeypatch.setattr(falkor_bulk, "COMMAND_BYTES", 300)
    monkeypatch.setattr(falkor_bulk, "BLOCK", 2)
    sent: list[int] = []
    flush = falkor_bulk.BulkWriter.flush

    def counted(self: falkor_bulk.BulkWriter) -> None:
        sent.append(self.nodes + self.edges)
        flush(self)

    monkeypatch.setattr(falkor_bulk.BulkWriter, "flush", counted)
    assert load(store, [demo_dir()]).method == "bulk"
    assert len(sent) > 10
    assert (canonical(store), snapshot(store)) == upserted


def test_the_bulk_packing_keeps_every_value_as_given(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns packed with one struct call (every value a float, or every one an int) next to
    columns with gaps, text that repeats, and text outside ASCII: bulk and upsert store the same."""
    if store.engine.name != "falkordb":
        pytest.skip("the bulk path is the embedded engine's")
    lots = [
        {"kind": "MaterialLot", "uid": "L1", "material": "crème — ü 😀", "quantity": 1.5, "unit": "kg",
         "received_at": "1960-01-01T00:00:00Z", "expires_at": 4102444800000},
        {"kind": "MaterialLot", "uid": "L2", "material": "salt", "quantity": 0, "unit": "kg",
         "received_at": 0, "expires_at": 4102444800001},
        {"kind": "MaterialLot", "uid": "L3", "material": "salt", "received_at": 5, "expires_at": 7},
    ]  # fmt: skip
    rels = [
        {
            "kind": "CONSUMED_BY",
            "from_label": "MaterialLot",
            "from": "L1",
            "to": "B1",
            "quantity": 2.25,
            "unit": "kg",
        },
        {
            "kind": "CONSUMED_BY",
            "from_label": "MaterialLot",
            "from": "L2",
            "to": "B1",
            "quantity": 3,
            "unit": "g",
        },
        {"kind": "CONSUMED_BY", "from_label": "MaterialLot", "from": "L3", "to": "B1"},
    ]
    path = tmp_path / "values.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [*lots, BATCH, *rels]))
    refs = [NodeRef(Label.MATERIAL_LOT, r["uid"]) for r in lots]
    stored = {}
    for bulk in (True, False):
        store.clear()
        monkeypatch.setattr(store.settings, "load_bulk", bulk)
        assert load(store, [path]).method == ("bulk" if bulk else "upsert")
        scope = backward(store, NodeRef(Label.BATCH, "B1"))
        edges = sorted(json.dumps(e.to_dict(), sort_keys=True) for e in scope.edges)
        stored[bulk] = fetch_properties(store, refs), edges
    assert stored[True] == stored[False]
    props = stored[True][0]
    assert props[refs[0]]["material"] == "crème — ü 😀" and props[refs[0]]["received_at"] == -315619200000
    assert props[refs[1]]["quantity"] == 0 and "quantity" not in props[refs[2]]


def test_the_bulk_path_keeps_the_uid_constraints_and_lookup_indexes(store: Store) -> None:
    if store.engine.name != "falkordb":
        pytest.skip("the bulk path is the embedded engine's")
    assert load(store, [demo_dir()]).method == "bulk"
    constraints = store.engine._graph.query("CALL db.constraints()").result_set  # type: ignore[attr-defined]
    assert {(row[1], row[4]) for row in constraints} == {
        (label, "OPERATIONAL") for label in CONSTRAINED_LABELS
    }
    indexes = store.engine._graph.query("CALL db.indexes()").result_set  # type: ignore[attr-defined]
    indexed = {(row[0], prop) for row in indexes for prop in row[1]}
    assert set(LOOKUP_INDEXES) <= indexed


def test_problem_collection_stops_at_the_cap_whatever_the_fault(tmp_path: Path) -> None:
    """Duplicates with other properties are the one fault found after validation; they count too."""
    from lineage.loading.validate import MAX_PROBLEMS, validate

    records = [LOT] + [{**LOT, "material": f"m{i}"} for i in range(MAX_PROBLEMS + 500)]
    with pytest.raises(ValidationFailed) as caught:
        validate([write_jsonl(tmp_path / "dups.jsonl", records)])
    assert len(caught.value.problems) == MAX_PROBLEMS
    assert str(caught.value.problems[-1]).startswith(f"{tmp_path / 'dups.jsonl'}:{MAX_PROBLEMS + 1}: uid:")


@given(st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_999))
def test_a_stored_time_reads_back_as_the_same_instant(epoch_ms: int) -> None:
    """Times are stored as epoch ms and shown as ISO-8601: showing must never move them (through
    float seconds, 2618-04-07T06:44:30.474 showed as .473999)."""
    shown = iso(epoch_ms)
    assert shown is not None and to_epoch_ms(shown) == epoch_ms
    assert shown.endswith("Z") and len(shown) == (24 if epoch_ms % 1000 else 20)


def test_times_are_shown_to_the_millisecond_when_there_is_one() -> None:
    assert iso(20457211470474) == "2618-04-07T06:44:30.474Z"
    assert iso(1767225600000) == "2026-01-01T00:00:00Z"
    assert iso(-1) == "1969-12-31T23:59:59.999Z"
