"""Every error lineage raises derives from :class:`LineageError`, so callers catch one type.

::

    LineageError
    ├── ConfigError            settings that cannot work
    ├── QueryFileError         a malformed file in cypher/
    ├── EngineError            the database failed in a way the caller cannot fix
    │   ├── EngineUnavailable  the server cannot be reached or started
    │   └── QueryTimeout       a statement ran past its time limit
    ├── NotFound               a node named by the caller does not exist
    ├── InvalidRequest         a request that cannot be answered as asked (bad window, wrong kind)
    ├── Conflict               a change the record's state does not allow (activate a closed recall)
    ├── ScopeTooLarge          a scope passed its node limit or time limit
    ├── NotPermitted           a request outside what the caller's key may see (a supplier's)
    └── InputRejected          input that must not be written
        ├── ValidationFailed   records that break the format (file, line, field)
        ├── RecordsNotPermitted records about parties the caller's key may not write for
        ├── MissingReferences  relationships naming nodes that exist nowhere
        ├── CycleDetected      material that would consume itself
        ├── HeldBatchShipped   a shipment of a batch that a recall holds
        └── HeldLotConsumed    a new batch consuming a lot that a recall holds

The API maps these to HTTP problems in one handler; the CLI prints ``str(error)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Self


class LineageError(Exception):
    """Base of every lineage error; ``str()`` is a message meant for a person."""


class ConfigError(LineageError):
    pass


class QueryFileError(LineageError):
    pass


class EngineError(LineageError):
    pass


class EngineUnavailable(EngineError):
    pass


class QueryTimeout(EngineError):
    pass


class NotFound(LineageError):
    def __init__(self, label: str, uid: str) -> None:
        self.label = label
        self.uid = uid
        super().__init__(f"no {label} with uid {uid!r}")


class InvalidRequest(LineageError):
    pass


class Conflict(LineageError):
    pass


class ScopeTooLarge(LineageError):
    """A scope stopped at a limit; ``limit`` names which one so the caller knows what to narrow."""

    def __init__(self, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(message)


class NotPermitted(LineageError):
    pass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, placed as precisely as the input allows."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


@dataclass(frozen=True)
class Notice:
    """Something in the input that was taken, though not as the standard would have it (an
    identifier kept opaque, a field no context defines): ``kind`` says what, for counting."""

    kind: str
    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        return str(self.problem())

    def problem(self) -> Problem:
        """The notice as a fault: what ``--strict`` refuses the input for."""
        return Problem(self.source, self.line, self.field, f"{self.kind}: {self.message}")


class InputRejected(LineageError):
    """Input refused as a whole: nothing of it was written."""

    def __init__(self, headline: str, problems: list[Problem], shown: int = 50) -> None:
        self.headline = headline
        self.problems = problems
        self.shown = shown
        super().__init__(self._render())

    def _render(self) -> str:
        problems, shown = self.problems, self.shown
        lines = [
            f"{self.headline} ({len(problems)} problem{'s' if len(problems) != 1 else ''}); "
            "nothing was written:"
        ]
        lines += [f"  {p}" for p in problems[:shown]]
        if len(problems) > shown:
            lines.append(f"  ... and {len(problems) - shown} more")
        return "\n".join(lines)

    def renamed(self, rename: Callable[[str], str]) -> Self:
        """The same refusal with its sources renamed (an upload's temporary path to its name)."""
        clone = type(self).__new__(type(self))  # not copy.copy: it would call __init__ with args
        clone.__dict__.update(self.__dict__)
        clone.problems = [replace(p, source=rename(p.source)) for p in self.problems]
        clone.args = (clone._render(),)
        return clone


class ValidationFailed(InputRejected):
    pass


class MissingReferences(InputRejected):
    pass


class RecordsNotPermitted(InputRejected):
    pass


class HeldBatchShipped(InputRejected):
    pass


class HeldLotConsumed(InputRejected):
    pass


class CycleDetected(InputRejected):
    def __init__(self, cycle: list[str], problems: list[Problem]) -> None:
        self.cycle = cycle
        super().__init__(f"material flow cycle {' -> '.join(cycle)}", problems)
