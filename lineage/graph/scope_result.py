"""A scope (:class:`Scope`), and how one is built under its node and time limits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from lineage.errors import InvalidRequest, NotFound
from lineage.graph.gcpause import gc_paused
from lineage.graph.model import Label, NodeRef, RelType
from lineage.graph.scope_parts import (
    Budget,
    Direction,
    ScopeEdge,
    ScopeNode,
    WhyPath,
    Window,
    depths_from,
    oriented,
    ref_dict,
    shortest_parents,
)
from lineage.graph.store import Store
from lineage.graph.walk import Selection
from lineage.graph.walked import Walked, fetch_properties


class Scope:
    """A forward scope or a backward trace: plain data, made in bulk (scopes reach 100,000 nodes).

    From an index walk, a scope is held as arrays (:class:`Walked`) and its :attr:`nodes` and
    :attr:`edges` are made on first use: the questions asked most (how many of each kind, which
    customers, is this node in it) are answered from the arrays, without the 40,000 objects a
    supplier's scope makes. ``elapsed_ms`` is the walk's time; making the objects comes on top.
    """

    __slots__ = ("_edges", "_nodes", "_walked", "direction", "elapsed_ms", "source", "window")

    def __init__(
        self,
        direction: Direction,
        source: NodeRef,
        window: Window | None,
        nodes: list[ScopeNode] | None,
        edges: list[ScopeEdge] | None,
        elapsed_ms: float,
        walked: Walked | None = None,
    ) -> None:
        self.direction = direction
        self.source = source
        self.window = window
        self.elapsed_ms = elapsed_ms
        self._nodes = nodes
        self._edges = edges
        self._walked = walked

    @property
    def nodes(self) -> list[ScopeNode]:
        """Every node, ordered by depth (the source first), each with its properties."""
        if self._nodes is None:
            assert self._walked is not None
            with gc_paused():
                self._nodes = self._walked.all_nodes()
        return self._nodes

    @property
    def edges(self) -> list[ScopeEdge]:
        """Made apart from the nodes: a caller who lists who is affected never pays for the
        relationships (a supplier's scope has half as many again as it has nodes)."""
        if self._edges is None:
            assert self._walked is not None
            with gc_paused():
                self._edges = self._walked.all_edges()
        return self._edges

    @property
    def arrays(self) -> Walked | None:
        """The index walk's arrays while no objects have been made of them (streams read these,
        so a scope of millions of nodes is never held as objects)."""
        return self._walked if self._nodes is None else None

    def counts(self) -> dict[str, int]:
        """Nodes by kind, the source excluded: from the walk's arrays whenever there are some, even
        once its objects are made (an affected answer makes them first, and counting them was 2%
        of the API's busiest route); so are :meth:`uids` and :meth:`uids_by_label`."""
        if self._walked is not None:
            return self._walked.counts()
        counter = Counter(n.label.value for n in self.nodes if n.depth > 0)
        return {label.value: counter[label.value] for label in Label if counter[label.value]}

    def uids(self, label: Label) -> set[str]:
        if self._walked is not None:
            return self._walked.uids_by_label(label).get(label, set())
        return {n.uid for n in self.nodes if n.label == label and n.depth > 0}

    def nearest(self, label: Label) -> list[ScopeNode]:
        """The nodes of ``label`` closest to the source (the source excluded): for a complaint's
        backward trace and ``Batch``, the batches its unit came from, not those that fed them."""
        found = [n for n in self.nodes if n.label == label and n.depth > 0]
        closest = min((n.depth for n in found), default=0)
        return [n for n in found if n.depth == closest]

    def uids_by_label(self) -> dict[str, set[str]]:
        """Every node's uid by kind, the source excluded (from the walk's arrays, as :meth:`counts`)."""
        if self._walked is not None:
            return self._walked.uids_by_label()
        found: dict[str, set[str]] = {}
        for n in self.nodes:
            if n.depth > 0:
                found.setdefault(n.label.value, set()).add(n.uid)
        return found

    def node(self, label: Label, uid: str) -> ScopeNode | None:
        if self._nodes is None and self._walked is not None:
            at = self._walked.position(NodeRef(label, uid))
            return None if at is None else self._walked.node_at(at)
        for n in self.nodes:
            if n.label == label and n.uid == uid:
                return n
        return None

    def properties_of(self, store: Store, refs: list[NodeRef]) -> dict[NodeRef, dict[str, Any]]:
        """The stored properties of ``refs``: from the index the scope was walked on where it holds
        them (as of that walk), the rest from the database in one round trip per chunk."""
        found: dict[NodeRef, dict[str, Any]] = {}
        rest = refs
        if self._walked is not None:
            topology = self._walked.topology
            rest = []
            for ref in refs:
                node = topology.id(ref)
                props = topology.properties(node) if node is not None else None
                if props is None:
                    rest.append(ref)
                else:
                    found[ref] = props
        if rest:
            found.update(fetch_properties(store, rest))
        return found

    def customers_by_region(self) -> dict[str, list[str]]:
        regions: dict[str, list[str]] = {}
        for n in self.nodes:
            if n.label == Label.CUSTOMER and n.depth > 0:
                region = str(n.properties.get("region", "unknown"))
                regions.setdefault(region, []).append(n.uid)
        return {region: sorted(uids) for region, uids in sorted(regions.items())}

    def quantities(self) -> dict[str, dict[str, float]]:
        """Totals by unit: taken from the source, shipped from the plant, re-shipped by distributors
        (a share of what they received, so not added to it), and sold."""
        reshipped = {e.target for e in self.edges if e.type == RelType.DISPATCHED}
        totals: dict[str, dict[str, float]] = {}
        for e in self.edges:
            if e.quantity is None:
                continue
            if e.type == RelType.CONSUMED_BY and e.source == self.source:
                name = "consumed_from_source"
            elif e.type == RelType.SHIPPED_IN:
                name = "reshipped" if e.target in reshipped else "shipped"
            elif e.type == RelType.SOLD_IN:
                name = "sold"
            else:
                continue
            by_unit = totals.setdefault(name, {})
            by_unit[e.unit or ""] = by_unit.get(e.unit or "", 0.0) + e.quantity
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "source": ref_dict(self.source),
            "window": self.window.model_dump() if self.window else None,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "elapsed_ms": round(self.elapsed_ms, 3),
        }

    def path_to(self, label: Label, uid: str) -> WhyPath:
        """One shortest chain of relationships from the source that explains the target's presence."""
        target = NodeRef(label, uid)
        if self._nodes is None and self._walked is not None:
            at = self._walked.position(target)
            if at is None:
                raise InvalidRequest(f"{target} is not in the {self.direction} scope of {self.source}")
            nodes, edges = self._walked.path(at)
            return WhyPath(self.direction, self.source, target, nodes, edges)
        with gc_paused():
            parents = shortest_parents(
                self.source, oriented(self.direction, ((e.type, e.source, e.target, e) for e in self.edges))
            )
        if target not in parents:
            raise InvalidRequest(f"{target} is not in the {self.direction} scope of {self.source}")
        chain, steps = [target], []
        while (link := parents[chain[-1]]) is not None:
            chain.append(link[0])
            steps.append(link[1])
        by_key = {n.ref: n for n in self.nodes}
        return WhyPath(
            direction=self.direction,
            source=self.source,
            target=target,
            nodes=[by_key[k] for k in reversed(chain)],
            edges=steps[::-1],
        )


