"""What the topology index reads the graph through, and where the lineage stands.

The index (:mod:`.topology`, :mod:`.live`) is built and kept current from a :class:`Source`; the
store is one. Naming the protocol here, rather than the store, keeps the index below the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol


class Revision(NamedTuple):
    """Where the lineage stands: ``token`` is replaced whenever every index must be built again (a
    bulk load, a reset, a program that wrote the database directly); ``seq`` is the number of the
    last change in the database's change log, which an index catches up to (:mod:`.live`)."""

    token: str | None
    seq: int


class Source(Protocol):
    """The reads the index needs: named queries, and the lineage's revision."""

    def run(self, name: str, timeout_s: float | None = None, **params: Any) -> list[dict[str, Any]]: ...

    def run_many(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[list[dict[str, Any]]]: ...

    def revision(self) -> Revision: ...

    def revision_vouched(self, revision: Revision) -> bool: ...
