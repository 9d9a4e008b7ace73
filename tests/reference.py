"""An independent reference for scopes, computed with networkx straight from the input records.

It shares nothing with lineage.graph.scope but the meaning of the model: material flows along
CONSUMED_BY; a shipment is affected if it carries an affected batch (batch-aware distribution); its
destination is affected, and so is any customer that sold units of an affected batch.
"""

from __future__ import annotations

from typing import Any

import networkx as nx


class Reference:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.flow = nx.DiGraph()
        self.rels: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        self.labels: dict[str, str] = {}
        for r in records:
            if "uid" in r:
                self.labels[r["uid"]] = r["kind"]
                if r["kind"] in ("MaterialLot", "Batch"):
                    self.flow.add_node(r["uid"])
            else:
                self.rels.setdefault(r["kind"], []).append((r["from"], r["to"], r))
                if r["kind"] == "CONSUMED_BY":
                    self.flow.add_edge(r["from"], r["to"])

    def _pairs(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        return self.rels.get(kind, [])

    def _downstream(self, seeds: set[str]) -> set[str]:
        found = set(seeds)
        for s in seeds:
            found |= nx.descendants(self.flow, s)
        return {n for n in found if self.labels[n] == "Batch"}

    def forward(self, label: str, uid: str, window: tuple[int, int] | None = None) -> dict[str, set[str]]:
        if label == "Supplier":
            lots = {b for a, b, _ in self._pairs("SUPPLIED") if a == uid}
            batches = self._downstream(lots)
        elif label in ("MaterialLot", "Batch"):
            lots, batches = set(), self._downstream({uid})
        else:
            kind = "RAN_ON" if label == "Machine" else "HANDLED_BY"
            lo, hi = window or (-(2**62), 2**62)
            seeds = {a for a, b, r in self._pairs(kind) if b == uid and r["start"] < hi and r["end"] > lo}
            lots, batches = set(), self._downstream(seeds)
        shipments = {s for b, s, _ in self._pairs("SHIPPED_IN") if b in batches}
        customers = {c for s, c, _ in self._pairs("DELIVERED_TO") if s in shipments}
        sales = {s for b, s, _ in self._pairs("SOLD_IN") if b in batches}
        customers |= {c for c, s, _ in self._pairs("SOLD") if s in sales}
        result = {"MaterialLot": lots, "Batch": batches - {uid}, "Shipment": shipments,
                  "Customer": customers, "Sale": sales}  # fmt: skip
        return {k: v for k, v in result.items() if v}

    def backward(self, label: str, uid: str) -> dict[str, set[str]]:
        sales: set[str] = set()
        if label == "Complaint":
            sales = {b for a, b, _ in self._pairs("ABOUT") if a == uid}
            seeds = {b for b, s, _ in self._pairs("SOLD_IN") if s in sales}
        elif label == "Sale":
            seeds = {b for b, s, _ in self._pairs("SOLD_IN") if s == uid}
        elif label == "Customer":
            shipments = {s for s, c, _ in self._pairs("DELIVERED_TO") if c == uid}
            sales = {s for c, s, _ in self._pairs("SOLD") if c == uid}
            seeds = {b for b, s, _ in self._pairs("SHIPPED_IN") if s in shipments}
            seeds |= {b for b, s, _ in self._pairs("SOLD_IN") if s in sales}
        else:  # Batch
            seeds = {uid}
        upstream = set(seeds)
        for s in seeds:
            upstream |= nx.ancestors(self.flow, s)
        batches = {n for n in upstream if self.labels[n] == "Batch"}
        lots = upstream - batches
        result = {
            "Batch": batches - {uid},
            "MaterialLot": lots,
            "Supplier": {a for a, b, _ in self._pairs("SUPPLIED") if b in lots},
            "Machine": {b for a, b, _ in self._pairs("RAN_ON") if a in batches},
            "Operator": {b for a, b, _ in self._pairs("HANDLED_BY") if a in batches},
            "Inspection": {a for a, b, _ in self._pairs("INSPECTED") if b in batches | lots},
            "Sale": sales if label != "Sale" else set(),
        }
        if label == "Customer":
            result["Shipment"] = {s for s, c, _ in self._pairs("DELIVERED_TO") if c == uid}
        return {k: v for k, v in result.items() if v}
