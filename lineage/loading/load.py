"""``lineage load``: validate everything, check it against the graph, then write it.

The whole input is checked before the first write. Into an empty graph the engine's bulk path
writes it (FalkorDB's GRAPH.BULK); otherwise batched upserts on ``uid`` do, so repeating a load
changes nothing. Either way the writes are recorded as a ``LoadRun`` (keyed by a digest of the
input) that stays 'running' until the last one, so a load cut short shows in ``lineage status``
and is completed by loading the same input again.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lineage.errors import Notice
from lineage.graph.audit import local_actor, record
from lineage.graph.engines.base import NodeGroups, RelGroups
from lineage.graph.gcpause import gc_paused
from lineage.graph.model import node_query_name, now_ms, rel_query_name
from lineage.graph.store import Store
from lineage.loading.checks import Answers, check_cycles, check_holds, check_references, chunked, reads_ahead
from lineage.loading.parties import check_records
from lineage.loading.validate import Input, validate

#: ``progress(stage, done, total)``; total is None while it is not known yet.
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class LoadReport:
    files: list[str]
    records: int
    nodes: int
    relationships: int
    digest: str
    seconds: dict[str, float]
    method: str  # "bulk" into an empty graph, else "upsert"
    #: What was taken though not as written (an identifier kept opaque, ...), in file order.
    notices: list[Notice] = field(default_factory=list)

    @property
    def items_per_second(self) -> float:
        total = sum(self.seconds.values())
        return (self.nodes + self.relationships) / total if total else 0.0


_WRITING = threading.Lock()


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


def load(
    store: Store,
    paths: Iterable[Path],
    progress: Progress = _quiet,
    who: str | None = None,
    supplier: str | None = None,
    encoding: str = "utf-8",
    strict: bool = False,
) -> LoadReport:
    """Load ``paths`` all or nothing; the audit log records it as done by ``who`` (this machine's
    account when not given). With ``supplier``, only records that supplier may write are taken
    (lineage.loading.parties), else none. CSV files are read as ``encoding``. ``strict``: what
    would be a notice refuses the input."""
    # The input is millions of small objects with no cycles among them: any collection while the
    # load allocates would walk them all again (seconds, on a large load), so the collector waits.
    with gc_paused():
        return _load(store, paths, progress, who or local_actor(), supplier, encoding, strict)


def _load(
    store: Store,
    paths: Iterable[Path],
    progress: Progress,
    who: str,
    supplier: str | None,
    encoding: str,
    strict: bool,
) -> LoadReport:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data = validate(
        paths,
        on_record=lambda n: progress("validate", n, None),
        helper_min_bytes=store.settings.load_helper_min_bytes,
        encoding=encoding,
        strict=strict,
    )
    timings["validate"] = time.perf_counter() - started

    with _WRITING:  # checks and writes of two loads in one process (API requests) never interleave
        started = time.perf_counter()
        progress("check", 0, 2)
        if supplier is not None:
            check_records(store, data, supplier)
        answers = Answers(store, reads_ahead(data))
        graph_empty = answers.run("admin_graph_empty")[0]["empty"]
        check_references(answers, data, graph_empty)
        progress("check", 1, 2)
        check_cycles(answers, data, store.settings.scope_timeout_s, graph_empty)
        if not graph_empty:
            check_holds(answers, data)
        progress("check", 2, 2)
        timings["check"] = time.perf_counter() - started

        started = time.perf_counter()
        method = write(store, data, progress, graph_empty)
        timings["write"] = time.perf_counter() - started
        counts = {"records": data.records, "nodes": data.node_count, "relationships": data.rel_count}
        subject = ", ".join(f.name for f in data.files)
        record(store, who, "load", subject[:1000], counts, f"{method}; input digest {data.digest}")
    return LoadReport(
        files=[str(f) for f in data.files],
        records=data.records,
        nodes=data.node_count,
        relationships=data.rel_count,
        digest=data.digest,
        seconds=timings,
        method=method,
        notices=data.notices,
    )


def write(store: Store, data: Input, progress: Progress = _quiet, empty: bool | None = None) -> str:
    """Write everything; returns how: ``bulk`` or ``upsert``.

    Into an empty graph, the engine's bulk path if it has one. Otherwise nodes, then relationships,
    in statements of ``load_batch_rows`` rows each.

    Two statements are in flight at a time, so the client renders one while the engine runs the
    other; the engine applies them one by one. All node statements finish before the first
    relationship statement is sent: a relationship whose end is not yet written would match nothing.
    ``empty``: whether the graph was empty, if the caller has just asked.
    """
    size = store.settings.load_batch_rows
    total = data.node_count + data.rel_count + sum(map(len, data.events.values()))
    marker = {
        "uid": data.digest,
        "started_at": now_ms(),
        "files": [str(f) for f in data.files],
        "records": data.records,
    }
    progress("write", 0, total)
    if empty is None:
        empty = store.run("admin_graph_empty")[0]["empty"]
    if store.settings.load_bulk and empty:
        run = ("LoadRun", [(data.digest, {**marker, "status": "running"})])
        if store.bulk_create(_bulk_nodes(data, run), _bulk_rels(data)):
            progress("write", total, total)
            _finish(store, data)
            return "bulk"
    with store.topology.deferred():  # the index takes the whole load at its end, each record read once
        _upsert(store, data, ("load_run_begin", marker), size, total, progress)
    _finish(store, data)
    return "upsert"


def _upsert(
    store: Store, data: Input, begin: tuple[str, dict[str, object]], size: int, total: int, progress: Progress
) -> None:
    """The run's marker (``begin``), then each phase's statements in order. A load of fewer rows than
    one statement holds (every small ingest) is sent in one round trip from this thread: a pool's
    threads would cost more to start than it takes, and on a busy server each round trip of a
    request waits its turn for the interpreter. The engine runs them in order, so nodes are there
    before the relationships that name them; if one fails, the load stays marked as running, to be
    completed by loading it again."""
    phases = (_node_statements(data, size), _rel_statements(data, size), _event_statements(data, size))
    if total <= size:
        statements = ((name, {"rows": chunk}) for name, chunk in itertools.chain(*phases))
        store.run_many([begin, *statements])
        progress("write", total, total)
    else:
        store.run(begin[0], **begin[1])
        _send_pooled(store, phases, total, progress)
    retract(store, data)


def _send_pooled(store: Store, phases: Iterable[Iterable[Statement]], total: int, progress: Progress) -> None:
    """:data:`IN_FLIGHT` statements at a time; a phase ends before the next one starts."""
    done = 0
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        for phase in phases:
            pending: deque[tuple[Future[object], int]] = deque()
            try:
                for name, chunk in phase:
                    pending.append((pool.submit(store.run, name, rows=chunk), len(chunk)))
                    while len(pending) >= IN_FLIGHT:
                        done += _settle(pending)
                        progress("write", done, total)
                while pending:
                    done += _settle(pending)
                    progress("write", done, total)
            except BaseException:
                for future, _ in pending:  # an interrupted load sends nothing more
                    future.cancel()
                raise


def retract(store: Store, data: Input) -> None:
    """Take back what events declared in error in this input said when an earlier input stored it:
    their relationships (each loses the event's id, and goes when it was its only evidence), and the
    shipment a shipping event made once nothing links it. Quantities another event added to the same
    relationship, and a delivery time a receiving event gave, stay. A rerun finds nothing to undo."""
    from lineage.interchange.epcis.mapping import shipment_uid

    ids = sorted(uid for uid, props in data.events.get("EpcisEvent", {}).items() if props.get("retracted"))
    for chunk in chunked(ids, 1_000):
        shipments = [{"id": uid, "shipment": shipment_uid(uid)} for uid in chunk]
        store.run("epcis_retract_links", ids=chunk)
        store.run("epcis_retract_evidence", ids=chunk)
        store.run("epcis_retract_delivery", ids=chunk)
        store.run("epcis_retract_shipment", rows=shipments)
        store.run("epcis_retract_orphans", shipments=[s["shipment"] for s in shipments])


def _finish(store: Store, data: Input) -> None:
    store.run(
        "load_run_finish",
        uid=data.digest,
        finished_at=now_ms(),
        nodes=data.node_count,
        relationships=data.rel_count,
    )
    store.engine.checkpoint()


def _bulk_nodes(data: Input, run: tuple[str, list[tuple[str, dict[str, object]]]]) -> NodeGroups:
    """The load's own LoadRun first, so a bulk load cut short shows as interrupted too."""
    yield run
    for label, table in data.nodes.items():
        yield label.value, ((uid, props) for uid, (props, _) in table.items())
    for label, events in data.events.items():
        yield label, iter(events.items())


def _bulk_rels(data: Input) -> RelGroups:
    for (rel, src, dst), pairs in data.rels.items():
        yield rel.value, src.value, dst.value, ((a, b, props) for (a, b), (props, _) in pairs.items())


Statement = tuple[str, list[dict[str, object]]]


def _node_statements(data: Input, size: int) -> Iterator[Statement]:
    for label, table in data.nodes.items():
        rows = ({"uid": uid, "props": props} for uid, (props, _) in table.items())
        for chunk in chunked(rows, size):
            yield node_query_name(label), chunk


def _rel_statements(data: Input, size: int) -> Iterator[Statement]:
    for (rel, src, dst), pairs in data.rels.items():
        rows = ({"src": a, "dst": b, "props": props} for (a, b), (props, _) in pairs.items())
        for chunk in chunked(rows, size):
            yield rel_query_name(rel, src, dst), chunk


def _event_statements(data: Input, size: int) -> Iterator[Statement]:
    for label, events in data.events.items():
        rows = ({"uid": uid, "props": props} for uid, props in events.items())
        for chunk in chunked(rows, size):
            yield EVENT_UPSERTS[label], chunk


#: The upsert of each kind of record an EPCIS document keeps beside the lineage.
EVENT_UPSERTS = {"EpcisEvent": "epcis_event_upsert", "EpcisMention": "epcis_mention_upsert"}


#: Statements sent before the oldest must have finished.
IN_FLIGHT = 2


def _settle(pending: deque[tuple[Future[object], int]]) -> int:
    future, rows = pending.popleft()
    future.result()
    return rows
