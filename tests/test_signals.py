"""Signals fire exactly when their rule says: on a timeline of complaints posted to the real API one
at a time, checked after each; the window's edge to the millisecond; acknowledged and closed with a
reason; the same signals from an evaluation over history as from intake; and the rule evaluation
itself against a brute-force reading of the rule on random timelines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from apiserver import Api, serve
from hypothesis import given
from hypothesis import strategies as st
from test_embedded_server import cli

from lineage.complaints.intake import ComplaintForm, intake
from lineage.complaints.signals import (
    DAY_MS,
    Fact,
    Rule,
    evaluate,
    evaluate_history,
    load_rules,
    stored_signals,
)
from lineage.errors import ConfigError
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.demo import demo_dir

RULES = """
[[rule]]
id = "safety"
title = "Any safety complaint"
level = 3
count = 1
safety_only = true
group_by = ["complaint"]

[[rule]]
id = "batch-3-7d"
title = "3 of one category on one batch within 7 days"
level = 2
count = 3
within_days = 7
group_by = ["batch"]
same_category = true

[[rule]]
id = "lot-6-30d"
title = "6 on batches sharing a lot within 30 days"
level = 1
count = 6
within_days = 30
group_by = ["lot"]
"""
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def at(days: float, ms: int = 0) -> str:
    return (T0 + timedelta(days=days, milliseconds=ms)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "signals.toml"
    path.write_text(RULES)
    return path


@pytest.fixture(scope="module")
def api(rules_file: Path) -> Iterator[Api]:
    with serve(signal_rules=str(rules_file)) as running:
        yield running


@pytest.fixture
def editor(api: Api) -> Iterator[httpx.Client]:
    with api.client("editor") as client:
        yield client


def test_signals_fire_exactly_when_the_rules_say(editor: httpx.Client, viewer: httpx.Client) -> None:

    def post(days: float, category: str = "spoilage", batch: str = "B-2001", ms: int = 0) -> dict:
        body = {"channel": "retailer", "category": category, "batch": batch, "received_at": at(days, ms)}
        body |= {"customer": "C-RET-N1", "description": f"day {days}"}
        done = editor.post("/complaints", json=body)
        assert done.status_code == 201, done.text
        return done.json()

    def live() -> dict[str, dict]:
        return {s["rule"] + " " + s["group"]: s for s in viewer.get("/signals").json()}

    a = post(0)
    b = post(2)
    post(2.5, category="taste")  # another category: counted apart
    assert live() == {} and a["signals"] == [] and b["signals"] == []
    c = post(7)  # a at day 0, c at day 7: within 7 days, both ends counted
    fired = live()["batch-3-7d batch:B-2001|spoilage"]
    assert c["signals"] == [fired["uid"]]
    assert fired["complaints"] == [a["uid"], b["uid"], c["uid"]] and fired["raised_at"] == at(7)
    assert fired["level"] == 2 and fired["status"] == "open"
    assert [d["description"] for d in fired["details"]] == ["day 0", "day 2", "day 7"]
    assert set(live()) == {"batch-3-7d batch:B-2001|spoilage"}

    # The edge: packaging at day 0 and 1, then 7 days and 1 ms after the first: two within 7 days.
    post(0, category="packaging", batch="B-2002")
    post(1, category="packaging", batch="B-2002")
    post(7, category="packaging", batch="B-2002", ms=1)
    assert "batch-3-7d batch:B-2002|packaging" not in live()
    post(7.5, category="packaging", batch="B-2002")  # days 1, 7+, 7.5: three within 7 days
    assert live()["batch-3-7d batch:B-2002|packaging"]["raised_at"] == at(7.5)

    # Six complaints within 30 days on batches sharing a lot: B-2001 and B-2002 share four (L-4471
    # through B-1001, the culture, the sugar and the cups); in time order the sixth was c, at day 7.
    lots = {k: s["raised_at"] for k, s in live().items() if k.startswith("lot-6-30d")}
    assert lots == {f"lot-6-30d lot:{lot}": at(7) for lot in ("L-4471", "L-5100", "L-6200", "L-7300")}

    d = post(8)  # joins the live signal instead of raising another
    grown = live()["batch-3-7d batch:B-2001|spoilage"]
    assert (
        grown["uid"] == fired["uid"] and grown["complaints"][-1] == d["uid"] and fired["uid"] in d["signals"]
    )

    safety = post(9, category="illness", batch="B-2003")
    level3 = [s for s in viewer.get("/signals").json() if s["level"] == 3]
    assert [s["complaints"] for s in level3] == [[safety["uid"]]]
    assert viewer.get("/signals").json()[0]["level"] == 3  # the highest level first

    # Acknowledged: still live. Closed with a reason: its complaints no longer count.
    assert viewer.post(f"/signals/{fired['uid']}/acknowledge", json={"by": "x"}).status_code == 403
    ack = editor.post(f"/signals/{fired['uid']}/acknowledge", json={"by": "Kari (QA)", "note": "sampling"})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert editor.post(f"/signals/{fired['uid']}/close", json={"by": "Kari", "reason": ""}).status_code == 422
    closed = editor.post(
        f"/signals/{fired['uid']}/close", json={"by": "Kari", "reason": "lid supplier fixed"}
    )
    assert closed.json()["status"] == "closed" and closed.json()["close_reason"] == "lid supplier fixed"
    assert "batch-3-7d batch:B-2001|spoilage" not in live()
    assert viewer.get("/signals", params={"status": "closed"}).json()[0]["uid"] == fired["uid"]
    again = editor.post(f"/signals/{fired['uid']}/close", json={"by": "Kari", "reason": "twice"})
    assert again.status_code == 422 and "already closed" in again.json()["detail"]
    assert editor.post("/signals/SG-nope/close", json={"by": "K", "reason": "r"}).status_code == 404

    post(9)
    post(10)
    post(20)  # days 9, 10, 20: never three within 7 days
    assert "batch-3-7d batch:B-2001|spoilage" not in live()
    post(21)
    third = post(22)  # days 20, 21, 22
    reraised = live()["batch-3-7d batch:B-2001|spoilage"]
    assert reraised["uid"] != fired["uid"] and reraised["raised_at"] == at(22)
    assert reraised["uid"] in third["signals"] and len(reraised["complaints"]) == 3

    # Its complaints are what a common-cause analysis of the signal starts from.
    analysis = viewer.post("/analysis/common-cause", json={"signal": reraised["uid"]}).json()
    assert analysis["complaints"] == reraised["complaints"] and analysis["complaint_batches"] == ["B-2001"]
    assert viewer.get("/signals", params={"status": "sometimes"}).status_code == 422


def test_history_gives_what_intake_gave(store: Store, rules_file: Path) -> None:
    """The same complaints taken in without evaluating, then evaluated over history: the signals
    intake would have raised one by one (in a second graph), and a second evaluation adds nothing."""
    rules = load_rules(rules_file)
    load(store, [demo_dir()])
    days = [0, 1, 2, 3, 5, 6, 8, 30, 31, 33]
    forms = [
        ComplaintForm(
            channel="web", category="spoilage", batch=("B-2001", "B-2002")[i % 2], received_at=at(d)
        )
        for i, d in enumerate(days)
    ]
    quiet = [intake(store, f, signal=False) for f in forms]
    assert stored_signals(store) == []
    first = evaluate_history(store, rules)
    raised = {(s.rule, s.group): s.complaints for s in first.raised}
    uids = [r.uid for r in quiet]
    # Raised at the third within 7 days (days 0, 2, 5 and 1, 3, 6); the later ones joined.
    assert raised[("batch-3-7d", "batch:B-2001|spoilage")] == uids[0::2]
    assert raised[("batch-3-7d", "batch:B-2002|spoilage")] == uids[1::2]
    assert raised[("lot-6-30d", "lot:L-4471")] == uids  # raised at day 6, the rest joined
    # The raw demo complaint CP-02 ("foreign body", a safety category) was loaded as a plain record.
    assert raised[("safety", "complaint:CP-02")] == ["CP-02"]
    assert evaluate_history(store, rules).raised == [] and evaluate_history(store, rules).grown == []
    assert {s.uid for s in stored_signals(store)} == {s.uid for s in first.raised}

    store.clear()
    load(store, [demo_dir()])
    for f in forms:
        intake(store, f, rules=rules)
    one_by_one = {(s.rule, s.group): s.complaints for s in stored_signals(store)}
    assert one_by_one == {k: v for k, v in raised.items() if k != ("safety", "complaint:CP-02")}


def test_a_broken_rules_file_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text("[[rule]]\nid = 'x'\ntitle = 'y'\nlevel = 4\ncount = 1\n")
    with pytest.raises(
        ConfigError, match=r"rules.toml: rule.0.level: Input should be less than or equal to 3"
    ):
        load_rules(bad)
    bad.write_text("[[rule\n")
    with pytest.raises(ConfigError, match=r"rules\.toml: not TOML"):
        load_rules(bad)
    with pytest.raises(ConfigError, match=r"nowhere\.toml: No such file"):
        load_rules(tmp_path / "nowhere.toml")
    assert [r.id for r in load_rules(None)] == ["safety", "batch-category-7d", "upstream-30d"]


def reference(rule: Rule, facts: list[Fact]) -> dict[str, tuple[int, list[str]]]:
    """The rule read literally: for each group, the first complaint at which ``count`` complaints
    lie within ``within_days`` before it (inclusive); the signal holds those and all later ones."""
    found: dict[str, tuple[int, list[str]]] = {}
    ordered = sorted(facts, key=lambda f: (f.received_at, f.uid))
    groups = {g for f in ordered for g in rule.groups(f)}
    for group in groups:
        members = [f for f in ordered if group in rule.groups(f)]
        for i, f in enumerate(members):
            near = [m for m in members[: i + 1] if f.received_at - m.received_at <= rule.within_days * DAY_MS]
            if len(near) >= rule.count:
                found[group] = (f.received_at, [m.uid for m in near] + [m.uid for m in members[i + 1 :]])
                break
    return found


@given(
    st.lists(st.tuples(st.integers(0, 40 * 24), st.sampled_from("ABC"), st.sampled_from("xy")), max_size=25),
    st.integers(1, 4),
    st.sampled_from([1, 3, 7]),
)
def test_evaluation_reads_the_rule_as_written(events: list, count: int, days: int) -> None:
    rule = Rule(
        id="r", title="t", level=1, count=count, within_days=days, group_by=("batch",), same_category=True
    )
    facts = [
        Fact(f"C{i:03d}", hours * 3_600_000, category, False, True, frozenset({f"batch:{batch}"}))
        for i, (hours, batch, category) in enumerate(events)
    ]
    got = {s.group: (s.raised_at, s.complaints) for s in evaluate([rule], facts, [])}
    want = reference(rule, facts)
    assert {g: (datetime.fromisoformat(r).timestamp() * 1000, c) for g, (r, c) in got.items()} == want


def test_the_command_line_loads_lists_acknowledges_closes_and_evaluates(
    rules_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a server of its own, so that it finds the demo's complaints alone whatever ran before."""
    with serve(signal_rules=str(rules_file)) as api:
        monkeypatch.setenv("LINEAGE_SIGNAL_RULES", str(rules_file))
        file = tmp_path / "complaints.jsonl"
        lines = [
            {
                "channel": "mail",
                "category": "taste",
                "batch": "B-2003",
                "received_at": f"2026-08-0{d}T09:00:00Z",
            }
            for d in (1, 2, 3)
        ]
        file.write_text("".join(json.dumps(line) + "\n" for line in lines))
        done = cli(api.data_dir, "load", "--complaints", str(file), "--json")
        assert done.returncode == 0, done.stderr
        loaded = json.loads(done.stdout)
        listed = {s["uid"]: s for s in json.loads(cli(api.data_dir, "signals", "list", "--json").stdout)}
        (signal,) = {uid for r in loaded for uid in r["signals"] if listed[uid]["rule"] == "batch-3-7d"}
        assert all(signal in r["signals"] for r in loaded)  # all three are behind it
        assert listed[signal]["group"] == "batch:B-2003|taste"
        assert listed[signal]["raised_at"] == "2026-08-03T09:00:00Z"
        # A later complaint of the group joins the open signal.
        later = tmp_path / "later.jsonl"
        later.write_text(json.dumps(lines[0] | {"received_at": "2026-08-05T09:00:00Z"}) + "\n")
        joined = json.loads(cli(api.data_dir, "load", "--complaints", str(later), "--json").stdout)
        assert [r["signals"] for r in joined] == [[signal]]
        loaded += joined
        assert (
            cli(api.data_dir, "signals", "ack", signal, "--by", "Ola", "--note", "pulled samples").returncode
            == 0
        )
        refused = cli(api.data_dir, "signals", "close", signal, "--by", "Ola", "--reason", " ")
        assert refused.returncode == 1 and "closing a signal needs a reason" in refused.stderr
        closed = cli(api.data_dir, "signals", "close", signal, "--by", "Ola", "--reason", "recipe change")
        assert closed.returncode == 0 and "recipe change" in closed.stdout
        assert signal not in cli(api.data_dir, "signals", "list").stdout
        assert signal in cli(api.data_dir, "signals", "list", "--status", "closed").stdout

        suspects = json.loads(cli(api.data_dir, "suspects", "--signal", signal, "--json").stdout)
        assert suspects["complaints"] == [r["uid"] for r in loaded] and suspects["complaint_batches"] == [
            "B-2003"
        ]

        # CP-02 came in as a plain record, never through intake: only an evaluation over history sees it.
        evaluated = json.loads(cli(api.data_dir, "signals", "evaluate", "--json").stdout)
        assert [(s["rule"], s["complaints"]) for s in evaluated["raised"]] == [("safety", ["CP-02"])]
        assert json.loads(cli(api.data_dir, "signals", "evaluate", "--json").stdout)["raised"] == []
