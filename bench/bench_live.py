"""Live benchmark: reads while the plant keeps writing, end to end over HTTP against ``lineage serve``.

    .venv/bin/python bench/bench_live.py                                # the 100k plant (generated once)
    .venv/bin/python bench/bench_live.py --workers 2 --compare          # deltas against rebuild per write
    .venv/bin/python bench/bench_live.py --data bench/data/plant-1000000-s7 --memory-writes 5000

Loads the data once into a private data directory (``--work``, default
``/tmp/lineage-bench-live-<name>/pristine``); every served run works on a fresh copy of it, so the
two columns of ``--compare`` start from the same graph. Each run starts the embedded server and
``lineage serve --workers N`` on 127.0.0.1, waits until every worker's index is built, and runs, each
for ``--seconds``:

1. baseline: 8 readers (``--readers``, each its own connection) asking, drawn at random, a lot's
   affected answer, a lot's forward scope, a customer's and a complaint's backward trace (first
   pages), of the data's sampled sources; no writes;
2. writes: the same readers and one writer posting small ingests (5 to 50 JSON Lines records: a new
   batch consuming sampled lots, shipped to sampled customers, sold there) at ``--write-rate`` on a
   fixed schedule, each timed from when it was due; ``/health`` polled every 0.5 s;
3. visibility: one write at a time, then asks on fresh connections until every worker process has
   shown the new batch in the lot's forward scope (see ``visibility``);
5. mixed: 32 clients, 15% of requests small ingests, the rest affected, scope, node and search
   reads; afterwards every acknowledged write read back;
4. bulk (deltas only): workload 2 with one 50,000-record ingest posted a third of the way in,
   reads and ``/health`` over time;
6. memory (``--memory-writes N``, deltas only): N small writes back to back, then the API's RSS
   against a freshly started API on the same data.

``--compare`` runs 1, 2, 3 and 5 again on a fresh copy with ``LINEAGE_INDEX_DELTAS=false`` (the
index rebuilt after every write) and puts both side by side. Results in
``bench/out/live-<name>-w<workers>.md`` and ``.json``. Not a test: nothing passes or fails on a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import peak_rss_mb, percentile  # noqa: E402
from bench_scale import loadavg_text, machine, write_results  # noqa: E402

from lineage.samples.generate import generate_plant  # noqa: E402

HOST = "127.0.0.1"
NDJSON = {"content-type": "application/x-ndjson"}
READS = ("affected", "forward", "backward: customer", "backward: complaint")
MIXED_READS = (*READS, "node", "search")
#: Column name -> LINEAGE_INDEX_DELTAS.
MODES = {"deltas": "true", "rebuild": "false"}
HEALTH_EVERY_S = 0.5
PAGE = 100  # nodes per scope page the readers ask for (a first page, as the view does)
# lineage.interchange.paging.PAGE_MAX: the read-back asks for a lot's direct batches in one page
PAGE_MAX = 10_000
HOUR = 3_600_000
T_LIVE = 1_798_761_600_000  # 2027-01-01T00:00:00Z: new records come after the generated plant's year
#: Bounds on every loop besides its time: requests per client, asks per visibility probe.
MAX_REQUESTS = 2_000_000
MAX_ASKS = 200
ASK_FOR_S = 10.0
SETTLE_S = 300.0
BULK_TIMEOUT_S = 900.0


# --- data -----------------------------------------------------------------------------------------


def ensure_plant(cache: Path, size: int, seed: int) -> Path:
    """bench_scale.py's plant and its cache: ``<cache>/plant-<size>-s<seed>``, generated once."""
    plant = cache / f"plant-{size}-s{seed}"
    if not (plant / "samples.json").exists():
        print(f"generating {size:,}-node plant into {plant} ...", flush=True)
        generate_plant(plant, nodes=size, seed=seed)
    return plant


@dataclass
class Samples:
    lots: list[str]
    customers: list[str]
    complaints: list[str]
    batches: list[str]
    #: Lots and retailers the readers never ask about: the bulk ingest's, so that the scopes the
    #: readers time do not grow by 50,000 records in the middle of the run.
    bulk_lots: list[str]
    bulk_customers: list[str]


def read_samples(data: Path) -> Samples:
    s = json.loads((data / "samples.json").read_text())
    lots, customers = list(s["lots"]), list(s["customers"])

    def others(kind: str, taken: list[str], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
        path = data / f"1-nodes-{kind}.jsonl"
        if not path.exists():
            return taken
        skip = set(taken)
        with path.open() as lines:
            found = [r["uid"] for r in map(json.loads, lines) if r["uid"] not in skip and keep(r)]
        return found or taken

    return Samples(
        lots=lots,
        customers=customers,
        complaints=list(s.get("complaints") or []),
        batches=list(s.get("batches") or []),
        bulk_lots=others("MaterialLot", lots, lambda r: True),
        bulk_customers=others("Customer", customers, lambda r: r.get("customer_type") != "distributor"),
    )


@dataclass
class Write:
    body: bytes
    batch: str
    lot: str
    records: int


class Writes:
    """Ingest bodies, each with uids of its own (``prefix`` and a counter shared by threads)."""

    def __init__(self, samples: Samples, prefix: str) -> None:
        self.samples = samples
        self.prefix = prefix
        self._next = 0
        self._lock = threading.Lock()

    def _uid(self) -> tuple[str, int]:
        with self._lock:
            self._next += 1
            n = self._next
        return f"{self.prefix}{n:07d}", n

    def small(self, rng: random.Random) -> Write:
        """5 to 50 records: a batch consuming a sampled lot (and up to two more), shipped to sampled
        customers and sold there. Every relationship follows the nodes it names."""
        uid, n = self._uid()
        size = rng.randint(5, 50)
        lot = rng.choice(self.samples.lots)
        at = T_LIVE + n * 60_000
        records = [_batch(uid, "live product", at), _consumed(lot, uid, rng)]
        customer, shipments, sales = "", 0, 0
        while len(records) + 3 <= size:
            if shipments == 0 or rng.random() < 0.3:
                customer = rng.choice(self.samples.customers)
                records += _shipment(f"{uid}-SH{shipments}", uid, customer, at, rng)
                shipments += 1
            else:
                records += _sale(f"{uid}-SA{sales}", uid, customer, at, rng)
                sales += 1
        more = [x for x in self.samples.lots if x != lot]
        records += [_consumed(x, uid, rng) for x in rng.sample(more, min(len(more), size - len(records)))]
        return Write(_jsonl(records), uid, lot, len(records))

    def bulk(self, size: int, rng: random.Random) -> Write:
        """``size`` records of new batches (each consuming two lots), their shipments to retailers
        and two sales there, over lots and customers the readers do not ask about; cut at ``size``
        (any prefix is valid: within a group the nodes come before the relationships naming them)."""
        records: list[dict[str, Any]] = []
        first = ""
        lots = self.samples.bulk_lots
        while len(records) < size:
            uid, n = self._uid()
            first = first or uid
            at = T_LIVE + n * 60_000
            customer = rng.choice(self.samples.bulk_customers)
            records.append(_batch(uid, "bulk product", at))
            records += [_consumed(lot, uid, rng) for lot in rng.sample(lots, min(2, len(lots)))]
            records += _shipment(f"{uid}-SH0", uid, customer, at, rng)
            records += _sale(f"{uid}-SA0", uid, customer, at, rng)
            records += _sale(f"{uid}-SA1", uid, customer, at, rng)
        records = records[:size]
        return Write(_jsonl(records), first, records[1]["from"], len(records))


def _batch(uid: str, product: str, at: int) -> dict[str, Any]:
    return {"kind": "Batch", "uid": uid, "product": product, "batch_type": "production",
            "quantity": 1000, "unit": "units", "started_at": at, "ended_at": at + HOUR}  # fmt: skip


def _consumed(lot: str, batch: str, rng: random.Random) -> dict[str, Any]:
    return {"kind": "CONSUMED_BY", "from": lot, "from_label": "MaterialLot", "to": batch,
            "quantity": rng.randint(5, 200), "unit": "kg"}  # fmt: skip


def _shipment(uid: str, batch: str, customer: str, at: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"kind": "Shipment", "uid": uid, "shipped_at": at + 2 * HOUR, "carrier": "Carrier live"},
        {"kind": "SHIPPED_IN", "from": batch, "to": uid, "quantity": rng.randint(20, 300), "unit": "units"},
        {"kind": "DELIVERED_TO", "from": uid, "to": customer},
    ]


