"""Seeded generators of lineage graphs, written in the input format ``lineage load`` reads.

``plant``: a year of production at one plant, shaped like real lineage: lots of each material are
used over a few days, intermediates feed several finished batches, some batches are reworked,
finished goods go to retailers directly or through distributors that re-ship only some of what they
received, and retailers sell units. The benchmark shapes (a diamond, a national distribution) are
in :mod:`.shapes`.

The same seed gives byte-identical files. ``samples.json`` beside the data names typical sources
for benchmarks (lots, suppliers, machine shifts, customers, complaints).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO, get_args

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
REGIONS = ("North", "South", "East", "West", "Central", "Coast", "Highlands", "Islands",
           "Lakes", "Valley", "Metro", "Border")  # fmt: skip
MATERIALS = ("milk powder", "sugar", "culture", "cocoa", "strawberry puree", "stabiliser",
             "cream", "vanilla", "lid film", "cups", "cartons", "salt")  # fmt: skip


Cause = Literal["lot", "machine", "warehouse"]
CAUSES: tuple[Cause, ...] = get_args(Cause)
#: Each planted cause's complaints are of one category, as real clusters are.
CAUSE_CATEGORY: dict[Cause, str] = {"lot": "illness", "machine": "foreign body", "warehouse": "spoilage"}
NOISE_CATEGORIES = ("taste", "packaging", "quality", "spoilage")


@dataclass
class Stats:
    nodes: int = 0
    relationships: int = 0
    samples: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Sold:
    uid: str
    retailer: str
    batch: str
    via: str | None  # the distributor that shipped it to the retailer, None from the plant
    shipped_at: int


@dataclass
class _Made:
    """What planting a cause needs to know of the plant it generated."""

    inputs: dict[str, set[str]] = field(default_factory=dict)  # batch -> lots and batches it consumed
    runs: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # batch -> machine, start, end
    deliveries: list[tuple[str | None, int]] = field(default_factory=list)  # per retail delivery: via, when
    sales: list[_Sold] = field(default_factory=list)


class Writer:
    """One JSON Lines file per kind; counts what it writes."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.files: dict[str, TextIO] = {}
        self.stats = Stats()

    def _file(self, kind: str) -> TextIO:
        if kind not in self.files:
            prefix = "1-nodes" if kind[0].isupper() and not kind.isupper() else "2-rels"
            self.files[kind] = (self.out / f"{prefix}-{kind}.jsonl").open("w", encoding="utf-8")
        return self.files[kind]

    def node(self, kind: str, uid: str, **props: Any) -> None:
        self._file(kind).write(json.dumps({"kind": kind, "uid": uid, **props}) + "\n")
        self.stats.nodes += 1

    def rel(self, kind: str, src: str, dst: str, **props: Any) -> None:
        self._file(kind).write(json.dumps({"kind": kind, "from": src, "to": dst, **props}) + "\n")
        self.stats.relationships += 1

    def close(self, samples: dict[str, Any]) -> Stats:
        for handle in self.files.values():
            handle.close()
        self.stats.samples = samples
        (self.out / "samples.json").write_text(json.dumps(samples, indent=1))
        return self.stats


