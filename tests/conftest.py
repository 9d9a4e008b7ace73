"""One behaviour suite for every available engine.

The ``store`` fixture is parametrized over the engines: the embedded FalkorDB always, and Neo4j
through testcontainers (a pinned image) where a Docker engine answers; elsewhere the Neo4j half is
skipped with the reason shown in the summary. Each test gets an empty graph.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from lineage.config import Settings
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.demo import demo_dir

NEO4J_IMAGE = "neo4j:5.26.0-community"
NEO4J_PASSWORD = "lineage-test-password"

settings.register_profile(
    "lineage",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("lineage")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Skipped tests summed by reason, one line each: where no Docker engine answers, the Neo4j
    half of the suite skips some two hundred tests for one reason."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.section("skipped, by reason")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"{count:5d}  {reason}")


def short_tmpdir(prefix: str) -> Path:
    """A Unix socket path must stay under ~100 characters, so data dirs live directly in /tmp."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


@pytest.fixture(scope="session")
def falkor_settings() -> Iterator[Settings]:
    data_dir = short_tmpdir("lin-")
    yield Settings(data_dir=data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def _docker_reason() -> str | None:
    """Why Neo4j cannot run here, or None. Probes the socket itself: the docker client leaks a socket
    (a ResourceWarning, an error under filterwarnings) when no engine answers."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        path = host.removeprefix("unix://")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(2)
            probe.connect(path)
        except OSError as e:
            return f"no Docker engine reachable at {path} ({e.strerror}): Neo4j tests need testcontainers"
        finally:
            probe.close()
    return None


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    reason = _docker_reason()
    if reason:
        pytest.skip(reason)
    from testcontainers.community.neo4j import Neo4jContainer

    with Neo4jContainer(NEO4J_IMAGE, password=NEO4J_PASSWORD) as container:
        yield Settings(
            db_uri=container.get_connection_url(),
            db_user="neo4j",
            db_password=NEO4J_PASSWORD,
        )


@pytest.fixture(scope="session")
def falkor_store(falkor_settings: Settings) -> Iterator[Store]:
    with Store.open(falkor_settings) as opened:
        yield opened


@pytest.fixture(scope="session")
def neo4j_store(neo4j_settings: Settings) -> Iterator[Store]:
    with Store.open(neo4j_settings) as opened:
        yield opened


@pytest.fixture(params=["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Store:
    """An empty graph on each available engine; one server per engine for the whole session."""
    opened: Store = request.getfixturevalue(f"{'falkor' if request.param == 'falkordb' else 'neo4j'}_store")
    opened.clear()
    opened.topology.drop()  # a test that wants the index builds it
    return opened


@pytest.fixture(params=["cypher", "index"])
def walk(request: pytest.FixtureRequest) -> str:
    """How scopes walk the graph: in the database (Cypher), or over the in-memory topology index.
    A test that loads data calls :func:`ready` afterwards, which builds the index when it is asked for."""
    return str(request.param)


def ready(store: Store, walk: str) -> None:
    if walk == "index":
        store.topology.build()


@pytest.fixture
def demo_store(store: Store, walk: str) -> Store:
    load(store, [demo_dir()])
    ready(store, walk)
    return store


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    """A real API over the demo, with keys, one per test module (a module needing other settings
    defines its own ``api``, and ``viewer`` follows it)."""
    from apiserver import serve  # apiserver imports this module: imported when first needed

    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def viewer(api: Any) -> Iterator[Any]:
    with api.client("viewer") as client:
        yield client
