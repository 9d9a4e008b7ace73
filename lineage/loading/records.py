"""One raw record checked against the record schema: the record to store, or what is wrong with it.

Both the loading process and its validation helper (:mod:`lineage.loading.helper`) check records
here, so a record gets the same answer wherever it was checked. A checked record is a plain dict of
text, numbers, booleans and None (the schema makes nothing else), which the helper sends back with
:mod:`marshal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from pydantic import ValidationError

from lineage.graph.schema import KINDS, RECORD_ADAPTER

#: What is wrong with a record: (field or None for the whole record, message) for each fault.
Faults = list[tuple[str | None, str]]
#: A checked record, or its faults.
Outcome = dict[str, Any] | Faults

#: Records per chunk: about 200 KB of outcomes when the helper sends them.
CHUNK = 2048

_validate_json = RECORD_ADAPTER.validator.validate_json  # the core validator: no Python wrapper
_validate_python = RECORD_ADAPTER.validator.validate_python


def check(raw: bytes | dict[str, str]) -> Outcome:
    """A JSON line, or a CSV row with its empty cells dropped."""
    try:
        if raw.__class__ is bytes:
            return _validate_json(raw)  # type: ignore[no-any-return]
        if "__extra_cells__" in raw:
            return [(None, "more cells than header columns")]
        if "__missing_cells__" in raw:
            return [(None, f"fewer cells than header columns ({raw['__missing_cells__']})")]
        return _validate_python(raw)  # type: ignore[no-any-return]
    except ValidationError as e:
        return [_describe(detail) for detail in _tag_error(e)]


def checked(lines: Iterable[tuple[int, Any]]) -> Iterator[tuple[list[int], list[Any]]]:
    """(line numbers, outcomes) of numbered raw records, :data:`CHUNK` at a time. A record that is
    neither a JSON line nor a CSV row (an EPCIS event to keep, checked when its document was read)
    passes as it is."""
    lines = iter(lines)
    while part := list(islice(lines, CHUNK)):
        outcomes = [check(raw) if raw.__class__ in _RAW else raw for _, raw in part]
        yield [number for number, _ in part], outcomes


_RAW = (bytes, dict)


def _describe(error: dict[str, Any]) -> tuple[str | None, str]:
    kind = error["type"]
    loc = [str(part) for part in error.get("loc", ())]
    if kind == "union_tag_not_found":
        return "kind", f"missing; expected one of {', '.join(KINDS)}"
    if kind == "union_tag_invalid":
        return "kind", f"unknown kind {error.get('input', '')!r}; expected one of {', '.join(KINDS)}"
    if kind == "json_invalid":
        return None, f"not valid JSON: {error['msg'].removeprefix('Invalid JSON: ')}"
    if kind == "model_attributes_type" or kind == "model_type":
        return None, "expected a JSON object"
    field_name = ".".join(loc[1:]) or None
    message = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown field (misspelt?)"
    return field_name, message


def _tag_error(error: ValidationError) -> list[dict[str, Any]]:
    details = error.errors(include_url=False)
    for detail in details:
        if detail["type"] == "union_tag_invalid":
            detail["input"] = detail.get("ctx", {}).get("tag", detail.get("input"))
    return details