def generate_plant(
    out: Path,
    nodes: int = 100_000,
    seed: int = 7,
    plant: Sequence[Cause] = (),
    complaints_file: Path | None = None,
) -> Stats:
    """About ``nodes`` nodes (and 2.5 to 3 relationships per node) of one plant's year.

    ``plant`` names causes to plant (see :func:`plant_complaints`): complaint forms derived from the
    units they affected are written to ``complaints_file`` (outside ``out``: they go in through
    intake, ``lineage load --complaints``), and what was planted to ``samples.json``. Planting draws
    on a random stream of its own, so the lineage is the same with or without it."""
    rng = random.Random(seed)
    made = _Made()
    w = Writer(out)
    scale = nodes / 0.785  # the shares below sum to about 0.785 of the scale: at least `nodes` nodes
    n_suppliers = max(4, int(scale * 0.0004))
    n_lots = max(20, int(scale * 0.05))
    n_machines = max(4, int(scale * 0.00005))
    n_operators = max(6, int(scale * 0.0005))
    n_batches = max(30, int(scale * 0.12))
    n_customers = max(10, int(scale * 0.03))
    n_shipments = max(20, int(scale * 0.2))
    n_sales = max(20, int(scale * 0.34))
    n_complaints = max(2, int(scale * 0.005))
    n_inspections = max(4, int(scale * 0.04))
    span = 365 * DAY

    # Suppliers deliver one material each; a material has a few suppliers.
    suppliers = [f"S{i:05d}" for i in range(n_suppliers)]
    for i, s in enumerate(suppliers):
        w.node("Supplier", s, name=f"Supplier {i}", country=rng.choice(("NO", "SE", "DK", "DE", "PL")))
    material_of = {s: MATERIALS[i % len(MATERIALS)] for i, s in enumerate(suppliers)}
    # Lots arrive through the year in time order; a batch draws on lots received shortly before it.
    lots: list[str] = []
    for i in range(n_lots):
        uid = f"L{i:07d}"
        supplier = rng.choice(suppliers)
        received = T0 + int(span * i / n_lots)
        w.node("MaterialLot", uid, material=material_of[supplier], quantity=1000, unit="kg",
               received_at=received)  # fmt: skip
        w.rel("SUPPLIED", supplier, uid)
        lots.append(uid)
    machines = [f"M{i:03d}" for i in range(n_machines)]
    for i, m in enumerate(machines):
        w.node("Machine", m, name=f"Machine {i}", line=f"line {i // 2 + 1}")
    operators = [f"OP{i:04d}" for i in range(n_operators)]
    for i, o in enumerate(operators):
        w.node("Operator", o, name=f"Operator {i}", shift=("early", "late", "night")[i % 3])

    # Batches in time order: 25% intermediate, 70% production, 5% rework.
    intermediates: list[str] = []
    finished: list[tuple[str, int]] = []  # (uid, end time) of production and rework batches
    shift_samples: list[dict[str, Any]] = []
    for i in range(n_batches):
        uid = f"B{i:07d}"
        start = T0 + int(span * i / n_batches) + rng.randrange(HOUR)
        end = start + rng.randrange(2, 5) * HOUR
        near = int(n_lots * i / n_batches)
        roll = rng.random()
        if roll < 0.25 or not intermediates:
            kind, product, inputs = "intermediate", "base", rng.randint(2, 4)
        elif roll < 0.95 or not finished:
            kind, product, inputs = "production", f"Product {rng.randrange(40)}", rng.randint(1, 3)
        else:
            kind, product, inputs = "rework", "reworked product", 1
        w.node("Batch", uid, product=product, batch_type=kind, quantity=1000, unit="units",
               started_at=start, ended_at=end)  # fmt: skip
        made.inputs[uid] = set()
        for lot in sorted(
            {lots[max(0, min(n_lots - 1, near - rng.randrange(0, 30)))] for _ in range(inputs)}
        ):
            w.rel("CONSUMED_BY", lot, uid, from_label="MaterialLot", quantity=rng.randint(5, 200),
                  unit="kg")  # fmt: skip
            made.inputs[uid].add(lot)
        if kind == "production":
            for src in sorted(set(rng.choices(intermediates[-8:], k=rng.randint(1, 2)))):
                w.rel("CONSUMED_BY", src, uid, from_label="Batch", quantity=rng.randint(100, 600),
                      unit="kg")  # fmt: skip
                made.inputs[uid].add(src)
        elif kind == "rework":
            src = rng.choice(finished[-20:])[0]
            w.rel("CONSUMED_BY", src, uid, from_label="Batch", quantity=rng.randint(10, 100),
                  unit="units")  # fmt: skip
            made.inputs[uid].add(src)
        machine = machines[(i * 7 + rng.randrange(2)) % n_machines]
        made.runs[uid] = (machine, start, end)
        w.rel("RAN_ON", uid, machine, start=start, end=end)
        for op in sorted(set(rng.choices(operators, k=rng.randint(1, 2)))):
            w.rel("HANDLED_BY", uid, op, start=start, end=end)
        if kind == "intermediate":
            intermediates.append(uid)
        else:
            finished.append((uid, end))
        if i % max(1, n_batches // 20) == 0:
            shift_samples.append({"machine": machine, "from": start - HOUR, "to": end + HOUR})

    inspected = rng.sample(range(n_batches), min(n_batches, n_inspections))
    for j, b in enumerate(inspected):
        uid = f"I{j:07d}"
        result = "fail" if rng.random() < 0.03 else "pass"
        at = T0 + int(span * b / n_batches)
        w.node("Inspection", uid, inspection_type="release check", result=result, inspected_at=at)
        w.rel("INSPECTED", uid, f"B{b:07d}", to_label="Batch")

    customers = [f"C{i:06d}" for i in range(n_customers)]
    n_distributors = max(2, n_customers // 50)
    distributors, retailers = customers[:n_distributors], customers[n_distributors:]
    for c in customers:
        is_dist = c in distributors[:n_distributors]
        w.node("Customer", c, name=f"Customer {c}", region=rng.choice(REGIONS),
               customer_type="distributor" if is_dist else "retailer",
               contact_email=f"{c.lower()}@example.com")  # fmt: skip

    # Shipments: 60% from the plant (a third of them to distributors), 40% re-shipped by a distributor
    # carrying only batches it received.
    received: dict[str, list[str]] = defaultdict(list)
    retailer_batches: list[tuple[str, str]] = []
    for i in range(n_shipments):
        uid = f"SH{i:07d}"
        position = int(len(finished) * i / n_shipments)
        from_plant = rng.random() < 0.6 or not received
        if from_plant:
            window = finished[max(0, position - 50) : position + 1] or finished[:1]
            carried = {b for b, _ in rng.sample(window, min(len(window), rng.randint(1, 3)))}
            destination = rng.choice(distributors) if rng.random() < 0.33 else rng.choice(retailers)
            origin = None
        else:
            origin = rng.choice([d for d in distributors if received[d]] or distributors)
            stock = received[origin][-30:] or [finished[position][0]]
            carried = set(rng.sample(stock, min(len(stock), rng.randint(1, 2))))
            destination = rng.choice(retailers)
        shipped = finished[min(position, len(finished) - 1)][1] + rng.randrange(DAY)
        w.node("Shipment", uid, shipped_at=shipped, carrier=f"Carrier {rng.randrange(8)}")
        if origin is not None:
            w.rel("DISPATCHED", origin, uid)
        w.rel("DELIVERED_TO", uid, destination)
        for b in sorted(carried):
            w.rel("SHIPPED_IN", b, uid, quantity=rng.randint(20, 300), unit="units")
            if destination in distributors:
                received[destination].append(b)
            else:
                retailer_batches.append((destination, b))
                made.deliveries.append((origin, shipped))

    sales: list[tuple[str, str, str]] = []
    for i in range(n_sales):
        uid = f"SA{i:08d}"
        delivery = int(len(retailer_batches) * i / n_sales)
        retailer, batch = retailer_batches[delivery]
        qty = rng.randint(1, 12)
        w.node("Sale", uid, quantity=qty, unit="units")
        w.rel("SOLD_IN", batch, uid, quantity=qty, unit="units")
        w.rel("SOLD", retailer, uid)
        sales.append((uid, retailer, batch))
        made.sales.append(_Sold(uid, retailer, batch, *made.deliveries[delivery]))
    complaints = []
    for i in range(n_complaints):
        uid = f"CP{i:06d}"
        sale, retailer, batch = rng.choice(sales)
        w.node("Complaint", uid, category=rng.choice(("spoilage", "foreign body", "taste", "packaging")))
        if rng.random() < 0.7:
            w.rel("ABOUT", uid, sale, to_label="Sale")
        else:
            w.rel("ABOUT", uid, batch, to_label="Batch")
        w.rel("REPORTED_BY", uid, retailer)
        complaints.append(uid)

    pick = random.Random(seed + 1)
    planted = {}
    if plant:
        if complaints_file is None:
            raise ValueError("planting causes needs a complaints_file to write the complaint forms to")
        planted = {"planted": plant_complaints(made, plant, distributors, complaints_file, seed)}
    return w.close(planted | {
        "shape": "plant",
        "seed": seed,
        "lots": pick.sample(lots, min(100, len(lots))),
        "suppliers": suppliers,
        "batches": pick.sample([b for b, _ in finished], min(100, len(finished))),
        "machine_windows": shift_samples,
        "customers": pick.sample(retailers, min(100, len(retailers))),
        "complaints": complaints[:100],
    })  # fmt: skip


def plant_complaints(
    made: _Made, causes: Sequence[Cause], distributors: list[str], out: Path, seed: int
) -> list[dict[str, Any]]:
    """Plant ``causes`` and write the complaints they would bring, as intake forms (JSON Lines):

    - ``lot``: a lot that went into 5 to 40 sold batches (through intermediates and rework too);
    - ``machine``: a machine over the window of ten of its runs, and everything made from those runs;
    - ``warehouse``: a distributor over 45 days: what it re-shipped to retailers then.

    Up to 24 of each cause's sold units are complained about; then noise: a fifth as many
    complaints about units no cause touched; a fifth of all give no batch code (the serial only)
    and one in twenty neither (untraceable). Returns what was planted, with its window."""
    rng = random.Random(seed * 7919 + 3)
    consumers: dict[str, list[str]] = defaultdict(list)
    for batch, inputs in made.inputs.items():
        for x in sorted(inputs):
            consumers[x].append(batch)

    def downstream(starts: set[str]) -> set[str]:
        seen, todo = set(starts), deque(starts)
        while todo:
            for nxt in consumers.get(todo.popleft(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    sold = {s.batch for s in made.sales}
    touched: set[str] = set()  # sales some cause affected
    planted: list[dict[str, Any]] = []
    forms: list[tuple[_Sold, str]] = []
    for cause in causes:
        if cause == "lot":
            lots = sorted(x for x in consumers if x.startswith("L"))
            taken = {s.batch for s in made.sales if s.uid in touched}
            fits = [x for x in lots if 5 <= len(downstream({x}) & sold) <= 40]
            lot = rng.choice([x for x in fits if not downstream({x}) & taken] or fits)
            hit = downstream({lot})
            planted.append({"cause": cause, "label": "MaterialLot", "uid": lot})
            affected = [s for s in made.sales if s.batch in hit]
        elif cause == "machine":
            machine = rng.choice(sorted({m for m, _, _ in made.runs.values()}))
            runs = sorted((start, end, b) for b, (m, start, end) in made.runs.items() if m == machine)
            k = rng.randrange(len(runs) // 4, max(len(runs) // 4 + 1, 3 * len(runs) // 4 - 10))
            window = runs[k : k + 10]
            lo, hi = window[0][0], window[-1][1]
            hit = downstream({b for _, _, b in window})
            planted.append({"cause": cause, "label": "Machine", "uid": machine, "from": lo, "to": hi})
            affected = [s for s in made.sales if s.batch in hit]
        else:
            busy = sorted(distributors, key=lambda d: -sum(1 for s in made.sales if s.via == d))
            warehouse = busy[0]
            theirs = sorted(s.shipped_at for s in made.sales if s.via == warehouse)
            lo = theirs[rng.randrange(len(theirs) // 4, max(len(theirs) // 4 + 1, len(theirs) // 2))]
            hi = lo + 45 * DAY
            planted.append({"cause": cause, "label": "Customer", "uid": warehouse, "from": lo, "to": hi})
            affected = [s for s in made.sales if s.via == warehouse and lo <= s.shipped_at < hi]
        chosen = rng.sample(affected, min(len(affected), 24))
        touched |= {s.uid for s in affected}
        forms += [(s, CAUSE_CATEGORY[cause]) for s in chosen]
    clean = [s for s in made.sales if s.uid not in touched]
    forms += [(s, rng.choice(NOISE_CATEGORIES)) for s in rng.sample(clean, max(3, len(forms) // 5))]
    lines = []
    for number, (sale, category) in enumerate(forms):
        received = sale.shipped_at + rng.randint(2, 12) * DAY + rng.randrange(DAY)
        form: dict[str, Any] = {
            "uid": f"PC{number:05d}",
            "channel": rng.choice(("phone", "web", "retailer")),
            "customer": sale.retailer,
            "category": category,
            "received_at": received,
            "batch": sale.batch,
            "serial": sale.uid,
        }
        roll = rng.random()
        if roll < 0.05:
            del form["batch"], form["serial"]
        elif roll < 0.25:
            del form["batch"]
        lines.append((received, json.dumps(form)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for _, line in sorted(lines)))
    return planted
