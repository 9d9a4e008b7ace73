"""Hypothesis strategies for lineage graphs: shared inputs (diamonds), rework, partial shipments,
distributors that re-ship some of what they received, sales, complaints, machine windows."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

HOUR = 3_600_000


@st.composite
def lineage_graphs(draw: st.DrawFn) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    n_suppliers = draw(st.integers(1, 3))
    n_lots = draw(st.integers(1, 6))
    n_batches = draw(st.integers(1, 12))
    n_customers = draw(st.integers(1, 6))
    suppliers = [f"S{i}" for i in range(n_suppliers)]
    lots = [f"L{i}" for i in range(n_lots)]
    batches = [f"B{i}" for i in range(n_batches)]
    customers = [f"C{i}" for i in range(n_customers)]
    distributors = set(draw(st.lists(st.sampled_from(customers), max_size=3, unique=True)))
    for s in suppliers:
        records.append({"kind": "Supplier", "uid": s})
    for lot in lots:
        records.append({"kind": "MaterialLot", "uid": lot, "material": "m"})
        records.append({"kind": "SUPPLIED", "from": draw(st.sampled_from(suppliers)), "to": lot})
    records += [{"kind": "Machine", "uid": m} for m in ("M0", "M1")]
    records += [{"kind": "Operator", "uid": o} for o in ("O0", "O1")]
    for i, b in enumerate(batches):
        records.append({"kind": "Batch", "uid": b, "product": "p"})
        # Inputs come from lots and earlier batches only: acyclic by construction, with diamonds
        # wherever two batches share an input, and rework where a batch consumes a finished one.
        inputs = [("MaterialLot", lot) for lot in lots] + [("Batch", x) for x in batches[:i]]
        chosen = draw(st.lists(st.sampled_from(inputs), min_size=1, max_size=3, unique=True))
        for label, src in chosen:
            records.append({"kind": "CONSUMED_BY", "from": src, "from_label": label, "to": b,
                            "quantity": draw(st.integers(1, 50)), "unit": "kg"})  # fmt: skip
        start = i * HOUR
        if draw(st.booleans()):
            records.append({"kind": "RAN_ON", "from": b, "to": draw(st.sampled_from(["M0", "M1"])),
                            "start": start, "end": start + 2 * HOUR})  # fmt: skip
        if draw(st.booleans()):
            records.append({"kind": "HANDLED_BY", "from": b, "to": draw(st.sampled_from(["O0", "O1"])),
                            "start": start, "end": start + HOUR})  # fmt: skip
        if draw(st.booleans()):
            records.append({"kind": "Inspection", "uid": f"I{b}", "result": "pass"})
            records.append({"kind": "INSPECTED", "from": f"I{b}", "to": b, "to_label": "Batch"})
    for c in customers:
        records.append({"kind": "Customer", "uid": c, "region": draw(st.sampled_from(["N", "S", "E"])),
                        "customer_type": "distributor" if c in distributors else "retailer"})  # fmt: skip
    received: dict[str, list[str]] = {d: [] for d in distributors}
    for j in range(draw(st.integers(0, 10))):
        uid = f"SH{j}"
        origin = None
        pool = batches
        if received and draw(st.booleans()):
            origin = draw(st.sampled_from(sorted(received)))
            pool = received[origin] or batches
        carried = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        destination = draw(st.sampled_from(customers))
        records.append({"kind": "Shipment", "uid": uid})
        if origin is not None:
            records.append({"kind": "DISPATCHED", "from": origin, "to": uid})
        if draw(st.integers(0, 9)) > 0:  # now and then a shipment with no recorded destination
            records.append({"kind": "DELIVERED_TO", "from": uid, "to": destination})
            if destination in received:
                received[destination].extend(carried)
        for b in carried:
            records.append({"kind": "SHIPPED_IN", "from": b, "to": uid, "quantity": draw(st.integers(1, 9))})
    for k in range(draw(st.integers(0, 6))):
        uid = f"SA{k}"
        records.append({"kind": "Sale", "uid": uid, "serial": f"SN-{k}"})
        records.append({"kind": "SOLD_IN", "from": draw(st.sampled_from(batches)), "to": uid, "quantity": 1})
        records.append({"kind": "SOLD", "from": draw(st.sampled_from(customers)), "to": uid})
        if draw(st.booleans()):
            records.append({"kind": "Complaint", "uid": f"CP{k}"})
            records.append({"kind": "ABOUT", "from": f"CP{k}", "to": uid, "to_label": "Sale"})
    return records
