"""A scope drawn for a report, without a browser: ``lineage render`` writes SVG or PNG.

The picture follows the investigation view's conventions (``lineage/ui``): one colour and shape per
kind from ``kinds.json``, the source ringed in red, columns by distance from the source, quantities
on the relationships. Past :data:`CLUSTER_ABOVE` nodes, customers are grouped by region, shipments
by the region they were delivered to and sales by the region of the customer who sold them, one
marker per group with its count, so a scope of thousands stays readable.
"""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx

from lineage.graph.model import Label, NodeRef, RelType
from lineage.graph.scope import Scope

CLUSTER_ABOVE = 300  # the view groups above this many nodes too (lineage/ui/app.js)
LABELLED_UP_TO = 120  # names and quantities are written on pictures up to this many nodes
KINDS: dict[str, dict[str, str]] = json.loads(
    resources.files("lineage").joinpath("ui", "kinds.json").read_text(encoding="utf-8")
)


def _regions(scope: Scope) -> dict[NodeRef, str]:
    """The region each customer, shipment and sale belongs to, for grouping."""
    region = {
        n.ref: str(n.properties.get("region") or "unknown") for n in scope.nodes if n.label == Label.CUSTOMER
    }
    found = dict(region)
    for e in scope.edges:
        if e.type == RelType.DELIVERED_TO:
            found[e.source] = region.get(e.target, "unknown")
        elif e.type == RelType.SOLD:
            found[e.target] = region.get(e.source, "unknown")
    return found


def picture(scope: Scope) -> nx.DiGraph:
    """The graph to draw: the scope's nodes, grouped when there are many, each with its kind, text,
    column (depth) and count; relationships merged between groups, quantities added per unit."""
    cluster = len(scope.nodes) > CLUSTER_ABOVE
    regions = _regions(scope) if cluster else {}
    grouped = (Label.CUSTOMER, Label.SHIPMENT, Label.SALE)
    graph = nx.DiGraph()
    where: dict[NodeRef, str] = {}
    for n in scope.nodes:
        if cluster and n.label in grouped and n.ref != scope.source:
            key = f"{n.label.value} group: {regions.get(n.ref, 'unknown')}"
            if key not in graph:
                graph.add_node(key, kind=n.label.value, depth=n.depth, count=0, source=False)
            attrs = graph.nodes[key]
            attrs["count"] += 1
            attrs["depth"] = min(attrs["depth"], n.depth) if n.depth >= 0 else attrs["depth"]
            attrs["text"] = (
                f"{attrs['count']} {KINDS[n.label.value]['title']}, {regions.get(n.ref, 'unknown')}"
            )
        else:
            key = f"{n.label.value}:{n.uid}"
            name = n.properties.get("name")
            text = f"{n.uid}\n{name}" if name and name != n.uid else n.uid
            graph.add_node(
                key, kind=n.label.value, depth=n.depth, count=1, text=text, source=n.ref == scope.source
            )
        where[n.ref] = key
    amounts: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for e in scope.edges:
        a, b = where.get(e.source), where.get(e.target)
        if a is None or b is None or a == b:
            continue
        graph.add_edge(a, b, type=e.type.value)
        if e.quantity is not None:
            amounts[(a, b)][e.unit or ""] += e.quantity
    for (a, b), by_unit in amounts.items():
        graph.edges[a, b]["text"] = ", ".join(f"{q:g} {u}".strip() for u, q in sorted(by_unit.items()))
    return graph


def layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Columns by depth (nodes no path reaches in a last column), each column ordered by kind and
    text and centred on the source's row."""
    columns: dict[int, list[str]] = defaultdict(list)
    last = max((d for _, d in graph.nodes(data="depth")), default=0) + 1
    for node, depth in graph.nodes(data="depth"):
        columns[depth if depth >= 0 else last].append(node)
    order = {kind: i for i, kind in enumerate(KINDS)}
    positions = {}
    for depth, members in columns.items():
        members.sort(key=lambda n: (order[graph.nodes[n]["kind"]], graph.nodes[n]["text"]))
        for i, node in enumerate(members):
            positions[node] = (float(depth), (len(members) - 1) / 2 - i)
    return positions


def render(scope: Scope, out: Path) -> Path:
    """Draw ``scope`` into ``out`` (.svg or .png, chosen by its suffix)."""
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise ValueError(f"{out}: the picture is written as .svg or .png, not {suffix or 'no suffix'}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    graph = picture(scope)
    positions = layout(graph)
    columns = len({x for x, _ in positions.values()})
    rows = max(sum(1 for x, _ in positions.values() if x == c) for c in {x for x, _ in positions.values()})
    labelled = graph.number_of_nodes() <= LABELLED_UP_TO
    figure, axes = plt.subplots(figsize=(min(40, 2.6 * columns + 3), min(60, 0.45 * rows + 3)))
    draw: dict[str, Any] = {"ax": axes, "arrows": True, "arrowsize": 8, "edge_color": "#9a9a9a", "width": 0.8}
    nx.draw_networkx_edges(graph, positions, node_size=260, **draw)
    for kind, style in KINDS.items():
        members = [n for n, k in graph.nodes(data="kind") if k == kind]
        if not members:
            continue
        sizes = [160 + 40 * min(graph.nodes[n]["count"], 20) ** 0.5 * 3 for n in members]
        nx.draw_networkx_nodes(
            graph,
            positions,
            nodelist=members,
            node_color=style["color"],
            node_shape=style["marker"],
            node_size=sizes,
            ax=axes,
            edgecolors=["#d40000" if graph.nodes[n]["source"] else "white" for n in members],
            linewidths=[3 if graph.nodes[n]["source"] else 0.8 for n in members],
        )
    if labelled or graph.number_of_nodes() <= 2 * LABELLED_UP_TO:
        texts = {n: t for n, t in graph.nodes(data="text")}
        nx.draw_networkx_labels(
            graph, {n: (x, y - 0.32) for n, (x, y) in positions.items()}, texts, font_size=7, ax=axes
        )
    if labelled:
        edge_texts = {(a, b): t for a, b, t in graph.edges(data="text") if t}
        nx.draw_networkx_edge_labels(graph, positions, edge_texts, font_size=6, ax=axes, rotate=False)
    present = [k for k in KINDS if any(kind == k for _, kind in graph.nodes(data="kind"))]
    axes.legend(
        handles=[
            Line2D(
                [],
                [],
                marker=KINDS[k]["marker"],
                color="w",
                markerfacecolor=KINDS[k]["color"],
                markersize=9,
                label=k,
            )
            for k in present
        ],
        loc="upper left",
        fontsize=8,
        frameon=False,
    )
    what = "Forward scope" if scope.direction == "forward" else "Backward trace"
    axes.set_title(f"{what} of {scope.source.label.value} {scope.source.uid}: {len(scope.nodes) - 1} nodes")
    axes.axis("off")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
