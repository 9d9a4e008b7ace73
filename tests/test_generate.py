"""The seeded generators: deterministic, loadable, and of the promised shape."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx

from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import backward, forward
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.generate import generate_plant
from lineage.samples.shapes import generate_diamond


def digest(folder: Path, leave_out: str = "") -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.name != leave_out):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def generate_in_a_new_process(folder: Path, hash_seed: str, *args: str) -> None:
    """Another process, with another string-hash seed: set iteration order differs between them."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    cmd = [
        sys.executable,
        "-m",
        "lineage.cli",
        "generate",
        str(folder),
        "--nodes",
        "3000",
        "--seed",
        "11",
        *args,
    ]
    subprocess.run(cmd, env=env, check=True, capture_output=True)


def test_same_seed_same_bytes_other_seed_other_graph(tmp_path: Path) -> None:
    a = generate_plant(tmp_path / "a", nodes=3000, seed=11)
    generate_in_a_new_process(tmp_path / "b", "1")
    generate_in_a_new_process(
        tmp_path / "planted", "2", "--plant", "lot", "--complaints", str(tmp_path / "c.jsonl")
    )
    generate_plant(tmp_path / "c", nodes=3000, seed=12)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    # Planting draws on its own random stream: the lineage is the same with or without it.
    planted = json.loads((tmp_path / "planted" / "samples.json").read_text()).pop("planted")
    assert digest(tmp_path / "planted", "samples.json") == digest(tmp_path / "a", "samples.json")
    assert planted[0]["cause"] == "lot" and len((tmp_path / "c.jsonl").read_text().splitlines()) >= 6
    assert 3000 <= a.nodes <= 3300, "at least the nodes asked for, and not many more"
    assert 2.0 <= a.relationships / a.nodes <= 3.5


def test_a_generated_plant_loads_and_scopes_like_a_plant(store: Store, tmp_path: Path) -> None:
    stats = generate_plant(tmp_path / "plant", nodes=5000, seed=3)
    report = load(store, [tmp_path / "plant"])
    assert (report.nodes, report.relationships) == (stats.nodes, stats.relationships)
    samples = json.loads((tmp_path / "plant" / "samples.json").read_text())
    sizes = [len(forward(store, NodeRef(Label.MATERIAL_LOT, lot)).nodes) for lot in samples["lots"][:20]]
    assert max(sizes) > 10, "lots should reach customers through batches and shipments"
    supplier = forward(store, NodeRef(Label.SUPPLIER, samples["suppliers"][0]))
    assert len(supplier.nodes) > max(sizes)
    assert supplier.uids(Label.CUSTOMER), "a supplier's scope reaches customers"
    kinds = {n.properties.get("batch_type") for n in supplier.nodes if n.label == Label.BATCH}
    assert {"intermediate", "production"} <= kinds
    trace = backward(store, NodeRef(Label.CUSTOMER, samples["customers"][0]))
    assert trace.uids(Label.SUPPLIER) and trace.uids(Label.MACHINE)


def test_diamond_scope_equals_networkx_descendants(store: Store, tmp_path: Path) -> None:
    stats = generate_diamond(tmp_path / "d", levels=6, width=30, fan_in=4, seed=5)
    assert stats.nodes == 1 + 30 * 6
    assert stats.relationships == 30 + 30 * 5 * 4
    load(store, [tmp_path / "d"])
    graph = nx.DiGraph()
    for line in (tmp_path / "d" / "2-rels-CONSUMED_BY.jsonl").read_text().splitlines():
        r = json.loads(line)
        graph.add_edge(r["from"], r["to"])
    scope = forward(store, NodeRef(Label.MATERIAL_LOT, "DL00000"))
    assert scope.uids(Label.BATCH) == nx.descendants(graph, "DL00000")
    assert max(n.depth for n in scope.nodes) == 5
