"""Scale benchmark: generate a plant graph, load it with ``lineage load``, time scopes in the library.

    .venv/bin/python bench/bench_scale.py                 # 1M-node plant + diamond 16x200x4
    .venv/bin/python bench/bench_scale.py --nodes 100000  # smaller

Writes ``bench/out/scale-<nodes>.md`` and ``.json`` with the machine, the data sizes, and for each
workload the median, p95, min and max over its sources, with the scope sizes they had. Timings are
wall-clock inside the library (``lineage.graph.scope``), after one warm-up call per workload; the load is
timed as the ``lineage load`` command reports it (validation, checks and writes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lineage.config import Settings  # noqa: E402
from lineage.graph.model import Label, NodeRef  # noqa: E402
from lineage.graph.scope import Window, backward, forward  # noqa: E402
from lineage.graph.store import Store  # noqa: E402
from lineage.samples.generate import generate_plant  # noqa: E402
from lineage.samples.shapes import generate_diamond  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    except OSError:
        mem = 0
    return f"{cpu}, {os.cpu_count()} cores, {mem} GiB, Python {platform.python_version()}; {speed()}"


def speed(steps: int = 2_000_000) -> str:
    """How fast this machine runs plain Python now, the best of three timings of one loop. Our
    machines differ between sessions (the same code served the API's 32 clients 651 requests a
    second on one and 353 on another), so each run says where it stood, and runs days apart can be
    read against each other."""
    best = min(_loop(steps) for _ in range(3))
    return f"{steps:,} steps of a Python loop in {best:.2f} s"


def _loop(steps: int) -> float:
    started, total = time.perf_counter(), 0
    for i in range(steps):
        total += i
    return time.perf_counter() - started


def lineage_cli(data_dir: Path, graph: str, *args: str) -> str:
    env = {**os.environ, "LINEAGE_DATA_DIR": str(data_dir), "LINEAGE_GRAPH": graph}
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"lineage {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def timed(calls: list[tuple[str, Any]]) -> dict[str, Any]:
    """Run each (label, thunk) once after a warm-up; milliseconds and scope sizes. The time takes in
    the scope's node and edge objects (made on first use), as every caller that lists them pays."""
    len(calls[0][1]().nodes)  # the warm-up
    times, sizes = [], []
    for _, thunk in calls:
        started = time.perf_counter()
        nodes = thunk().nodes
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(nodes))
    times_sorted = sorted(times)
    return {
        "runs": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": times_sorted[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "min_ms": times_sorted[0],
        "max_ms": times_sorted[-1],
        "scope_nodes_median": statistics.median(sizes),
        "scope_nodes_min": min(sizes),
        "scope_nodes_max": max(sizes),
    }


