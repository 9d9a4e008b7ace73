"""The in-memory topology index: the same scopes as the Cypher walk, and never a stale answer."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from strategies import HOUR, lineage_graphs
from test_reference import load_records

from lineage import LineageError, NotFound, ScopeTooLarge
from lineage.graph import walk
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import (
    ALL_LABELS,
    BACKWARD_SOURCES,
    FORWARD_SOURCES,
    Scope,
    Window,
    backward,
    forward,
)
from lineage.graph.store import Store
from lineage.graph.topology import LABEL_CODE, Topology
from lineage.interchange.paging import ScopeRequest, export
from lineage.loading.load import load
from lineage.recall import holds, recalls
from lineage.recall.cases import RecallRequest
from lineage.samples.demo import demo_dir

BAD_LOT = NodeRef(Label.MATERIAL_LOT, "L-4471")


def whole(scope: Scope) -> dict[str, Any]:
    """Everything a scope says, in an order that does not depend on how it was walked."""
    data = scope.to_dict()
    data.pop("elapsed_ms")
    data["nodes"] = sorted(data["nodes"], key=lambda n: (n["label"], n["uid"]))
    data["edges"] = sorted(data["edges"], key=json.dumps)
    return data


def exported(store: Store, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """Every export of the scope, whole and filtered, as rows (relationships in a fixed order)."""
    requests = {
        "all": ScopeRequest(scope.direction, scope.source, scope.window),
        "some": ScopeRequest(
            scope.direction, scope.source, scope.window, frozenset({Label.BATCH, Label.SALE}), max_depth=3
        ),
    }
    rows = {}
    for name, request in requests.items():
        for what in ("nodes", "edges"):
            text = b"".join(export(store, scope, request, "jsonl", what)).decode()
            found = [json.loads(line) for line in text.splitlines()]
            rows[f"{name} {what}"] = found if what == "nodes" else sorted(found, key=json.dumps)
    return rows


def answered(store: Store, scope: Scope) -> dict[str, Any]:
    """What a scope answers without its node list (from arrays, after a walk over the index),
    asked before anything else, then everything it holds; its exports must be the same streamed
    from the arrays and from the objects."""
    answers = {
        "lots": scope.uids(Label.MATERIAL_LOT),  # first: one kind named alone, when the walk named none
        "counts": scope.counts(),
        "by_label": scope.uids_by_label(),
        "exports": exported(store, scope),
    }
    answers["absent"] = scope.node(Label.CUSTOMER, "no such customer")
    everything = whole(scope)
    assert exported(store, scope) == answers["exports"]
    # Its objects made now: the same answers again.
    assert scope.counts() == answers["counts"] and scope.uids_by_label() == answers["by_label"]
    assert scope.uids(Label.MATERIAL_LOT) == answers["lots"]
    return {**answers, **everything}


def both_ways(store: Store, call: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    store.topology.drop()
    by_cypher = answered(store, call())
    store.topology.build()
    try:
        by_index = answered(store, call())
    finally:
        store.topology.drop()
    return by_cypher, by_index


@given(records=lineage_graphs(), data=st.data())
def test_the_index_walk_gives_exactly_the_cypher_walks_scope(
    store: Store, records: list[dict[str, Any]], data: st.DataObject
) -> None:
    load_records(store, records)
    kinds = ("MaterialLot", "Batch", "Supplier", "Complaint", "Sale", "Customer", "Shipment")
    sources = [r for r in records if r["kind"] in kinds]
    chosen = data.draw(
        st.lists(st.sampled_from(sources), min_size=1, max_size=5, unique_by=lambda r: r["uid"])
    )
    calls = []
    for r in chosen:
        ref = NodeRef(Label(r["kind"]), r["uid"])
        if r["kind"] in ("MaterialLot", "Batch", "Supplier"):
            calls.append(lambda ref=ref: forward(store, ref))
        if r["kind"] not in ("Supplier",):  # with every kind's properties: sales' come from the engine
            calls.append(lambda ref=ref: backward(store, ref, properties=ALL_LABELS))
    lo = data.draw(st.integers(0, 12)) * HOUR
    window = Window(start=lo, end=lo + data.draw(st.integers(1, 6)) * HOUR)
    for label, uid in ((Label.MACHINE, "M0"), (Label.OPERATOR, "O1")):
        calls.append(lambda label=label, uid=uid: forward(store, NodeRef(label, uid), window))
        calls.append(lambda label=label, uid=uid: forward(store, NodeRef(label, uid)))
    # A walk returns from compiled code every WORK relationships (to check its time limit) and goes
    # on phase by phase: drawn small, so that the graphs here take that road too.
    work, drawn = walk.WORK, data.draw(st.sampled_from([1, 2, 5, walk.WORK]))
    try:
        walk.WORK = drawn
        for call in calls:
            by_cypher, by_index = both_ways(store, call)
            assert by_index == by_cypher
    finally:
        walk.WORK = work


def test_the_index_takes_a_write_in_place_and_is_rebuilt_only_when_the_token_moves(
    store: Store, tmp_path: Path
) -> None:
    load(store, [demo_dir()])
    built = store.topology.build()
    assert store.topology.current() is not None
    before = forward(store, BAD_LOT).uids(Label.CUSTOMER)

    # A new retailer receives affected B-3001: the next scope must include it, index or not.
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {"kind": "Customer", "uid": "C-RET-W9", "name": "West shop", "region": "West"},
                {"kind": "Shipment", "uid": "SH-99", "shipped_at": "2026-03-02T08:00:00Z"},
                {"kind": "SHIPPED_IN", "from": "B-3001", "to": "SH-99", "quantity": 5, "unit": "cups"},
                {"kind": "DELIVERED_TO", "from": "SH-99", "to": "C-RET-W9"},
            )
        )
    )
    load(store, [extra])
    assert store.topology.current() is built  # the write applied to it, not a rebuild
    assert forward(store, BAD_LOT).uids(Label.CUSTOMER) == before | {"C-RET-W9"}
    assert built.seq == store.revision().seq and built.added() == 2
    store.bump_revision()  # as a program that wrote the database directly must
    assert store.topology.current() is None  # this scope walks the database
    assert forward(store, BAD_LOT).uids(Label.CUSTOMER) == before | {"C-RET-W9"}
    store.topology.build()
    assert store.topology.current() is not None
    assert forward(store, BAD_LOT).uids(Label.CUSTOMER) == before | {"C-RET-W9"}


def test_properties_held_by_the_index_change_with_the_graph(store: Store, tmp_path: Path) -> None:
    load(store, [demo_dir()])
    store.topology.build()
    customer = next(n for n in forward(store, BAD_LOT).nodes if n.label == Label.CUSTOMER)
    assert customer.properties["region"] != "Moved"
    # An upsert that changes a property and adds nothing: the counts stay, the load record moves.
    moved = tmp_path / "moved.jsonl"
    moved.write_text(
        json.dumps({**customer.properties, "kind": "Customer", "uid": customer.uid, "region": "Moved"})
    )
    built = store.topology.current()
    load(store, [moved])
    assert store.topology.current() is built
    assert customer.uid in forward(store, BAD_LOT).customers_by_region()["Moved"]
    store.topology.build()
    assert customer.uid in forward(store, BAD_LOT).customers_by_region()["Moved"]


def test_a_load_by_another_process_is_seen_by_the_next_scope(
    falkor_settings: Any, falkor_store: Store, tmp_path: Path
) -> None:
    store = falkor_store
    store.clear()
    load(store, [demo_dir()])
    store.topology.build()
    before = forward(store, BAD_LOT).uids(Label.CUSTOMER)
    extra = tmp_path / "SHIPPED_IN.csv"  # a CSV file takes its kind from its name
    extra.write_text("from,to,quantity,unit\nB-2002,SH-01,7,cups\n")
    env = {
        **os.environ,
        "LINEAGE_DATA_DIR": str(falkor_settings.data_dir),
        "LINEAGE_GRAPH": falkor_settings.graph,
    }
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli", "load", str(extra)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    scope = forward(store, BAD_LOT)
    # B-2002 now also travels in SH-01, which went to the distributor: an edge the old index lacks.
    assert any(e.source.uid == "B-2002" and e.target.uid == "SH-01" for e in scope.edges)
    assert scope.uids(Label.CUSTOMER) == before
    store.topology.drop()


def test_depths_are_the_same_whichever_way_they_are_found(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small scopes find depths in Python, large ones with scipy: both must agree with the Cypher
    walk, on a scope large enough for either."""
    from lineage.graph import walked
    from lineage.samples.shapes import generate_distribution

    generate_distribution(tmp_path / "data", 3000, seed=5)
    load(store, [tmp_path / "data"])
    call = lambda: forward(store, NodeRef(Label.SUPPLIER, "DS0"))  # noqa: E731
    by_cypher, _ = both_ways(store, call)
    assert len(by_cypher["edges"]) > 1000 and any(n["depth"] > 3 for n in by_cypher["nodes"])
    for threshold in (0, 10**9):
        monkeypatch.setattr(walked, "SMALL_WALK_EDGES", threshold)
        assert both_ways(store, call)[1] == by_cypher


