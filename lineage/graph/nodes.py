"""One node with its direct neighbours, and finding nodes by uid or name: what an analyst (or the
investigation view) uses to get from a half-remembered code to the node to scope from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from lineage.errors import InvalidRequest, NotFound
from lineage.graph.catalog import name_of
from lineage.graph.model import LABEL_BY_NAME, LABEL_SLUG, Label, NodeRef, readable
from lineage.graph.scope import fetch_properties
from lineage.graph.store import Store

#: Most neighbours or search hits one call returns.
MAX_LIMIT = 1000


class Neighbour(BaseModel):
    type: str
    direction: str = Field(description="'out': stored from this node; 'in': stored towards it")
    label: str
    uid: str
    name: str | None = None
    properties: dict[str, Any] = Field(description="the relationship's properties")


class NodeDetail(BaseModel):
    label: str
    uid: str
    properties: dict[str, Any]
    degree: dict[str, int] = Field(description="relationships by type, all of them")
    neighbours: list[Neighbour]
    truncated: bool = Field(description="true when more neighbours exist than were returned")


class SearchHit(BaseModel):
    label: str
    uid: str
    name: str | None = None
    match: str = Field(description="'uid' (exact), 'uid_prefix' or 'name'")


def _one(label: Label, uid: str) -> dict[str, list[str]]:
    return {slug: ([uid] if kind == label else []) for kind, slug in LABEL_SLUG.items()}


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")


def node_detail(store: Store, node: NodeRef, limit: int = 100) -> NodeDetail:
    """The node's properties (times as ISO-8601), its relationship counts and up to ``limit``
    neighbours, sorted by relationship type, then neighbour."""
    _check_limit(limit)
    properties = fetch_properties(store, [node])
    if node not in properties:
        raise NotFound(node.label.value, node.uid)
    degree = {row["type"]: row["relationships"] for row in store.run("node_degree", **_one(*node))}
    rows = store.run("node_neighbours", **_one(*node), limit=limit)
    neighbours = []
    for row in rows:
        outgoing = row["src_label"] == node.label.value and row["src"] == node.uid
        label, uid = (row["dst_label"], row["dst"]) if outgoing else (row["src_label"], row["src"])
        direction = "out" if outgoing else "in"
        neighbours.append(
            Neighbour(
                type=row["type"],
                direction=direction,
                label=label,
                uid=uid,
                name=row["name"],
                properties=readable(row["props"]),
            )
        )
    neighbours.sort(key=lambda n: (n.type, n.direction, n.label, n.uid))
    return NodeDetail(
        label=node.label.value,
        uid=node.uid,
        properties=readable(properties[node]),
        degree=dict(sorted(degree.items())),
        neighbours=neighbours,
        truncated=sum(degree.values()) > len(neighbours),
    )


def search(store: Store, q: str, kinds: list[Label] | None = None, limit: int = 20) -> list[SearchHit]:
    """Nodes whose uid is ``q``, starts with it, or whose name contains it (any case): exact uids
    first, then uid prefixes, then names; at most ``limit``."""
    _check_limit(limit)
    q = q.strip()
    if not q:
        raise InvalidRequest("the search text is empty")
    if len(q) > 256:
        raise InvalidRequest("the search text is longer than 256 characters")
    wanted = list(kinds or Label)
    topology = store.topology.current()
    if topology is not None:
        found = topology.catalog.search(q, wanted, limit)
        hits = {
            NodeRef(h.label, h.uid): SearchHit(label=h.label.value, uid=h.uid, name=h.name, match=h.match)
            for h in found
        }
    else:
        hits = _searched(store, q, wanted, limit)
    rank = {"uid": 0, "uid_prefix": 1, "name": 2}
    order = {label.value: i for i, label in enumerate(Label)}
    ranked = sorted(hits.values(), key=lambda h: (rank[h.match], len(h.uid), order[h.label], h.uid))
    return ranked[:limit]


def _searched(store: Store, q: str, wanted: list[Label], limit: int) -> dict[NodeRef, SearchHit]:
    """Search in the database, where no index is current (a scan of every node)."""
    exact = fetch_properties(store, [NodeRef(label, q) for label in wanted])
    hits = {
        ref: SearchHit(label=ref.label.value, uid=ref.uid, name=name_of(ref.label, props), match="uid")
        for ref, props in exact.items()
    }
    rows = store.run(
        "node_search", q=q, upper=q.upper(), lowered=q.lower(), kinds=[k.value for k in wanted], limit=limit
    )
    for row in rows:
        ref = NodeRef(LABEL_BY_NAME[row["label"]], row["uid"])
        if ref not in hits:
            prefix = row["uid"].startswith((q, q.upper()))
            hits[ref] = SearchHit(
                label=row["label"], uid=row["uid"], name=row["name"], match="uid_prefix" if prefix else "name"
            )
    return hits
