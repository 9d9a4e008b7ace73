"""The production engine: Neo4j 5 (server, cluster or Aura) through the official ``neo4j`` driver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import neo4j
from neo4j import exceptions as neo4j_errors

from lineage.config import Settings
from lineage.errors import EngineError, EngineUnavailable, QueryTimeout
from lineage.graph.engines.base import EngineInfo, NodeGroups, RelGroups, Row
from lineage.graph.model import LABEL_BY_NAME, LABEL_SLUG, LOOKUP_INDEXES
from lineage.graph.queries import Query


def _map_error(error: Exception, query: Query | None = None) -> Exception:
    where = f" in query '{query.name}'" if query else ""
    if isinstance(error, neo4j_errors.ServiceUnavailable | neo4j_errors.SessionExpired):
        return EngineUnavailable(f"Neo4j cannot be reached{where}: {error}")
    if isinstance(error, neo4j_errors.AuthError):
        return EngineUnavailable(f"Neo4j refused the credentials{where}: {error.message}")
    if isinstance(error, neo4j_errors.Neo4jError):
        if "TransactionTimedOut" in (error.code or ""):
            return QueryTimeout(f"query timed out{where}")
        return EngineError(f"Neo4j refused the statement{where}: {error.message}")
    return error


def _constraint_name(label: str) -> str:
    """``lot_uid`` for the lineage's labels (the names the first releases created), ``auditentry_uid``
    for lineage's own records."""
    known = LABEL_BY_NAME.get(label)
    return f"{LABEL_SLUG[known] if known else label.lower()}_uid"


class Neo4jEngine:
    name = "neo4j"

    def __init__(self, settings: Settings) -> None:
        password = settings.db_password.get_secret_value() if settings.db_password else ""
        self._database = settings.db_database
        self._uri = settings.db_uri
        try:
            self._driver = neo4j.GraphDatabase.driver(settings.db_uri, auth=(settings.db_user, password))
        except Exception as e:
            raise _map_error(e) from e
        try:
            self._driver.verify_connectivity()
        except Exception as e:
            self._driver.close()  # a driver left open warns when collected, and holds its pool
            raise _map_error(e) from e

    def run(self, query: Query, params: dict[str, Any], timeout_s: float | None = None) -> list[Row]:
        mode = neo4j.READ_ACCESS if query.read_only else neo4j.WRITE_ACCESS
        try:
            with self._driver.session(database=self._database, default_access_mode=mode) as s:
                result = s.run(neo4j.Query(query.text, timeout=timeout_s), params)
                return [record.data() for record in result]
        except Exception as e:
            raise _map_error(e, query) from e

    def run_many(self, statements: Sequence[tuple[Query, dict[str, Any]]]) -> list[list[Row] | Exception]:
        """In turn, each in a transaction of its own (one round trip each)."""
        results: list[list[Row] | Exception] = []
        for query, params in statements:
            try:
                results.append(self.run(query, params))
            except Exception as e:
                results.append(e)
        return results

    def ensure_schema(self, labels: Sequence[str]) -> None:
        statements = [
            f"CREATE CONSTRAINT {_constraint_name(label)} IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE n.uid IS UNIQUE"
            for label in labels
        ]
        statements += [
            f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
            for label, prop in LOOKUP_INDEXES
        ]
        for statement in statements:
            try:
                self._driver.execute_query(statement, database_=self._database)
            except Exception as e:
                raise _map_error(e) from e

    def info(self) -> EngineInfo:
        try:
            server = self._driver.get_server_info()
        except Exception as e:
            raise _map_error(e) from e
        return EngineInfo(
            engine=self.name,
            location=self._uri,
            version=server.agent,
            details={"database": self._database, "protocol": ".".join(map(str, server.protocol_version))},
        )

    def bulk_create(self, nodes: NodeGroups, rels: RelGroups) -> bool:
        """Neo4j's bulk import (neo4j-admin) works on a stopped database only: upsert instead."""
        return False

    def checkpoint(self) -> None:
        """Neo4j checkpoints its own transaction log."""

    def signal_revision(self, signal: str) -> None:
        """Nothing watches a Neo4j graph's revision: every scope reads it (a cluster has no
        equivalent of FalkorDB's pushes that reaches every member's clients)."""

    def revision_epoch(self) -> tuple[int, dict[str, int]] | None:
        return None

    def close(self) -> None:
        self._driver.close()
