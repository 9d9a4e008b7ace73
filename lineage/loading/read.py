"""Reads input files into raw records that remember where they came from.

JSON Lines (``.jsonl``, ``.ndjson``): one object per line with a ``kind``. CSV (``.csv``): a header
row; the kind comes from a ``kind`` column or, if there is none, from the file name
(``Batch.csv``, ``CONSUMED_BY.csv``). JSON-LD (``.jsonld``, ``.json``) or XML (``.xml``): an EPCIS
document (JSON-LD 2.0, XML 1.2 or 2.0), mapped to records by
:mod:`lineage.interchange.epcis.mapping`. A folder stands for the input files inside it, in name order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from lineage.errors import Notice, Problem, ValidationFailed
from lineage.graph.schema import KINDS

if TYPE_CHECKING:
    from lineage.interchange.epcis.mapping import StoredEvent

EPCIS_SUFFIXES = (".jsonld", ".json", ".xml")
SUFFIXES = (".jsonl", ".ndjson", ".csv", *EPCIS_SUFFIXES)


#: JSON bytes, or a CSV row with empty cells dropped, or an EPCIS event to keep.
Raw: TypeAlias = "bytes | dict[str, str] | StoredEvent"


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to read, in a stable order; missing paths and unknown formats are named together."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file() and _input(p))
            if not found:
                problems.append(
                    Problem(str(path), None, None, f"folder holds no {', '.join(SUFFIXES)} files")
                )
            files.extend(found)
        elif not path.exists():
            problems.append(Problem(str(path), None, None, "no such file or folder"))
        elif path.suffix not in SUFFIXES:
            problems.append(Problem(str(path), None, None, f"unknown format; expected {', '.join(SUFFIXES)}"))
        else:
            files.append(path)
    if problems:
        raise ValidationFailed("cannot read the input", problems)
    return files


def _input(path: Path) -> bool:
    """In a folder, a ``.json``, ``.jsonld`` or ``.xml`` file is input only if it is an EPCIS
    document (a generator's ``samples.json`` beside its data is not); named on its own, it must be one."""
    if path.suffix not in EPCIS_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(65536)
    return any(kind in head for kind in (b"EPCISDocument", b"EPCISQueryDocument", b"EPCISMasterDataDocument"))


def _csv_kind(path: Path) -> str | None:
    stem = path.stem
    for kind in KINDS:
        if stem.lower() == kind.lower():
            return kind
    return None


def read_file(
    index: int,
    path: Path,
    digests: dict[int, str],
    encoding: str = "utf-8",
    notices: list[Notice] | None = None,
) -> Iterator[tuple[int, Raw]]:
    """The records of one file with their lines; its SHA-256 goes in ``digests`` under ``index``,
    and what an EPCIS document had taken though not as written in ``notices``. ``encoding``: a
    CSV file's (JSON is UTF-8 by its standard)."""
    if path.suffix == ".csv":
        digest = hashlib.sha256()
        yield from _read_csv(path, digest, encoding)
        digests[index] = digest.hexdigest()
    elif path.suffix in EPCIS_SUFFIXES:
        digests[index] = hashlib.sha256(path.read_bytes()).hexdigest()
        yield from _read_epcis(path, [] if notices is None else notices)
    else:
        content = path.read_bytes()
        digests[index] = hashlib.sha256(content).hexdigest()
        yield from json_lines(content)


def decoded(path: Path, content: bytes, encoding: str) -> str:
    """``content`` as text in ``encoding`` (a UTF-8 byte-order mark dropped); text in another
    encoding is refused with the line and byte where it stops being ``encoding``."""
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        return content.decode(encoding)
    except LookupError:
        raise ValidationFailed(
            "cannot read the input", [Problem(str(path), None, None, f"unknown encoding {encoding!r}")]
        ) from None
    except UnicodeDecodeError as e:
        line = content.count(b"\n", 0, e.start) + 1
        name = "UTF-8" if encoding == "utf-8-sig" else encoding
        message = (
            f"not {name} text: byte 0x{content[e.start]:02x} at offset {e.start}; the file is read as "
            f"{name}; name its encoding (lineage load --encoding latin-1, or charset=... in the "
            "upload's Content-Type)"
        )
        raise ValidationFailed("cannot read the input", [Problem(str(path), line, None, message)]) from None


def is_json_lines(path: Path) -> bool:
    return path.suffix not in (".csv", *EPCIS_SUFFIXES)


def json_lines(content: bytes) -> Iterator[tuple[int, bytes]]:
    """The lines of a JSON Lines file that hold something, numbered from 1. The file is read whole:
    line by line costs more than its size in memory."""
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.strip():
            yield number, line


def _read_epcis(path: Path, notices: list[Notice]) -> Iterator[tuple[int, Raw]]:
    """An EPCIS 2.0 document, checked whole, as lineage records; a record's line is its event's
    number in the document."""
    from lineage.interchange.epcis.document import read_document
    from lineage.interchange.epcis.mapping import records, stored_events

    document = read_document(path)
    notices += document.notices
    for number, record in records(document):
        yield number, json.dumps(record).encode()
    for number, event in stored_events(document):
        yield number, event


def _read_csv(path: Path, digest: hashlib._Hash, encoding: str) -> Iterator[tuple[int, Raw]]:
    text = decoded(path, path.read_bytes(), encoding)
    digest.update(text.encode())
    reader = csv.DictReader(io.StringIO(text, newline=""))  # rows end at CR / LF only, as CSV says
    if reader.fieldnames is None:
        return
    file_kind = _csv_kind(path)
    if "kind" not in reader.fieldnames and file_kind is None:
        raise ValidationFailed(
            "cannot read the input",
            [
                Problem(
                    str(path),
                    1,
                    "kind",
                    "no 'kind' column and the file name is not a kind; name the file after its kind "
                    f"(one of {', '.join(KINDS)}) or add a 'kind' column",
                )
            ],
        )
    for row in reader:
        number = reader.line_num  # the row's (last) line in the file: a quoted cell may hold line breaks
        values = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        if None in row:
            values["__extra_cells__"] = str(row[None])  # type: ignore[index]
        elif None in row.values():  # the row ended before the header's last column
            given = sum(v is not None for v in row.values())
            values["__missing_cells__"] = f"{given} of {len(reader.fieldnames)}"
        if "kind" not in values and file_kind is not None:
            values["kind"] = file_kind
        yield number, values
