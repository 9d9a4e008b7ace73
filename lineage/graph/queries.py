"""Loads every Cypher query from ``cypher/`` once, checking each file's header against its body.

A query file starts with ``//`` header lines, then the statement::

    // name: scope_batch_consumers
    // params: uids
    // returns: src, dst, quantity, unit
    // mode: read
    // why: one hop per call, so the caller keeps the visited set and cost follows the scope.
    UNWIND $uids AS u ...

``name`` must equal the file name, every ``$parameter`` in the body must be declared in ``params``
(and every declared one used), and ``mode`` tells the adapters whether a read replica may serve it.
A write also says what it ``changes``: ``lineage`` (the nodes, relationships and properties a scope
walks: such a statement also appends its entry to the change log and returns its ``seq``, and every
process's topology index applies it, see :mod:`lineage.graph.live`; one that returns no ``seq`` has every
index built again) or ``records`` (lineage's own bookkeeping: loads, recalls, holds, the audit log,
which no scope reads).
A file that breaks any of this stops start-up with its path and the line at fault, instead of
failing later on the one request that needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from lineage.errors import QueryFileError

_HEADER = re.compile(r"^//\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_REQUIRED = ("name", "params", "returns", "mode", "why")


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    text: str
    params: tuple[str, ...]
    returns: tuple[str, ...]
    mode: Literal["read", "write"]
    why: str
    #: For a write, what it changes: ``lineage`` or ``records``; None for a read.
    changes: Literal["lineage", "records"] | None = None

    @property
    def read_only(self) -> bool:
        return self.mode == "read"

    @property
    def changes_lineage(self) -> bool:
        return self.changes == "lineage"


def _names(value: str) -> tuple[str, ...]:
    if value.strip().lower() == "none":
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_query_file(path: Path) -> Query:
    """Parse one file; raise :class:`QueryFileError` naming the file and line on any fault."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise QueryFileError(f"{path}: cannot read query file: {e}") from e
    header: dict[str, str] = {}
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _HEADER.match(line)
        if match is None:
            if line.lstrip().startswith("//"):
                continue  # a free comment inside the header block
            body_start = number - 1
            break
        key, value = match.groups()
        if key in header:
            raise QueryFileError(f"{path}:{number}: header '{key}' given twice")
        header[key] = value
    missing = [key for key in _REQUIRED if key not in header]
    if missing:
        raise QueryFileError(f"{path}:1: header lacks {', '.join(missing)}")
    if header["name"] != path.stem:
        raise QueryFileError(
            f"{path}:1: header name '{header['name']}' differs from the file name '{path.stem}'"
        )
    mode = header["mode"]
    if mode not in ("read", "write"):
        raise QueryFileError(f"{path}:1: mode must be read or write, not '{mode}'")
    changes = header.get("changes")
    if mode == "write" and changes not in ("lineage", "records"):
        raise QueryFileError(
            f"{path}:1: a write must say what it changes ('changes: lineage' or 'changes: records'), "
            f"not {changes!r}"
        )
    if mode == "read" and changes is not None:
        raise QueryFileError(f"{path}:1: a read changes nothing; drop 'changes: {changes}'")
    body = "\n".join(lines[body_start:]).strip()
    if not body:
        raise QueryFileError(f"{path}:{body_start + 1}: no statement after the header")
    declared = _names(header["params"])
    used = set(_PARAM.findall(_STRING.sub("''", body)))
    if used - set(declared):
        raise QueryFileError(
            f"{path}: body uses undeclared parameter(s) {', '.join(sorted(used - set(declared)))}"
        )
    if set(declared) - used:
        raise QueryFileError(
            f"{path}: header declares unused parameter(s) {', '.join(sorted(set(declared) - used))}"
        )
    return Query(
        name=header["name"],
        path=path,
        text=body,
        params=declared,
        returns=_names(header["returns"]),
        mode=mode,  # type: ignore[arg-type]
        why=header["why"],
        changes=changes,  # type: ignore[arg-type]
    )


def default_query_dir() -> Path:
    """The installed copy (wheel) if there is one, else the repository's ``cypher/``."""
    package = Path(__file__).resolve().parents[1]  # lineage/
    for candidate in (package / "_data" / "cypher", package.parent / "cypher"):
        if candidate.is_dir():
            return candidate
    raise QueryFileError(f"no cypher/ folder beside {package}")


class QueryBook:
    """Every query by name; built once per process."""

    def __init__(self, queries: dict[str, Query]) -> None:
        self._queries = queries

    @classmethod
    def load(cls, directory: Path | None = None) -> QueryBook:
        directory = directory or default_query_dir()
        queries: dict[str, Query] = {}
        for path in sorted(directory.rglob("*.cypher")):
            query = parse_query_file(path)
            if query.name in queries:
                raise QueryFileError(
                    f"{path}: name '{query.name}' is also used by {queries[query.name].path}"
                )
            queries[query.name] = query
        if not queries:
            raise QueryFileError(f"{directory}: no .cypher files")
        return cls(queries)

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise QueryFileError(f"no query named '{name}' in cypher/") from None

    def __contains__(self, name: str) -> bool:
        return name in self._queries

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)


@cache
def default_book() -> QueryBook:
    return QueryBook.load()
