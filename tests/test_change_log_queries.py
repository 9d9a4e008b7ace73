"""The change log's queries on a real engine: every statement that changes the lineage numbers its
change and names what it touched, in the same statement, and an index catching up can read the log
and the touched records again by key.

Queries run through ``store.engine.run`` (one statement each, nothing the store adds), except where
a load goes through :func:`lineage.loading.load.load`, whose entries are read back as a whole.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from test_loading import write_jsonl

from lineage.errors import LineageError
from lineage.graph.live import nodes_query_name, pairs_query_name
from lineage.graph.model import LABEL_SLUG, REL_ENDPOINTS, Label, RelType, node_query_name, rel_query_name
from lineage.graph.queries import Query
from lineage.graph.store import Store
from lineage.graph.topology import LABELS, properties_query_name, topology_query_name
from lineage.loading.load import load

LOG_KEYS = ("node_labels", "node_uids", "rel_types", "rel_src_labels", "rel_src", "rel_dst_labels", "rel_dst")
VARIANTS = [(rel, src, dst) for rel, pairs in REL_ENDPOINTS.items() for src, dst in pairs]


def run(store: Store, name: str, **params: Any) -> list[dict[str, Any]]:
    return store.engine.run(store.queries[name], params)


def probe(store: Store, text: str, **params: Any) -> list[dict[str, Any]]:
    """A read the query book has no file for, to look at what an entry stores."""
    query = Query(name="probe", path=Path("probe"), text=text, params=tuple(params), returns=(), mode="read",
                  why="a test's look at the log")  # fmt: skip
    return store.engine.run(query, params)


def seq_now(store: Store) -> int:
    rows = run(store, "topology_revision")
    return (rows[0]["seq"] or 0) if rows else 0


def token_now(store: Store) -> str | None:
    rows = run(store, "topology_revision")
    return rows[0]["token"] if rows else None


def entries(store: Store, after: int) -> list[dict[str, Any]]:
    return run(store, "change_log_after", after=after, limit=10_000)


def nodes_of(entry: dict[str, Any]) -> list[tuple[str, str]]:
    return list(zip(entry["node_labels"] or (), entry["node_uids"] or (), strict=True))


def rels_of(entry: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return list(zip(*(entry[key] or () for key in LOG_KEYS[2:]), strict=True))


def stored_keys(store: Store, seq: int) -> set[str]:
    """The properties the entry numbered ``seq`` stores."""
    [row] = probe(store, "MATCH (c:LineageChange {seq: $seq}) RETURN properties(c) AS props", seq=seq)
    return set(row["props"])


def uid(label: Label) -> str:
    return f"{LABEL_SLUG[label]}-1"


def node_rows(label: Label, *uids: str) -> list[dict[str, Any]]:
    return [{"uid": u, "props": {"name": f"{label.value} {u}"}} for u in uids]


def rel_row(src: str, dst: str, **props: Any) -> dict[str, Any]:
    return {"src": src, "dst": dst, "props": props}


def one_of_each(store: Store) -> None:
    """A node of every kind and a relationship of every variant, with the properties the index reads."""
    for label in Label:
        run(store, node_query_name(label), rows=node_rows(label, uid(label)))
    values = {"quantity": 2.5, "unit": "kg", "start": 1_000, "end": 2_000}
    for rel, src, dst in VARIANTS:
        columns = store.queries[topology_query_name(rel, src, dst)].returns[2:]
        props = {column: values[column] for column in columns}
        rows = run(store, rel_query_name(rel, src, dst), rows=[rel_row(uid(src), uid(dst), **props)])
        assert rows[0]["written"] == 1


# --- reading again by key ------------------------------------------------------------------------


def test_relationships_and_nodes_read_again_by_key_as_the_full_reads_have_them(store: Store) -> None:
    one_of_each(store)
    for rel, src, dst in VARIANTS:
        full = run(store, topology_query_name(rel, src, dst))
        assert len(full) == 1
        pairs = [
            {"src": uid(src), "dst": uid(dst)},
            {"src": uid(src), "dst": "gone"},
            {"src": "gone", "dst": uid(dst)},
        ]
        assert run(store, pairs_query_name(rel, src, dst), pairs=pairs) == full
        assert run(store, pairs_query_name(rel, src, dst), pairs=[]) == []
    for label in LABELS:
        full = run(store, properties_query_name(label))
        assert len(full) == 1 and full[0]["props"]["name"] == f"{label.value} {uid(label)}"
        assert run(store, nodes_query_name(label), uids=[uid(label), "gone"]) == full
        assert run(store, nodes_query_name(label), uids=["gone"]) == []


def test_a_pair_read_again_is_the_relationship_in_its_direction_only(store: Store) -> None:
    run(store, node_query_name(Label.BATCH), rows=node_rows(Label.BATCH, "B-1", "B-2"))
    run(
        store,
        rel_query_name(RelType.CONSUMED_BY, Label.BATCH, Label.BATCH),
        rows=[rel_row("B-1", "B-2", quantity=3)],
    )
    name = pairs_query_name(RelType.CONSUMED_BY, Label.BATCH, Label.BATCH)
    assert run(store, name, pairs=[{"src": "B-2", "dst": "B-1"}]) == []
    assert run(store, name, pairs=[{"src": "B-1", "dst": "B-2"}]) == [
        {"src": "B-1", "dst": "B-2", "quantity": 3, "unit": None}
    ]


# --- what a write logs ---------------------------------------------------------------------------


def test_a_node_load_returns_its_number_and_logs_the_nodes_it_wrote(store: Store) -> None:
    before = seq_now(store)
    started = int(time.time() * 1000)
    rows = run(store, "load_node_batch", rows=node_rows(Label.BATCH, "B-1", "B-2"))
    assert rows == [{"written": 2, "seq": before + 1, "token": token_now(store)}]
    [entry] = entries(store, before)
    assert entry["seq"] == before + 1 == seq_now(store)
    assert sorted(nodes_of(entry)) == [("Batch", "B-1"), ("Batch", "B-2")]
    assert rels_of(entry) == [] and entry["rel_types"] is None
    assert stored_keys(store, before + 1) == {"seq", "at", "node_labels", "node_uids"}
    [at] = probe(store, "MATCH (c:LineageChange {seq: $seq}) RETURN c.at AS at", seq=before + 1)
    assert started - 5_000 <= at["at"] <= int(time.time() * 1000) + 5_000  # the engine's clock, epoch ms


def test_a_relationship_load_logs_only_the_rows_whose_ends_matched(store: Store) -> None:
    run(store, "load_node_lot", rows=node_rows(Label.MATERIAL_LOT, "L-1"))
    run(store, "load_node_batch", rows=node_rows(Label.BATCH, "B-1"))
    before = seq_now(store)
    rows = [rel_row("L-1", "B-1", quantity=200, unit="kg"), rel_row("L-404", "B-1"), rel_row("L-1", "B-404")]
    assert run(store, "load_rel_consumed_by__lot__batch", rows=rows) == [
        {"written": 1, "seq": before + 1, "token": token_now(store)}
    ]
    [entry] = entries(store, before)
    assert rels_of(entry) == [("CONSUMED_BY", "MaterialLot", "L-1", "Batch", "B-1")]
    assert entry["node_labels"] is None and entry["node_uids"] is None
    assert stored_keys(store, before + 1) == {"seq", "at", *LOG_KEYS[2:]}


def test_every_logged_write_that_touches_nothing_still_takes_the_next_number(store: Store) -> None:
    """One row with the original columns, an entry with no key lists, and no gap in the numbers."""
    empty = {"rows": [], "ids": [], "shipments": [], "uid": "nothing", "trace_keys": ["x"]}
    logged = [q for q in store.queries if q.changes_lineage and q.name != "admin_delete_some"]
    before = seq_now(store)
    for number, query in enumerate(logged, start=before + 1):
        rows = store.engine.run(query, {name: empty[name] for name in query.params})
        assert len(rows) == 1 and set(rows[0]) == set(query.returns), query.name
        assert rows[0]["seq"] == number, query.name
        assert rows[0]["token"] == token_now(store), query.name
        original = [column for column in query.returns if column not in ("seq", "token")]
        assert all(rows[0][column] in (0, None) for column in original), (query.name, rows)
        assert stored_keys(store, number) == {"seq", "at"}, query.name
    logged_entries = entries(store, before)
    assert [e["seq"] for e in logged_entries] == list(range(before + 1, before + 1 + len(logged)))
    assert all(e[key] is None for e in logged_entries for key in LOG_KEYS)
    assert seq_now(store) == before + len(logged)


def test_numbers_run_on_across_statements_and_a_revision_bump_keeps_them(store: Store) -> None:
    before = seq_now(store)
    for n in range(5):
        rows = run(store, "load_node_machine", rows=node_rows(Label.MACHINE, f"M-{n}"))
        assert rows[0]["seq"] == before + 1 + n
    assert [nodes_of(e) for e in entries(store, before)] == [[("Machine", f"M-{n}")] for n in range(5)]
    assert run(store, "revision_bump", token="fresh") == [{"token": "fresh", "seq": before + 5}]
    assert run(store, "topology_revision") == [{"token": "fresh", "seq": before + 5}]
    assert run(store, "load_node_machine", rows=node_rows(Label.MACHINE, "M-9"))[0]["seq"] == before + 6
    probe_write = Query(name="probe", path=Path("probe"), text="MATCH (r:Revision {uid: 'lineage'}) SET r.seq = null",
                        params=(), returns=(), mode="write", why="a revision from before the log",
                        changes="records")  # fmt: skip
    store.engine.run(probe_write, {})
    assert run(store, "topology_revision")[0]["seq"] is None
    assert run(store, "revision_bump", token="older") == [{"token": "older", "seq": 0}]


def test_a_load_logs_every_node_and_relationship_it_wrote(store: Store, tmp_path: Path) -> None:
    # A graph with something in it, so that the load upserts instead of taking the bulk path.
    run(store, "load_node_supplier", rows=node_rows(Label.SUPPLIER, "SUP-1"))
    before = seq_now(store)
    path = write_jsonl(
        tmp_path / "more.jsonl",
        [
            {"kind": "MaterialLot", "uid": "L-1", "material": "milk powder", "quantity": 100, "unit": "kg"},
            {"kind": "Batch", "uid": "B-1", "product": "yogurt"},
            {"kind": "Batch", "uid": "B-2", "product": "yogurt cups"},
            {"kind": "SUPPLIED", "from": "SUP-1", "to": "L-1"},
            {
                "kind": "CONSUMED_BY",
                "from": "L-1",
                "from_label": "MaterialLot",
                "to": "B-1",
                "quantity": 50,
                "unit": "kg",
            },
            {
                "kind": "CONSUMED_BY",
                "from": "B-1",
                "from_label": "Batch",
                "to": "B-2",
                "quantity": 50,
                "unit": "kg",
            },
        ],
    )
    assert load(store, [path]).method == "upsert"
    logged = entries(store, before)
    assert logged, "the load wrote no log entry"
    assert [e["seq"] for e in logged] == list(range(before + 1, before + 1 + len(logged)))
    assert logged[-1]["seq"] == seq_now(store)
    assert {key for e in logged for key in nodes_of(e)} == {
        ("MaterialLot", "L-1"),
        ("Batch", "B-1"),
        ("Batch", "B-2"),
    }
    assert {key for e in logged for key in rels_of(e)} == {
        ("SUPPLIED", "Supplier", "SUP-1", "MaterialLot", "L-1"),
        ("CONSUMED_BY", "MaterialLot", "L-1", "Batch", "B-1"),
        ("CONSUMED_BY", "Batch", "B-1", "Batch", "B-2"),
    }


def test_a_complaints_trace_keys_are_logged_as_a_change_to_the_complaint(store: Store) -> None:
    run(store, "load_node_complaint", rows=node_rows(Label.COMPLAINT, "CP-1"))
    before = seq_now(store)
    assert run(store, "signal_complaint_keys", uid="CP-1", trace_keys=["batch:B-1"]) == [
        {"uid": "CP-1", "seq": before + 1, "token": token_now(store)}
    ]
    assert run(store, "signal_complaint_keys", uid="CP-404", trace_keys=["batch:B-1"]) == [
        {"uid": None, "seq": before + 2, "token": token_now(store)}
    ]
    first, second = entries(store, before)
    assert nodes_of(first) == [("Complaint", "CP-1")] and rels_of(first) == []
    assert nodes_of(second) == [] and stored_keys(store, before + 2) == {"seq", "at"}


# --- retractions ---------------------------------------------------------------------------------


def retraction_graph(store: Store) -> None:
    """EV-1 alone says B-1 was made from L-1, ran on M-1 and shipped in SH-1 (dispatched by C-0,
    delivered to C-1); EV-1 and EV-2 both say B-1 was handled by O-1; EV-9 completed the delivery
    of SH-2 (B-2's shipment) that EV-8 made."""
    for label, uids in [
        (Label.MATERIAL_LOT, ["L-1"]),
        (Label.BATCH, ["B-1", "B-2"]),
        (Label.MACHINE, ["M-1"]),
        (Label.OPERATOR, ["O-1"]),
        (Label.SHIPMENT, ["SH-1", "SH-2"]),
        (Label.CUSTOMER, ["C-0", "C-1"]),
    ]:
        run(store, node_query_name(label), rows=node_rows(label, *uids))
    L = Label
    for (rel, src, dst), rows in {
        (RelType.CONSUMED_BY, L.MATERIAL_LOT, L.BATCH): [rel_row("L-1", "B-1", evidence="EV-1")],
        (RelType.RAN_ON, L.BATCH, L.MACHINE): [rel_row("B-1", "M-1", evidence="EV-1")],
        (RelType.HANDLED_BY, L.BATCH, L.OPERATOR): [rel_row("B-1", "O-1", evidence="EV-1 EV-2")],
        (RelType.SHIPPED_IN, L.BATCH, L.SHIPMENT): [
            rel_row("B-1", "SH-1", evidence="EV-1"),
            rel_row("B-2", "SH-2", evidence="EV-8"),
        ],
        (RelType.DISPATCHED, L.CUSTOMER, L.SHIPMENT): [rel_row("C-0", "SH-1", evidence="EV-1")],
        (RelType.DELIVERED_TO, L.SHIPMENT, L.CUSTOMER): [
            rel_row("SH-1", "C-1", evidence="EV-1"),
            rel_row("SH-2", "C-1", evidence="EV-8 EV-9"),
        ],
    }.items():
        assert run(store, rel_query_name(rel, src, dst), rows=rows)[0]["written"] == len(rows)
    events = [{"uid": "EV-1", "props": {"objects": "B-1"}}, {"uid": "EV-9", "props": {"objects": "B-2"}}]
    run(store, "epcis_event_upsert", rows=events)


def test_a_retraction_logs_the_relationships_it_deletes_in_their_direction(store: Store) -> None:
    retraction_graph(store)
    before = seq_now(store)
    assert run(store, "epcis_retract_links", ids=["EV-1"]) == [
        {"removed": 3, "seq": before + 1, "token": token_now(store)}
    ]
    [entry] = entries(store, before)
    assert sorted(rels_of(entry)) == [
        ("CONSUMED_BY", "MaterialLot", "L-1", "Batch", "B-1"),  # into B-1: B-1 is its end
        ("RAN_ON", "Batch", "B-1", "Machine", "M-1"),
        ("SHIPPED_IN", "Batch", "B-1", "Shipment", "SH-1"),
    ]
    assert nodes_of(entry) == [] and stored_keys(store, before + 1) == {"seq", "at", *LOG_KEYS[2:]}

    assert run(store, "epcis_retract_shipment", rows=[{"id": "EV-1", "shipment": "SH-1"}]) == [
        {"removed": 2, "seq": before + 2, "token": token_now(store)}
    ]
    assert sorted(rels_of(entries(store, before + 1)[0])) == [
        ("DELIVERED_TO", "Shipment", "SH-1", "Customer", "C-1"),
        ("DISPATCHED", "Customer", "C-0", "Shipment", "SH-1"),
    ]

    assert run(store, "epcis_retract_orphans", shipments=["SH-1", "SH-2", "SH-404"]) == [
        {"removed": 1, "seq": before + 3, "token": token_now(store)}
    ]
    [entry] = entries(store, before + 2)
    assert nodes_of(entry) == [("Shipment", "SH-1")] and rels_of(entry) == []
    assert run(store, "topology_nodes_shipment", uids=["SH-1", "SH-2"]) == [
        {"uid": "SH-2", "props": {"uid": "SH-2", "name": "Shipment SH-2"}}
    ]


def test_a_retraction_logs_the_relationships_whose_evidence_it_trims(store: Store) -> None:
    retraction_graph(store)
    before = seq_now(store)
    assert run(store, "epcis_retract_evidence", ids=["EV-1"]) == [
        {"trimmed": 1, "seq": before + 1, "token": token_now(store)}
    ]
    [entry] = entries(store, before)
    assert rels_of(entry) == [("HANDLED_BY", "Batch", "B-1", "Operator", "O-1")]
    assert run(store, "topology_pairs_handled_by__batch__operator", pairs=[{"src": "B-1", "dst": "O-1"}]) == [
        {"src": "B-1", "dst": "O-1", "start": None, "end": None}  # the relationship stays
    ]
    assert run(store, "epcis_retract_delivery", ids=["EV-9"]) == [
        {"trimmed": 1, "seq": before + 2, "token": token_now(store)}
    ]
    [entry] = entries(store, before + 1)
    assert rels_of(entry) == [("DELIVERED_TO", "Shipment", "SH-2", "Customer", "C-1")]
    [row] = probe(store, "MATCH (:Shipment {uid: 'SH-2'})-[r:DELIVERED_TO]->() RETURN r.evidence AS evidence")
    assert row == {"evidence": "EV-8"}


# --- reading and trimming the log ----------------------------------------------------------------


def test_the_log_is_read_in_order_after_a_number_and_trimmed_from_its_start(store: Store) -> None:
    assert run(store, "change_log_first") in ([], [{"seq": None}])  # a reset deleted every entry
    before = seq_now(store)
    for n in range(6):
        run(store, "load_node_operator", rows=node_rows(Label.OPERATOR, f"O-{n}"))
    page = run(store, "change_log_after", after=before, limit=4)
    assert [e["seq"] for e in page] == [before + 1, before + 2, before + 3, before + 4]
    assert all(set(e) == {"seq", *LOG_KEYS} for e in page)
    assert [nodes_of(e) for e in page] == [[("Operator", f"O-{n}")] for n in range(4)]
    assert [e["seq"] for e in run(store, "change_log_after", after=before + 4, limit=4)] == [
        before + 5,
        before + 6,
    ]
    assert run(store, "change_log_after", after=before + 6, limit=4) == []
    assert run(store, "change_log_first") == [{"seq": before + 1}]

    assert run(store, "change_log_trim", before=before + 4, limit=2) == [{"trimmed": 2}]
    assert run(store, "change_log_trim", before=before + 4, limit=2) == [{"trimmed": 1}]
    assert run(store, "change_log_trim", before=before + 4, limit=2) == [{"trimmed": 0}]
    assert run(store, "change_log_first") == [{"seq": before + 4}]
    assert [e["seq"] for e in entries(store, 0)] == [before + 4, before + 5, before + 6]
    assert run(store, "change_log_trim", before=before + 100, limit=10) == [{"trimmed": 3}]
    assert run(store, "change_log_first") in ([], [{"seq": None}])
    assert seq_now(store) == before + 6  # trimming the log does not move the number


def test_the_log_is_no_data_and_a_reset_deletes_it(store: Store) -> None:
    run(store, "load_node_batch", rows=[])
    run(store, "load_node_batch", rows=[])
    assert len(entries(store, 0)) == 2
    assert run(store, "admin_graph_empty") == [{"empty": True}]
    assert "LineageChange" not in {row["label"] for row in run(store, "admin_label_counts")}
    before = seq_now(store)
    run(store, "load_node_batch", rows=node_rows(Label.BATCH, "B-1"))
    assert run(store, "admin_graph_empty") == [{"empty": False}]
    assert {row["label"]: row["nodes"] for row in run(store, "admin_label_counts")}["Batch"] == 1
    while run(store, "admin_delete_some", limit=2)[0]["deleted"]:
        pass
    assert entries(store, 0) == [] and run(store, "admin_graph_empty") == [{"empty": True}]
    assert seq_now(store) == before + 1  # the revision stays, and the numbers go on from it
    assert run(store, "load_node_batch", rows=node_rows(Label.BATCH, "B-2"))[0]["seq"] == before + 2


# --- several statements in one round trip ---------------------------------------------------------


def test_statements_sent_together_run_in_order_and_a_failure_leaves_every_index_to_rebuild(
    store: Store,
) -> None:
    """Store.run_many: the rows of each in order; the relationship finds the nodes sent before it.
    A statement that fails does not stop the ones after it (they are sent together), the failure
    is raised, and the revision's token moves, so no index takes the writes as applied."""
    batch, consumed = (
        node_query_name(Label.BATCH),
        rel_query_name(RelType.CONSUMED_BY, Label.BATCH, Label.BATCH),
    )
    before = seq_now(store)
    rows = store.run_many(
        [
            (batch, {"rows": node_rows(Label.BATCH, "B-1", "B-2")}),
            (consumed, {"rows": [rel_row("B-1", "B-2")]}),
        ]
    )
    assert [r[0]["written"] for r in rows] == [2, 1] and [r[0]["seq"] for r in rows] == [
        before + 1,
        before + 2,
    ]
    token = token_now(store)
    bad = [{"uid": "B-3", "props": "not a map"}]
    with pytest.raises(LineageError, match="load_node_batch"):
        store.run_many(
            [
                (batch, {"rows": bad}),
                (batch, {"rows": node_rows(Label.BATCH, "B-4")}),
                ("admin_graph_empty", {}),
            ]
        )
    assert token_now(store) != token
    assert run(store, nodes_query_name(Label.BATCH), uids=["B-3", "B-4"]) == [
        {"uid": "B-4", "props": {"uid": "B-4", "name": "Batch B-4"}}
    ]
