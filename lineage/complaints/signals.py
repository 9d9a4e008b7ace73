"""Signals: a pattern in the complaints raised before a person would notice it.

A rule (from a TOML settings file, :data:`DEFAULT_RULES` when none is named) counts the complaints of
one group (one batch, one upstream lot, supplier, machine or operator, one product, region, or each
complaint alone), optionally of one category, of safety categories only, or verified only, and raises
a signal with a response level (1 to 3) when ``count`` of them were received within ``within_days``
of each other (the first and the last at most that far apart, both ends counted).

While a signal is open or acknowledged, every later complaint of its group joins it, so one
pattern is one signal that grows, not a new one per complaint. Closing it takes its complaints out
of the count: the group raises a new signal only when enough new complaints arrive.

Rules are evaluated on every new complaint (for the groups it belongs to) and on demand over the
whole history; both run :func:`evaluate`, a pure function of the complaints and the signals already
stored, so the same complaints give the same signals however they arrived. A signal's uid is made
from its rule, its group and the complaint that started it: evaluating again changes nothing.
"""

from __future__ import annotations

import hashlib
import tomllib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lineage.errors import ConfigError, InvalidRequest, NotFound
from lineage.graph import audit
from lineage.graph.audit import local_actor
from lineage.graph.model import OPEN_END, OPEN_START, Label, NodeRef, Text, iso, to_epoch_ms
from lineage.graph.scope import backward, fetch_properties
from lineage.graph.store import Store

DAY_MS = 24 * 3600 * 1000
GroupKind = Literal["complaint", "batch", "lot", "supplier", "machine", "operator", "product", "region"]
Status = Literal["open", "acknowledged", "closed"]
LIVE: tuple[Status, ...] = ("open", "acknowledged")
#: The label each kind of group is traced to, for the kinds that are nodes upstream of a complaint.
UPSTREAM_KINDS: dict[Label, GroupKind] = {
    Label.MATERIAL_LOT: "lot",
    Label.SUPPLIER: "supplier",
    Label.MACHINE: "machine",
    Label.OPERATOR: "operator",
}


