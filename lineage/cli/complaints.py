"""``lineage suspects`` and ``lineage signals ...``: what complaints have in common, and the signals
the rules raise."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lineage.cli.app import (
    CommandGroup,
    JsonOpt,
    app,
    emit_json,
    opened,
    out,
    run_safely,
)
from lineage.cli.show import (
    print_evaluation,
)

signals_app = CommandGroup(help="Signals: patterns in the complaints, raised by the rules in settings.")


app.add_typer(signals_app, name="signals")


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
    from lineage.complaints.signals import get_signal
    from lineage.complaints.suspects import choose_complaints, common_cause
    from lineage.graph.scope import window_between

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
        if any(s.explains_first for s in result.suspects[:top]):
            legend = "* explains what the suspects above it leave unexplained, beyond chance"
            out.print(legend, highlight=False)
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


@signals_app.command("list")
def signals_list(
    status: Annotated[
        list[str] | None,
        typer.Option(help="open, acknowledged, closed or all (repeat); default open and acknowledged"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Signals with their level, group and complaints, the highest level first."""
    from lineage.complaints.signals import parse_statuses, signals_with

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
    from lineage.complaints.signals import evaluate_history, load_rules

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
    from lineage.complaints.signals import acknowledge

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
    from lineage.complaints.signals import close

    def go() -> None:
        with opened() as store:
            s = close(store, uid, by, reason)
        out.print(f"{s.uid} closed by {s.closed_by} at {s.closed_at}: {s.close_reason}", highlight=False)

    run_safely(go)
