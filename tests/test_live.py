"""The topology index under writes: every write applied as a change, never a stale or rebuilt answer.

Each test compares the index's scopes with the same scopes walked in Cypher by a second store on the
same database that holds no index, and with the networkx reference of the records written so far.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from reference import Reference
from strategies import HOUR, lineage_graphs
from test_epcis import CHAIN, LETTUCE, PALLET, SALAD, canonical, declared, document
from test_reference import load_records
from test_topology import _eventually, whole

from lineage.graph import arrays as arrays_module
from lineage.graph.model import Label, NodeRef
from lineage.graph.nodes import MAX_LIMIT, search
from lineage.graph.scope import ALL_LABELS, Window, backward, forward
from lineage.graph.store import Store
from lineage.graph.topology import Topology
from lineage.loading.load import load

FORWARD_KINDS = ("Supplier", "MaterialLot", "Batch")
BACKWARD_KINDS = ("Complaint", "Sale", "Customer", "Batch", "Shipment")


@pytest.fixture
def plain(store: Store) -> Iterator[Store]:
    """A second store on the same database, without an index: its scopes walk Cypher."""
    with Store.open(store.settings) as other:
        yield other


def write(store: Store, records: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "more.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        load(store, [path])


def same_scopes(store: Store, plain: Store, records: list[dict[str, Any]], topology: Topology) -> None:
    """Every source's scope over the index equals the Cypher walk's, whole (nodes, properties,
    relationships and their values), and the reference's; the index was neither rebuilt nor left."""
    reference = Reference(records)
    fallbacks = store.topology.fallbacks
    uids = {r["uid"]: r["kind"] for r in records if "uid" in r}
    for uid, kind in sorted(uids.items()):
        ref = NodeRef(Label(kind), uid)
        if kind in FORWARD_KINDS:
            scope = forward(store, ref)
            assert whole(scope) == whole(forward(plain, ref)), ref
            assert scope.uids_by_label() == reference.forward(kind, uid), ref
        if kind in BACKWARD_KINDS:
            scope = backward(store, ref, properties=ALL_LABELS)
            assert whole(scope) == whole(backward(plain, ref, properties=ALL_LABELS)), ref
            if kind != "Shipment":
                got = scope.uids_by_label()
                if kind == "Sale":
                    got.pop("Sale", None)
                assert got == reference.backward(kind, uid), ref
    window = Window(start=2 * HOUR, end=5 * HOUR)
    for label, uid in ((Label.MACHINE, "M0"), (Label.OPERATOR, "O1")):
        assert whole(forward(store, NodeRef(label, uid), window)) == whole(
            forward(plain, NodeRef(label, uid), window)
        )
    same_search(store, plain, records)
    assert store.topology.current() is topology
    assert store.topology.fallbacks == fallbacks


def same_search(store: Store, plain: Store, records: list[dict[str, Any]]) -> None:
    """Search answered from the index's catalog equals the database's scan: uids exact, prefixes
    in either case, pieces of names."""
    uids = sorted({r["uid"] for r in records if "uid" in r})
    queries = {"p", "m", "RET", "x-none", *uids[::7], *(u[:2].lower() for u in uids[::11])}
    for q in sorted(queries):
        assert search(store, q, limit=MAX_LIMIT) == search(plain, q, limit=MAX_LIMIT), q