class Rule(BaseModel):
    """One signal rule, as written in the rules file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    title: Text
    level: int = Field(ge=1, le=3, description="the response level a signal of this rule calls for")
    count: int = Field(ge=1, description="complaints of one group that raise a signal")
    within_days: float | None = Field(None, gt=0, description="how close in time; none: at any distance")
    group_by: tuple[GroupKind, ...] = Field(("complaint",), min_length=1)
    same_category: bool = Field(False, description="count each category of the group apart")
    categories: tuple[Text, ...] | None = Field(None, description="only complaints of these categories")
    safety_only: bool = False
    verified_only: bool = False

    def accepts(self, fact: Fact) -> bool:
        return (
            (not self.safety_only or fact.safety)
            and (not self.verified_only or fact.verified)
            and (self.categories is None or fact.category in self.categories)
        )

    def groups(self, fact: Fact) -> list[str]:
        """The groups ``fact`` counts in under this rule: ``kind:uid``, with ``|category`` when
        categories count apart."""
        keys = [f"complaint:{fact.uid}"] if "complaint" in self.group_by else []
        keys += sorted(k for k in fact.keys if k.partition(":")[0] in self.group_by)
        return [f"{k}|{fact.category}" for k in keys] if self.same_category else keys


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: list[Rule] = Field(min_length=1)


def load_rules(path: Path | None) -> list[Rule]:
    """The rules of ``path`` (TOML), or the default rules; a file that is not valid fails naming it
    and what is wrong, before any complaint is evaluated against half a rule set."""
    where = str(path) if path else "the default signal rules"
    try:
        text = path.read_text(encoding="utf-8") if path else DEFAULT_RULES.read_text(encoding="utf-8")
        rules = RulesFile.model_validate(tomllib.loads(text)).rule
    except OSError as e:
        raise ConfigError(f"signal rules {where}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"signal rules {where}: not TOML: {e}") from None
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"signal rules {where}: {problems}") from None
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ConfigError(
            f"signal rules {where}: rule ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    return rules


DEFAULT_RULES = resources.files("lineage.complaints") / "signal_rules.toml"


@dataclass(frozen=True, slots=True)
class Fact:
    """What a rule needs of one complaint."""

    uid: str
    received_at: int
    category: str
    safety: bool
    verified: bool
    keys: frozenset[str]  # kind:uid of everything it traces to


class Signal(BaseModel):
    uid: str
    rule: str
    title: str
    level: int
    group: str = Field(description="kind:uid of what the complaints share, with |category when counted apart")
    status: Status
    raised_at: str = Field(description="when the complaint that reached the rule's count was received")
    complaints: list[str] = Field(description="the complaints behind it, in the order they were received")
    first_received: str
    last_received: str
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    note: str | None = Field(None, description="what was said when it was acknowledged")
    closed_at: str | None = None
    closed_by: str | None = None
    close_reason: str | None = None


#: A signal's times: ISO-8601 in the model, epoch milliseconds in the database (as every time is).
TIMES = ("raised_at", "first_received", "last_received", "acknowledged_at", "closed_at")


def _stored(uid: str, props: dict[str, Any]) -> Signal:
    return Signal.model_validate(
        {"uid": uid, **props, **{t: iso(props[t]) for t in TIMES if props.get(t) is not None}}
    )


def _row(signal: Signal) -> dict[str, Any]:
    props = signal.model_dump(exclude={"uid"}, exclude_none=True)
    return {"uid": signal.uid, "props": props | {t: to_epoch_ms(props[t]) for t in TIMES if t in props}}


def _uid(rule: Rule, group: str, first: str) -> str:
    return "SG-" + hashlib.sha256(f"{rule.id}\n{group}\n{first}".encode()).hexdigest()[:12]


def evaluate(
    rules: Iterable[Rule],
    facts: Iterable[Fact],
    signals: Iterable[Signal],
    only_groups: set[str] | None = None,
) -> list[Signal]:
    """The signals to raise and those grown, given the complaints and the signals already stored.

    For each rule and group: complaints already in a closed signal of it are done; if a live signal
    exists every other complaint joins it; otherwise a window slides over them in time order and the
    complaint that brings ``count`` of them within ``within_days`` raises a signal holding the window.
    ``only_groups`` (``kind:uid``) restricts it to the groups of new complaints.
    """
    facts = sorted(facts, key=lambda f: (f.received_at, f.uid))
    by_rule_group: dict[tuple[str, str], list[Signal]] = defaultdict(list)
    for s in signals:
        by_rule_group[(s.rule, s.group)].append(s)
    changed: list[Signal] = []
    for rule in rules:
        members: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts:
            if rule.accepts(fact):
                for group in rule.groups(fact):
                    if only_groups is None or group.partition("|")[0] in only_groups:
                        members[group].append(fact)
        for group, group_facts in members.items():
            existing = by_rule_group[(rule.id, group)]
            done = {c for s in existing if s.status == "closed" for c in s.complaints}
            live = next((s for s in existing if s.status in LIVE), None)
            fresh = [f for f in group_facts if f.uid not in done]
            grown = _grow(live, fresh) if live else _raise(rule, group, fresh)
            if grown is not None:
                changed.append(grown)
    return changed


def _grow(live: Signal, fresh: list[Fact]) -> Signal | None:
    """A live signal gathers the complaints of its group received since its first one (an older
    one arriving late was, or would have been, counted before the signal existed)."""
    held, since = set(live.complaints), to_epoch_ms(live.first_received)
    joining = [f for f in fresh if f.uid not in held and f.received_at >= since]
    if not joining:
        return None
    return live.model_copy(update=_span(live.complaints, joining, live))


def _span(held: list[str], joining: list[Fact], live: Signal | None) -> dict[str, Any]:
    times = [f.received_at for f in joining]
    first = min(times + ([to_epoch_ms(live.first_received)] if live else []))
    last = max(times + ([to_epoch_ms(live.last_received)] if live else []))
    return {
        "complaints": held + [f.uid for f in joining],
        "first_received": iso(first),
        "last_received": iso(last),
    }


def _raise(rule: Rule, group: str, fresh: list[Fact]) -> Signal | None:
    """The first window of ``fresh`` that reaches the rule's count, and every later complaint."""
    reach = int(rule.within_days * DAY_MS) if rule.within_days is not None else None
    times = [f.received_at for f in fresh]
    for end, fact in enumerate(fresh):
        start = 0 if reach is None else bisect_left(times, fact.received_at - reach, 0, end)
        if end - start + 1 >= rule.count:
            window = fresh[start:]
            return Signal(
                uid=_uid(rule, group, window[0].uid),
                rule=rule.id,
                title=rule.title,
                level=rule.level,
                group=group,
                status="open",
                raised_at=iso(fact.received_at),
                **_span([], window, None),
            )
    return None