class Builder:
    """Collects a scope as plain tuples; the result objects are made once, at the end."""

    def __init__(self, budget: Budget, source: NodeRef, properties: Iterable[Label]) -> None:
        self.budget = budget
        self.source = source
        self.properties = frozenset(properties)
        self.nodes: set[NodeRef] = {source}
        self.edges: dict[tuple[RelType, NodeRef, NodeRef], tuple[Any, ...]] = {}

    def add(
        self,
        rel: RelType,
        a: NodeRef,
        b: NodeRef,
        quantity: float | None = None,
        unit: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> None:
        self.nodes.add(a)
        self.nodes.add(b)
        self.edges.setdefault((rel, a, b), (quantity, unit, start, end))

    def checkpoint(self) -> None:
        self.budget.check(len(self.nodes))

    def finish(self, direction: Direction, window: Window | None) -> Scope:
        described = [n for n in self.nodes if n.label in self.properties or n == self.source]
        properties = fetch_properties(self.budget.store, described, self.budget)
        if self.source not in properties:  # checked last: one round trip fewer for every scope
            raise NotFound(self.source.label.value, self.source.uid)
        depths = depths_from(self.source, oriented(direction, ((r, a, b, None) for r, a, b in self.edges)))
        # The walk is breadth-first, so its order is by depth: no sort needed.
        nodes = [ScopeNode(n.label, n.uid, d, properties.get(n, {})) for n, d in depths.items()]
        nodes += [ScopeNode(n.label, n.uid, -1, properties.get(n, {})) for n in self.nodes - depths.keys()]
        edges = [ScopeEdge(rel, a, b, *props) for (rel, a, b), props in self.edges.items()]
        return Scope(direction, self.source, window, nodes, edges, self.budget.elapsed_ms)


def assemble(
    walk: Selection,
    budget: Budget,
    source: NodeRef,
    direction: Direction,
    window: Window | None,
    properties: Iterable[Label],
) -> Scope:
    """A :class:`Scope` from a walk over the index: the same nodes, edges and depths as the Cypher
    walk's :meth:`Builder.finish` gives, held as arrays until they are asked for."""
    if walk.source is None:  # the source has no relationship at all: the scope is the source alone
        found = fetch_properties(budget.store, [source], budget)
        if source not in found:
            raise NotFound(source.label.value, source.uid)
        node = ScopeNode(source.label, source.uid, 0, found[source])
        return Scope(direction, source, window, [node], [], budget.elapsed_ms)
    found = walk.gathered()
    budget.check(found.ids.size)
    shown = frozenset(properties) | {source.label}
    walked = Walked(walk.topology, found, direction, shown)
    return Scope(direction, source, window, None, None, budget.elapsed_ms, walked)