def _admin(store: Store) -> redis.Redis:
    """A plain client of the embedded server, to read its counters and close its connections."""
    return redis.Redis(unix_socket_path=str(store.engine.server.socket))  # type: ignore[attr-defined]


def _revision_reads(store: Store) -> int:
    stats = _admin(store).info("commandstats")
    return int(stats.get("cmdstat_graph.RO_QUERY", {}).get("calls", 0))


def test_scopes_do_not_ask_for_the_revision_while_nothing_was_written(falkor_store: Store) -> None:
    """The embedded server pushes a message to every process watching when the revision is bumped;
    without one, a scope walks the index without a round trip (half of a lot's scope)."""
    store = falkor_store
    store.clear()
    load(store, [demo_dir()])
    built = store.topology.build()
    before = _revision_reads(store)
    for _ in range(20):
        assert forward(store, BAD_LOT).uids(Label.CUSTOMER)
        assert store.topology.current() is built
    assert _revision_reads(store) == before
    store.run("signal_complaint_keys", uid="CP-01", trace_keys=["x"])  # a write to the lineage, applied
    assert store.topology.current() is built and built.revision == store.revision()
    before = _revision_reads(store)
    for _ in range(5):
        assert forward(store, BAD_LOT).uids(Label.CUSTOMER)
    assert _revision_reads(store) == before
    store.topology.drop()


