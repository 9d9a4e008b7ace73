"""Gathers the benchmarks' results into ``bench/RESULTS.md`` and two plots, and checks the targets.

    .venv/bin/python bench/report.py              # reads bench/out/*.json

Reads what ``bench_baselines.py``, ``bench_api.py``, ``bench_scale.py``, ``bench_growth.py``,
``bench_ui.py`` and ``bench_live.py`` wrote in ``bench/out``
and writes, next to this file, ``RESULTS.md`` (the tables, and every target of the benchmark issue
with the figure it was judged on, the run it came from, and met or missed) and the plots
``scope-time-by-size.png`` (scope time against scope size, every method) and
``scope-time-by-graph.png`` (the same workloads on graphs of growing size). Figures are copied from
the runs, never typed in: rerun the runs, then this, and the page follows.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
METHODS = ("lineage", "networkx", "scipy CSR", "PostgreSQL recursive CTE")
MARKERS = {"lineage": "o", "networkx": "s", "scipy CSR": "^", "PostgreSQL recursive CTE": "D"}


def runs(out: Path, prefix: str) -> dict[str, dict[str, Any]]:
    """``<prefix>-*.json`` by the rest of the name, ordered by shape, then graph size."""
    found = {p.stem[len(prefix) + 1 :]: json.loads(p.read_text()) for p in out.glob(f"{prefix}-*.json")}
    return dict(sorted(found.items(), key=lambda kv: (kv[0].split("-")[0], _size(kv[1]))))


def _size(run: dict[str, Any]) -> int:
    return int(run.get("load", {}).get("nodes") or run.get("nodes") or 0)


def _nodes(growth: dict[str, Any], side: str) -> int:
    return int(growth["graphs"][side]["load"]["nodes"])


def plot_by_size(baselines: dict[str, dict[str, Any]], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(8, 5.5))
    for method in METHODS:
        points = sorted(
            (w["scope_nodes_median"], w["methods"][method]["median_ms"])
            for run in baselines.values()
            for w in run["workloads"].values()
            if method in w["methods"] and w["scope_nodes_median"] > 0
        )
        if points:
            axes.plot(*zip(*points, strict=True), MARKERS[method], label=method, alpha=0.8)
    axes.set(
        xscale="log",
        yscale="log",
        xlabel="scope size (nodes, median of the workload's sources)",
        ylabel="median time per scope (ms)",
        title="Scope time against scope size (every shape and graph size)",
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_by_graph(baselines: dict[str, dict[str, Any]], path: Path) -> None:
    plants = [run for run in baselines.values() if run["shape"] == "plant"]
    names = sorted({name for run in plants for name in run["workloads"]})
    figure, panels = plt.subplots(
        1, max(1, len(names)), figsize=(4.2 * max(1, len(names)), 4.5), squeeze=False
    )
    for axes, name in zip(panels[0], names, strict=False):
        for method in METHODS:
            points = sorted(
                (_size(run), run["workloads"][name]["methods"][method]["median_ms"])
                for run in plants
                if name in run["workloads"] and method in run["workloads"][name]["methods"]
            )
            if points:
                axes.plot(*zip(*points, strict=True), marker=MARKERS[method], label=method)
        axes.set(
            xscale="log",
            yscale="log",
            xlabel="graph size (nodes)",
            ylabel="median ms",
            title=f"plant: {name}",
        )
        axes.grid(True, which="both", alpha=0.3)
    if plants:
        panels[0][0].legend(fontsize="small")
    figure.suptitle("Scope time as the plant graph grows (the scope sizes stay alike)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _table(md: str) -> str:
    """The Markdown table and the lines after it from a run's page (its header lines dropped)."""
    lines = md.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    return "\n".join(lines[start:]).strip()


def _header(md: str) -> str:
    """A run's header lines (machine, data, load average...) as a list."""
    lines = md.splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    return "\n".join(f"- {line}" for line in lines[:end] if line.strip())


