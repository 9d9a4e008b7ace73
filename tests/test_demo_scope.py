"""The demo dairy's scopes, checked by hand against fixtures/demo and asserted exactly."""

from __future__ import annotations

import pytest

from lineage import InvalidRequest, NotFound, ScopeTooLarge
from lineage.graph.model import Label, NodeRef, RelType, to_epoch_ms
from lineage.graph.scope import Window, backward, forward, why
from lineage.graph.store import Store

L = Label
BAD_LOT = NodeRef(L.MATERIAL_LOT, "L-4471")


def test_forward_scope_of_the_bad_lot_is_exactly_the_hand_checked_one(demo_store: Store) -> None:
    scope = forward(demo_store, BAD_LOT)
    assert scope.uids_by_label() == {
        # B-1001 took 200 kg of L-4471; B-2001 and B-2002 took B-1001; B-3001 reworked B-2001.
        "Batch": {"B-1001", "B-2001", "B-2002", "B-3001"},
        # SH-01 carries B-2001 (and unaffected B-2003); SH-02 re-ships B-2001; SH-04 B-2002; SH-05 B-3001.
        "Shipment": {"SH-01", "SH-02", "SH-04", "SH-05"},
        "Customer": {"C-DIST-NORTH", "C-RET-N1", "C-RET-S1", "C-RET-E1"},
        "Sale": {"SA-01", "SA-02", "SA-04"},
    }
    assert scope.customers_by_region() == {
        "East": ["C-RET-E1"],
        "North": ["C-DIST-NORTH", "C-RET-N1"],
        "South": ["C-RET-S1"],
    }
    assert scope.quantities() == {
        "consumed_from_source": {"kg": 200.0},
        "shipped": {"cups": 600.0 + 400.0 + 100.0},  # SH-01, SH-04, SH-05 from the plant
        "reshipped": {"cups": 300.0},  # SH-02: part of what C-DIST-NORTH received in SH-01
        "sold": {"cups": 12.0 + 30.0 + 5.0},
    }
    depths = {n.uid: n.depth for n in scope.nodes}
    assert depths["L-4471"] == 0
    assert depths["B-1001"] == 1
    assert depths["B-3001"] == 3
    assert depths["C-RET-E1"] == 5  # lot, B-1001, B-2001, B-3001, SH-05, C-RET-E1


def test_distribution_is_batch_aware(demo_store: Store) -> None:
    """C-DIST-NORTH received B-2001 (affected) and B-2003 (not) and re-shipped B-2003 alone to
    C-RET-N2: that customer, its shipment and its sale stay out of the scope."""
    scope = forward(demo_store, BAD_LOT)
    assert "C-RET-N2" not in scope.uids(L.CUSTOMER)
    assert "SH-03" not in scope.uids(L.SHIPMENT)
    assert "SA-03" not in scope.uids(L.SALE)
    dispatched = [e for e in scope.edges if e.type == RelType.DISPATCHED]
    assert [(e.source.uid, e.target.uid) for e in dispatched] == [("C-DIST-NORTH", "SH-02")]
    # The unaffected batch's scope is the mirror image: C-RET-N2 and C-RET-W1, not C-RET-N1.
    other = forward(demo_store, NodeRef(L.BATCH, "B-2003"))
    assert other.uids(L.CUSTOMER) == {"C-DIST-NORTH", "C-RET-N2", "C-RET-W1"}


def test_backward_trace_of_the_complaint(demo_store: Store) -> None:
    scope = backward(demo_store, NodeRef(L.COMPLAINT, "CP-01"))
    assert scope.uids_by_label() == {
        "Sale": {"SA-01"},
        "Batch": {"B-2001", "B-1001"},
        "MaterialLot": {"L-4471", "L-5100", "L-6200", "L-7300"},
        "Supplier": {"SUP-MILKCO", "SUP-SUGAR", "SUP-CULTURE", "SUP-PACK"},
        "Machine": {"M-FILL3", "M-MIX1"},
        "Operator": {"OP-ANNA"},
        "Inspection": {"I-01", "I-02", "I-03"},
    }
    windows = {
        (e.source.uid, e.target.uid): (e.start, e.end) for e in scope.edges if e.type == RelType.RAN_ON
    }
    assert windows[("B-2001", "M-FILL3")] == (
        to_epoch_ms("2026-03-02T10:00:00Z"),
        to_epoch_ms("2026-03-02T14:00:00Z"),
    )


@pytest.mark.parametrize(
    ("source", "expected_batches"),
    [
        (NodeRef(L.SALE, "SA-03"), {"B-2003", "B-1002"}),
        (NodeRef(L.SHIPMENT, "SH-01"), {"B-2001", "B-2003", "B-1001", "B-1002"}),
        (NodeRef(L.CUSTOMER, "C-RET-E1"), {"B-3001", "B-2001", "B-1001"}),
        (NodeRef(L.BATCH, "B-2002"), {"B-1001", "B-1002"}),
        (NodeRef(L.COMPLAINT, "CP-02"), {"B-2003", "B-1002"}),
    ],
)
def test_backward_trace_from_each_kind(
    demo_store: Store, source: NodeRef, expected_batches: set[str]
) -> None:
    assert backward(demo_store, source).uids(L.BATCH) == expected_batches


