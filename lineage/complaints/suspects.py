"""Common-cause analysis: what a set of complaints has in common, ranked and explained.

Each complaint is traced to the batch its unit came from (the batch it names, or the batch its sold
unit was made in) and placed at the customer whose stock it came from (the seller of the unit, or
the complaining customer). Two kinds of suspect follow, each measured by **support** (how much of
the complaints it accounts for) against **share** (how much of the comparison it accounts for):

- **upstream** (lots, suppliers, intermediate batches, machines, operators, inspections): support is
  the share of the complaint batches it feeds; share, of all batches of the same kinds started in the
  same period. A machine or operator is also tried over the window of its runs behind the complaint
  batches, and ranked over the window that stands out most (a filler miscalibrated for a week).
- **environment** (the shipments, carriers and storage places, distributors and the customer's own,
  on the routes the complaint units took): support is the share of the placed complaints whose unit
  came that way; share, of all deliveries of the complaint batches to end customers. A batch that
  was fine at the plant and spoiled in one warehouse shows there, not upstream.

A cause accounts for the complaints far more often than chance: ranked by ``support - share`` (then
lift, ``support / share``). A water line that feeds everything has support 1 and share 1 and scores
0; a supplier lot in 9 of 10 complaint batches and 12% of production scores 0.78. Suspects are grouped
by the six cause categories of quality work. Regions are ranked the same way (complaints against
deliveries), to show where complaints cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, get_args

from scipy.stats import binom

from lineage.complaints.environment import environment_suspects
from lineage.complaints.ranking import (
    CATEGORY,
    DAY_MS,
    MAX_ENDPOINTS,
    SIGNIFICANCE,
    TIE_ORDER,
    WINDOWED,
    Category,
    CommonCause,
    Suspect,
    measure,
)
from lineage.errors import InvalidRequest
from lineage.graph.model import LABEL_BY_NAME, Label, NodeRef, RelType, iso
from lineage.graph.nodes import node_detail
from lineage.graph.scope import Window, backward, fetch_properties, forward
from lineage.graph.store import Store


def _complaint_batches(store: Store, complaint: str) -> tuple[set[str], str | None]:
    """The batches a complaint's unit came from: the nearest batches of its backward trace."""
    batches = backward(store, NodeRef(Label.COMPLAINT, complaint), properties=()).nearest(Label.BATCH)
    if not batches:
        return set(), "it names no batch and no unit sold from one"
    return {n.uid for n in batches}, None


def _feeds(store: Store, node: NodeRef, memo: dict[NodeRef, set[str]]) -> set[str]:
    """The batches downstream of ``node`` (for an inspection: of what it inspected)."""
    if node not in memo:
        if node.label == Label.INSPECTION:
            found: set[str] = set()
            for n in node_detail(store, node, limit=100).neighbours:
                if n.type == RelType.INSPECTED.value and n.direction == "out":
                    found |= _feeds(store, NodeRef(Label(n.label), n.uid), memo)
            memo[node] = found
        else:
            reached = forward(store, node, properties=())
            memo[node] = reached.uids(Label.BATCH) | ({node.uid} if node.label == Label.BATCH else set())
    return memo[node]


@dataclass
class _Candidate:
    """One suspect before it is measured: what it explains, and for a machine or operator the runs
    (start, end, batch) behind the complaint batches."""

    ref: NodeRef
    complaints: set[str] = field(default_factory=set)
    runs: set[tuple[int, int, str]] = field(default_factory=set)


def _upstream(store: Store, batches_of: dict[str, set[str]]) -> dict[NodeRef, _Candidate]:
    """Every node upstream of the complaint batches, with the complaints it could explain: each
    batch traced once, however many complaints came from it."""
    complaints_of: dict[str, set[str]] = defaultdict(set)
    for uid, batches in batches_of.items():
        for batch in batches:
            complaints_of[batch].add(uid)
    found: dict[NodeRef, _Candidate] = {}
    for batch, complaints in sorted(complaints_of.items()):
        scope = backward(store, NodeRef(Label.BATCH, batch), properties=())
        for n in scope.nodes:
            if n.depth > 0 and n.label in CATEGORY:
                found.setdefault(n.ref, _Candidate(n.ref)).complaints |= complaints
        for e in scope.edges:
            if e.target in found and e.target.label in WINDOWED and e.start is not None and e.end is not None:
                found[e.target].runs.add((e.start, e.end, e.source.uid))
    return found


def _spans(runs: set[tuple[int, int, str]]) -> list[Window]:
    """Every window from the start of one of the runs to the end of a later one (at most
    :data:`MAX_ENDPOINTS` of each, evenly spread)."""
    starts = _spread(sorted({r[0] for r in runs}))
    ends = _spread(sorted({r[1] for r in runs}))
    return [Window(start=a, end=b) for a in starts for b in ends if b > a]


