"""The one place that holds the database session: queries are run by name, never by text.

A :class:`Store` is made once per process (the CLI's entry, the API's lifespan) and passed down.
It pairs an engine adapter with the query book, and creates the uid constraints on first use. After
every statement that changes the lineage it keeps the topology index current (:mod:`lineage.graph.live`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from lineage.config import Settings
from lineage.errors import LineageError
from lineage.graph.cache import TopologyCache
from lineage.graph.engines import Engine, EngineInfo, NodeGroups, RelGroups, Row, open_engine
from lineage.graph.model import CONSTRAINED_LABELS
from lineage.graph.queries import Query, QueryBook, default_book
from lineage.graph.source import Revision

#: Every this many entries, the writer trims the change log to the last ``change_log_keep``.
TRIM_EVERY = 1_000


def _at(revision: Revision, signalled: dict[str, int]) -> Revision:
    """``revision`` moved on to the highest change log entry signalled with its token, when that is
    later (logged writes since it was read)."""
    seq = signalled.get(revision.token or "", 0)
    return revision if seq <= revision.seq else Revision(revision.token, seq)


class Store:
    def __init__(self, engine: Engine, settings: Settings, book: QueryBook | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.queries = book or default_book()
        #: The in-memory index of the lineage's shape; built only when asked (see :mod:`.topology`).
        self.topology = TopologyCache(self)
        #: The revision read last, with the engine's revision epoch taken just before reading it.
        self._revision_seen: tuple[int, Revision] | None = None

    @classmethod
    def open(cls, settings: Settings | None = None) -> Store:
        settings = settings or Settings()
        book = default_book()  # a broken query file fails here, before the engine is touched
        engine = open_engine(settings)
        try:
            engine.ensure_schema(list(CONSTRAINED_LABELS))
        except BaseException:
            engine.close()
            raise
        return cls(engine, settings, book)

    def run(self, name: str, timeout_s: float | None = None, **params: Any) -> list[Row]:
        query = self._query(name, params)
        try:
            rows = self.engine.run(query, params, timeout_s)
        except BaseException:
            if query.changes_lineage:  # a statement cut short may have written part of its rows
                self.bump_revision()
            raise
        if query.changes_lineage:
            self._changed([(query, rows)])
        return rows

    def run_many(self, statements: Sequence[tuple[str, dict[str, Any]]]) -> list[list[Row]]:
        """Several statements in order, in as few round trips as the engine allows (one on the
        embedded engine): the rows of each. Every one is sent even if an earlier one fails, and the
        first failure is raised once each that succeeded is accounted for, so give only statements
        that stay correct whatever came before them (upserts, reads, a load's own rows)."""
        queries = [(self._query(name, params), params) for name, params in statements]
        writes = any(query.changes_lineage for query, _ in queries)
        try:
            results = self.engine.run_many(queries)
        except BaseException:
            if writes:
                self.bump_revision()
            raise
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            if writes:
                self.bump_revision()
            raise failed
        done = [rows for rows in results if not isinstance(rows, BaseException)]
        self._changed([(q, rows) for (q, _), rows in zip(queries, done, strict=True) if q.changes_lineage])
        return done

    def _changed(self, written: list[tuple[Query, list[Row]]]) -> None:
        """After statements that changed the lineage: if each logged its change (its query file
        returns the entry's ``seq``), the entries are applied to this process's index and signalled
        to the others, once for all; otherwise the revision's token moves, so that every index is
        built again."""
        if not written:
            return
        if not all(self.settings.index_deltas and "seq" in query.returns and rows for query, rows in written):
            self.bump_revision()
            return
        seqs = [int(rows[0]["seq"]) for _, rows in written]
        token = written[-1][1][0].get("token") or ""  # the revision's, as the last entry was written
        self.engine.signal_revision(f"seq {max(seqs)} {token}")
        keep = self.settings.change_log_keep
        for seq in seqs:
            if seq % TRIM_EVERY == 0 and seq > keep:
                while self.run("change_log_trim", before=seq - keep, limit=50_000)[0]["trimmed"]:
                    pass
        self.topology.written(max(seqs))

    def bump_revision(self) -> None:
        """Give the lineage a new revision token, after (never before) a write to it: every topology
        index, in this process or another, is then built again (see :mod:`lineage.graph.live`)."""
        token = secrets.token_hex(8)
        self.engine.run(self.queries["revision_bump"], {"token": token})
        self.engine.signal_revision(token)

    def revision(self) -> Revision:
        """The lineage's revision; from the database only when the engine cannot vouch for it (every
        scope asks, and a read is a round trip): while no new token was signalled since the last
        read, it is that revision, at the highest change log number signalled since."""
        state = self.engine.revision_epoch()  # before the read: a change after it moves the epoch
        seen = self._revision_seen
        if state is not None and seen is not None and seen[0] == state[0]:
            return _at(seen[1], state[1])
        rows = self.run("topology_revision")
        revision = Revision(rows[0]["token"], rows[0].get("seq") or 0) if rows else Revision(None, 0)
        if state is not None:
            self._revision_seen = (state[0], revision)
        return revision

    def revision_vouched(self, revision: Revision) -> bool:
        """Whether the engine vouches, without a round trip, that the revision is still ``revision``
        (never, where it cannot tell): a caller that must not wait on the database asks this."""
        state = self.engine.revision_epoch()
        seen = self._revision_seen
        if state is None or seen is None or seen[0] != state[0]:
            return False
        return _at(seen[1], state[1]) == revision

    def bulk_create(self, nodes: NodeGroups, rels: RelGroups) -> bool:
        """The engine's bulk path into an empty graph (:meth:`Engine.bulk_create`), then a new revision."""
        try:
            return self.engine.bulk_create(nodes, rels)
        finally:
            self.bump_revision()

    def run_over(self, name: str, param: str, values: Iterable[Any], chunk: int = 5_000) -> list[Row]:
        """``name`` over a long list given as ``param``, a chunk of it per statement: a supplier's
        trace names tens of thousands of nodes, more than one parameter list should carry."""
        items = list(values)
        return [
            row
            for i in range(0, len(items), chunk)
            for row in self.run(name, **{param: items[i : i + chunk]})
        ]

    def _query(self, name: str, params: dict[str, Any]) -> Query:
        query = self.queries[name]
        missing = set(query.params) - params.keys()
        extra = params.keys() - set(query.params)
        if missing or extra:
            raise LineageError(
                f"query '{name}' takes {', '.join(query.params) or 'no parameters'}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        return query

    def info(self) -> EngineInfo:
        return self.engine.info()

    def clear(self) -> None:
        """Delete every node and relationship, keeping the schema (tests, ``lineage reset``)."""
        while self.run("admin_delete_some", limit=50_000)[0]["deleted"]:
            pass

    def close(self) -> None:
        self.topology.drop()
        self.engine.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
