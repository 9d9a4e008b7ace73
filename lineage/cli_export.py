"""``lineage export ...``: records in the forms others ask for them (the FSMA 204 spreadsheet)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, cast

import typer

from lineage.cli import ByOpt, acting, app, make_window, opened, out, run_safely
from lineage.model import parse_ref

export_app = typer.Typer(no_args_is_help=True, help="Exports for partners and regulators.")
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
    """The FDA Food Traceability Rule's sortable spreadsheet for the trace through SOURCE: one row per
    Critical Tracking Event and lot, with its Key Data Elements (docs/formats.md)."""
    from lineage import fsma
    from lineage.errors import InvalidRequest

    def go() -> None:
        if fmt not in fsma.MEDIA_TYPES:
            raise InvalidRequest(f"--format: {fmt!r} is not one of csv, xlsx")
        if direction not in ("both", "forward", "backward"):
            raise InvalidRequest(f"--direction: {direction!r} is not one of both, forward, backward")
        ref, window = parse_ref(source), make_window(start, end)
        with opened() as store:
            chosen = cast(fsma.Direction, direction), cast(fsma.Format, fmt)
            report, content, name = fsma.export(store, ref, window, *chosen, acting(by))
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
