"""Scopes from the engine equal scopes from an independent networkx reference, on generated graphs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ready
from hypothesis import given
from hypothesis import strategies as st
from reference import Reference
from strategies import HOUR, lineage_graphs

from lineage.errors import InvalidRequest
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import Scope, Window, backward, forward
from lineage.graph.store import Store
from lineage.loading.load import load


def load_records(store: Store, records: list[dict[str, Any]]) -> None:
    store.clear()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        load(store, [path])


def check_paths(scope: Scope, again: Scope, walk: str) -> None:
    """Every node's why-path starts at the source, ends at the node, is as long as its depth, and
    is made of the scope's own nodes and relationships: from the scope's objects, and from
    ``again``, the same scope asked again, whose arrays (after an index walk) make only the nodes
    and relationships of the path. A node asked for alone is the node the scope lists."""
    by_ref = {n.ref: n for n in scope.nodes}
    edges = set(map(repr, scope.edges))
    for n in scope.nodes:
        assert again.node(n.label, n.uid) == n
        for path in (scope.path_to(n.label, n.uid), again.path_to(n.label, n.uid)):
            assert path.nodes[0].ref == scope.source and path.nodes[-1] == n
            assert path.nodes == [by_ref[m.ref] for m in path.nodes]
            assert len(path.edges) == n.depth
            for a, b, edge in zip(path.nodes, path.nodes[1:], path.edges, strict=False):
                assert {edge.source, edge.target} == {a.ref, b.ref} and repr(edge) in edges
    if walk == "index" and scope.edges:  # paths and nodes were made without the whole scope's objects
        assert again.arrays is not None
    with pytest.raises(InvalidRequest, match=f"is not in the {scope.direction} scope"):
        again.path_to(Label.SUPPLIER, "nowhere")
    assert again.node(Label.SUPPLIER, "nowhere") is None


@given(records=lineage_graphs(), data=st.data())
def test_forward_scope_matches_the_reference(
    store: Store, walk: str, records: list[dict[str, Any]], data: st.DataObject
) -> None:
    load_records(store, records)
    ready(store, walk)
    reference = Reference(records)
    sources = [r for r in records if r["kind"] in ("MaterialLot", "Batch", "Supplier")]
    for r in data.draw(
        st.lists(st.sampled_from(sources), min_size=1, max_size=4, unique_by=lambda r: r["uid"])
    ):
        scope = forward(store, NodeRef(Label(r["kind"]), r["uid"]))
        assert scope.uids_by_label() == reference.forward(r["kind"], r["uid"]), r["uid"]
        check_paths(scope, forward(store, NodeRef(Label(r["kind"]), r["uid"])), walk)
    lo = data.draw(st.integers(0, 12)) * HOUR
    hi = lo + data.draw(st.integers(1, 6)) * HOUR
    for machine in ("M0", "O0"):
        label = "Machine" if machine.startswith("M") else "Operator"
        scope = forward(store, NodeRef(Label(label), machine), Window(start=lo, end=hi))
        assert scope.uids_by_label().get("Batch", set()) == reference.forward(label, machine, (lo, hi)).get(
            "Batch", set()
        )


@given(records=lineage_graphs(), data=st.data())
def test_backward_trace_matches_the_reference(
    store: Store, walk: str, records: list[dict[str, Any]], data: st.DataObject
) -> None:
    load_records(store, records)
    ready(store, walk)
    reference = Reference(records)
    sources = [r for r in records if r["kind"] in ("Complaint", "Sale", "Customer", "Batch")]
    for r in data.draw(
        st.lists(st.sampled_from(sources), min_size=1, max_size=4, unique_by=lambda r: r["uid"])
    ):
        scope = backward(store, NodeRef(Label(r["kind"]), r["uid"]))
        expected = reference.backward(r["kind"], r["uid"])
        got = scope.uids_by_label()
        if r["kind"] == "Sale":
            got.pop("Sale", None)
        assert got == expected, r["uid"]
        check_paths(scope, backward(store, NodeRef(Label(r["kind"]), r["uid"])), walk)