def build_index(store: Store) -> dict[str, Any]:
    """Build the topology index scopes walk, as `lineage serve` does at start; its time and size."""
    print("building the topology index ...", flush=True)
    topology = store.topology.build()
    report = {
        "seconds": round(topology.built_s, 1),
        "nodes": topology.nodes(),
        "relationships": topology.relationships(),
        "index_mb": round(topology.nbytes() / 2**20, 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(f"  {report}", flush=True)
    return report


def run_workloads(store: Store, workloads: dict[str, list[tuple[str, Any]]], into: dict[str, Any]) -> None:
    for name, calls in workloads.items():
        print(f"timing {name} ({len(calls)} sources) ...", flush=True)
        into[name] = timed(calls)
        print(f"  {into[name]}", flush=True)


def shift_scope(store: Store, shift: dict[str, Any]) -> Any:
    window = Window(start=shift["from"], end=shift["to"])
    return forward(store, NodeRef(Label.MACHINE, shift["machine"]), window)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    plant_dir = args.data / f"plant-{args.nodes}-s{args.seed}"
    diamond_dir = args.data / "diamond-16x200x4"
    if not (plant_dir / "samples.json").exists():
        print(f"generating {args.nodes:,}-node plant into {plant_dir} ...", flush=True)
        started = time.perf_counter()
        generate_plant(plant_dir, nodes=args.nodes, seed=args.seed)
        print(f"  {time.perf_counter() - started:.1f} s", flush=True)
    if not (diamond_dir / "samples.json").exists():
        generate_diamond(diamond_dir, levels=16, width=200, fan_in=4, seed=args.seed)
    samples = json.loads((plant_dir / "samples.json").read_text())

    db = Path(f"/tmp/lineage-bench-{args.nodes}")
    shutil.rmtree(db, ignore_errors=True)
    lineage_cli(db, "plant", "start")
    results: dict[str, Any] = {
        "machine": machine(),
        "nodes_requested": args.nodes,
        "seed": args.seed,
        "load_average_before": os.getloadavg(),
    }
    try:
        print("loading the plant with `lineage load` ...", flush=True)
        load_report = json.loads(lineage_cli(db, "plant", "load", str(plant_dir), "--json"))
        results["load_plant"] = load_report
        rate = load_report["items_per_second"]
        print(f"  {load_report['nodes']:,} nodes + {load_report['relationships']:,} relationships, "
              f"{load_report['seconds']}, {rate:,} per second", flush=True)  # fmt: skip
        results["load_diamond"] = json.loads(lineage_cli(db, "diamond", "load", str(diamond_dir), "--json"))

        settings = Settings(data_dir=db, graph="plant", scope_max_nodes=2_000_000, scope_timeout_s=120)
        with Store.open(settings) as store:
            results["server_memory"] = store.info().details.get("used_memory")
            results["index"] = build_index(store)
            lots = samples["lots"]
            workloads: dict[str, list[tuple[str, Any]]] = {
                "forward: lot (typical)": [
                    (lot, lambda lot=lot: forward(store, NodeRef(Label.MATERIAL_LOT, lot))) for lot in lots
                ],
                "forward: machine over a shift": [
                    (w["machine"], lambda w=w: shift_scope(store, w)) for w in samples["machine_windows"]
                ],
                "backward: customer": [
                    (c, lambda c=c: backward(store, NodeRef(Label.CUSTOMER, c))) for c in samples["customers"]
                ],
                "backward: complaint": [
                    (c, lambda c=c: backward(store, NodeRef(Label.COMPLAINT, c)))
                    for c in samples["complaints"]
                ],
            }
            suppliers = samples["suppliers"][:20]
            workloads["forward: supplier"] = [
                (s, lambda s=s: forward(store, NodeRef(Label.SUPPLIER, s))) for s in suppliers
            ]
            workloads["forward: supplier, no properties"] = [
                (s, lambda s=s: forward(store, NodeRef(Label.SUPPLIER, s), properties=())) for s in suppliers
            ]
            results["workloads"] = {}
            run_workloads(store, workloads, results["workloads"])
            store.topology.drop()
            cypher = {
                f"{name} [Cypher walk]": calls for name, calls in workloads.items() if "supplier" in name
            }
            cypher["forward: lot (typical) [Cypher walk]"] = workloads["forward: lot (typical)"]
            run_workloads(store, cypher, results["workloads"])
        with Store.open(Settings(data_dir=db, graph="diamond", scope_timeout_s=120)) as store:
            results["index_diamond"] = build_index(store)
            calls = [(lot, lambda lot=lot: forward(store, NodeRef(Label.MATERIAL_LOT, lot)))
                     for lot in json.loads((diamond_dir / "samples.json").read_text())["lots"]]  # fmt: skip
            calls += [("DS", lambda: forward(store, NodeRef(Label.SUPPLIER, "DS")))]
            diamond = {"forward: diamond 16x200x4": calls}
            run_workloads(store, diamond, results["workloads"])
            store.topology.drop()
            run_workloads(store, {"forward: diamond 16x200x4 [Cypher walk]": calls}, results["workloads"])
    finally:
        lineage_cli(db, "plant", "stop")

    results["load_average_after"] = os.getloadavg()
    print(write_results(args.out / f"scale-{args.nodes}", results, markdown))


def write_results(stem: Path, results: dict[str, Any], render: Any) -> str:
    """``<stem>.json`` with every figure and ``<stem>.md`` for people; returns the Markdown."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    text = render(results)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(text)
    return text


def markdown(r: dict[str, Any]) -> str:
    load = r["load_plant"]
    lines = [
        f"Machine: {r['machine']}",
        f"Plant graph: {load['nodes']:,} nodes, {load['relationships']:,} relationships (seed {r['seed']}); "
        f"FalkorDB server memory after load: {r.get('server_memory')}",
        loadavg_line(r),
        "",
        f"Load (`lineage load`, {load['method']}, validation included): "
        f"{load['items_per_second']:,} nodes+relationships/s "
        f"(validate {load['seconds']['validate']:.1f} s, check {load['seconds']['check']:.1f} s, "
        f"write {load['seconds']['write']:.1f} s)",
        "",
        f"Topology index (built once per process, as `lineage serve` does at start): {_index(r['index'])}; "
        f"diamond: {_index(r['index_diamond'])}",
        "",
        "Scopes walk the index unless marked [Cypher walk] (the database, one query per level).",
        "",
        "| workload | sources | scope nodes (median, min-max) | median ms | p95 ms | min-max ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, w in r["workloads"].items():
        lines.append(
            f"| {name} | {w['runs']} | {w['scope_nodes_median']:,.0f} "
            f"({w['scope_nodes_min']:,}-{w['scope_nodes_max']:,}) "
            f"| {w['median_ms']:.1f} | {w['p95_ms']:.1f} | {w['min_ms']:.1f}-{w['max_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _index(i: dict[str, Any]) -> str:
    return (
        f"{i['seconds']} s for {i['nodes']:,} nodes and {i['relationships']:,} relationships, "
        f"{i['index_mb']} MB of arrays and packed properties, "
        f"process peak RSS {i['process_peak_rss_mb']} MB"
    )


def loadavg_text(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def loadavg_line(r: dict[str, Any]) -> str:
    """A run's load average before and after, read against the machine's 2 cores."""
    return (
        f"Load average (1, 5, 15 min) before: {loadavg_text(r['load_average_before'])}, "
        f"after: {loadavg_text(r['load_average_after'])}; on 2 cores, above 2 means other work competed"
    )


if __name__ == "__main__":
    main()
