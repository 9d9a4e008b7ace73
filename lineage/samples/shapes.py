"""Seeded graphs of the two shapes that test a lineage engine's limits, written as ``lineage load``
reads them (with :mod:`.generate`'s writer).

``diamond``: levels of nodes that each consume several nodes of the level before, the shape where
path-enumerating queries explode. ``distribution``: a few batches fanned out to a great many
customers through two tiers of distributors, the shape of a national brand's recall, where one
batch's scope holds tens of thousands of customers.
"""

from __future__ import annotations

import random
from pathlib import Path

from lineage.samples.generate import DAY, HOUR, MATERIALS, REGIONS, T0, Stats, Writer


def generate_diamond(out: Path, levels: int = 16, width: int = 200, fan_in: int = 4, seed: int = 7) -> Stats:
    """``levels`` levels of ``width`` nodes; each node past the first consumes ``fan_in`` of the level
    before. Level 0 are material lots from one supplier; the rest are batches."""
    rng = random.Random(seed)
    w = Writer(out)
    w.node("Supplier", "DS", name="Diamond supplier")
    previous: list[tuple[str, str]] = []
    for i in range(width):
        uid = f"DL{i:05d}"
        w.node("MaterialLot", uid, material="powder")
        w.rel("SUPPLIED", "DS", uid)
        previous.append(("MaterialLot", uid))
    for level in range(1, levels):
        current = []
        for i in range(width):
            uid = f"DB{level:03d}-{i:05d}"
            w.node("Batch", uid, product=f"level {level}", batch_type="intermediate")
            for label, src in rng.sample(previous, min(fan_in, len(previous))):
                w.rel("CONSUMED_BY", src, uid, from_label=label, quantity=1, unit="kg")
            current.append(("Batch", uid))
        previous = current
    return w.close({"shape": "diamond", "seed": seed, "lots": [f"DL{i:05d}" for i in range(min(width, 10))],
                    "suppliers": ["DS"], "levels": levels, "width": width, "fan_in": fan_in})  # fmt: skip


def generate_distribution(out: Path, nodes: int = 100_000, seed: int = 7) -> Stats:
    """About ``nodes`` nodes: a handful of batches made from a few lots, shipped from the plant to
    national distributors (tier 1), on to regional ones (tier 2), and from those to retailers, who
    sell units. Every shipment past the plant carries only batches its sender received, so a batch's
    scope is its own share of the network, not all of it."""
    rng = random.Random(seed)
    w = Writer(out)
    n_tier1 = max(2, nodes // 20_000)
    n_tier2 = max(4, nodes // 1_000)
    n_retailers = max(10, int(nodes * 0.3))
    n_sales = max(10, int(nodes * 0.36))
    suppliers = [f"DS{i}" for i in range(3)]
    lots = [f"DL{i:03d}" for i in range(12)]
    batches = [f"DB{i:03d}" for i in range(8)]
    for i, s in enumerate(suppliers):
        w.node("Supplier", s, name=f"Supplier {i}", country="NO")
    for i, lot in enumerate(lots):
        w.node("MaterialLot", lot, material=MATERIALS[i % 3], quantity=1000, unit="kg", received_at=T0)
        w.rel("SUPPLIED", suppliers[i % 3], lot)
    w.node("Machine", "DM0", name="Filler", line="line 1")
    for i, b in enumerate(batches):
        start = T0 + DAY + i * 6 * HOUR
        w.node("Batch", b, product="Product 1", batch_type="production", quantity=nodes, unit="units",
               started_at=start, ended_at=start + 4 * HOUR)  # fmt: skip
        for lot in rng.sample(lots, 3):
            w.rel("CONSUMED_BY", lot, b, from_label="MaterialLot", quantity=rng.randint(50, 300), unit="kg")
        w.rel("RAN_ON", b, "DM0", start=start, end=start + 4 * HOUR)
    tier1 = [f"DT1-{i:03d}" for i in range(n_tier1)]
    tier2 = [f"DT2-{i:05d}" for i in range(n_tier2)]
    retailers = [f"DR{i:07d}" for i in range(n_retailers)]
    for tier, names in (("National", tier1), ("Regional", tier2)):
        for c in names:
            w.node("Customer", c, name=f"{tier} distributor {c}", region=rng.choice(REGIONS),
                   customer_type="distributor")  # fmt: skip
    for c in retailers:
        w.node("Customer", c, name=f"Customer {c}", region=rng.choice(REGIONS), customer_type="retailer",
               contact_email=f"{c.lower()}@example.com")  # fmt: skip

    shipments = 0
    shipped_at = T0 + 2 * DAY

    def ship(origin: str | None, destination: str, carried: set[str]) -> None:
        nonlocal shipments
        uid = f"DSH{shipments:07d}"
        shipments += 1
        w.node("Shipment", uid, shipped_at=shipped_at + shipments, carrier=f"Carrier {rng.randrange(8)}")
        if origin is not None:
            w.rel("DISPATCHED", origin, uid)
        w.rel("DELIVERED_TO", uid, destination)
        for b in sorted(carried):
            w.rel("SHIPPED_IN", b, uid, quantity=rng.randint(20, 300), unit="units")

    received: dict[str, set[str]] = {}
    for d in tier1:  # each national distributor takes several of the batches
        received[d] = set(rng.sample(batches, rng.randint(3, 6)))
        ship(None, d, received[d])
    for i, d in enumerate(tier2):  # from one national distributor, some of what it received
        origin = tier1[i % n_tier1]
        received[d] = set(rng.sample(sorted(received[origin]), rng.randint(1, 3)))
        ship(origin, d, received[d])
    sold: list[tuple[str, str]] = []
    for i, r in enumerate(retailers):
        origin = tier2[i % n_tier2]
        carried = set(rng.sample(sorted(received[origin]), rng.randint(1, min(2, len(received[origin])))))
        ship(origin, r, carried)
        sold.extend((r, b) for b in sorted(carried))
    for i in range(n_sales):
        retailer, batch = sold[int(len(sold) * i / n_sales)]
        uid = f"DSA{i:08d}"
        qty = rng.randint(1, 12)
        w.node("Sale", uid, quantity=qty, unit="units")
        w.rel("SOLD_IN", batch, uid, quantity=qty, unit="units")
        w.rel("SOLD", retailer, uid)

    pick = random.Random(seed + 1)
    customers = pick.sample(retailers, min(100, len(retailers)))
    return w.close(
        {
            "shape": "distribution",
            "seed": seed,
            "lots": lots,
            "suppliers": suppliers,
            "batches": batches,
            "customers": customers,
        }
    )
