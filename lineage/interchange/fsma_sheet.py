"""The FSMA 204 spreadsheet as a file: CSV, or an Excel workbook with a filter on every column (the
rule asks for a sortable spreadsheet), and the export that writes one and says so in the audit log.
The rows come from :mod:`lineage.interchange.fsma`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any, Literal

from lineage.graph.model import NodeRef
from lineage.graph.scope import Window
from lineage.graph.store import Store
from lineage.interchange.fsma import COLUMNS, CteRow, Direction, Fsma204, fsma204, number
from lineage.recall.notices import inert_cell


def _cells(row: CteRow) -> list[Any]:
    values = row.model_dump()
    values["missing"] = "; ".join(row.missing)
    values["quantity"] = number(row.quantity)
    return [values[name] for name, _ in COLUMNS]


def to_csv(report: Fsma204) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([heading for _, heading in COLUMNS])
    for row in report.rows:
        writer.writerow(["" if v is None else inert_cell(str(v)) for v in _cells(row)])
    return out.getvalue()


def to_xlsx(report: Fsma204) -> bytes:
    """One sheet of rows with a filter on every column (sortable as the rule asks), and a second
    sheet saying what was asked, when, and what each column holds."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "FSMA 204"
    sheet.append([heading for _, heading in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append([inert_cell(v) if isinstance(v, str) else v for v in _cells(row)])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, (name, heading) in enumerate(COLUMNS, start=1):
        widest = max([len(heading), *(len(str(getattr(r, name) or "")) for r in report.rows[:500])])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, widest + 2)
    about = book.create_sheet("About")
    made = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for pair in (
        ("Traceability records for", report.source),
        ("Trace", report.direction),
        ("Events from", report.start or "(any time)"),
        ("Events to (exclusive)", report.end or "(any time)"),
        ("Firm location", report.firm_location or "(not configured: LINEAGE_FIRM_LOCATION)"),
        ("Rows", len(report.rows)),
        ("Made", made),
    ):
        about.append([pair[0], inert_cell(pair[1]) if isinstance(pair[1], str) else pair[1]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


Format = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(
    store: Store,
    source: NodeRef,
    window: Window | None,
    direction: Direction,
    fmt: Format,
    who: str,
    max_nodes: int | None = None,
) -> tuple[Fsma204, bytes, str]:
    """The spreadsheet as a file (report, content, file name), and an audit entry saying who
    exported the records of what: they leave the firm, to a regulator."""
    from lineage.graph.audit import record
    from lineage.recall.notices import file_stem

    report = fsma204(store, source, window, direction, max_nodes)
    content = to_csv(report).encode() if fmt == "csv" else to_xlsx(report)
    name = f"fsma204-{file_stem(source.uid)}.{fmt}"
    span = f"{report.start or '...'} to {report.end or '...'}"
    record(
        store,
        who,
        "export.fsma204",
        report.source[:1000],
        {"rows": len(report.rows)},
        f"{direction}; {span}; {fmt}",
    )
    return report, content, name
