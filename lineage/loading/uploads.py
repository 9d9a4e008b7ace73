"""Loading input that arrives as bytes (an HTTP upload) rather than as files on disk.

Each upload is written under its own name into a private temporary folder and loaded exactly as
``lineage load`` loads files, so the formats, the validation and the all-or-nothing rule are the
same; problems and the report name the uploads, not the temporary paths.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

from lineage.errors import InputRejected
from lineage.graph.store import Store
from lineage.loading.load import LoadReport, load
from lineage.loading.read import decoded

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """The last part of an uploaded file name, with nothing that could leave the folder."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[:120] or "upload"


Upload = tuple[str, bytes, str | None]


def load_uploads(
    store: Store,
    uploads: list[Upload],
    who: str | None = None,
    supplier: str | None = None,
    strict: bool = False,
) -> LoadReport:
    """Load ``(name, content, charset)`` uploads; a name's suffix gives its format, as for files,
    and a CSV upload's charset (None: UTF-8) its encoding, each its own. ``supplier`` and
    ``strict``: as for :func:`lineage.loading.load.load`."""
    with tempfile.TemporaryDirectory(prefix="lineage-upload-") as folder:
        paths: list[Path] = []
        names: dict[str, str] = {}
        try:
            for index, (name, content, encoding) in enumerate(uploads):
                place = Path(folder) / str(index)  # one folder each: two uploads may share a name
                place.mkdir()
                path = place / safe_name(name)
                names[str(path)] = name
                if encoding and path.suffix == ".csv":  # read as declared, handed on as UTF-8
                    content = decoded(path, content, encoding).encode()
                path.write_bytes(content)
                paths.append(path)
            report = load(store, paths, who=who, supplier=supplier, strict=strict)
        except InputRejected as e:
            raise e.renamed(lambda source: names.get(source, source)) from None
    return dataclasses.replace(
        report,
        files=[names.get(f, f) for f in report.files],
        notices=[dataclasses.replace(n, source=names.get(n.source, n.source)) for n in report.notices],
    )
