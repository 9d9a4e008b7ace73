"""``lineage trace forward|backward``, ``lineage why`` and ``lineage render``: scopes asked for on
the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lineage.cli.app import (
    FLAG,
    CommandGroup,
    EvidenceOpt,
    JsonOpt,
    MaxNodesOpt,
    TimeoutOpt,
    app,
    emit_json,
    err,
    make_window,
    opened,
    out,
    run_safely,
)
from lineage.cli.show import (
    show_scope,
)
from lineage.errors import InvalidRequest
from lineage.graph.model import node_ref, parse_ref

trace_app = CommandGroup(help="Forward scope and backward trace.")


app.add_typer(trace_app, name="trace")


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
    from lineage.graph.scope import forward

    def go() -> None:
        source = node_ref(label, uid)
        window = make_window(start, end)
        with opened() as store:
            scope = forward(store, source, window, max_nodes=max_nodes, timeout_s=timeout)
            show_scope(store, scope, as_json, evidence)

    run_safely(go)


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
    from lineage.graph.scope import backward

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
    from lineage.graph.scope import why as explain

    def go() -> None:
        with opened() as store:
            path = explain(store, parse_ref(source), parse_ref(target), make_window(start, end))
        if as_json:
            emit_json(path.to_dict())
        else:
            out.print(path.describe(), highlight=False)

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
    from lineage.graph.scope import FORWARD_SOURCES, backward, forward
    from lineage.interchange.render import render as draw

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
