"""The data and the engine: ``load``, ``demo``, ``generate``, ``reset``, ``start``, ``stop``,
``status``, ``serve`` and ``key-digest``."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lineage.cli.app import (
    FLAG,
    JsonOpt,
    app,
    emit_json,
    err,
    opened,
    out,
    run_safely,
    settings,
)
from lineage.cli.show import (
    answer_of,
    print_evaluation,
    print_scope,
)
from lineage.config import Settings, is_loopback, key_digest
from lineage.errors import InvalidRequest, Notice
from lineage.graph.model import Label


@app.command()
def load(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="JSON Lines, CSV, EPCIS JSON-LD (.jsonld, .json) or EPCIS XML (.xml) files, or folders."
        ),
    ],
    as_json: JsonOpt = False,
    complaints: Annotated[
        bool, typer.Option("--complaints", metavar=FLAG, help="The files are complaint forms (JSON Lines).")
    ] = False,
    encoding: Annotated[
        str, typer.Option(help="CSV files' text encoding (JSON is always UTF-8), e.g. latin-1, cp1252")
    ] = "utf-8",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            metavar=FLAG,
            help="Refuse the input for any warning (an EPCIS identifier kept opaque, an unknown field).",
        ),
    ] = False,
) -> None:
    """Validate and load data; a file with errors writes nothing.

    What was taken though not as written is listed as warnings (--strict refuses them)."""
    from lineage.loading.load import load as do_load

    if complaints:
        run_safely(lambda: load_complaints(paths, as_json))
        return

    def go() -> None:
        with (
            opened() as store,
            Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                disable=as_json or not err.is_terminal,
            ) as bar,
        ):
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int | None) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = do_load(store, paths, progress, encoding=encoding, strict=strict)
        if as_json:
            notices = [vars(n) for n in report.notices]
            emit_json(
                report.__dict__ | {"items_per_second": round(report.items_per_second), "notices": notices}
            )
            return
        warn_notices(report.notices)
        out.print(
            f"loaded {report.records:,} records from {len(report.files)} file(s): "
            f"{report.nodes:,} nodes, {report.relationships:,} relationships "
            f"in {sum(report.seconds.values()):.2f} s "
            f"({report.items_per_second:,.0f} per second)"
        )

    run_safely(go)


#: Warnings printed in full after a load; the rest are counted.
WARNINGS_SHOWN = 5


def warn_notices(notices: list[Notice]) -> None:
    """How many warnings of each kind, and the first few in full (on standard error)."""
    if not notices:
        return
    counts = Counter(n.kind for n in notices)
    summary = ", ".join(f"{count:,} {kind}" for kind, count in counts.most_common())
    err.print(f"[yellow]{len(notices):,} warning(s)[/yellow]: {summary} (--strict refuses them)")
    for notice in notices[:WARNINGS_SHOWN]:
        err.print(f"  {notice}", markup=False, highlight=False)
    if len(notices) > WARNINGS_SHOWN:
        err.print(f"  ... and {len(notices) - WARNINGS_SHOWN:,} more (--json lists them all)")


def load_complaints(paths: list[Path], as_json: bool) -> None:
    """Every form of every file checked first (a malformed one refuses its file whole, naming the
    line), then each complaint stored, flagged where it does not match the lineage."""
    from lineage.complaints.intake import forms_from, intake, signal_uids
    from lineage.complaints.signals import evaluate_new, load_rules

    forms = []
    for path in paths:
        try:
            forms += forms_from(path.read_text(encoding="utf-8"))
        except InvalidRequest as e:
            raise InvalidRequest(f"{path}: {e}") from None
        except OSError as e:
            raise InvalidRequest(f"{path}: {e.strerror}") from None
    with opened() as store:
        rules = load_rules(store.settings.signal_rules)  # a broken rules file fails before any write
        results = [intake(store, form, signal=False) for form in forms]
        evaluation = evaluate_new(store, rules, [r.uid for r in results])
    for r in results:
        r.signals = signal_uids(evaluation, r.uid)
    if as_json:
        emit_json([r.model_dump() for r in results])
        return
    for r in results:
        flag = "verified" if not r.reasons else "UNVERIFIED: " + "; ".join(r.reasons)
        out.print(f"{r.uid}{' [safety]' if r.safety else ''}: {flag}", highlight=False)
    unverified = sum(1 for r in results if r.reasons)
    out.print(f"{len(results)} complaint(s) stored, {unverified} unverified", highlight=False)
    print_evaluation(evaluation)


@app.command()
def demo() -> None:
    """Start the embedded engine, load the demo dairy, and scope its contaminated lot L-4471."""
    from lineage.graph.scope import forward
    from lineage.loading.load import load as do_load
    from lineage.samples.demo import DEMO_BAD_LOT, demo_dir

    def go() -> None:
        with opened() as store:
            report = do_load(store, [demo_dir()])
            out.print(
                f"Loaded the demo dairy: {report.nodes} nodes, {report.relationships} "
                f"relationships ({store.info().version}, {store.info().location})."
            )
            out.print(
                "Skimmed milk powder lot L-4471 from Northfield Milk Co-op is contaminated. "
                "Who is affected?\n"
            )
            scope = forward(store, DEMO_BAD_LOT)
            print_scope(scope, answer_of(store, scope))
            path = scope.path_to(Label.CUSTOMER, "C-RET-N1")
            out.print(f"\nWhy is C-RET-N1 affected?\n  {path.describe()}", highlight=False)
            out.print(
                "\nC-RET-N2 also buys from the same distributor but only received batch "
                "B-2003, which holds none of L-4471: it is not in scope."
            )

    run_safely(go)


@app.command()
def start() -> None:
    """Start the embedded engine and keep it running for other processes."""

    def go() -> None:
        from lineage.graph.engines.embedded_server import EmbeddedServer

        s = settings()
        if s.engine != "falkordb":
            raise InvalidRequest(
                "lineage start manages the embedded engine; LINEAGE_DB_URI "
                "points at Neo4j, which runs on its own"
            )
        server = EmbeddedServer(s.data_dir, s.server_start_timeout_s)
        server.acquire()
        server.keep()
        server.release()
        out.print(
            f"embedded FalkorDB running on {server.socket} (pid {server.pid()}); `lineage stop` ends it"
        )

    run_safely(go)


@app.command()
def stop() -> None:
    """Stop the embedded engine of the data directory."""

    def go() -> None:
        from lineage.graph.engines.embedded_server import EmbeddedServer

        s = settings()
        server = EmbeddedServer(s.data_dir, s.server_start_timeout_s)
        stopped = server.stop()
        out.print(
            f"stopped the embedded FalkorDB in {server.data_dir}"
            if stopped
            else f"no embedded FalkorDB was running in {server.data_dir}"
        )

    run_safely(go)


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Which engine, where, how much data, and whether a load was interrupted."""
    from lineage.graph.status import collect

    def go() -> None:
        report = collect(settings())
        if as_json:
            emit_json(report)
            return
        out.print(f"engine: {report['engine']} ({report['version']})")
        out.print(f"where:  {report['location']}")
        if "server" in report:
            out.print(f"server: {report['server']}")
        counts = report["nodes"]
        out.print(f"data:   {sum(counts.values()):,} nodes, {report['relationships']:,} relationships")
        for label, n in counts.items():
            out.print(f"        {label}: {n:,}")
        if report["signals"]:
            out.print(f"signals: {report['signals']:,} (lineage signals list)")
        for run in report["interrupted_loads"]:
            started = run["started_at"]
            out.print(
                f"[bold yellow]interrupted load[/] started {started}: "
                f"{', '.join(run['files'])} ({run['records']:,} records); load the same "
                "input again to complete it"
            )
        if not report["interrupted_loads"]:
            out.print("loads:  none interrupted")

    run_safely(go)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write JSON Lines files into.")],
    shape: Annotated[str, typer.Option(help="plant, diamond or distribution")] = "plant",
    nodes: Annotated[int, typer.Option(help="Approximate node count (plant, distribution).")] = 100_000,
    seed: Annotated[int, typer.Option()] = 7,
    levels: Annotated[int, typer.Option(help="Diamond levels.")] = 16,
    width: Annotated[int, typer.Option(help="Diamond nodes per level.")] = 200,
    fan_in: Annotated[int, typer.Option(help="Diamond inputs per node.")] = 4,
    plant: Annotated[
        list[str] | None, typer.Option(help="Plant a cause (lot, machine, warehouse; repeat for several).")
    ] = None,
    complaints: Annotated[
        Path | None, typer.Option(help="Where to write the planted causes' complaint forms (JSON Lines).")
    ] = None,
) -> None:
    """Write a seeded lineage graph: a realistic plant, a diamond-heavy one, or a distribution.

    A distribution is a few batches fanned out to a great many customers.
    """
    from lineage.samples.generate import CAUSES, generate_plant
    from lineage.samples.shapes import generate_diamond, generate_distribution

    def go() -> None:
        causes = [c for c in (plant or []) if c in CAUSES]
        if len(causes) != len(plant or []) or (plant and shape != "plant"):
            raise InvalidRequest(f"--plant takes {', '.join(CAUSES)}, with --shape plant; got {plant}")
        if plant and complaints is None:
            raise InvalidRequest(
                "--plant needs --complaints FILE for the complaint forms (outside the folder)"
            )
        if shape == "plant":
            stats = generate_plant(out_dir, nodes=nodes, seed=seed, plant=causes, complaints_file=complaints)
        elif shape == "diamond":
            stats = generate_diamond(out_dir, levels=levels, width=width, fan_in=fan_in, seed=seed)
        elif shape == "distribution":
            stats = generate_distribution(out_dir, nodes=nodes, seed=seed)
        else:
            raise InvalidRequest(f"--shape must be plant, diamond or distribution, not {shape!r}")
        out.print(f"wrote {stats.nodes:,} nodes and {stats.relationships:,} relationships to {out_dir}")
        for p in stats.samples.get("planted", []):
            out.print(
                f"planted: {p['cause']} {p['label']} {p['uid']}; complaints in {complaints}", highlight=False
            )

    run_safely(go)


