"""Knowing, without a round trip, what the lineage's revision is since it was last read.

Every scope asks whether the index still matches the graph (see :mod:`lineage.graph.live`). Asked of
the database, that is a query through FalkorDB's worker threads, and the wake-ups around it cost
as much again: together about half of a lot's whole scope. The server can say instead when the
answer has changed: every change of the revision is also published on a channel
(:meth:`FalkorEngine.signal_revision`), and a connection of the watch's own is subscribed to it, so
a message arrives whenever any process changes the revision. A logged write publishes the token and
the change log number it reached (``seq <n> <token>``): the revision is then known without reading
it, while the token is the one read last.
Anything else (a new token) means the revision must be read again. Checking costs one ``poll`` with
no wait (a non-blocking ``recv`` would raise an exception every time nothing had come, a noticeable
share of a small trace).

Nothing is missed: the message is published after the change, and the publisher does not return
to its caller until a later command has been answered, by which time the server has written the
message to every subscribed socket (it writes a command's replies and pushes before it reads the
next command). A watch that loses its connection, or has none yet, vouches for nothing, so the
revision is read.
"""

from __future__ import annotations

import select
import socket
import threading
from pathlib import Path

#: How long connecting and enabling tracking may take before the watch gives up (and the revision is
#: read from the database instead, as without a watch).
_SETUP_TIMEOUT_S = 2.0
#: Tokens whose highest change log number is kept (a token lives until the next bump).
_TOKENS = 16


def _command(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class RevisionWatch:
    """Counts the changes of the revision that were not logged writes, and keeps the highest change
    log number published with each token. :meth:`epoch` returns both, or None when the watch cannot
    vouch for anything (no connection): a revision read while the count stays the same is still the
    revision, but for a higher number published since with its token."""

    def __init__(self, socket_path: Path, channel: str) -> None:
        self._path = str(socket_path)
        self._channel = channel
        self._sock: socket.socket | None = None
        self._ready = select.poll()  # whether anything arrived on _sock
        self._epoch = 0
        self._seqs: dict[str, int] = {}
        self._pending = b""  # the start of a message not whole yet
        self._lock = threading.Lock()

    def epoch(self) -> tuple[int, dict[str, int]] | None:
        with self._lock:
            if self._sock is None and not self._connect():
                return None
            assert self._sock is not None
            try:
                while self._ready.poll(0):
                    data = self._sock.recv(65536)
                    if not data:  # the server closed the connection
                        break
                    self._pending = self._read(self._pending + data)
                else:
                    return self._epoch, dict(self._seqs)  # nothing (more) has arrived
            except (OSError, ValueError):
                pass
            self._drop()
            return None

    def _read(self, data: bytes) -> bytes:
        """Take in every whole message in ``data``; the rest is returned, to be completed."""
        while data:
            parts, rest = _push(data)
            if parts is None:
                return data
            data = rest
            if parts[0] != b"message":
                continue
            words = parts[-1].decode().split(" ")
            if words[0] == "seq" and len(words) == 3:
                seq, token = int(words[1]), words[2]
                if token not in self._seqs and len(self._seqs) >= _TOKENS:
                    del self._seqs[next(iter(self._seqs))]  # the oldest token's
                self._seqs[token] = max(self._seqs.get(token, 0), seq)
            else:
                self._epoch += 1
        return b""

    def _connect(self) -> bool:
        """A new connection, subscribed. Any change before it is unknown to this watch, so the
        count moves: a revision read before it no longer holds."""
        self._epoch += 1
        self._pending = b""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(_SETUP_TIMEOUT_S)
            sock.connect(self._path)
            sock.sendall(_command("HELLO", "3") + _command("SUBSCRIBE", self._channel))
            received = b""
            while b"\r\n$9\r\nsubscribe\r\n" not in received:  # the push that confirms it
                chunk = sock.recv(65536)
                received += chunk
                if not chunk or received.startswith(b"-") or b"\r\n-" in received:
                    raise OSError(f"the server refused the subscription: {received[-200:]!r}")
            sock.setblocking(False)
        except OSError:
            sock.close()
            return False
        self._sock = sock
        self._ready = select.poll()
        self._ready.register(sock, select.POLLIN)
        return True

    def _drop(self) -> None:
        """Without a connection the watch vouches for nothing; the next one moves the count."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def _push(data: bytes) -> tuple[list[bytes] | None, bytes]:
    """One RESP3 push of bulk strings and integers from the start of ``data`` and what follows it;
    None when it is not whole yet. Anything else on the connection is an error (ValueError)."""
    if not data.startswith(b">"):
        raise ValueError(f"unexpected reply on the watch's connection: {data[:40]!r}")
    end = data.find(b"\r\n")
    if end < 0:
        return None, data
    count, at, parts = int(data[1:end]), end + 2, []
    for _ in range(count):
        end = data.find(b"\r\n", at)
        if end < 0:
            return None, data
        kind, head = data[at : at + 1], data[at + 1 : end]
        if kind == b":":
            parts.append(head)
            at = end + 2
        elif kind == b"$":
            size = int(head)
            if len(data) < end + 2 + size + 2:
                return None, data
            parts.append(data[end + 2 : end + 2 + size])
            at = end + 2 + size + 2
        else:
            raise ValueError(f"unexpected part of a push on the watch's connection: {kind!r}")
    return parts, data[at:]
