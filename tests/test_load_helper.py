"""The validation helper: a second process checks JSON Lines records, and the load comes out the same."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from lineage import LineageError, ValidationFailed
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import forward
from lineage.graph.store import Store
from lineage.loading import records
from lineage.loading.helper import Helper
from lineage.loading.load import load
from lineage.loading.validate import MAX_PROBLEMS, Input, validate
from lineage.samples.demo import demo_dir
from lineage.samples.generate import generate_plant

EPCIS = Path(__file__).parents[1] / "fixtures" / "epcis" / "valid" / "AggregationEvent.json"


def as_checked(data: Input) -> tuple[Any, ...]:
    """Everything a load goes on to use, in the order it was filed."""
    return (
        data.records,
        data.digest,
        [(label, list(table.items())) for label, table in data.nodes.items()],
        [(key, list(pairs.items())) for key, pairs in data.rels.items()],
        data.events,
    )


def helpers_running() -> list[int]:
    """This process's children that are validation helpers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"lineage.loading.helper" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture
def checked_here(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What this process checks itself: with the helper, never a JSON line."""
    seen: list[Any] = []
    check = records.check

    def spy(raw: Any) -> Any:
        seen.append(raw)
        return check(raw)

    monkeypatch.setattr(records, "check", spy)
    return seen


def test_the_helper_gives_the_same_input_as_checking_here(tmp_path: Path, checked_here: list[Any]) -> None:
    """JSON Lines, CSV and an EPCIS document together, blank lines included: the same records, the
    same positions, in the same order."""
    generate_plant(tmp_path / "plant", nodes=3000, seed=3)
    (tmp_path / "plant" / "3-spaced.jsonl").write_text(
        '\n{"kind": "Supplier", "uid": "S-spaced"}\n   \n{"kind": "Supplier", "uid": "S-last"}\n'
    )
    paths = [demo_dir(), tmp_path / "plant", EPCIS]

    lines = {
        line
        for folder in paths[:2]
        for path in folder.glob("*.jsonl")
        for line in path.read_bytes().splitlines()
    }
    here = validate(paths)
    assert lines & {raw for raw in checked_here if isinstance(raw, bytes)}
    checked_here.clear()
    helped = validate(paths, helper_min_bytes=0)
    assert checked_here and not lines & {raw for raw in checked_here if isinstance(raw, bytes)}  # CSV, EPCIS
    assert as_checked(helped) == as_checked(here)
    assert here.nodes[Label.SUPPLIER]["S-last"][1] == (
        here.files.index(tmp_path / "plant" / "3-spaced.jsonl"),
        4,
    )
    assert not helpers_running()


def test_the_helper_names_the_same_problems(tmp_path: Path) -> None:
    lot = {"kind": "MaterialLot", "uid": "L1", "material": "flour"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join(
            [
                json.dumps(lot),
                "{not json",
                json.dumps({"kind": "Widget", "uid": "W"}),
                json.dumps({**lot, "material": "salt"}),
                json.dumps({"kind": "Batch", "uid": "B1", "product": "p", "started_at": "yesterday"}),
                json.dumps({"kind": "CONSUMED_BY", "from": "L1", "to": "B1", "from_label": "Bat"}),
                json.dumps({"kind": "CONSUMED_BY", "from": "L1", "to": "B1", "from_label": "Customer"}),
            ]
        )
    )
    (tmp_path / "Customer.csv").write_text("uid,name,region\nC1,Shop,\n")
    paths = [bad, tmp_path / "Customer.csv"]

    def problems(helper_min_bytes: int | None) -> list[str]:
        with pytest.raises(ValidationFailed) as caught:
            validate(paths, helper_min_bytes=helper_min_bytes)
        return [str(problem) for problem in caught.value.problems]

    named = problems(0)
    assert named == problems(None)
    assert [problem.split(": ", 1)[0].rsplit(":", 1)[1] for problem in named] == [
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "2",
    ]
    assert (
        named[2] == f"{bad}:4: uid: MaterialLot 'L1' was already given at {bad}:1 with different properties"
    )
    assert named[3].startswith(f"{bad}:5: started_at: 'yesterday' is not an ISO-8601 time")
    assert named[4].startswith(f"{bad}:6: from_label: Input should be 'Supplier', 'MaterialLot'")
    assert named[6] == f"{tmp_path / 'Customer.csv'}:2: region: Field required"


@pytest.mark.parametrize("helper_min_bytes", [0, None], ids=["helper", "here"])
def test_a_validation_stopped_at_the_cap_stops_its_helper(
    tmp_path: Path, helper_min_bytes: int | None
) -> None:
    """The files after the cap are never read, nor their digests asked for."""
    lines = [json.dumps({"kind": "Batch", "uid": f"B{i}"}) for i in range(MAX_PROBLEMS * 20)]
    (tmp_path / "1-many.jsonl").write_text("\n".join(lines))
    (tmp_path / "2-more.jsonl").write_text("\n".join(lines))
    with pytest.raises(ValidationFailed) as caught:
        validate([tmp_path], helper_min_bytes=helper_min_bytes)
    assert len(caught.value.problems) == MAX_PROBLEMS
    assert {problem.source for problem in caught.value.problems} == {str(tmp_path / "1-many.jsonl")}
    assert not helpers_running()


def test_a_helper_that_dies_is_named(tmp_path: Path) -> None:
    path = tmp_path / "lots.jsonl"
    path.write_text("\n".join(json.dumps({"kind": "Supplier", "uid": f"S{i}"}) for i in range(50_000)))
    helper = Helper([(0, path)])
    try:
        os.kill(helper.pid, signal.SIGKILL)
        with pytest.raises(LineageError, match=r"validation helper process stopped \(exit status -9\)"):
            list(helper.chunks(0, {}))
    finally:
        helper.close()
    assert not helpers_running()


def test_a_file_the_helper_cannot_read_is_named(tmp_path: Path) -> None:
    helper = Helper([(0, tmp_path / "gone.jsonl")])
    try:
        with pytest.raises(FileNotFoundError, match=r"gone\.jsonl"):
            list(helper.chunks(0, {}))
    finally:
        helper.close()


def test_a_load_through_the_helper_scopes_as_one_checked_here(
    store: Store, monkeypatch: pytest.MonkeyPatch, checked_here: list[Any]
) -> None:
    monkeypatch.setattr(store.settings, "load_helper_min_bytes", 0)
    load(store, [demo_dir()])
    assert checked_here and not any(isinstance(raw, bytes) for raw in checked_here)  # Customer.csv only
    scope = forward(store, NodeRef(Label.MATERIAL_LOT, "L-4471"))
    assert {node.ref.uid for node in scope.nodes} >= {"L-4471", "B-1001"}
