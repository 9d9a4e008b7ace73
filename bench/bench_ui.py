"""How long the investigation view takes to open a big scope, in a real browser.

    .venv/bin/python bench/bench_ui.py                  # a supplier's ~10,000-node scope
    .venv/bin/python bench/bench_ui.py --nodes 60000    # ~50,000 nodes (the page's drawing limit)

Generates a distribution network of ``--nodes`` (a supplier there reaches some 85% of it), serves it
with ``lineage serve``, and opens ``/ui/`` in Debian's Chromium (Playwright) ``--runs`` times: each
run chooses the supplier, clicks "Forward scope" and waits until the picture and the list are done.
Reports the time from the click to done (median, min-max), the scope's size, and how many elements
the grouped picture draws, in ``bench/out/ui-<name>.md`` and ``.json``. Not a test: nothing passes
or fails on a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import served, wait_for_index  # noqa: E402
from bench_scale import loadavg_text, machine, write_results  # noqa: E402

from lineage.samples.shapes import generate_distribution  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


def open_scope(browser: Any, base: str, uid: str) -> dict[str, Any]:
    """One cold open: a new tab, the source chosen, the click, and the wait until it is drawn."""
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/ui/")
    page.wait_for_function("() => window.lineageView && Object.keys(window.lineageView.kinds).length")
    page.fill("#search", uid)
    page.click(f'#hits li[data-uid="{uid}"]')
    started = time.perf_counter()
    page.click("#run-forward")
    page.wait_for_function("() => /relationships/.test(document.getElementById('status').textContent)")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # painted
    seconds = time.perf_counter() - started
    found = page.evaluate(
        """() => ({nodes: window.lineageView.scope.nodes.size - 1,
                  edges: window.lineageView.scope.edges.size,
                  drawn_nodes: window.lineageView.cy.nodes().length,
                  drawn_edges: window.lineageView.cy.edges().length,
                  listed: document.querySelectorAll('#list tbody tr[data-id]').length})"""
    )
    context.close()
    return {"seconds": seconds, **found}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=12_000, help="size of the generated network")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8797)
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    data = args.data / f"distribution-{args.nodes}-s7"
    if not data.exists():
        generate_distribution(data, args.nodes, seed=7)
    with served(data, args.port) as server, sync_playwright() as playwright:
        base = f"http://127.0.0.1:{args.port}"
        index = wait_for_index(base)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        runs = [open_scope(browser, base, "DS0") for _ in range(args.runs)]
        browser.close()
        results = {
            "machine": machine(),
            "data": data.name,
            "nodes": server.nodes,
            "relationships": server.relationships,
            "index": index,
            "runs": runs,
            "median_s": statistics.median(r["seconds"] for r in runs),
            "load_average_after": os.getloadavg(),
        }
    print(write_results(args.out / f"ui-{data.name}", results, report))


def report(r: dict[str, Any]) -> str:
    first = r["runs"][0]
    seconds = [run["seconds"] for run in r["runs"]]
    return "\n".join(
        [
            f"# The investigation view opening a big scope ({r['data']})",
            "",
            f"- machine: {r['machine']}; Debian's Chromium, headless, driven by Playwright",
            f"- data: {r['nodes']:,} nodes, {r['relationships']:,} relationships; the forward scope of "
            f"supplier DS0: {first['nodes']:,} nodes, {first['edges']:,} relationships",
            f"- drawn, grouped: {first['drawn_nodes']:,} nodes and {first['drawn_edges']:,} relationships; "
            f"listed: {first['listed']:,} rows",
            f"- load average after: {loadavg_text(r['load_average_after'])}",
            "",
            "| runs | click to drawn and listed, median s | min s | max s |",
            "|---|---|---|---|",
            f"| {len(seconds)} | {statistics.median(seconds):.2f} | {min(seconds):.2f} "
            f"| {max(seconds):.2f} |",
            "",
        ]
    )


if __name__ == "__main__":
    main()