# --- against the store ----------------------------------------------------------------------------


def trace_keys(store: Store, complaint: str, customer: str | None, product: str | None) -> list[str]:
    """What a complaint traces to, as ``kind:uid``: the batch its unit came from, every lot,
    supplier, machine and operator upstream, the product and the complaining customer's region."""
    scope = backward(store, NodeRef(Label.COMPLAINT, complaint), properties=(Label.BATCH,))
    batches = scope.nearest(Label.BATCH)
    keys = {f"batch:{n.uid}" for n in batches}
    keys |= {f"product:{n.properties['product']}" for n in batches if n.properties.get("product")}
    keys |= {f"{UPSTREAM_KINDS[n.label]}:{n.uid}" for n in scope.nodes if n.label in UPSTREAM_KINDS}
    if product:
        keys.add(f"product:{product}")
    if customer:
        region = (
            fetch_properties(store, [NodeRef(Label.CUSTOMER, customer)])
            .get(NodeRef(Label.CUSTOMER, customer), {})
            .get("region")
        )
        if region:
            keys.add(f"region:{region}")
    return sorted(keys)


def _facts(store: Store, lo: int, hi: int) -> list[Fact]:
    """The complaints received in [lo, hi); those stored without trace keys (loaded as plain
    records rather than through intake) are traced now. A complaint with no received time cannot
    be placed on a timeline, so no rule counts it."""
    rows = store.run("signal_complaints_between", window_from=lo, window_to=hi)
    safety_of = store.settings.complaint_categories  # for complaints that did not come through intake
    untraced = [r["uid"] for r in rows if r["trace_keys"] is None]
    props = fetch_properties(store, [NodeRef(Label.COMPLAINT, u) for u in untraced])
    keys = {
        uid: trace_keys(store, uid, p.get("customer_uid"), p.get("product"))
        for uid in untraced
        for p in [props.get(NodeRef(Label.COMPLAINT, uid), {})]
    }
    facts = [
        Fact(
            uid=r["uid"],
            received_at=r["received_at"],
            category=r["category"] or "",
            safety=bool(r["safety"] if r["safety"] is not None else safety_of.get(r["category"], False)),
            verified=r["verification"] != "unverified",
            keys=frozenset(r["trace_keys"] if r["trace_keys"] is not None else keys[r["uid"]]),
        )
        for r in rows
    ]
    return facts


def stored_signals(store: Store) -> list[Signal]:
    return [_stored(r["uid"], r["props"]) for r in store.run("signal_all")]


class Evaluation(BaseModel):
    raised: list[Signal] = Field(description="signals raised by this evaluation")
    grown: list[Signal] = Field(description="live signals that complaints joined")
    complaints: int = Field(description="complaints evaluated")


def _save(
    store: Store, changed: list[Signal], before: set[str], complaints: int, who: str | None
) -> Evaluation:
    if changed:
        store.run("signal_write", rows=[_row(s) for s in changed])
        raised = sum(1 for s in changed if s.uid not in before)
        counts = {"raised": raised, "grown": len(changed) - raised, "complaints": complaints}
        shown = ", ".join(s.uid for s in changed[:20])
        audit.record(store, who or local_actor(), "signals.evaluate", "signals", counts, shown)
    return Evaluation(
        raised=[s for s in changed if s.uid not in before],
        grown=[s for s in changed if s.uid in before],
        complaints=complaints,
    )


def evaluate_history(store: Store, rules: list[Rule], who: str | None = None) -> Evaluation:
    """Every rule over every complaint with a received time: what intake would have raised, had the
    rules been in force all along (complaints loaded as plain records are evaluated here)."""
    facts = _facts(store, OPEN_START, OPEN_END)
    signals = stored_signals(store)
    changed = evaluate(rules, facts, signals)
    return _save(store, changed, {s.uid for s in signals}, len(facts), who)


