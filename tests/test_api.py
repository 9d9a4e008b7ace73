"""The API process over real HTTP: one store per process, opened in the lifespan."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import short_tmpdir

from lineage.engines.embedded_server import EmbeddedServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    data_dir = short_tmpdir("lin-api-")
    port = free_port()
    env = {**os.environ, "LINEAGE_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield base
    process.terminate()
    process.communicate(timeout=30)
    assert EmbeddedServer(data_dir).pid() is None, "the API must stop the embedded server it started"
    shutil.rmtree(data_dir, ignore_errors=True)


def test_health_names_the_engine(api: str) -> None:
    response = httpx.get(f"{api}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["engine"] == "falkordb" and body["version"].startswith("FalkorDB 4.")


def test_openapi_docs_are_served(api: str) -> None:
    assert "/health" in httpx.get(f"{api}/openapi.json").json()["paths"]
