"""Common-cause analysis: what a set of complaints has in common upstream, ranked and explained.

Each complaint is traced to the batch its unit came from (the batch it names, or the batch its
sold unit was made in); each such batch is traced back to everything upstream of it. Every upstream
node is then a suspect, measured two ways:

- **support**: the share of the complaint batches it feeds;
- **share**: the share of all batches of the same kinds produced in the same period that it feeds.

A cause feeds the complaint batches far more often than chance: it is ranked by ``support - share``
(then lift, ``support / share``, then the count). A water line that feeds everything has support 1
and share 1, so it scores 0; a supplier lot in 9 of 10 complaint batches and 12% of production
scores 0.78. Suspects are grouped by the six cause categories of quality work; method (recipe or
process version) is not recorded in the model yet, so it stays empty, and says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, get_args

from pydantic import BaseModel, Field

from lineage.errors import InvalidRequest
from lineage.model import Label, NodeRef, RelType, iso
from lineage.nodes import node_detail
from lineage.scope import Scope, Window, backward, fetch_properties, forward
from lineage.store import Store

Category = Literal["man", "machine", "material", "method", "environment", "measurement"]
CATEGORY: dict[Label, Category] = {
    Label.OPERATOR: "man",
    Label.MACHINE: "machine",
    Label.MATERIAL_LOT: "material",
    Label.SUPPLIER: "material",
    Label.BATCH: "material",  # an intermediate or rework batch that went into the complaint batch
    Label.INSPECTION: "measurement",
}
DAY_MS = 24 * 3600 * 1000


class Suspect(BaseModel):
    label: str
    uid: str
    name: str | None = None
    category: Category
    complaint_batches: int = Field(description="complaint batches it feeds")
    support: float = Field(description="share of the complaint batches it feeds")
    period_batches: int = Field(description="batches of the period it feeds, complaint batches included")
    share: float = Field(description="share of the period's batches it feeds")
    lift: float = Field(description="support / share")
    score: float = Field(description="support - share: the ranking")
    complaints: list[str] = Field(description="the complaints it explains")
    explains_first: int | None = Field(
        None,
        description="1 for the best explanation; 2 for the best of what is left unexplained by 1, and so on; "
        "null for suspects ranked after those, by score",
    )


class CommonCause(BaseModel):
    complaints: list[str]
    untraced: dict[str, str] = Field(description="complaints that lead to no batch, and why")
    complaint_batches: list[str]
    period: dict[str, str | None] = Field(description="when the batches compared against were started")
    period_batches: int
    suspects: list[Suspect] = Field(description="every upstream node, best explanation first")
    by_category: dict[str, list[Suspect]] = Field(description="the top suspects of each cause category")
    notes: list[str]


def _complaint_batches(store: Store, complaint: str) -> tuple[set[str], str | None]:
    """The batches a complaint's unit came from: the nearest batches of its backward trace."""
    scope = backward(store, NodeRef(Label.COMPLAINT, complaint), properties=())
    batches = [n for n in scope.nodes if n.label == Label.BATCH and n.depth > 0]
    if not batches:
        return set(), "it names no batch and no unit sold from one"
    nearest = min(n.depth for n in batches)
    return {n.uid for n in batches if n.depth == nearest}, None


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


def _upstream(scope: Scope) -> Iterable[NodeRef]:
    return (n.ref for n in scope.nodes if n.depth > 0 and n.label in CATEGORY)


#: How much better than chance a further cause must explain what is left: below it, a machine that
#: happened to run two of three unrelated complaint batches would pass for a second cause.
NEXT_CAUSE_GAIN = 0.25


Fed = dict[tuple[str, str], set[str]]


def _gain(s: Suspect, fed_of: Fed, left: set[str], produced: int) -> tuple[float, int]:
    hits = len(fed_of[(s.label, s.uid)] & left)
    return hits / len(left) - s.period_batches / produced, hits


def _explain_away(suspects: list[Suspect], fed_of: Fed, batches: set[str], produced: int) -> list[Suspect]:
    """Several causes at once: the best suspect first, then the best at explaining the complaint
    batches it leaves unexplained, and so on while one still explains at least two of them better
    than chance; the rest after, by score. Without this, two bad lots each explain half of the
    complaints and a machine that ran most batches outranks the second lot."""
    picked: list[Suspect] = []
    left = set(batches)
    rest = list(suspects)
    while rest and len(left) >= 2:
        gains = [_gain(s, fed_of, left, produced) for s in rest]
        at = max(range(len(rest)), key=gains.__getitem__)
        best, (gain, hits) = rest[at], gains[at]
        if hits < 2 or (picked and gain < NEXT_CAUSE_GAIN):
            break
        picked.append(best.model_copy(update={"explains_first": len(picked) + 1}))
        rest.remove(best)
        left -= fed_of[(best.label, best.uid)]
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


def common_cause(store: Store, complaints: list[str], margin_days: float = 1.0, top: int = 5) -> CommonCause:
    """Rank what ``complaints`` have in common upstream (see the module docstring). The period is
    from the first complaint batch's start to the last one's, widened by ``margin_days`` each side."""
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
        period = {r["uid"] for r in rows if str(r["batch_type"] or "production") in kinds}
    else:
        lo = hi = None
        period = set()
        notes.append("the complaint batches have no start time: they are compared among themselves only")
    period |= set(complaint_batches)

    memo: dict[NodeRef, set[str]] = {}
    candidates: dict[NodeRef, set[str]] = defaultdict(set)  # suspect -> complaints it explains
    for uid, batches in batches_of.items():
        for batch in batches:
            for ref in _upstream(backward(store, NodeRef(Label.BATCH, batch), properties=())):
                candidates[ref].add(uid)
    names = fetch_properties(store, list(candidates))
    in_complaint = set(complaint_batches)
    total, produced = len(in_complaint), len(period)
    suspects = []
    fed_of: Fed = {}
    for ref, explained in candidates.items():
        fed = fed_of[(ref.label.value, ref.uid)] = _feeds(store, ref, memo)
        in_complaints = len(fed & in_complaint)
        in_period = len(fed & period)
        support, share = in_complaints / total, in_period / produced
        suspects.append(
            Suspect(
                label=ref.label.value,
                uid=ref.uid,
                name=names.get(ref, {}).get("name"),
                category=CATEGORY[ref.label],
                complaint_batches=in_complaints,
                support=round(support, 4),
                period_batches=in_period,
                share=round(share, 4),
                lift=round(support / share, 3) if share else 0.0,
                score=round(support - share, 4),
                complaints=sorted(explained),
            )
        )
    suspects.sort(key=lambda s: (-s.score, -s.lift, -s.complaint_batches, s.label, s.uid))
    suspects = _explain_away(suspects, fed_of, in_complaint, produced)
    by_category: dict[str, list[Suspect]] = {c: [] for c in get_args(Category)}
    for s in suspects:
        if len(by_category[s.category]) < top:
            by_category[s.category].append(s)
    notes.append("environment (storage places, routes, shifts) is not ranked yet")
    return CommonCause(
        complaints=complaints,
        untraced=untraced,
        complaint_batches=complaint_batches,
        period={"from": iso(lo), "to": iso(hi)},
        period_batches=produced,
        suspects=suspects,
        by_category=by_category,
        notes=notes,
    )