def evaluate_new(store: Store, rules: list[Rule], new: list[str], who: str | None = None) -> Evaluation:
    """The rules for the groups the ``new`` complaints belong to, over the complaints near them in
    time (all of them when a rule has no time limit)."""
    if not new:
        return Evaluation(raised=[], grown=[], complaints=0)
    own = {f.uid: f for f in _facts_of(store, new)}
    if not own:
        return Evaluation(raised=[], grown=[], complaints=0)
    # A rule counting one complaint needs no others; one with no time limit needs them all.
    reach = DAY_MS * max(_reach(r) for r in rules)
    times = [f.received_at for f in own.values()]
    lo, hi = (
        (OPEN_START, OPEN_END)
        if reach == float("inf")
        else (min(times) - int(reach), max(times) + int(reach) + 1)
    )
    facts = _facts(store, lo, hi)
    groups = {k for f in own.values() for k in f.keys} | {f"complaint:{u}" for u in own}
    signals = stored_signals(store)
    changed = evaluate(rules, facts, signals, only_groups=groups)
    return _save(store, changed, {s.uid for s in signals}, len(facts), who)


def _reach(rule: Rule) -> float:
    """How far in time, in days, a rule looks from a complaint: a rule counting one complaint needs
    no others, one with no time limit needs them all."""
    if rule.within_days is not None:
        return rule.within_days
    return 0.0 if rule.count == 1 else float("inf")


def _facts_of(store: Store, uids: list[str]) -> list[Fact]:
    props = fetch_properties(store, [NodeRef(Label.COMPLAINT, u) for u in uids])
    times = [p["received_at"] for p in props.values() if isinstance(p.get("received_at"), int)]
    if not times:
        return []
    facts = _facts(store, min(times), max(times) + 1)
    wanted = set(uids)
    return [f for f in facts if f.uid in wanted]


def parse_statuses(given: Iterable[str] | None) -> tuple[Status, ...]:
    """Statuses as a caller names them; none named: the live ones (open and acknowledged)."""
    names = [n.strip() for g in (given or []) for n in g.split(",") if n.strip()]
    if not names:
        return LIVE
    if "all" in names:
        return ("open", "acknowledged", "closed")
    wrong = [n for n in names if n not in ("open", "acknowledged", "closed")]
    if wrong:
        raise InvalidRequest(f"status {', '.join(wrong)}: expected open, acknowledged, closed or all")
    return tuple(n for n in ("open", "acknowledged", "closed") if n in names)  # type: ignore[misc]


def signals_with(store: Store, statuses: Iterable[Status]) -> list[Signal]:
    wanted = set(statuses)
    found = [s for s in stored_signals(store) if s.status in wanted]
    return sorted(found, key=lambda s: (-s.level, s.raised_at, s.uid))


def get_signal(store: Store, uid: str) -> Signal:
    for s in stored_signals(store):
        if s.uid == uid:
            return s
    raise NotFound("Signal", uid)


def acknowledge(store: Store, uid: str, by: str, note: str | None, now: datetime | None = None) -> Signal:
    """Someone has seen it and is on it; it stays live, gathering complaints, until closed."""
    signal = get_signal(store, uid)
    if signal.status == "closed":
        raise InvalidRequest(f"signal {uid} is closed ({signal.close_reason}); it cannot be acknowledged")
    at = iso(to_epoch_ms(now or datetime.now(UTC)))
    update = {"status": "acknowledged", "acknowledged_at": at, "acknowledged_by": by, "note": note}
    done = signal.model_copy(update=update)
    store.run("signal_write", rows=[_row(done)])
    audit.record(store, by, "signal.acknowledge", uid, {}, note or "")
    return done


def close(store: Store, uid: str, by: str, reason: str, now: datetime | None = None) -> Signal:
    """Closed with a reason: its complaints no longer count towards the rule."""
    if not reason.strip():
        raise InvalidRequest("closing a signal needs a reason")
    signal = get_signal(store, uid)
    if signal.status == "closed":
        raise InvalidRequest(f"signal {uid} is already closed ({signal.close_reason})")
    at = iso(to_epoch_ms(now or datetime.now(UTC)))
    done = signal.model_copy(
        update={"status": "closed", "closed_at": at, "closed_by": by, "close_reason": reason}
    )
    store.run("signal_write", rows=[_row(done)])
    audit.record(store, by, "signal.close", uid, {}, reason)
    return done
