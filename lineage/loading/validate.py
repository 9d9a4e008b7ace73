"""Turns raw records into a checked, de-duplicated :class:`Input`, or names every fault.

Each record is checked against the schema (:mod:`lineage.loading.records`), here or, for a large
input, in a helper process (:mod:`lineage.loading.helper`); either way this process files the
outcomes in file and line order, so the input and its problems come out the same. Nothing here
touches the database; checks that need the graph live in :mod:`lineage.loading.checks`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineage.errors import Notice, Problem, ValidationFailed
from lineage.graph.gcpause import gc_paused
from lineage.graph.model import LABEL_BY_NAME, NODE_DEFAULTS, REL_TYPE_BY_NAME, Label, RelType
from lineage.graph.schema import endpoints
from lineage.interchange.epcis.mapping import StoredEvent
from lineage.loading.helper import Helper
from lineage.loading.read import EPCIS_SUFFIXES, expand_paths, is_json_lines, read_file
from lineage.loading.records import Outcome, checked

#: Stop collecting after this many problems: the first thousand say enough, and memory stays bounded.
MAX_PROBLEMS = 1000

Position = tuple[int, int]  # (file index, line)
NO_DEFAULTS: dict[str, str] = {}
RelKey = tuple[RelType, Label, Label]


@dataclass
class Input:
    """Validated input: nodes by label and uid, relationships by type and endpoints."""

    files: list[Path]
    digest: str = ""
    records: int = 0
    nodes: dict[Label, dict[str, tuple[dict[str, Any], Position]]] = field(default_factory=dict)
    rels: dict[RelKey, dict[tuple[str, str], tuple[dict[str, Any], Position]]] = field(default_factory=dict)
    #: EPCIS events and their mentions of objects by label and uid
    #: (:func:`lineage.interchange.epcis.mapping.stored_events`), kept beside the lineage.
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: What was taken though not as written (:class:`lineage.errors.Notice`), in file order.
    notices: list[Notice] = field(default_factory=list)

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


def validate(
    paths: Iterable[Path],
    on_record: Callable[[int], None] | None = None,
    helper_min_bytes: int | None = None,
    encoding: str = "utf-8",
    strict: bool = False,
) -> Input:
    """Read and validate every record; raise :class:`ValidationFailed` naming each fault (with
    ``strict``, each notice too). CSV files are read as ``encoding`` (UTF-8 by default, a
    byte-order mark allowed); JSON is always UTF-8.

    When the JSON Lines files hold ``helper_min_bytes`` or more (never when it is None), a helper
    process checks their records (:mod:`lineage.loading.helper`) while this one files them.
    """
    files = expand_paths(list(paths))
    with gc_paused():
        data, problems, digests = _validate_files(files, on_record, helper_min_bytes, encoding)
    if problems:  # before the digest: stopped at the cap, the files after were never read
        raise ValidationFailed("the input has errors", problems)
    if strict and data.notices:
        raise ValidationFailed(
            "the input has warnings, refused as --strict asks", [n.problem() for n in data.notices]
        )
    if data.records == 0:
        raise ValidationFailed(
            "the input has errors",
            [Problem(", ".join(map(str, files)) or "(no files)", None, None, "no records")],
        )
    digest = hashlib.sha256()
    for index, path in enumerate(files):
        digest.update(path.name.encode() + b"\0" + bytes.fromhex(digests[index]))
    data.digest = digest.hexdigest()
    return data


def _validate_files(
    files: list[Path], on_record: Callable[[int], None] | None, helper_min_bytes: int | None, encoding: str
) -> tuple[Input, list[Problem], dict[int, str]]:
    digests: dict[int, str] = {}
    data = Input(files=files)
    problems: list[Problem] = []
    count = 0
    labels, rel_types, defaults = LABEL_BY_NAME, REL_TYPE_BY_NAME, NODE_DEFAULTS
    node_tables: dict[Label, dict[str, tuple[dict[str, Any], Position]]] = {}
    #: EPCIS documents: several name the same objects, each event adding what it says.
    epcis = {index for index, path in enumerate(files) if path.suffix in EPCIS_SUFFIXES}
    rel_tables: dict[tuple[str, str | None, str | None], dict[tuple[str, str], Any]] = {}

    with closing(_checked(files, digests, helper_min_bytes, encoding, data.notices)) as chunks:
        for index, numbers, outcomes in chunks:
            for number, record in zip(numbers, outcomes, strict=True):
                if len(problems) >= MAX_PROBLEMS:  # one check for every way a record can add problems
                    break
                if record.__class__ is StoredEvent:  # made by the EPCIS reader, already checked
                    known = data.events.setdefault(record.label, {}).setdefault(record.uid, {})
                    known.update({**record.props, **known})
                    continue
                count += 1
                if on_record is not None and count % 10_000 == 0:
                    on_record(count)
                position = (index, number)
                if record.__class__ is list:  # its faults
                    problems += [data.problem(position, fld, message) for fld, message in record]
                    continue

                # The record is a fresh dict: take the addressing out, and what is left are the properties.
                # One lookup each for the node table or the relationship table (by kind and any labels
                # given), and one for the entry: a load runs this millions of times.
                kind = record.pop("kind")
                label = labels.get(kind)
                if label is not None:
                    uid = record.pop("uid")
                    for name, value in defaults.get(label, NO_DEFAULTS).items():
                        record.setdefault(name, value)
                    table = node_tables.get(label)
                    if table is None:
                        table = node_tables[label] = data.nodes.setdefault(label, {})
                    entry = (record, position)
                    previous = table.setdefault(uid, entry)
                    if previous is not entry and previous[0] != record:
                        if index in epcis and previous[1][0] in epcis:
                            previous[0].update(record)  # a later document's event says it later
                            continue
                        source, line = data.where(previous[1])
                        given = f"{label.value} {uid!r} was already given at {source}:{line}"
                        problems.append(data.problem(position, "uid", f"{given} with different properties"))
                    continue

                src, dst = record.pop("from"), record.pop("to")
                addressed = (kind, record.pop("from_label", None), record.pop("to_label", None))
                rels = rel_tables.get(addressed)
                if rels is None:
                    try:
                        ends = endpoints(*addressed)
                    except ValueError as e:
                        problems.append(data.problem(position, str(e).split()[0], str(e)))
                        continue
                    rels = rel_tables[addressed] = data.rels.setdefault((rel_types[kind], *ends), {})
                entry = (record, position)
                previous = rels.setdefault((src, dst), entry)
                if previous is not entry and previous[0] != record:
                    if index in epcis and previous[1][0] in epcis:
                        _merge_events(previous[0], record)
                        continue
                    source, line = data.where(previous[1])
                    given = f"{kind} {src!r} -> {dst!r} was already given at {source}:{line}"
                    problems.append(data.problem(position, None, f"{given} with different properties"))
            if len(problems) >= MAX_PROBLEMS:
                break

    if on_record is not None:
        on_record(count)
    data.records = count
    return data, problems, digests


def _merge_events(known: dict[str, Any], record: dict[str, Any]) -> None:
    """A relationship that two EPCIS documents' events make: one, resting on both events, with the
    quantity of each event that is new to it added (in one unit)."""
    had = known.get("evidence", "").split()
    new = [e for e in record.get("evidence", "").split() if e not in had]
    if new and "quantity" in record and "quantity" in known and record.get("unit") == known.get("unit"):
        known["quantity"] += record["quantity"]
    known.update({k: v for k, v in record.items() if k not in ("evidence", "quantity")})
    if had or new:
        known["evidence"] = " ".join([*had, *new])


#: (file index, line numbers, and for each line its outcome, or an EPCIS event to keep).
Chunk = tuple[int, list[int], list["Outcome | StoredEvent"]]


def _checked(
    files: list[Path],
    digests: dict[int, str],
    helper_min_bytes: int | None,
    encoding: str,
    notices: list[Notice],
) -> Iterator[Chunk]:
    """Every record checked, in file and line order; each file's SHA-256 goes in ``digests``."""
    lines = [(index, path) for index, path in enumerate(files) if is_json_lines(path)]
    size = sum(path.stat().st_size for _, path in lines)
    helper = Helper(lines) if lines and helper_min_bytes is not None and size >= helper_min_bytes else None
    try:
        for index, path in enumerate(files):
            if helper is not None and index in helper.indexes:
                for numbers, outcomes in helper.chunks(index, digests):
                    yield index, numbers, outcomes
                continue
            for numbers, outcomes in checked(read_file(index, path, digests, encoding, notices)):
                yield index, numbers, outcomes
    finally:
        if helper is not None:
            helper.close()
