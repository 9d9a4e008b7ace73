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

    def run_many(self, statements: Sequence[tuple[Query, dict[str, Any]]]) -> list[list[Row] | Exception]:
        """Run statements in order, each atomically, in as few round trips as the engine allows;
        each one's rows, or the lineage error it failed with. Every statement is run even when
        an earlier one failed: give only statements that stay correct whatever came before."""
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

    def signal_revision(self, signal: str) -> None:
        """Called after every change of the revision: ``seq <n> <token>`` after logged writes up to
        change log entry ``n`` (the token stays), the new token after a bump; so that
        :meth:`revision_epoch` says so in every process watching this graph. Returns once every
        watcher can see it."""
        ...

    def revision_epoch(self) -> tuple[int, dict[str, int]] | None:
        """Without a round trip: a count that moves whenever the revision's token may have changed,
        and the highest change log number signalled with each token. A revision read while the
        count stays the same still holds, but for the number signalled with its token when higher.
        None where the engine cannot tell (the revision is then read from the database every
        time)."""
        ...

    def close(self) -> None: ...
