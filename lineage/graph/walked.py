"""A walk over the topology index as arrays (:class:`Walked`): its depths, its relationships made
scope edges, and its nodes' properties read from the database only when asked for."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lineage.graph.model import LABEL_BY_NAME, LABEL_SLUG, Label, NodeRef, RelType
from lineage.graph.scope_parts import (
    CHUNK,
    CONTEXT_TYPES,
    Budget,
    Direction,
    ScopeEdge,
    ScopeNode,
)
from lineage.graph.store import Store
from lineage.graph.topology import FLOW_TYPES, KIND_NAMES, LABEL_CODE, LABELS, RUN_TYPES, Topology
from lineage.graph.walk import BACKWARD_TYPES, FORWARD_TYPES, Ends, Found, Positions, by_type


def fetch_properties(
    store: Store, nodes: Iterable[NodeRef], budget: Budget | None = None
) -> dict[NodeRef, dict[str, Any]]:
    wanted: dict[str, list[str]] = {slug: [] for slug in LABEL_SLUG.values()}
    for n in nodes:
        wanted[LABEL_SLUG[n.label]].append(n.uid)
    result: dict[NodeRef, dict[str, Any]] = {}
    while any(wanted.values()):
        params = {slug: uids[:CHUNK] for slug, uids in wanted.items()}
        wanted = {slug: uids[CHUNK:] for slug, uids in wanted.items()}
        rows = budget.run("nodes_properties", **params) if budget else store.run("nodes_properties", **params)
        for row in rows:
            props = dict(row["props"])
            props.pop("uid", None)
            result[NodeRef(LABEL_BY_NAME[row["label"]], row["uid"])] = props
    return result


class Walked:
    """An index walk's scope as arrays: its node ids (sorted), the relationships it took, and what
    making objects of them needs."""

    def __init__(self, topology: Topology, found: Found, direction: Direction, shown: set[Label]) -> None:
        self.topology = topology
        self.ids = found.ids
        self.start = found.start  # the source's position in ids
        self.direction = direction
        self.shown = shown  # kinds whose properties the caller asked for (and the source's)
        self._found = found
        self._uids: list[str] | None = None
        self._by_type: tuple[Positions, Ends] | None = None
        self._depths: np.ndarray | None = None

    @property
    def taken(self) -> Positions:
        """By type, the positions of the relationships taken in their relation (sorted)."""
        return self._relationships()[0]

    @property
    def local(self) -> Ends:
        """By type, each taken relationship's ends as positions in ids."""
        return self._relationships()[1]

    def _relationships(self) -> tuple[Positions, Ends]:
        """Sorted by type on first use: who is in a scope and how many of each kind, the questions
        asked most, need none of it (on a customer's trace, out of cache, it was a third of the
        time)."""
        if self._by_type is None:
            types = FORWARD_TYPES if self.direction == "forward" else BACKWARD_TYPES
            self._by_type = by_type(self.topology, self.ids, self._found.taken, types)
        return self._by_type

    def uids(self) -> list[str]:
        """Every node's uid, in the order of ids: decoded from the walk's call when it named them."""
        if self._uids is None:
            names = self._found.names
            if names is None:
                self._uids = self.topology.uids_of(self.ids)
            else:
                self._uids = str(names, "utf-8").split("\0")  # decoded from the array, not a copy
        return self._uids

    def uids_at(self, positions: np.ndarray) -> list[str]:
        """The uids of the nodes at ``positions`` in ids: from :meth:`uids` once they are decoded
        (or the walk named them), else named alone (a page of customers out of a scope of 800,000)."""
        if self._uids is None and self._found.names is None:
            return self.topology.uids_of(self.ids[positions])
        names = self.uids()
        return [names[p] for p in positions.tolist()]

    def depths(self) -> np.ndarray:
        """Each node's distance from the source along the edges turned as :func:`oriented` turns
        them; -1 for a node no such path reaches (none, from a walk: each step goes from nodes it
        reached to new ones, which is what lets :meth:`uids_by_label` skip this)."""
        if self._depths is None:
            rels, tail, head, _ = self._oriented()
            size = self.ids.size
            if not rels:
                self._depths = np.where(np.arange(size) == self.start, 0, -1)
            elif tail.size <= SMALL_WALK_EDGES:
                self._depths = bfs_levels(size, self.start, tail, head)
            else:
                order = np.argsort(tail, kind="stable")  # CSR made directly: scipy's COO route costs more
                indptr = np.concatenate([[0], np.cumsum(np.bincount(tail, minlength=size))]).astype(np.int32)
                indices = head[order].astype(np.int32)
                graph = csr_matrix((np.ones(tail.size, dtype=bool), indices, indptr), shape=(size, size))
                distance = dijkstra(graph, directed=True, indices=self.start, unweighted=True)
                self._depths = np.where(np.isinf(distance), -1, distance).astype(np.int64)
        return self._depths

    def uids_by_label(self, only: Label | None = None) -> dict[str, set[str]]:
        """The uids of the nodes reached, by kind (its name as a plain string, which its
        :class:`Label` equals), the source excluded; kinds it reaches none of are left out. Ids are
        sorted and numbered kind by kind, so each kind is one slice. Every node a walk holds is
        reached (see :meth:`depths`), so the depths, a third of a lot's scope, wait for a caller
        who asks for them."""
        cuts = self._found.cuts
        if only is None:
            lo, uids, codes = 0, self.uids(), range(len(KIND_NAMES))
        else:
            code = LABEL_CODE[only]
            lo, codes = cuts[code], range(code, code + 1)
            uids = self.uids_at(np.arange(lo, cuts[code + 1]))
        found = {}
        for code in codes:
            first, last = cuts[code], cuts[code + 1]
            if first < last:
                named = set(uids[first - lo : last - lo])
                if first <= self.start < last:
                    named.discard(uids[self.start - lo])
                if named:
                    found[KIND_NAMES[code]] = named
        return found

    def counts(self) -> dict[str, int]:
        """Nodes by kind, the source excluded, in :class:`Label` order: the length of each kind's
        run of ids, with no uid named (an affected summary asks for these first)."""
        cuts, counts = self._found.cuts, {}
        for code, name in enumerate(KIND_NAMES):
            count = cuts[code + 1] - cuts[code] - (cuts[code] <= self.start < cuts[code + 1])
            if count:
                counts[name] = count
        return counts

    def position(self, node: NodeRef) -> int | None:
        """Where ``node`` is in ids; None when the walk did not reach it."""
        found = self.topology.id(node)
        if found is None:
            return None
        at = int(np.searchsorted(self.ids, found))
        return at if at < self.ids.size and int(self.ids[at]) == found else None

    def node_at(self, at: int) -> ScopeNode:
        """The node at position ``at`` in ids, as :meth:`all_nodes` makes it, without making the rest."""
        return self._made(np.array([at]))[0]

    def path(self, at: int) -> tuple[list[ScopeNode], list[ScopeEdge]]:
        """One shortest chain of relationships from the source to the node at ``at``, made from the
        arrays: asked why a customer is in a distributor's scope of 800,000 nodes, the objects of
        the whole scope (and a walk over them in Python) took seconds for a chain of three. Walked back
        from the node: each step takes the first relationship, in the scope's order, that comes from
        a node one level nearer the source."""
        depth = self.depths()
        rels, tails, heads, firsts = self._oriented()
        chain, taken = [at], []
        while chain[-1] != self.start:
            here = chain[-1]
            into = np.flatnonzero(heads == here)
            edge = int(into[np.flatnonzero(depth[tails[into]] == depth[here] - 1)[0]])
            taken.append(edge)
            chain.append(int(tails[edge]))
        chain.reverse()
        taken.reverse()
        nodes = self._made(np.array(chain))
        refs = {p: n.ref for p, n in zip(chain, nodes, strict=True)}
        edges = []
        for edge in taken:
            kind = int(np.searchsorted(firsts, edge, "right")) - 1
            rel, row = rels[kind], edge - firsts[kind]
            a, b = self.local[rel]
            one = slice(row, row + 1)
            local = {rel: (a[one], b[one])}
            edges += scope_edges(self.topology, rel, self.taken[rel][one], local, refs)
        return nodes, edges

    def _oriented(self) -> tuple[list[RelType], np.ndarray, np.ndarray, list[int]]:
        """Every relationship taken, in the scope's order (by type, then by position), turned as
        :func:`oriented` turns it, as positions in ids: its types, tails and heads, and where each
        type's run starts."""
        backward = self.direction == "backward"
        rels, tails, heads, firsts, count = [], [], [], [], 0
        for rel, (a, b) in self.local.items():
            turned = (rel in CONTEXT_TYPES) != backward
            rels.append(rel)
            tails.append(b if turned else a)
            heads.append(a if turned else b)
            firsts.append(count)
            count += a.size
        if not rels:
            return [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
        return rels, np.concatenate(tails), np.concatenate(heads), firsts

    def selection(self, kinds: frozenset[Label], max_depth: int | None) -> np.ndarray:
        """Positions in ``ids`` of the nodes a page or an export lists (the source aside; only
        ``kinds``, when given; at most ``max_depth`` hops, when given), in page order: by depth (no
        path last), kind, uid."""
        depth = self.depths()
        codes = np.searchsorted(self.topology.offsets, self.ids, "right") - 1
        keep = depth != 0
        if max_depth is not None:
            keep &= (depth > 0) & (depth <= max_depth)
        if kinds:
            keep &= np.isin(codes, [LABEL_CODE[label] for label in kinds])
        chosen = np.flatnonzero(keep)
        uids = np.array(self.uids_at(chosen), dtype=str)
        order = np.lexsort((uids, codes[chosen], np.where(depth[chosen] > 0, depth[chosen], depth.size)))
        return chosen[order]

    def nodes_at(self, positions: np.ndarray) -> list[ScopeNode]:
        """The nodes at these positions, without properties (a stream looks them up a chunk at a time)."""
        refs = self.topology.refs(self.ids[positions])
        depths = self.depths()[positions].tolist()
        return [ScopeNode(r.label, r.uid, d, {}) for r, d in zip(refs, depths, strict=True)]

    def edges_among(self, positions: np.ndarray, size: int) -> Iterator[list[ScopeEdge]]:
        """The relationships taken between nodes at ``positions`` (and the source), ``size`` at a time."""
        kept = np.zeros(self.ids.size, dtype=bool)
        kept[positions] = True
        kept[self.start] = True
        for rel, taken in self.taken.items():
            a, b = self.local[rel]
            both = np.flatnonzero(kept[a] & kept[b])
            for lo in range(0, both.size, size):
                part = both[lo : lo + size]
                ends = np.unique(np.concatenate([a[part], b[part]]))
                refs = dict(zip(ends.tolist(), self.topology.refs(self.ids[ends]), strict=True))
                local = {rel: (a[part], b[part])}
                yield list(scope_edges(self.topology, rel, taken[part], local, refs))

    def all_nodes(self) -> list[ScopeNode]:
        """Every node as an object, by depth (no path last), with the properties asked for."""
        depth = self.depths()
        return self._made(np.argsort(np.where(depth >= 0, depth, depth.size), kind="stable"))

    def _made(self, positions: np.ndarray) -> list[ScopeNode]:
        """The nodes at ``positions`` in ids as objects, with the properties asked for. Kinds and
        uids come from the arrays (:meth:`uids_at`), with no :class:`NodeRef` per node: a supplier's
        scope makes 15,000 nodes, and every object made here is one more for the garbage collector
        to scan once the burst is over."""
        topology = self.topology
        node_ids = self.ids[positions]
        codes = (np.searchsorted(topology.offsets, node_ids, "right") - 1).tolist()
        uids = self.uids_at(positions)
        unpack, shown = topology.properties, [label in self.shown for label in LABELS]
        nodes = []
        depths = self.depths()[positions].tolist()
        for node, code, uid, d in zip(node_ids.tolist(), codes, uids, depths, strict=True):
            props = (unpack(node) or {}) if shown[code] else {}
            nodes.append(ScopeNode(LABELS[code], uid, d, props))
        return nodes

    def all_edges(self) -> list[ScopeEdge]:
        refs = self.topology.refs(self.ids)
        return [
            edge
            for rel, positions in self.taken.items()
            for edge in scope_edges(self.topology, rel, positions, self.local, refs)
        ]


#: Up to this many relationships, a scope's depths are found by a breadth-first walk in Python
#: (50 us for a lot's 200); scipy's call costs 120 us however small the graph, and less per edge.
SMALL_WALK_EDGES = 400


def bfs_levels(size: int, start: int, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """:func:`depths_from`' walk over positions, in lists: 40 us for a lot's scope, where calling
    :func:`depths_from` on them (dicts) took 70."""
    adjacency: list[list[int]] = [[] for _ in range(size)]
    for a, b in zip(tail.tolist(), head.tolist(), strict=True):
        adjacency[a].append(b)
    depth = [-1] * size
    depth[start] = 0
    frontier, level = [start], 0
    while frontier:
        level += 1
        reached = []
        for here in frontier:
            for there in adjacency[here]:
                if depth[there] < 0:
                    depth[there] = level
                    reached.append(there)
        frontier = reached
    return np.array(depth, dtype=np.int64)


def scope_edges(
    topology: Topology,
    rel: RelType,
    positions: np.ndarray,
    local: dict[RelType, tuple[np.ndarray, np.ndarray]],
    refs: list[NodeRef] | dict[int, NodeRef],
) -> Iterator[ScopeEdge]:
    relation = topology.relations[rel]
    a, b = local[rel]
    nothing = [None] * positions.size
    quantity, unit, start, end = nothing, nothing, nothing, nothing
    # NaN is the index's null: the only value not equal to itself.
    if rel in FLOW_TYPES:
        units = topology.units
        quantity = [None if q != q else q for q in relation.quantity[positions].tolist()]
        unit = [None if u < 0 else units[u] for u in relation.unit[positions].tolist()]
    elif rel in RUN_TYPES:
        start = [None if t != t else int(t) for t in relation.start[positions].tolist()]
        end = [None if t != t else int(t) for t in relation.end[positions].tolist()]
    for x, y, q, u, s, e in zip(a.tolist(), b.tolist(), quantity, unit, start, end, strict=True):
        yield ScopeEdge(rel, refs[x], refs[y], q, u, s, e)
