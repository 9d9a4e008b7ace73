"""Cost follows the scope, not the graph: the same workloads on a small and a large plant, timed
turn about in one process, so that a noisy machine slows both alike.

    .venv/bin/python bench/bench_growth.py                                    # 100k against 3M
    .venv/bin/python bench/bench_growth.py --small 100000 --large 1000000

Each plant gets its own engine (``/tmp/lineage-bench-growth-plant-<nodes>``, loaded with ``lineage
load``; ``--reuse`` keeps one a previous run loaded) and its own topology index. For each workload,
source i of the small plant and source i of the large are scoped in turn, for every source,
``--rounds`` times; a source's time is its fastest round (what the machine allows, not what a
neighbour took). Timed as the side-by-side harness times lineage: ``properties=()``, then the nodes
by kind.

Scope sizes differ from source to source and between the two graphs (a supplier of the 3M plant
reaches a fifth more than one of the 100k), so the comparison the target asks for, the same scope
size on both, is made on a straight line fitted to each graph's times against its scope sizes: its
fixed cost and its cost per node, and the ratio of the two lines at the median size over both
graphs' sources. The plain ratio of the medians is reported beside it.
Writes ``bench/out/growth-plant-<small>-<large>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from scipy.stats import theilslopes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from baselines import lineage_reach  # noqa: E402
from bench_baselines import generated, workloads  # noqa: E402
from bench_scale import build_index, lineage_cli, loadavg_line, machine, write_results  # noqa: E402

from lineage.config import Settings  # noqa: E402
from lineage.graph.model import NodeRef  # noqa: E402
from lineage.graph.store import Store  # noqa: E402


def engine(folder: Path, nodes: int, reuse: bool) -> tuple[Path, dict[str, Any]]:
    """A running engine holding the plant in ``folder``, and what its load reported."""
    db = Path(f"/tmp/lineage-bench-growth-plant-{nodes}")
    record = db / "bench-load.json"
    if reuse and record.exists() and json.loads(record.read_text())["data"] == folder.name:
        lineage_cli(db, "plant", "start")
        return db, json.loads(record.read_text())["load"]
    if db.exists():
        lineage_cli(db, "plant", "stop")
        shutil.rmtree(db)
    lineage_cli(db, "plant", "start")
    print(f"loading {folder.name} with `lineage load` ...", flush=True)
    load = json.loads(lineage_cli(db, "plant", "load", str(folder), "--json"))
    record.write_text(json.dumps({"data": folder.name, "load": load}))
    return db, load


def scope_ms(store: Store, source: NodeRef, direction: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = len(lineage_reach(store, source, direction))
    return (time.perf_counter() - started) * 1000, size


def turn_about(
    stores: dict[str, Store], sources: dict[str, list[NodeRef]], direction: str, rounds: int
) -> dict[str, list[tuple[float, int]]]:
    """(fastest ms, scope size) per source of each graph, the graphs taking turns source by source."""
    for side, store in stores.items():
        scope_ms(store, sources[side][0], direction)  # warm-up
    count = min(len(s) for s in sources.values())
    best = {side: [(math.inf, 0)] * count for side in stores}
    for _ in range(rounds):
        for i in range(count):
            for side, store in stores.items():
                best[side][i] = min(best[side][i], scope_ms(store, sources[side][i], direction))
    return best


def fitted(times: list[tuple[float, int]]) -> dict[str, float]:
    """A straight line through a graph's times against scope sizes (Theil-Sen: the median of the
    pairwise slopes, so a source the machine stalled on does not tilt it): the fixed cost of a scope
    and the cost of each node in it."""
    slope, intercept, _, _ = theilslopes([ms for ms, _ in times], [size for _, size in times])
    return {"fixed_ms": float(intercept), "us_per_node": float(slope) * 1000}


def at(fit: dict[str, float], nodes: float) -> float:
    return fit["fixed_ms"] + fit["us_per_node"] * nodes / 1000


def compare(
    stores: dict[str, Store], sources: dict[str, list[NodeRef]], direction: str, rounds: int
) -> dict[str, Any]:
    """One workload on both graphs, and their times compared at one scope size both reach: the
    median size over both graphs' sources, when it lies within each graph's range of sizes."""
    kind = sources["small"][0].label.value
    print(f"timing {direction} scopes from {kind} sources, the graphs turn about ...", flush=True)
    timed = turn_about(stores, sources, direction, rounds)
    small, large = summary(timed["small"]), summary(timed["large"])
    fits = {side: fitted(times) for side, times in timed.items()}
    pooled = statistics.median(size for times in timed.values() for _, size in times)
    lowest, highest = (
        max(small["scope_nodes_min"], large["scope_nodes_min"]),
        min(small["scope_nodes_max"], large["scope_nodes_max"]),
    )
    nodes = pooled if lowest <= pooled <= highest else None
    result = {
        "small": {**small, **fits["small"]},
        "large": {**large, **fits["large"]},
        "ratio_of_medians": large["median_ms"] / small["median_ms"],
        "compared_at_nodes": nodes,
        "size_matched_ratio": None if nodes is None else at(fits["large"], nodes) / at(fits["small"], nodes),
    }
    print(f"  {result}", flush=True)
    return result


def summary(times: list[tuple[float, int]]) -> dict[str, Any]:
    return {
        "sources": len(times),
        "median_ms": statistics.median(ms for ms, _ in times),
        "min_ms": min(ms for ms, _ in times),
        "max_ms": max(ms for ms, _ in times),
        "scope_nodes_median": statistics.median(size for _, size in times),
        "scope_nodes_min": min(size for _, size in times),
        "scope_nodes_max": max(size for _, size in times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=100_000, help="nodes of the small plant")
    parser.add_argument("--large", type=int, default=3_000_000, help="nodes of the large plant")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sources", type=int, default=100, help="lots and customers (suppliers: a fifth)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep engines a previous run loaded")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    sizes = {"small": args.small, "large": args.large}
    folders = {side: generated("plant", nodes, args.seed, args.data) for side, nodes in sizes.items()}
    samples = {side: json.loads((f / "samples.json").read_text()) for side, f in folders.items()}
    results: dict[str, Any] = {
        "machine": machine(),
        "seed": args.seed,
        "rounds": args.rounds,
        "graphs": {side: {"data": f.name} for side, f in folders.items()},
        "load_average_before": os.getloadavg(),
    }
    dbs: dict[str, Path] = {}
    try:
        for side, nodes in sizes.items():
            dbs[side], results["graphs"][side]["load"] = engine(folders[side], nodes, args.reuse)
        with ExitStack() as open_stores:
            stores = {}
            for side, db in dbs.items():
                settings = Settings(data_dir=db, graph="plant", scope_timeout_s=600)
                stores[side] = open_stores.enter_context(Store.open(settings))
                results["graphs"][side]["index"] = build_index(stores[side])
            results["workloads"] = {
                name: compare(stores, {"small": small, "large": large}, direction, args.rounds)
                for (name, small, direction), (_, large, _) in zip(
                    workloads("plant", samples["small"], args.sources),
                    workloads("plant", samples["large"], args.sources),
                    strict=True,
                )
            }
    finally:
        for db in dbs.values():
            lineage_cli(db, "plant", "stop")
    results["load_average_after"] = os.getloadavg()
    print(write_results(args.out / f"growth-plant-{args.small}-{args.large}", results, report))


def report(r: dict[str, Any]) -> str:
    graphs = r["graphs"]

    def graph(side: str) -> str:
        g = graphs[side]
        return (
            f"{g['data']}: {g['load']['nodes']:,} nodes, {g['load']['relationships']:,} relationships, "
            f"index {g['index']['seconds']} s, {g['index']['index_mb']} MB"
        )

    lines = [
        f"Machine: {r['machine']}",
        f"Small graph: {graph('small')}",
        f"Large graph: {graph('large')}",
        loadavg_line(r),
        "",
        f"Both graphs' engines and indexes in one process; source by source, the graphs take turns, "
        f"{r['rounds']} rounds, each source's fastest. Each graph's times against its scope sizes fitted "
        "with a straight line (Theil-Sen): its fixed cost and its cost per node; the size-matched ratio is "
        "the large graph's line over the small one's at the median scope size over both graphs' sources.",
        "",
        "| workload | small: median ms (scope nodes) | large: median ms (scope nodes) | ratio of medians "
        "| small: fixed ms + us/node | large: fixed ms + us/node | size-matched ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, w in r["workloads"].items():
        s, z = w["small"], w["large"]
        nodes = w["compared_at_nodes"]
        matched = (
            "no common sizes" if nodes is None else f"{w['size_matched_ratio']:.2f}x at {nodes:,.0f} nodes"
        )
        lines.append(
            f"| {name} | {s['median_ms']:.2f} ({s['scope_nodes_median']:,.0f}) | {z['median_ms']:.2f} "
            f"({z['scope_nodes_median']:,.0f}) | {w['ratio_of_medians']:.2f}x | {s['fixed_ms']:.2f} + "
            f"{s['us_per_node']:.2f} | {z['fixed_ms']:.2f} + {z['us_per_node']:.2f} | {matched} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