@app.command()
def reset(yes: Annotated[bool, typer.Option("--yes", metavar=FLAG, help="Confirm.")] = False) -> None:
    """Delete every node and relationship in the configured graph."""

    def go() -> None:
        if not yes:
            raise InvalidRequest("reset deletes all data; run it again with --yes")
        with opened() as store:
            store.clear()
        out.print("graph cleared")

    run_safely(go)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="the address to bind; loopback unless keys are set")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[
        int, typer.Option(help="API processes; each keeps its own topology index (memory x workers).")
    ] = 1,
    insecure_open: Annotated[
        bool,
        typer.Option("--insecure-open", metavar=FLAG, help="serve a non-loopback address with no API keys"),
    ] = False,
) -> None:
    """Serve the HTTP API (embedded engine by default, Neo4j by settings)."""
    import uvicorn

    settings = Settings()
    if workers < 1:
        raise typer.BadParameter("--workers must be at least 1")
    if not settings.keys_required:
        if not is_loopback(host) and not insecure_open:
            err.print(
                f"[red]Refusing to serve {host}: with no API keys configured every route would be open "
                "to anyone on the network.[/] Set LINEAGE_API_KEYS (or LINEAGE_API_KEYS_FILE), e.g. "
                """'{"<a long random key>": "admin"}' (see the README's security section), """
                "or bind to 127.0.0.1."
            )
            raise typer.Exit(2)
        if insecure_open:
            err.print(
                f"[bold red]--insecure-open: NO API KEYS, every route, writes included, is open to "
                f"whoever can reach {host}:{port}.[/]"
            )
        else:
            err.print(f"[yellow]No API keys configured: every route is open on {host}:{port} (loopback).[/]")
    os.environ["LINEAGE_SERVE_HOST"] = host  # the workers answer the Host it names (api.guard)
    uvicorn.run("api.main:app", host=host, port=port, workers=workers)


@app.command("key-digest")
def key_digest_command() -> None:
    """Print the digest of an API key, read on standard input, for a settings file to hold.

    Settings may hold "sha256:<digest>" in place of the key, so that no file holds the secret.
    """
    key = sys.stdin.readline().rstrip("\r\n")
    if not key:
        raise typer.BadParameter("give the key on standard input")
    print(key_digest(key))
