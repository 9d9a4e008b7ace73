"""Concurrency benchmark: many clients asking one API server "who is affected by lot X" at once.

    .venv/bin/python bench/bench_api.py                         # the demo, 32 clients, 60 s
    .venv/bin/python bench/bench_api.py --data bench/data/plant-100000-s7 --clients 8 --seconds 30

Starts ``lineage serve`` on a private data directory (loading the data first), then runs
``--clients`` threads, each with its own HTTP connection, for ``--seconds``: each request is
``GET /lots/{uid}/affected`` or ``GET /scope/forward`` for a lot drawn from the data's samples (the
demo's lots for the demo). Reports requests per second, errors by status, and the latency spread
(p50, p95, p99, max) per endpoint, with the machine and the data size, in
``bench/out/api-<name>-<clients>.md``. Not a test: nothing passes or fails on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import machine  # noqa: E402

DEMO_LOTS = ["L-4471", "L-4472", "L-5100", "L-6200", "L-7300"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wait_for_index(base: str, seconds: float = 600) -> dict[str, object]:
    """Until the server answers and its topology index is built, as it is soon after any start."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            index = httpx.get(f"{base}/health", timeout=1).json().get("index") or {}
            if index.get("state") in ("built", "off"):
                return index
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not build its index within {seconds:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "fixtures" / "demo")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()

    samples = args.data / "samples.json"
    lots = json.loads(samples.read_text())["lots"] if samples.exists() else DEMO_LOTS
    data_dir = Path(f"/tmp/lineage-bench-api-{args.data.name}")
    env = {**os.environ, "LINEAGE_DATA_DIR": str(data_dir)}
    env.pop("LINEAGE_API_KEYS", None)
    if not data_dir.exists():
        subprocess.run([sys.executable, "-m", "lineage.cli", "load", str(args.data)], env=env, check=True)
    counts = subprocess.run(
        [sys.executable, "-m", "lineage.cli", "status"], env=env, check=True, capture_output=True, text=True
    ).stdout
    server = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli", "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        index = wait_for_index(base)
        timings: dict[str, list[float]] = {"affected": [], "forward": []}
        statuses: Counter[str] = Counter()
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=120) as http:
                while time.monotonic() < stop:
                    lot = rng.choice(lots)
                    kind = rng.choice(("affected", "forward"))
                    path = f"/lots/{lot}/affected" if kind == "affected" else "/scope/forward"
                    params = {} if kind == "affected" else {"label": "MaterialLot", "uid": lot, "limit": 100}
                    started = time.perf_counter()
                    try:
                        status = str(http.get(path, params=params).status_code)
                    except httpx.HTTPError as e:
                        status = type(e).__name__
                    elapsed = (time.perf_counter() - started) * 1000
                    with lock:
                        statuses[status] += 1
                        if status == "200":
                            timings[kind].append(elapsed)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - began
    finally:
        server.terminate()
        server.wait(timeout=60)

    total = sum(statuses.values())
    lines = [
        f"# API under {args.clients} concurrent clients ({args.data.name})",
        "",
        f"- machine: {machine()}",
        f"- data: {args.data} ({' '.join(counts.split())[:300]})",
        f"- topology index: {index}",
        f"- {total} requests in {wall:.1f} s: {total / wall:.1f} requests/s; statuses {dict(statuses)}",
        "",
        "| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, values in timings.items():
        if values:
            spread = [statistics.median(values), *(percentile(values, p) for p in (0.95, 0.99)), max(values)]
            lines.append(f"| {kind} | {len(values)} | " + " | ".join(f"{v:.1f}" for v in spread) + " |")
    report = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "out" / f"api-{args.data.name}-{args.clients}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    print(report)
    if args.data == ROOT / "fixtures" / "demo":
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
