"""The one protocol both engines implement; nothing above the adapters knows which engine runs.

An adapter owns its client, the schema statements that differ between engines, and the mapping of
the client's errors to lineage's own (:mod:`lineage.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lineage.graph.queries import Query

Row = dict[str, Any]
#: (label, [(uid, properties)]) per label, and (type, from label, to label, [(from, to, properties)]).
NodeGroups = Iterable[tuple[str, Iterable[tuple[str, dict[str, Any]]]]]
RelGroups = Iterable[tuple[str, str, str, Iterable[tuple[str, str, dict[str, Any]]]]]


@dataclass(frozen=True)
class EngineInfo:
    engine: str
    location: str
    version: str
    details: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    name: str

    def run(self, query: Query, params: dict[str, Any], timeout_s: float | None = None) -> list[Row]:
        """Run one statement atomically; rows as dicts keyed by the header's column names."""
        ...

    def ensure_schema(self, labels: Sequence[str]) -> None:
        """Unique ``uid`` per label, enforced by the engine; idempotent."""
        ...

    def info(self) -> EngineInfo: ...

    def bulk_create(self, nodes: NodeGroups, rels: RelGroups) -> bool:
        """Create everything at once in a graph the caller has seen empty, by the engine's own bulk
        path, schema included; False (having written nothing) where the engine has none, and the
        caller upserts instead."""
        ...

    def checkpoint(self) -> None:
        """Make what was written cheap to recover (after a load); a no-op where the engine does it."""
        ...

    def signal_revision(self, token: str) -> None:
        """Called after every revision bump, with its token, so that :meth:`revision_epoch` moves in
        every process watching this graph; returns once every watcher can see it."""
        ...

    def revision_epoch(self) -> int | None:
        """A count that moves whenever the revision may have been bumped, without a round trip; a
        revision read while it stays the same still holds. None where the engine cannot tell (the
        revision is then read from the database every time)."""
        ...

    def close(self) -> None: ...
