"""The lineage's shape held in memory, so that a scope walks arrays instead of querying per level.

A frontier expansion in Cypher pays a round trip and an index lookup per node at every level; on the
1M-node plant graph a supplier-wide scope (15,000 nodes) spent 220 ms in the engine that way, where a
walk over integer arrays takes a few milliseconds. The index keeps only what a walk needs: every
relationship as a pair of integer node ids, with the quantity, unit and times that a scope reports,
and every node's stored properties, each packed in one ``bytes`` object: a supplier's scope reads
5,000 of them in a few milliseconds where fetching them took 60 to 110 ms of parsing replies, and
neither a lot's affected summary nor a page of its scope needs a database call past the revision.
(Sales' properties were once left in the database, sales being a third of the nodes; every page
then waited on a lookup for its sales, half the time of the API's page route under load, to save
14 MB of packed bytes on the 1M-node plant, about twice that with Python's per-object overhead.)

The index is a cache of the database, never a second source of truth. It is read from the database
by the query files in ``cypher/topology/`` and stamped with the lineage's :data:`Revision`, read before
the first relationship. A scope asks for the revision again (:meth:`Store.revision`) and walks the
index only when it still matches; otherwise it walks the database in Cypher and the index is rebuilt
in the background. The revision is a random token that the store replaces after every statement whose
query file says it ``changes: lineage`` (and after a bulk load), so a load from another process is
seen by the next scope, never silently missed. On the embedded engine the server tells every process
when a token was replaced (:mod:`lineage.engines.falkor_watch`), so a scope reads the token from the
database only after that; on Neo4j every scope reads it (one lookup by key). Lineage's own records
(recalls, holds, follow-ups, the audit log, load records) change no token: a coordinator working a
recall does not send a million-node index to be rebuilt with every hold placed. A program that writes
the lineage of a shared Neo4j directly, not through lineage, must replace the token too
(``cypher/topology/revision_bump.cypher``).
"""

from __future__ import annotations

import importlib
import logging
import marshal
import mmap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from lineage.gcpause import gc_paused
from lineage.model import LABEL_SLUG, REL_ENDPOINTS, Label, NodeRef, RelType

if TYPE_CHECKING:
    from lineage.store import Store

log = logging.getLogger(__name__)

LABELS = tuple(Label)
#: Each kind's name as a plain string, in :data:`LABELS` order (``Label.value`` is a call into the enum).
KIND_NAMES = tuple(label.value for label in LABELS)
LABEL_CODE = {label: code for code, label in enumerate(LABELS)}
#: Each relationship type's position in an :class:`Index` (and in lineage.kernels' numbering).
REL_CODE = {rel: code for code, rel in enumerate(RelType)}
EMPTY = np.empty(0, dtype=np.int64)
#: Relationship types that carry a quantity and unit, and those that carry a start and end time;
#: the others carry neither (their topology queries say the same in their RETURN).
FLOW_TYPES = frozenset({RelType.CONSUMED_BY, RelType.SHIPPED_IN, RelType.SOLD_IN})
RUN_TYPES = frozenset({RelType.RAN_ON, RelType.HANDLED_BY})
#: After a failed build, scopes walk the database for this long before another build is tried.
RETRY_AFTER_S = 10.0
#: :mod:`lineage.kernels`, imported with the first index (:func:`_load_kernels`): importing numba takes
#: 0.2-0.7 s, which a command that never walks (a load, a recall, ``--help``) should not pay.
kernels: Any = None


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
    keeps its small pages, and smaller arrays (a 1 MB mask, the 5 MB pointers) get none. On the 1M
    plant, out of cache, the pointers, masks and uids on huge pages took 25 us (6%) off a customer's
    trace and 15-20 us (5%) off a lot's scope."""
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


def topology_query_name(rel: RelType, src: Label, dst: Label) -> str:
    return f"topology_rel_{rel.value.lower()}__{LABEL_SLUG[src]}__{LABEL_SLUG[dst]}"


#: The lineage's revision: the token of its last change, None in a graph lineage never wrote.
Revision = str | None


