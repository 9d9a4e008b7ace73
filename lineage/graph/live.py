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
direct write) means the same. When to catch up and when to build again is :mod:`.cache`'s part;
applying an entry also keeps the index's search catalog (:mod:`.catalog`) current.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lineage.graph.model import LABEL_BY_NAME, LABEL_SLUG, REL_ENDPOINTS, Label, RelType
from lineage.graph.source import Source
from lineage.graph.topology import Topology

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
