"""What ships: the wheel carries the queries and the demo; compose runs a pinned Neo4j, health-checked."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import yaml
from conftest import NEO4J_IMAGE

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_every_query_and_the_demo(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "hatchling" in done.stderr:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
            capture_output=True,
            text=True,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("lineage-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    queries = {p.relative_to(ROOT / "cypher").as_posix() for p in (ROOT / "cypher").rglob("*.cypher")}
    assert {f"lineage/_data/cypher/{q}" for q in queries} <= names
    assert "lineage/_data/demo/01-suppliers-and-lots.jsonl" in names
    assert "api/main.py" in names


def test_compose_runs_a_pinned_neo4j_that_the_api_waits_for() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j, api = compose["services"]["neo4j"], compose["services"]["api"]
    assert neo4j["image"] == NEO4J_IMAGE, "compose and the tests pin the same Neo4j image"
    assert "healthcheck" in neo4j
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["environment"]["LINEAGE_DB_URI"].startswith("bolt://neo4j:")
    assert (ROOT / api["build"] / "Dockerfile").exists()
