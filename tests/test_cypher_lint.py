"""Every file in cypher/ passes Neo4j's own linter, ``@neo4j-cypher/language-support`` from npm.

The test installs the linter itself (into .cache/, ignored by git); it is published as
pre-releases only, so npm is asked for ``@latest``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lineage.graph.model import RECORD_LABELS, Label, RelType
from lineage.graph.queries import default_query_dir

ROOT = Path(__file__).resolve().parent.parent
LINT_DIR = ROOT / ".cache" / "cypher-lint"
PACKAGE = "@neo4j-cypher/language-support"

pytestmark = pytest.mark.lint


@pytest.fixture(scope="module")
def linter() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run Neo4j's Cypher linter")
    if not (LINT_DIR / "node_modules" / PACKAGE / "package.json").exists():
        LINT_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(LINT_DIR), f"{PACKAGE}@latest"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm install {PACKAGE} failed:\n{done.stderr[-2000:]}"
    return LINT_DIR / "node_modules"


def lint(node_modules: Path, files: list[tuple[str, str]]) -> list[dict]:
    schema = {
        "labels": [label.value for label in Label] + list(RECORD_LABELS),
        "relationshipTypes": [rel.value for rel in RelType],
    }
    done = subprocess.run(
        ["node", str(Path(__file__).parent / "lint" / "lint_cypher.cjs")],
        input=json.dumps({"schema": schema, "files": [{"path": p, "text": t} for p, t in files]}),
        capture_output=True,
        text=True,
        timeout=300,
        env={"NODE_PATH": str(node_modules), "PATH": shutil.os.environ["PATH"]},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_every_query_file_passes_neo4j_lint(linter: Path) -> None:
    paths = sorted(default_query_dir().rglob("*.cypher"))
    assert len(paths) >= 40
    report = lint(linter, [(str(p.relative_to(ROOT)), p.read_text()) for p in paths])
    faults = [f"{r['path']}:{d['line']}: {d['message']}" for r in report for d in r["diagnostics"]]
    assert faults == []


def test_the_linter_does_catch_faults(linter: Path) -> None:
    """Guards the test above from passing vacuously: broken Cypher and an unknown label are reported."""
    report = lint(
        linter,
        [("typo.cypher", "MATCH (n:Batch) RETRN n"), ("label.cypher", "MATCH (n:Bacth) RETURN n.uid AS uid")],
    )
    assert report[0]["diagnostics"][0]["message"].startswith("Invalid input 'RETRN'")
    assert any("Bacth" in d["message"] for d in report[1]["diagnostics"])
