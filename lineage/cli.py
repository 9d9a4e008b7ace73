"""The ``lineage`` command: a thin skin over the library, printing for people or (--json) for scripts."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from lineage.config import Settings, is_loopback, key_digest
from lineage.errors import InvalidRequest, LineageError, NotFound
from lineage.model import Label, iso, node_ref, parse_ref, readable
from lineage.store import Store

#: The metavar of a flag: nothing, where typer would show "<bool>" for an option that takes no value.
FLAG = ""


class _HelpFlag:
    """Shows ``--help`` as the flag it is: typer gives click's own help option the metavar "<bool>"."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = FLAG
        return option


class _Group(_HelpFlag, TyperGroup):
    pass


class _Command(_HelpFlag, TyperCommand):
    pass


class CommandGroup(typer.Typer):
    """A typer app whose groups and commands all show ``--help`` without a value."""

    def __init__(self, *, help: str, **kwargs: Any) -> None:
        super().__init__(cls=_Group, no_args_is_help=True, help=help, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = CommandGroup(
    add_completion=False, help="Graph lineage for product recalls: who is affected, and where it came from."
)
trace_app = CommandGroup(help="Forward scope and backward trace.")
app.add_typer(trace_app, name="trace")
signals_app = CommandGroup(help="Signals: patterns in the complaints, raised by the rules in settings.")
app.add_typer(signals_app, name="signals")

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
JsonOpt = Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON for scripts.")]
MaxNodesOpt = Annotated[int | None, typer.Option(help="Node limit (default from settings).")]
TimeoutOpt = Annotated[float | None, typer.Option(help="Time limit in seconds (default from settings).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who (default: this machine's account).")]
EvidenceOpt = Annotated[
    bool,
    typer.Option(
        "--evidence", metavar=FLAG, help="Also list the event and document ids it rests on, oldest first."
    ),
]


def _print_version(asked: bool) -> None:
    if asked:
        from lineage import __version__

        print(f"lineage {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar=FLAG,
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Graph lineage for product recalls: who is affected, and where it came from."""


def acting(by: str | None) -> str:
    """Who the audit log names for a command: the person given with ``--by``, with this machine's
    account beside it (or the account alone)."""
    from lineage.audit import local_actor

    return f"{by} ({local_actor()})" if by else local_actor()


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as e:
        raise LineageError(f"invalid settings: {e}") from e


@contextmanager
def opened() -> Iterator[Store]:
    with Store.open(settings()) as store:
        yield store


def run_safely(fn: Callable[[], None]) -> None:
    try:
        fn()
    except NotFound as e:
        err.print(f"[bold red]error:[/] {e}{_empty_hint()}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None
    except LineageError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None


def _empty_hint() -> str:
    """After a miss: if the database holds nothing at all, where it is and what to do."""
    try:
        with opened() as store:
            if not store.run("admin_graph_empty")[0]["empty"]:
                return ""
    except LineageError:
        return ""
    current = settings()
    where = current.data_dir if current.engine == "falkordb" else current.db_uri
    return (
        f"\nthe database ({where}) is empty: load data with `lineage load FILES...`, or point "
        "LINEAGE_DATA_DIR (or LINEAGE_DB_URI) at the one that holds your lineage"
    )


# --- printing -----------------------------------------------------------------------------------


def _name(props: dict[str, Any]) -> str:
    return str(props.get("name") or props.get("product") or props.get("material") or "")


QUANTITY_NAMES = {
    "consumed_from_source": "taken from the source",
    "shipped": "shipped from the plant",
    "reshipped": "re-shipped by distributors",
    "sold": "sold",
}


def answer_of(store: Store, scope: Any) -> dict[str, Any] | None:
    """For a forward scope, the rest of the API's affected answer: stock on hand by location and the
    suggested response level (the two tell the same story)."""
    from lineage.affected import summarise

    if scope.direction != "forward":
        return None
    return summarise(scope, store.settings)


def print_scope(scope: Any, answer: dict[str, Any] | None = None) -> None:
    from lineage.scope import Scope

    assert isinstance(scope, Scope)
    src = scope.source
    window = ""
    if scope.window:
        window = f" from {iso(scope.window.start)} to {iso(scope.window.end)}"
    title = "Forward scope" if scope.direction == "forward" else "Backward trace"
    out.print(f"[bold]{title} of {src.label.value} {src.uid}{window}[/] ({scope.elapsed_ms:.1f} ms)")
    counts = scope.counts()
    if not counts:
        out.print("nothing found")
        return
    table = Table("kind", "count", title="In scope", title_justify="left")
    for label, count in counts.items():
        table.add_row(label, str(count))
    out.print(table)

    if scope.direction == "forward":
        regions = scope.customers_by_region()
        if regions:
            props = {n.uid: n.properties for n in scope.nodes if n.label == Label.CUSTOMER}
            table = Table("region", "customer", "type", title="Customers by region", title_justify="left")
            table.add_column("contact", overflow="fold")  # wrapped, never cut: an address must stay whole
            listed = [(region, uid) for region, uids in regions.items() for uid in uids]
            for region, uid in listed[:TERMINAL_ROWS]:
                p = props.get(uid, {})
                contact = " ".join(str(p[k]) for k in ("contact_email", "contact_phone") if k in p)
                table.add_row(region, f"{uid} {_name(p)}", str(p.get("customer_type", "")), contact)
            out.print(table)
            _more(len(listed), "customers", scope)
        quantities = scope.quantities()
        if quantities:
            table = Table("what", "quantity", title="Quantities", title_justify="left")
            for what, by_unit in quantities.items():
                table.add_row(
                    QUANTITY_NAMES.get(what, what),
                    ", ".join(f"{q:g} {u}".strip() for u, q in by_unit.items()),
                )
            out.print(table)
        if answer is not None:
            _print_stock(answer, scope)
        batches = [n for n in scope.nodes if n.label == Label.BATCH]
        if batches:
            shown = batches[:TERMINAL_ROWS]
            out.print(
                "Batches: "
                + ", ".join(f"{n.uid} ({n.properties.get('batch_type', 'production')})" for n in shown)
            )
            _more(len(batches), "batches", scope)
    else:
        table = Table("kind", "uid", "name", "detail", title="Upstream", title_justify="left")
        windows: dict[str, list[str]] = {}
        for e in scope.edges:
            if e.start is not None:
                windows.setdefault(e.target.uid, []).append(f"{e.source.uid} {iso(e.start)}..{iso(e.end)}")
        upstream = [n for n in scope.nodes if n.depth and n.label not in (Label.SALE, Label.SHIPMENT)]
        for n in upstream[:TERMINAL_ROWS]:
            detail = ""
            if n.label == Label.INSPECTION:
                detail = f"{n.properties.get('inspection_type', '')}: {n.properties.get('result')}"
            elif n.label in (Label.MACHINE, Label.OPERATOR):
                detail = "; ".join(windows.get(n.uid, []))
            table.add_row(n.label.value, n.uid, _name(n.properties), detail)
        out.print(table)
        _more(len(upstream), "upstream records", scope)


#: Rows of one table the terminal shows; the rest is summed up, with how to export it all.
TERMINAL_ROWS = 50


def _more(total: int, what: str, scope: Any) -> None:
    if total > TERMINAL_ROWS:
        src = scope.source
        out.print(
            f"... and {total - TERMINAL_ROWS:,} more {what}: `lineage export scope {scope.direction} "
            f"{src.label.value}:{src.uid}` writes the whole scope as a workbook (--format csv for rows)",
            highlight=False,
        )


def _print_stock(answer: dict[str, Any], scope: Any) -> None:
    stock = answer["stock_on_hand"]
    if stock:
        table = Table("batch", "where", "quantity", "scrapped", title="Stock on hand", title_justify="left")
        for s in stock[:TERMINAL_ROWS]:
            where = s["location"] + (f" ({s['region']})" if s["region"] else "")
            counted = f", counted {s['counted_at'][:10]}" if s.get("counted_at") else ""
            scrapped = f"{s['scrapped']:g} {s['unit']}" if s.get("scrapped") else ""
            table.add_row(s["batch"], where, f"{s['quantity']:g} {s['unit']}{counted}", scrapped)
        out.print(table)
        _more(len(stock), "stock rows", scope)
    response = answer["response"]
    out.print(f"Suggested response: [bold]{response['level']}[/] ({response['rule']})")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def scope_json(scope: Any, answer: dict[str, Any] | None = None) -> dict[str, Any]:
    """The scope as the API shows it: times as ISO 8601 in UTC, not the stored epoch milliseconds;
    for a forward scope, the stock on hand and the suggested response too."""
    data = scope.to_dict()
    if data["window"]:
        data["window"] = {name: iso(value) for name, value in data["window"].items()}
    for node in data["nodes"]:
        node["properties"] = readable(node["properties"])
    for edge in data["edges"]:
        edge.update({name: iso(edge[name]) for name in ("start", "end") if name in edge})
    return {
        "summary": {
            "counts": scope.counts(),
            "customers_by_region": scope.customers_by_region(),
            "quantities": scope.quantities(),
            **({"stock_on_hand": answer["stock_on_hand"], "response": answer["response"]} if answer else {}),
            "elapsed_ms": round(scope.elapsed_ms, 3),
        },
        "scope": data,
    }


# --- commands -----------------------------------------------------------------------------------


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="JSON Lines or CSV files, or folders of them.")],
    as_json: JsonOpt = False,
    complaints: Annotated[
        bool, typer.Option("--complaints", metavar=FLAG, help="The files are complaint forms (JSON Lines).")
    ] = False,
    encoding: Annotated[
        str, typer.Option(help="CSV files' text encoding (JSON is always UTF-8), e.g. latin-1, cp1252")
    ] = "utf-8",
) -> None:
    """Validate and load data; a file with errors writes nothing."""
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

            report = do_load(store, paths, progress, encoding=encoding)
        if as_json:
            emit_json(report.__dict__ | {"items_per_second": round(report.items_per_second)})
            return
        out.print(
            f"loaded {report.records:,} records from {len(report.files)} file(s): "
            f"{report.nodes:,} nodes, {report.relationships:,} relationships "
            f"in {sum(report.seconds.values()):.2f} s "
            f"({report.items_per_second:,.0f} per second)"
        )

    run_safely(go)


def load_complaints(paths: list[Path], as_json: bool) -> None:
    """Every form of every file checked first (a malformed one refuses its file whole, naming the
    line), then each complaint stored, flagged where it does not match the lineage."""
    from lineage.complaints import forms_from, intake, signal_uids
    from lineage.signals import evaluate_new, load_rules

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


def print_evaluation(evaluation: Any) -> None:
    for s in evaluation.raised:
        what = f"{s.uid} level {s.level} {s.title}: {s.group}, {len(s.complaints)} complaint(s)"
        out.print(f"signal raised: {what}", highlight=False)
    for s in evaluation.grown:
        what = f"{s.uid} {s.title}: {s.group}, now {len(s.complaints)} complaint(s)"
        out.print(f"signal grown: {what}", highlight=False)


@trace_app.command("forward")
def trace_forward(
    label: Annotated[str, typer.Argument(help="Supplier, MaterialLot, Batch, Machine or Operator.")],
    uid: str,
    start: Annotated[str | None, typer.Option("--from", help="Window start (ISO-8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (ISO-8601).")] = None,
    as_json: JsonOpt = False,
    max_nodes: MaxNodesOpt = None,
    timeout: TimeoutOpt = None,
    evidence: EvidenceOpt = False,
) -> None:
    """Everything downstream: batches, shipments, customers by region, sales, quantities."""
    from lineage.scope import forward

    def go() -> None:
        source = node_ref(label, uid)
        window = make_window(start, end)
        with opened() as store:
            scope = forward(store, source, window, max_nodes=max_nodes, timeout_s=timeout)
            show_scope(store, scope, as_json, evidence)

    run_safely(go)


def show_scope(store: Store, scope: Any, as_json: bool, evidence: bool) -> None:
    """The scope for people or scripts, with what it rests on when asked."""
    from lineage.evidence import evidence_of

    events = evidence_of(store, scope) if evidence else None
    answer = answer_of(store, scope)
    if as_json:
        data = scope_json(scope, answer)
        if events is not None:
            data["evidence"] = [e.model_dump() for e in events]
        emit_json(data)
        return
    print_scope(scope, answer)
    if events is not None:
        table = Table(title=f"Evidence ({len(events)}), oldest first")
        for column in ("time", "id", "event", "relationships", "objects"):
            table.add_column(column)
        for e in events:
            what = [e.event_type, e.biz_step, e.action, "RETRACTED" if e.retracted else None]
            counts = (str(len(e.relationships)), str(len(e.objects)))
            table.add_row(e.time or "", e.id, " ".join(filter(None, what)), *counts)
        out.print(table)


def make_window(start: str | None, end: str | None) -> Any:
    from lineage.scope import window_between

    return window_between(start, end, prefix="--")


@trace_app.command("backward")
def trace_backward(
    label: Annotated[str, typer.Argument(help="Complaint, Sale, Shipment, Customer, Batch or MaterialLot.")],
    uid: str,
    as_json: JsonOpt = False,
    max_nodes: MaxNodesOpt = None,
    timeout: TimeoutOpt = None,
    evidence: EvidenceOpt = False,
) -> None:
    """Everything upstream: batches, lots, suppliers, machines, operators, inspections."""
    from lineage.scope import backward

    def go() -> None:
        source = node_ref(label, uid)
        with opened() as store:
            scope = backward(store, source, max_nodes=max_nodes, timeout_s=timeout)
            show_scope(store, scope, as_json, evidence)

    run_safely(go)


@app.command()
def why(
    source: Annotated[str, typer.Argument(help="Label:uid, e.g. MaterialLot:L-4471")],
    target: Annotated[str, typer.Argument(help="Label:uid, e.g. Customer:C-RET-N1")],
    start: Annotated[str | None, typer.Option("--from", help="Window start (ISO-8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (ISO-8601).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The shortest chain of records that puts TARGET in the scope of SOURCE."""
    from lineage.scope import why as explain

    def go() -> None:
        with opened() as store:
            path = explain(store, parse_ref(source), parse_ref(target), make_window(start, end))
        if as_json:
            emit_json(path.to_dict())
        else:
            out.print(path.describe(), highlight=False)

    run_safely(go)


@app.command()
def suspects(
    complaints: Annotated[list[str] | None, typer.Argument(help="Complaint uids.")] = None,
    received_from: Annotated[str | None, typer.Option("--from", help="Received from (ISO-8601).")] = None,
    received_to: Annotated[str | None, typer.Option("--to", help="... to (ISO-8601, exclusive).")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category (with --from/--to).")] = None,
    signal: Annotated[str | None, typer.Option(help="The complaints of this signal.")] = None,
    top: Annotated[int, typer.Option(help="Suspects shown.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """What complaints have in common upstream: suspects ranked by cause category.

    Each suspect's support among the complaints is set against its share of the period's production.
    """
    from lineage.scope import window_between
    from lineage.signals import get_signal
    from lineage.suspects import choose_complaints, common_cause

    def go() -> None:
        window = window_between(received_from, received_to, prefix="--")
        with opened() as store:
            named = (complaints or []) + (get_signal(store, signal).complaints if signal else [])
            result = common_cause(store, choose_complaints(store, named, window, category))
        if as_json:
            emit_json(result.model_dump())
            return
        out.print(
            f"{len(result.complaints)} complaint(s), {len(result.complaint_batches)} complaint batch(es), "
            f"against {result.period_batches} batches started {result.period['from']} .. "
            f"{result.period['to']} and {result.deliveries} deliveries of the complaint batches",
            highlight=False,
        )
        table = Table("rank", "suspect", "category", "hits", "support", "share", "lift", "score", "window")
        for rank, s in enumerate(result.suspects[:top], 1):
            table.add_row(
                f"{rank}{'*' if s.explains_first else ''}",
                f"{s.label} {s.uid}",
                s.category,
                f"{s.hits} {'batches' if s.basis == 'batches' else 'routes'}",
                f"{s.support:.0%}",
                f"{s.share:.0%}",
                f"{s.lift:.1f}",
                f"{s.score:.2f}",
                f"{s.window['from']} .. {s.window['to']}" if s.window else "",
            )
        out.print(table)
        out.print("* explains what the suspects above it leave unexplained, beyond chance", highlight=False)
        for r in result.regions[:3]:
            out.print(
                f"region {r.region}: {r.support:.0%} of complaints, {r.share:.0%} of deliveries",
                highlight=False,
            )
        for note in result.notes:
            out.print(f"note: {note}", highlight=False)
        for uid, why in result.untraced.items():
            out.print(f"not traced: {uid}: {why}", highlight=False)
        for uid, why in result.unplaced.items():
            out.print(f"not placed on a route: {uid}: {why}", highlight=False)

    run_safely(go)


@app.command()
def render(
    source: Annotated[str, typer.Argument(help="Label:uid, e.g. MaterialLot:L-4471")],
    out_path: Annotated[Path, typer.Option("--out", help="scope.svg or scope.png")],
    backward_trace: Annotated[
        bool,
        typer.Option(
            "--backward", metavar=FLAG, help="Trace upstream (always, for a source with no forward scope)."
        ),
    ] = False,
    start: Annotated[str | None, typer.Option("--from", help="Window start (ISO-8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (ISO-8601).")] = None,
    max_nodes: MaxNodesOpt = None,
) -> None:
    """Draw a forward scope or a backward trace as SVG or PNG for a report, as the view shows it."""
    from lineage.render import render as draw
    from lineage.scope import FORWARD_SOURCES, backward, forward

    def go() -> None:
        ref = parse_ref(source)
        if out_path.suffix.lower() not in (".svg", ".png"):
            raise InvalidRequest(f"--out {out_path}: write the picture as .svg or .png")
        with opened() as store:
            if backward_trace or ref.label not in FORWARD_SOURCES:
                scope = backward(store, ref, max_nodes=max_nodes)
            else:
                scope = forward(store, ref, make_window(start, end), max_nodes=max_nodes)
            scope.nodes  # noqa: B018 - the objects are drawn, made here while the store is open
        with err.status(f"drawing {len(scope.nodes) - 1:,} nodes into {out_path} ..."):
            written = draw(scope, out_path)
        out.print(f"wrote {written} ({len(scope.nodes) - 1} nodes)", highlight=False)

    run_safely(go)


@app.command()
def demo() -> None:
    """Start the embedded engine, load the demo dairy, and scope its contaminated lot L-4471."""
    from lineage.demo import DEMO_BAD_LOT, demo_dir
    from lineage.loading.load import load as do_load
    from lineage.scope import forward

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
        from lineage.engines.embedded_server import EmbeddedServer

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
        from lineage.engines.embedded_server import EmbeddedServer

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
    from lineage.status import collect

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


@signals_app.command("list")
def signals_list(
    status: Annotated[
        list[str] | None,
        typer.Option(help="open, acknowledged, closed (repeat); default open and acknowledged"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Signals with their level, group and complaints, the highest level first."""
    from lineage.signals import parse_statuses, signals_with

    def go() -> None:
        with opened() as store:
            found = signals_with(store, parse_statuses(status))
        if as_json:
            emit_json([s.model_dump() for s in found])
            return
        table = Table("signal", "level", "status", "rule", "group", "raised", "complaints")
        for s in found:
            table.add_row(
                s.uid, str(s.level), s.status, s.title, s.group, s.raised_at, ", ".join(s.complaints)
            )
        out.print(table)
        out.print(f"{len(found)} signal(s)", highlight=False)

    run_safely(go)


@signals_app.command("evaluate")
def signals_evaluate(as_json: JsonOpt = False) -> None:
    """Evaluate every rule over the whole complaint history (complaints loaded as plain records too)."""
    from lineage.signals import evaluate_history, load_rules

    def go() -> None:
        with opened() as store:
            evaluation = evaluate_history(store, load_rules(store.settings.signal_rules))
        if as_json:
            emit_json(evaluation.model_dump())
            return
        print_evaluation(evaluation)
        raised, grown = len(evaluation.raised), len(evaluation.grown)
        out.print(
            f"{evaluation.complaints} complaint(s) evaluated: {raised} raised, {grown} grown", highlight=False
        )

    run_safely(go)


SignalByOpt = Annotated[
    str, typer.Option("--by", help="Who acknowledges or closes it (recorded on the signal).")
]


@signals_app.command("ack")
def signals_ack(
    uid: Annotated[str, typer.Argument(help="The signal's uid.")],
    by: SignalByOpt,
    note: Annotated[str | None, typer.Option(help="What is being done.")] = None,
) -> None:
    """Acknowledge a signal: it stays live, gathering complaints, until it is closed."""
    from lineage.signals import acknowledge

    def go() -> None:
        with opened() as store:
            s = acknowledge(store, uid, by, note)
        out.print(f"{s.uid} acknowledged by {s.acknowledged_by} at {s.acknowledged_at}", highlight=False)

    run_safely(go)


@signals_app.command("close")
def signals_close(
    uid: Annotated[str, typer.Argument(help="The signal's uid.")],
    by: SignalByOpt,
    reason: Annotated[str, typer.Option(help="Why it is closed (required).")],
) -> None:
    """Close a signal with a reason: its complaints no longer count towards its rule."""
    from lineage.signals import close

    def go() -> None:
        with opened() as store:
            s = close(store, uid, by, reason)
        out.print(f"{s.uid} closed by {s.closed_by} at {s.closed_at}: {s.close_reason}", highlight=False)

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
    from lineage.generate import CAUSES, generate_diamond, generate_distribution, generate_plant

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


# The recall, drill, audit and export commands live in their own modules; importing them adds them
# to ``app``.
from lineage import cli_export, cli_recalls  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    # Run as ``python -m lineage.cli`` this file is ``__main__``, and the recall commands were added
    # to the ``app`` of the module ``lineage.cli``: run that one.
    from lineage.cli import app as registered

    registered()
