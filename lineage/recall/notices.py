"""Recall notices: what each affected customer is told, and the list of whom to tell how.

A notice answers four questions in this order: **what** (the product, its model or SKU, the batch
codes, when they were made and when they reached this customer, how much), **why** (the risk in
the recall's own plain words), **how** (what to do, from the remedy; a distributor is also asked to
pass the notice on) and **when** (the deadline). It is written once as sections and rendered to
Markdown and to HTML from them, so the two never say different things. The notification list (CSV)
has one row per customer with its contact fields and the channel to use: email where there is an
address, else phone, else post; "none" flags a customer nobody can reach yet.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable

from pydantic import BaseModel

from lineage.recall.affected import AffectedBatch, AffectedCustomer, AffectedShipment
from lineage.recall.cases import Recall, RecallScope

CSV_COLUMNS = (
    *("customer", "name", "customer_type", "region", "channel"),
    *("contact_name", "contact_email", "contact_phone", "address"),
    *("batches", "quantity", "unit", "recall", "deadline"),
)
#: A cell starting with one of these is a formula to a spreadsheet: a customer's name from the data
#: must never run as one where the coordinator opens the list.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class Notice(BaseModel):
    recall: str
    customer: str
    channel: str
    subject: str
    markdown: str
    html: str


PASS_ON = (
    "You passed some of this product on: tell your customers who received these batches, and tell us "
    "who they are if our records may not know them."
)


def channel(customer: AffectedCustomer) -> str:
    if customer.contact_email:
        return "email"
    if customer.contact_phone:
        return "phone"
    if customer.address:
        return "post"
    return "none"


def _day(text: str | None) -> str:
    return text[:10] if text else "unknown"


def _sections(recall: Recall, scope: RecallScope, customer: AffectedCustomer) -> list[tuple[str, list[str]]]:
    batches = {b.uid: b for b in scope.batches}
    received: dict[str, list[str]] = {}
    for line in customer.received:
        received.setdefault(line.batch, []).append(f"{line.quantity:g} {line.unit}".strip())
    deliveries = _deliveries(scope.shipments, customer.uid)
    what = []
    for uid in sorted(received) or sorted(b.uid for b in scope.batches if b.batch_type != "intermediate"):
        b: AffectedBatch | None = batches.get(uid)
        product = (b.product if b else None) or "product"
        model = f", model {b.sku}" if b and b.sku else ""
        made = f"made {_day(b.started_at)}" if b else ""
        got = f"; you received {', '.join(received[uid])}" if uid in received else ""
        when = f" on {', '.join(deliveries[uid])}" if deliveries.get(uid) else ""
        what.append(f"{product}{model}, batch code {uid} ({made}){got}{when}")
    how = [recall.instructions]
    if customer.customer_type == "distributor":
        how.append(PASS_ON)
    when = [f"Please act by {_day(recall.deadline)} and confirm to {recall.owner}, quoting {recall.uid}."]
    return [
        ("What is recalled", what),
        ("Why", [recall.risk]),
        ("What to do", how),
        ("By when", when),
    ]


def _deliveries(shipments: Iterable[AffectedShipment], customer: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for s in shipments:
        if s.customer == customer:
            for line in s.lines:
                found.setdefault(line.batch, []).append(_day(s.delivered_at or s.shipped_at))
    return {batch: sorted(set(days)) for batch, days in found.items()}


def _subject(recall: Recall) -> str:
    kind = "Safety recall" if recall.safety else "Product recall"
    if recall.strategy == "selective_replacement":
        kind = "Replacement notice"
    return f"{kind} {recall.uid}: {recall.product}"


def notice(recall: Recall, scope: RecallScope, customer: AffectedCustomer) -> Notice:
    sections = _sections(recall, scope, customer)
    subject = _subject(recall)
    greeting = f"To {customer.contact_name or customer.name or customer.uid}"
    md = [f"# {subject}", "", greeting, ""]
    page = [f"<h1>{html.escape(subject)}</h1>", f"<p>{html.escape(greeting)}</p>"]
    for title, lines in sections:
        md += [f"## {title}", ""]
        md += [f"- {line}" for line in lines] if len(lines) > 1 or title == "What is recalled" else lines
        md.append("")
        page.append(f"<h2>{html.escape(title)}</h2>")
        if len(lines) > 1 or title == "What is recalled":
            page.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
        else:
            page += [f"<p>{html.escape(line)}</p>" for line in lines]
    head = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(subject)}</title>'
    )
    document = head + "</head>\n<body>\n" + "\n".join(page) + "\n</body></html>\n"
    return Notice(
        recall=recall.uid,
        customer=customer.uid,
        channel=channel(customer),
        subject=subject,
        markdown="\n".join(md),
        html=document,
    )


def notices(recall: Recall, scope: RecallScope) -> list[Notice]:
    """One notice for every customer of the recall, in customer order."""
    return [notice(recall, scope, c) for c in sorted(scope.customers, key=lambda c: c.uid)]


def notification_rows(
    customers: Iterable[AffectedCustomer], recall: str = "", deadline: str = ""
) -> list[dict[str, str]]:
    rows = []
    for c in sorted(customers, key=lambda c: c.uid):
        totals: dict[str, float] = {}
        for line in c.received:
            totals[line.unit] = totals.get(line.unit, 0.0) + line.quantity
        rows.append(
            {
                "customer": c.uid,
                "name": c.name or "",
                "customer_type": c.customer_type or "",
                "region": c.region,
                "channel": channel(c),
                "contact_name": c.contact_name or "",
                "contact_email": c.contact_email or "",
                "contact_phone": c.contact_phone or "",
                "address": c.address or "",
                "batches": " ".join(sorted({line.batch for line in c.received})),
                "quantity": " + ".join(f"{q:g}" for _, q in sorted(totals.items())),
                "unit": " + ".join(u for u, _ in sorted(totals.items())),
                "recall": recall,
                "deadline": deadline,
            }
        )
    return rows


_PHONE = re.compile(r"^\+[0-9 ()-]+$")


def file_stem(uid: str) -> str:
    """A uid as part of a file name: nothing that could leave the folder or trouble a shell."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", uid).strip("._") or "unnamed"


def inert_cell(value: str) -> str:
    """The value, made inert if a spreadsheet would run it (a phone number's + is left alone)."""
    return "'" + value if value.startswith(_FORMULA) and not _PHONE.match(value) else value


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: inert_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def notification_csv(recall: Recall, scope: RecallScope) -> str:
    return to_csv(notification_rows(scope.customers, recall.uid, _day(recall.deadline)))
