"""Concurrency benchmark: many clients asking one API server "who is affected by lot X" at once.

    .venv/bin/python bench/bench_api.py                         # the demo; 1, 8 and 32 clients
    .venv/bin/python bench/bench_api.py --data bench/data/plant-1000000-s7 --workers 2

Starts ``lineage serve`` on a private data directory (loading the data first), then for each client
count in ``--clients`` runs that many threads, each with its own HTTP connection, for ``--seconds``:
each request is ``GET /lots/{uid}/affected`` or ``GET /scope/forward`` for a lot drawn from the
data's samples (the demo's lots for the demo). Reports requests per second, errors by status, the
latency spread (p50, p95, p99, max) per endpoint, and the peak memory of the API process(es) and of
the FalkorDB server, with the machine and the data size, in ``bench/out/api-<name>-w<workers>.md``
and ``.json``. Not a test: nothing passes or fails on a time.
"""

from __future__ import annotations

import argparse
import http.client
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import loadavg_text, machine, write_results  # noqa: E402

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


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM) and its children's, in MB (uvicorn's workers are
    children of the ``lineage serve`` process)."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return round(total, 1)


def run_clients(
    host: str, port: int, lots: list[str], clients: int, seconds: float, rate: float | None = None
) -> dict[str, Any]:
    """``clients`` threads, each with its own connection, asking for ``seconds``: half
    ``/lots/{uid}/affected``, half a first page of ``/scope/forward``.

    Without ``rate``, each client asks again as soon as it has its answer (the most the server
    can do). With ``rate``, the clients together ask ``rate`` times a second on a fixed schedule,
    and a request's time counts from when it was due, so a server that falls behind shows it in
    the latencies instead of being asked less often."""
    timings: dict[str, list[float]] = {"affected": [], "forward": []}
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        # The standard library's client: the clients share the machine's two cores with the server,
        # and httpx spent three times the CPU per request (1.0 ms against 0.3 ms for a lot's 34 kB
        # affected answer), taken from the server being measured.
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, port, timeout=120)
        try:
            due = time.perf_counter()
            sent = 0
            while time.monotonic() < stop:
                if rate:
                    due = began + (sent * clients + seed) / rate
                    sent += 1
                    time.sleep(max(0.0, due - time.perf_counter()))
                lot = rng.choice(lots)
                kind = rng.choice(("affected", "forward"))
                if kind == "affected":
                    path = f"/lots/{quote(lot)}/affected"
                else:
                    path = "/scope/forward?" + urlencode({"label": "MaterialLot", "uid": lot, "limit": 100})
                started = due if rate else time.perf_counter()
                try:
                    conn.request("GET", path)
                    reply = conn.getresponse()
                    reply.read()
                    status = str(reply.status)
                except (OSError, http.client.HTTPException) as e:
                    status = type(e).__name__
                    conn.close()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    statuses[status] += 1
                    if status == "200":
                        timings[kind].append(elapsed)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    total = sum(statuses.values())
    endpoints = {}
    for kind, values in timings.items():
        if values:
            endpoints[kind] = {
                "requests": len(values),
                "p50_ms": statistics.median(values),
                "p95_ms": percentile(values, 0.95),
                "p99_ms": percentile(values, 0.99),
                "max_ms": max(values),
            }
    return {
        "clients": clients,
        "offered_per_s": rate,
        "seconds": wall,
        "requests": total,
        "requests_per_s": total / wall,
        "statuses": dict(statuses),
        "endpoints": endpoints,
    }


def stream_export(host: str, port: int, source: str) -> dict[str, Any]:
    """A scope too big for a page, streamed whole: its page's answer (413 past
    LINEAGE_SCOPE_MAX_NODES), then the node and relationship exports, rows and seconds each."""
    label, uid = source.split(":", 1)
    params = {"label": label, "uid": uid}
    found: dict[str, Any] = {"source": source}
    conn = http.client.HTTPConnection(host, port, timeout=600)
    try:
        conn.request("GET", "/scope/forward?" + urlencode(params | {"limit": 10}))
        reply = conn.getresponse()
        body = reply.read()
        found["page_status"] = reply.status
        found["page_total"] = json.loads(body)["total"] if reply.status == 200 else None
        for what in ("nodes", "edges"):
            started = time.perf_counter()
            conn.request("GET", "/scope/forward/export?" + urlencode(params | {"what": what}))
            reply = conn.getresponse()
            lines = size = 0
            while chunk := reply.read(1 << 20):
                lines += chunk.count(b"\n")
                size += len(chunk)
            seconds = time.perf_counter() - started
            found[what] = {"status": reply.status, "rows": lines - 1, "mb": size / 1e6, "seconds": seconds}
    finally:
        conn.close()
    return found


@dataclass
class Served:
    api: subprocess.Popen[bytes]
    engine_pid: int
    nodes: int
    relationships: int


