"""Forward scope and backward trace walked in Cypher, where there is no topology index to walk.

Traversal is a frontier expansion: one query per level over the nodes first reached at the level
before, with the visited set kept here. Each node and edge is touched once, so the cost follows the
size of the scope. A variable-length pattern (``-[*]->``) would enumerate paths instead, and lineage
graphs, where every batch shares inputs with many others, have exponentially many of those.
"""

from __future__ import annotations

from collections.abc import Iterable

from lineage.graph.model import LABEL_BY_NAME, OPEN_END, OPEN_START, Label, NodeRef, RelType
from lineage.graph.scope_parts import (
    Budget,
    Window,
)
from lineage.graph.scope_result import Builder, Scope


def _consumers(scope: Builder, query: str, label: Label, uids: list[str], seen: set[str]) -> list[str]:
    """One level downstream: record each CONSUMED_BY edge, return the batches not seen before."""
    reached: list[str] = []
    for row in scope.budget.run_chunked(query, uids):
        scope.add(RelType.CONSUMED_BY, NodeRef(label, row["src"]), NodeRef(Label.BATCH, row["dst"]),
                  row["quantity"], row["unit"])  # fmt: skip
        if row["dst"] not in seen:
            seen.add(row["dst"])
            reached.append(row["dst"])
    return reached


def forward_in_cypher(
    budget: Budget, source: NodeRef, window: Window | None, properties: Iterable[Label]
) -> Scope:
    """The forward scope walked in the database, level by level: a row and a few NodeRefs per
    relationship, which is why the collector waits (an index walk makes next to no objects)."""
    scope = Builder(budget, source, properties)
    L = Label

    lots: list[str] = []
    batches: list[str] = []
    if source.label == L.SUPPLIER:
        for row in budget.run("scope_supplier_lots", uid=source.uid):
            scope.add(RelType.SUPPLIED, source, NodeRef(L.MATERIAL_LOT, row["uid"]))
            lots.append(row["uid"])
    elif source.label == L.MATERIAL_LOT:
        lots.append(source.uid)
    elif source.label == L.BATCH:
        batches.append(source.uid)
    else:
        query, rel = (
            ("scope_machine_batches", RelType.RAN_ON)
            if source.label == L.MACHINE
            else ("scope_operator_batches", RelType.HANDLED_BY)
        )
        span = window or Window(start=OPEN_START, end=OPEN_END)
        for row in budget.run(query, uid=source.uid, window_from=span.start, window_to=span.end):
            scope.add(rel, NodeRef(L.BATCH, row["uid"]), source, start=row["start"], end=row["end"])
            batches.append(row["uid"])
    scope.checkpoint()

    seen = set(batches)
    batches += _consumers(scope, "scope_lot_consumers", L.MATERIAL_LOT, lots, seen)
    frontier = list(batches)
    while frontier:
        scope.checkpoint()
        frontier = _consumers(scope, "scope_batch_consumers", L.BATCH, frontier, seen)
        batches.extend(frontier)
    scope.checkpoint()

    outflow = budget.run_chunked("scope_batch_outflow", batches)
    shipments = [row for row in outflow if row["kind"] == "shipment"]
    receivers = {row["customer"] for row in shipments if row["customer"] is not None}
    for row in shipments:
        shipment = NodeRef(L.SHIPMENT, row["uid"])
        scope.add(RelType.SHIPPED_IN, NodeRef(L.BATCH, row["batch"]), shipment, row["quantity"], row["unit"])
        if row["customer"] is not None:
            scope.add(RelType.DELIVERED_TO, shipment, NodeRef(L.CUSTOMER, row["customer"]))
        if row["origin"] is not None and row["origin"] in receivers:
            scope.add(RelType.DISPATCHED, NodeRef(L.CUSTOMER, row["origin"]), shipment)
    for row in outflow:
        if row["kind"] == "sale":
            sale = NodeRef(L.SALE, row["uid"])
            scope.add(RelType.SOLD_IN, NodeRef(L.BATCH, row["batch"]), sale, row["quantity"], row["unit"])
            if row["customer"] is not None:
                scope.add(RelType.SOLD, NodeRef(L.CUSTOMER, row["customer"]), sale)
    scope.checkpoint()
    return scope.finish("forward", window)


