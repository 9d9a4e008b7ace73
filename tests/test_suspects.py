"""Common-cause analysis finds a planted cause. The generator plants a bad lot, a miscalibrated
machine over a window of its runs, or a bad warehouse, and derives complaint forms from the units
they affected, with noise (complaints about units nothing touched, forms without a batch code or
without anything traceable); the planted cause must rank first, across seeds. Two causes at once
rank first and second: a lot and a warehouse planted by the generator, and two lots planted here."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

import pytest

from lineage.complaints.intake import ComplaintForm, intake
from lineage.complaints.ranking import SIGNIFICANCE
from lineage.complaints.suspects import common_cause
from lineage.graph.model import Label, NodeRef
from lineage.graph.scope import forward
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.generate import CAUSE_CATEGORY, CAUSES, Cause, generate_plant


def production_batches(store: Store, lot: str) -> list[str]:
    scope = forward(store, NodeRef(Label.MATERIAL_LOT, lot), properties=(Label.BATCH,))
    return sorted(
        n.uid
        for n in scope.nodes
        if n.label == Label.BATCH and n.properties.get("batch_type") == "production"
    )


def plant(store: Store, tmp_path: Path, seed: int) -> tuple[random.Random, dict[str, list[str]]]:
    generate_plant(tmp_path / "data", 4000, seed=seed)
    load(store, [tmp_path / "data"])
    samples = json.loads((tmp_path / "data" / "samples.json").read_text())
    return random.Random(seed), samples


def complain(store: Store, batches: list[str]) -> list[str]:
    return [intake(store, ComplaintForm(channel="phone", category="spoilage", batch=b)).uid for b in batches]


def planted_lots(
    store: Store, rng: random.Random, samples: dict[str, list[str]], count: int
) -> dict[str, list[str]]:
    """``count`` lots, each into at least 5 production batches, none sharing one with another."""
    chosen: dict[str, list[str]] = {}
    taken: set[str] = set()
    for lot in rng.sample(samples["lots"], len(samples["lots"])):
        batches = production_batches(store, lot)
        if len(batches) >= 5 and not taken & set(batches):
            chosen[lot] = batches
            taken |= set(batches)
            if len(chosen) == count:
                return chosen
    raise AssertionError("the generated plant has too few separate lots to plant in")


def planted(
    store: Store, tmp_path: Path, causes: list[Cause], seed: int
) -> tuple[list[dict], list[dict], list[str]]:
    """Generate a plant with ``causes``, load it and take its complaint forms in: what was planted,
    the forms, and the complaint uids."""
    forms_file = tmp_path / "complaints.jsonl"
    stats = generate_plant(tmp_path / "data", 6000, seed=seed, plant=causes, complaints_file=forms_file)
    load(store, [tmp_path / "data"])
    forms = [json.loads(line) for line in forms_file.read_text().splitlines()]
    uids = [intake(store, ComplaintForm.model_validate(f), signal=False).uid for f in forms]
    return stats.samples["planted"], forms, uids


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cause", CAUSES)
def test_a_planted_cause_ranks_first(store: Store, tmp_path: Path, cause: Cause, seed: int) -> None:
    (plan,), forms, uids = planted(store, tmp_path, [cause], seed)
    result = common_cause(store, uids)
    first = result.suspects[0]
    top = [(s.label, s.uid, s.score, s.window) for s in result.suspects[:4]]
    assert (first.label, first.uid) == (plan["label"], plan["uid"]), top
    assert first.explains_first == 1 and first.lift > 1 and first.chance < SIGNIFICANCE
    assert result.by_category[first.category][0] == first
    # What a planted cause brought: most of its complaints are what it explains.
    brought = {f["uid"] for f in forms if f["category"] == CAUSE_CATEGORY[cause]}
    assert len(set(first.complaints) & brought) >= 0.6 * len(brought)
    if cause == "machine":
        assert first.window is not None
        assert _ms(first.window["from"]) < plan["to"] and _ms(first.window["to"]) > plan["from"]
    if cause == "warehouse":
        assert (first.category, first.basis) == ("environment", "deliveries")
        placed = len(uids) - len(result.untraced) - len(result.unplaced)
        assert (
            first.hits == round(first.support * placed)
            and sum(r.complaints for r in result.regions) == placed
        )
        assert first.name == f"Customer {plan['uid']}"
    # Forms with neither batch code nor serial cannot be traced, and say why.
    blind = {f["uid"] for f in forms if "batch" not in f and "serial" not in f}
    assert {u for u, why in result.untraced.items() if why.startswith("it names no batch")} == blind
    rest = [s.score for s in result.suspects if s.explains_first is None]
    assert rest == sorted(rest, reverse=True)


@pytest.mark.parametrize("seed", [1, 3])
def test_a_planted_lot_and_warehouse_rank_first_and_second(store: Store, tmp_path: Path, seed: int) -> None:
    plans, _, uids = planted(store, tmp_path, ["lot", "warehouse"], seed)
    result = common_cause(store, uids)
    top = [(s.label, s.uid, s.explains_first) for s in result.suspects[:2]]
    assert {(label, uid) for label, uid, _ in top} == {(p["label"], p["uid"]) for p in plans}, top
    assert [e for _, _, e in top] == [1, 2]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize("seed", [5, 6])
def test_two_planted_lots_rank_first_and_second(store: Store, tmp_path: Path, seed: int) -> None:
    rng, samples = plant(store, tmp_path, seed)
    lots = planted_lots(store, rng, samples, 2)
    bad = [b for batches in lots.values() for b in rng.sample(batches, max(4, int(0.8 * len(batches))))]
    noise = rng.sample([b for b in samples["batches"] if b not in bad], 2)
    result = common_cause(store, complain(store, bad + noise))
    assert {(s.label, s.uid) for s in result.suspects[:2]} == {("MaterialLot", lot) for lot in lots}
    assert [s.explains_first for s in result.suspects[:2]] == [1, 2]


def test_nothing_to_trace_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    plant(store, tmp_path, 9)
    uid = intake(store, ComplaintForm(channel="web", category="taste")).uid
    with pytest.raises(Exception, match="none of the 2 complaint\\(s\\) leads to a batch") as e:
        common_cause(store, [uid, "CP-NOPE"])
    assert "CP-NOPE: no such complaint" in str(e.value)


def test_a_suspect_best_over_the_whole_period_shows_no_window_of_its_own(store: Store) -> None:
    """The demo's two complaints: a machine or operator whose best window is the whole period has
    none shown (the period is the result's own); any window shown is within the period's bounds."""
    from lineage.samples.demo import demo_dir

    store.clear()
    load(store, [demo_dir()])
    result = common_cause(store, ["CP-01", "CP-02"])
    windowed = [s for s in result.suspects if s.label in ("Machine", "Operator")]
    assert windowed
    for s in windowed:
        if s.window is not None:
            assert result.period["from"] <= s.window["from"] < s.window["to"] <= result.period["to"], s
            assert not s.window["to"].endswith(".001Z"), s
