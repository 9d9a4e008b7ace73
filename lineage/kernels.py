"""A walk's steps compiled, so that a small scope costs what it touches, not what numpy calls cost.

A lot's forward scope on the 1M-node plant (about 130 nodes) made some 70 numpy calls over arrays of
one to a few dozen ids, each 1-5 us of dispatch and temporary arrays for a few nanoseconds of work:
the walk's steps were most of the scope's time. Each step here is one call into a compiled loop
(0.2-0.5 us to enter), which also touches each id once where the numpy version built a temporary
array per operation; on a supplier's 15,000 nodes the walk takes 2.4 ms instead of 6.

The loops release the GIL, so the API's threads scope in parallel. Compiled code is cached beside
this file (``__pycache__``): the first process on a new install compiles (about 3 s), later ones load
it (about 0.4 s); :func:`warm` does either when an index is made, so no request waits on it (and
the container image runs it once as it is built, where the server's user could not write the cache).
Importing numba takes 0.2-0.7 s, so :mod:`lineage.topology` loads this module with the first index.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def ranges(ptr: np.ndarray, base: int, nodes: np.ndarray) -> np.ndarray:
    """Positions ``ptr[n - base]`` up to ``ptr[n - base + 1]`` for every node ``n`` in ``nodes``, in
    turn: the relationships leaving ``nodes`` in a compressed sparse row index."""
    total = 0
    for n in nodes:
        total += ptr[n - base + 1] - ptr[n - base]
    out = np.empty(total, np.int64)
    k = 0
    for n in nodes:
        for p in range(ptr[n - base], ptr[n - base + 1]):
            out[k] = p
            k += 1
    return out


@njit(cache=True, nogil=True)
def ranges_in(ptr: np.ndarray, base: int, order: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """As :func:`ranges`, through ``order``: the relationships entering ``nodes``."""
    return order[ranges(ptr, base, nodes)]


@njit(cache=True, nogil=True)
def fresh(mask: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Mark ``ids`` in ``mask``; those not marked before, sorted, each once."""
    return fresh_at(mask, ids, np.arange(ids.size))


@njit(cache=True, nogil=True)
def fresh_at(mask: np.ndarray, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """As :func:`fresh` for ``ids[positions]``, without making that array first."""
    out = np.empty(positions.size, np.int64)
    k = 0
    for p in positions:
        i = ids[p]
        if not mask[i]:
            mask[i] = True
            out[k] = i
            k += 1
    out = out[:k]
    out.sort()
    return out


@njit(cache=True, nogil=True)
def distinct(ids: np.ndarray) -> np.ndarray:
    """``ids`` sorted, each once (a new array unless there are fewer than two)."""
    if ids.size < 2:
        return ids
    out = np.sort(ids)
    k = 1
    for i in range(1, out.size):
        if out[i] != out[k - 1]:
            out[k] = out[i]
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def within(ids: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The ids among ``ids`` from ``lo`` up to ``hi``, in their order."""
    out = np.empty(ids.size, np.int64)
    k = 0
    for i in ids:
        if lo <= i < hi:
            out[k] = i
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def unique_inverse(values: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` given ``order``, an argsort of ``values`` (numpy's
    own sort is the faster one for a large scope; the rest of ``np.unique`` is a dozen calls)."""
    ids = np.empty(values.size, np.int64)
    inverse = np.empty(values.size, np.int64)
    k = -1
    for j in order:
        v = values[j]
        if k < 0 or v != ids[k]:
            k += 1
            ids[k] = v
        inverse[j] = k
    return ids[: k + 1], inverse


def warm() -> None:
    """Compile every loop for the arrays an index holds (or load them from the cache), so that the
    first scope does not wait on it: pointers are 32-bit below 2**31 relationships, 64-bit above."""
    none = np.empty(0, np.int64)
    for width in (np.int32, np.int64):
        ranges(np.zeros(1, width), 0, none)
        ranges_in(np.zeros(1, width), 0, none, none)
    mask = np.zeros(1, dtype=bool)
    fresh(mask, none)
    fresh_at(mask, none, none)
    distinct(none)
    within(none, 0, 1)
    unique_inverse(none, none)
