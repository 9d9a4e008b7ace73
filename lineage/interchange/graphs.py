"""A scope as a networkx graph, and in the formats graph tools read: GraphML (yEd, Gephi, Neo4j's
APOC import), GEXF (Gephi) and Cytoscape JSON (Cytoscape, the investigation view).

Nodes are keyed ``Label:uid`` (unique across kinds) and carry their kind, uid, depth and stored
properties; relationships carry their type and quantity, unit and run window where they have them.
GraphML and GEXF hold only scalars, so missing values are left out rather than written as empty.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any, Literal

import networkx as nx

from lineage.graph.model import NodeRef, readable
from lineage.graph.scope import Scope, ScopeEdge, ScopeNode

GraphFormat = Literal["graphml", "gexf", "cyjs"]
MEDIA_TYPES: dict[str, str] = {
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "cyjs": "application/json",
}


def key(ref: NodeRef) -> str:
    return f"{ref.label.value}:{ref.uid}"


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if isinstance(v, str | int | float | bool) and v == v}


def scope_graph(
    scope: Scope,
    nodes: Iterable[ScopeNode],
    edges: Iterable[ScopeEdge],
    properties: dict[NodeRef, dict[str, Any]],
) -> nx.DiGraph:
    """The given nodes of ``scope`` (with their properties) and the relationships among them, the
    source always included and marked."""
    # Named apart from the node attributes: GraphML keys them by name, and one name would clash.
    graph = nx.DiGraph(scope_direction=scope.direction, scope_source=key(scope.source))
    for node in nodes:
        props = _scalars(readable(properties.get(node.ref, {})))
        name = props.pop("name", None)
        graph.add_node(
            key(node.ref),
            kind=node.label.value,
            uid=node.uid,
            depth=node.depth,
            name=name or node.uid,
            source=node.ref == scope.source,
            **{f"p_{k}": v for k, v in props.items()},  # kept apart from the attributes above
        )
    for edge in edges:
        a, b = key(edge.source), key(edge.target)
        if a in graph and b in graph:
            times = readable({"start": edge.start, "end": edge.end})
            attrs = {"type": edge.type.value, "quantity": edge.quantity, "unit": edge.unit, **times}
            graph.add_edge(a, b, **_scalars(attrs))
    return graph


def serialize(graph: nx.DiGraph, fmt: GraphFormat) -> bytes:
    if fmt == "graphml":
        buffer = io.BytesIO()
        nx.write_graphml(graph, buffer, named_key_ids=True)
        return buffer.getvalue()
    if fmt == "gexf":
        buffer = io.BytesIO()
        nx.write_gexf(graph, buffer)
        return buffer.getvalue()
    data = nx.cytoscape_data(graph)
    for edge in data["elements"]["edges"]:  # Cytoscape wants an id on every element
        edge["data"]["id"] = f"{edge['data']['source']}->{edge['data']['target']}:{edge['data'].get('type')}"
    return json.dumps(data).encode()