def _sale(uid: str, batch: str, customer: str, at: int, rng: random.Random) -> list[dict[str, Any]]:
    quantity = rng.randint(1, 12)
    return [
        {"kind": "Sale", "uid": uid, "quantity": quantity, "unit": "units", "sold_at": at + 24 * HOUR},
        {"kind": "SOLD_IN", "from": batch, "to": uid, "quantity": quantity, "unit": "units"},
        {"kind": "SOLD", "from": customer, "to": uid},
    ]


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def read_path(kind: str, rng: random.Random, s: Samples) -> str:
    if kind == "affected":
        return f"/lots/{quote(rng.choice(s.lots))}/affected"
    if kind == "forward":
        return "/scope/forward?" + urlencode(
            {"label": "MaterialLot", "uid": rng.choice(s.lots), "limit": PAGE}
        )
    if kind == "backward: customer":
        return "/scope/backward?" + urlencode(
            {"label": "Customer", "uid": rng.choice(s.customers), "limit": PAGE}
        )
    if kind == "backward: complaint":
        return "/scope/backward?" + urlencode(
            {"label": "Complaint", "uid": rng.choice(s.complaints), "limit": PAGE}
        )
    if kind == "node":
        kinds = [("MaterialLot", s.lots), ("Customer", s.customers)] + (
            [("Batch", s.batches)] if s.batches else []
        )
        label, uids = rng.choice(kinds)
        return f"/nodes/{label}/{quote(rng.choice(uids))}"
    if kind == "search":
        q = rng.choice((rng.choice(s.lots)[:-2], rng.choice(s.customers), "live product"))
        return "/search?" + urlencode({"q": q})
    raise ValueError(kind)


def direct_batches_path(lot: str, limit: int = 500) -> str:
    """A lot's forward scope cut to the batches that consume it directly: where a new batch shows."""
    return "/scope/forward?" + urlencode(
        {"label": "MaterialLot", "uid": lot, "kinds": "Batch", "depth": 1, "limit": limit}
    )


def touch_path(samples: Samples) -> str:
    """A small scope to ask a worker before its ``/health``, so that it reads the change log."""
    return direct_batches_path(samples.lots[0])


def uids_in(body: bytes) -> set[str]:
    return {n["uid"] for n in json.loads(body)["nodes"]}


# --- HTTP and the server's processes -------------------------------------------------------------


def connection(port: int, timeout: float = 120) -> http.client.HTTPConnection:
    # The standard library's client, as bench_api.py: the clients share the cores with the server.
    return http.client.HTTPConnection(HOST, port, timeout=timeout)


