"""The audit trail: every write appended to a log whose entries are chained by hashes.

An entry says who, when, what (an action and its subject), with counts and a detail, and holds the
SHA-256 of its own contents together with the previous entry's hash. Changing an entry breaks its
own hash; removing one breaks the numbering or the next entry's link; removing the last ones
leaves the head (``AuditHead``: the last number and hash, moved by the same statement that appends)
pointing past the end. :func:`verify` walks the chain and names the first entry that fails.

What the chain cannot catch is someone who rewrites an entry and every entry after it and the head:
whoever can do that owns the database. Export the head's hash elsewhere (``lineage audit verify``
prints it) to pin the log as of that moment.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from lineage.errors import EngineError, EngineUnavailable, LineageError, QueryTimeout
from lineage.graph.model import iso, now_ms
from lineage.graph.store import Store

PAGE = 1_000
_WIDTH = 12  # digits of an entry's uid: its number, zero-padded, so uids sort in log order
_APPENDING = threading.Lock()
#: The head as this process's last append left it, by store: the next append tries it first and
#: reads the head only when another process (or a reset) moved it, so that an append is one round trip.
_heads: weakref.WeakKeyDictionary[Store, tuple[int, str]] = weakref.WeakKeyDictionary()


class AuditEntry(BaseModel):
    seq: int = Field(description="the entry's number, from 1")
    at: str = Field(description="when, ISO-8601 UTC")
    who: str
    action: str = Field(description="load, complaint, recall.create, hold.release, ...")
    subject: str = Field(description="what it was done to: a recall, a hold, the files loaded")
    counts: dict[str, int] = Field(default_factory=dict)
    detail: str = ""
    prev: str = Field(description="the previous entry's hash ('' for the first)")
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_after: int | None = Field(description="pass as `after` for the next page; null at the end")


class Verification(BaseModel):
    ok: bool
    entries: int
    head: str = Field(description="the last entry's hash: keep it elsewhere to pin the log")
    problem: str | None = None
    first_bad: int | None = Field(None, description="the number of the first entry that fails")


def local_actor() -> str:
    """Who runs a command on this machine: the account and the host, as the audit names them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (cli)"


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


_FIELDS = ("seq", "at", "who", "action", "subject", "counts", "detail", "prev")


def _body(*values: Any) -> dict[str, Any]:
    """What an entry's hash covers, in :data:`_FIELDS` order."""
    return dict(zip(_FIELDS, values, strict=True))


def record(
    store: Store,
    who: str,
    action: str,
    subject: str,
    counts: dict[str, int] | None = None,
    detail: str = "",
) -> AuditEntry:
    """Append one entry after the write it describes has succeeded.

    Two processes appending at once both read the same head; the append only lands if the head is
    unchanged, so the loser reads the new head and tries again. The head this process left is
    tried first, without reading it.
    """
    counts = {k: int(v) for k, v in (counts or {}).items()}
    refused: EngineError | None = None
    with _APPENDING:
        head = _heads.get(store)  # where this process left the head: unread, unless another moved it
        for _ in range(50):
            guessed = head is not None
            if head is None:
                rows = store.run("audit_head")  # a head that an append left unmoved may hold nothing
                head = (int(rows[0]["seq"] or 0), str(rows[0]["hash"] or "")) if rows else (0, "")
            prev_seq, prev = head
            seq, at = prev_seq + 1, now_ms()
            body = _body(seq, at, who, action, subject, counts, detail, prev)
            digest = _digest(body)
            props = {**body, "uid": str(seq).zfill(_WIDTH), "counts": json.dumps(counts), "hash": digest}
            try:
                written = store.run("audit_append", prev_seq=prev_seq, seq=seq, hash=digest, props=props)
            except (EngineUnavailable, QueryTimeout):
                raise
            except EngineError as e:  # the unique uid: another writer took this number first
                refused, written = e, []
            if written and written[0]["written"]:
                _heads[store] = (seq, digest)
                return _entry(props)
            head = None
            if not guessed:
                time.sleep(0.01)
    raise LineageError(
        f"could not append to the audit log after 50 tries ({action} {subject}), though the write "
        f"itself was done; last refusal: {refused}"
    )


