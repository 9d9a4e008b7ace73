"""What a scope rests on: the event and document ids behind it, in time order.

An investigator or an auditor asks not only "which lots" but "on which records do you say so". Two
kinds of record count:

- the ``evidence`` on every relationship the scope walked (an EPCIS event id, a work order, a
  delivery note; several, space-separated, when more than one event said the same);
- for EPCIS data, the events that name the scope's objects (the EPCIS mapping keeps every
  event and each object it names): the commissioning of a lot, its packing on a pallet and that
  pallet's shipping and receiving are the lot's history even where no relationship of the trace
  rests on them. Every event of the **source** counts (its making, its packing into and unpacking
  from containers, its shipping and receiving). Of another object, the stretch of its history the
  trace follows: going **backward**, up to the last event of the trace that names it (the one
  that made it part of what the trace follows: what became of an input afterwards is not where
  the source came from); going **forward**, from the first. And of every container (pallet,
  case) an object was packed into within that stretch, its events from the packing to the
  unpacking of that object: the container's own shipping and receiving.

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
    objects: list[str] = Field(
        default_factory=list, description="the scope's objects (or their containers) the event names"
    )
    why: str = Field(
        "", description="why the event is in: a relationship, the source, an object, a container"
    )
    relationships: list[EvidenceRelationship] = Field(
        default_factory=list, description="the scope's relationships that carry the id"
    )


def evidence_of(store: Store, scope: Scope) -> list[Evidence]:
    """Every id the scope rests on, oldest event first."""
    resting = _on_relationships(store, scope)
    events = stored_events_by_id(store, resting)  # what is read of each event, read once
    objects = {n.uid for n in scope.nodes if n.label == Label.BATCH}
    named = _named(store, objects)
    _read_missing(store, events, named)
    source = scope.source.uid if scope.source.label == Label.BATCH else None
    windows = _windows(store, scope, source, named, events, resting)
    named = _within(named, events, windows)
    held = _containers(store, named, events, windows)
    found: dict[str, Evidence] = {}
    for event, rels in resting.items():
        found[event] = _evidence(event, events.get(event), rels, "the trace's relationships rest on it")
    for event, keys in [*named.items(), *held.items()]:
        row = events.get(event)
        if row is None or row.get("retracted"):
            continue
        why = _why(keys, source, set(named.get(event, ())), scope.direction)
        item = found.setdefault(event, _evidence(event, row, [], why))
        item.objects = sorted(set(item.objects) | keys)

    def when(item: Evidence) -> tuple[bool, int, str]:
        at = (events.get(item.id) or {}).get("event_time")
        return at is None, at or 0, item.id

    return sorted(found.values(), key=when)


#: A stretch of an object's history, from and to (event times, inclusive); None where it is open.
Window = tuple[int | None, int | None]
OPEN: Window = (None, None)


def _windows(
    store: Store,
    scope: Scope,
    source: str | None,
    named: dict[str, set[str]],
    events: dict[str, dict[str, Any]],
    resting: dict[str, list[EvidenceRelationship]],
) -> dict[str, Window]:
    """The stretch of each traced object's history the trace rests on: all of the source's; of
    another, backward up to the last event on the trace's relationships that names it, forward
    from the first. An object no such event names is taken, backward, up to the last event the
    trace rests on or the source's making, and forward whole."""
    times: dict[str, list[int]] = defaultdict(list)
    for event in resting:
        at = (events.get(event) or {}).get("event_time")
        for key in named.get(event, ()) if at is not None else ():
            times[key].append(at)
    backward = scope.direction == "backward"
    default = OPEN
    if backward:
        ends = [at for at in ((events.get(e) or {}).get("event_time") for e in resting) if at is not None]
        if source is not None:
            made = fetch_properties(store, [scope.source])[scope.source].get("started_at")
            ends += [made] if made is not None else []
        default = (None, max(ends)) if ends else OPEN
    windows: dict[str, Window] = {}
    for key in {k for keys in named.values() for k in keys}:
        if key == source:
            windows[key] = OPEN
        elif key in times:
            windows[key] = (None, max(times[key])) if backward else (min(times[key]), None)
        else:
            windows[key] = default
    return windows


