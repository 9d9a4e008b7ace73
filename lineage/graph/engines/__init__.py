"""Engine adapters behind one protocol, chosen from settings by :func:`open_engine`."""

from __future__ import annotations

from lineage.config import Settings
from lineage.graph.engines.base import Engine, EngineInfo, NodeGroups, RelGroups, Row


def open_engine(settings: Settings) -> Engine:
    """Connect to (and for the embedded engine, start or reuse) the engine the settings name."""
    if settings.engine == "falkordb":
        from lineage.graph.engines.falkor import FalkorEngine

        return FalkorEngine(settings)
    from lineage.graph.engines.neo4j import Neo4jEngine

    return Neo4jEngine(settings)


__all__ = ["Engine", "EngineInfo", "NodeGroups", "RelGroups", "Row", "open_engine"]
