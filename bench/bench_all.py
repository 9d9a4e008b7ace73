"""Every benchmark in one run, then ``bench/RESULTS.md`` and the plots (``make bench-all``).

    .venv/bin/python bench/bench_all.py                               # 100k and 1M, every shape
    .venv/bin/python bench/bench_all.py --sizes 100000,1000000,3000000

For each size: the three shapes side by side with the baselines (``bench_baselines.py``; the diamond
as 16 levels of size/16), then the standard 16x200x4 diamond; the smallest and the largest plant
taking turns in one process (``bench_growth.py``: cost against graph size); at the largest plant
size the library scopes with properties (``bench_scale.py``) and the API under 1, 8 and 32 clients
(``bench_api.py``), and the API streaming a distribution supplier's whole scope as an export; the
investigation view opening a 10,000-node scope in Chromium (``bench_ui.py``); last, ``report.py``.
Each step writes its own results in ``bench/out`` as it ends, so an interrupted run keeps what it
finished. Hours at 3M; at 1M, about half an hour on our 2-core machines (26-28 minutes on 2026-11-23, 31 on
2026-12-02).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def step(*args: str) -> None:
    print(f"\n== {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="graph sizes in nodes, comma-separated")
    parser.add_argument("--shapes", default="plant,distribution,diamond")
    parser.add_argument("--api-workers", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    shapes = args.shapes.split(",")
    for size in sizes:
        for shape in shapes:
            step(str(HERE / "bench_baselines.py"), "--shape", shape, "--nodes", str(size))
    if "diamond" in shapes:
        step(str(HERE / "bench_baselines.py"), "--shape", "diamond", "--nodes", "3200")
    largest = max(sizes)
    if "plant" in shapes and len(sizes) > 1:
        step(str(HERE / "bench_growth.py"), "--small", str(min(sizes)), "--large", str(largest))
    step(str(HERE / "bench_scale.py"), "--nodes", str(largest))
    data = HERE / "data" / f"plant-{largest}-s7"
    step(str(HERE / "bench_api.py"), "--data", str(data), "--workers", str(args.api_workers))
    if "distribution" in shapes:  # a supplier reaches 85% of it: far past a page, streamed whole
        spread = HERE / "data" / f"distribution-{largest}-s7"
        streamed = ["--clients", "1", "--rate", "0", "--seconds", "10", "--export", "Supplier:DS0"]
        step(str(HERE / "bench_api.py"), "--data", str(spread), "--workers", str(args.api_workers), *streamed)
    step(str(HERE / "bench_ui.py"))
    step(str(HERE / "report.py"))


if __name__ == "__main__":
    main()