def test_machine_window_scopes_only_batches_that_ran_in_it(demo_store: Store) -> None:
    window = Window(start=to_epoch_ms("2026-03-02T11:00:00Z"), end=to_epoch_ms("2026-03-02T12:00:00Z"))
    scope = forward(demo_store, NodeRef(L.MACHINE, "M-FILL3"), window)
    assert scope.uids(L.BATCH) == {"B-2001", "B-3001"}
    assert scope.uids(L.CUSTOMER) == {"C-DIST-NORTH", "C-RET-N1", "C-RET-E1"}
    # A window that ends when the run starts does not overlap it.
    early = Window(start=to_epoch_ms("2026-03-02T08:00:00Z"), end=to_epoch_ms("2026-03-02T10:00:00Z"))
    assert forward(demo_store, NodeRef(L.MACHINE, "M-FILL3"), early).uids(L.BATCH) == set()
    everything = forward(demo_store, NodeRef(L.MACHINE, "M-FILL3"))
    assert everything.uids(L.BATCH) == {"B-2001", "B-2002", "B-2003", "B-3001"}


def test_operator_shift_scope(demo_store: Store) -> None:
    window = Window(start=to_epoch_ms("2026-03-02T14:00:00Z"), end=to_epoch_ms("2026-03-03T00:00:00Z"))
    scope = forward(demo_store, NodeRef(L.OPERATOR, "OP-BEN"), window)
    assert scope.uids(L.BATCH) == {"B-1002", "B-2002", "B-2003"}
    assert scope.uids(L.CUSTOMER) == {"C-RET-S1", "C-DIST-NORTH", "C-RET-N2", "C-RET-W1"}


def test_supplier_scope_covers_all_its_lots(demo_store: Store) -> None:
    scope = forward(demo_store, NodeRef(L.SUPPLIER, "SUP-MILKCO"))
    assert scope.uids(L.MATERIAL_LOT) == {"L-4471", "L-4472"}
    assert scope.uids(L.BATCH) == {"B-1001", "B-1002", "B-2001", "B-2002", "B-2003", "B-3001"}
    assert len(scope.uids(L.CUSTOMER)) == 6


def test_why_explains_with_a_shortest_path(demo_store: Store) -> None:
    path = why(demo_store, BAD_LOT, NodeRef(L.CUSTOMER, "C-RET-E1"))
    assert [n.uid for n in path.nodes] == ["L-4471", "B-1001", "B-2001", "B-3001", "SH-05", "C-RET-E1"]
    assert [e.type for e in path.edges] == [
        RelType.CONSUMED_BY,
        RelType.CONSUMED_BY,
        RelType.CONSUMED_BY,
        RelType.SHIPPED_IN,
        RelType.DELIVERED_TO,
    ]
    assert path.edges[0].quantity == 200.0
    upstream = why(demo_store, NodeRef(L.COMPLAINT, "CP-01"), NodeRef(L.SUPPLIER, "SUP-MILKCO"))
    assert [n.uid for n in upstream.nodes] == ["CP-01", "SA-01", "B-2001", "B-1001", "L-4471", "SUP-MILKCO"]
    machine = why(demo_store, NodeRef(L.MACHINE, "M-MIX1"), NodeRef(L.SALE, "SA-02"))
    assert [n.uid for n in machine.nodes] == ["M-MIX1", "B-1001", "B-2002", "SA-02"]


def test_why_refuses_a_node_outside_the_scope(demo_store: Store) -> None:
    with pytest.raises(
        InvalidRequest, match=r"Customer:C-RET-N2 is not in the forward scope nor the backward"
    ):
        why(demo_store, BAD_LOT, NodeRef(L.CUSTOMER, "C-RET-N2"))


def test_unknown_source_is_named(demo_store: Store) -> None:
    with pytest.raises(NotFound, match=r"no MaterialLot with uid 'L-0000'"):
        forward(demo_store, NodeRef(L.MATERIAL_LOT, "L-0000"))


def test_wrong_kinds_are_refused_with_the_alternative(demo_store: Store) -> None:
    with pytest.raises(InvalidRequest, match=r"use a backward trace for a Customer"):
        forward(demo_store, NodeRef(L.CUSTOMER, "C-RET-N1"))
    with pytest.raises(InvalidRequest, match=r"use a forward scope for a Supplier"):
        backward(demo_store, NodeRef(L.SUPPLIER, "SUP-MILKCO"))
    with pytest.raises(InvalidRequest, match=r"time window applies to Machine and Operator"):
        forward(demo_store, BAD_LOT, Window(start=0, end=1))


def test_scope_limits_end_in_a_clear_error(demo_store: Store) -> None:
    with pytest.raises(
        ScopeTooLarge,
        match=rf"forward scope of {BAD_LOT} passed its limit of 3 nodes.*LINEAGE_SCOPE_MAX_NODES",
    ) as caught:
        forward(demo_store, BAD_LOT, max_nodes=3)
    assert caught.value.limit == "max_nodes"
    with pytest.raises(
        ScopeTooLarge, match=rf"forward scope of {BAD_LOT} passed its time limit of 1e-09 s"
    ) as caught:
        forward(demo_store, BAD_LOT, timeout_s=1e-9)
    assert caught.value.limit == "timeout"
