"""Arrays on huge pages, where the platform has them: a walk touches a few entries of many arrays
out of the processor's caches, and on 4 KB pages each touch may also walk the page table."""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

#: The size of a huge page (x86-64's and arm64's usual one), and the smallest array worth placing on
#: them (each is rounded up to whole huge pages: at most 2 MB more an array, for a dozen arrays).
HUGE_PAGE = 2 << 20
_HUGE_ENOUGH = HUGE_PAGE // 4


def huge_zeros(count: int, dtype: Any) -> np.ndarray:
    """``count`` zeros of ``dtype`` in memory of their own that the kernel is asked to back with huge
    pages (where it can: Linux with transparent huge pages, else ordinary pages).

    A walk touches a few entries of each of several arrays per node, out of the processor's caches
    whenever other work ran since the last scope, and each touch of a 4 KB page the TLB no longer
    holds costs a walk of the page table too. numpy asks for huge pages itself for its own
    allocations of 4 MB and more, but only where the pages are new: memory malloc hands out again
    keeps its small pages, and smaller arrays (a mask, the pointers) get none. On huge pages a walk
    out of cache takes a few percent less (bench/RESULTS.md)."""
    nbytes = count * np.dtype(dtype).itemsize
    if not nbytes or nbytes < _HUGE_ENOUGH or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.zeros(count, dtype)
    # Private: shared anonymous memory is the kernel's shmem, whose huge pages are configured apart.
    size, private = -(-nbytes // HUGE_PAGE) * HUGE_PAGE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    memory = mmap.mmap(-1, size, flags=private)  # zeros, page-aligned
    memory.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(memory, dtype, count)  # writable, and keeps the mapping alive


def on_huge_pages(array: np.ndarray) -> np.ndarray:
    """``array`` copied into :func:`huge_zeros` memory (itself when too small to be worth it)."""
    if array.nbytes < _HUGE_ENOUGH:
        return array
    out = huge_zeros(array.size, array.dtype)
    out[...] = array
    return out