def test_the_index_is_ready_without_a_round_trip_only_while_the_engine_vouches_for_it(store: Store) -> None:
    """The API answers a scope on its event loop only when the index can answer it without waiting
    on the database: built, and nothing written since (as the engine can tell without asking)."""
    load(store, [demo_dir()])
    assert not store.topology.ready()
    store.topology.build()
    watched = store.engine.name == "falkordb"  # Neo4j cannot vouch: every scope reads the revision
    assert store.topology.ready() is watched
    store.run("signal_complaint_keys", uid="CP-01", trace_keys=["x"])
    assert store.topology.ready() is watched  # written here: the index took it as it was written
    with Store.open(store.settings) as other:
        other.run("signal_complaint_keys", uid="CP-01", trace_keys=["y"])
    assert not store.topology.ready()  # written elsewhere: the index must take it first
    assert store.topology.current() is not None
    assert store.topology.ready() is watched
    store.bump_revision()  # a new token: the revision must be read again
    assert not store.topology.ready()
    store.topology.drop()
    assert not store.topology.ready()


def test_a_watch_that_lost_its_connection_reads_the_revision_again(
    falkor_settings: Any, falkor_store: Store
) -> None:
    """A write made while the watch's connection is gone reaches it as no message at all: the closed
    connection must count as a possible change, and a new one be made."""
    store = falkor_store
    store.clear()
    load(store, [demo_dir()])
    built = store.topology.build()
    assert store.topology.current() is built
    admin = _admin(store)
    watches = [c["id"] for c in admin.client_list() if "P" in c["flags"]]  # subscribed
    assert watches
    for client_id in watches:
        admin.execute_command("CLIENT", "KILL", "ID", client_id)
    with Store.open(falkor_settings) as other:  # another session writes while no watch hears it
        other.run("signal_complaint_keys", uid="CP-01", trace_keys=["y"])
        written = other.revision()
    assert store.topology.current() is built and built.revision == written  # caught up
    complaint = built.node_of(Label.COMPLAINT, "CP-01")
    assert complaint is not None and built.properties(complaint)["trace_keys"] == ["y"]
    assert store.topology.current() is built  # what the new connection said on its way up, read once
    before = _revision_reads(store)
    assert store.topology.current() is built  # and the watch is back: no read
    assert _revision_reads(store) == before
    store.topology.drop()


