"""Every node's uid and name, held beside the topology index so that search answers from memory.

Search (:func:`lineage.graph.nodes.search`) finds nodes by uid, uid prefix or a piece of their
name. In the database that is a scan of every node of every kind (``cypher/nodes/node_search``):
tens of milliseconds of the engine's time on a 100k-node plant, per keystroke of an investigator
typing a lot code. The catalog holds, per kind, the uids sorted (a prefix is a range found by two
binary searches) and the lower-cased names in one string (a piece of a name is a substring search
at memory speed), over every node, those without a relationship included.

It is built with the index from the same rows (every node's properties) and kept current by the
same change log entries (:mod:`.live`): a node written since the build goes into newer levels that
hide the base's entry of the same uid, merged into new sorted arrays as they grow (:class:`Catalog`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from lineage.graph.model import Label

#: The properties that name a node of each kind, first present wins (as ``coalesce`` in
#: ``node_search``): a lot is known by its material, a batch by its product.
NAME_KEYS: dict[Label, tuple[str, ...]] = {
    Label.MATERIAL_LOT: ("name", "material"),
    Label.BATCH: ("name", "product"),
    Label.INSPECTION: ("name", "inspection_type"),
    Label.COMPLAINT: ("name", "description"),
}
#: Nodes written since the build, per kind, beyond which they are merged into the base arrays.
MERGE_AT = 50_000
#: Nodes written since the last merge, per kind, beyond which they are merged into sorted arrays.
NEWEST = 256
_SEP = "\0"


def name_of(label: Label, props: dict[str, Any]) -> str | None:
    for key in NAME_KEYS.get(label, ("name",)):
        value = props.get(key)
        if value is not None:
            return str(value)
    return None


@dataclass(frozen=True, slots=True)
class Hit:
    label: Label
    uid: str
    name: str | None
    match: str  # 'uid', 'uid_prefix' or 'name'


class _Gone:
    """A node deleted since the level below was made: it hides that level's entry."""

    def __repr__(self) -> str:
        return "GONE"


GONE = _Gone()
Held = str | None | _Gone


@dataclass(frozen=True, slots=True)
class _Sorted:
    """One kind's nodes as of a build or merge, sorted by uid (a deleted one, above the base, GONE)."""

    uids: np.ndarray  # UTF-8 bytes ('S' dtype), sorted
    names: list[Held]
    lowered: str  # each node's name lower-cased, NUL after each
    starts: np.ndarray  # where each node's name starts in ``lowered``

    @classmethod
    def of(cls, entries: Iterable[tuple[str, Held]]) -> _Sorted:
        ordered = sorted(entries, key=lambda e: e[0].encode())
        shared: dict[str, str] = {}  # many nodes share a name (a material, a product)
        names = [n if not isinstance(n, str) else shared.setdefault(n, n) for _, n in ordered]
        pieces = [_lower(n) for n in names]
        starts = np.zeros(len(pieces), np.int64)
        if pieces:
            np.cumsum([len(p) + 1 for p in pieces[:-1]], out=starts[1:])
        uids = np.array([u.encode() for u, _ in ordered], dtype=bytes) if ordered else np.array([], "S1")
        return cls(uids, names, "".join(p + _SEP for p in pieces), starts)

    def entries(self) -> Iterator[tuple[str, Held]]:
        for uid, name in zip(self.uids.tolist(), self.names, strict=True):
            yield uid.decode(), name

    def uid(self, i: int) -> str:
        return bytes(self.uids[i]).decode()

    def find(self, uid: str) -> int | None:
        key = uid.encode()
        i = int(np.searchsorted(self.uids, key, "left"))
        return i if i < self.uids.size and self.uids[i] == key else None

    def prefixed(self, prefix: str) -> Iterator[int]:
        """Positions of the uids that start with ``prefix``, shortest first, then in uid order."""
        key = prefix.encode()
        lo = int(np.searchsorted(self.uids, key, "left"))
        hi = int(np.searchsorted(self.uids, key + b"\xff", "left"))  # no UTF-8 byte is 0xff
        if hi - lo > 1:
            yield from (lo + np.argsort(np.char.str_len(self.uids[lo:hi]), kind="stable")).tolist()
        else:
            yield from range(lo, hi)

    def named(self, piece: str) -> Iterator[int]:
        """Positions of the nodes whose lower-cased name holds ``piece``, in uid order."""
        at = self.lowered.find(piece)
        while at >= 0:
            yield int(np.searchsorted(self.starts, at, "right")) - 1
            at = self.lowered.find(piece, self.lowered.find(_SEP, at) + 1)


def _lower(name: Held) -> str:
    return name.lower().replace(_SEP, " ") if isinstance(name, str) else ""


