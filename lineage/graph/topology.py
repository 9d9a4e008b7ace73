"""The lineage's shape held in memory, so that a scope walks arrays instead of querying per level.

A frontier expansion in Cypher pays a round trip and an index lookup per node at every level, where a
walk over integer arrays costs what it touches (bench/RESULTS.md has both). The index keeps only what
a walk needs: every relationship as a pair of integer node ids, with the quantity, unit and times
that a scope reports, and every node's stored properties (sales' too), each packed in one ``bytes``
object, so neither a lot's affected summary nor a page of its scope needs a database call past the
revision.

The index is a cache of the database, never a second source of truth. It is read from the database
by the query files in ``cypher/topology/`` and stamped with the lineage's :data:`Revision` (a token
and the number of the last change log entry), read before the first relationship. A scope asks for
the revision again (:meth:`Store.revision`) and walks the index when its token still matches: an
index behind the log takes the entries it lacks first (:mod:`lineage.graph.live`), one whose token
was replaced (a bulk load, a reset, a direct write that says so) is built again in the background
while scopes walk the database in Cypher. On the embedded engine the server tells every process of
each change (:mod:`lineage.graph.engines.falkor_watch`), so a scope reads the revision from the
database only after a token was replaced; on Neo4j every scope reads it (one lookup by key).
Lineage's own records (recalls, holds, follow-ups, the audit log, load records) are not lineage
changes: a coordinator working a recall moves no index with every hold placed. A program that writes
the lineage of a shared Neo4j directly, not through lineage, must replace the token
(``cypher/topology/revision_bump.cypher``).
"""

from __future__ import annotations

import importlib
import logging
import marshal
import threading
from collections.abc import Callable
from itertools import chain
from typing import Any, TypeVar

import numpy as np

from lineage.graph.arrays import SPARE_SHARE, Relation, degrees, joined, uid_bytes
from lineage.graph.catalog import Catalog
from lineage.graph.hugepages import huge_zeros
from lineage.graph.layout import LABELS, REL_CODE, Index
from lineage.graph.model import LABEL_SLUG, REL_ENDPOINTS, Label, NodeRef, RelType
from lineage.graph.source import Revision

log = logging.getLogger(__name__)

#: Each kind's name as a plain string, in :data:`LABELS` order (``Label.value`` is a call into the enum).
KIND_NAMES = tuple(label.value for label in LABELS)
LABEL_CODE = {label: code for code, label in enumerate(LABELS)}
EMPTY = np.empty(0, dtype=np.int64)
#: Relationship types that carry a quantity and unit, and those that carry a start and end time;
#: the others carry neither (their topology queries say the same in their RETURN).
FLOW_TYPES = frozenset({RelType.CONSUMED_BY, RelType.SHIPPED_IN, RelType.SOLD_IN})
RUN_TYPES = frozenset({RelType.RAN_ON, RelType.HANDLED_BY})
#: Positions in Index.changes (lineage.graph.kernels writes them out too): relationships added since the
#: build, and removed.
ADDED, REMOVED = 0, 1
#: :mod:`lineage.graph.kernels`, imported with the first index (:func:`_load_kernels`): importing numba takes
#: 0.2-0.7 s, which a command that never walks (a load, a recall, ``--help``) should not pay.
kernels: Any = None


def topology_query_name(rel: RelType, src: Label, dst: Label) -> str:
    return f"topology_rel_{rel.value.lower()}__{LABEL_SLUG[src]}__{LABEL_SLUG[dst]}"


T = TypeVar("T")


def properties_query_name(label: Label) -> str:
    return f"topology_props_{LABEL_SLUG[label]}"


class Marks:
    """A walk's mask over every node (:data:`lineage.graph.kernels.REACHED` and ``VISITED`` bits), and the
    ids it marked that it has not unmarked itself, so that the mask can be given back unmarked even
    after a walk stopped half-way."""

    __slots__ = ("array", "marked")

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.marked: list[np.ndarray] = []

    def note(self, ids: np.ndarray) -> None:
        if ids.size:
            self.marked.append(ids)


