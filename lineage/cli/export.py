"""``lineage export ...``: records in the forms others ask for them (the FSMA 204 spreadsheet, the
EPCIS events a trace rests on, a whole scope as a workbook or rows)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from lineage.cli.app import ByOpt, CommandGroup, acting, app, make_window, opened, out, run_safely
from lineage.graph.model import parse_ref

export_app = CommandGroup(help="Exports for partners and regulators.")
app.add_typer(export_app, name="export")


@export_app.command("fsma204")
def fsma204(
    source: Annotated[
        str, typer.Argument(help="Label:uid (MaterialLot:L-4471), or a GS1 key (EPC URN or Digital Link).")
    ],
    start: Annotated[str | None, typer.Option("--from", help="Events from (ISO-8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Events to (ISO-8601, exclusive).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    output: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: CSV to stdout, XLSX to ./fsma204-<uid>.xlsx)."),
    ] = None,
    direction: Annotated[str, typer.Option(help="both (default), forward or backward.")] = "both",
    by: ByOpt = None,
) -> None:
    """The FDA Food Traceability Rule's sortable spreadsheet for the trace through SOURCE.

    One row per Critical Tracking Event and lot, with its Key Data Elements (docs/formats.md).
    """
    from lineage.errors import InvalidRequest
    from lineage.interchange import fsma, fsma_sheet

    def go() -> None:
        if fmt not in fsma_sheet.MEDIA_TYPES:
            raise InvalidRequest(f"--format: {fmt!r} is not one of csv, xlsx")
        if direction not in ("both", "forward", "backward"):
            raise InvalidRequest(f"--direction: {direction!r} is not one of both, forward, backward")
        ref, window = parse_ref(source), make_window(start, end)
        with opened() as store:
            chosen = cast(fsma.Direction, direction), cast(fsma_sheet.Format, fmt)
            report, content, name = fsma_sheet.export(store, ref, window, *chosen, acting(by))
        if output is None and fmt == "csv":
            sys.stdout.write(content.decode())
            return
        path = output or Path(name)
        path.write_bytes(content)
        missing = sum(1 for r in report.rows if r.missing)
        out.print(
            f"{len(report.rows)} rows ({missing} missing key data elements) written to {path}",
            highlight=False,
        )

    run_safely(go)


@export_app.command("epcis")
def epcis_export(
    source: Annotated[
        str | None,
        typer.Argument(help="Label:uid or a GS1 key; leave out to export every event of --from .. --to."),
    ] = None,
    direction: Annotated[str, typer.Option(help="both (default), forward or backward.")] = "both",
    start: Annotated[str | None, typer.Option("--from", help="Events from (ISO-8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Events to (ISO-8601, exclusive).")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="jsonld (EPCIS 2.0 JSON-LD) or xml (EPCIS 2.0 XML).")
    ] = "jsonld",
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="File to write (default: ./epcis-<direction>-<uid>.<format>, or ./epcis-<from>.<format>).",
        ),
    ] = None,
    by: ByOpt = None,
) -> None:
    """The EPCIS events a trace (or a period) rests on, as an EPCIS 2.0 document.

    The events the trace through SOURCE rests on; with no SOURCE, every event of --from .. --to.
    A partner's EPCIS system, or lineage, reads it back into the same graph."""
    from lineage.errors import InvalidRequest
    from lineage.interchange.epcis import export

    def go() -> None:
        if fmt not in export.MEDIA_TYPES:
            raise InvalidRequest(f"--format: {fmt!r} is not one of jsonld, xml")
        if direction not in ("both", "forward", "backward"):
            raise InvalidRequest(f"--direction: {direction!r} is not one of both, forward, backward")
        ref, window = (parse_ref(source) if source else None), make_window(start, end)
        with opened() as store:
            chosen = cast(export.Direction, direction), cast(export.Format, fmt)
            count, content, name = export.export(store, ref, chosen[0], window, chosen[1], acting(by))
        path = output or Path(name)
        path.write_bytes(content)
        out.print(f"{count} event(s) written to {path}", highlight=False)

    run_safely(go)


@export_app.command("scope")
def scope_export(
    direction: Annotated[str, typer.Argument(help="forward or backward.")],
    source: Annotated[str, typer.Argument(help="Label:uid, e.g. MaterialLot:L-4471.")],
    start: Annotated[str | None, typer.Option("--from", help="Machine or Operator: window start.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (exclusive).")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="xlsx (a sheet per kind), csv or jsonl (one row per node).")
    ] = "xlsx",
    what: Annotated[str, typer.Option(help="csv, jsonl: nodes or edges.")] = "nodes",
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", help="File to write (default: CSV and JSON Lines to stdout, XLSX to ./<scope>.xlsx)."
        ),
    ] = None,
) -> None:
    """A whole forward scope or backward trace, past what a page or the terminal shows.

    Up to LINEAGE_SCOPE_STREAM_MAX_NODES nodes.
    """
    from lineage.errors import InvalidRequest
    from lineage.interchange.paging import ScopeRequest, export, workbook

    def go() -> None:
        if direction not in ("forward", "backward"):
            raise InvalidRequest(f"{direction!r} is not forward or backward")
        if fmt not in ("xlsx", "csv", "jsonl"):
            raise InvalidRequest(f"--format: {fmt!r} is not one of xlsx, csv, jsonl")
        if what not in ("nodes", "edges"):
            raise InvalidRequest(f"--what: {what!r} is not nodes or edges")
        ref, window = parse_ref(source), make_window(start, end)
        request = ScopeRequest(direction=direction, source=ref, window=window)
        with opened() as store:
            found = request.walk(store, store.settings.scope_stream_max_nodes)
            if fmt == "xlsx":
                path = output or Path(f"{direction}-{ref.label.value}-{ref.uid}.xlsx".replace("/", "_"))
                path.write_bytes(workbook(store, found, request))
                out.print(f"{sum(found.counts().values()):,} nodes written to {path}", highlight=False)
                return
            chunks = export(store, found, request, cast(Any, fmt), cast(Any, what))
            if output is None:
                for chunk in chunks:
                    sys.stdout.buffer.write(chunk)
                return
            with output.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            out.print(f"written to {output}", highlight=False)

    run_safely(go)
