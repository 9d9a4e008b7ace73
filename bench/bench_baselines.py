"""Side by side: lineage's scopes against networkx, scipy, PostgreSQL and the naive Cypher pattern.

    .venv/bin/python bench/bench_baselines.py                                 # the 100k-node plant
    .venv/bin/python bench/bench_baselines.py --shape diamond --nodes 1000000
    .venv/bin/python bench/bench_baselines.py --shape distribution --nodes 1000000

Every source is scoped by every method in turn, in the same process, on the same data, and each
answer is checked against lineage's (a mismatch stops the run: a fast wrong answer is no baseline).
Writes ``bench/out/baselines-<shape>-<nodes>.md`` and ``.json``: per workload and method the median and p95
in ms, and the ratio of each median to lineage's from this run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from baselines import InMemory, Postgres, flow_edges, key, lineage_reach, postgres_binaries  # noqa: E402
from bench_scale import build_index, lineage_cli, loadavg_line, machine, write_results  # noqa: E402

from lineage.config import Settings  # noqa: E402
from lineage.errors import QueryTimeout  # noqa: E402
from lineage.graph.model import Label, NodeRef  # noqa: E402
from lineage.graph.scope import forward, why  # noqa: E402
from lineage.graph.store import Store  # noqa: E402
from lineage.samples.generate import generate_plant  # noqa: E402
from lineage.samples.shapes import generate_diamond, generate_distribution  # noqa: E402

Method = Callable[[NodeRef, str], set[str]]


def _ms(thunk: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = thunk()
    return (time.perf_counter() - started) * 1000, result


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
    }


def compare(
    sources: list[NodeRef], direction: str, lineage: Method, baselines: dict[str, Method]
) -> dict[str, Any]:
    """Time every method on every source (after one warm-up call each); stop on any wrong answer."""
    methods = {"lineage": lineage, **baselines}
    for method in methods.values():
        method(sources[0], direction)
    times: dict[str, list[float]] = {name: [] for name in methods}
    sizes = []
    for source in sources:
        expected: set[str] | None = None
        for name, method in methods.items():
            elapsed, answer = _ms(lambda method=method, source=source: method(source, direction))
            times[name].append(elapsed)
            if expected is None:
                expected = answer
                sizes.append(len(answer))
            elif answer != expected:
                missing, extra = sorted(expected - answer)[:5], sorted(answer - expected)[:5]
                raise SystemExit(
                    f"{name} disagrees with lineage on the {direction} scope of {key(source)}: "
                    f"missing {missing}, extra {extra}"
                )
    result: dict[str, Any] = {
        "sources": len(sources),
        "scope_nodes_median": statistics.median(sizes),
        "scope_nodes_min": min(sizes),
        "scope_nodes_max": max(sizes),
        "methods": {name: _summary(t) for name, t in times.items()},
    }
    base = result["methods"]["lineage"]["median_ms"]
    for summary in result["methods"].values():
        summary["ratio_to_lineage"] = summary["median_ms"] / base
    return result


def naive(store: Store, lots: list[str], cap_s: float) -> dict[str, Any]:
    """The ``-[*]->`` pattern from each lot under a time cap; answers checked against lineage's
    batches, shipments and sales (the pattern follows the stored direction, so it misses the
    customers who sold)."""
    times, capped = [], 0
    for uid in lots:
        lot = NodeRef(Label.MATERIAL_LOT, uid)
        try:
            elapsed, rows = _ms(
                lambda lot=lot: store.run("bench_naive_lot_forward", timeout_s=cap_s, uid=lot.uid)
            )
        except QueryTimeout:
            capped += 1
            times.append(cap_s * 1000)
            continue
        times.append(elapsed)
        wanted = (Label.BATCH.value, Label.SHIPMENT.value, Label.SALE.value)
        got = {f"{r['label']}:{r['uid']}" for r in rows if r["label"] in wanted}
        scope = forward(store, lot, properties=())
        expected = {f"{n.label.value}:{n.uid}" for n in scope.nodes if n.label.value in wanted}
        if got != expected:
            raise SystemExit(f"the naive pattern disagrees with lineage on {uid}")
    # A query can take longer than the cap and not be stopped by it (the 3M distribution network's
    # took 12-20 s under a 10 s cap, with a million rows to send): counted apart, not as answered in time.
    past = sum(1 for ms in times if ms > cap_s * 1000) - capped
    return {"sources": len(lots), "capped": capped, "past_cap": past, "cap_s": cap_s, **_summary(times)}


#: Diamonds are 16 levels of nodes each consuming 4 of the level before; --nodes sets the width.
DIAMOND_LEVELS, DIAMOND_FAN_IN = 16, 4


def generated(shape: str, nodes: int, seed: int, data: Path) -> Path:
    """The shape's seeded data in ``data`` (generated once, then reused)."""
    if shape == "diamond":
        width = max(2, nodes // DIAMOND_LEVELS)
        folder = data / f"diamond-{DIAMOND_LEVELS}x{width}x{DIAMOND_FAN_IN}"
        make: Callable[[], Any] = lambda: generate_diamond(  # noqa: E731
            folder, levels=DIAMOND_LEVELS, width=width, fan_in=DIAMOND_FAN_IN, seed=seed
        )
    else:
        folder = data / f"{shape}-{nodes}-s{seed}"
        make = lambda: GENERATORS[shape](folder, nodes=nodes, seed=seed)  # noqa: E731
    if not (folder / "samples.json").exists():
        print(f"generating {shape} ({nodes:,} nodes) into {folder} ...", flush=True)
        make()
    return folder


GENERATORS = {"plant": generate_plant, "distribution": generate_distribution}


def workloads(shape: str, samples: dict[str, Any], count: int) -> list[tuple[str, list[NodeRef], str]]:
    """(name, sources, direction) for each shape: the sources its users would scope from."""

    def refs(label: Label, key: str, limit: int = count) -> list[NodeRef]:
        return [NodeRef(label, uid) for uid in samples[key][:limit]]

    if shape == "diamond":
        return [
            ("forward: lot", refs(Label.MATERIAL_LOT, "lots"), "forward"),
            ("forward: supplier", refs(Label.SUPPLIER, "suppliers"), "forward"),
        ]
    if shape == "distribution":
        return [
            ("forward: batch", refs(Label.BATCH, "batches"), "forward"),
            ("forward: lot", refs(Label.MATERIAL_LOT, "lots"), "forward"),
            ("forward: supplier", refs(Label.SUPPLIER, "suppliers"), "forward"),
            ("backward: customer", refs(Label.CUSTOMER, "customers"), "backward"),
        ]
    return [
        ("forward: lot", refs(Label.MATERIAL_LOT, "lots"), "forward"),
        ("forward: supplier", refs(Label.SUPPLIER, "suppliers", max(1, count // 5)), "forward"),
        ("backward: customer", refs(Label.CUSTOMER, "customers"), "backward"),
    ]


def why_paths(store: Store, memory: InMemory, lots: list[NodeRef]) -> dict[str, Any]:
    """``why`` from a lot to the farthest customer in its scope (the farthest node where there are no
    customers), against networkx's shortest path on the flow graph (the same length: the check)."""
    lineage_times, networkx_times, lengths = [], [], []
    for lot in lots:
        scope = forward(store, lot, properties=())
        ends = [n for n in scope.nodes if n.label == Label.CUSTOMER] or scope.nodes  # a diamond has none
        target = max(ends, key=lambda n: (n.depth, n.uid)).ref
        if target == lot:
            continue
        elapsed, path = _ms(lambda lot=lot, target=target: why(store, lot, target))
        lineage_times.append(elapsed)
        elapsed, reference = _ms(lambda lot=lot, target=target: memory.path(lot, target))
        networkx_times.append(elapsed)
        if len(path.edges) != len(reference) - 1:
            raise SystemExit(f"networkx finds a shorter explanation of {key(target)} from {key(lot)}")
        lengths.append(len(path.edges))
    if not lengths:
        return {"sources": 0}
    methods = {"lineage": _summary(lineage_times), "networkx": _summary(networkx_times)}
    return {"sources": len(lengths), "path_length_median": statistics.median(lengths), "methods": methods}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shape", choices=("plant", "diamond", "distribution"), default="plant")
    parser.add_argument("--nodes", type=int, default=100_000, help="about this many (diamond: 16 x nodes/16)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sources", type=int, default=100, help="lots and customers (suppliers: a fifth)")
    parser.add_argument("--naive-cap", type=float, default=10.0, help="seconds per naive Cypher query")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    folder = generated(args.shape, args.nodes, args.seed, args.data)
    samples = json.loads((folder / "samples.json").read_text())
    name = f"{args.shape}-{args.nodes}"
    results: dict[str, Any] = {
        "machine": machine(),
        "shape": args.shape,
        "nodes_requested": args.nodes,
        "seed": args.seed,
        "data": folder.name,
        "load_average_before": os.getloadavg(),
    }
    db = Path(f"/tmp/lineage-bench-baselines-{name}")
    shutil.rmtree(db, ignore_errors=True)
    lineage_cli(db, args.shape, "start")
    postgres = None
    try:
        print(f"loading {folder.name} with `lineage load` ...", flush=True)
        results["load"] = json.loads(lineage_cli(db, args.shape, "load", str(folder), "--json"))
        print("reading the flow graph for the baselines ...", flush=True)
        edges = list(flow_edges(folder))
        results["flow_edges"] = len(edges)
        started = time.perf_counter()
        memory = InMemory(edges)
        results["in_memory_build_s"] = time.perf_counter() - started
        baselines: dict[str, Method] = {"networkx": memory.networkx, "scipy CSR": memory.scipy}
        if postgres_binaries() is not None:
            print("starting PostgreSQL and copying the edges in ...", flush=True)
            started = time.perf_counter()
            postgres = Postgres()
            postgres.load(edges)
            results["postgres_load_s"] = time.perf_counter() - started
            baselines["PostgreSQL recursive CTE"] = postgres.reach
        else:
            results["postgres"] = "not installed: apt-get install postgresql-15"
        del edges

        settings = Settings(data_dir=db, graph=args.shape, scope_max_nodes=5_000_000, scope_timeout_s=600)
        with Store.open(settings) as store:
            results["index"] = build_index(store)
            results["server_memory"] = store.info().details.get("used_memory")

            by_lineage = partial(lineage_reach, store)
            results["workloads"] = {}
            for workload, sources, direction in workloads(args.shape, samples, args.sources):
                print(f"timing {workload} ({len(sources)} sources) ...", flush=True)
                results["workloads"][workload] = compare(sources, direction, by_lineage, baselines)
            lots = [NodeRef(Label.MATERIAL_LOT, uid) for uid in samples["lots"][: args.sources]]
            print(f"timing why paths from {len(lots)} lots ...", flush=True)
            results["why"] = why_paths(store, memory, lots)
            print(f"timing the naive pattern from {min(10, len(lots))} lots ...", flush=True)
            results["naive_cypher"] = naive(store, [lot.uid for lot in lots[:10]], args.naive_cap)
        results["process_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        if postgres is not None:
            postgres.close()
        lineage_cli(db, args.shape, "stop")
    results["load_average_after"] = os.getloadavg()

    print(write_results(args.out / f"baselines-{name}", results, report))


def report(r: dict[str, Any]) -> str:
    load = r["load"]
    lines = [
        f"Machine: {r['machine']}",
        f"Graph: {r['shape']} ({r['data']}), {load['nodes']:,} nodes, "
        f"{load['relationships']:,} relationships; flow graph for the baselines: {r['flow_edges']:,} edges",
        f"Load (`lineage load`, validation included): {load['items_per_second']:,} nodes+relationships/s; "
        f"topology index {r['index']['seconds']} s, {r['index']['index_mb']} MB; FalkorDB server memory "
        f"{r['server_memory']}; this process's peak RSS (lineage, networkx and scipy together) "
        f"{r['process_peak_rss_mb']:,} MB",
        loadavg_line(r),
        "",
        "Every method answered every source with the same node set as lineage (checked in the run).",
        "lineage: the library's scope over its topology index (`properties=()`), asked which nodes it holds "
        "by kind (`Scope.uids_by_label`), as the baselines answer: node names, no objects per node.",
        "",
        "| workload | sources | scope nodes (median, min-max) | method | median ms | p95 ms | x lineage |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, w in r["workloads"].items():
        size = f"{w['scope_nodes_median']:,.0f} ({w['scope_nodes_min']:,}-{w['scope_nodes_max']:,})"
        for method, m in w["methods"].items():
            lines.append(
                f"| {name} | {w['sources']} | {size} | {method} | {m['median_ms']:.1f} | {m['p95_ms']:.1f} "
                f"| {m['ratio_to_lineage']:.2f} |"
            )
    why = r["why"]
    if why["sources"]:
        lineage, networkx = why["methods"]["lineage"], why["methods"]["networkx"]
        lines += [
            "",
            f"Why paths, from {why['sources']} lots to the farthest customer (or node) in each scope "
            f"(median {why['path_length_median']:g} relationships, the same length as networkx's shortest "
            f"path): lineage `why` median {lineage['median_ms']:.1f} ms (p95 {lineage['p95_ms']:.1f}; "
            f"it scopes, then walks back), networkx `shortest_path` {networkx['median_ms']:.1f} ms.",
        ]
    n = r["naive_cypher"]
    lines += [
        "",
        f"Naive Cypher `-[*]->` from {n['sources']} lots, capped at {n['cap_s']:g} s each: median "
        f"{n['median_ms']:.1f} ms, max {n['max_ms']:.1f} ms, {n['capped']} stopped at the cap"
        + (f", {n['past_cap']} took longer without being stopped." if n.get("past_cap") else "."),
    ]
    if "postgres" in r:
        lines.append(f"PostgreSQL: {r['postgres']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