def ask(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """One request: the status as text (or the exception's name) and the body."""
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return str(reply.status), reply.read()
    except (OSError, http.client.HTTPException) as e:
        conn.close()  # the next request opens a new connection
        return type(e).__name__, b""


class Workers:
    """The API's worker processes, and which of them holds the server side of a connection.

    uvicorn's workers accept from one shared listening socket, so the kernel decides which worker a
    new connection reaches. After an answer, while the connection is still open, the server side's
    socket inode is in /proc/net/tcp (local port ours, remote port the client's), and exactly one
    worker has a file descriptor on it. Only our own processes on 127.0.0.1 are looked at."""

    def __init__(self, api_pid: int, port: int, pids: list[int]) -> None:
        self.api_pid, self.port, self.pids = api_pid, port, pids

    @classmethod
    def of_api(cls, api_pid: int, port: int, expected: int, seconds: float = 120) -> Workers:
        deadline = time.monotonic() + seconds
        while True:
            pids = []
            for pid in _children(api_pid):
                try:
                    if b"multiprocessing-fork" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        pids.append(pid)
                except OSError:
                    continue
            if expected == 1 and not pids:
                return cls(api_pid, port, [api_pid])  # one worker: uvicorn serves in its own process
            if len(pids) >= expected or time.monotonic() > deadline:
                return cls(api_pid, port, sorted(pids))
            time.sleep(0.1)

    def __len__(self) -> int:
        return len(self.pids)

    def of(self, sock: socket.socket | None) -> int | None:
        """The index of the worker serving this connection, or None."""
        if sock is None:
            return None
        client_port = sock.getsockname()[1]
        inode = None
        try:
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
                f = line.split()
                if (
                    int(f[1].rsplit(":", 1)[1], 16) == self.port
                    and int(f[2].rsplit(":", 1)[1], 16) == client_port
                ):
                    inode = f[9]
                    break
        except OSError:
            return None
        if inode is None:
            return None
        target = f"socket:[{inode}]"
        for i, pid in enumerate(self.pids):
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                            return i
                    except OSError:
                        continue
            except OSError:
                continue
        return None

    def rss_mb(self) -> list[float]:
        return [_status_mb(pid, "VmRSS") for pid in self.pids]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _status_mb(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def health_once(port: int, workers: Workers) -> tuple[int | None, dict[str, Any] | None, float]:
    """``GET /health`` on a fresh connection: which worker answered, its ``index`` object, ms."""
    conn = connection(port, timeout=10)
    started = time.perf_counter()
    status, body = ask(conn, "GET", "/health")
    ms = (time.perf_counter() - started) * 1000
    who = workers.of(conn.sock) if status == "200" else None
    conn.close()
    if status != "200":
        return None, None, ms
    return who, json.loads(body).get("index") or {}, ms


def settled(index: dict[str, Any] | None) -> bool:
    """Built and holding every change written (``behind`` absent counts as holding them)."""
    return bool(index) and index.get("state") in ("built", "off") and not index.get("behind")


def wait_until_settled(
    port: int, workers: Workers, touch: str | None = None, seconds: float = SETTLE_S
) -> tuple[float | None, list[Any]]:
    """Until every worker, asked on a connection of its own, answers ``/health`` with its index
    built and holding every change: the seconds that took (None if not within ``seconds``) and each
    worker's last index object. ``behind`` counts what a process has read of the change log, and a
    process nobody asks reads nothing: ``touch`` (a scope) is asked first each time, so that it does."""
    began = time.perf_counter()
    last: list[Any] = [None] * len(workers)
    done = [False] * len(workers)
    pinned: dict[int, http.client.HTTPConnection] = {}
    try:
        for _ in range(int(seconds / 0.05) + 1):
            if len(pinned) < len(workers):
                pin(port, workers, tries=20, into=pinned)
            for i, c in list(pinned.items()):
                if done[i]:
                    continue
                if touch:
                    ask(c, "GET", touch)
                status, body = ask(c, "GET", "/health")
                if status != "200":  # the connection is gone; the next one may reach another worker
                    c.close()
                    del pinned[i]
                    continue
                last[i] = json.loads(body).get("index") or {}
                done[i] = settled(last[i])
            if all(done):
                return round(time.perf_counter() - began, 2), last
            if time.perf_counter() - began > seconds:
                break
            time.sleep(0.05)
    finally:
        for c in pinned.values():
            c.close()
    return None, last


class Server:
    """``lineage serve --workers N`` (open, no keys) on a fresh copy of the loaded data, with the
    embedded engine started beside it (``lineage start``), so the API can be restarted alone."""

    def __init__(self, pristine: Path, run: Path, port: int, workers: int, deltas: str) -> None:
        self.pristine, self.run, self.port, self.workers_asked = pristine, run, port, workers
        self.env = {**os.environ, "LINEAGE_DATA_DIR": str(run), "LINEAGE_INDEX_DELTAS": deltas}
        self.env.pop("LINEAGE_API_KEYS", None)
        self.api: subprocess.Popen[bytes] | None = None
        self.workers = Workers(0, port, [])
        self.starts = 0

    def __enter__(self) -> Server:
        shutil.rmtree(self.run, ignore_errors=True)
        shutil.copytree(
            self.pristine,
            self.run,
            ignore=shutil.ignore_patterns("db.sock", "*.lock", "redis.pid", "keep", "*.log"),
        )
        _cli(self.env, "start")
        self.engine_pid = int((self.run / "redis.pid").read_text().strip())
        self.start_api()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_api()
        _cli(self.env, "stop", check=False)
        shutil.rmtree(self.run, ignore_errors=True)

    def start_api(self) -> None:
        self.starts += 1
        log = (self.run.parent / f"api-{self.run.name}-{self.starts}.log").open("w")
        self.api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lineage.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers_asked),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    break
            except OSError:
                if self.api.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the API did not start; see {log.name}") from None
                time.sleep(0.1)
        self.workers = Workers.of_api(self.api.pid, self.port, self.workers_asked)
        took, index = wait_until_settled(self.port, self.workers, seconds=600)
        if took is None:
            raise SystemExit(f"the API's workers did not build their index within 600 s: {index}")
        self.index_at_start = index

    def stop_api(self) -> None:
        if self.api is None:
            return
        self.api.terminate()
        try:
            self.api.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.api.kill()
            self.api.wait(timeout=30)
        self.api = None

    def restart_api(self) -> None:
        self.stop_api()
        self.start_api()


def _cli(env: dict[str, str], *args: str, check: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lineage.cli", *args], env=env, capture_output=True, text=True
    )
    if check and done.returncode != 0:
        raise SystemExit(f"lineage {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def prepare(data: Path, work: Path) -> dict[str, Any]:
    """The data loaded once into ``<work>/pristine`` (kept for the next run); its sizes."""
    pristine, marker = work / "pristine", work / "loaded.json"
    if marker.exists() and pristine.exists():
        loaded = json.loads(marker.read_text())
        if loaded.get("data") == str(data.resolve()):
            return loaded
    shutil.rmtree(work, ignore_errors=True)
    pristine.mkdir(parents=True)
    env = {**os.environ, "LINEAGE_DATA_DIR": str(pristine)}
    print(f"loading {data} into {pristine} ...", flush=True)
    _cli(env, "load", str(data))
    counts = json.loads(_cli(env, "status", "--json"))
    _cli(env, "stop", check=False)
    loaded = {
        "data": str(data.resolve()),
        "nodes": sum(counts["nodes"].values()),
        "relationships": counts["relationships"],
        "by_kind": counts["nodes"],
    }
    marker.write_text(json.dumps(loaded, indent=1))
    return loaded


# --- measuring -----------------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "count": len(values),
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "max_ms": round(max(values), 2),
    }


@dataclass
class Done:
    """One request: when it was sent (s since the workload began), what, its status and ms."""

    t: float
    kind: str
    status: str
    ms: float
    service_ms: float = 0.0  # a paced request: from when it was sent (``ms`` is from when it was due)


def summarize(done: list[Done], seconds: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter(d.status for d in done)
    by_kind: dict[str, list[Done]] = {}
    for d in done:
        by_kind.setdefault(d.kind, []).append(d)
    endpoints = {}
    for kind, ds in sorted(by_kind.items()):
        endpoints[kind] = spread([d.ms for d in ds if d.status == "200"]) | {
            "requests": len(ds),
            "statuses": dict(Counter(d.status for d in ds)),
        }
    ok = [d.ms for d in done if d.status == "200"]
    return {
        "seconds": round(seconds, 2),
        "requests": len(done),
        "per_s": round(len(done) / seconds, 1) if seconds else None,
        "errors": sum(n for s, n in statuses.items() if s != "200"),
        "statuses": dict(statuses),
        "all": spread(ok),
        "endpoints": endpoints,
    }


class HealthPoller(threading.Thread):
    """``GET /health`` every 0.5 s on a fresh connection (so every worker gets asked, each answer
    attributed to its worker): the ``index`` object's state, and ``behind`` and ``fallbacks`` when
    the server gives them."""

    def __init__(self, port: int, workers: Workers, began: float, limit_s: float) -> None:
        super().__init__(daemon=True)
        self.port, self.workers, self.began, self.limit_s = port, workers, began, limit_s
        self.samples: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        for _ in range(int(self.limit_s / HEALTH_EVERY_S) + 1):
            t = time.perf_counter() - self.began
            try:
                who, index, ms = health_once(self.port, self.workers)
            except OSError as e:
                who, index, ms = None, {"state": type(e).__name__}, 0.0
            index = index or {"state": "no answer"}
            self.samples.append(
                {
                    "t": round(t, 2),
                    "worker": who,
                    "state": index.get("state"),
                    "behind": index.get("behind"),
                    "fallbacks": index.get("fallbacks"),
                    "seq": index.get("seq"),
                    "ms": round(ms, 1),
                }
            )
            if self.halt.wait(HEALTH_EVERY_S):
                return

    def while_running(
        self, threads: list[threading.Thread], began: float
    ) -> tuple[float, list[dict[str, Any]]]:
        """Run ``threads`` to their end; the seconds from ``began``, and what was polled meanwhile."""
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        return wall, self.stop()

    def stop(self) -> list[dict[str, Any]]:
        self.halt.set()
        self.join(timeout=30)
        return self.samples


def summarize_health(samples: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for w in range(workers):
        mine = [s for s in samples if s["worker"] == w]
        falls = [s["fallbacks"] for s in mine if s["fallbacks"] is not None]
        behind = [s["behind"] for s in mine if s["behind"] is not None]
        per[f"w{w + 1}"] = {
            "samples": len(mine),
            "states": dict(Counter(s["state"] for s in mine)),
            "behind_max": max(behind) if behind else None,
            "fallbacks": (falls[-1] - falls[0]) if falls else None,
        }
    behinds = [v["behind_max"] for v in per.values() if v["behind_max"] is not None]
    falls = [v["fallbacks"] for v in per.values() if v["fallbacks"] is not None]
    return {
        "samples": len(samples),
        "states": dict(Counter(s["state"] for s in samples)),
        "not_built_share": round(sum(s["state"] != "built" for s in samples) / len(samples), 3)
        if samples
        else None,
        "behind_reported": bool(behinds),
        "behind_max": max(behinds) if behinds else None,
        "fallbacks_reported": bool(falls),
        "fallbacks": sum(falls) if falls else None,
        "by_worker": per,
    }


@dataclass
class Traffic:
    """Readers (and a paced writer, and a bulk ingest) against the server for a while."""

    port: int
    workers: Workers
    samples: Samples
    seed: int
    readers: int = 8
    read_rate: float = 0.0
    write_rate: float = 0.0
    writes: Writes | None = None
    bulk: Write | None = None
    reads: list[Done] = field(default_factory=list)
    written: list[tuple[Done, Write]] = field(default_factory=list)
    bulk_report: dict[str, Any] = field(default_factory=dict)

    def run(self, seconds: float) -> dict[str, Any]:
        began = time.perf_counter()
        stop = [began + seconds]
        hard = began + seconds + (BULK_TIMEOUT_S if self.bulk else 0)

        def until() -> float:
            return min(stop[0], hard)

        poller = HealthPoller(self.port, self.workers, began, seconds + BULK_TIMEOUT_S + 60)
        poller.start()
        per_reader: list[list[Done]] = [[] for _ in range(self.readers)]
        threads = [
            threading.Thread(target=self._reader, args=(i, began, until, per_reader[i]), daemon=True)
            for i in range(self.readers)
        ]
        if self.write_rate and self.writes:
            threads.append(threading.Thread(target=self._writer, args=(began, until), daemon=True))
        if self.bulk:
            threads.append(threading.Thread(target=self._bulk, args=(began, seconds, stop), daemon=True))
        wall, health = poller.while_running(threads, began)
        self.reads = sorted((d for ds in per_reader for d in ds), key=lambda d: d.t)
        result: dict[str, Any] = {
            "reads": summarize(self.reads, wall),
            "health": summarize_health(health, len(self.workers)),
            "health_samples": health,
        }
        if self.write_rate and self.writes:
            result["writes"] = summarize([d for d, _ in self.written], wall) | {
                "offered_per_s": self.write_rate,
                "scheduled": math.ceil((until() - began) * self.write_rate),
                "service": spread([d.service_ms for d, _ in self.written if d.status == "200"]),
                "records": sum(w.records for d, w in self.written if d.status == "200"),
            }
        if self.bulk:
            result["bulk"] = self.bulk_report
            result["timeline"] = timeline(
                self.reads, [d for d, _ in self.written], health, self.bulk_report, wall
            )
        return result

    def _reader(self, i: int, began: float, until: Callable[[], float], out: list[Done]) -> None:
        rng = random.Random(self.seed * 1000 + i)
        conn = connection(self.port)
        try:
            for sent in range(MAX_REQUESTS):
                if self.read_rate:
                    due = began + (sent * self.readers + i) / self.read_rate
                    if due >= until():
                        break
                    time.sleep(max(0.0, due - time.perf_counter()))
                now = time.perf_counter()
                if now >= until():
                    break
                start = due if self.read_rate else now
                kind = rng.choice(READS)
                status, _ = ask(conn, "GET", read_path(kind, rng, self.samples))
                out.append(Done(start - began, kind, status, (time.perf_counter() - start) * 1000))
        finally:
            conn.close()

    def _writer(self, began: float, until: Callable[[], float]) -> None:
        """On a fixed schedule, each write timed from when it was due (a writer that falls behind
        shows it in the latencies instead of writing less often) and from when it was sent; it stops
        with the readers, so a writer that fell behind sends fewer than were scheduled."""
        assert self.writes is not None
        rng = random.Random(self.seed * 1000 + 999)
        conn = connection(self.port)
        try:
            for n in range(MAX_REQUESTS):
                due = began + n / self.write_rate
                if due >= until():
                    break
                time.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                if sent >= until():
                    break
                w = self.writes.small(rng)
                status, _ = ask(conn, "POST", "/ingest", w.body, NDJSON)
                end = time.perf_counter()
                done = Done(due - began, "ingest", status, (end - due) * 1000, (end - sent) * 1000)
                self.written.append((done, w))
        finally:
            conn.close()

    def _bulk(self, began: float, seconds: float, stop: list[float]) -> None:
        """The bulk ingest a third of the way in; the readers go on for a third of ``seconds`` after
        it has been answered, however long it took."""
        assert self.bulk is not None
        time.sleep(max(0.0, began + seconds / 3 - time.perf_counter()))
        conn = connection(self.port, timeout=BULK_TIMEOUT_S)
        end, stop[0] = stop[0], began + seconds + BULK_TIMEOUT_S  # nobody stops while it is in flight
        posted = time.perf_counter()
        status, body = ask(conn, "POST", "/ingest", self.bulk.body, NDJSON)
        answered = time.perf_counter()
        conn.close()
        stop[0] = max(end, answered + seconds / 3)
        report = json.loads(body) if status == "200" else {}
        self.bulk_report.update(
            {
                "records": self.bulk.records,
                "mb": round(len(self.bulk.body) / 1e6, 2),
                "status": status,
                "posted_s": round(posted - began, 2),
                "answered_s": round(answered - began, 2),
                "ms": round((answered - posted) * 1000, 1),
                "server_seconds": report.get("seconds"),
                "nodes": report.get("nodes"),
                "relationships": report.get("relationships"),
            }
        )


def timeline(
    reads: list[Done], writes: list[Done], health: list[dict[str, Any]], bulk: dict[str, Any], wall: float
) -> list[dict[str, Any]]:
    """Reads, writes and the index's states in 24 slices of the run."""
    width = max(0.5, wall / 24)
    rows = []
    for k in range(math.ceil(wall / width)):
        lo, hi = k * width, min(wall, (k + 1) * width)
        rs = [d.ms for d in reads if lo <= d.t < hi and d.status == "200"]
        ws = [d.ms for d in writes if lo <= d.t < hi]
        hs = [s for s in health if lo <= s["t"] < hi]
        notes = [
            what
            for what, at in (("bulk posted", bulk.get("posted_s")), ("bulk answered", bulk.get("answered_s")))
            if at is not None and lo <= at < hi
        ]
        if not (rs or ws or hs or notes):
            continue  # the sliver past the last slice
        states: dict[str, list[str]] = {}
        for s in hs:
            states.setdefault("?" if s["worker"] is None else f"w{s['worker'] + 1}", []).append(
                str(s["state"])
            )
        behind = [s["behind"] for s in hs if s["behind"] is not None]
        falls = [s["fallbacks"] for s in hs if s["fallbacks"] is not None]
        rows.append(
            {
                "from_s": round(lo, 1),
                "reads": len(rs),
                "reads_per_s": round(len(rs) / (hi - lo), 1) if hi > lo else None,
                "p50_ms": round(statistics.median(rs), 1) if rs else None,
                "p99_ms": round(percentile(rs, 0.99), 1) if rs else None,
                "max_ms": round(max(rs), 1) if rs else None,
                "writes": len(ws),
                "write_p99_ms": round(percentile(ws, 0.99), 1) if ws else None,
                "index": {w: sorted(set(v)) for w, v in sorted(states.items())},
                "behind_max": max(behind) if behind else None,
                "fallbacks_max": max(falls) if falls else None,
                "notes": notes,
            }
        )
    return rows


def read_back(port: int, workers: Workers, acknowledged: list[Write]) -> dict[str, Any]:
    """Every acknowledged write's batch asked for by uid (``GET /nodes/Batch/{uid}``: the database),
    and looked for in its lot's forward scope on every worker (the index each keeps)."""
    lost: list[str] = []
    conn = connection(port)
    for w in acknowledged:
        status, _ = ask(conn, "GET", f"/nodes/Batch/{quote(w.batch)}")
        if status != "200":
            lost.append(w.batch)
    conn.close()
    pinned = pin(port, workers)
    by_lot: dict[str, set[str]] = {}
    for w in acknowledged:
        by_lot.setdefault(w.lot, set()).add(w.batch)
    missing = {f"w{i + 1}": 0 for i in range(len(workers))}
    for lot, batches in sorted(by_lot.items()):
        for i, c in pinned.items():
            status, body = ask(c, "GET", direct_batches_path(lot, PAGE_MAX))
            found = uids_in(body) if status == "200" else set()
            missing[f"w{i + 1}"] += len(batches - found)
    for c in pinned.values():
        c.close()
    return {
        "checked": len(acknowledged),
        "lost": len(lost),
        "lost_uids": lost[:20],
        "missing_from_scope": missing,
        "workers_checked": len(pinned),
    }


def pin(
    port: int, workers: Workers, tries: int = 400, into: dict[int, http.client.HTTPConnection] | None = None
) -> dict[int, http.client.HTTPConnection]:
    """A kept-open connection to each worker: fresh connections until each worker holds one."""
    pinned = {} if into is None else into
    for _ in range(tries):
        if len(pinned) == len(workers):
            break
        c = connection(port)
        status, _ = ask(c, "GET", "/health")
        who = workers.of(c.sock) if status == "200" else None
        if who is None or who in pinned:
            c.close()
        else:
            pinned[who] = c
    return pinned


def visibility(
    port: int, workers: Workers, samples: Samples, writes: Writes, seconds: float, rate: float, seed: int
) -> dict[str, Any]:
    """After each write, how long until its batch shows in a scope, on each worker process.

    One probe at a time, on a fixed schedule of ``rate`` a second, nothing else asking: POST a small
    ingest (a new batch consuming lot L) on a fresh connection; note which worker answered (the
    writer) and when the answer arrived (t0). Then, one after another, GET L's forward scope cut to
    its direct batches (``kinds=Batch&depth=1``) on a fresh connection each, noting which worker
    answered and whether the new batch is in it, until every worker has shown it (at most
    MAX_ASKS asks or ASK_FOR_S seconds). Per worker: whether the first ask that reached it showed
    the batch, and the ms from t0 to the arrival of the answer that first did (so it includes that
    ask's own latency: a stale answer just before it bounds when the batch became visible from
    below). The writer's column is read-your-writes; the other workers' is how fast a write reaches
    a process that did not make it."""
    rng = random.Random(seed * 1000 + 777)
    began = time.perf_counter()
    probes: list[dict[str, Any]] = []
    for n in range(int(seconds * rate) + 1):
        due = began + n / rate
        if due >= began + seconds:
            break
        time.sleep(max(0.0, due - time.perf_counter()))
        w = writes.small(rng)
        conn = connection(port)
        sent = time.perf_counter()
        status, _ = ask(conn, "POST", "/ingest", w.body, NDJSON)
        t0 = time.perf_counter()
        writer = workers.of(conn.sock) if status == "200" else None
        conn.close()
        probe: dict[str, Any] = {
            "status": status,
            "post_ms": round((t0 - sent) * 1000, 2),
            "writer": writer,
            "records": w.records if status == "200" else 0,
        }
        probes.append(probe)
        if status != "200":
            continue
        asks: list[list[Any]] = []  # [worker, status, seen, ms since t0 at the answer, ask latency ms]
        shown: dict[int | None, float] = {}
        for _ in range(MAX_ASKS):
            if time.perf_counter() - t0 > ASK_FOR_S or all(i in shown for i in range(len(workers))):
                break
            c = connection(port)
            asked = time.perf_counter()
            st, body = ask(c, "GET", direct_batches_path(w.lot))
            got = time.perf_counter()
            who = workers.of(c.sock) if st == "200" else None
            c.close()
            seen = st == "200" and w.batch in uids_in(body)
            asks.append([who, st, seen, round((got - t0) * 1000, 2), round((got - asked) * 1000, 2)])
            if seen and who not in shown:
                shown[who] = (got - t0) * 1000
        probe["asks"] = asks
    records = sum(p.pop("records") for p in probes)
    return summarize_visibility(probes, len(workers)) | {"records": records, "probes": probes}


def summarize_visibility(probes: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    ok = [p for p in probes if p["status"] == "200"]
    roles: dict[str, dict[str, list[Any]]] = {
        r: {"first_seen": [], "shown": [], "stale_until": [], "first_ms": [], "asks": []}
        for r in ("writer", "other")
    }
    never_asked = {"writer": 0, "other": 0}
    not_shown = {"writer": 0, "other": 0}
    every, stale, regressions, asks_total, unattributed = [], 0, 0, 0, 0
    first_any: list[bool] = []
    for p in ok:
        asks = p["asks"]
        asks_total += len(asks)
        if asks:
            first_any.append(asks[0][2])
        times = []
        for w in range(workers):
            role = "writer" if w == p["writer"] else "other"
            mine = [a for a in asks if a[0] == w]
            if not mine:
                never_asked[role] += 1
                continue
            roles[role]["first_seen"].append(mine[0][2])
            roles[role]["first_ms"].append(mine[0][4])
            first = next((k for k, a in enumerate(mine) if a[2]), None)
            if first is None:
                not_shown[role] += 1
                continue
            roles[role]["shown"].append(mine[first][3])
            # Sent at answer - latency: the process was still without the batch at some point after it.
            stale_before = [a for a in mine[:first] if a[1] == "200"]
            roles[role]["stale_until"].append(
                stale_before[-1][3] - stale_before[-1][4] if stale_before else 0.0
            )
            roles[role]["asks"].append(first + 1)
            times.append(mine[first][3])
            regressions += sum(1 for a in mine[first:] if a[1] == "200" and not a[2])
        if len(times) == workers:
            every.append(max(times))
        stale += sum(1 for a in asks if a[1] == "200" and not a[2])
        unattributed += sum(1 for a in asks if a[0] is None)

    def role(r: str) -> dict[str, Any] | None:
        x = roles[r]
        if not x["first_seen"] and not never_asked[r]:
            return None
        return {
            "asked": len(x["first_seen"]),
            "never_asked": never_asked[r],
            "first_ask_seen_share": round(sum(x["first_seen"]) / len(x["first_seen"]), 3)
            if x["first_seen"]
            else None,
            "first_ask_latency": spread(x["first_ms"]),
            "shown": spread(x["shown"]),
            "stale_until": spread(x["stale_until"]),
            "asks_to_shown_max": max(x["asks"]) if x["asks"] else None,
            "not_shown": not_shown[r],
        }

    return {
        "writes": len(probes),
        "write_errors": len(probes) - len(ok),
        "post": spread([p["post_ms"] for p in ok]),
        "asks": asks_total,
        "unattributed_asks": unattributed,
        "first_ask_seen_share": round(sum(first_any) / len(first_any), 3) if first_any else None,
        "stale_answers": stale,
        "regressions": regressions,
        "writer": role("writer"),
        "other": role("other") if workers > 1 else None,
        "every_worker": spread(every) | {"share": round(len(every) / len(ok), 3) if ok else None},
        "max_asks": MAX_ASKS,
        "ask_for_s": ASK_FOR_S,
    }


def mixed(
    port: int,
    workers: Workers,
    samples: Samples,
    writes: Writes,
    seconds: float,
    clients: int,
    share: float,
    seed: int,
) -> dict[str, Any]:
    """``clients`` threads, each its own connection asking back to back: ``share`` small ingests,
    the rest reads of every kind; then every acknowledged write read back."""
    began = time.perf_counter()
    stop = began + seconds
    done: list[list[Done]] = [[] for _ in range(clients)]
    acked: list[list[Write]] = [[] for _ in range(clients)]
    unacked: list[list[Write]] = [[] for _ in range(clients)]

    def client(i: int) -> None:
        rng = random.Random(seed * 1000 + 500 + i)
        conn = connection(port)
        try:
            for _ in range(MAX_REQUESTS):
                started = time.perf_counter()
                if started >= stop:
                    break
                if rng.random() < share:
                    w = writes.small(rng)
                    status, _ = ask(conn, "POST", "/ingest", w.body, NDJSON)
                    (acked if status == "200" else unacked)[i].append(w)
                    kind = "ingest"
                else:
                    kind = rng.choice(MIXED_READS)
                    status, _ = ask(conn, "GET", read_path(kind, rng, samples))
                done[i].append(Done(started - began, kind, status, (time.perf_counter() - started) * 1000))
        finally:
            conn.close()

    poller = HealthPoller(port, workers, began, seconds + 60)
    poller.start()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    wall, health = poller.while_running(threads, began)
    all_acked = [w for ws in acked for w in ws]
    all_unacked = [w for ws in unacked for w in ws]
    result = summarize([d for ds in done for d in ds], wall)
    result |= {
        "clients": clients,
        "write_share": share,
        "writes_acknowledged": len(all_acked),
        "records": sum(w.records for w in all_acked),
        "writes_unacknowledged": len(all_unacked),
        "health": summarize_health(health, len(workers)),
        "health_samples": health,
    }
    result["settled_s"], _ = wait_until_settled(port, workers, touch_path(samples))
    result["read_back"] = read_back(port, workers, all_acked)
    # A write answered with an error may still have been written (a timeout after the commit).
    result["read_back"]["unacknowledged_found"] = (
        len(all_unacked) - read_back(port, workers, all_unacked)["lost"]
    )
    return result


def memory(
    server: Server, samples: Samples, writes: Writes, n: int, seed: int, written_before: int
) -> dict[str, Any]:
    """``n`` small writes back to back on one connection, then the API's resident memory against
    a freshly started API on the same data (after its index is built and 2 s of reads)."""
    rng = random.Random(seed * 1000 + 333)
    conn = connection(server.port)
    statuses: Counter[str] = Counter()
    began = time.perf_counter()
    for _ in range(n):
        statuses[ask(conn, "POST", "/ingest", writes.small(rng).body, NDJSON)[0]] += 1
    took = time.perf_counter() - began
    conn.close()
    settle_s, live_index = wait_until_settled(server.port, server.workers, touch_path(samples))
    live = {
        "rss_mb": server.workers.rss_mb(),
        "peak_rss_mb": [_status_mb(p, "VmHWM") for p in server.workers.pids],
        "index": live_index,
    }
    server.restart_api()
    Traffic(server.port, server.workers, samples, seed, readers=1).run(2.0)
    _, fresh_index = wait_until_settled(server.port, server.workers, touch_path(samples))
    fresh = {
        "rss_mb": server.workers.rss_mb(),
        "peak_rss_mb": [_status_mb(p, "VmHWM") for p in server.workers.pids],
        "index": fresh_index,
    }
    return {
        "writes": n,
        "statuses": dict(statuses),
        "writes_per_s": round(n / took, 1) if took else None,
        "writes_since_start": written_before + statuses.get("200", 0),
        "settled_s": settle_s,
        "live": live,
        "fresh": fresh,
        "rss_ratio": round(sum(live["rss_mb"]) / sum(fresh["rss_mb"]), 3) if sum(fresh["rss_mb"]) else None,
        # Every worker's index, kept current by the writes, against one just built from the graph.
        "index_matches_fresh": [
            (a or {}).get("nodes") == (b or {}).get("nodes")
            and (a or {}).get("relationships") == (b or {}).get("relationships")
            for a, b in zip(live_index, fresh_index, strict=False)
        ],
    }


def run_mode(
    args: argparse.Namespace, mode: str, pristine: Path, work: Path, samples: Samples
) -> dict[str, Any]:
    deltas = MODES[mode]
    out: dict[str, Any] = {"env": {"LINEAGE_INDEX_DELTAS": deltas}, "workloads": {}}
    w = out["workloads"]
    with Server(pristine, work / f"run-{mode}", args.port, args.workers, deltas) as server:
        out["worker_pids"] = server.workers.pids
        out["index_at_start"] = server.index_at_start
        port, workers = args.port, server.workers
        touch = touch_path(samples)

        def traffic(**kw: Any) -> Traffic:
            return Traffic(
                port, workers, samples, args.seed, readers=args.readers, read_rate=args.read_rate, **kw
            )

        print(f"[{mode}] baseline: {args.readers} readers for {args.seconds:g} s ...", flush=True)
        w["baseline"] = traffic().run(args.seconds)
        print(f"[{mode}] writes: readers + {args.write_rate:g} writes/s ...", flush=True)
        t = traffic(write_rate=args.write_rate, writes=Writes(samples, "LVW"))
        w["writes"] = t.run(args.seconds)
        w["writes"]["settled_s"], _ = wait_until_settled(port, workers, touch)
        w["writes"]["read_back"] = read_back(port, workers, [x for d, x in t.written if d.status == "200"])
        print(f"[{mode}] visibility: {args.write_rate:g} probes/s ...", flush=True)
        w["visibility"] = visibility(
            port, workers, samples, Writes(samples, "LVV"), args.seconds, args.write_rate, args.seed
        )
        wait_until_settled(port, workers, touch)
        print(f"[{mode}] mixed: {args.clients} clients, {args.write_share:.0%} ingests ...", flush=True)
        w["mixed"] = mixed(
            port,
            workers,
            samples,
            Writes(samples, "LVM"),
            args.seconds,
            args.clients,
            args.write_share,
            args.seed,
        )
        if mode == "deltas" and args.bulk_records:
            print(
                f"[{mode}] bulk: readers + writes + one {args.bulk_records:,}-record ingest ...", flush=True
            )
            bulk_writes = Writes(samples, "LVB")
            body = bulk_writes.bulk(args.bulk_records, random.Random(args.seed))
            t = traffic(write_rate=args.write_rate, writes=bulk_writes, bulk=body)
            w["bulk"] = t.run(args.seconds)
            w["bulk"]["settled_s"], _ = wait_until_settled(port, workers, touch)
        if mode == "deltas" and args.memory_writes:
            print(f"[{mode}] memory: {args.memory_writes:,} writes, then a fresh API ...", flush=True)
            before = w["writes"]["writes"]["statuses"].get("200", 0) + w["mixed"]["writes_acknowledged"]
            before += w["visibility"]["writes"] - w["visibility"]["write_errors"]
            if "bulk" in w:
                before += w["bulk"]["writes"]["statuses"].get("200", 0) + (
                    w["bulk"]["bulk"]["status"] == "200"
                )
            w["memory"] = memory(
                server, samples, Writes(samples, "LVR"), args.memory_writes, args.seed, before
            )
        out["api_peak_rss_mb"] = peak_rss_mb(server.api.pid) if server.api else None
        out["server_peak_rss_mb"] = peak_rss_mb(server.engine_pid)
    return out


def main() -> None:
    # A terminated run unwinds like an interrupted one: the API and engine it started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="a generated dataset (default: the plant at --size)")
    parser.add_argument("--size", type=int, default=100_000, help="nodes of the plant to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cache", type=Path, default=ROOT / "bench" / "data", help="where plants are generated"
    )
    parser.add_argument("--work", type=Path, help="data directories (default /tmp/lineage-bench-live-<name>)")
    parser.add_argument("--workers", type=int, default=1, help="API processes (`lineage serve --workers`)")
    parser.add_argument("--seconds", type=float, default=60.0, help="per workload")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument(
        "--read-rate", type=float, default=0.0, help="reads/s of all readers (0: back to back)"
    )
    parser.add_argument("--write-rate", type=float, default=10.0, help="small writes per second, paced")
    parser.add_argument("--clients", type=int, default=32, help="clients of the mixed workload")
    parser.add_argument(
        "--write-share", type=float, default=0.15, help="share of the mixed requests that ingest"
    )
    parser.add_argument("--bulk-records", type=int, default=50_000, help="the bulk ingest's size (0: skip)")
    parser.add_argument(
        "--memory-writes", type=int, default=0, help="writes before the memory check (0: skip)"
    )
    parser.add_argument("--compare", action="store_true", help="also run with LINEAGE_INDEX_DELTAS=false")
    parser.add_argument("--port", type=int, default=8797)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    data = (args.data or ensure_plant(args.cache, args.size, args.seed)).resolve()
    if not (data / "samples.json").exists():
        raise SystemExit(f"{data} has no samples.json: give a dataset made by `lineage generate`")
    work = args.work or Path(f"/tmp/lineage-bench-live-{data.name}")
    samples = read_samples(data)
    loaded = prepare(data, work)
    results: dict[str, Any] = {
        "machine": machine(),
        "data": data.name,
        "nodes": loaded["nodes"],
        "relationships": loaded["relationships"],
        "workers": args.workers,
        "seconds": args.seconds,
        "readers": args.readers,
        "read_rate": args.read_rate or None,
        "write_rate": args.write_rate,
        "clients": args.clients,
        "write_share": args.write_share,
        "bulk_records": args.bulk_records,
        "memory_writes": args.memory_writes,
        "seed": args.seed,
        "load_average_before": os.getloadavg(),
        "modes": {},
    }
    for mode in ("deltas", "rebuild") if args.compare else ("deltas",):
        results["modes"][mode] = run_mode(args, mode, work / "pristine", work, samples)
    results["load_average_after"] = os.getloadavg()
    print(write_results(args.out / f"live-{data.name}-w{args.workers}", results, report))


# --- the report ----------------------------------------------------------------------------------


def _n(x: Any, digits: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def _pp(s: dict[str, Any] | None) -> str:
    """p50 / p99 / max."""
    if not s or not s.get("count"):
        return "-"
    return f"{_n(s['p50_ms'])} / {_n(s['p99_ms'])} / {_n(s['max_ms'])}"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _health(h: dict[str, Any]) -> str:
    states = ", ".join(f"{k} {v}" for k, v in sorted(h["states"].items(), key=lambda kv: -kv[1]))
    behind = _n(h["behind_max"]) if h["behind_reported"] else "not reported"
    falls = _n(h["fallbacks"]) if h["fallbacks_reported"] else "not reported"
    return f"{states}; behind max {behind}; fallbacks {falls}"


def summary_rows(modes: dict[str, Any]) -> list[str]:
    names = list(modes)
    rows = [
        "| measure | "
        + " | ".join(f"{m} (LINEAGE_INDEX_DELTAS={modes[m]['env']['LINEAGE_INDEX_DELTAS']})" for m in names)
        + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        cells = []
        for m in names:
            try:
                cells.append(cell(modes[m]["workloads"]))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("-")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    row(
        "1 baseline: reads/s, errors",
        lambda w: f"{_n(w['baseline']['reads']['per_s'])}, {w['baseline']['reads']['errors']}",
    )
    for kind in READS:
        row(
            f"1 baseline: {kind} p50 / p99 / max ms",
            lambda w, k=kind: _pp(w["baseline"]["reads"]["endpoints"][k]),
        )
    row(
        "2 with writes: reads/s, errors",
        lambda w: f"{_n(w['writes']['reads']['per_s'])}, {w['writes']['reads']['errors']}",
    )
    for kind in READS:

        def cell(w: dict[str, Any], k: str = kind) -> str:
            a, b = w["writes"]["reads"]["endpoints"][k], w["baseline"]["reads"]["endpoints"][k]
            return (
                f"{_pp(a)} ({_ratio(a['p50_ms'], b['p50_ms'])} p50, {_ratio(a['p99_ms'], b['p99_ms'])} p99)"
            )

        row(f"2 with writes: {kind} p50 / p99 / max ms (against 1)", cell)
    row("2 ingest p50 / p99 / max ms, from when due", lambda w: _pp(w["writes"]["writes"]["all"]))
    row("2 ingest p50 / p99 / max ms, from when sent", lambda w: _pp(w["writes"]["writes"]["service"]))
    row(
        "2 writes scheduled / sent / errors / lost",
        lambda w: (
            f"{w['writes']['writes']['scheduled']} / {w['writes']['writes']['requests']} / "
            f"{w['writes']['writes']['errors']} / {w['writes']['read_back']['lost']}"
        ),
    )
    row("2 /health index", lambda w: _health(w["writes"]["health"]))
    row("2 settled after the last write, s", lambda w: _n(w["writes"]["settled_s"], 2))
    row("3 first ask after the write showed it", lambda w: _share(w["visibility"]["first_ask_seen_share"]))
    for mark, who, name in (("3a", "writer", "writer's process"), ("3b", "other", "other process")):
        row(
            f"{mark} {name}: first ask showed it",
            lambda w, who=who: _share(w["visibility"][who]["first_ask_seen_share"]),
        )
        for key, what in (
            ("shown", "shown after p50 / p99 / max ms"),
            ("stale_until", "still stale at p50 / p99 / max ms"),
            ("first_ask_latency", "first ask's latency ms"),
        ):
            row(
                f"{mark} {name}: {what}",
                lambda w, who=who, key=key: _pp(w["visibility"][who][key]),
            )
    row("3 every process shown after p50 / p99 / max ms", lambda w: _pp(w["visibility"]["every_worker"]))
    row("3 stale answers / asks", lambda w: f"{w['visibility']['stale_answers']} / {w['visibility']['asks']}")
    row("5 mixed: requests/s", lambda w: _n(w["mixed"]["per_s"]))
    row("5 mixed: all p50 / p99 / max ms", lambda w: _pp(w["mixed"]["all"]))
    row("5 mixed: ingest p50 / p99 / max ms", lambda w: _pp(w["mixed"]["endpoints"]["ingest"]))
    row(
        "5 mixed: errors by status",
        lambda w: ", ".join(f"{k} {v}" for k, v in w["mixed"]["statuses"].items() if k != "200") or "none",
    )
    row(
        "5 mixed: writes acknowledged / lost / missing from a scope",
        lambda w: (
            f"{w['mixed']['writes_acknowledged']} / {w['mixed']['read_back']['lost']} / "
            f"{sum(w['mixed']['read_back']['missing_from_scope'].values())}"
        ),
    )
    row("5 /health index", lambda w: _health(w["mixed"]["health"]))
    return rows


def report(r: dict[str, Any]) -> str:
    modes = r["modes"]
    lines = [
        f"# Reads while the plant keeps writing ({r['data']})",
        "",
        f"- machine: {r['machine']}",
        f"- data: {r['nodes']:,} nodes, {r['relationships']:,} relationships; `lineage serve --workers "
        f"{r['workers']}`, each run on a fresh copy of the loaded data",
        f"- each workload {r['seconds']:g} s; {r['readers']} readers "
        + (f"at {r['read_rate']:g} reads/s together" if r["read_rate"] else "asking back to back")
        + f"; writes paced at {r['write_rate']:g}/s (5-50 records each); mixed: {r['clients']} clients, "
        f"{r['write_share']:.0%} ingests; seed {r['seed']}",
        f"- load average before: {loadavg_text(r['load_average_before'])}, after: "
        f"{loadavg_text(r['load_average_after'])} (clients and server share the cores)",
    ]
    for m, x in modes.items():
        lines.append(
            f"- {m}: index at start {x['index_at_start']}; peak memory API {x['api_peak_rss_mb']} MB, "
            f"FalkorDB {x['server_peak_rss_mb']} MB"
        )
    lines += ["", "## Side by side" if len(modes) > 1 else "## Summary", "", *summary_rows(modes), ""]
    lines += [
        "Latencies are p50 / p99 / max in ms. A paced write is timed from when it was due (a writer "
        "that falls behind its schedule shows it there) and from when it was sent (the server's time "
        "for it); it stops with the readers, so one that fell behind sends fewer than scheduled. "
        "Readers ask back to back (a closed loop: with more "
        "clients than cores the latency is mostly queueing), so a slower server shows as fewer reads/s "
        "as well as longer ones. Writes in 2 consume the readers' sampled lots and deliver to their "
        "sampled customers, so the scopes read grow a little during 2 (and 3, 5): records written in "
        f"2 and 3, + in 5: {_records(modes)}. The bulk ingest (4) names lots and customers the readers "
        "do not ask about.",
        "",
        "**Visibility (3).** One probe at a time at the write rate, with nothing else asking: the "
        "write goes in on a fresh connection; the moment its answer arrives is t0, and the worker "
        "process that answered it (the writer) is found from the connection's server-side socket "
        "(/proc/net/tcp and the workers' file descriptors). Then GETs of the lot's forward scope cut "
        "to its direct batches (`kinds=Batch&depth=1`), each on a fresh connection (the kernel hands "
        "each to a worker), attributed the same way, until every worker has answered with the new "
        f"batch ({r['modes'][next(iter(modes))]['workloads']['visibility']['max_asks']} asks or "
        f"{r['modes'][next(iter(modes))]['workloads']['visibility']['ask_for_s']:g} s at most). "
        "(a) is the writer's process: did the first ask that reached it show the batch "
        "(read-your-writes); (b) is the same for the other process(es) (with `--workers 2` or more). "
        "For each process the batch became visible between two times after t0: *still stale at*, when "
        "the last ask it answered without the batch was sent (0 when its first ask showed it), and "
        "*shown after*, when the answer that first showed it arrived. The second includes that ask's "
        "own latency and any asks the kernel handed to the other process first, so it bounds from "
        "above; the first bounds from below. A stale answer is one without the batch after t0, a "
        "regression one without it after that process had shown it.",
    ]
    for m, x in modes.items():
        lines += mode_details(m, x, r)
    return "\n".join(lines) + "\n"


def _records(modes: dict[str, Any]) -> str:
    """Records the small writes of 2, 3 and 5 added, per mode."""
    return ", ".join(
        f"{m} {x['workloads']['writes']['writes']['records'] + x['workloads']['visibility']['records']:,} "
        f"+ {x['workloads']['mixed']['records']:,}"
        for m, x in modes.items()
    )


def _role(x: dict[str, Any] | None) -> str:
    if not x:
        return "-"
    return (
        f"asked in {x['asked']} probes (never in {x['never_asked']}), first ask showed it "
        f"{_share(x['first_ask_seen_share'])}, shown after {_pp(x['shown'])} ms, still stale at "
        f"{_pp(x['stale_until'])} ms (at most "
        f"{_n(x['asks_to_shown_max'])} asks), first ask's latency {_pp(x['first_ask_latency'])} ms, "
        f"not shown within the bounds {x['not_shown']}"
    )


def _read_back(b: dict[str, Any]) -> str:
    missing = ", ".join(f"{k} {v}" for k, v in b["missing_from_scope"].items()) or "-"
    return (
        f"{b['checked']:,} acknowledged writes read back by uid: {b['lost']} lost; missing from the "
        f"lot's forward scope, by worker: {missing} ({b['workers_checked']} worker(s) reached)"
    )


def mode_details(m: str, x: dict[str, Any], r: dict[str, Any]) -> list[str]:
    w = x["workloads"]
    head = "| endpoint | 1 requests | 1 p50 / p99 / max ms | 2 requests | 2 p50 / p99 / max ms "
    lines = ["", f"## {m}: reads without (1) and with (2) writes", "", head + "| p50 ratio | p99 ratio |"]
    lines.append("|---|---|---|---|---|---|---|")
    for kind in READS:
        a = w["baseline"]["reads"]["endpoints"].get(kind) or {}
        b = w["writes"]["reads"]["endpoints"].get(kind) or {}
        lines.append(
            f"| {kind} | {a.get('requests', 0)} | {_pp(a)} | {b.get('requests', 0)} | {_pp(b)} | "
            f"{_ratio(b.get('p50_ms'), a.get('p50_ms'))} | {_ratio(b.get('p99_ms'), a.get('p99_ms'))} |"
        )
    wr = w["writes"]
    by_worker = "; ".join(
        f"{k}: {', '.join(f'{s} {n}' for s, n in v['states'].items())}, behind max {_n(v['behind_max'])}, "
        f"fallbacks {_n(v['fallbacks'])}"
        for k, v in wr["health"]["by_worker"].items()
    )
    lines += [
        "",
        f"Writes: {wr['writes']['requests']} of {wr['writes']['scheduled']} scheduled at "
        f"{r['write_rate']:g}/s sent, statuses {wr['writes']['statuses']}, {wr['writes']['records']:,} "
        f"records, {_pp(wr['writes']['all'])} ms from when due, {_pp(wr['writes']['service'])} from when "
        f"sent. {_read_back(wr['read_back'])}. /health by worker: {by_worker}.",
    ]
    v = w["visibility"]
    lines += [
        "",
        f"Visibility: {v['writes']} writes ({v['write_errors']} errors), each answered in "
        f"{_pp(v['post'])} ms; {v['asks']} asks ({v['unattributed_asks']} not attributed to a worker), "
        f"{v['stale_answers']} stale answers, {v['regressions']} regressions.",
        f"(a) the writer's process: {_role(v['writer'])}.",
        f"(b) the other process(es): {_role(v['other'])}." if v["other"] else "(b) needs `--workers 2`.",
        f"Every process shown after {_pp(v['every_worker'])} ms ({_share(v['every_worker']['share'])} of "
        "the writes).",
    ]
    mx = w["mixed"]
    lines += [
        "",
        f"## {m}: mixed, {mx['clients']} clients, {mx['write_share']:.0%} ingests",
        "",
        f"{mx['requests']:,} requests in {mx['seconds']:g} s ({_n(mx['per_s'])}/s), all "
        f"{_pp(mx['all'])} ms; writes acknowledged {mx['writes_acknowledged']:,} "
        f"({mx['records']:,} records), not {mx['writes_unacknowledged']} (of which found afterwards: "
        f"{mx['read_back']['unacknowledged_found']}). {_read_back(mx['read_back'])}. Every worker's "
        f"index settled {_n(mx['settled_s'], 2)} s after the last request; /health: {_health(mx['health'])}.",
        "",
        "| endpoint | requests | statuses | p50 / p99 / max ms |",
        "|---|---|---|---|",
    ]
    for kind, e in mx["endpoints"].items():
        statuses = ", ".join(f"{s} {n}" for s, n in e["statuses"].items())
        lines.append(f"| {kind} | {e['requests']} | {statuses} | {_pp(e)} |")
    if "bulk" in w:
        lines += bulk_details(m, w["bulk"])
    if "memory" in w:
        mm = w["memory"]
        lines += [
            "",
            f"## {m}: memory",
            "",
            f"{mm['writes']:,} writes back to back ({_n(mm['writes_per_s'])}/s, statuses {mm['statuses']}), "
            f"{mm['writes_since_start']:,} since the API started; every worker's index settled "
            f"{_n(mm['settled_s'], 2)} s after. Resident memory of the API's worker(s): "
            f"{mm['live']['rss_mb']} MB (peak {mm['live']['peak_rss_mb']}); a freshly started API on the "
            f"same data, after its index was built and 2 s of reads: {mm['fresh']['rss_mb']} MB (peak "
            f"{mm['fresh']['peak_rss_mb']}): {_n(mm['rss_ratio'], 2)}x. Index nodes / relationships by "
            f"worker, live: {_sizes(mm['live']['index'])}, fresh: {_sizes(mm['fresh']['index'])} (equal: "
            f"{mm['index_matches_fresh']}).",
        ]
    return lines


def _sizes(indexes: list[dict[str, Any] | None]) -> str:
    return ", ".join(f"{_n((i or {}).get('nodes'))} / {_n((i or {}).get('relationships'))}" for i in indexes)


def bulk_details(m: str, b: dict[str, Any]) -> list[str]:
    bk = b["bulk"]
    lines = [
        "",
        f"## {m}: a bulk ingest during reads and writes",
        "",
        f"{bk.get('records', 0):,} records ({bk.get('mb')} MB) posted at {bk.get('posted_s')} s, answered "
        f"{bk.get('status')} at {bk.get('answered_s')} s ({_n(bk.get('ms'))} ms; the server's own "
        f"seconds {bk.get('server_seconds')}); every worker's index settled {_n(b['settled_s'], 2)} s "
        f"after the run. Reads {_pp(b['reads']['all'])} ms in all, {b['reads']['errors']} errors; small "
        f"writes {b['writes']['requests']} of {b['writes']['scheduled']} scheduled sent, "
        f"{_pp(b['writes']['all'])} ms from when due, {_pp(b['writes']['service'])} from when sent; "
        f"/health: {_health(b['health'])}.",
        "",
        "| from s | reads/s | p50 ms | p99 ms | max ms | writes | ingest p99 ms | index by worker "
        "| behind max | fallbacks | |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in b["timeline"]:
        states = "; ".join(f"{k}: {', '.join(v)}" for k, v in t["index"].items())
        lines.append(
            f"| {t['from_s']} | {_n(t['reads_per_s'])} | {_n(t['p50_ms'])} | {_n(t['p99_ms'])} | "
            f"{_n(t['max_ms'])} | {t['writes']} | {_n(t['write_p99_ms'])} | {states} | "
            f"{_n(t['behind_max'])} | {_n(t['fallbacks_max'])} | {', '.join(t['notes'])} |"
        )
    return lines


if __name__ == "__main__":
    main()