@dataclass(frozen=True, slots=True)
class _Levels:
    """One kind's nodes in three levels, each newer one hiding the older's entries of the same uid:
    the base (as built), the nodes written since its last merge, and the newest few in a dict."""

    base: _Sorted
    recent: _Sorted
    newest: dict[str, Held]


class Catalog:
    """Uids and names of every node, by kind; see the module docstring. Written by one thread at a
    time (the one applying the change log) while any number search it.

    A write goes into a small dict; past :data:`NEWEST` entries they are merged into the sorted
    level of recent writes, and that, past ``merge_at``, into the base: a search never looks at more
    than a few hundred entries one by one, and a merge costs in proportion to the level it makes."""

    def __init__(
        self, parts: dict[Label, list[tuple[str, str | None]]], merge_at: int = MERGE_AT, newest: int = NEWEST
    ) -> None:
        self.merge_at, self.newest = merge_at, newest
        #: Replaced whole whenever a level is merged, so a search holds one consistent set of them.
        self._kinds: dict[Label, _Levels] = {
            label: _Levels(_Sorted.of(parts.get(label, ())), _EMPTY, {}) for label in Label
        }

    def set(self, label: Label, uid: str, props: dict[str, Any] | None) -> None:
        """The node as stored now; ``props`` None when it no longer exists."""
        levels = self._kinds[label]
        levels.newest[uid] = GONE if props is None else name_of(label, props)
        if len(levels.newest) > self.newest:
            self._kinds[label] = _merged(levels, self.merge_at)

    def search(self, q: str, kinds: Iterable[Label], limit: int) -> list[Hit]:
        """Per kind: the node whose uid is ``q``, up to ``limit`` whose uid starts with ``q`` or its
        upper case (shortest first), and up to ``limit`` whose name holds ``q`` in any case (in uid
        order)."""
        return [hit for label in kinds for hit in self._search(label, q, limit)]

    def _search(self, label: Label, q: str, limit: int) -> list[Hit]:
        levels = self._kinds[label]
        newest = dict(list(levels.newest.items()))  # copied in one step: the writer adds meanwhile
        base, recent = levels.base, levels.recent
        ordered = sorted(newest)

        def held(uid: str) -> Held:
            """The node's name as the newest level that holds it says (GONE: it does not exist)."""
            if uid in newest:
                return newest[uid]
            for level in (recent, base):
                i = level.find(uid)
                if i is not None:
                    return level.names[i]
            return GONE

        def live(level: _Sorted, positions: Iterator[int], newer: tuple[_Sorted, ...]) -> Iterator[str]:
            """The uids at ``positions`` that no newer level holds and that exist."""
            for i in positions:
                uid = level.uid(i)
                hidden = uid in newest or any(n.find(uid) is not None for n in newer)
                if not hidden and not isinstance(level.names[i], _Gone):
                    yield uid

        def taken(pick: Callable[[_Sorted], Iterator[int]], fresh: Iterator[str]) -> list[str]:
            found = [u for u in fresh if not isinstance(newest[u], _Gone)][:limit]
            found += itertools.islice(live(recent, pick(recent), ()), limit)
            found += itertools.islice(live(base, pick(base), (recent,)), limit)
            return found

        hits: dict[str, Hit] = {}
        name = held(q)
        if not isinstance(name, _Gone):
            hits[q] = Hit(label, q, name, "uid")
        for prefix in dict.fromkeys((q, q.upper())):
            fresh = (u for u in ordered if u.startswith(prefix))
            found = taken(lambda level, p=prefix: level.prefixed(p), fresh)
            for uid in sorted(found, key=lambda u: (len(u), u))[:limit]:
                hits.setdefault(uid, Hit(label, uid, _name(held(uid)), "uid_prefix"))
        piece = q.lower()
        if _SEP not in piece:
            fresh = (u for u in ordered if piece in _lower(newest[u]))
            for uid in sorted(taken(lambda level: level.named(piece), fresh))[:limit]:
                match = "uid_prefix" if uid.startswith((q, q.upper())) else "name"  # beyond the cut
                hits.setdefault(uid, Hit(label, uid, _name(held(uid)), match))
        return list(hits.values())


def _name(held: Held) -> str | None:
    return None if isinstance(held, _Gone) else held


def _merged(levels: _Levels, merge_at: int) -> _Levels:
    """The newest entries merged into the recent level, and that into the base once it is large."""
    recent = dict(levels.recent.entries())
    recent.update(levels.newest)
    if len(recent) <= merge_at:
        return _Levels(levels.base, _Sorted.of(recent.items()), {})
    base = {uid: name for uid, name in levels.base.entries() if uid not in recent}
    base.update((uid, name) for uid, name in recent.items() if not isinstance(name, _Gone))
    return _Levels(_Sorted.of(base.items()), _EMPTY, {})


_EMPTY = _Sorted.of(())