def test_a_process_that_keeps_the_index_rebuilds_it_in_the_background(store: Store) -> None:
    load(store, [demo_dir()])
    topology = store.topology
    built: list[Topology] = []  # what the building thread hands on, once each index is in place
    topology.keep_current(then=built.append)
    assert _eventually(lambda: topology.current() is not None), topology.state()
    first = topology.current()
    assert _eventually(lambda: built == [first]), built  # handed on just after it is put in place
    state = topology.state()
    assert state.state == "built" and state.relationships and state.nodes

    store.run("admin_delete_some", limit=1)  # a write that logs no change: a reset's slice
    assert topology.current() is None  # seen at once; a rebuild starts
    assert _eventually(lambda: topology.current() not in (None, first)), topology.state()
    assert topology.current().revision != first.revision
    assert _eventually(lambda: built == [first, topology.current()]), built
    topology.drop()
    assert topology.state().state == "off"


def test_a_node_without_relationships_is_its_own_scope_and_an_unknown_one_is_named(
    demo_store: Store, walk: str, tmp_path: Path
) -> None:
    lone = tmp_path / "lone.jsonl"
    lone.write_text(json.dumps({"kind": "MaterialLot", "uid": "L-LONE", "material": "salt"}))
    load(demo_store, [lone])
    if walk == "index":
        demo_store.topology.build()
    scope = forward(demo_store, NodeRef(Label.MATERIAL_LOT, "L-LONE"))
    assert [(n.uid, n.depth, n.properties["material"]) for n in scope.nodes] == [("L-LONE", 0, "salt")]
    assert scope.edges == []
    with pytest.raises(NotFound, match="L-NOPE"):
        forward(demo_store, NodeRef(Label.MATERIAL_LOT, "L-NOPE"))
    with pytest.raises(ScopeTooLarge, match="limit of 3 nodes"):
        forward(demo_store, BAD_LOT, max_nodes=3)