def targets(
    baselines: dict[str, Any], api: dict[str, Any], scale: dict[str, Any], growth: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every target of the benchmark issue this data can judge."""
    rows: list[tuple[str, str, str]] = []

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**missed**")

    plant_1m = baselines.get("plant-1000000")
    for api_1m in (r for k, r in api.items() if k.startswith("plant-1000000")):
        workers = f"`lineage serve --workers {api_1m['workers']}`"
        one = next((r for r in api_1m["runs"] if r["clients"] == 1), None)
        if one and "affected" in one["endpoints"]:
            e = one["endpoints"]["affected"]
            rows.append(
                (
                    "typical lot through the API (`/lots/{uid}/affected`, 1 client, 1M plant): "
                    "p50 <= 5 ms, p99 <= 20 ms",
                    f"p50 {e['p50_ms']:.1f} ms, p99 {e['p99_ms']:.1f} ms ({workers})",
                    verdict(e["p50_ms"] <= 5 and e["p99_ms"] <= 20),
                )
            )
        closed = next((r for r in api_1m["runs"] if r["clients"] == 32 and not r.get("offered_per_s")), None)
        paced = next((r for r in api_1m["runs"] if r["clients"] == 32 and r.get("offered_per_s")), None)
        for busy in (r for r in (paced, closed) if r):
            errors = sum(n for status, n in busy["statuses"].items() if status != "200")
            p99 = max(e["p99_ms"] for e in busy["endpoints"].values())
            rate = busy["requests_per_s"]
            measured = f"{rate:.0f} requests/s, p99 {p99:.0f} ms, {errors} errors ({workers})"
            if busy is paced:
                how = f"asked {busy['offered_per_s']:g} times a second"
                ok = busy["offered_per_s"] >= 300 and rate >= 0.98 * busy["offered_per_s"]
            else:
                how = "each asking again at once: at most the server can do"
                ok = rate >= 300
                # Little's law: each client waits for its answer, so the mean wait is clients / rate.
                clients = busy["clients"]
                measured += (
                    f"; with {clients} clients each waiting for its answer the mean wait is {clients} / "
                    f"{rate:.0f} = {1000 * clients / rate:.0f} ms (a mean of 50 ms is {clients * 20} "
                    "requests/s), so a p99 of 50 ms needs a server several times faster than that"
                )
            rows.append(
                (
                    f"32 concurrent clients ({how}): >= 300 requests/s, p99 <= 50 ms, no errors",
                    measured,
                    verdict(ok and p99 <= 50 and errors == 0),
                )
            )
    for run in api.values():
        if "export" in run:
            x = run["export"]
            nodes, edges = x["nodes"], x["edges"]
            rows.append(
                (
                    "a scope larger than memory-friendly limits streams instead of failing",
                    f"{run['data']}, forward scope of {x['source']}: a page answers {x['page_status']}, the "
                    f"export streams {nodes['rows']:,} nodes in {nodes['seconds']:.0f} s and "
                    f"{edges['rows']:,} relationships in {edges['seconds']:.0f} s; API peak memory "
                    f"{run['api_peak_rss_mb']:,.0f} MB",
                    verdict(nodes["status"] == 200 and edges["status"] == 200 and nodes["rows"] > 200_000),
                )
            )
    scale_1m = scale.get("1000000")
    if scale_1m and "forward: supplier" in scale_1m["workloads"]:
        w = scale_1m["workloads"]["forward: supplier"]
        rows.append(
            (
                "supplier-wide scope (~10k nodes), 1M plant: p50 <= 100 ms (with properties and objects)",
                f"{w['median_ms']:.0f} ms for {w['scope_nodes_median']:,.0f} nodes (bench_scale)",
                verdict(w["median_ms"] <= 100),
            )
        )
    elif plant_1m:
        w = plant_1m["workloads"]["forward: supplier"]
        rows.append(
            (
                "supplier-wide scope (~10k nodes), 1M plant: p50 <= 100 ms",
                f"{w['methods']['lineage']['median_ms']:.0f} ms for {w['scope_nodes_median']:,.0f} nodes "
                "(node ids only)",
                verdict(w["methods"]["lineage"]["median_ms"] <= 100),
            )
        )
    diamond = baselines.get("diamond-3200")
    if diamond:
        w = diamond["workloads"]["forward: lot"]
        rows.append(
            (
                "diamond 16x200x4 forward scope <= 50 ms",
                f"{w['methods']['lineage']['median_ms']:.1f} ms for {w['scope_nodes_median']:,.0f} nodes",
                verdict(w["methods"]["lineage"]["median_ms"] <= 50),
            )
        )
    if growth:  # the pair of graphs farthest apart in size
        run = max(growth.values(), key=lambda r: _nodes(r, "large") / max(1, _nodes(r, "small")))
        small, large = _nodes(run, "small"), _nodes(run, "large")
        for name, w in run["workloads"].items():
            matched, nodes = w["size_matched_ratio"], w["compared_at_nodes"]
            sizes = f"{w['small']['scope_nodes_median']:,.0f} and {w['large']['scope_nodes_median']:,.0f}"
            rows.append(
                (
                    f"cost follows the scope: {name}, the same scope sizes on the {small:,} and the "
                    f"{large:,}-node plant within 1.5x",
                    (
                        "no scope sizes in common"
                        if matched is None
                        else f"{matched:.2f}x at {nodes:,.0f} nodes"
                    )
                    + f" ({w['ratio_of_medians']:.2f}x of the medians, scopes of {sizes} nodes; "
                    "both graphs in one run, turn about, a line fitted to each)",
                    verdict(None if matched is None else matched <= 1.5),
                )
            )
    if plant_1m:
        for name, w in plant_1m["workloads"].items():
            m = w["methods"]
            if "PostgreSQL recursive CTE" in m:
                ours, theirs = m["lineage"]["median_ms"], m["PostgreSQL recursive CTE"]["median_ms"]
                faster = theirs / ours
                rows.append(
                    (
                        f"{name} (1M plant): >= 5x faster than PostgreSQL's recursive CTE",
                        f"{faster:.2f}x (lineage {ours:.2f} ms, PostgreSQL {theirs:.2f} ms"
                        + ("" if faster >= 5 else f"; 5x needs lineage at {theirs / 5:.2f} ms")
                        + ")",
                        verdict(faster >= 5),
                    )
                )
            slower = m["lineage"]["median_ms"] / m["networkx"]["median_ms"]
            rows.append(
                (
                    f"{name} (1M plant): within 10x of networkx",
                    f"{slower:.1f}x networkx's time",
                    verdict(slower <= 10),
                )
            )
        rate = plant_1m["load"]["items_per_second"]
        rows.append(
            (
                "load >= 100,000 nodes+relationships/s with validation (1M plant)",
                f"{rate:,}/s",
                verdict(rate >= 100_000),
            )
        )
    return rows


def live_targets(live: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the live index's targets (issue 29), each run on its own
    graph: bench_live.py's deltas mode."""
    rows: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    for run in live.values():
        w = run["modes"]["deltas"]["workloads"]
        on = f"{run['nodes']:,}-node plant, `--workers {run['workers']}`"
        before, during = w["baseline"]["reads"]["endpoints"], w["writes"]["reads"]["endpoints"]
        ratios = [
            max(during[e]["p50_ms"] / before[e]["p50_ms"], during[e]["p99_ms"] / before[e]["p99_ms"])
            for e in before
        ]
        fallbacks = w["writes"]["health"]["fallbacks"]
        rows.append(
            (
                f"reads with 10 small writes/s within 1.5x of no writes, p50 and p99, 0 fallbacks ({on})",
                f"at most {max(ratios):.2f}x over {len(ratios)} endpoints; {fallbacks} fallbacks",
                verdict(max(ratios) <= 1.5 and fallbacks == 0),
            )
        )
        idle, busy = w["visibility"]["post"], w["writes"]["writes"]["service"]
        rows.append(
            (
                f"`POST /ingest` of a small write (5-50 records): p50 <= 20 ms, p99 <= 100 ms ({on})",
                f"alone: {idle['p50_ms']:.1f} / {idle['p99_ms']:.1f} ms; "
                f"beside 8 readers asking back to back: {busy['p50_ms']:.1f} / {busy['p99_ms']:.1f} ms",
                "met alone, "
                + ("met" if busy["p50_ms"] <= 20 and busy["p99_ms"] <= 100 else "**missed**")
                + " beside readers"
                if idle["p50_ms"] <= 20 and idle["p99_ms"] <= 100
                else "**missed**",
            )
        )
        seen = w["visibility"]["writer"]["first_ask_seen_share"]
        other = w["visibility"]["other"]["shown"]
        rows.append(
            (
                f"a write in the writer's next scope, and in every other process's within 1 s ({on})",
                f"writer's first ask showed it {seen:.0%}; the other process showed it after "
                f"{other['p50_ms']:.0f} / {other['p99_ms']:.0f} / {other['max_ms']:.0f} ms (p50 / p99 / max)",
                verdict(seen == 1 and other["max_ms"] <= 1000),
            )
        )
        mixed = w["mixed"]
        lost, errors = mixed["read_back"]["lost"], mixed["errors"]
        rows.append(
            (
                f"32 clients, 15% small writes: >= 300 requests/s, p99 <= 100 ms, 0 errors, 0 lost ({on})",
                f"{mixed['per_s']:.0f} requests/s, p99 {mixed['all']['p99_ms']:.0f} ms, "
                f"{errors} errors, {lost} lost",
                verdict(
                    mixed["per_s"] >= 300 and mixed["all"]["p99_ms"] <= 100 and errors == 0 and lost == 0
                ),
            )
        )
        if "memory" in w:
            m = w["memory"]
            rows.append(
                (
                    f"memory after 600,000 small writes within 1.3x of a fresh index ({on})",
                    f"{m['rss_ratio']:.2f}x after {m['writes_since_start']:,} writes (not 600,000)",
                    "met at the writes measured" if m["rss_ratio"] <= 1.3 else "**missed**",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where the runs wrote their results")
    parser.add_argument("--to", type=Path, default=HERE, help="where RESULTS.md and the plots go")
    args = parser.parse_args()
    baselines, api, scale = runs(args.out, "baselines"), runs(args.out, "api"), runs(args.out, "scale")
    ui, growth, live = runs(args.out, "ui"), runs(args.out, "growth"), runs(args.out, "live")
    if not baselines:
        sys.exit(f"no baselines-*.json in {args.out}: run bench/bench_baselines.py first")
    args.to.mkdir(parents=True, exist_ok=True)
    plot_by_size(baselines, args.to / "scope-time-by-size.png")
    plot_by_graph(baselines, args.to / "scope-time-by-graph.png")

    parts = [
        "# Benchmark results",
        "",
        "Written by `bench/report.py` from the runs' own output (`bench/out/*.json`); see `bench/README.md`",
        "for how each was run. Benchmarks are not tests: nothing here passes or fails a build.",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {t} | {m} | {v} |" for t, m, v in targets(baselines, api, scale, growth)),
        *(f"| {t} | {m} | {v} |" for t, m, v in live_targets(live)),
        *(
            f"| the view: a scope of 10,000 nodes opens in under 2 seconds | {r['median_s']:.2f} s median "
            f"for {r['runs'][0]['nodes']:,} nodes ({r['data']}, Chromium) | "
            f"{'met' if r['median_s'] < 2 else '**missed**'} |"
            for r in ui.values()
            if r["runs"][0]["nodes"] >= 10_000
        ),
        "",
        "![scope time against scope size](scope-time-by-size.png)",
        "",
        "![scope time against graph size](scope-time-by-graph.png)",
        "",
    ]
    for name in baselines:
        md = (args.out / f"baselines-{name}.md").read_text()
        parts += [f"## Side by side: {name}", "", _header(md), "", _table(md), ""]
    for name in growth:
        md = (args.out / f"growth-{name}.md").read_text()
        parts += [f"## Cost against graph size: {name}", "", _header(md), "", _table(md), ""]
    for name in api:
        md = (args.out / f"api-{name}.md").read_text()
        parts += [f"## API: {name}", "", re.sub(r"^# .*\n+", "", md).strip(), ""]
    for name in scale:
        md = (args.out / f"scale-{name}.md").read_text()
        parts += [f"## Library scopes with properties and objects: {name}-node plant", "", md.strip(), ""]
    for name in ui:
        md = (args.out / f"ui-{name}.md").read_text()
        parts += [f"## The investigation view: {name}", "", re.sub(r"^# .*\n+", "", md).strip(), ""]
    for name in live:
        md = (args.out / f"live-{name}.md").read_text()
        body = re.sub(r"^## ", "### ", re.sub(r"^# .*\n+", "", md), flags=re.M).strip()
        parts += [f"## Reads while the plant keeps writing: {name}", "", body, ""]
    (args.to / "RESULTS.md").write_text("\n".join(parts))
    print(f"wrote {args.to / 'RESULTS.md'} and two plots")


if __name__ == "__main__":
    main()
