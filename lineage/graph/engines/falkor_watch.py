"""Knowing, without a round trip, that the lineage's revision has not moved since it was last read.

Every scope asks whether the index still matches the graph (see :mod:`lineage.graph.topology`). Asked of
the database, that is a query through FalkorDB's worker threads, and the wake-ups around it cost
as much again: together about half of a lot's whole scope. The server can say
instead when the answer may have changed: every revision bump also sets a signal key
(:meth:`FalkorEngine.signal_revision`), and a connection of the watch's own asks the server (RESP3
client tracking in broadcast mode) to push a message to it whenever that key is set, by any process.
So while nothing has arrived on that connection, the revision read last still holds; checking costs
one ``poll`` with no wait (a non-blocking ``recv`` would raise an exception every time nothing had
come, a noticeable share of a small trace).

Nothing is missed: the signal is set after the bump, and the bump does not return to its caller
until a later command has been answered, by which time the server has written the push to every
watching socket (it writes a command's replies and pushes before it reads the next command). A
watch that loses its connection, or has none yet, vouches for nothing, so the revision is read.
"""

from __future__ import annotations

import select
import socket
import threading
from pathlib import Path

#: How long connecting and enabling tracking may take before the watch gives up (and the revision is
#: read from the database instead, as without a watch).
_SETUP_TIMEOUT_S = 2.0


def _command(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class RevisionWatch:
    """Counts the times the signal key may have changed. :meth:`epoch` returns the count, or None
    when the watch cannot vouch for anything (no connection): a revision read while the count stays
    the same is still the revision."""

    def __init__(self, socket_path: Path, key: str) -> None:
        self._path = str(socket_path)
        self._key = key
        self._sock: socket.socket | None = None
        self._ready = select.poll()  # whether anything arrived on _sock
        self._epoch = 0
        self._lock = threading.Lock()

    def epoch(self) -> int | None:
        with self._lock:
            if self._sock is None and not self._connect():
                return None
            assert self._sock is not None
            try:
                while self._ready.poll(0):
                    if not self._sock.recv(65536):  # an empty read: the server closed the connection
                        break
                    self._epoch += 1  # a push: the signal changed, so the count moves
                else:
                    return self._epoch  # nothing (more) has arrived
            except OSError:
                pass
            self._drop()
            return None

    def _connect(self) -> bool:
        """A new connection, tracking the key. Any change before it is unknown to this watch, so the
        count moves: a revision read before it no longer holds."""
        self._epoch += 1
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(_SETUP_TIMEOUT_S)
            sock.connect(self._path)
            tracking = _command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self._key)
            sock.sendall(_command("HELLO", "3") + tracking)
            received = b""
            while b"+OK\r\n" not in received:  # HELLO's reply is a map of bulk strings, never "+OK"
                chunk = sock.recv(65536)
                received += chunk
                if not chunk or received.startswith(b"-") or b"\r\n-" in received:
                    raise OSError(f"the server refused client tracking: {received[-200:]!r}")
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