def test_a_walk_gives_back_its_masks_unmarked_even_when_stopped_half_way(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walks borrow their node masks from the index: a mark left behind would hide that node from
    every later scope of the process. Stopped in the one compiled call a small walk is, or between
    the phases a longer one returns to Python for (``WORK`` of 1: after every level)."""
    load(store, [demo_dir()])
    topology = store.topology.build()
    expected = whole(forward(store, BAD_LOT))
    complaint = NodeRef(Label.COMPLAINT, "CP-01")
    sizes = len(expected["nodes"]), len(whole(backward(store, complaint))["nodes"])
    assert min(sizes) > 6
    for work in (1, walk.WORK):
        monkeypatch.setattr(walk, "WORK", work)
        for limit in (2, 3, 6):
            with pytest.raises(ScopeTooLarge):
                forward(store, BAD_LOT, max_nodes=limit)
            with pytest.raises(ScopeTooLarge):
                backward(store, complaint, max_nodes=limit)
    spare = topology._spare_marks
    assert len(spare) == 1 and not any(mask.any() for mask in spare)
    assert whole(forward(store, BAD_LOT)) == expected
    store.topology.drop()


def test_a_walk_counts_every_node_it_reaches_once(store: Store, tmp_path: Path) -> None:
    """The node limit is checked against a walk's count of the nodes it reached, which marks only
    the far end of each relationship taken: the count must be the scope's size, from every kind of
    source, each way."""
    from lineage.samples.generate import generate_plant

    generate_plant(tmp_path / "data", 2500, seed=11)
    load(store, [tmp_path / "data", demo_dir()])
    topology = store.topology.build()
    counted = []
    for label in Label:
        code = LABEL_CODE[label]
        first = topology.offsets[code]
        for uid in topology.uids_of(np.arange(first, first + min(15, topology.taken(label)))):
            ref = NodeRef(label, uid)
            walks = []
            if label in FORWARD_SOURCES:
                walks.append(walk.forward(topology, ref, None, lambda reached: None, topology.size))
            if label in BACKWARD_SOURCES:
                walks.append(walk.backward(topology, ref, lambda reached: None, topology.size))
            for selection in walks:
                taken = selection.edges()
                ends = [topology.relations[rel].src[p] for rel, p in taken.items()]
                ends += [topology.relations[rel].dst[p] for rel, p in taken.items()]
                nodes = np.unique(np.concatenate([*ends, [selection.source]]))
                assert selection.reached == nodes.size, (ref, selection.reached, nodes.size)
                counted.append(label)
    assert set(counted) == set(FORWARD_SOURCES) | set(BACKWARD_SOURCES)
    store.topology.drop()


def _eventually(check: Any, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_recall_worked_on_leaves_the_index_in_place_and_a_lineage_write_is_applied_to_it(
    store: Store,
) -> None:
    """Recalls, holds, follow-ups and the audit log are lineage's records, not the lineage: writing them
    changes nothing in the index; a write to the lineage is applied to it; a reset has it built again."""
    load(store, [demo_dir()])
    built = store.topology.build()
    made = recalls.create(
        store,
        RecallRequest(
            source=f"MaterialLot:{BAD_LOT.uid}",
            reason="retained sample positive for Salmonella",
            risk="may cause food poisoning",
            owner="QA",
            deadline=1_900_000_000_000,
        ),
        by="test",
    )
    active = recalls.activate(store, made.uid, by="test")
    assert active.state == "active" and holds.holds(store, made.uid)  # records were written
    assert store.topology.current() is built

    seq = store.revision().seq
    store.run("signal_complaint_keys", uid="CP-01", trace_keys=["x"])  # a property of a lineage node
    assert store.revision().seq == seq + 1
    assert store.topology.current() is built and built.revision == store.revision()
    complaint = built.node_of(Label.COMPLAINT, "CP-01")
    assert complaint is not None and built.properties(complaint)["trace_keys"] == ["x"]
    store.clear()  # a reset empties the lineage: no index of the old one may answer
    assert store.topology.current() is None and store.revision().token != built.token
    assert store.run("admin_graph_empty") == [{"empty": True}]
    store.topology.drop()


def test_a_statement_cut_short_still_moves_the_revision(store: Store) -> None:
    load(store, [demo_dir()])
    before = store.revision()
    with pytest.raises(LineageError):  # a row without a uid: the engine refuses the statement
        store.run(
            "load_node_lot", rows=[{"uid": "L-NEW", "props": {"uid": "L-NEW"}}, {"uid": None, "props": {}}]
        )
    assert store.revision() != before


def test_a_big_scope_is_drawn_in_groups_by_region(store: Store, tmp_path: Path) -> None:
    from lineage.interchange.render import CLUSTER_ABOVE, picture
    from lineage.samples.shapes import generate_distribution

    generate_distribution(tmp_path / "data", 3000, seed=3)
    load(store, [tmp_path / "data"])
    scope = forward(store, NodeRef(Label.SUPPLIER, "DS0"))
    assert len(scope.nodes) > CLUSTER_ABOVE
    drawn = picture(scope)
    groups = {n: a for n, a in drawn.nodes(data=True) if a["kind"] == "Customer"}
    regions = scope.customers_by_region()
    assert set(groups) == {f"Customer group: {region}" for region in regions}
    assert {n: a["count"] for n, a in groups.items()} == {
        f"Customer group: {region}": len(uids) for region, uids in regions.items()
    }
    shipments = sum(a["count"] for _, a in drawn.nodes(data=True) if a["kind"] == "Shipment")
    assert shipments == scope.counts()["Shipment"]
    assert drawn.number_of_nodes() < len(scope.nodes) / 10


def _huge_kb(array: np.ndarray) -> int:
    """Kilobytes of transparent huge pages backing the mapping that holds ``array``."""
    where, found, kb = array.__array_interface__["data"][0], False, 0
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                found = lo <= where < hi
            elif found and line.startswith("AnonHugePages:"):
                kb = int(line.split()[1])
    return kb


def test_large_arrays_are_copied_to_memory_backed_by_huge_pages() -> None:
    """The walk's arrays are placed where the kernel can back them with 2 MB pages: the same values,
    writable (the compiled walk takes no read-only array), and on huge pages where the kernel
    offers them for memory that asks; arrays too small to be worth a huge page stay as they are."""
    from lineage.graph.hugepages import HUGE_PAGE, huge_zeros, on_huge_pages

    small = np.arange(10, dtype=np.int64)
    assert on_huge_pages(small) is small
    values = np.arange(HUGE_PAGE, dtype=np.int32)  # 8 MB
    placed = on_huge_pages(values)
    assert placed is not values and placed.dtype == np.int32 and np.array_equal(placed, values)
    assert placed.flags.writeable and placed.flags.c_contiguous
    zeros = huge_zeros(3 * HUGE_PAGE, np.uint8)
    assert zeros.size == 3 * HUGE_PAGE and not zeros.any() and zeros.flags.writeable
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not thp.exists() or "[never]" in thp.read_text():
        pytest.skip("this kernel offers no transparent huge pages")
    assert _huge_kb(placed) >= HUGE_PAGE // 1024  # at least one huge page of its own


def test_an_index_on_huge_pages_walks_the_same_scopes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's arrays are too small for huge pages; placed there all the same, every array of the
    index and every mask, the walk gives the same scopes."""
    from lineage.graph import hugepages

    load(store, [demo_dir()])
    complaint = NodeRef(Label.COMPLAINT, "CP-01")
    store.topology.build()
    expected = whole(forward(store, BAD_LOT)), whole(backward(store, complaint))
    monkeypatch.setattr(hugepages, "_HUGE_ENOUGH", 0)
    built = store.topology.build()
    marks = built.lend()
    built.give_back(marks)
    placed = [
        built.index.src,
        built.index.by_dst,
        built.index.in_ptr,
        built.names,
        built.index.name_ends,
        built.index.out_next,
        marks.array,
    ]
    assert all(isinstance(a.base, memoryview) and isinstance(a.base.obj, mmap.mmap) for a in placed)
    assert (whole(forward(store, BAD_LOT)), whole(backward(store, complaint))) == expected
    store.topology.drop()


def test_the_watch_reads_messages_split_anywhere_and_keeps_each_tokens_number() -> None:
    """What the server pushes arrives in pieces of any size: each message counts once, whole; a
    logged write's number is kept with its token, anything else moves the count."""
    from lineage.graph.engines.falkor_watch import RevisionWatch

    def message(payload: str) -> bytes:
        return b">3\r\n$7\r\nmessage\r\n$3\r\nrev\r\n$%d\r\n%s\r\n" % (len(payload), payload.encode())

    stream = message("seq 5 T1") + message("seq 3 T1") + message("T2") + message("seq 1 T2")
    for cut in range(len(stream) + 1):
        watch = RevisionWatch(Path("/nonexistent"), "rev")
        rest = watch._read(stream[:cut])
        assert watch._read(rest + stream[cut:]) == b""
        assert (watch._epoch, watch._seqs) == (1, {"T1": 5, "T2": 1}), cut
    with pytest.raises(ValueError):
        RevisionWatch(Path("/nonexistent"), "rev")._read(b"+OK\r\n")
