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

Scope sizes differ from source to source and between the two graphs, so the comparison the target
asks for, the same scope size on both, is made per band of sizes (a factor 1.5 wide): in every band
holding at least ``--band-min`` sources of each graph, the ratio of their median times; overall, the
mean of those ratios weighted by the smaller count. The plain ratio of the medians is reported too.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from baselines import lineage_reach  # noqa: E402
from bench_baselines import generated, workloads  # noqa: E402
from bench_scale import build_index, lineage_cli, loadavg_line, machine, write_results  # noqa: E402

from lineage.config import Settings  # noqa: E402
from lineage.model import NodeRef  # noqa: E402
from lineage.scope import backward, forward  # noqa: E402
from lineage.store import Store  # noqa: E402

#: Scope sizes within a factor of this are compared with each other.
BAND_WIDTH = 1.5


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
    scope = (forward if direction == "forward" else backward)(store, source, properties=())
    size = len(lineage_reach(scope, direction))
    return (time.perf_counter() - started) * 1000, size


def turn_about(
    stores: dict[str, Store], sources: dict[str, list[NodeRef]], direction: str, rounds: int
) -> dict[str, list[tuple[float, int]]]:
    """(fastest ms, scope size) per source of each graph, the graphs taking turns source by source."""
    for side, store in stores.items():
        scope_ms(store, sources[side][0], direction)  # warm-up
    best: dict[str, list[tuple[float, int]]] = {side: [] for side in stores}
    count = min(len(s) for s in sources.values())
    for _ in range(rounds):
        for i in range(count):
            for side, store in stores.items():
                ms, size = scope_ms(store, sources[side][i], direction)
                times = best[side]
                if len(times) <= i:
                    times.append((ms, size))
                else:
                    times[i] = (min(times[i][0], ms), size)
    return best


def bands(small: list[tuple[float, int]], large: list[tuple[float, int]], least: int) -> list[dict[str, Any]]:
    """The size bands both graphs have at least ``least`` sources in, with each graph's median time."""

    def band(size: int) -> int:
        return math.floor(math.log(max(size, 1), BAND_WIDTH))

    found = []
    for b in sorted({band(size) for _, size in small} & {band(size) for _, size in large}):
        a = [ms for ms, size in small if band(size) == b]
        z = [ms for ms, size in large if band(size) == b]
        if len(a) >= least and len(z) >= least:
            lo, hi = math.ceil(BAND_WIDTH**b), math.ceil(BAND_WIDTH ** (b + 1)) - 1
            small_ms, large_ms = statistics.median(a), statistics.median(z)
            found.append(
                {
                    "scope_nodes": [lo, hi],
                    "small_sources": len(a),
                    "large_sources": len(z),
                    "small_ms": small_ms,
                    "large_ms": large_ms,
                    "ratio": large_ms / small_ms,
                }
            )
    return found


def compare(
    stores: dict[str, Store], sources: dict[str, list[NodeRef]], direction: str, rounds: int, least: int
) -> dict[str, Any]:
    kind = sources["small"][0].label.value
    print(f"timing {direction} scopes from {kind} sources, the graphs turn about ...", flush=True)
    timed = turn_about(stores, sources, direction, rounds)
    small, large = summary(timed["small"]), summary(timed["large"])
    found = bands(timed["small"], timed["large"], least)
    weights = [min(b["small_sources"], b["large_sources"]) for b in found]
    matched = None
    if found:
        matched = sum(w * b["ratio"] for w, b in zip(weights, found, strict=True)) / sum(weights)
    result = {
        "small": small,
        "large": large,
        "ratio_of_medians": large["median_ms"] / small["median_ms"],
        "bands": found,
        "size_matched_ratio": matched,
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
    parser.add_argument("--band-min", type=int, default=5, help="sources of each graph a band needs")
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
        "band_width": BAND_WIDTH,
        "band_min": args.band_min,
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
                name: compare(stores, {"small": small, "large": large}, direction, args.rounds, args.band_min)
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
        f"{r['rounds']} rounds, each source's fastest. Size-matched: sources grouped in bands of scope "
        f"size {r['band_width']:g}x wide; in each band with at least {r['band_min']} sources of each graph, "
        "the ratio of the median times; overall, their mean weighted by the smaller count.",
        "",
        "| workload | small: median ms (scope nodes) | large: median ms (scope nodes) | ratio of medians "
        "| size-matched ratio | bands (nodes: small n / large n, ratio) |",
        "|---|---|---|---|---|---|",
    ]
    for name, w in r["workloads"].items():
        s, z = w["small"], w["large"]
        found = "; ".join(
            f"{b['scope_nodes'][0]:,}-{b['scope_nodes'][1]:,}: {b['small_sources']}/{b['large_sources']}, "
            f"{b['ratio']:.2f}x"
            for b in w["bands"]
        )
        matched = "no common sizes" if w["size_matched_ratio"] is None else f"{w['size_matched_ratio']:.2f}x"
        lines.append(
            f"| {name} | {s['median_ms']:.2f} ({s['scope_nodes_median']:,.0f}) | {z['median_ms']:.2f} "
            f"({z['scope_nodes_median']:,.0f}) | {w['ratio_of_medians']:.2f}x | {matched} | {found or '-'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
