"""The topology index kept current while the lineage is written: changes applied, not rebuilt.

Every statement that changes the lineage also appends an entry to the database's change log, in
the same statement (see the query files' tails in ``cypher/``): the next number of the sequence
that ``(:Revision {uid: 'lineage'})`` keeps, with the nodes and relationships it touched, by kind
and uid. An index is stamped with the sequence number it is current to; to catch up, a process reads
the entries after it (``change_log_after``), reads the touched records as they are stored now
(``topology_pairs_*`` for relationships, ``topology_nodes_*`` for nodes) and applies the difference
to the index in place (:meth:`Topology.changing <lineage.graph.topology.Topology.changing>`): relationships
added, changed or removed, nodes' properties replaced, a node deleted with its relationships.

Reading the records as they are now, not what the entry said of them, makes applying an entry the
same whatever came after it: an index that read a record newer than the entry it applies is only
ahead, and the later entry that made it newer finds it as it is. So every process catches up the
same way, the one that wrote included, and nothing but the database is a source of truth.

An index cannot catch up, and is built again, when the entries it needs are gone (the log is
trimmed, :data:`lineage.config.Settings.change_log_keep`) or when the room its build kept for new
nodes and relationships is used up; the token of the revision moving (a bulk load, a reset, a
direct write) means the same.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from lineage.graph.model import LABEL_BY_NAME, LABEL_SLUG, REL_ENDPOINTS, Label, RelType
from lineage.graph.source import Source
from lineage.graph.topology import Topology
from lineage.graph.topology_build import build

log = logging.getLogger(__name__)

#: Entries read per round trip while catching up.
ENTRIES = 256
#: Records named per statement when they are read again.
CHUNK = 5_000
Variant = tuple[RelType, Label, Label]
Pair = tuple[str, str]


class CaughtUp(Enum):
    """How a catch-up ended."""

    CURRENT = "current"  # every entry up to the number asked for is applied
    GAP = "gap"  # an entry it needs is no longer in the log: the index must be built again
    FULL = "full"  # the room the build kept is used up: the index must be built again


def pairs_query_name(rel: RelType, src: Label, dst: Label) -> str:
    return f"topology_pairs_{rel.value.lower()}__{LABEL_SLUG[src]}__{LABEL_SLUG[dst]}"


def nodes_query_name(label: Label) -> str:
    return f"topology_nodes_{LABEL_SLUG[label]}"


_VARIANTS = {(rel, src, dst) for rel, pairs in REL_ENDPOINTS.items() for src, dst in pairs}


@dataclass
class Delta:
    """What a run of log entries touched."""

    nodes: dict[Label, set[str]] = field(default_factory=lambda: defaultdict(set))
    rels: dict[Variant, set[Pair]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, entries: list[dict[str, Any]]) -> Delta:
        delta = cls()
        for entry in entries:
            for label, uid in zip(entry["node_labels"] or (), entry["node_uids"] or (), strict=True):
                delta.nodes[LABEL_BY_NAME[label]].add(uid)
            keys = ("rel_types", "rel_src_labels", "rel_src", "rel_dst_labels", "rel_dst")
            for rel, src_label, src, dst_label, dst in zip(*(entry[k] or () for k in keys), strict=True):
                variant = (RelType(rel), LABEL_BY_NAME[src_label], LABEL_BY_NAME[dst_label])
                if variant not in _VARIANTS:
                    raise ValueError(
                        f"change log entry {entry['seq']} names an unknown relationship {variant}"
                    )
                delta.rels[variant].add((src, dst))
        return delta


@dataclass
class Stored:
    """The touched records as the database holds them now."""

    rels: dict[Variant, dict[Pair, list[dict[str, Any]]]]
    #: Properties of touched nodes, and of the new ends of touched relationships; None: deleted.
    nodes: dict[tuple[Label, str], dict[str, Any] | None]
    #: The ends of touched relationships that the index did not hold when they were read.
    new_ends: dict[Label, set[str]]


def read(store: Source, topology: Topology, delta: Delta) -> Stored:
    """Read what ``delta`` touched as stored now; the ends of its relationships the index does not
    hold yet are read too, as their properties go into the index with them. One round trip for the
    relationships and the nodes the entries name, and one more only for ends they do not name."""
    pairs = [
        (variant, chunk)
        for variant, touched in delta.rels.items()
        for chunk in _chunks([{"src": s, "dst": d} for s, d in touched])
    ]
    asked = [(label, chunk) for label, uids in delta.nodes.items() for chunk in _chunks(sorted(uids))]
    replies = store.run_many(
        [(pairs_query_name(*variant), {"pairs": chunk}) for variant, chunk in pairs]
        + [(nodes_query_name(label), {"uids": chunk}) for label, chunk in asked]
    )
    rels: dict[Variant, dict[Pair, list[dict[str, Any]]]] = {v: defaultdict(list) for v in delta.rels}
    new_ends: dict[Label, set[str]] = defaultdict(set)
    for (variant, _), rows in zip(pairs, replies, strict=False):
        found = rels[variant]
        _, src_label, dst_label = variant
        for row in rows:
            found[(row["src"], row["dst"])].append(row)
            for label, uid in ((src_label, row["src"]), (dst_label, row["dst"])):
                if topology.node_of(label, uid) is None:
                    new_ends[label].add(uid)
    nodes: dict[tuple[Label, str], dict[str, Any] | None] = {
        (label, uid): None for label, uids in delta.nodes.items() for uid in uids
    }
    _stored(nodes, asked, replies[len(pairs) :])
    more = [
        (label, chunk)
        for label, uids in new_ends.items()
        for chunk in _chunks(sorted(uids - delta.nodes.get(label, set())))
    ]
    if more:
        nodes.update({(label, uid): None for label, chunk in more for uid in chunk})
        _stored(nodes, more, store.run_many([(nodes_query_name(label), {"uids": c}) for label, c in more]))
    return Stored(rels, nodes, new_ends)


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _stored(
    nodes: dict[tuple[Label, str], dict[str, Any] | None],
    asked: list[tuple[Label, list[str]]],
    replies: list[list[dict[str, Any]]],
) -> None:
    for (label, _), rows in zip(asked, replies, strict=True):
        for row in rows:
            nodes[(label, row["uid"])] = dict(row["props"])


def apply(topology: Topology, delta: Delta, stored: Stored, seq: int) -> bool:
    """Make the index hold what ``delta`` touched as ``stored``, and stamp it ``seq``; False, with
    nothing changed, when the room its build kept cannot take it."""
    new_rels: Counter[RelType] = Counter()
    for (rel, _, _), found in stored.rels.items():
        new_rels[rel] += sum(len(rows) for rows in found.values())  # at most: some may be there already
    name_bytes = sum(len(uid.encode()) + 1 for uids in stored.new_ends.values() for uid in uids)
    counts = {label: len(uids) for label, uids in stored.new_ends.items()}
    if not topology.room_for(counts, dict(new_rels), name_bytes):
        return False
    with topology.changing():
        for label, uids in delta.nodes.items():
            for uid in uids:
                topology.catalog.set(label, uid, stored.nodes.get((label, uid)))
                node = topology.node_of(label, uid)
                if node is None:
                    continue  # not in the index; it comes in with its first relationship
                props = stored.nodes.get((label, uid))
                if props is None:  # deleted, and its relationships with it
                    for p in topology.incident(label, node):
                        topology.remove_relationship(p)
                topology.set_properties(node, props)
        for variant, pairs in delta.rels.items():
            _apply_pairs(topology, variant, pairs, stored)
        topology.seq = seq
    return True


def _apply_pairs(topology: Topology, variant: Variant, pairs: set[Pair], stored: Stored) -> None:
    rel, src_label, dst_label = variant
    found = stored.rels[variant]
    for src, dst in pairs:
        rows = found.get((src, dst), [])
        a, b = topology.node_of(src_label, src), topology.node_of(dst_label, dst)
        held = topology.positions(rel, a, b) if a is not None and b is not None else []
        for p in held[len(rows) :]:
            topology.remove_relationship(p)
        for p, row in zip(held, rows, strict=False):
            topology.set_relationship(rel, p, row)
        for row in rows[len(held) :]:
            ends = []
            for label, uid in ((src_label, src), (dst_label, dst)):
                node = topology.node_of(label, uid)
                if node is None:
                    props = stored.nodes.get((label, uid))
                    if props is None:  # deleted since its relationship was read: so is the relationship
                        break
                    node = topology.add_node(label, uid)
                    topology.set_properties(node, props)
                ends.append(node)
            if len(ends) == 2:
                topology.add_relationship(rel, ends[0], ends[1], row)


def catch_up(store: Source, topology: Topology, upto: int) -> CaughtUp:
    """Apply the log's entries after the index's number, up to ``upto`` at least (and any that came
    meanwhile in the same reads)."""
    while topology.seq < upto:
        after = topology.seq
        entries = store.run("change_log_after", after=after, limit=ENTRIES)
        if not entries or [e["seq"] for e in entries] != list(range(after + 1, after + 1 + len(entries))):
            log.info("the change log no longer holds entry %d: the topology index is built again", after + 1)
            return CaughtUp.GAP
        try:
            delta = Delta.of(entries)
        except (KeyError, ValueError) as e:
            log.warning("the topology index is built again: %s", e)
            return CaughtUp.GAP
        if not apply(topology, delta, read(store, topology, delta), entries[-1]["seq"]):
            return CaughtUp.FULL
    return CaughtUp.CURRENT


#: After a failed build, scopes walk the database for this long before another build is tried.
RETRY_AFTER_S = 10.0
#: A scope that finds the index at most this many entries behind applies them itself before it
#: walks (a few milliseconds); further behind, they are applied in the background meanwhile.
SYNC_ENTRIES = 4
#: Builds in a row before an index that could not take what was written meanwhile is put in place.
BUILDS = 3


class IndexState(BaseModel):
    state: str = Field(
        description="'off' (scopes walk the database), 'building' (they do until it is built), 'built' "
        "(current), 'catching up' (applying changes written since; scopes walk it meanwhile), or "
        "'rebuilding' (a new one is being built: scopes walk this one meanwhile, or the database when "
        "this one no longer matches the graph)"
    )
    nodes: int | None = Field(None, description="nodes with at least one relationship")
    relationships: int | None = None
    built_s: float | None = Field(None, description="seconds the last build took")
    seq: int | None = Field(None, description="the last change log entry the index holds")
    behind: int | None = Field(None, description="change log entries written that it does not hold yet")
    changed: int | None = Field(None, description="relationships added or removed since it was built")
    fallbacks: int = Field(0, description="scopes walked in the database since the process started")
    error: str | None = Field(None, description="why the last build failed, if it did")


class TopologyCache:
    """The index a Store keeps current: built on request or in the background, kept current by
    applying the change log (:func:`catch_up`), and built again, then swapped whole, only when it
    cannot be; a scope in flight keeps walking the one it started with."""

    def __init__(self, store: Source) -> None:
        self._store = store
        self._current: Topology | None = None
        self._lock = threading.Lock()
        self._catching = threading.Lock()
        self._building: threading.Thread | None = None
        self._refreshing: threading.Thread | None = None
        self._keep = False
        self._then: Callable[[Topology], None] | None = None
        self._failed_at = -RETRY_AFTER_S
        #: The index that could not take the changes written since (its room used up): scopes walk
        #: it as it is while another is built.
        self._stuck: Topology | None = None
        self._deferred = 0
        self._latest = 0  # the newest entry number this process has read of the database
        #: Scopes walked in the database (no index matched the graph), since the process started.
        self.fallbacks = 0
        self.last_error: str | None = None

    def current(self) -> Topology | None:
        """The index to walk: current with the graph, or a step behind it while it applies what was
        written by another process (in this one it was applied as it was written); None (and a
        build under way, when this process keeps one) when no index matches the graph."""
        topology = self._current
        if topology is None:
            if self._keep:
                self._rebuild_in_background()
            return None
        revision = self._store.revision()
        self._latest = revision.seq
        if revision.token != topology.token:
            if self._keep:
                self._rebuild_in_background()
            return None
        if topology is self._stuck:
            self._rebuild_in_background()  # one is under way, unless the last could not keep up
            return topology
        if revision.seq <= topology.seq:
            return topology
        if not self._keep or revision.seq - topology.seq <= SYNC_ENTRIES:
            return self._caught_up(topology, revision.seq, wait=not self._keep)
        self._refresh_in_background()
        return topology

    def written(self, seq: int) -> None:
        """A statement of this process wrote entry ``seq``: the index takes it before the statement
        returns to its caller, so that the next scope here sees it (unless the writes are
        :meth:`deferred`, as a load's are until its end)."""
        self._latest = max(self._latest, seq)
        topology = self._current
        if topology is not None and not self._deferred and seq > topology.seq:
            self._caught_up(topology, seq, wait=True)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Statements written inside are applied to the index once, at the end: a load of many
        statements reads each record it touched once, not after every statement."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            if not self._deferred:
                self.written(self._latest)

    def ready(self) -> bool:
        """Whether a scope would walk the index now without waiting on the database: it is built,
        and the engine vouches (with no round trip) that the lineage has not changed since."""
        topology = self._current
        return topology is not None and self._store.revision_vouched(topology.revision)

    def build(self) -> Topology:
        """Build now and keep the result: benchmarks and tests, which want the index in place."""
        topology = build(self._store)
        self._current, self._stuck, self._latest = topology, None, topology.seq
        return topology

    def drop(self) -> None:
        """Forget the index and stop keeping one: scopes walk the database again."""
        self._keep = False
        self._current = self._stuck = None
        self._latest = 0

    def keep_current(self, then: Callable[[Topology], None] | None = None) -> None:
        """From now on, build in the background whenever no index can be kept current (long-lived
        processes). ``then`` runs in the building thread once each new index is in place: a process
        that keeps the garbage collector away from its long-lived objects (the API) has the build's
        to add."""
        self._keep = True
        self._then = then
        self._rebuild_in_background()

    def state(self) -> IndexState:
        topology = self._current
        building = self._building is not None and self._building.is_alive()
        if topology is None:
            return IndexState(
                state="building" if building else "off", fallbacks=self.fallbacks, error=self.last_error
            )
        behind = max(0, self._latest - topology.seq)
        return IndexState(
            state="rebuilding" if building else "catching up" if behind else "built",
            nodes=topology.nodes(),
            relationships=topology.relationships(),
            built_s=round(topology.built_s, 3),
            seq=topology.seq,
            behind=behind,
            changed=topology.added() + topology.removed(),
            fallbacks=self.fallbacks,
            error=self.last_error,
        )

    def _caught_up(self, topology: Topology, seq: int, wait: bool) -> Topology | None:
        """``topology`` with the entries up to ``seq`` applied, or as it is when another thread is
        applying them and ``wait`` is false; None when it cannot catch up and nothing else can be
        walked."""
        if not self._catching.acquire(blocking=wait):
            return topology
        try:
            if topology is not self._current or topology is self._stuck:
                return topology
            outcome = catch_up(self._store, topology, seq)
        finally:
            self._catching.release()
        if outcome is CaughtUp.CURRENT:
            return topology
        if not self._keep:
            self._current = None
            return None
        self._rebuild_in_background()
        if outcome is CaughtUp.FULL:
            self._stuck = topology
            return topology
        return None

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing is not None and self._refreshing.is_alive():
                return
            self._refreshing = threading.Thread(target=self._refresh, name="lineage-changes", daemon=True)
            self._refreshing.start()

    def _refresh(self) -> None:
        topology = self._current
        while topology is not None and topology.seq < self._latest and topology is not self._stuck:
            try:
                if self._caught_up(topology, self._latest, wait=True) is None:
                    return
            except Exception:  # the next scope tries again; the error shows in the log
                log.exception("applying the change log to the topology index failed")
                return
            topology = self._current

    def _rebuild_in_background(self) -> None:
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return
            if time.monotonic() - self._failed_at < RETRY_AFTER_S:
                return
            self._building = threading.Thread(target=self._rebuild, name="lineage-topology", daemon=True)
            self._building.start()

    def _rebuild(self) -> None:
        """Build, and apply what was written meanwhile before the new index replaces the old one;
        built again while that cannot be done (written faster than a build keeps room for), three
        times at most, then put in place as it is, to be walked while the next is built."""
        try:
            for _ in range(BUILDS):
                topology = build(self._store)
                with self._catching:
                    latest = self._store.revision()
                    caught = latest.token == topology.token and (
                        catch_up(self._store, topology, latest.seq) is CaughtUp.CURRENT
                    )
                if caught:
                    break
        except Exception as e:  # the scope falls back to Cypher; the error shows in /health
            if self._keep:  # not dropped (the store closing) while it ran
                self._failed_at = time.monotonic()
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("building the topology index failed; scopes walk the database meanwhile")
            return
        if self._keep:
            self._current, self._stuck = topology, None if caught else topology
            self._latest = max(self._latest, topology.seq)
            self.last_error = None
            if self._then is not None:
                self._then(topology)
