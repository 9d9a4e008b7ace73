"""The scale benchmark runs end to end at a tiny size (figures are not checked: benchmarks are not tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from apiserver import free_port
from conftest import short_tmpdir

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


def test_the_api_benchmark_runs_closed_and_paced_clients_and_streams_an_export(tmp_path: Path) -> None:
    options = ["--clients", "1,2", "--seconds", "1", "--rate", "20", "--export", "Supplier:SUP-PACK"]
    command = [sys.executable, str(ROOT / "bench" / "bench_api.py"), *options]
    command += ["--port", str(free_port()), "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "api-demo-w1.json").read_text())
    assert [(r["clients"], r["offered_per_s"]) for r in results["runs"]] == [(1, None), (2, None), (2, 20)]
    for run in results["runs"]:
        assert set(run["statuses"]) == {"200"} and run["requests"] > 0
    paced = results["runs"][-1]
    assert paced["requests"] <= 20 * paced["seconds"] + 2  # asked on the schedule, not flat out
    export = results["export"]
    assert export["page_status"] == 200 and export["nodes"]["status"] == export["edges"]["status"] == 200
    assert export["nodes"]["rows"] == export["page_total"] > 20 and export["edges"]["rows"] > 20
    report = (tmp_path / "api-demo-w1.md").read_text()
    assert "| 2 at 20/s |" in report and "streamed: forward scope of Supplier:SUP-PACK" in report


SHAPES = {
    "plant": (2500, {"forward: lot", "forward: supplier", "backward: customer"}),
    "diamond": (3200, {"forward: lot", "forward: supplier"}),  # 16 x 200 x 4, the diamond
    "distribution": (3000, {"forward: batch", "forward: lot", "forward: supplier", "backward: customer"}),
}


@pytest.fixture(scope="module")
def baseline_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every shape run side by side at a tiny size, into one results folder."""
    where = tmp_path_factory.mktemp("baselines")
    for shape, (nodes, _) in SHAPES.items():
        command = [sys.executable, str(ROOT / "bench" / "bench_baselines.py"), "--shape", shape,
                   "--nodes", str(nodes), "--sources", "10", "--naive-cap", "0.5",
                   "--data", str(where / "data"), "--out", str(where / "out")]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    growth = [sys.executable, str(ROOT / "bench" / "bench_growth.py"), "--small", "2500", "--large", "6000"]
    growth += ["--sources", "10", "--rounds", "1"]
    growth += ["--data", str(where / "data"), "--out", str(where / "out")]
    done = subprocess.run(growth, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return where


def test_the_growth_run_compares_the_same_scope_sizes_on_both_graphs(baseline_runs: Path) -> None:
    results = json.loads((baseline_runs / "out" / "growth-plant-2500-6000.json").read_text())
    assert results["graphs"]["large"]["load"]["nodes"] > 2 * results["graphs"]["small"]["load"]["nodes"]
    assert set(results["workloads"]) == SHAPES["plant"][1]
    lots = results["workloads"]["forward: lot"]
    assert lots["small"]["sources"] == lots["large"]["sources"] == 10
    for fitted in (lots["small"], lots["large"]):
        assert fitted["fixed_ms"] + fitted["us_per_node"] * fitted["scope_nodes_median"] / 1000 > 0
    nodes = lots["compared_at_nodes"]
    assert nodes is not None, "ten lots on each graph share no scope size"
    assert max(lots[side]["scope_nodes_min"] for side in ("small", "large")) <= nodes
    assert nodes <= min(lots[side]["scope_nodes_max"] for side in ("small", "large"))
    line = {
        side: lots[side]["fixed_ms"] + lots[side]["us_per_node"] * nodes / 1000 for side in ("small", "large")
    }
    assert lots["size_matched_ratio"] == pytest.approx(line["large"] / line["small"])


@pytest.mark.parametrize("shape", SHAPES)
def test_the_baselines_run_and_agree_with_lineage(baseline_runs: Path, shape: str) -> None:
    """The harness stops on any answer that differs from lineage's; here it must have finished,
    with every baseline timed on every workload of the shape."""
    sys.path.insert(0, str(ROOT / "bench"))
    from baselines import postgres_binaries

    nodes, expected = SHAPES[shape]
    results = json.loads((baseline_runs / "out" / f"baselines-{shape}-{nodes}.json").read_text())
    methods = {"lineage", "networkx", "scipy CSR"}
    if postgres_binaries() is not None:
        methods.add("PostgreSQL recursive CTE")
    assert set(results["workloads"]) == expected
    for workload in results["workloads"].values():
        assert set(workload["methods"]) == methods
        assert workload["scope_nodes_max"] > 1
    assert results["naive_cypher"]["sources"] == 10
    assert results["why"]["sources"] > 0 and results["why"]["path_length_median"] >= 3
    assert "| forward: supplier |" in (baseline_runs / "out" / f"baselines-{shape}-{nodes}.md").read_text()


def test_the_report_gathers_the_runs_and_judges_the_targets(baseline_runs: Path) -> None:
    to = baseline_runs / "report"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "report.py"), "--out", str(baseline_runs / "out"), "--to", str(to)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    page = (to / "RESULTS.md").read_text()
    diamond = json.loads((baseline_runs / "out" / "baselines-diamond-3200.json").read_text())
    median = diamond["workloads"]["forward: lot"]["methods"]["lineage"]["median_ms"]
    verdict = "met" if median <= 50 else "**missed**"
    assert f"| diamond 16x200x4 forward scope <= 50 ms | {median:.1f} ms for " in page
    assert f"nodes | {verdict} |" in page
    for shape, (nodes, _) in SHAPES.items():
        assert f"## Side by side: {shape}-{nodes}" in page
    growth = json.loads((baseline_runs / "out" / "growth-plant-2500-6000.json").read_text())
    matched = growth["workloads"]["backward: customer"]["size_matched_ratio"]
    row = "| cost follows the scope: backward: customer, the same scope sizes on the "
    assert row in page and (matched is None or f"| {matched:.2f}x at " in page)
    assert "## Cost against graph size: plant-2500-6000" in page
    for plot in ("scope-time-by-size.png", "scope-time-by-graph.png"):
        assert (to / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({plot})" in page


def test_the_live_benchmark_reads_while_writing_with_and_without_deltas(tmp_path: Path) -> None:
    """Every workload, both columns of --compare, two workers (so both kinds of visibility): the
    structure and the counts, never a time."""
    plant = tmp_path / "plant"
    generated = subprocess.run([sys.executable, "-m", "lineage.cli", "generate", str(plant), "--nodes", "2000"],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]
    work = short_tmpdir("lin-live-")
    try:
        command = [sys.executable, str(ROOT / "bench" / "bench_live.py"), "--data", str(plant),
                   "--work", str(work), "--workers", "2", "--seconds", "3", "--write-rate", "3",
                   "--clients", "8", "--bulk-records", "2000", "--memory-writes", "10", "--compare",
                   "--port", str(free_port()), "--out", str(tmp_path / "out")]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "live-plant-w2.json").read_text())
    assert results["nodes"] >= 2000 and results["relationships"] > results["nodes"]
    assert set(results["modes"]) == {"deltas", "rebuild"}
    reads_asked = {"affected", "forward", "backward: customer", "backward: complaint"}
    assert results["modes"]["rebuild"]["env"] == {"LINEAGE_INDEX_DELTAS": "false"}
    for mode, run in results["modes"].items():
        workloads = run["workloads"]
        extra = {"bulk", "memory"} if mode == "deltas" else set()
        assert set(workloads) == {"baseline", "writes", "visibility", "mixed"} | extra
        assert len(run["worker_pids"]) == 2
        for name in ("baseline", "writes", "bulk") if mode == "deltas" else ("baseline", "writes"):
            reads = workloads[name]["reads"]
            assert reads["requests"] > 0 and reads["errors"] == 0
            assert set(reads["endpoints"]) == reads_asked
            assert workloads[name]["health"]["samples"] > 0
        writes = workloads["writes"]
        assert writes["writes"]["requests"] > 0 and writes["writes"]["errors"] == 0
        assert writes["read_back"]["lost"] == 0 and writes["read_back"]["workers_checked"] == 2
        seen = workloads["visibility"]
        assert seen["writes"] > 0 and seen["write_errors"] == 0 and seen["unattributed_asks"] == 0
        assert seen["writer"]["asked"] > 0 and seen["other"] is not None
        assert seen["other"]["shown"]["count"] == seen["other"]["stale_until"]["count"] > 0
        assert seen["every_worker"]["share"] == 1.0  # every process showed every write, in time
        mixed = workloads["mixed"]
        assert mixed["requests"] > 0 and mixed["errors"] == 0 and mixed["writes_acknowledged"] > 0
        assert {"ingest", "node", "search"} <= set(mixed["endpoints"])
        assert mixed["read_back"]["lost"] == 0
        assert sum(mixed["read_back"]["missing_from_scope"].values()) == 0
    deltas = results["modes"]["deltas"]["workloads"]
    assert deltas["bulk"]["bulk"]["status"] == "200" and deltas["bulk"]["bulk"]["records"] == 2000
    assert deltas["bulk"]["timeline"] and deltas["bulk"]["writes"]["errors"] == 0
    memory = deltas["memory"]
    assert memory["statuses"] == {"200": 10} and all(memory["index_matches_fresh"])
    assert all(mb > 0 for mb in memory["live"]["rss_mb"] + memory["fresh"]["rss_mb"])
    report = (tmp_path / "out" / "live-plant-w2.md").read_text()
    assert "| measure | deltas (LINEAGE_INDEX_DELTAS=true) | rebuild (LINEAGE_INDEX_DELTAS=false) |" in report
    assert "**Visibility (3).**" in report and "## deltas: a bulk ingest during reads and writes" in report