def backward_in_cypher(budget: Budget, source: NodeRef, properties: Iterable[Label]) -> Scope:
    """The backward trace walked in the database, as :func:`forward_in_cypher` walks a scope."""
    scope = Builder(budget, source, properties)
    L = Label

    sales: list[str] = []
    shipments: list[str] = []
    batches: list[str] = []
    lots: list[str] = []
    if source.label == L.COMPLAINT:
        for row in budget.run("trace_complaint_subjects", uid=source.uid):
            subject = NodeRef(LABEL_BY_NAME[row["label"]], row["uid"])
            scope.add(RelType.ABOUT, source, subject)
            (sales if subject.label == L.SALE else batches).append(subject.uid)
    elif source.label == L.SALE:
        sales.append(source.uid)
    elif source.label == L.SHIPMENT:
        shipments.append(source.uid)
    elif source.label == L.CUSTOMER:
        for row in budget.run("trace_customer_receipts", uid=source.uid):
            if row["shipment"] is not None:
                scope.add(RelType.DELIVERED_TO, NodeRef(L.SHIPMENT, row["shipment"]), source)
                shipments.append(row["shipment"])
            if row["sale"] is not None:
                scope.add(RelType.SOLD, source, NodeRef(L.SALE, row["sale"]))
                sales.append(row["sale"])
    elif source.label == L.BATCH:
        batches.append(source.uid)
    else:
        lots.append(source.uid)

    for row in budget.run_chunked("trace_sale_batches", sales):
        scope.add(
            RelType.SOLD_IN,
            NodeRef(L.BATCH, row["batch"]),
            NodeRef(L.SALE, row["sale"]),
            quantity=row["quantity"],
            unit=row["unit"],
        )
        batches.append(row["batch"])
    for row in budget.run_chunked("trace_shipment_batches", shipments):
        scope.add(
            RelType.SHIPPED_IN,
            NodeRef(L.BATCH, row["batch"]),
            NodeRef(L.SHIPMENT, row["shipment"]),
            quantity=row["quantity"],
            unit=row["unit"],
        )
        batches.append(row["batch"])
    scope.checkpoint()

    batches = list(dict.fromkeys(batches))
    seen = set(batches)
    seen_lots = set(lots)
    frontier = list(batches)
    while frontier:
        scope.checkpoint()
        next_frontier = []
        for row in budget.run_chunked("trace_batch_inputs", frontier):
            label = LABEL_BY_NAME[row["label"]]
            scope.add(
                RelType.CONSUMED_BY,
                NodeRef(label, row["src"]),
                NodeRef(L.BATCH, row["dst"]),
                quantity=row["quantity"],
                unit=row["unit"],
            )
            if label == L.BATCH and row["src"] not in seen:
                seen.add(row["src"])
                next_frontier.append(row["src"])
            elif label == L.MATERIAL_LOT and row["src"] not in seen_lots:
                seen_lots.add(row["src"])
                lots.append(row["src"])
        batches.extend(next_frontier)
        frontier = next_frontier
    scope.checkpoint()

    for query, rel, column in (
        ("trace_batch_machines", RelType.RAN_ON, "machine"),
        ("trace_batch_operators", RelType.HANDLED_BY, "operator"),
    ):
        target_label = L.MACHINE if column == "machine" else L.OPERATOR
        for row in budget.run_chunked(query, batches):
            scope.add(
                rel,
                NodeRef(L.BATCH, row["batch"]),
                NodeRef(target_label, row[column]),
                start=row["start"],
                end=row["end"],
            )
    for query, subject_label, subjects in (
        ("trace_batch_inspections", L.BATCH, batches),
        ("trace_lot_inspections", L.MATERIAL_LOT, lots),
    ):
        for row in budget.run_chunked(query, subjects):
            scope.add(
                RelType.INSPECTED,
                NodeRef(L.INSPECTION, row["inspection"]),
                NodeRef(subject_label, row["subject"]),
            )
    for row in budget.run_chunked("trace_lot_suppliers", lots):
        scope.add(RelType.SUPPLIED, NodeRef(L.SUPPLIER, row["supplier"]), NodeRef(L.MATERIAL_LOT, row["lot"]))
    scope.checkpoint()
    return scope.finish("backward", None)