def _entry(props: dict[str, Any]) -> AuditEntry:
    counts = props.get("counts") or "{}"
    return AuditEntry(
        seq=int(props["seq"]),
        at=iso(int(props["at"])) or "",
        who=str(props.get("who", "")),
        action=str(props.get("action", "")),
        subject=str(props.get("subject", "")),
        counts=json.loads(counts) if isinstance(counts, str) else {},
        detail=str(props.get("detail", "")),
        prev=str(props.get("prev", "")),
        hash=str(props.get("hash", "")),
    )


def _stored(store: Store, after: int, limit: int) -> list[dict[str, Any]]:
    return [row["props"] for row in store.run("audit_page", after=str(after).zfill(_WIDTH), limit=limit)]


def page(store: Store, after: int = 0, limit: int = 100) -> AuditPage:
    """Entries numbered after ``after``, oldest first."""
    rows = _stored(store, after, limit + 1)
    entries = [_entry(p) for p in rows[:limit]]
    more = len(rows) > limit
    return AuditPage(entries=entries, next_after=entries[-1].seq if more and entries else None)


def _walk(store: Store) -> Iterator[dict[str, Any]]:
    after = 0
    while rows := _stored(store, after, PAGE):
        yield from rows
        after = int(rows[-1]["seq"])


def _recomputed(props: dict[str, Any]) -> str | None:
    """The hash the entry's contents give, or None when they cannot be read at all."""
    try:
        counts = json.loads(props["counts"])
        values = [int(props["seq"]), int(props["at"]), *(props[k] for k in _FIELDS[2:5]), counts]
        body = _body(*values, props["detail"], props["prev"])
    except (KeyError, TypeError, ValueError):
        return None
    return _digest(body)


def verify(store: Store) -> Verification:
    """Walk the chain from the first entry; stop at the first that was altered, removed or moved."""
    expected_seq, prev, count = 1, "", 0

    def bad(seq: int, problem: str) -> Verification:
        return Verification(ok=False, entries=count, head=prev, problem=problem, first_bad=seq)

    for props in _walk(store):
        seq = int(props.get("seq", -1))
        if props.get("uid") != str(seq).zfill(_WIDTH):
            return bad(expected_seq, f"entry {props.get('uid')} was altered: its number reads {seq}")
        if seq != expected_seq:
            missing = (
                f"entry {expected_seq}" if seq == expected_seq + 1 else f"entries {expected_seq}-{seq - 1}"
            )
            before = f"entry {expected_seq - 1}" if expected_seq > 1 else "the start"
            return bad(expected_seq, f"{missing} removed: {before} is followed by entry {seq}")
        if props.get("prev") != prev:
            given = str(props.get("prev"))[:12]
            return bad(
                seq,
                f"entry {seq} does not chain to entry {seq - 1}: it names {given!r} before it, "
                f"entry {seq - 1}'s hash starts {prev[:12]!r}",
            )
        if _recomputed(props) != props.get("hash"):
            what = f"{props.get('action')} {props.get('subject')} by {props.get('who')}"
            return bad(seq, f"entry {seq} ({what}) was altered: its contents do not match its hash")
        prev, count, expected_seq = str(props["hash"]), count + 1, seq + 1
    head = store.run("audit_head")
    if head and int(head[0]["seq"]) != count:
        last = int(head[0]["seq"])
        problem = f"entries {count + 1}-{last} removed: the head records {last} entries, the log {count}"
        return bad(count + 1, problem)
    if head and head[0]["hash"] != prev:
        return bad(count, f"entry {count} was altered or replaced: the head records another hash for it")
    return Verification(ok=True, entries=count, head=prev)
