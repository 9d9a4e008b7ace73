"""FalkorDB's bulk insert (``GRAPH.BULK``): builds a new graph from packed nodes and edges.

Used by a load into an empty graph, where upserting row by row through Cypher is bound by the
server's per-row cost (about 40-70k rows/s here). The format is FalkorDB's own, as its bulk loader
sends it: each command carries node and edge counts, then one token per label and per relationship
type. A token is a header (name, number of properties, property names, each NUL-terminated) and,
per node, its property values; per edge, the internal ids of its two ends, then its values. A value
is a type byte and the value: NULL 0 (no property), BOOL 1, DOUBLE 2, STRING 3 (NUL-terminated),
LONG 4, ARRAY 5 (a length, then values). Node ids are the nodes' positions in insertion order over
all commands. ``BEGIN`` in the first command creates the graph, which must not exist yet.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
#: Bytes per command, well below Redis's 512 MB limit on one argument.
COMMAND_BYTES = 32 * 1024 * 1024

_NULL = b"\x00"
_BOOL = struct.Struct("=B?")
_DOUBLE = struct.Struct("=Bd")
_LONG = struct.Struct("=Bq")
_ARRAY = struct.Struct("=Bq")
_STRING = b"\x03"


def created(reply: Any) -> tuple[int, int]:
    """(nodes, edges) from a GRAPH.BULK reply such as ``"120 nodes created, 300 edges created"``."""
    text = reply.decode() if isinstance(reply, bytes) else str(reply)
    nodes, edges = (int(part.strip().split(" ")[0]) for part in text.split(","))
    return nodes, edges


class Unpackable(ValueError):
    """A value the bulk format cannot carry; the caller falls back to upserts."""


def _pack_str(value: str) -> bytes:
    encoded = value.encode()
    if b"\x00" in encoded:
        raise Unpackable("a text value holds a NUL character")
    return _STRING + encoded + b"\x00"


def _pack_list(value: list[Any] | tuple[Any, ...]) -> bytes:
    return _ARRAY.pack(5, len(value)) + b"".join([pack_value(v) for v in value])


#: One packer per Python type: a dict lookup instead of a chain of isinstance checks, because
#: a million-node load packs millions of values. bool is its own type here, not an int.
_PACKERS: dict[type, Callable[[Any], bytes]] = {
    type(None): lambda _: _NULL,
    bool: lambda v: _BOOL.pack(1, v),
    int: lambda v: _LONG.pack(4, v),
    float: lambda v: _DOUBLE.pack(2, v),
    str: _pack_str,
    list: _pack_list,
    tuple: _pack_list,
}


def pack_value(value: Any) -> bytes:
    try:
        packer = _PACKERS[type(value)]
    except KeyError:
        raise Unpackable(f"cannot pack a {type(value).__name__}") from None
    return packer(value)


class _RowProps:
    """How one token's property values are packed, chosen from the values themselves.

    A key whose every value is a float, or every value an int, has a fixed width: those keys come
    first in the header and one ``struct`` call packs them with the ids ahead of them. Text packs
    through a small cache (units and statuses repeat); anything else value by value."""

    def __init__(self, rows: list[dict[str, Any]], exclude: set[str] | frozenset[str] = frozenset()) -> None:
        self.keys = sorted({key for props in rows for key in props} - exclude)
        self._fixed: list[tuple[int, str, str]] = []  # (type byte, struct code, key)
        self._rest: list[tuple[str, Callable[[Any], bytes]]] = []
        for key in self.keys:
            values = [props.get(key) for props in rows]
            kinds = set(map(type, values))
            if kinds == {float}:
                self._fixed.append((2, "d", key))
            elif kinds == {int} and min(values) >= -(2**63) and max(values) < 2**63:
                self._fixed.append((4, "q", key))
            else:
                self._rest.append((key, _cached_text() if kinds == {str} else pack_value))
        self.fixed_keys: list[str] = [key for _, _, key in self._fixed]
        self.rest_keys: list[str] = [key for key, _ in self._rest]

    def fixed_packer(self, ahead: str) -> Callable[[tuple[int, ...], dict[str, Any]], bytes]:
        """Packs ``ahead`` (struct codes of the ids before the values) and the fixed-width values."""
        pack = struct.Struct("=" + ahead + "".join("B" + code for _, code, _ in self._fixed)).pack
        fixed = [(tag, key) for tag, _, key in self._fixed]
        if not fixed:
            return lambda ids, _: pack(*ids)
        if len(fixed) == 1:
            ((t1, k1),) = fixed
            return lambda ids, p: pack(*ids, t1, p[k1])
        if len(fixed) == 2:
            (t1, k1), (t2, k2) = fixed
            return lambda ids, p: pack(*ids, t1, p[k1], t2, p[k2])
        return lambda ids, p: pack(*ids, *[x for tag, key in fixed for x in (tag, p[key])])

    def rest_packer(self) -> Callable[[dict[str, Any]], bytes]:
        rest = self._rest
        if not rest:
            return lambda _: b""
        if len(rest) == 1:
            ((k1, f1),) = rest
            return lambda p: f1(p.get(k1))
        return lambda p: b"".join([f(p.get(key)) for key, f in rest])


def _cached_text(limit: int = 4096) -> Callable[[str], bytes]:
    cache: dict[str, bytes] = {}

    def pack(value: str) -> bytes:
        packed = cache.get(value)
        if packed is None:
            packed = _pack_str(value)
            if len(cache) < limit:
                cache[value] = packed
        return packed

    return pack


#: Entities packed in one go: the loop that fills commands then runs once per block, not per entity.
BLOCK = 1024


def _blocks(rows: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(rows), BLOCK):
        yield rows[start : start + BLOCK]


def _header(name: str, keys: list[str]) -> bytes:
    parts = [name.encode() + b"\x00", struct.pack("=I", len(keys))]
    parts += [key.encode() + b"\x00" for key in keys]
    return b"".join(parts)


class BulkWriter:
    """Packs entities into commands of about ``COMMAND_BYTES`` and hands each to ``send``."""

    def __init__(self, send: Callable[[list[Any]], None]) -> None:
        self.send = send
        self.first = True
        self.sent_nodes = 0  # totals handed to ``send``, to check against what the server created
        self.sent_edges = 0
        self.node_ids: dict[str, dict[str, int]] = {}  # label -> uid -> internal id
        self.tokens_nodes: list[bytes] = []
        self.tokens_edges: list[bytes] = []
        self.next_id = 0
        self._reset()

    def _reset(self) -> None:
        # Cleared in place, never replaced: _take holds on to these lists across flushes.
        self.tokens_nodes.clear()
        self.tokens_edges.clear()
        self.nodes = 0
        self.edges = 0
        self.size = 0

    def flush(self) -> None:
        if not self.nodes and not self.edges:
            return
        args: list[Any] = [self.nodes, self.edges, len(self.tokens_nodes), len(self.tokens_edges)]
        args += self.tokens_nodes + self.tokens_edges
        if self.first:
            args.insert(0, "BEGIN")
            self.first = False
        self.send(args)
        self.sent_nodes += self.nodes
        self.sent_edges += self.edges
        self._reset()

    def add_nodes(self, label: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """``rows`` of (uid, properties); ``uid`` is stored as a property like the others."""
        rows = list(rows)
        if not rows:
            return
        props = _RowProps([p for _, p in rows], exclude={"uid"})
        fixed, rest = props.fixed_packer(""), props.rest_packer()
        ids = self.node_ids.setdefault(label, {})
        first = self.next_id
        ids.update(zip([uid for uid, _ in rows], range(first, first + len(rows)), strict=True))
        self.next_id += len(rows)  # ids are positions in insertion order
        pack_uid = _pack_str

        def packed() -> Iterator[tuple[bytes, int]]:
            for part in _blocks(rows):
                yield b"".join([fixed((), p) + pack_uid(uid) + rest(p) for uid, p in part]), len(part)

        header = _header(label, [*props.fixed_keys, "uid", *props.rest_keys])
        self._take(self.tokens_nodes, header, packed(), "nodes")

    def add_edges(
        self, rel: str, src_label: str, dst_label: str, rows: Iterable[tuple[str, str, dict[str, Any]]]
    ) -> None:
        """``rows`` of (source uid, target uid, properties); both ends must have been added."""
        rows = list(rows)
        if not rows:
            return
        props = _RowProps([p for _, _, p in rows])
        sources, targets = self.node_ids[src_label], self.node_ids[dst_label]
        header = _header(rel, [*props.fixed_keys, *props.rest_keys])

        def ends_only() -> Iterator[tuple[bytes, int]]:
            for part in _blocks(rows):
                ends = array("Q")
                for src, dst, _ in part:
                    ends.append(sources[src])
                    ends.append(targets[dst])
                yield ends.tobytes(), len(part)

        def with_properties() -> Iterator[tuple[bytes, int]]:
            fixed, rest = props.fixed_packer("QQ"), props.rest_packer()
            for part in _blocks(rows):
                packed = [fixed((sources[src], targets[dst]), p) + rest(p) for src, dst, p in part]
                yield b"".join(packed), len(part)

        self._take(self.tokens_edges, header, with_properties() if props.keys else ends_only(), "edges")

    def _take(
        self, tokens: list[bytes], header: bytes, packed: Iterator[tuple[bytes, int]], counter: str
    ) -> None:
        """Put packed entities (blocks of ``n`` each) under ``header`` into ``tokens``, sending a
        command whenever one is full."""
        body: list[bytes] = []
        body_size = 0
        count = 0
        for entity, n in packed:
            body.append(entity)
            body_size += len(entity)
            count += n
            if self.size + body_size >= COMMAND_BYTES:
                tokens.append(header + b"".join(body))
                self._count(counter, count)
                body, body_size, count = [], 0, 0
                self.flush()
        if body:
            tokens.append(header + b"".join(body))
            self._count(counter, count)
            self.size += len(header) + body_size

    def _count(self, counter: str, count: int) -> None:
        if counter == "nodes":
            self.nodes += count
        else:
            self.edges += count
