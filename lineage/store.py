"""The one place that holds the database session: queries are run by name, never by text.

A :class:`Store` is made once per process (the CLI's entry, the API's lifespan) and passed down.
It pairs an engine adapter with the query book, and creates the uid constraints on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from lineage.config import Settings
from lineage.engines import Engine, EngineInfo, Row, open_engine
from lineage.errors import LineageError
from lineage.model import CONSTRAINED_LABELS
from lineage.queries import Query, QueryBook, default_book
from lineage.topology import TopologyCache


class Store:
    def __init__(self, engine: Engine, settings: Settings, book: QueryBook | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.queries = book or default_book()
        #: The in-memory index of the lineage's shape; built only when asked (see :mod:`lineage.topology`).
        self.topology = TopologyCache(self)

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
        return self.engine.run(self._query(name, params), params, timeout_s)

    def run_over(self, name: str, param: str, values: Iterable[Any], chunk: int = 5_000) -> list[Row]:
        """``name`` over a long list given as ``param``, a chunk of it per statement: a supplier's
        trace names tens of thousands of nodes, more than one parameter list should carry."""
        items = list(values)
        return [
            row
            for i in range(0, len(items), chunk)
            for row in self.run(name, **{param: items[i : i + chunk]})
        ]

    def run_many(self, *names: str) -> list[list[Row]]:
        """Several read queries without parameters, in one round trip where the engine allows it."""
        for name in names:
            if not self.queries[name].read_only:
                raise LineageError(f"query '{name}' writes; run_many runs reads only")
        return self.engine.run_many([(self._query(name, {}), {}) for name in names])

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