def _inside(at: int | None, window: Window) -> bool:
    start, end = window
    return at is not None and (start is None or at >= start) and (end is None or at <= end)


def _within(
    named: dict[str, set[str]], events: dict[str, dict[str, Any]], windows: dict[str, Window]
) -> dict[str, set[str]]:
    """Each event with the objects in whose window it falls (none: it is left out)."""
    kept: dict[str, set[str]] = {}
    for event, keys in named.items():
        at = (events.get(event) or {}).get("event_time")
        inside = {key for key in keys if _inside(at, windows.get(key, OPEN))}
        if inside:
            kept[event] = inside
    return kept


def _containers(
    store: Store, named: dict[str, set[str]], events: dict[str, dict[str, Any]], windows: dict[str, Window]
) -> dict[str, set[str]]:
    """The events of the containers the traced objects were packed into within their windows, from
    each packing to the unpacking of that object (or the end of its window): event id → containers."""
    packings: list[tuple[str, str, int]] = []  # (object, container, when packed)
    for event, keys in named.items():
        row = events[event]
        parent = row.get("parent")
        packing = row.get("event_type") == "AggregationEvent" and row.get("action") != "DELETE"
        if parent and packing and not row.get("retracted"):
            packings += [(key, parent, row["event_time"]) for key in keys if key != parent]
    if not packings:
        return {}
    of_containers = _named(store, {container for _, container, _ in packings})
    _read_missing(store, events, of_containers)
    spans: dict[str, list[Window]] = defaultdict(list)
    for key, container, packed in packings:
        unpacked = [
            row["event_time"]
            for row in (events[e] for e in of_containers)
            if _unpacks(row, container, key) and row["event_time"] >= packed
        ]
        end = windows.get(key, OPEN)[1]
        ends = [t for t in (min(unpacked, default=None), end) if t is not None]
        spans[container].append((packed, min(ends) if ends else None))
    held: dict[str, set[str]] = {}
    for event, keys in of_containers.items():
        at = events[event].get("event_time")
        inside = {c for c in keys if any(_inside(at, span) for span in spans.get(c, ()))}
        if inside:
            held[event] = inside
    return held


def _unpacks(row: dict[str, Any], container: str, key: str) -> bool:
    """Whether the event takes ``key`` out of ``container``: an unpacking of it, or of everything."""
    if row.get("event_type") != "AggregationEvent" or row.get("action") != "DELETE" or row.get("retracted"):
        return False
    if row.get("parent") != container:
        return False
    children = set(str(row.get("objects") or "").split()) - {container}
    return not children or key in children


def _why(keys: set[str], source: str | None, traced: set[str], direction: str) -> str:
    if source is not None and source in keys:
        return "an event of the source"
    if keys & traced:
        return "an event of an input" if direction == "backward" else "an event of what it went into"
    return "an event of a container while a traced object was packed in it"


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


def _named(store: Store, keys: set[str]) -> dict[str, set[str]]:
    """Event id → the given objects it names."""
    named: dict[str, set[str]] = defaultdict(set)
    for row in store.run_over("epcis_mentions_of", "keys", sorted(keys)):
        named[row["event"]].add(row["object"])
    return named


def stored_events_by_id(store: Store, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in store.run_over("epcis_events_by_id", "ids", sorted(set(ids)))}


def _read_missing(store: Store, events: dict[str, dict[str, Any]], ids: Iterable[str]) -> None:
    events.update(stored_events_by_id(store, [e for e in ids if e not in events]))


def _evidence(event: str, row: dict[str, Any] | None, rels: list[EvidenceRelationship], why: str) -> Evidence:
    if row is None:
        return Evidence(id=event, relationships=rels, why=why)
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
        why=why,
    )