class Topology:
    """Nodes are numbered label by label: label k holds ids ``offsets[k]`` up to ``offsets[k + 1]``,
    those the build read first and then room for nodes written later. Only nodes with at least one
    relationship are walked; a scope from any other is the node alone.

    The packed properties the build read are a tuple of bytes, which the garbage collector stops
    tracking after one look; as a list, every collection of the oldest generation would walk it,
    stalling whichever scope it fell in. Properties written later
    are packed in a dict beside it. Uids are looked up by a dict per kind (uid to position in its
    kind, in order of position) and named from :attr:`names`, every uid's UTF-8 end to end.

    Changes are applied in place (:meth:`changing`), and a walk in flight in another thread must
    not see half of one: :attr:`version` is odd while a change is being applied and moves by two
    with each, so a walk that saw it move walks again (:meth:`walked`)."""

    def __init__(
        self,
        revision: Revision,
        ids: dict[Label, dict[str, int]],
        room: list[int],
        relations: dict[RelType, Relation],
        units: list[str],
        built_s: float,
        packed: tuple[bytes | None, ...],
        catalog: Catalog | None = None,
        share: int = SPARE_SHARE,
    ) -> None:
        self.token, self.seq = revision
        #: Every node's uid and name, those without a relationship included, for search.
        self.catalog = catalog or Catalog({})
        self.units = units
        self._unit_codes = {unit: code for code, unit in enumerate(units)}
        self.packed = packed
        self._packed_since: dict[int, bytes | None] = {}
        self.built_s = built_s
        self.offsets = np.concatenate([[0], np.cumsum(room)]).astype(np.int64)
        self.size = int(self.offsets[-1])
        #: The room kept for later writes, as a share of what the build read (see arrays.spare).
        self.share = share
        self.names, name_starts, name_ends, self._names_used = uid_bytes(ids, self.offsets, share)
        self.index = joined(relations, self.offsets, self.names, name_starts, name_ends)
        self.relations = relations
        #: The index's arrays as a plain tuple, as the compiled walk takes them (see lineage.graph.kernels).
        self.arrays = tuple(self.index)
        self._bounds = self.offsets.tolist()  # the same as ints, for lookups one id at a time
        self._ids = ids
        at = self.index.at.tolist()
        #: Each type's positions taken, the build's and those added since.
        self._used = [at[code] + relations[rel].count for code, rel in enumerate(REL_CODE)]
        self._ends = at[1:]
        self.degree = degrees(self.index, self._used, self.size)
        self.version = 0
        self._changing = threading.Lock()
        self._spare_marks: list[np.ndarray] = []
        self._marks_lock = threading.Lock()
        _load_kernels(self.index)

    @property
    def revision(self) -> Revision:
        return Revision(self.token, self.seq)

    def lend(self) -> Marks:
        """A mask over every node, all unmarked, for one walk, to be given back (:meth:`give_back`)
        in a ``finally``. A new one costs more than the rest of a small walk and grows with the graph
        (the kernel hands out and zeroes its pages); so masks are lent and given back, unmarked
        again position by position, and a walk's cost follows its scope. (Not a generator's context
        manager, which costs more per walk than the walk's own work out of the processor's caches.)"""
        with self._marks_lock:
            array = self._spare_marks.pop() if self._spare_marks else huge_zeros(self.size, np.uint8)
        return Marks(array)

    def give_back(self, marks: Marks) -> None:
        if marks.marked:
            marks.array[np.concatenate(marks.marked)] = 0
        with self._marks_lock:
            self._spare_marks.append(marks.array)

    def walked(self, walk: Callable[[], T]) -> T:
        """``walk()`` over a state no change was applied in the middle of: walked again when the
        version moved meanwhile, and after two tries with changes held off (a long walk would
        otherwise never see the index still)."""
        for _ in range(2):
            version = self.version
            if not version & 1:
                result = walk()
                if self.version == version:
                    return result
        with self._changing:
            return walk()

    def id(self, node: NodeRef) -> int | None:
        """The node's id while it has a relationship; None for one it has none (or never had)."""
        local = self._ids[node.label].get(node.uid)
        if local is None:
            return None
        found = self._bounds[LABEL_CODE[node.label]] + local
        return found if self.degree[found] else None

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
        index = self.index
        return str(kernels.named(self.names, index.name_starts, index.name_ends, ids), "utf-8").split("\0")

    def properties(self, node: int) -> dict[str, Any] | None:
        """The node's stored properties, a new dict for each call; None for a node deleted while the
        index was read (its relationships read, its properties gone) or since."""
        packed = self._packed_since.get(node, self.packed[node]) if self._packed_since else self.packed[node]
        return None if packed is None else marshal.loads(packed)

    def taken(self, label: Label) -> int:
        """How many of the kind's ids are taken (from its first on): the build's, and those added."""
        return len(self._ids[label])

    def nodes(self) -> int:
        """Nodes with at least one relationship."""
        return int(np.count_nonzero(self.degree))

    def relationships(self) -> int:
        at = self.index.at.tolist()
        return sum(used - at[code] for code, used in enumerate(self._used)) - self.removed()

    def added(self) -> int:
        """Relationships added since the build."""
        return int(self.index.changes[ADDED])

    def removed(self) -> int:
        """Relationships removed since the build."""
        return int(self.index.changes[REMOVED])

    def nbytes(self) -> int:
        """Memory held by the arrays, the uids' bytes and the packed properties (the lookup of uids
        comes on top)."""
        index = self.index
        arrays = sum(a.nbytes for a in index if isinstance(a, np.ndarray))
        arrays += sum(r.quantity.nbytes + r.unit.nbytes for r in self.relations.values())
        packed = chain(self.packed, self._packed_since.values())
        return arrays + self.degree.nbytes + 8 * len(self.packed) + sum(len(p) for p in packed if p)

    # Changes, applied by lineage.graph.live under changing(): each says whether there was room for it.

    def changing(self) -> _Changing:
        """Hold off other changes and tell walks that one is being applied (:meth:`walked`)."""
        return _Changing(self)

    def room_for(self, nodes: dict[Label, int], rels: dict[RelType, int], name_bytes: int) -> bool:
        """Whether ``nodes`` new nodes of each kind, ``rels`` new relationships of each type and
        ``name_bytes`` bytes of new uids fit in the room the build kept."""
        for label, count in nodes.items():
            code = LABEL_CODE[label]
            if len(self._ids[label]) + count > self._bounds[code + 1] - self._bounds[code]:
                return False
        for rel, count in rels.items():
            code = REL_CODE[rel]
            if self._used[code] + count > self._ends[code]:
                return False
        return self._names_used + name_bytes <= self.names.size

    def add_node(self, label: Label, uid: str) -> int:
        """A new id for ``uid`` (checked with :meth:`room_for` first), with no relationship yet."""
        ids = self._ids[label]
        local = ids.get(uid)
        if local is not None:
            return self._bounds[LABEL_CODE[label]] + local
        node = self._bounds[LABEL_CODE[label]] + len(ids)
        data = uid.encode()
        lo = self._names_used
        self.names[lo : lo + len(data)] = np.frombuffer(data, np.uint8)
        self.index.name_starts[node], self.index.name_ends[node] = lo, lo + len(data)
        self._names_used = lo + len(data) + 1
        ids[uid] = len(ids)  # after its name: a reader that finds the uid can name it
        return node

    def node_of(self, label: Label, uid: str) -> int | None:
        """The node's id, with or without relationships; None for one the index never had."""
        local = self._ids[label].get(uid)
        return None if local is None else self._bounds[LABEL_CODE[label]] + local

    def set_properties(self, node: int, props: dict[str, Any] | None) -> None:
        """The node's properties as stored now (its uid left out); None for a node deleted."""
        if props is not None:
            props = {k: v for k, v in props.items() if k != "uid"}
        self._packed_since[node] = None if props is None else marshal.dumps(props)

    def add_relationship(self, rel: RelType, src: int, dst: int, values: dict[str, Any]) -> int:
        """A new relationship of ``rel`` from ``src`` to ``dst`` (room checked first); its position."""
        code = REL_CODE[rel]
        index = self.index
        p = self._used[code]
        self._used[code] = p + 1
        index.src[p], index.dst[p] = src, dst
        self.set_relationship(rel, p, values)
        index.alive[p] = 1
        index.out_next[p], index.in_next[p] = index.out_head[src], index.in_head[dst]
        index.out_head[src], index.in_head[dst] = p, p  # last: a walk finds it whole
        self.degree[src] += 1
        self.degree[dst] += 1
        index.changes[ADDED] += 1
        return p

    def remove_relationship(self, p: int) -> None:
        index = self.index
        if index.alive[p]:
            index.alive[p] = 0
            self.degree[index.src[p]] -= 1
            self.degree[index.dst[p]] -= 1
            index.changes[REMOVED] += 1

    def positions(self, rel: RelType, src: int, dst: int) -> list[int]:
        """The index-wide positions of the relationships of ``rel`` from ``src`` to ``dst``."""
        leaving = kernels.leaving(self.arrays, REL_CODE[rel], np.array([src], np.int64))
        return leaving[self.index.dst[leaving] == dst].tolist()

    def incident(self, label: Label, node: int) -> list[int]:
        """The index-wide positions of every relationship of ``node`` (of kind ``label``)."""
        found: list[int] = []
        here = np.array([node], np.int64)
        for rel, pairs in REL_ENDPOINTS.items():
            if any(src == label for src, _ in pairs):
                found += kernels.leaving(self.arrays, REL_CODE[rel], here).tolist()
            if any(dst == label for _, dst in pairs):
                found += kernels.entering(self.arrays, REL_CODE[rel], here).tolist()
        return found

    def set_relationship(self, rel: RelType, p: int, values: dict[str, Any]) -> None:
        """The values a scope reports of relationship ``p`` (index-wide) as stored now."""
        relation, local = self.relations[rel], p - int(self.index.at[REL_CODE[rel]])
        if rel in FLOW_TYPES:
            quantity, unit = values.get("quantity"), values.get("unit")
            relation.quantity[local] = np.nan if quantity is None else quantity
            if unit is not None and unit not in self._unit_codes:
                self._unit_codes[unit] = len(self.units)
                self.units.append(unit)
            relation.unit[local] = -1 if unit is None else self._unit_codes[unit]
        if rel in RUN_TYPES:
            start, end = values.get("start"), values.get("end")
            relation.start[local] = np.nan if start is None else start
            relation.end[local] = np.nan if end is None else end


class _Changing:
    """:meth:`Topology.changing`'s context: the lock held and the version odd while inside."""

    __slots__ = ("_topology",)

    def __init__(self, topology: Topology) -> None:
        self._topology = topology

    def __enter__(self) -> Topology:
        self._topology._changing.acquire()
        self._topology.version += 1
        return self._topology

    def __exit__(self, *exc: object) -> None:
        self._topology.version += 1
        self._topology._changing.release()


def _load_kernels(index: Index) -> None:
    """Import and compile the walk, once, when an index is made: a build in the background pays for
    it, not the first scope."""
    global kernels
    if kernels is None:
        module = importlib.import_module("lineage.graph.kernels")
        module.warm(index)
        kernels = module
