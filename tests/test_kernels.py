"""The compiled steps of a walk give what the numpy expressions they replaced give."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.graph import kernels
from lineage.graph.model import Label, RelType

ids = st.lists(st.integers(0, 40), max_size=30).map(lambda v: np.array(v, dtype=np.int64))


@given(
    ids=ids, marked=st.lists(st.integers(0, 40), max_size=20), other=st.lists(st.integers(0, 40), max_size=20)
)
def test_fresh_and_marked_mark_their_own_bit_and_return_the_new_ids(
    ids: np.ndarray, marked: list[int], other: list[int]
) -> None:
    """A walk's one mask holds two marks a node: ``fresh`` (batches visited) returns the ids not
    visited before, sorted, each once; ``marked`` (nodes reached) those not reached before, in the
    order met. Neither reads or changes the other's bit."""
    for mark, theirs, step in (
        (kernels.VISITED, kernels.REACHED, "fresh"),
        (kernels.REACHED, kernels.VISITED, "marked"),
    ):
        mask = np.zeros(41, dtype=np.uint8)
        mask[marked] |= mark
        mask[other] |= theirs
        at = np.arange(ids.size)[::-1].copy()
        if step == "fresh":
            assert kernels.fresh(mask, ids).tolist() == sorted(set(ids.tolist()) - set(marked))
        else:
            met = kernels.marked(mask, ids, at).tolist()
            assert met == [i for i in dict.fromkeys(ids[at].tolist()) if i not in marked]  # in the order met
        assert np.flatnonzero(mask & mark).tolist() == sorted(set(ids.tolist()) | set(marked))
        assert np.flatnonzero(mask & theirs).tolist() == sorted(set(other))


@given(ids=st.lists(st.integers(0, 40), max_size=30, unique=True).map(lambda v: np.array(v, dtype=np.int64)))
def test_unmarked_clears_both_marks_of_a_walks_nodes_and_sorts_them(ids: np.ndarray) -> None:
    mask = np.zeros(41, dtype=np.uint8)
    mask[ids] = kernels.REACHED | kernels.VISITED
    mask[40] |= kernels.REACHED if 40 not in ids else 0  # a node not given stays marked
    assert kernels.unmarked(mask, ids.copy()).tolist() == sorted(ids.tolist())
    assert np.flatnonzero(mask).tolist() == ([] if 40 in ids else [40])


@given(ids=ids)
def test_distinct_is_numpys_unique(ids: np.ndarray) -> None:
    assert kernels.distinct(ids).tolist() == np.unique(ids).tolist()


@given(ids=ids, others=ids)
def test_among_is_numpys_isin(ids: np.ndarray, others: np.ndarray) -> None:
    assert kernels.among(ids, np.unique(others)).tolist() == np.isin(ids, others).tolist()


@given(parts=st.lists(ids, min_size=1, max_size=4))  # the walk always joins at least one array
def test_joined_is_numpys_concatenate(parts: list[np.ndarray]) -> None:
    from numba.typed import List  # what a list is inside compiled code

    assert kernels.joined(List(parts)).tolist() == np.concatenate(parts).tolist()


def test_the_compiled_walk_numbers_types_and_kinds_as_the_model_does() -> None:
    """Numba keeps the values it compiled with, so a reordered enum must fail here, not mislabel."""
    for code, rel in enumerate(RelType):
        if hasattr(kernels, rel.name):
            assert getattr(kernels, rel.name) == code, rel
    for code, label in enumerate(Label):
        assert getattr(kernels, label.name) == code, label


@given(ids=ids, lo=st.integers(0, 40), span=st.integers(0, 40))
def test_within_keeps_the_ids_in_range_in_order(ids: np.ndarray, lo: int, span: int) -> None:
    assert kernels.within(ids, lo, lo + span).tolist() == [i for i in ids.tolist() if lo <= i < lo + span]


@given(
    degrees=st.lists(st.integers(0, 4), min_size=1, max_size=12),
    base=st.integers(0, 5),
    data=st.data(),
)
def test_ranges_are_the_relationships_of_each_node_in_turn(
    degrees: list[int], base: int, data: st.DataObject
) -> None:
    ptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int32)
    nodes = data.draw(st.lists(st.integers(base, base + len(degrees) - 1), max_size=8))
    want = [p for n in nodes for p in range(ptr[n - base], ptr[n - base + 1])]
    got = kernels.ranges(ptr, base, np.array(nodes, dtype=np.int64))
    assert got.tolist() == want


def test_a_command_that_never_walks_does_not_import_numba() -> None:
    """Importing numba takes up to 0.7 s: the CLI, the API module and a scope's module load without it."""
    code = "import sys, lineage.cli, lineage.graph.scope, api.main; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


uid_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12)


@given(uids=st.lists(uid_text, min_size=1, max_size=30, unique=True), data=st.data())
def test_uids_are_named_from_their_bytes_end_to_end(uids: list[str], data: st.DataObject) -> None:
    """The index names nodes from every uid's UTF-8 end to end (any script, any length), each kind's
    ids followed by room for nodes written later; a uid holding a NUL, which loading refuses, is
    refused there too rather than misnamed."""
    from lineage.graph.arrays import uid_bytes
    from lineage.graph.layout import LABELS

    half = len(uids) // 2
    by_kind = {label: {} for label in Label}
    by_kind[Label.BATCH] = {uid: i for i, uid in enumerate(uids[:half])}
    by_kind[Label.CUSTOMER] = {uid: i for i, uid in enumerate(uids[half:])}
    room = [len(by_kind[label]) + 3 for label in LABELS]
    offsets = np.cumsum([0, *room])
    names, starts, ends, used = uid_bytes(by_kind, offsets)
    assert used == sum(len(u.encode()) + 1 for u in uids) and names.size > used
    named = {
        int(offsets[LABELS.index(label)]) + i: uid for label in LABELS for uid, i in by_kind[label].items()
    }
    ids = data.draw(st.lists(st.sampled_from(sorted(named)), min_size=1, max_size=40))
    got = kernels.named(names, starts, ends, np.array(ids, dtype=np.int64)).tobytes().decode().split("\0")
    assert got == [named[i] for i in ids]
    with pytest.raises(ValueError, match="NUL"):
        uid_bytes({**by_kind, Label.SUPPLIER: {"bad\0uid": 0}}, offsets)