def _spread(values: list[int]) -> list[int]:
    if len(values) <= MAX_ENDPOINTS:
        return values
    return [values[round(i * (len(values) - 1) / (MAX_ENDPOINTS - 1))] for i in range(MAX_ENDPOINTS)]


def _runs(store: Store, ref: NodeRef, window: Window) -> list[tuple[int, int, set[str]]]:
    """A machine's or operator's runs overlapping ``window``, each with every batch made from it
    (itself, and what consumed it, and so on): one scope, so that many windows cost no query."""
    scope = forward(store, ref, window, properties=())
    consumers: dict[str, list[str]] = defaultdict(list)
    runs = []
    for e in scope.edges:
        if e.type == RelType.CONSUMED_BY and e.source.label == Label.BATCH:
            consumers[e.source.uid].append(e.target.uid)
        elif e.target == ref and e.start is not None and e.end is not None:
            runs.append((e.start, e.end, e.source.uid))
    memo: dict[str, set[str]] = {}

    def made_from(batch: str, seen: frozenset[str]) -> set[str]:
        if batch not in memo:
            found = {batch}
            for nxt in consumers.get(batch, []):
                if nxt not in seen:
                    found |= made_from(nxt, seen | {batch})
            memo[batch] = found
        return memo[batch]

    return [(start, end, made_from(batch, frozenset())) for start, end, batch in sorted(runs)]


def _explain_away(suspects: list[Suspect], traced: set[str], placed: set[str]) -> list[Suspect]:
    """Several causes at once: the best suspect first, then the best at explaining the complaints
    it leaves unexplained, and so on while one explains at least two of them, unlikely by chance
    given its share; the rest after, by score. Without this, two bad lots each explain half of the
    complaints and a machine that ran most batches outranks the second lot."""
    picked: list[Suspect] = []
    left = set(traced)
    rest = list(suspects)
    while rest and len(left) >= 2:
        best: tuple[float, int] | None = None
        for at, s in enumerate(rest):
            pool = left & (placed if s.basis == "deliveries" else traced)
            hits = len(pool & set(s.complaints))
            if hits < 2 or binom.sf(hits - 1, len(pool), min(s.share, 1.0)) >= SIGNIFICANCE:
                continue
            gain = hits / len(pool) - s.share
            if best is None or gain > best[0]:
                best = (gain, at)
        if best is None:
            break
        chosen = rest.pop(best[1])
        picked.append(chosen.model_copy(update={"explains_first": len(picked) + 1}))
        left -= set(chosen.complaints)
    return picked + rest


def complaints_between(store: Store, window: Window, category: str | None = None) -> list[str]:
    """The complaints received in ``window`` (of ``category`` when given): a filter's choice."""
    rows = store.run("analysis_complaints_received_between", window_from=window.start, window_to=window.end)
    return [r["uid"] for r in rows if category is None or r["category"] == category]


def choose_complaints(
    store: Store, uids: Iterable[str], window: Window | None, category: str | None = None
) -> list[str]:
    """The complaints named, then those received in ``window`` (of ``category``) not named already;
    an empty choice is an error, as there is nothing to analyse."""
    chosen = list(dict.fromkeys(uids))
    if window is not None:
        chosen += [u for u in complaints_between(store, window, category) if u not in chosen]
    if not chosen:
        raise InvalidRequest(
            "choose complaints: name them, name a signal, or give a window of when they were received"
        )
    return chosen


def _sort_key(s: Suspect) -> tuple[Any, ...]:
    return (-s.score, -s.lift, -s.hits, TIE_ORDER.get(s.label, 9), s.label, s.uid)


