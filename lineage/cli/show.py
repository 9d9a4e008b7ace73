"""Printing for people: a scope, its stock and suggested response, a signal evaluation; and the
scope as JSON for scripts."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from lineage.cli.app import (
    emit_json,
    out,
)
from lineage.graph.model import Label, iso, readable
from lineage.graph.store import Store


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
    from lineage.recall.affected import summarise

    if scope.direction != "forward":
        return None
    return summarise(scope, store.settings)


def print_scope(scope: Any, answer: dict[str, Any] | None = None) -> None:
    from lineage.graph.scope import Scope

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


def print_evaluation(evaluation: Any) -> None:
    for s in evaluation.raised:
        what = f"{s.uid} level {s.level} {s.title}: {s.group}, {len(s.complaints)} complaint(s)"
        out.print(f"signal raised: {what}", highlight=False)
    for s in evaluation.grown:
        what = f"{s.uid} {s.title}: {s.group}, now {len(s.complaints)} complaint(s)"
        out.print(f"signal grown: {what}", highlight=False)


def show_scope(store: Store, scope: Any, as_json: bool, evidence: bool) -> None:
    """The scope for people or scripts, with what it rests on when asked."""
    from lineage.graph.evidence import evidence_of

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
        for column in ("time", "id", "event", "relationships", "objects", "why"):
            table.add_column(column)
        for e in events:
            what = [e.event_type, e.biz_step, e.action, "RETRACTED" if e.retracted else None]
            counts = (str(len(e.relationships)), str(len(e.objects)))
            table.add_row(e.time or "", e.id, " ".join(filter(None, what)), *counts, e.why)
        out.print(table)
