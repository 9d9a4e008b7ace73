"""Turns raw records into a checked, de-duplicated :class:`Input`, or names every fault.

Nothing here touches the database; checks that need the graph live in :mod:`lineage.loading.checks`.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lineage.errors import Problem, ValidationFailed
from lineage.gcpause import gc_paused
from lineage.loading.read import expand_paths, read_records
from lineage.model import KINDS, RECORD_ADAPTER, Label, RelType

#: Stop collecting after this many problems: the first thousand say enough, and memory stays bounded.
MAX_PROBLEMS = 1000

Position = tuple[int, int]  # (file index, line)
RelKey = tuple[RelType, Label, Label]


@dataclass
class Input:
    """Validated input: nodes by label and uid, relationships by type and endpoints."""

    files: list[Path]
    digest: str = ""
    records: int = 0
    nodes: dict[Label, dict[str, tuple[dict[str, Any], Position]]] = field(default_factory=dict)
    rels: dict[RelKey, dict[tuple[str, str], tuple[dict[str, Any], Position]]] = field(default_factory=dict)

    def where(self, position: Position) -> tuple[str, int]:
        return str(self.files[position[0]]), position[1]

    def problem(self, position: Position, fld: str | None, message: str) -> Problem:
        source, line = self.where(position)
        return Problem(source, line, fld, message)

    @property
    def node_count(self) -> int:
        return sum(len(v) for v in self.nodes.values())

    @property
    def rel_count(self) -> int:
        return sum(len(v) for v in self.rels.values())


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


#: Below this much input a second process costs more than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


@dataclass
class _Part:
    """What one process validated: a slice of the files, with their problems and digests."""

    data: Input
    problems: list[Problem]
    digests: dict[int, str]


def validate(
    paths: Iterable[Path],
    on_record: Callable[[int], None] | None = None,
    workers: int = 1,
) -> Input:
    """Read and validate every record; raise :class:`ValidationFailed` naming each fault.

    With ``workers`` > 1 and a large input, the files are split into groups of about equal size and
    validated in parallel processes; duplicates across groups are still found when they are merged.
    """
    files = expand_paths(list(paths))
    sizes = [path.stat().st_size for path in files]
    groups = _groups(sizes, workers if sum(sizes) >= PARALLEL_MIN_BYTES else 1)
    if len(groups) == 1:
        parts = [_validate_part(files, groups[0], on_record)]
    else:
        context = multiprocessing.get_context("spawn")  # no fork: the caller may be running threads
        with ProcessPoolExecutor(len(groups) - 1, mp_context=context) as pool:
            futures = [pool.submit(_validate_part, files, group, None) for group in groups[1:]]
            parts = [_validate_part(files, groups[0], on_record)] + [f.result() for f in futures]
    data, problems = _merge(files, parts)
    digest = hashlib.sha256()
    for index, path in enumerate(files):
        digest.update(path.name.encode() + b"\0" + bytes.fromhex(data_digest(parts, index)))
    data.digest = digest.hexdigest()
    if problems:
        order = {str(path): index for index, path in enumerate(files)}
        problems.sort(key=lambda p: (order.get(p.source, -1), p.line or 0))
        raise ValidationFailed("the input has errors", problems[:MAX_PROBLEMS])
    if data.records == 0:
        raise ValidationFailed(
            "the input has errors",
            [Problem(", ".join(map(str, files)) or "(no files)", None, None, "no records")],
        )
    return data


def data_digest(parts: list[_Part], index: int) -> str:
    for part in parts:
        if index in part.digests:
            return part.digests[index]
    raise KeyError(index)


def _groups(sizes: list[int], workers: int) -> list[list[int]]:
    """File indexes in ``workers`` groups of about equal bytes (largest files first), each in order."""
    groups: list[list[int]] = [[] for _ in range(max(1, min(workers, len(sizes))))]
    loads = [0] * len(groups)
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        lightest = loads.index(min(loads))
        groups[lightest].append(index)
        loads[lightest] += sizes[index]
    return [sorted(group) for group in groups if group] or [[]]


def _merge(files: list[Path], parts: list[_Part]) -> tuple[Input, list[Problem]]:
    """Join the parts; a uid given in two parts with different properties is a problem."""
    data = parts[0].data
    problems = list(parts[0].problems)
    for part in parts[1:]:
        problems += part.problems
        data.records += part.data.records
        for tables, others, what in ((data.nodes, part.data.nodes, "uid"), (data.rels, part.data.rels, None)):
            for key, other in others.items():
                table = tables.setdefault(key, {})  # type: ignore[attr-defined]
                for item in table.keys() & other.keys():
                    (mine, here), (theirs, there) = table[item], other[item]
                    first, later = sorted((here, there))
                    if mine != theirs:
                        source, line = data.where(first)
                        message = f"{_name(key, item)} was already given at {source}:{line}"
                        problems.append(data.problem(later, what, message + " with different properties"))
                    other[item] = (mine, first)
                table.update(other)
    return data, problems


def _name(key: Any, item: Any) -> str:
    if isinstance(key, Label):
        return f"{key.value} {item!r}"
    return f"{key[0].value} {item[0]!r} -> {item[1]!r}"


def _validate_part(files: list[Path], indexes: list[int], on_record: Callable[[int], None] | None) -> _Part:
    with gc_paused():
        return _validate_files(files, indexes, on_record)


def _validate_files(files: list[Path], indexes: list[int], on_record: Callable[[int], None] | None) -> _Part:
    digests: dict[int, str] = {}
    data = Input(files=files)
    problems: list[Problem] = []
    count = 0
    validate_json = RECORD_ADAPTER.validate_json
    validate_python = RECORD_ADAPTER.validate_python
    labels = {label.value: label for label in Label}
    rel_types = {rel.value: rel for rel in RelType}

    for raw in read_records(files, indexes, digests):
        count += 1
        if on_record is not None and count % 10_000 == 0:
            on_record(count)
        position = raw[:2]
        try:
            if raw.json is not None:
                record = validate_json(raw.json)
            else:
                assert raw.row is not None
                if "__extra_cells__" in raw.row:
                    problems.append(data.problem(position, None, "more cells than header columns"))
                    continue
                record = validate_python(raw.row)
        except ValidationError as e:
            for detail in _tag_error(e):
                fld, message = _describe(detail)
                problems.append(data.problem(position, fld, message))
            if len(problems) >= MAX_PROBLEMS:
                break
            continue

        props = record.properties()
        label = labels.get(record.kind)
        if label is not None:
            table = data.nodes.setdefault(label, {})
            previous = table.get(record.uid)
            if previous is None:
                table[record.uid] = (props, position)
            elif previous[0] != props:
                source, line = data.where(previous[1])
                problems.append(
                    data.problem(
                        position,
                        "uid",
                        f"{label.value} {record.uid!r} was already given at {source}:{line} with "
                        "different properties",
                    )
                )
            continue

        try:
            key = (rel_types[record.kind], *record.endpoints)
        except ValueError as e:
            problems.append(data.problem(position, str(e).split()[0], str(e)))
            continue
        rels = data.rels.setdefault(key, {})
        pair = (record.from_, record.to)
        previous = rels.get(pair)
        if previous is None:
            rels[pair] = (props, position)
        elif previous[0] != props:
            source, line = data.where(previous[1])
            problems.append(
                data.problem(
                    position,
                    None,
                    f"{record.kind} {record.from_!r} -> {record.to!r} was already given at "
                    f"{source}:{line} with different properties",
                )
            )
        if len(problems) >= MAX_PROBLEMS:
            break

    if on_record is not None:
        on_record(count)
    data.records = count
    return _Part(data, problems, digests)
