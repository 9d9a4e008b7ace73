"""The compiled steps of a walk give what the numpy expressions they replaced give."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lineage import kernels
from lineage.model import Label, RelType

ids = st.lists(st.integers(0, 40), max_size=30).map(lambda v: np.array(v, dtype=np.int64))


@given(ids=ids, marked=st.lists(st.integers(0, 40), max_size=20))
def test_fresh_marks_and_returns_the_new_ids_sorted_once(ids: np.ndarray, marked: list[int]) -> None:
    mask = np.zeros(41, dtype=bool)
    mask[marked] = True
    before = mask.copy()
    got = kernels.fresh(mask, ids)
    assert got.tolist() == sorted(set(ids.tolist()) - set(marked))
    assert np.flatnonzero(mask).tolist() == sorted(set(ids.tolist()) | set(marked))
    at = np.arange(ids.size)[::-1].copy()
    met = kernels.marked(before, ids, at).tolist()
    assert met == [i for i in dict.fromkeys(ids[at].tolist()) if i not in marked]  # in the order met


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
    code = "import sys, lineage.cli, lineage.scope, api.main; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
