"""The embedded FalkorDB: private socket, shared safely between processes, and durable."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import short_tmpdir

from lineage.config import Settings
from lineage.errors import ConfigError, EngineUnavailable
from lineage.graph.engines.embedded_server import EmbeddedServer
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import forward
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.demo import demo_dir


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = short_tmpdir("lin-srv-")
    yield path
    EmbeddedServer(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def redis_processes(socket: Path) -> list[str]:
    done = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if "redis-server" in line and str(socket) in line]


def test_private_socket_no_tcp_port_and_stopped_by_the_last_user(data_dir: Path) -> None:
    store = Store.open(Settings(data_dir=data_dir))
    server = store.engine.server  # type: ignore[attr-defined]
    assert stat.S_IMODE(server.socket.stat().st_mode) == 0o700
    config = store.engine._db.connection.config_get("port")  # type: ignore[attr-defined]
    assert config == {"port": "0"}
    assert "bolt" not in server.logfile.read_text().lower()
    assert len(redis_processes(server.socket)) == 1
    store.close()
    assert server.pid() is None and not server.socket.exists()
    assert redis_processes(server.socket) == []


def test_data_survives_a_restart(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    with Store.open(settings) as store:
        load(store, [demo_dir()])
        before = forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471"))
    assert EmbeddedServer(data_dir).pid() is None  # stopped: this process was its only user
    with Store.open(settings) as store:
        after = forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471"))
    assert (after.to_dict() | {"elapsed_ms": 0}) == (before.to_dict() | {"elapsed_ms": 0})


def test_acknowledged_writes_survive_kill_9(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    server = EmbeddedServer(data_dir)
    server.acquire()
    server.keep()
    with Store.open(settings) as store:
        load(store, [demo_dir()])
    time.sleep(1.5)  # appendfsync everysec
    pid = server.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    server.release()
    with Store.open(settings) as store:
        assert forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471")).uids(Label.CUSTOMER) == {
            "C-DIST-NORTH", "C-RET-N1", "C-RET-S1", "C-RET-E1",
        }  # fmt: skip


def test_two_processes_share_one_server(data_dir: Path) -> None:
    """Started at the same moment, two processes end up on one server; the last one out stops it.
    Each step waits on a condition (a file, a line, an exit), never on a time."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from lineage.config import Settings
        from lineage.graph.store import Store
        folder = Path({str(data_dir)!r})
        while not (folder / "go").exists():
            time.sleep(0.001)
        store = Store.open(Settings(data_dir=folder))
        print(store.engine.server.pid(), flush=True)
        while not (folder / ("leave-" + sys.argv[1])).exists():
            time.sleep(0.01)
        store.close()
        """
    )
    children = [
        subprocess.Popen([sys.executable, "-c", script, name], stdout=subprocess.PIPE, text=True)
        for name in ("0", "1")
    ]
    try:
        (data_dir / "go").touch()
        assert children[0].stdout is not None and children[1].stdout is not None
        pids = [child.stdout.readline().strip() for child in children]  # both are on a server now
        assert pids[0] == pids[1] and pids[0].isdigit()
        server = EmbeddedServer(data_dir)
        assert len(redis_processes(server.socket)) == 1
        (data_dir / "leave-0").touch()
        assert children[0].wait(timeout=60) == 0
        assert server.answers(), "the first process to leave must not stop a server still in use"
        (data_dir / "leave-1").touch()
        assert children[1].wait(timeout=60) == 0
        assert server.pid() is None and redis_processes(server.socket) == []
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)
            if child.stdout is not None:
                child.stdout.close()


def test_the_server_stops_on_sigterm(data_dir: Path) -> None:
    """A server left behind (by a test or a process that failed) is stopped by a plain SIGTERM."""
    server = EmbeddedServer(data_dir)
    server.acquire()
    server.keep()
    server.release()
    pid = server.pid()
    assert pid is not None and server.answers()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while redis_processes(server.socket):
        assert time.monotonic() < deadline, "the server ignored SIGTERM"
        time.sleep(0.05)
    assert server.pid() is None


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINEAGE_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "lineage.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_start_keeps_it_running_and_stop_ends_it(data_dir: Path) -> None:
    server = EmbeddedServer(data_dir)
    started = cli(data_dir, "start")
    assert started.returncode == 0, started.stderr
    pid = server.pid()
    assert pid is not None and server.kept
    assert "running, pid" in cli(data_dir, "status").stdout
    assert cli(data_dir, "load", str(demo_dir())).returncode == 0
    assert server.pid() == pid, "a one-shot command must not stop a server kept by lineage start"
    stopped = cli(data_dir, "stop")
    assert "stopped the embedded FalkorDB" in stopped.stdout
    assert server.pid() is None and not server.kept
    assert "no embedded FalkorDB was running" in cli(data_dir, "stop").stdout


def test_a_one_shot_command_stops_the_server_it_started(data_dir: Path) -> None:
    done = cli(data_dir, "status")
    assert done.returncode == 0, done.stderr
    assert "not running (started for this command, stopped after it)" in done.stdout
    assert EmbeddedServer(data_dir).pid() is None


def test_a_data_dir_too_deep_for_a_socket_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    with pytest.raises(ConfigError, match=r"too deep for a Unix socket path .* set LINEAGE_DATA_DIR"):
        EmbeddedServer(deep)


def test_the_append_only_file_is_rewritten_only_by_lineage(data_dir: Path) -> None:
    with Store.open(Settings(data_dir=data_dir)) as store:
        config = store.engine._db.connection.config_get("auto-aof-rewrite-percentage")  # type: ignore[attr-defined]
        assert config == {"auto-aof-rewrite-percentage": "0"}
        assert store.engine._db.connection.config_get("appendonly") == {"appendonly": "yes"}  # type: ignore[attr-defined]


def test_what_was_appended_since_the_snapshot_is_read_from_the_files_as_the_server_counts_it(
    data_dir: Path,
) -> None:
    """A load that appended little leaves the file alone without asking the server: what the
    files say was appended since the last snapshot is what the server reports."""
    with Store.open(Settings(data_dir=data_dir)) as store:
        load(store, [demo_dir()])
        server, client = store.engine.server, store.engine._db.connection  # type: ignore[attr-defined]
        for step in range(3):
            store.run("admin_delete_some", limit=5)
            state = client.info("persistence")
            assert server._appended_bytes() == state["aof_current_size"] - state["aof_base_size"] > 0
            if step == 1:
                assert server.compact(min_growth=1, client=client)
                assert server._appended_bytes() == 0


class HangsAfterPing(EmbeddedServer):
    """Each server it starts (the first ``hangs`` of them) answers PING and then nothing, as one
    FalkorDB server once did on its first graph command: stopped with SIGSTOP once PING answered."""

    def __init__(self, data_dir: Path, hangs: int) -> None:
        super().__init__(data_dir)
        self.probe_timeout_s = 1.0
        self.hangs = hangs
        self.hung: list[int] = []

    def _wait_ready(self, pid: int | None) -> None:
        super()._wait_ready(pid)
        if len(self.hung) < self.hangs:
            self.hung.append(self.pid() or 0)
            os.kill(self.hung[-1], signal.SIGSTOP)


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_new_server_that_answers_ping_but_no_graph_command_is_replaced(data_dir: Path) -> None:
    server = HangsAfterPing(data_dir, hangs=1)
    server.acquire()
    try:
        assert len(server.hung) == 1 and gone(server.hung[0])
        assert server.pid() not in (None, server.hung[0])
        with Store.open(Settings(data_dir=data_dir)) as store:
            load(store, [demo_dir()])
            assert forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471")).counts()["Batch"] > 0
    finally:
        server.release()


def test_a_server_that_hangs_twice_is_named_and_none_is_left_running(data_dir: Path) -> None:
    server = HangsAfterPing(data_dir, hangs=2)
    with pytest.raises(EngineUnavailable, match="graph module did not, twice") as raised:
        server.acquire()
    assert str(server.logfile) in str(raised.value)
    assert len(server.hung) == 2 and all(gone(pid) for pid in server.hung)
    assert server.pid() is None and not server.socket.exists()