@st.composite
def writes(draw: st.DrawFn, records: list[dict[str, Any]], step: int) -> list[dict[str, Any]]:
    """One write as the plant makes them: a new batch from existing inputs, shipped and sold; new
    supplies; changed properties and quantities of what exists; now and then many records at once."""
    uids = {kind: [r["uid"] for r in records if r.get("kind") == kind] for kind in ("MaterialLot", "Batch")}
    customers = [r["uid"] for r in records if r["kind"] == "Customer"]
    suppliers = [r["uid"] for r in records if r["kind"] == "Supplier"]
    out: list[dict[str, Any]] = []
    for k in range(draw(st.sampled_from([1, 1, 2, 40]))):
        tag = f"{step}-{k}"
        kind = draw(st.sampled_from(["grow", "grow", "supply", "change", "rework"]))
        if kind in ("grow", "rework"):
            batch = f"NB{tag}"
            out.append({"kind": "Batch", "uid": batch, "product": "p"})
            label = draw(st.sampled_from(["MaterialLot", "Batch"] if uids["Batch"] else ["MaterialLot"]))
            src = draw(st.sampled_from(uids[label]))
            out.append({"kind": "CONSUMED_BY", "from": src, "from_label": label, "to": batch,
                        "quantity": draw(st.integers(1, 50)), "unit": "kg"})  # fmt: skip
            out.append({"kind": "RAN_ON", "from": batch, "to": "M0", "start": 3 * HOUR, "end": 4 * HOUR})
            if kind == "grow":
                out.append({"kind": "Shipment", "uid": f"NS{tag}"})
                out.append({"kind": "SHIPPED_IN", "from": batch, "to": f"NS{tag}", "quantity": 2})
                out.append(
                    {"kind": "DELIVERED_TO", "from": f"NS{tag}", "to": draw(st.sampled_from(customers))}
                )
                out.append({"kind": "Sale", "uid": f"NA{tag}", "serial": f"SN-{tag}"})
                out.append({"kind": "SOLD_IN", "from": batch, "to": f"NA{tag}", "quantity": 1})
                out.append({"kind": "SOLD", "from": draw(st.sampled_from(customers)), "to": f"NA{tag}"})
            uids["Batch"].append(batch)
        elif kind == "supply":
            lot = f"NL{tag}"
            out.append({"kind": "MaterialLot", "uid": lot, "material": "m"})
            out.append({"kind": "SUPPLIED", "from": draw(st.sampled_from(suppliers)), "to": lot})
            uids["MaterialLot"].append(lot)
        else:  # what exists, changed: a customer moves region, a consumption's quantity is corrected
            customer = draw(st.sampled_from(customers))
            out.append({"kind": "Customer", "uid": customer, "region": draw(st.sampled_from(["N", "S", "W"])),
                        "customer_type": "retailer"})  # fmt: skip
            used = [r for r in records if r["kind"] == "CONSUMED_BY"]
            if used:
                again = dict(draw(st.sampled_from(used)))
                again["quantity"] = draw(st.integers(51, 99))
                out.append(again)
    return merged([], out)  # one record a node or relationship, as one input must give them