@contextmanager
def served(data: Path, port: int, workers: int = 1) -> Iterator[Served]:
    """``lineage serve`` (open, no keys) over ``data``, loaded once into a data directory of its
    own in /tmp and kept there for the next run (the demo's is removed after)."""
    data_dir = Path(f"/tmp/lineage-bench-api-{data.name}")
    env = {**os.environ, "LINEAGE_DATA_DIR": str(data_dir)}
    env.pop("LINEAGE_API_KEYS", None)
    cli = [sys.executable, "-m", "lineage.cli"]
    if not data_dir.exists():
        subprocess.run([*cli, "load", str(data)], env=env, check=True)
    subprocess.run([*cli, "start"], env=env, check=True, capture_output=True)
    status = subprocess.run([*cli, "status", "--json"], env=env, check=True, capture_output=True).stdout
    counts = json.loads(status)
    api = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        engine_pid = int((data_dir / "redis.pid").read_text().strip())
        yield Served(api, engine_pid, sum(counts["nodes"].values()), counts["relationships"])
    finally:
        api.terminate()
        api.wait(timeout=60)
        subprocess.run([*cli, "stop"], env=env, check=False, capture_output=True)
        if data == ROOT / "fixtures" / "demo":
            shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "fixtures" / "demo")
    parser.add_argument("--clients", default="1,8,32", help="client counts, run in turn on one server")
    parser.add_argument("--seconds", type=float, default=30.0, help="per client count")
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="then the largest client count again, asking this many times a second together (0: skip)",
    )
    parser.add_argument(
        "--export", metavar="LABEL:UID", help="last, stream this source's whole forward scope as an export"
    )
    parser.add_argument("--workers", type=int, default=1, help="API processes (`lineage serve --workers`)")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    samples = args.data / "samples.json"
    lots = json.loads(samples.read_text())["lots"] if samples.exists() else DEMO_LOTS
    with served(args.data, args.port, args.workers) as server:
        base = f"http://127.0.0.1:{args.port}"
        results: dict[str, Any] = {
            "machine": machine(),
            "data": args.data.name,
            "workers": args.workers,
            "nodes": server.nodes,
            "relationships": server.relationships,
            "runs": [],
        }
        results["index"] = wait_for_index(base)
        for clients in (int(c) for c in args.clients.split(",")):
            print(f"{clients} clients for {args.seconds:g} s ...", flush=True)
            results["runs"].append(run_clients("127.0.0.1", args.port, lots, clients, args.seconds))
        if args.rate:
            clients = max(int(c) for c in args.clients.split(","))
            print(f"{clients} clients at {args.rate:g} requests/s for {args.seconds:g} s ...", flush=True)
            paced = run_clients("127.0.0.1", args.port, lots, clients, args.seconds, args.rate)
            results["runs"].append(paced)
        if args.export:
            print(f"streaming the forward scope of {args.export} ...", flush=True)
            results["export"] = stream_export("127.0.0.1", args.port, args.export)
        results["api_peak_rss_mb"] = peak_rss_mb(server.api.pid)
        results["server_peak_rss_mb"] = peak_rss_mb(server.engine_pid)
    results["load_average_after"] = os.getloadavg()
    print(write_results(args.out / f"api-{args.data.name}-w{args.workers}", results, report))


def report(r: dict[str, Any]) -> str:
    lines = [
        f"# API under concurrent clients ({r['data']})",
        "",
        f"- machine: {r['machine']}",
        f"- data: {r['nodes']:,} nodes, {r['relationships']:,} relationships; `lineage serve --workers "
        f"{r['workers']}`; topology index: {r['index']}",
        f"- peak memory: API process(es) {r['api_peak_rss_mb']:,} MB, "
        f"FalkorDB server {r['server_peak_rss_mb']:,} MB",
        f"- load average after: {loadavg_text(r['load_average_after'])} (the clients share the 2 cores)",
        "- clients `N`: each asks again as soon as it has its answer, so the latency is the queue that N "
        "requests in flight make (N / requests per second on average); `N at R/s`: the N clients ask R "
        "times a second together on a fixed schedule, each request timed from when it was due",
        "",
        "| clients | requests/s | errors | endpoint | requests | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if "export" in r:
        x = r["export"]
        lines[-3:-3] = [
            f"- a scope past the page limit, streamed: forward scope of {x['source']}: a page answers "
            f"{x['page_status']}; "
            + "; ".join(
                f"{what} export {x[what]['status']}, {x[what]['rows']:,} rows, {x[what]['mb']:,.0f} MB "
                f"in {x[what]['seconds']:.1f} s ({x[what]['rows'] / x[what]['seconds']:,.0f} rows/s)"
                for what in ("nodes", "edges")
            )
        ]
    for run in r["runs"]:
        errors = sum(n for status, n in run["statuses"].items() if status != "200")
        paced = run.get("offered_per_s")
        clients = f"{run['clients']} at {paced:g}/s" if paced else str(run["clients"])
        for kind, e in run["endpoints"].items():
            lines.append(
                f"| {clients} | {run['requests_per_s']:.0f} | {errors} | {kind} | {e['requests']} | "
                f"{e['p50_ms']:.1f} | {e['p95_ms']:.1f} | {e['p99_ms']:.1f} | {e['max_ms']:.1f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