def properties_query_name(label: Label) -> str:
    return f"topology_props_{LABEL_SLUG[label]}"


class Marks:
    """A walk's mask over every node (:data:`lineage.kernels.REACHED` and ``VISITED`` bits), and the
    ids it marked that it has not unmarked itself, so that the mask can be given back unmarked even
    after a walk stopped half-way."""

    __slots__ = ("array", "marked")

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.marked: list[np.ndarray] = []

    def note(self, ids: np.ndarray) -> None:
        if ids.size:
            self.marked.append(ids)


class Index(NamedTuple):
    """Every relation's arrays end to end, in :data:`RelType` order, for the compiled walk
    (:mod:`lineage.kernels`): one argument where each relation's would be a dozen. Relationship
    ``p`` of type ``r`` (its position in its :class:`Relation`) is at ``at[r] + p`` in ``src``,
    ``dst``, ``start`` and ``end``; ``by_dst``, ``out_ptr`` and ``in_ptr`` hold positions within a
    relation, as the relation's own do, ``out_ptr``'s of type ``r`` from ``out_at[r]`` on (for ids
    from ``out_base[r]``). ``bounds`` are :attr:`Topology.offsets`; ``names`` and ``name_ends``
    :attr:`Topology.names` and ``name_ends``. Each :class:`Relation`'s arrays are views of these, so
    the index holds them once."""

    src: np.ndarray
    dst: np.ndarray
    by_dst: np.ndarray
    out_ptr: np.ndarray
    in_ptr: np.ndarray
    at: np.ndarray
    out_at: np.ndarray
    out_base: np.ndarray
    in_at: np.ndarray
    in_base: np.ndarray
    start: np.ndarray
    end: np.ndarray
    bounds: np.ndarray
    names: np.ndarray
    name_ends: np.ndarray

    @classmethod
    def empty(cls, width: type) -> Index:
        """An index of no relationship, with pointers ``width`` wide (the compiled walk's code
        differs by it): what :func:`lineage.kernels.warm` compiles against."""
        none, per_type = np.empty(0, np.int64), np.zeros(len(RelType), np.int64)
        return cls(
            src=none,
            dst=none,
            by_dst=none,
            out_ptr=np.zeros(1, width),
            in_ptr=np.zeros(1, width),
            at=np.zeros(len(RelType) + 1, np.int64),
            out_at=per_type,
            out_base=per_type,
            in_at=per_type,
            in_base=per_type,
            start=np.empty(0),
            end=np.empty(0),
            bounds=np.zeros(len(LABELS) + 1, np.int64),
            names=np.empty(0, np.uint8),
            name_ends=none,
        )


@dataclass(frozen=True, slots=True)
class Relation:
    """Every relationship of one type, sorted by its start node; ``by_dst`` orders them by end node.

    ``out_ptr`` and ``in_ptr`` say where each node's relationships are, as a compressed sparse row
    index does: those leaving node ``out_base + i`` are at positions ``out_ptr[i]`` up to
    ``out_ptr[i + 1]``, those entering ``in_base + i`` at ``by_dst[in_ptr[i]:in_ptr[i + 1]]``. Each
    covers only the ids of the kinds the type joins (ids are numbered kind by kind): 16 MB in all on
    the 1M-node plant, where the end nodes sorted, which they replace, took 21. A sorted search over
    a million relationships cost a dozen cache misses per node; this costs two, and a small scope's
    walk a third less.

    Times and quantities are floats with NaN for a missing value, which compares false in a window
    test exactly as Cypher's null does. Epoch milliseconds are exact in a double until the year 287,396.
    """

    type: RelType
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


