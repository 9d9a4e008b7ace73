"""A real API process for the tests: ``lineage serve`` on a free port over its own data directory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from conftest import short_tmpdir

from lineage.graph.engines.embedded_server import EmbeddedServer
from lineage.samples.demo import demo_dir

KEYS = {
    "viewer": "viewer-key-1",
    "editor": "editor-key-2",
    "admin": "admin-key-3",
    "supplier": "supplier-key-4",
    "regulator": "regulator-key-5",
}
#: What each test key may do: the supplier's key is Northfield Milk Co-op's, which supplied L-4471.
GRANTS: dict[str, object] = {
    "viewer": "viewer",
    "editor": "editor",
    "admin": "admin",
    "supplier": {"role": "supplier", "supplier": "SUP-MILKCO", "label": "Northfield uploads"},
    "regulator": {"role": "regulator", "label": "food authority"},
}


@dataclass
class Api:
    url: str
    data_dir: Path

    def client(self, role: str | None = "viewer") -> httpx.Client:
        headers = {"X-API-Key": KEYS[role]} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    demo: bool = True,
    keys: bool = True,
    data: Path | None = None,
    args: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[Api]:
    """Start the API (with ``data``, or else the demo if asked, loaded first; ``args`` added to
    ``lineage serve``), yield it, stop it and check that it stopped the embedded server it started."""
    data_dir = short_tmpdir("lin-api-")
    env = {**os.environ, "LINEAGE_DATA_DIR": str(data_dir)}
    env |= {f"LINEAGE_{k.upper()}": v for k, v in settings.items()}
    if keys:
        env["LINEAGE_API_KEYS"] = json.dumps({key: GRANTS[role] for role, key in KEYS.items()})
    if data or demo:
        subprocess.run(
            [sys.executable, "-m", "lineage.cli", "load", str(data or demo_dir())],
            env=env,
            check=True,
            capture_output=True,
        )
    port = free_port()
    # The server's log goes to a file: a pipe nobody reads until the end fills up (64 KiB of access
    # lines under a fuzzing test) and the server then blocks writing its log.
    log_path = data_dir / "api.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=30)
                raise RuntimeError(f"the API did not start:\n{log_path.read_text()}") from None
            time.sleep(0.1)
    try:
        yield Api(url, data_dir)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        output = log_path.read_text()
        assert "Exception in ASGI application" not in output, f"an error escaped the handlers:\n{output}"
        assert EmbeddedServer(data_dir).pid() is None, "the API must stop the embedded server it started"
        shutil.rmtree(data_dir, ignore_errors=True)
