"""Settings and engine selection, checked before any data is touched."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from lineage.config import Settings
from lineage.errors import EngineUnavailable
from lineage.graph.store import Store


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_engine_follows_the_uri() -> None:
    assert Settings().engine == "falkordb"
    assert Settings(db_uri="neo4j+s://example.databases.neo4j.io", db_password="p").engine == "neo4j"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"db_uri": "http://localhost:7474"}, "LINEAGE_DB_URI must be 'embedded' or a Neo4j URI"),
        ({"db_uri": "bolt://localhost:7687"}, "LINEAGE_DB_PASSWORD is required"),
        ({"graph": "no spaces"}, "String should match pattern"),
        ({"scope_max_nodes": 0}, "greater than or equal to 1"),
    ],
)
def test_settings_that_cannot_work_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**settings)


def test_an_unreachable_neo4j_is_a_clear_error_at_once() -> None:
    with pytest.raises(EngineUnavailable, match=r"Neo4j cannot be reached"):
        Store.open(Settings(db_uri=f"bolt://127.0.0.1:{closed_port()}", db_password="x"))
