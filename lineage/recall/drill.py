"""A mock recall drill: what a real recall of one lot would need, produced at once and timed.

The drill runs the forward scope of the lot, its mass balance and that of every affected batch, and
the notification list, and reports them together with how long it took in seconds: the figure an
auditor asks for ("could you trace and account for lot X within N hours?"). Nothing is written but
the audit log's note that a drill ran.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from lineage.graph import audit
from lineage.graph.model import Label, NodeRef
from lineage.graph.store import Store
from lineage.recall.affected import Affected, affected
from lineage.recall.balance import Balance, MassBalance, mass_balance
from lineage.recall.notices import notification_rows


class DrillReport(BaseModel):
    lot: str
    run_at: str
    seconds: float = Field(description="from the request to the full report, wall clock")
    scope: Affected
    mass_balance: MassBalance
    notification_list: list[dict[str, str]]


def drill(store: Store, lot: str, who: str) -> DrillReport:
    started = time.perf_counter()
    found = affected(store, NodeRef(Label.MATERIAL_LOT, lot))
    balance = mass_balance(store, lot, [b.uid for b in found.batches])
    customers = [c for region in found.regions for c in region.customers]
    rows = notification_rows(customers)
    seconds = time.perf_counter() - started
    counts = {
        "batches": len(found.batches),
        "customers": len(customers),
        "unbalanced": len(balance.unbalanced),
    }
    audit.record(store, who, "drill", f"MaterialLot:{lot}", counts, f"mock recall drill in {seconds:.3f} s")
    return DrillReport(
        lot=lot,
        run_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        seconds=round(seconds, 3),
        scope=found,
        mass_balance=balance,
        notification_list=rows,
    )


def _balance_md(b: Balance) -> list[str]:
    unit = b.unit or ""
    lines = [f"### {b.label} {b.uid}" + (f" ({b.description})" if b.description else ""), ""]
    lines += ["| term | quantity | records |", "|---|---:|---|"]
    start = "unknown" if b.start is None else f"{b.start:g} {unit}"
    lines.append(f"| {b.start_name} | {start} | the {b.label} record |")
    for t in b.terms:
        refs = ", ".join(f"{e.ref} ({e.quantity:g})" if e.quantity is not None else e.ref for e in t.entries)
        lines.append(f"| {t.name} | {t.quantity:g} {unit} | {refs or 'none'} |")
    left = "unknown" if b.unaccounted is None else f"{b.unaccounted:g} {unit}"
    lines.append(f"| **unaccounted** | **{left}** | |")
    lines += ["", *[f"- {note}" for note in b.notes], ""]
    return lines


def to_markdown(report: DrillReport) -> str:
    s = report.scope
    customers = [c for region in s.regions for c in region.customers]
    out = [
        f"# Mock recall drill: lot {report.lot}",
        "",
        f"Run {report.run_at}; the full scope, mass balance and notification list took "
        f"**{report.seconds:.3f} s**.",
        "",
        "## Scope",
        "",
        f"{len(s.batches)} batches, {len(s.shipments)} shipments, {len(customers)} customers in "
        f"{len(s.regions)} regions; suggested response level **{s.response.level}** ({s.response.rule}).",
        "",
        "| batch | product | type | made | quantity |",
        "|---|---|---|---|---:|",
    ]
    for b in s.batches:
        made, amount = (b.started_at or "")[:10], f"{b.quantity or ''} {b.unit or ''}"
        out.append(f"| {b.uid} | {b.product or ''} | {b.batch_type or ''} | {made} | {amount} |")
    out += ["", "## Mass balance", ""]
    unbalanced = report.mass_balance.unbalanced
    out.append(f"Not balanced: {', '.join(unbalanced)}." if unbalanced else "Everything balances.")
    out.append("")
    for b in [report.mass_balance.lot, *report.mass_balance.batches]:
        out += _balance_md(b)
    out += ["## Notification list", "", "| customer | name | type | region | channel | batches | quantity |"]
    out.append("|---|---|---|---|---|---|---|")
    shown = ("customer", "name", "customer_type", "region", "channel", "batches")
    for r in report.notification_list:
        out.append("| " + " | ".join(r[k] for k in shown) + f" | {r['quantity']} {r['unit']} |")
    return "\n".join(out) + "\n"


def to_json(report: DrillReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"
