"""The command line, run as a user would run it, against the real embedded engine."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import short_tmpdir
from test_embedded_server import cli

from lineage.graph.engines.embedded_server import EmbeddedServer


@pytest.fixture(scope="module")
def demo_dir_loaded() -> Iterator[Path]:
    """One server kept for the module (lineage start), with the demo loaded by ``lineage demo``
    before any test of the module asks for it, whatever order they run in."""
    path = short_tmpdir("lin-cli-")
    assert cli(path, "start").returncode == 0
    loaded = cli(path, "demo")
    assert loaded.returncode == 0, loaded.stderr
    yield path
    EmbeddedServer(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def test_demo_prints_the_scope_of_the_bad_lot(demo_dir_loaded: Path) -> None:
    done = cli(demo_dir_loaded, "demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Loaded the demo dairy: 42 nodes, 63 relationships" in out
    assert "Forward scope of MaterialLot L-4471" in out
    for customer in ("C-RET-E1", "C-DIST-NORTH", "C-RET-N1", "C-RET-S1"):
        assert customer in out
    assert "C-RET-N2 also buys from the same distributor" in out
    assert "Customer C-RET-N1" in out and "Shipment SH-02" in out
    # the same story as the API's affected answer: stock by location, the suggested response level
    assert "Stock on hand" in out and "480 cups, counted 2026-03-07" in out
    assert "Suggested response: national" in out


def test_trace_forward_json(demo_dir_loaded: Path) -> None:
    done = cli(demo_dir_loaded, "trace", "forward", "lot", "L-4471", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["summary"]["counts"] == {"Batch": 4, "Shipment": 4, "Customer": 4, "Sale": 3}
    assert data["summary"]["customers_by_region"]["North"] == ["C-DIST-NORTH", "C-RET-N1"]
    assert data["scope"]["source"] == {"label": "MaterialLot", "uid": "L-4471"}
    started = {n["uid"]: n["properties"].get("started_at") for n in data["scope"]["nodes"]}
    assert started["B-2001"] == "2026-03-02T10:00:00Z"  # ISO 8601 in UTC, as the API prints it
    assert data["summary"]["response"]["level"] == "national"
    plant = {r["batch"]: r for r in data["summary"]["stock_on_hand"] if r["holder"] == "plant"}
    assert (plant["B-2001"]["quantity"], plant["B-2001"]["scrapped"]) == (480.0, 20.0)


def test_trace_forward_with_a_window(demo_dir_loaded: Path) -> None:
    done = cli(
        demo_dir_loaded, "trace", "forward", "Machine", "M-FILL3",
        "--from", "2026-03-02T11:00:00Z", "--to", "2026-03-02T12:00:00Z", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    windowed = json.loads(done.stdout)
    assert windowed["summary"]["counts"]["Batch"] == 2
    assert windowed["scope"]["window"] == {"start": "2026-03-02T11:00:00Z", "end": "2026-03-02T12:00:00Z"}
    runs = [e for e in windowed["scope"]["edges"] if e["type"] == "RAN_ON"]
    assert runs and all(e["start"].endswith("Z") and e["end"].endswith("Z") for e in runs)
    bad = cli(
        demo_dir_loaded,
        "trace",
        "forward",
        "Machine",
        "M-FILL3",
        "--from",
        "2026-03-03",
        "--to",
        "2026-03-02",
    )
    assert bad.returncode == 1
    assert "--to (2026-03-02) must be after --from (2026-03-03)" in bad.stderr


def test_trace_backward_prints_upstream(demo_dir_loaded: Path) -> None:
    done = cli(demo_dir_loaded, "trace", "backward", "Complaint", "CP-01")
    assert done.returncode == 0, done.stderr
    for uid in ("SUP-MILKCO", "L-4471", "M-FILL3", "OP-ANNA", "I-03"):
        assert uid in done.stdout
    assert "seal integrity: fail" in done.stdout


def test_why(demo_dir_loaded: Path) -> None:
    done = cli(demo_dir_loaded, "why", "MaterialLot:L-4471", "Customer:C-RET-S1")
    assert done.returncode == 0, done.stderr
    assert " ".join(done.stdout.split()) == (
        "MaterialLot L-4471 -[CONSUMED_BY 200 kg]- Batch B-1001 -[CONSUMED_BY 400 kg]- Batch B-2002 "
        "-[SHIPPED_IN 400 cups]- Shipment SH-04 -[DELIVERED_TO]- Customer C-RET-S1"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("trace", "forward", "lot", "NOPE"), "no MaterialLot with uid 'NOPE'"),
        (("trace", "forward", "Widget", "X"), "unknown kind 'Widget'"),
        (("why", "L-4471", "Customer:C-RET-N1"), "'L-4471' should be Label:uid"),
        (("load", "/nonexistent.jsonl"), "/nonexistent.jsonl: no such file or folder"),
        (("reset",), "run it again with --yes"),
    ],
)
def test_errors_are_one_clear_line(demo_dir_loaded: Path, args: tuple[str, ...], message: str) -> None:
    done = cli(demo_dir_loaded, *args)
    assert done.returncode == 1
    assert message in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_status_reports_data(demo_dir_loaded: Path) -> None:
    done = cli(demo_dir_loaded, "status", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["engine"] == "falkordb" and report["version"].startswith("FalkorDB 4.")
    assert report["nodes"]["Batch"] == 6 and report["relationships"] == 63
    assert report["interrupted_loads"] == []


def test_settings_are_checked(demo_dir_loaded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_DB_URI", "http://localhost:7474")
    done = cli(demo_dir_loaded, "status")
    assert done.returncode == 1
    assert "LINEAGE_DB_URI must be 'embedded' or a Neo4j URI" in " ".join(done.stderr.split())


def test_render_draws_the_scope_as_svg_and_png(demo_dir_loaded: Path, tmp_path: Path) -> None:
    assert cli(demo_dir_loaded, "demo").returncode == 0
    svg = tmp_path / "scope.svg"
    done = cli(demo_dir_loaded, "render", "MaterialLot:L-4471", "--out", str(svg))
    assert done.returncode == 0, done.stderr
    assert f"wrote {svg} (15 nodes)" in done.stdout
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for drawn in ("Forward scope of MaterialLot L-4471: 15 nodes", "C-RET-N1", "200 kg", "FreshMart"):
        assert drawn in text, drawn
    png = tmp_path / "trace.png"
    done = cli(demo_dir_loaded, "render", "Complaint:CP-02", "--out", str(png))  # backward: no forward scope
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = cli(demo_dir_loaded, "render", "MaterialLot:L-4471", "--out", str(tmp_path / "scope.txt"))
    assert wrong.returncode == 1 and "write the picture as .svg or .png" in wrong.stderr
    assert not (tmp_path / "scope.txt").exists()


def test_the_database_does_not_follow_the_current_folder_and_an_empty_one_says_so(tmp_path: Path) -> None:
    """With no LINEAGE_DATA_DIR, every folder uses the user's one data directory; a miss in an
    empty database says where it looked and how to load or point elsewhere."""
    import os
    import subprocess
    import sys

    home = short_tmpdir("lin-home-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINEAGE_", "XDG_"))} | {
        "HOME": str(home)
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "lineage.cli", *args]
        return subprocess.run(
            command, cwd=cwd, env=env | {"COLUMNS": "200"}, capture_output=True, text=True, timeout=120
        )

    try:
        missed = run("trace", "forward", "MaterialLot", "L-4471", cwd=elsewhere)
        assert missed.returncode == 1
        message = " ".join(missed.stderr.split())
        data = home / ".local" / "share" / "lineage"
        assert "no MaterialLot with uid 'L-4471'" in message
        assert f"the database ({data}) is empty" in message and "lineage load" in message
        assert not (elsewhere / ".lineage").exists()
        loaded = run("demo", cwd=tmp_path)
        assert loaded.returncode == 0, loaded.stderr
        found = run("trace", "forward", "MaterialLot", "L-4471", "--json", cwd=elsewhere)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["summary"]["counts"]["Batch"] == 4
        status = run("status", cwd=elsewhere)
        assert str(data) in " ".join(status.stdout.split())
    finally:
        EmbeddedServer(home / ".local" / "share" / "lineage").stop()
        shutil.rmtree(home, ignore_errors=True)


def test_version_and_the_help_of_by(tmp_path: Path) -> None:
    from lineage import __version__

    version = cli(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.strip() == f"lineage {__version__}"
    for command in (("recall", "create"), ("export", "fsma204")):
        shown = " ".join(cli(tmp_path, *command, "--help").stdout.split())
        assert "Who (default: this machine's account)" in shown and "signal" not in shown, command
    shown = " ".join(cli(tmp_path, "signals", "close", "--help").stdout.split())
    assert "recorded on the signal" in shown
    flags = cli(tmp_path, "trace", "forward", "--help").stdout
    assert [line for line in flags.splitlines() if "<bool>" in line and "--help" not in line] == []
    assert "--json" in flags and "<str>" in flags  # a flag shows no type; an option with a value does


def _every_command() -> Iterator[tuple[list[str], Any]]:
    """Every group and command of ``lineage``, as the path that names it and its click object."""
    import typer.main

    from lineage.cli import app

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def test_every_help_page_reads_cleanly() -> None:
    """No flag shows a value type (``--help <bool>``), no reST markup, and in a wide terminal each
    command's summary in its group's list is one line (a docstring's line break does not show)."""
    from typer.testing import CliRunner

    from lineage.cli import app

    runner = CliRunner()
    seen = 0
    for path, command in _every_command():
        shown = runner.invoke(app, [*path, "--help"], terminal_width=250, env={"COLUMNS": "250"})
        assert shown.exit_code == 0, (path, shown.output)
        lines = shown.output.splitlines()
        assert [line for line in lines if "<bool>" in line] == [], path
        assert "``" not in shown.output, path
        assert any(line.split()[1:2] == ["--help"] for line in lines if line.startswith("│")), path
        names = getattr(command, "commands", None)
        if names:
            start = next(i for i, line in enumerate(lines) if line.startswith("╭─ Commands"))
            end = next(i for i in range(start, len(lines)) if lines[i].startswith("╰"))
            rows = [line.strip("│ ").split()[0] for line in lines[start + 1 : end]]
            assert rows == list(names), (path, rows)
        seen += 1
    assert seen > 40  # the walk reached the subcommands, not only the top level


def test_the_cli_reference_lists_every_command() -> None:
    """docs/cli.md has a row for every command, as ``lineage <group> <command>``, with the summary
    its --help gives."""
    import re

    reference = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(lineage [a-z0-9 -]+?)(?: [A-Z_ ]+)?` \| (.+) \|$", reference, re.M))
    commands = [
        (path, command) for path, command in _every_command() if path and not hasattr(command, "commands")
    ]
    assert len(commands) > 30
    for path, command in commands:
        name = " ".join(["lineage", *path])
        assert name in rows, f"{name} is not in docs/cli.md"
        summary = " ".join((command.help or "").split("\n\n")[0].split())
        assert rows[name] == summary, name


def test_a_big_scope_is_summed_up_in_the_terminal_and_exported_whole(tmp_path: Path) -> None:
    import openpyxl

    records = [
        {"kind": "MaterialLot", "uid": "L-BIG", "material": "sugar"},
        {"kind": "Batch", "uid": "B-BIG", "product": "jam", "quantity": 600, "unit": "jars"},
        {"kind": "CONSUMED_BY", "from": "L-BIG", "from_label": "MaterialLot", "to": "B-BIG", "quantity": 5},
    ]
    for n in range(60):
        records += [
            {"kind": "Customer", "uid": f"C-{n:02d}", "name": f"Shop {n}", "region": "North",
             "contact_email": f"a-rather-long-address-for-shop-{n}@example.com"},
            {"kind": "Shipment", "uid": f"SH-{n:02d}"},
            {"kind": "SHIPPED_IN", "from": "B-BIG", "to": f"SH-{n:02d}", "quantity": 10, "unit": "jars"},
            {"kind": "DELIVERED_TO", "from": f"SH-{n:02d}", "to": f"C-{n:02d}"},
        ]  # fmt: skip
    data = tmp_path / "big.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    folder = short_tmpdir("lin-big-")
    try:
        assert cli(folder, "load", str(data)).returncode == 0
        shown = cli(folder, "trace", "forward", "MaterialLot", "L-BIG")
        assert shown.returncode == 0, shown.stderr
        text = " ".join(shown.stdout.split())
        assert "C-49" in text and "C-50" not in text
        assert "... and 10 more customers: `lineage export scope forward MaterialLot:L-BIG`" in text
        assert "a-rather-long-address-for-shop-7@example.com" in shown.stdout.replace("\n", "").replace(
            " ", ""
        )

        book = tmp_path / "scope.xlsx"
        written = cli(folder, "export", "scope", "forward", "MaterialLot:L-BIG", "--out", str(book))
        assert written.returncode == 0, written.stderr
        sheets = {ws.title: list(ws.values) for ws in openpyxl.load_workbook(book).worksheets}
        assert set(sheets) == {"Batch", "Shipment", "Customer", "relationships"}
        customers = sheets["Customer"]
        assert len(customers) == 61 and "contact_email" in customers[0] and "product" not in customers[0]
        assert len(sheets["relationships"]) == 1 + 1 + 60 * 2  # header, consumed, shipped + delivered
        rows = cli(folder, "export", "scope", "forward", "MaterialLot:L-BIG", "--format", "csv")
        header = rows.stdout.splitlines()[0].split(",")
        assert len(rows.stdout.splitlines()) == 1 + 1 + 60 + 60
        assert "contact_email" in header and "sold_at" not in header and "scrapped" in header
    finally:
        EmbeddedServer(folder).stop()
        shutil.rmtree(folder, ignore_errors=True)
