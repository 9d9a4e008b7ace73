"""The topology index's arrays made from what a build read: each type's relationships
(:class:`Relation`), the uids' bytes, and the relations joined end to end into one
:class:`~lineage.graph.layout.Index` with room kept for what is written later."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from lineage.graph.hugepages import huge_zeros, on_huge_pages
from lineage.graph.layout import LABELS, REL_CODE, Index
from lineage.graph.model import Label, RelType

#: The room a build keeps past each kind's ids and each type's positions, for what is written later:
#: an eighth of what it read, and at least this many.
SPARE_SHARE, SPARE_LEAST = 8, 1024
#: ... and at least this many bytes for the uids of the nodes written later.
NAMES_LEAST = 64 << 10
Span = tuple[int, int]  # the ids of one kind: from the first up to (not including) the last


def spare(count: int, share: int = SPARE_SHARE) -> int:
    """The room kept past ``count`` ids of a kind, or positions of a type: a ``share``-th of them."""
    return max(SPARE_LEAST, count // share)


@dataclass(frozen=True, slots=True)
class Relation:
    """Every relationship of one type, sorted by its start node; ``by_dst`` orders them by end node.

    ``out_ptr`` and ``in_ptr`` say where each node's relationships are, as a compressed sparse row
    index does: those leaving node ``out_base + i`` are at positions ``out_ptr[i]`` up to
    ``out_ptr[i + 1]``, those entering ``in_base + i`` at ``by_dst[in_ptr[i]:in_ptr[i + 1]]``. Each
    covers only the ids of the kinds the type joins (ids are numbered kind by kind), so it is smaller
    than the sorted end nodes it replaces, and finding a node's relationships costs two cache misses
    where a sorted search over a million relationships costs a dozen.

    Times and quantities are floats with NaN for a missing value, which compares false in a window
    test exactly as Cypher's null does. Epoch milliseconds are exact in a double until the year 287,396.
    """

    type: RelType
    count: int  # how many the build read; the arrays run on past them (see Index)
    src: np.ndarray
    dst: np.ndarray
    by_dst: np.ndarray
    out_base: int
    out_ptr: np.ndarray
    in_base: int
    in_ptr: np.ndarray
    quantity: np.ndarray
    unit: np.ndarray  # index into Topology.units, -1 for none
    start: np.ndarray
    end: np.ndarray


def degrees(index: Index, used: list[int], size: int) -> np.ndarray:
    """How many relationships each node has, from the build's positions of each type."""
    at = index.at.tolist()
    taken = np.concatenate([np.arange(at[code], used[code]) for code in range(len(used))])
    ends = np.concatenate([index.src[taken], index.dst[taken]])
    return np.bincount(ends, minlength=size).astype(np.int32)


def uid_bytes(
    ids: dict[Label, dict[str, int]], offsets: np.ndarray, share: int = SPARE_SHARE
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Every uid's UTF-8, kind by kind in id order, each ended by a NUL, with room for the uids of
    nodes written later; where each id's uid starts and ends in it; and how many bytes are used."""
    total = int(offsets[-1])
    starts, ends = np.zeros(total, np.int64), np.zeros(total, np.int64)
    parts, used = [], 0
    for code, label in enumerate(LABELS):
        if not ids[label]:
            continue
        data = ("\0".join(ids[label]) + "\0").encode()
        nuls = np.flatnonzero(np.frombuffer(data, np.uint8) == 0)
        if nuls.size != len(ids[label]):  # loading refuses such a uid; a graph written by hand might hold one
            raise ValueError("a uid in the graph holds a NUL character, which lineage's index cannot name")
        lo = int(offsets[code])
        ends[lo : lo + nuls.size] = nuls + used
        starts[lo : lo + nuls.size] = np.concatenate([[0], nuls[:-1] + 1]) + used
        parts.append(data)
        used += len(data)
    names = huge_zeros(used + max(NAMES_LEAST, used // share), np.uint8)
    names[:used] = np.frombuffer(b"".join(parts), np.uint8)
    return names, on_huge_pages(starts), on_huge_pages(ends), used


def joined(
    relations: dict[RelType, Relation],
    offsets: np.ndarray,
    names: np.ndarray,
    name_starts: np.ndarray,
    name_ends: np.ndarray,
) -> Index:
    """The relations' arrays end to end (:class:`Index`); each relation in ``relations`` is replaced
    by one holding views of them. Joined a field at a time, each relation's own array let go as soon
    as its view replaces it, so a build holds one field twice at most, not the whole index (130 MB
    more at the peak on the 1M plant, when every field was joined before any was let go)."""
    ordered = [relations[rel] for rel in REL_CODE]
    at = np.cumsum([0] + [r.src.size for r in ordered]).astype(np.int64)
    out_at = np.cumsum([0] + [r.out_ptr.size for r in ordered[:-1]]).astype(np.int64)
    in_at = np.cumsum([0] + [r.in_ptr.size for r in ordered[:-1]]).astype(np.int64)
    out_base = np.array([r.out_base for r in ordered], np.int64)
    in_base = np.array([r.in_base for r in ordered], np.int64)
    width = np.int32 if at[-1] < 2**31 else np.int64
    del ordered
    joined = {}
    fields = {"src": at, "dst": at, "by_dst": at, "out_ptr": out_at, "in_ptr": in_at, "start": at, "end": at}
    for field, starts in fields.items():
        whole = np.concatenate([getattr(relations[rel], field) for rel in REL_CODE])
        whole = on_huge_pages(whole.astype(width, copy=False) if field.endswith("_ptr") else whole)
        for code, rel in enumerate(REL_CODE):
            lo, size = int(starts[code]), getattr(relations[rel], field).size
            relations[rel] = replace(relations[rel], **{field: whole[lo : lo + size]})
        joined[field] = whole
    alive = huge_zeros(int(at[-1]), np.uint8)
    for code, rel in enumerate(REL_CODE):
        alive[int(at[code]) : int(at[code]) + relations[rel].count] = 1
    size = int(offsets[-1])
    return Index(
        **joined,
        at=at,
        out_at=out_at,
        out_base=out_base,
        in_at=in_at,
        in_base=in_base,
        bounds=offsets,
        names=names,
        name_starts=name_starts,
        name_ends=name_ends,
        alive=alive,
        out_head=unlinked(size, width),
        out_next=unlinked(int(at[-1]), width),
        in_head=unlinked(size, width),
        in_next=unlinked(int(at[-1]), width),
        changes=np.zeros(2, np.int64),
    )


def unlinked(count: int, width: type) -> np.ndarray:
    """``count`` ends of list (-1), for the lists of relationships added later."""
    out = huge_zeros(count, width)
    out[...] = -1
    return out
