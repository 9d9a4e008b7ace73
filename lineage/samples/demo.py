"""The hand-written demo dairy that ships with lineage, and its contaminated lot."""

from __future__ import annotations

from pathlib import Path

from lineage.graph.model import Label, NodeRef

DEMO_BAD_LOT = NodeRef(Label.MATERIAL_LOT, "L-4471")


def demo_dir() -> Path:
    """The installed copy (wheel) if there is one, else the repository's ``fixtures/demo``."""
    package = Path(__file__).resolve().parents[1]  # lineage/
    for candidate in (package / "_data" / "demo", package.parent / "fixtures" / "demo"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no demo fixtures beside {package}")
