"""Forward scope, backward trace, and the path that explains why a node is in a scope.

A scope walks the in-memory topology index when the store has one that matches the graph
(:mod:`.walk`, compiled in :mod:`.kernels`), and the database in Cypher otherwise
(:mod:`.cypher_walk`); both give the same scope. Its parts are in :mod:`.scope_parts`, the result
and how it is built in :mod:`.scope_result`, an index walk's arrays in :mod:`.walked`. The names
callers use are all importable from here.

Distribution is batch-aware: a shipment is in the forward scope only if it carries a batch in scope,
so a distributor that received an affected batch and an unaffected one and re-shipped only the
unaffected one does not pull its onward customers in.
"""

from __future__ import annotations

from collections.abc import Iterable

from lineage.errors import InvalidRequest
from lineage.graph.cypher_walk import backward_in_cypher, forward_in_cypher
from lineage.graph.gcpause import gc_paused
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope_parts import (
    ALL_LABELS,
    BACKWARD_SOURCES,
    CHUNK,
    FORWARD_SOURCES,
    SUMMARY_LABELS,
    WINDOWED_SOURCES,
    Budget,
    Direction,
    ScopeEdge,
    ScopeNode,
    WhyPath,
    Window,
    oriented,
    ref_dict,
    window_between,
)
from lineage.graph.scope_result import Scope, assemble
from lineage.graph.store import Store
from lineage.graph.walk import backward as walk_backward
from lineage.graph.walk import forward as walk_forward
from lineage.graph.walked import fetch_properties


def _forward(
    store: Store,
    source: NodeRef,
    window: Window | None,
    max_nodes: int | None,
    timeout_s: float | None,
    properties: Iterable[Label],
) -> Scope:
    if source.label not in FORWARD_SOURCES:
        raise InvalidRequest(
            f"a forward scope starts from {', '.join(FORWARD_SOURCES)}, not {source.label.value}; "
            f"use a backward trace for a {source.label.value}"
        )
    if window is not None and source.label not in WINDOWED_SOURCES:
        raise InvalidRequest(
            f"a time window applies to Machine and Operator scopes, not to {source.label.value}"
        )
    budget = Budget(store, "forward scope", source, max_nodes, timeout_s)
    topology = store.topology.current()
    if topology is not None:
        span = (window.start, window.end) if window else None
        walk = walk_forward(topology, source, span, budget.check, budget.max_nodes)
        return assemble(walk, budget, source, "forward", window, properties)
    store.topology.fallbacks += 1
    with gc_paused():
        return forward_in_cypher(budget, source, window, properties)


def _backward(
    store: Store,
    source: NodeRef,
    max_nodes: int | None,
    timeout_s: float | None,
    properties: Iterable[Label],
) -> Scope:
    if source.label not in BACKWARD_SOURCES:
        raise InvalidRequest(
            f"a backward trace starts from {', '.join(BACKWARD_SOURCES)}, not {source.label.value}; "
            f"use a forward scope for a {source.label.value}"
        )
    budget = Budget(store, "backward trace", source, max_nodes, timeout_s)
    topology = store.topology.current()
    if topology is not None:
        walk = walk_backward(topology, source, budget.check, budget.max_nodes)
        return assemble(walk, budget, source, "backward", None, properties)
    store.topology.fallbacks += 1
    with gc_paused():
        return backward_in_cypher(budget, source, properties)


def forward(
    store: Store,
    source: NodeRef,
    window: Window | None = None,
    *,
    max_nodes: int | None = None,
    timeout_s: float | None = None,
    properties: Iterable[Label] = SUMMARY_LABELS,
) -> Scope:
    """Everything downstream of ``source``: batches, shipments, customers, sales, quantities.

    For a Machine or Operator the scope starts at the batches whose run overlaps ``window`` (all of
    them when no window is given). Stops with :class:`ScopeTooLarge` past ``max_nodes`` or
    ``timeout_s`` (defaults from settings).
    """
    return _forward(store, source, window, max_nodes, timeout_s, properties)


def backward(
    store: Store,
    source: NodeRef,
    *,
    max_nodes: int | None = None,
    timeout_s: float | None = None,
    properties: Iterable[Label] = SUMMARY_LABELS,
) -> Scope:
    """Everything upstream of ``source``: batches, lots, suppliers, machines, operators, inspections."""
    return _backward(store, source, max_nodes, timeout_s, properties)


def why(
    store: Store,
    source: NodeRef,
    target: NodeRef,
    window: Window | None = None,
    *,
    max_nodes: int | None = None,
    timeout_s: float | None = None,
) -> WhyPath:
    """The shortest explanation of ``target`` from ``source``: downstream first, then upstream."""
    tried: list[str] = []
    if source.label in FORWARD_SOURCES:
        scope = forward(store, source, window, max_nodes=max_nodes, timeout_s=timeout_s)
        if scope.node(target.label, target.uid) is not None:
            return scope.path_to(target.label, target.uid)
        tried.append("forward scope")
    if source.label in BACKWARD_SOURCES and window is None:
        scope = backward(store, source, max_nodes=max_nodes, timeout_s=timeout_s)
        if scope.node(target.label, target.uid) is not None:
            return scope.path_to(target.label, target.uid)
        tried.append("backward trace")
    raise InvalidRequest(f"{target} is not in the {' nor the '.join(tried)} of {source}")


__all__ = [
    "ALL_LABELS",
    "BACKWARD_SOURCES",
    "CHUNK",
    "FORWARD_SOURCES",
    "SUMMARY_LABELS",
    "WINDOWED_SOURCES",
    "Direction",
    "Scope",
    "ScopeEdge",
    "ScopeNode",
    "WhyPath",
    "Window",
    "backward",
    "fetch_properties",
    "forward",
    "oriented",
    "ref_dict",
    "why",
    "window_between",
]
