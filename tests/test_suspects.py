"""Common-cause analysis finds a planted cause: complaints are derived from the batches a chosen lot
went into (most of them), with noise (complaints about unrelated batches, one without a batch code),
and the lot must rank first, across seeds; with two planted lots, both rank first and second."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lineage.complaints import ComplaintForm, intake
from lineage.generate import generate_plant
from lineage.loading.load import load
from lineage.model import Label, NodeRef
from lineage.scope import forward
from lineage.store import Store
from lineage.suspects import common_cause


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


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_planted_bad_lot_ranks_first(store: Store, tmp_path: Path, seed: int) -> None:
    rng, samples = plant(store, tmp_path, seed)
    ((lot, batches),) = planted_lots(store, rng, samples, 1).items()
    bad = rng.sample(batches, max(4, int(0.8 * len(batches))))
    noise = rng.sample([b for b in samples["batches"] if b not in batches], 3)
    uids = complain(store, bad + noise)
    uids.append(intake(store, ComplaintForm(channel="web", category="taste", description="no code")).uid)

    result = common_cause(store, uids)
    first = result.suspects[0]
    assert (first.label, first.uid) == ("MaterialLot", lot), [(s.uid, s.score) for s in result.suspects[:5]]
    assert first.complaint_batches == len(bad) and first.support == round(len(bad) / len(bad + noise), 4)
    assert first.share < first.support and first.lift > 1
    assert result.by_category["material"][0].uid == lot
    assert set(result.complaint_batches) == set(bad + noise)
    assert list(result.untraced.values()) == ["it names no batch and no unit sold from one"]
    assert first.explains_first == 1
    rest = [s.score for s in result.suspects if s.explains_first is None]
    assert rest == sorted(rest, reverse=True)


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