class Topology:
    """Nodes are numbered label by label: label k holds ids ``offsets[k]`` up to ``offsets[k + 1]``.
    Only nodes with at least one relationship are here; a scope from any other is the node alone.

    The packed properties are a tuple of bytes, which the garbage collector stops tracking after
    one look; as a list, every collection of the oldest generation would walk it (80 ms each on the
    1M plant), stalling whichever scope it fell in. Uids are looked up by a dict per kind (uid to
    position in its kind, in order of position) and named from :attr:`names`, every uid's UTF-8
    end to end, each ended by a NUL (which no uid holds: see :data:`lineage.model.UID_PATTERN`)."""

    def __init__(
        self,
        revision: Revision,
        ids: dict[Label, dict[str, int]],
        relations: dict[RelType, Relation],
        units: list[str],
        built_s: float,
        packed: tuple[bytes | None, ...],
    ) -> None:
        self.revision = revision
        self.units = units
        self.packed = packed
        self.built_s = built_s
        sizes = [len(ids[label]) for label in LABELS]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.size = int(self.offsets[-1])
        self.names, self.name_ends = _names(ids, self.size)
        self.index = _indexed(relations, self.offsets, self.names, self.name_ends)
        self.relations = relations
        #: The index's arrays as a plain tuple, as the compiled walk takes them (see lineage.kernels).
        self.arrays = tuple(self.index)
        self._bounds = self.offsets.tolist()  # the same as ints, for lookups one id at a time
        self._ids = ids
        self._spare_marks: list[np.ndarray] = []
        self._marks_lock = threading.Lock()
        _load_kernels(self.index)

    def lend(self) -> Marks:
        """A mask over every node, all unmarked, for one walk, to be given back (:meth:`give_back`)
        in a ``finally``. A new one costs 25 us on the 1M plant and 60 us on the 3M (the kernel
        hands out and zeroes its pages), more than the rest of a small walk and growing with the
        graph; so masks are lent and given back, unmarked again position by position, and a walk's
        cost follows its scope. (Not a generator's context manager: that cost 15 us more a walk out
        of the processor's caches.)"""
        with self._marks_lock:
            array = self._spare_marks.pop() if self._spare_marks else huge_zeros(self.size, np.uint8)
        return Marks(array)

    def give_back(self, marks: Marks) -> None:
        if marks.marked:
            marks.array[np.concatenate(marks.marked)] = 0
        with self._marks_lock:
            self._spare_marks.append(marks.array)

    def id(self, node: NodeRef) -> int | None:
        local = self._ids[node.label].get(node.uid)
        return None if local is None else self._bounds[LABEL_CODE[node.label]] + local

    def refs(self, ids: np.ndarray) -> list[NodeRef]:
        codes, uids = self.kinds_and_uids(ids)
        return [NodeRef(LABELS[c], uid) for c, uid in zip(codes, uids, strict=True)]

    def kinds_and_uids(self, ids: np.ndarray) -> tuple[list[int], list[str]]:
        """Each id's kind (its position in :data:`LABELS`) and uid, for a caller that needs no
        :class:`NodeRef` per node."""
        return (np.searchsorted(self.offsets, ids, "right") - 1).tolist(), self.uids_of(ids)

    def uids_of(self, ids: np.ndarray) -> list[str]:
        """Each id's uid: their bytes copied out of :attr:`names` in one compiled call and decoded at
        once. A node's uid was an entry of a million-entry tuple of strings, two cache misses on
        4 KB pages per node out of cache (a third of a customer's trace); this is one, on huge pages
        (:func:`huge_zeros`)."""
        if not ids.size:
            return []
        return str(kernels.named(self.names, self.name_ends, ids), "utf-8").split("\0")

    def properties(self, node: int) -> dict[str, Any] | None:
        """The node's stored properties, a new dict for each call; None for a node deleted while the
        index was read (its relationships read, its properties gone)."""
        packed = self.packed[node]
        return None if packed is None else marshal.loads(packed)

    def relationships(self) -> int:
        return sum(len(r.src) for r in self.relations.values())

    def nbytes(self) -> int:
        """Memory held by the arrays, the uids' bytes and the packed properties (the lookup of uids
        comes on top)."""
        arrays = sum(
            sum(a.nbytes for a in (r.src, r.dst, r.by_dst, r.out_ptr, r.in_ptr))
            + sum(a.nbytes for a in (r.quantity, r.unit, r.start, r.end))
            for r in self.relations.values()
        )
        named = self.names.nbytes + self.name_ends.nbytes
        return arrays + named + 8 * len(self.packed) + sum(len(p) for p in self.packed if p is not None)


