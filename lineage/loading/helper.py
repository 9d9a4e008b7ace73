"""A second process that checks JSON Lines records while the loading process files them.

Checking a record (pydantic-core parsing and validating it) is half of validating a large input,
and while the input is validated the database has nothing to do, so the machine's other core sits
idle. The helper reads the JSON Lines files it is given, checks every record with
:func:`lineage.loading.records.check` and sends the outcomes back marshalled, in chunks, since
reading an outcome back costs a fraction of checking it. The loading process files the outcomes in
file and line order, as if it had checked them itself, so what it reports and stores is the same.
The helper sends only checked records and the loading process builds the input alone: merging two
halves of an input built apart costs more than the second core saves.

The helper is its own program (``python -m lineage.loading.helper``), not a fork, since the caller
may be running threads (the API does). It reads its work from stdin, marshalled (file index, path)
pairs, and writes frames to stdout, each a 4-byte length and a marshalled tuple:
``("chunk", index, line numbers, outcomes)``, then ``("digest", index, SHA-256 hex)`` after a file's
last chunk, or ``("oserror", index, errno, message, path)`` for a file it cannot read.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import marshal
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lineage.errors import LineageError
from lineage.graph.gcpause import gc_paused
from lineage.loading.read import json_lines
from lineage.loading.records import Outcome, checked

_LENGTH = struct.Struct("<I")
#: The pipe's buffer: Linux lets any process have up to 1 MB (64 KB by default).
PIPE_BYTES = 1024 * 1024


class Helper:
    """The helper process checking the JSON Lines files at ``files`` (file index, path), in order."""

    def __init__(self, files: list[tuple[int, Path]]) -> None:
        self.indexes = {index for index, _ in files}
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        package_root = str(Path(__file__).resolve().parents[2])  # the same code, installed or not
        path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "lineage.loading.helper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._out = self._process.stdout
        with contextlib.suppress(OSError):  # room for a few frames, so neither side waits on the other
            fcntl.fcntl(self._out.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        try:
            self._process.stdin.write(marshal.dumps([(index, str(path)) for index, path in files]))
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # it stopped at once; the first read says why

    @property
    def pid(self) -> int:
        return self._process.pid

    def chunks(self, index: int, digests: dict[int, str]) -> Iterator[tuple[list[int], list[Outcome]]]:
        """(line numbers, outcomes) of file ``index``, which must be the next file not yet read;
        then its SHA-256 goes in ``digests``."""
        while True:
            frame = self._receive()
            if frame[1] != index:
                raise LineageError(f"the validation helper sent file {frame[1]} where {index} was due")
            if frame[0] == "chunk":
                yield frame[2], frame[3]
            elif frame[0] == "digest":
                digests[index] = frame[2]
                return
            else:
                raise OSError(frame[2], frame[3], frame[4])

    def _receive(self) -> tuple[Any, ...]:
        head = self._out.read(_LENGTH.size)
        blob = self._out.read(_LENGTH.unpack(head)[0]) if len(head) == _LENGTH.size else b""
        if not blob:
            raise self._stopped()
        return marshal.loads(blob)  # type: ignore[no-any-return]

    def _stopped(self) -> LineageError:
        status = self._process.wait()
        self._errors.seek(0)
        said = self._errors.read().decode(errors="replace").strip().splitlines()
        last = said[-1] if said else "nothing on stderr"
        return LineageError(f"the validation helper process stopped (exit status {status}): {last}")

    def close(self) -> None:
        """Stop the helper, done or not: a load that stops early wants no more outcomes."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._out.close()
        self._errors.close()


def serve(work: IO[bytes], out: IO[bytes]) -> None:
    """The helper's side: check each file it is given and send the outcomes."""
    for index, name in marshal.loads(work.read()):
        try:
            content = Path(name).read_bytes()
        except OSError as e:
            _send(out, ("oserror", index, e.errno, e.strerror, name))
            break
        for numbers, outcomes in checked(json_lines(content)):
            _send(out, ("chunk", index, numbers, outcomes))
        _send(out, ("digest", index, hashlib.sha256(content).hexdigest()))
    out.flush()


def _send(out: IO[bytes], frame: tuple[Any, ...]) -> None:
    blob = marshal.dumps(frame)
    out.write(_LENGTH.pack(len(blob)))
    out.write(blob)


if __name__ == "__main__":
    with gc_paused():  # what it checks is sent and freed chunk by chunk: nothing for a collector to find
        serve(sys.stdin.buffer, sys.stdout.buffer)