def common_cause(store: Store, complaints: list[str], margin_days: float = 1.0, top: int = 5) -> CommonCause:
    """Rank what ``complaints`` have in common (see the module docstring). The period is from the
    first complaint batch's start to the last one's, widened by ``margin_days`` each side."""
    if not complaints:
        raise InvalidRequest("no complaints to analyse: give at least one complaint uid")
    untraced: dict[str, str] = {}
    batches_of: dict[str, set[str]] = {}
    known = fetch_properties(store, [NodeRef(Label.COMPLAINT, uid) for uid in complaints])
    for uid in complaints:
        if NodeRef(Label.COMPLAINT, uid) not in known:
            untraced[uid] = "no such complaint"
            continue
        found, why = _complaint_batches(store, uid)
        if why:
            untraced[uid] = why
        else:
            batches_of[uid] = found
    complaint_batches = sorted(set().union(*batches_of.values())) if batches_of else []
    if not complaint_batches:
        raise InvalidRequest(
            f"none of the {len(complaints)} complaint(s) leads to a batch: "
            + "; ".join(f"{uid}: {why}" for uid, why in untraced.items())
        )
    props = fetch_properties(store, [NodeRef(Label.BATCH, b) for b in complaint_batches])
    starts = [p["started_at"] for p in props.values() if isinstance(p.get("started_at"), int)]
    kinds = sorted({str(p.get("batch_type", "production")) for p in props.values()})
    notes = ["method: no recipe or process version is recorded in the lineage, so none is ranked"]
    if starts:
        lo, hi = min(starts) - int(margin_days * DAY_MS), max(starts) + int(margin_days * DAY_MS) + 1
        rows = store.run("analysis_batches_started_between", window_from=lo, window_to=hi)
        rows = [r for r in rows if str(r["batch_type"] or "production") in kinds]
        period = {r["uid"] for r in rows}
        started: dict[str, int] = {r["uid"]: r["started_at"] for r in rows}
    else:
        lo = hi = None
        period = set()
        started = {}
        notes.append("the complaint batches have no start time: they are compared among themselves only")
    period |= set(complaint_batches)

    in_complaint = set(complaint_batches)
    traced = set(batches_of)
    started |= {ref.uid: p["started_at"] for ref, p in props.items() if isinstance(p.get("started_at"), int)}
    margin = int(margin_days * DAY_MS)
    memo: dict[NodeRef, set[str]] = {}
    candidates = _upstream(store, batches_of)
    names = fetch_properties(store, list(candidates))
    suspects = []
    for ref, candidate in candidates.items():
        category = CATEGORY[ref.label]
        tries: list[tuple[Window | None, set[str]]]
        if ref.label in WINDOWED and lo is not None and hi is not None:
            # Its whole history can be most of the graph: the period will do, and windows within.
            runs = _runs(store, ref, Window(start=lo, end=hi))
            tries = [
                (w, set().union(*(made for start, end, made in runs if start < w.end and end > w.start)))
                for w in [Window(start=lo, end=hi), *_spans(candidate.runs)]
            ]
        else:
            tries = [(None, _feeds(store, ref, memo))]
        measured = []
        for window, fed in tries:
            # Over a window, what the suspect feeds is compared with what was made then: by chance
            # it would feed its share of the window's batches of the complaint batches made then.
            made = (
                period if window is None else {b for b in period if _within(started.get(b), window, margin)}
            )
            made_complained = made & in_complaint
            baseline = len(fed & made)
            share = len(made_complained) / len(in_complaint) * baseline / len(made) if made else 0.0
            covered = {uid for uid, batches in batches_of.items() if batches & fed & made}
            s = measure(
                ref.label.value,
                ref.uid,
                category,
                "batches",
                len(fed & made_complained),
                len(in_complaint),
                baseline,
                share,
                covered,
            )
            # The whole period is no window of its own: shown as none, as the header gives it.
            whole = window is None or (window.start, window.end) == (lo, hi)
            measured.append(s if whole else s.model_copy(update={"window": _window_text(window)}))
        best = min(measured, key=_sort_key)
        suspects.append(best.model_copy(update={"name": names.get(ref, {}).get("name")}))

    environment, regions, unplaced, deliveries = environment_suspects(store, batches_of)
    named = fetch_properties(
        store, [NodeRef(Label(s.label), s.uid) for s in environment if s.label in LABEL_BY_NAME]
    )
    for s in environment:
        name = named.get(NodeRef(Label(s.label), s.uid), {}).get("name") if s.label in LABEL_BY_NAME else None
        suspects.append(s.model_copy(update={"name": name}) if name else s)
    suspects.sort(key=_sort_key)
    placed = traced - set(unplaced)
    suspects = _explain_away(suspects, traced, placed)
    by_category: dict[str, list[Suspect]] = {c: [] for c in get_args(Category)}
    for s in suspects:
        if len(by_category[s.category]) < top:
            by_category[s.category].append(s)
    if regions and regions[0].lift >= 2 and regions[0].complaints >= 2:
        r = regions[0]
        notes.append(
            f"complaints cluster in {r.region}: {r.support:.0%} of them against {r.share:.0%} of deliveries"
        )
    return CommonCause(
        complaints=complaints,
        untraced=untraced,
        unplaced=unplaced,
        complaint_batches=complaint_batches,
        period={"from": iso(lo), "to": iso(hi)},
        period_batches=len(period),
        deliveries=deliveries,
        suspects=suspects,
        by_category=by_category,
        regions=regions,
        notes=notes,
    )


def _within(start: int | None, window: Window, margin: int) -> bool:
    """Started in the window, or within ``margin`` after it (made from what the window made)."""
    return start is not None and window.start <= start < window.end + margin


def _window_text(window: Window) -> dict[str, str]:
    return {"from": iso(window.start) or "", "to": iso(window.end) or ""}
