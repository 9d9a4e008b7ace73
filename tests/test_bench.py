"""The scale benchmark runs end to end at a tiny size (figures are not checked: benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_scale_benchmark_runs_and_reports(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_scale.py"), "--nodes", "2500",
         "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "scale-2500.json").read_text())
    assert results["load_plant"]["method"] == "bulk"
    assert results["load_plant"]["nodes"] >= 2500
    by_index = {
        "forward: lot (typical)", "forward: machine over a shift", "backward: customer",
        "backward: complaint", "forward: supplier", "forward: supplier, no properties",
        "forward: diamond 16x200x4",
    }  # fmt: skip
    by_cypher = {"forward: lot (typical)", "forward: supplier", "forward: supplier, no properties",
                 "forward: diamond 16x200x4"}  # fmt: skip
    assert set(results["workloads"]) == by_index | {f"{name} [Cypher walk]" for name in by_cypher}
    assert results["index"]["relationships"] == results["load_plant"]["relationships"]
    assert all(w["runs"] > 0 and w["median_ms"] > 0 for w in results["workloads"].values())
    table = (tmp_path / "out" / "scale-2500.md").read_text()
    assert "| forward: supplier |" in table and "Load average" in table


@pytest.mark.parametrize(
    ("shape", "nodes", "expected"),
    [
        ("plant", 2500, {"forward: lot", "forward: supplier", "backward: customer"}),
        ("diamond", 320, {"forward: lot", "forward: supplier"}),
        ("distribution", 3000, {"forward: batch", "forward: lot", "forward: supplier", "backward: customer"}),
    ],
)
def test_the_baselines_run_and_agree_with_lineage(
    tmp_path: Path, shape: str, nodes: int, expected: set[str]
) -> None:
    """The harness stops on any answer that differs from lineage's; here it must finish, with every
    baseline timed on every workload of the shape."""
    sys.path.insert(0, str(ROOT / "bench"))
    from baselines import postgres_binaries

    command = [sys.executable, str(ROOT / "bench" / "bench_baselines.py"), "--shape", shape, "--nodes", str(nodes),
               "--sources", "10", "--naive-cap", "0.5", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / f"baselines-{shape}-{nodes}.json").read_text())
    methods = {"lineage", "networkx", "scipy CSR"}
    if postgres_binaries() is not None:
        methods.add("PostgreSQL recursive CTE")
    assert set(results["workloads"]) == expected
    for workload in results["workloads"].values():
        assert set(workload["methods"]) == methods
        assert workload["scope_nodes_max"] > 1
    assert results["naive_cypher"]["sources"] == 10
    assert results["why"]["sources"] > 0 and results["why"]["path_length_median"] >= 3
    assert "| forward: supplier |" in (tmp_path / "out" / f"baselines-{shape}-{nodes}.md").read_text()
