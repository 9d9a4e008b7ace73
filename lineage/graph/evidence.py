"""What a scope rests on: the event and document ids behind it, in time order.

An investigator or an auditor asks not only "which lots" but "on which records do you say so". Two
kinds of record count:

- the ``evidence`` on every relationship the scope walked (an EPCIS event id, a work order, a
  delivery note; several, space-separated, when more than one event said the same);
- for EPCIS data, the events that name the scope's objects (the EPCIS mapping keeps every
  event and each object it names): the commissioning of a lot, its packing on a pallet and that
  pallet's shipping and receiving are the lot's history even where no relationship of the trace
  rests on them. Going **forward** that is every event of an object in the scope. Going **backward**
  it is what happened to the trace's objects, and to the logistic units they were packed into,
  up to the last event the trace rests on (or the source's making): what was done to the source
  after it was made is not where it came from.

Events declared in error are left out of the second kind and flagged where a relationship still
names one. An id with no stored event has no time and comes after the dated ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from lineage.graph.model import LABEL_SLUG, REL_ENDPOINTS, Label, NodeRef, iso
from lineage.graph.scope import Scope, fetch_properties, ref_dict
from lineage.graph.store import Store

#: The kinds relationships leave, each with its query (labels cannot be parameters).
_QUERIES = {src: f"evidence_from_{LABEL_SLUG[src]}" for pairs in REL_ENDPOINTS.values() for src, _ in pairs}


class EvidenceRelationship(BaseModel):
    type: str
    source: dict[str, str]
    target: dict[str, str]


class Evidence(BaseModel):
    """One id the scope rests on, with what it was where it is a stored EPCIS event."""

    id: str
    time: str | None = Field(None, description="ISO-8601, UTC; none for an id with no stored event")
    event_type: str | None = None
    biz_step: str | None = None
    action: str | None = None
    biz_location: str | None = None
    biz_transactions: list[str] = Field(default_factory=list)
    retracted: bool = False
    objects: list[str] = Field(default_factory=list, description="the scope's objects the event names")
    relationships: list[EvidenceRelationship] = Field(
        default_factory=list, description="the scope's relationships that carry the id"
    )


def evidence_of(store: Store, scope: Scope) -> list[Evidence]:
    """Every id the scope rests on, oldest event first."""
    resting = _on_relationships(store, scope)
    events = stored_events_by_id(store, resting)  # what is read of each event, read once
    objects = {n.uid for n in scope.nodes if n.label == Label.BATCH}
    named = _named(store, objects)
    if scope.direction == "backward":
        named = _upstream(store, scope, named, events, [events[e] for e in resting if e in events])
    _read_missing(store, events, named)
    found: dict[str, Evidence] = {}
    for event, rels in resting.items():
        found[event] = _evidence(event, events.get(event), rels)
    for event, keys in named.items():
        row = events.get(event)
        if row is None or row.get("retracted"):
            continue
        item = found.setdefault(event, _evidence(event, row, []))
        item.objects = sorted(keys)

    def when(item: Evidence) -> tuple[bool, int, str]:
        at = (events.get(item.id) or {}).get("event_time")
        return at is None, at or 0, item.id

    return sorted(found.values(), key=when)


def _on_relationships(store: Store, scope: Scope) -> dict[str, list[EvidenceRelationship]]:
    walked = {(e.type.value, e.source, e.target) for e in scope.edges}
    sources: dict[Label, set[str]] = defaultdict(set)
    for _, source, _ in walked:
        sources[source.label].add(source.uid)
    resting: dict[str, list[EvidenceRelationship]] = defaultdict(list)
    for label, uids in sources.items():
        for row in store.run_over(_QUERIES[label], "uids", sorted(uids)):
            edge = (row["type"], NodeRef(label, row["src"]), NodeRef(Label(row["label"]), row["dst"]))
            if edge not in walked:
                continue
            rel = EvidenceRelationship(type=edge[0], source=ref_dict(edge[1]), target=ref_dict(edge[2]))
            for event in str(row["evidence"]).split():
                resting[event].append(rel)
    return resting


def _named(store: Store, keys: set[str], since: dict[str, int] | None = None) -> dict[str, set[str]]:
    """Event id → the given objects it names (each only from ``since[key]`` on, where given)."""
    named: dict[str, set[str]] = defaultdict(set)
    for row in store.run_over("epcis_mentions_of", "keys", sorted(keys)):
        if since is None or row["at"] >= since.get(row["object"], row["at"]):
            named[row["event"]].add(row["object"])
    return named


def _upstream(
    store: Store,
    scope: Scope,
    named: dict[str, set[str]],
    events: dict[str, dict[str, Any]],
    resting: list[dict[str, Any]],
) -> dict[str, set[str]]:
    """The events of a backward trace's objects and of the units they were packed into, up to the
    last event the trace rests on or the source's making (``events`` is filled in as they are read)."""
    _read_missing(store, events, named)
    packed: dict[str, int] = {}
    for row in events.values():
        parent = row.get("parent")
        packing = row.get("event_type") == "AggregationEvent" and row.get("action") != "DELETE"
        if parent and packing and not row.get("retracted"):
            packed[parent] = min(packed.get(parent, row["event_time"]), row["event_time"])
    for event, keys in _named(store, set(packed), since=packed).items():
        named[event] |= keys
    ends = [row["event_time"] for row in resting if row.get("event_time") is not None]
    if scope.source.label == Label.BATCH:
        made = fetch_properties(store, [scope.source])[scope.source].get("started_at")
        ends += [made] if made is not None else []
    if not ends:
        return named
    cutoff = max(ends)
    _read_missing(store, events, named)
    return {e: keys for e, keys in named.items() if (events.get(e) or {}).get("event_time", 0) <= cutoff}


def stored_events_by_id(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in store.run_over("epcis_events_by_id", "ids", sorted(set(ids)))}


def _read_missing(store: Store, events: dict[str, dict[str, Any]], ids: Iterable[str]) -> None:
    events.update(stored_events_by_id(store, [e for e in ids if e not in events]))


def _evidence(event: str, row: dict[str, Any] | None, rels: list[EvidenceRelationship]) -> Evidence:
    if row is None:
        return Evidence(id=event, relationships=rels)
    return Evidence(
        id=event,
        time=iso(row["event_time"]) if row.get("event_time") is not None else None,
        event_type=row.get("event_type"),
        biz_step=row.get("biz_step"),
        action=row.get("action"),
        biz_location=row.get("biz_location"),
        biz_transactions=str(row.get("biz_transactions") or "").split(),
        retracted=bool(row.get("retracted")),
        relationships=rels,
    )