def merged(records: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as stored after ``more`` is loaded over them: a record of the same node, or of the
    same relationship, replaces the one before (a load merges)."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records + more:
        key = (r["kind"], r["uid"]) if "uid" in r else (r["kind"], r["from"], r["to"])
        by_key[key] = {**by_key.get(key, {}), **r}
    return list(by_key.values())


@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking these runs takes minutes
@given(records=lineage_graphs(), data=st.data())
def test_the_index_takes_every_write_and_answers_as_the_database_does(
    store: Store, plain: Store, records: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Random runs of writes (new nodes and relationships, changed properties and quantities, loads
    of many records) while other threads walk scopes: after each, every scope over the index is the
    Cypher walk's and the reference's, forward and backward, with the same index object (applied
    in place, not rebuilt) and no scope walked in the database."""
    load_records(store, records)
    topology = store.topology.build()
    sources = [NodeRef(Label(r["kind"]), r["uid"]) for r in records if r["kind"] in FORWARD_KINDS]
    stop, failures = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            try:
                for ref in sources:
                    forward(store, ref)
            except Exception as e:  # reported below, in the test's own thread
                failures.append(e)
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for step in range(data.draw(st.integers(1, 4))):
            more = data.draw(writes(records, step))
            write(store, more)
            records = merged(records, more)
            same_scopes(store, plain, records, topology)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not failures
    assert topology.revision == store.revision()
    store.topology.drop()


def test_a_retraction_takes_relationships_and_nodes_out_of_the_index(
    store: Store, plain: Store, tmp_path: Path
) -> None:
    """EPCIS errorDeclarations remove the relationships only the declared event said, and a shipment
    nothing links any more: the index follows, without a rebuild."""
    store.clear()
    load(store, [document(tmp_path, CHAIN)])
    topology = store.topology.build()
    fallbacks = store.topology.fallbacks
    lettuce, salad = NodeRef(Label.BATCH, canonical(LETTUCE)), NodeRef(Label.BATCH, canonical(SALAD))
    assert canonical(PALLET) in forward(store, lettuce).uids_by_label()["Batch"]
    for number, event in ((1, CHAIN[1]), (2, CHAIN[5])):
        load(store, [document(tmp_path, [declared(event)], f"correction-{number}.json")])
        assert store.topology.current() is topology
        for ref in (lettuce, salad):
            assert whole(forward(store, ref)) == whole(forward(plain, ref))
            assert whole(backward(store, ref)) == whole(backward(plain, ref))
    assert topology.removed() > 0
    assert "Shipment" not in forward(store, salad).uids_by_label()
    for q in ("urn:", "URN:EPC:ID:SSCC", canonical(PALLET), canonical(SALAD), "salad"):
        assert search(store, q, limit=MAX_LIMIT) == search(plain, q, limit=MAX_LIMIT), q
    assert store.topology.fallbacks == fallbacks
    store.topology.drop()


def test_an_index_out_of_room_is_built_again_and_answers_stay_equal(
    store: Store, plain: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build keeps room for what is written later; writes past it have the index built again: a
    process that does not keep one walks the database until then, one that keeps one walks the old
    index meanwhile and then the new one, built with twice the room, and the answers are the
    database's."""
    records = [{"kind": "Supplier", "uid": "S"}, {"kind": "MaterialLot", "uid": "L", "material": "m"}]
    records.append({"kind": "SUPPLIED", "from": "S", "to": "L"})
    load_records(store, records)
    monkeypatch.setattr(arrays_module, "SPARE_LEAST", 2)
    topology = store.topology.build()
    more = []
    for i in range(5):
        more += [{"kind": "Batch", "uid": f"B{i}", "product": "p"},
                 {"kind": "CONSUMED_BY", "from": "L", "from_label": "MaterialLot", "to": f"B{i}", "quantity": 1}]  # fmt: skip
    write(store, more[:2])
    assert store.topology.current() is topology  # the room took one
    write(store, more[2:])
    assert store.topology.current() is None  # out of room: this process keeps no index, so Cypher
    lot = NodeRef(Label.MATERIAL_LOT, "L")
    assert forward(store, lot).uids_by_label()["Batch"] == {f"B{i}" for i in range(5)}
    held = kept(store)
    write(store, [{"kind": "Batch", "uid": f"C{i}", "product": "p"} for i in range(4)]
          + [{"kind": "CONSUMED_BY", "from": "L", "from_label": "MaterialLot", "to": f"C{i}", "quantity": 1}
             for i in range(4)])  # fmt: skip
    # Never the database: the stuck index, walked as it is while another is built, or (a small graph
    # builds fast) the new one already.
    assert store.topology.current() is not None
    assert _eventually(lambda: store.topology.current() not in (None, held))
    assert whole(forward(store, lot)) == whole(forward(plain, lot))
    assert store.topology.state().state == "built"
    rebuilt = store.topology.current()
    assert rebuilt is not None and rebuilt.share == held.share // 2  # writes came faster: more room
    assert arrays_module.spare(10_000, rebuilt.share) == 2 * arrays_module.spare(10_000, held.share)
    store.topology.drop()


def kept(store: Store) -> Topology:
    """The index of a process that keeps one (as the API does), once its first build is in place."""
    store.topology.keep_current()
    # The first build in a session may compile the walk (a minute or more on a loaded machine).
    assert _eventually(lambda: store.topology.state().state == "built", 300), store.topology.state()
    topology = store.topology.current()
    assert topology is not None
    return topology


WRITER = """
import json, sys, tempfile
from pathlib import Path
from lineage.config import Settings
from lineage.loading.load import load
from lineage.graph.store import Store

data_dir, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Store.open(Settings(data_dir=data_dir)) as store:
    for i in range(start, start + count):
        rows = [{"kind": "Batch", "uid": f"W{i}", "product": "p"},
                {"kind": "CONSUMED_BY", "from": "L", "from_label": "MaterialLot", "to": f"W{i}", "quantity": 1}]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "w.jsonl"
            path.write_text("".join(json.dumps(r) + "\\n" for r in rows))
            load(store, [path])
        print(i, flush=True)
"""


def _writer(store: Store, start: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.settings.data_dir), str(start), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _batches(store: Store) -> set[str]:
    return forward(store, NodeRef(Label.MATERIAL_LOT, "L")).uids_by_label().get("Batch", set())


def test_a_write_by_another_process_is_in_this_ones_scopes_within_a_second(
    falkor_store: Store, plain: Store
) -> None:
    """One process writes, the other's index takes each write from the change log; a log trimmed
    past what an index holds has it built again, with the same answers."""
    store = falkor_store
    store.clear()
    write(store, [{"kind": "Supplier", "uid": "S"}, {"kind": "MaterialLot", "uid": "L", "material": "m"},
                  {"kind": "SUPPLIED", "from": "S", "to": "L"}])  # fmt: skip
    topology = kept(store)
    fallbacks = store.topology.fallbacks
    writer = _writer(store, 0, 5)
    assert writer.stdout is not None
    delays = []
    for line in writer.stdout:
        written, seen = f"W{int(line)}", time.monotonic()
        assert _eventually(lambda written=written: written in _batches(store), 5.0)
        delays.append(time.monotonic() - seen)
    assert writer.wait() == 0
    writer.stdout.close()
    assert max(delays) < 1.0, delays
    assert store.topology.current() is topology and store.topology.fallbacks == fallbacks
    # Another process trims the log past what this index holds (as a long retention would), then writes.
    held = topology.seq
    store.topology.drop()
    store.topology._current = topology  # the index as it was, no longer kept current while this runs
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(store.settings.data_dir), "5", "2"],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    newest = store.run("topology_revision")[0]["seq"]
    while store.run("change_log_trim", before=newest, limit=1000)[0]["trimmed"]:
        pass
    assert held < newest - 1
    store.topology.keep_current()
    assert _eventually(lambda: store.topology.current() not in (None, topology))
    assert _batches(store) == _batches(plain) == {f"W{i}" for i in range(7)}
    store.topology.drop()


def test_a_writer_killed_mid_write_leaves_no_write_half_applied(falkor_store: Store, plain: Store) -> None:
    """kill -9 of a process while it writes, before or after a statement's commit: every entry of
    the log is whole and in sequence, and the index of a process that went on agrees with the
    database, as does one built after."""
    store = falkor_store
    store.clear()
    write(store, [{"kind": "Supplier", "uid": "S"}, {"kind": "MaterialLot", "uid": "L", "material": "m"},
                  {"kind": "SUPPLIED", "from": "S", "to": "L"}])  # fmt: skip
    topology = kept(store)
    writer = _writer(store, 0, 10_000)
    assert writer.stdout is not None
    for _ in range(3):
        writer.stdout.readline()
    time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    newest = store.run("topology_revision")[0]["seq"]
    entries = store.run("change_log_after", after=0, limit=100_000)
    assert [e["seq"] for e in entries] == list(range(entries[0]["seq"], newest + 1))
    assert _eventually(lambda: store.topology.current() is topology and topology.seq == newest)
    assert whole(forward(store, NodeRef(Label.MATERIAL_LOT, "L"))) == whole(
        forward(plain, NodeRef(Label.MATERIAL_LOT, "L"))
    )
    store.topology.drop()
    store.topology.build()
    assert whole(forward(store, NodeRef(Label.MATERIAL_LOT, "L"))) == whole(
        forward(plain, NodeRef(Label.MATERIAL_LOT, "L"))
    )
    store.topology.drop()