def _load_kernels(index: Index) -> None:
    """Import and compile the walk, once, when an index is made: a build in the background pays for
    it, not the first scope."""
    global kernels
    if kernels is None:
        module = importlib.import_module("lineage.kernels")
        module.warm(index)
        kernels = module


def _names(ids: dict[Label, dict[str, int]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every uid's UTF-8, in id order, each ended by a NUL; and where each one's NUL is."""
    joined = "\0".join(chain.from_iterable(ids[label] for label in LABELS))
    names = on_huge_pages(np.frombuffer(bytearray(f"{joined}\0".encode() if size else b""), np.uint8))
    ends = on_huge_pages(np.flatnonzero(names == 0))
    if ends.size != size:  # loading refuses such a uid; a graph written by hand might hold one
        raise ValueError("a uid in the graph holds a NUL character, which lineage's index cannot name")
    return names, ends


def _indexed(
    relations: dict[RelType, Relation], offsets: np.ndarray, names: np.ndarray, name_ends: np.ndarray
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
    return Index(
        **joined,
        at=at,
        out_at=out_at,
        out_base=out_base,
        in_at=in_at,
        in_base=in_base,
        bounds=offsets,
        names=names,
        name_ends=name_ends,
    )


def build(store: Store) -> Topology:
    """Read the whole lineage out of the database; the revision first, so a write that lands while
    this runs makes the index stale at once rather than silently incomplete.

    Two queries are in flight at a time, so the engine serializes one reply while this process
    decodes the other (on the 1M-node plant, the engine's share is about half). The relationships
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
        offsets = dict(zip(LABELS, np.cumsum([0] + [len(names[lb]) for lb in LABELS]).tolist(), strict=False))
        packed: list[bytes | None] = [None] * sum(len(u) for u in names.values())
        for label in LABELS:
            _pack(next(replies), names[label], offsets[label], packed)
    spans = {label: (offsets[label], offsets[label] + len(names[label])) for label in LABELS}
    relations = {rel: _relation(rel, parts.pop(rel), spans) for rel in list(parts)}  # each read let go
    return Topology(revision, names, relations, list(units), time.perf_counter() - started, tuple(packed))


def _pipelined(store: Store, pool: ThreadPoolExecutor, names: list[str]) -> Iterator[list[dict[str, Any]]]:
    """Each query's rows in turn, the next one already running while the caller decodes these."""
    ahead = pool.submit(store.run, names[0])
    for i in range(len(names)):
        rows = ahead.result()
        if i + 1 < len(names):
            ahead = pool.submit(store.run, names[i + 1])
        yield rows


def _pack(rows: list[dict[str, Any]], ids: dict[str, int], offset: int, packed: list[bytes | None]) -> None:
    """Each node's properties (its uid aside) packed at its id; nodes without a relationship are not
    in the index and are skipped."""
    for row in rows:
        local = ids.get(row["uid"])
        if local is not None:
            props = row["props"]
            props.pop("uid", None)
            packed[offset + local] = marshal.dumps(props)


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


Span = tuple[int, int]  # the ids of one kind: from the first up to (not including) the last


def _relation(
    rel: RelType, pieces: list[tuple[Label, Label, dict[str, np.ndarray]]], spans: dict[Label, Span]
) -> Relation:
    cols: dict[str, np.ndarray] = {}
    for name in ("src", "dst", "quantity", "unit", "start", "end"):
        arrays = []
        for src, dst, columns in pieces:
            shift = spans[src][0] if name == "src" else spans[dst][0] if name == "dst" else 0
            arrays.append(columns[name] + shift if shift else columns[name])
        cols[name] = np.concatenate(arrays)
    order = np.argsort(cols["src"], kind="stable")
    cols = {name: values[order] for name, values in cols.items()}
    by_dst = np.argsort(cols["dst"], kind="stable")
    src_kinds = {src for src, _ in REL_ENDPOINTS[rel]}
    dst_kinds = {dst for _, dst in REL_ENDPOINTS[rel]}
    out_base, out_ptr = _pointers(cols["src"], [spans[label] for label in src_kinds])
    in_base, in_ptr = _pointers(cols["dst"], [spans[label] for label in dst_kinds])
    return Relation(
        rel, by_dst=by_dst, out_base=out_base, out_ptr=out_ptr, in_base=in_base, in_ptr=in_ptr, **cols
    )


def _pointers(ends: np.ndarray, spans: list[Span]) -> tuple[int, np.ndarray]:
    """The first id of the kinds ``spans`` cover, and where each id's relationships begin in
    ``ends`` sorted (and where the last one's end)."""
    base, top = min(lo for lo, _ in spans), max(hi for _, hi in spans)
    pointers = np.zeros(top - base + 1, dtype=np.int32 if ends.size < 2**31 else np.int64)  # half the bytes
    pointers[1:] = np.cumsum(np.bincount(ends - base, minlength=top - base))
    return base, pointers


class IndexState(BaseModel):
    state: str = Field(
        description="'off' (scopes walk the database), 'building' (they do until it is built), 'built', "
        "or 'rebuilding' (the graph changed: scopes walk the database until the new one is in place)"
    )
    nodes: int | None = Field(None, description="nodes with at least one relationship")
    relationships: int | None = None
    built_s: float | None = Field(None, description="seconds the last build took")
    error: str | None = Field(None, description="why the last build failed, if it did")


class TopologyCache:
    """The index a Store keeps current: built on request or in the background, swapped whole when
    a newer one is ready, so a scope in flight keeps walking the one it started with."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._current: Topology | None = None
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._keep = False
        self._then: Callable[[Topology], None] | None = None
        self._failed_at = -RETRY_AFTER_S
        self.last_error: str | None = None

    def current(self) -> Topology | None:
        """The index if it matches the graph as it is now; None (and a rebuild under way, when this
        process keeps one) otherwise."""
        topology = self._current
        if topology is None and not self._keep:
            return None
        if topology is not None and self._store.revision() == topology.revision:
            return topology
        if self._keep:
            self._rebuild_in_background()
        return None

    def ready(self) -> bool:
        """Whether a scope would walk the index now without waiting on the database: it is built,
        and the engine vouches (with no round trip) that the lineage has not changed since."""
        topology = self._current
        return topology is not None and self._store.revision_vouched(topology.revision)

    def build(self) -> Topology:
        """Build now and keep the result: benchmarks and tests, which want the index in place."""
        topology = build(self._store)
        self._current = topology
        return topology

    def drop(self) -> None:
        """Forget the index and stop keeping one: scopes walk the database again."""
        self._keep = False
        self._current = None

    def keep_current(self, then: Callable[[Topology], None] | None = None) -> None:
        """From now on, rebuild in the background whenever the graph changes (long-lived processes).
        ``then`` runs in the building thread once each new index is in place: a process that keeps
        the garbage collector away from its long-lived objects (the API) has the build's to add."""
        self._keep = True
        self._then = then
        self._rebuild_in_background()

    def state(self) -> IndexState:
        topology = self._current
        building = self._building is not None and self._building.is_alive()
        if topology is None:
            return IndexState(state="building" if building else "off", error=self.last_error)
        return IndexState(
            state="rebuilding" if building else "built",
            nodes=topology.size,
            relationships=topology.relationships(),
            built_s=round(topology.built_s, 3),
            error=self.last_error,
        )

    def _rebuild_in_background(self) -> None:
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return
            if time.monotonic() - self._failed_at < RETRY_AFTER_S:
                return
            self._building = threading.Thread(target=self._rebuild, name="lineage-topology", daemon=True)
            self._building.start()

    def _rebuild(self) -> None:
        try:
            topology = build(self._store)
        except Exception as e:  # the scope falls back to Cypher; the error shows in /health
            if self._keep:  # not dropped (the store closing) while it ran
                self._failed_at = time.monotonic()
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("building the topology index failed; scopes walk the database meanwhile")
            return
        if self._keep:
            self._current = topology
            self.last_error = None
            if self._then is not None:
                self._then(topology)
