"""Building the topology index: the whole lineage read out of the database into arrays.

The relationships come first, every type's endpoint pairs in parallel columns; they number the nodes,
whose properties follow. :func:`build` makes the :class:`~lineage.graph.topology.Topology` that
:mod:`.live` keeps current from then on.
"""

from __future__ import annotations

import marshal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from lineage.graph.arrays import SPARE_SHARE, Relation, Span, spare
from lineage.graph.catalog import Catalog, name_of
from lineage.graph.gcpause import gc_paused
from lineage.graph.layout import LABELS
from lineage.graph.model import REL_ENDPOINTS, Label, RelType
from lineage.graph.source import Source
from lineage.graph.topology import Topology, properties_query_name, topology_query_name


def build(store: Source, share: int = SPARE_SHARE) -> Topology:
    """Read the whole lineage out of the database; the revision first, so a write that lands while
    this runs makes the index stale at once rather than silently incomplete. A ``share``-th of what
    it reads is kept as room for later writes (:func:`~lineage.graph.arrays.spare`).

    Two queries are in flight at a time, so the engine serializes one reply while this process
    decodes the other (the engine's share of a build is about half). The relationships
    come first: they number the nodes whose properties follow."""
    started = time.perf_counter()
    revision = store.revision()
    names: dict[Label, dict[str, int]] = {label: {} for label in LABELS}
    units: dict[str, int] = {}
    parts: dict[RelType, list[tuple[Label, Label, dict[str, np.ndarray]]]] = {}
    variants = [(rel, src, dst) for rel, pairs in REL_ENDPOINTS.items() for src, dst in pairs]
    queries = [topology_query_name(*v) for v in variants] + [properties_query_name(lb) for lb in LABELS]
    with gc_paused(), ThreadPoolExecutor(max_workers=1) as pool:
        replies = _pipelined(store, pool, queries)
        for rel, src, dst in variants:
            rows = next(replies)
            parts.setdefault(rel, []).append((src, dst, _columns(rows, names[src], names[dst], units)))
            del rows
        room = [len(names[label]) + spare(len(names[label]), share) for label in LABELS]
        offsets = dict(zip(LABELS, np.cumsum([0, *room]).tolist(), strict=False))
        packed: list[bytes | None] = [None] * sum(room)
        listed: dict[Label, list[tuple[str, str | None]]] = {}
        for label in LABELS:
            listed[label] = _pack(next(replies), label, names[label], offsets[label], packed)
    spans = {label: (offsets[label], offsets[label] + size) for label, size in zip(LABELS, room, strict=True)}
    relations = {rel: _relation(rel, parts.pop(rel), spans, share) for rel in list(parts)}  # each let go
    catalog = Catalog(listed)
    elapsed = time.perf_counter() - started
    return Topology(revision, names, room, relations, list(units), elapsed, tuple(packed), catalog, share)


def _pipelined(store: Source, pool: ThreadPoolExecutor, names: list[str]) -> Iterator[list[dict[str, Any]]]:
    """Each query's rows in turn, the next one already running while the caller decodes these."""
    ahead = pool.submit(store.run, names[0])
    for i in range(len(names)):
        rows = ahead.result()
        if i + 1 < len(names):
            ahead = pool.submit(store.run, names[i + 1])
        yield rows


def _pack(
    rows: list[dict[str, Any]], label: Label, ids: dict[str, int], offset: int, packed: list[bytes | None]
) -> list[tuple[str, str | None]]:
    """Each node's properties (its uid aside) packed at its id; nodes without a relationship are not
    in the index and are skipped. Returns every node's uid and name, for the catalog."""
    listed = []
    for row in rows:
        props = row["props"]
        listed.append((row["uid"], name_of(label, props)))
        local = ids.get(row["uid"])
        if local is not None:
            props.pop("uid", None)
            packed[offset + local] = marshal.dumps(props)
    return listed


def _columns(
    rows: list[dict[str, Any]], a: dict[str, int], b: dict[str, int], units: dict[str, int]
) -> dict[str, np.ndarray]:
    """One query's rows as arrays: ends numbered in order of first sight, a missing value as NaN."""
    n = len(rows)
    first = rows[0] if rows else {}
    nothing = np.full(n, np.nan)
    return {
        "src": np.fromiter((a.setdefault(r["src"], len(a)) for r in rows), np.int64, n),
        "dst": np.fromiter((b.setdefault(r["dst"], len(b)) for r in rows), np.int64, n),
        "quantity": _floats(r["quantity"] for r in rows) if "quantity" in first else nothing,
        "unit": np.fromiter(
            (-1 if r["unit"] is None else units.setdefault(r["unit"], len(units)) for r in rows), np.int32, n
        )
        if "unit" in first
        else np.full(n, -1, dtype=np.int32),
        "start": _floats(r["start"] for r in rows) if "start" in first else nothing,
        "end": _floats(r["end"] for r in rows) if "end" in first else nothing,
    }


def _floats(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _relation(
    rel: RelType,
    pieces: list[tuple[Label, Label, dict[str, np.ndarray]]],
    spans: dict[Label, Span],
    share: int,
) -> Relation:
    cols: dict[str, np.ndarray] = {}
    for name in ("src", "dst", "quantity", "unit", "start", "end"):
        arrays = []
        for src, dst, columns in pieces:
            shift = spans[src][0] if name == "src" else spans[dst][0] if name == "dst" else 0
            arrays.append(columns[name] + shift if shift else columns[name])
        cols[name] = np.concatenate(arrays)
    order = np.argsort(cols["src"], kind="stable")
    count = order.size
    cols = {name: _padded(values[order], count, share) for name, values in cols.items()}
    by_dst = _padded(np.argsort(cols["dst"][:count], kind="stable"), count, share)
    src_kinds = {src for src, _ in REL_ENDPOINTS[rel]}
    dst_kinds = {dst for _, dst in REL_ENDPOINTS[rel]}
    out_base, out_ptr = _pointers(cols["src"][:count], [spans[label] for label in src_kinds])
    in_base, in_ptr = _pointers(cols["dst"][:count], [spans[label] for label in dst_kinds])
    return Relation(
        rel, count, by_dst=by_dst, out_base=out_base, out_ptr=out_ptr, in_base=in_base, in_ptr=in_ptr, **cols
    )


def _padded(values: np.ndarray, count: int, share: int) -> np.ndarray:
    """``values`` (``count`` of them) with room after them for relationships written later: no
    value (NaN) for floats, no unit (-1), node 0 for ends (never read: no list leads there)."""
    none = np.nan if values.dtype.kind == "f" else -1 if values.dtype == np.int32 else 0
    return np.concatenate([values, np.full(spare(count, share), none, values.dtype)])


def _pointers(ends: np.ndarray, spans: list[Span]) -> tuple[int, np.ndarray]:
    """The first id of the kinds ``spans`` cover, and where each id's relationships begin in
    ``ends`` sorted (and where the last one's end)."""
    base, top = min(lo for lo, _ in spans), max(hi for _, hi in spans)
    pointers = np.zeros(top - base + 1, dtype=np.int32 if ends.size < 2**31 else np.int64)  # half the bytes
    pointers[1:] = np.cumsum(np.bincount(ends - base, minlength=top - base))
    return base, pointers
