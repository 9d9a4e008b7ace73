"""What ``lineage status`` reports: engine, location, data size, interrupted loads."""

from __future__ import annotations

from typing import Any

from lineage.config import Settings
from lineage.graph.model import RECORD_LABELS, readable
from lineage.graph.store import Store


def collect(settings: Settings) -> dict[str, Any]:
    server_note = None
    if settings.engine == "falkordb":
        from lineage.graph.engines.embedded_server import EmbeddedServer

        server = EmbeddedServer(settings.data_dir, settings.server_start_timeout_s)
        pid = server.pid() if server.answers() else None
        if pid is None:
            server_note = "not running (started for this command, stopped after it)"
        else:
            server_note = f"running, pid {pid}" + (" (kept by lineage start)" if server.kept else "")
    with Store.open(settings) as store:
        report = data_report(store)
    if server_note:
        report["server"] = server_note
    return report


def data_report(store: Store) -> dict[str, Any]:
    """Which engine and where, how much data by kind, and loads that were cut short."""
    info = store.info()
    counts = store.run("admin_label_counts")
    nodes = {row["label"]: row["nodes"] for row in counts if row["label"] not in RECORD_LABELS}
    signals = next((row["nodes"] for row in counts if row["label"] == "Signal"), 0)
    return {
        "engine": info.engine,
        "version": info.version,
        "location": info.location,
        "details": info.details,
        "nodes": dict(sorted(nodes.items())),
        "relationships": store.run("admin_relationship_count")[0]["relationships"],
        "signals": signals,
        "interrupted_loads": [readable(run) for run in store.run("load_runs_interrupted")],
    }
