"""Environment suspects: the shipments, carriers and storage places (distributors and the customer's
own) the complaints' units came through, set against all deliveries of the complaint batches to end
customers, and the regions the complaints cluster in."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lineage.complaints.ranking import (
    RegionShare,
    Suspect,
    measure,
    support_ratios,
)
from lineage.graph.model import Label, NodeRef, RelType
from lineage.graph.nodes import node_detail
from lineage.graph.scope import forward
from lineage.graph.store import Store


def _place(store: Store, complaint: str) -> str | None:
    """The customer whose stock the complaint's unit came from: the seller of the unit it names,
    else the customer who complained."""
    detail = node_detail(store, NodeRef(Label.COMPLAINT, complaint), limit=20)
    for n in detail.neighbours:
        if n.type == RelType.ABOUT.value and n.label == Label.SALE.value:
            for m in node_detail(store, NodeRef(Label.SALE, n.uid), limit=20).neighbours:
                if m.type == RelType.SOLD.value:
                    return m.uid
    return next((n.uid for n in detail.neighbours if n.type == RelType.REPORTED_BY.value), None)


@dataclass
class _Routes:
    """The deliveries of one batch to end customers, each with what it came through."""

    through: dict[str, set[str]]  # end customer uid -> keys (Label:uid) of shipments, carriers, places
    region: dict[str, str | None]


def _routes(store: Store, batch: str) -> _Routes:
    """Follow the batch's own shipments (a distributor's onward ones only where they carry it) to
    the customers that did not ship it on: the end customers."""
    scope = forward(store, NodeRef(Label.BATCH, batch), properties=(Label.SHIPMENT, Label.CUSTOMER))
    carrying = {e.target for e in scope.edges if e.type == RelType.SHIPPED_IN and e.source.uid == batch}
    preds: dict[NodeRef, list[NodeRef]] = defaultdict(list)
    dispatchers: set[NodeRef] = set()
    for e in scope.edges:
        if e.type == RelType.DELIVERED_TO and e.source in carrying:
            preds[e.target].append(e.source)
        elif e.type == RelType.DISPATCHED and e.target in carrying:
            preds[e.target].append(e.source)
            dispatchers.add(e.source)
    props = {n.ref: n.properties for n in scope.nodes if n.label in (Label.SHIPMENT, Label.CUSTOMER)}
    memo: dict[NodeRef, set[str]] = {}

    def through(node: NodeRef, seen: frozenset[NodeRef]) -> set[str]:
        if node not in memo:
            keys = {f"{node.label.value}:{node.uid}"}
            carrier = props.get(node, {}).get("carrier") if node.label == Label.SHIPMENT else None
            if carrier:
                keys.add(f"Carrier:{carrier}")
            for p in preds.get(node, []):
                if p not in seen:  # a cycle of re-shipments is followed once
                    keys |= through(p, seen | {node})
            memo[node] = keys
        return memo[node]

    ends = [n for n in preds if n.label == Label.CUSTOMER and n not in dispatchers]
    return _Routes(
        through={c.uid: through(c, frozenset()) for c in ends},
        region={c.uid: props.get(c, {}).get("region") for c in ends},
    )


def environment_suspects(
    store: Store, batches_of: dict[str, set[str]]
) -> tuple[list[Suspect], list[RegionShare], dict[str, str], int]:
    """Suspects on the routes into the complaint customers, and regions, against the complaint
    batches' deliveries; with the complaints that could not be placed on a route."""
    routes = {b: _routes(store, b) for b in sorted(set().union(*batches_of.values()))}
    placed: dict[str, set[str]] = {}
    region_of: dict[str, str | None] = {}
    unplaced: dict[str, str] = {}
    for uid, batches in batches_of.items():
        customer = _place(store, uid)
        if customer is None:
            unplaced[uid] = "it names no customer and no unit sold by one"
            continue
        keys = set().union(*(routes[b].through.get(customer, set()) for b in batches))
        if not keys:
            unplaced[uid] = f"its batch never reached customer {customer!r}"
            continue
        placed[uid] = keys
        region_of[uid] = next(
            (routes[b].region[customer] for b in batches if customer in routes[b].region), None
        )
    deliveries = [keys for r in routes.values() for keys in r.through.values()]
    delivered_regions = [r.region[c] for r in routes.values() for c in r.through]
    if not placed:
        return [], [], unplaced, len(deliveries)
    baseline: dict[str, int] = defaultdict(int)
    for keys in deliveries:
        for k in keys:
            baseline[k] += 1
    explained: dict[str, set[str]] = defaultdict(set)
    for uid, keys in placed.items():
        for k in keys:
            explained[k].add(uid)
    of = set(placed)
    suspects = []
    for k, uids in explained.items():
        label, _, uid = k.partition(":")
        share = baseline[k] / len(deliveries)
        suspects.append(
            measure(label, uid, "environment", "deliveries", len(uids), len(of), baseline[k], share, uids)
        )
    regions = []
    for region in sorted({r for r in region_of.values() if r}):
        hits = sum(1 for r in region_of.values() if r == region)
        sent = sum(1 for r in delivered_regions if r == region)
        ratios = support_ratios(hits / len(placed), sent / len(deliveries))
        regions.append(RegionShare(region=region, complaints=hits, deliveries=sent, **ratios))
    regions.sort(key=lambda r: (-r.score, r.region))
    return suspects, regions, unplaced, len(deliveries)
