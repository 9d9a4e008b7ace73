"""The index a store keeps: built on request or in the background, kept current with the change
log (:func:`lineage.graph.live.catch_up`), and built again, then swapped whole, only when it cannot
be; what ``/health`` says of it (:class:`IndexState`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel, Field

from lineage.graph.arrays import SPARE_SHARE
from lineage.graph.live import CaughtUp, catch_up
from lineage.graph.source import Source
from lineage.graph.topology import Topology
from lineage.graph.topology_build import build

log = logging.getLogger(__name__)

#: After a failed build, scopes walk the database for this long before another build is tried.
RETRY_AFTER_S = 10.0
#: A scope that finds the index at most this many entries behind applies them itself before it
#: walks (a few milliseconds); further behind, they are applied in the background meanwhile.
SYNC_ENTRIES = 4
#: Builds in a row before an index that could not take what was written meanwhile is put in place.
BUILDS = 3
#: The largest room a build keeps for later writes after indexes ran out of it: as many again as
#: it read (the room doubles with each build that follows running out, from arrays.SPARE_SHARE).
ROOMIEST = 1


class IndexState(BaseModel):
    state: str = Field(
        description="'off' (scopes walk the database), 'building' (they do until it is built), 'built' "
        "(current), 'catching up' (applying changes written since; scopes walk it meanwhile), or "
        "'rebuilding' (a new one is being built: scopes walk this one meanwhile, or the database when "
        "this one no longer matches the graph)"
    )
    nodes: int | None = Field(None, description="nodes with at least one relationship")
    relationships: int | None = None
    built_s: float | None = Field(None, description="seconds the last build took")
    seq: int | None = Field(None, description="the last change log entry the index holds")
    behind: int | None = Field(None, description="change log entries written that it does not hold yet")
    changed: int | None = Field(None, description="relationships added or removed since it was built")
    fallbacks: int = Field(0, description="scopes walked in the database since the process started")
    error: str | None = Field(None, description="why the last build failed, if it did")


class TopologyCache:
    """The index a Store keeps current: built on request or in the background, kept current by
    applying the change log (:func:`catch_up`), and built again, then swapped whole, only when it
    cannot be; a scope in flight keeps walking the one it started with."""

    def __init__(self, store: Source) -> None:
        self._store = store
        self._current: Topology | None = None
        self._lock = threading.Lock()
        self._catching = threading.Lock()
        self._building: threading.Thread | None = None
        self._refreshing: threading.Thread | None = None
        self._keep = False
        self._then: Callable[[Topology], None] | None = None
        self._failed_at = -RETRY_AFTER_S
        #: The index that could not take the changes written since (its room used up): scopes walk
        #: it as it is while another is built.
        self._stuck: Topology | None = None
        self._deferred = 0
        #: The room the next build keeps (see arrays.spare): more after an index ran out of it.
        self._share = SPARE_SHARE
        self._latest = 0  # the newest entry number this process has read of the database
        #: Scopes walked in the database (no index matched the graph), since the process started.
        self.fallbacks = 0
        self.last_error: str | None = None

    def current(self) -> Topology | None:
        """The index to walk: current with the graph, or a step behind it while it applies what was
        written by another process (in this one it was applied as it was written); None (and a
        build under way, when this process keeps one) when no index matches the graph."""
        topology = self._current
        if topology is None:
            if self._keep:
                self._rebuild_in_background()
            return None
        revision = self._store.revision()
        self._latest = revision.seq
        if revision.token != topology.token:
            if self._keep:
                self._rebuild_in_background()
            return None
        if topology is self._stuck:
            self._rebuild_in_background()  # one is under way, unless the last could not keep up
            return topology
        if revision.seq <= topology.seq:
            return topology
        if not self._keep or revision.seq - topology.seq <= SYNC_ENTRIES:
            return self._caught_up(topology, revision.seq, wait=not self._keep)
        self._refresh_in_background()
        return topology

    def written(self, seq: int) -> None:
        """A statement of this process wrote entry ``seq``: the index takes it before the statement
        returns to its caller, so that the next scope here sees it (unless the writes are
        :meth:`deferred`, as a load's are until its end)."""
        self._latest = max(self._latest, seq)
        topology = self._current
        if topology is not None and not self._deferred and seq > topology.seq:
            self._caught_up(topology, seq, wait=True)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Statements written inside are applied to the index once, at the end: a load of many
        statements reads each record it touched once, not after every statement."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            if not self._deferred:
                self.written(self._latest)

    def ready(self) -> bool:
        """Whether a scope would walk the index now without waiting on the database: it is built,
        and the engine vouches (with no round trip) that the lineage has not changed since."""
        topology = self._current
        return topology is not None and self._store.revision_vouched(topology.revision)

    def build(self) -> Topology:
        """Build now and keep the result: benchmarks and tests, which want the index in place."""
        topology = build(self._store, self._share)
        self._current, self._stuck, self._latest = topology, None, topology.seq
        return topology

    def drop(self) -> None:
        """Forget the index and stop keeping one: scopes walk the database again."""
        self._keep = False
        self._current = self._stuck = None
        self._latest = 0

    def keep_current(self, then: Callable[[Topology], None] | None = None) -> None:
        """From now on, build in the background whenever no index can be kept current (long-lived
        processes). ``then`` runs in the building thread once each new index is in place: a process
        that keeps the garbage collector away from its long-lived objects (the API) has the build's
        to add."""
        self._keep = True
        self._then = then
        self._rebuild_in_background()

    def state(self) -> IndexState:
        topology = self._current
        building = self._building is not None and self._building.is_alive()
        if topology is None:
            return IndexState(
                state="building" if building else "off", fallbacks=self.fallbacks, error=self.last_error
            )
        behind = max(0, self._latest - topology.seq)
        return IndexState(
            state="rebuilding" if building else "catching up" if behind else "built",
            nodes=topology.nodes(),
            relationships=topology.relationships(),
            built_s=round(topology.built_s, 3),
            seq=topology.seq,
            behind=behind,
            changed=topology.added() + topology.removed(),
            fallbacks=self.fallbacks,
            error=self.last_error,
        )

    def _caught_up(self, topology: Topology, seq: int, wait: bool) -> Topology | None:
        """``topology`` with the entries up to ``seq`` applied, or as it is when another thread is
        applying them and ``wait`` is false; None when it cannot catch up and nothing else can be
        walked."""
        if not self._catching.acquire(blocking=wait):
            return topology
        try:
            if topology is not self._current or topology is self._stuck:
                return topology
            outcome = catch_up(self._store, topology, seq)
        finally:
            self._catching.release()
        if outcome is CaughtUp.CURRENT:
            return topology
        if not self._keep:
            self._current = None
            return None
        if outcome is CaughtUp.FULL:
            self._share = _roomier(topology.share)  # written faster than the room allowed
            self._stuck = topology
        self._rebuild_in_background()
        return topology if outcome is CaughtUp.FULL else None

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing is not None and self._refreshing.is_alive():
                return
            self._refreshing = threading.Thread(target=self._refresh, name="lineage-changes", daemon=True)
            self._refreshing.start()

    def _refresh(self) -> None:
        topology = self._current
        while topology is not None and topology.seq < self._latest and topology is not self._stuck:
            try:
                if self._caught_up(topology, self._latest, wait=True) is None:
                    return
            except Exception:  # the next scope tries again; the error shows in the log
                log.exception("applying the change log to the topology index failed")
                return
            topology = self._current

    def _rebuild_in_background(self) -> None:
        with self._lock:
            if self._building is not None and self._building.is_alive():
                return
            if time.monotonic() - self._failed_at < RETRY_AFTER_S:
                return
            self._building = threading.Thread(target=self._rebuild, name="lineage-topology", daemon=True)
            self._building.start()

    def _rebuild(self) -> None:
        """Build, and apply what was written meanwhile before the new index replaces the old one;
        built again while that cannot be done (written faster than a build keeps room for), three
        times at most, then put in place as it is, to be walked while the next is built."""
        try:
            for _ in range(BUILDS):
                topology = build(self._store, self._share)
                with self._catching:
                    latest = self._store.revision()
                    outcome = (
                        catch_up(self._store, topology, latest.seq)
                        if latest.token == topology.token
                        else None
                    )
                caught = outcome is CaughtUp.CURRENT
                if caught:
                    break
                if outcome is CaughtUp.FULL:
                    self._share = _roomier(self._share)
        except Exception as e:  # the scope falls back to Cypher; the error shows in /health
            if self._keep:  # not dropped (the store closing) while it ran
                self._failed_at = time.monotonic()
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("building the topology index failed; scopes walk the database meanwhile")
            return
        if self._keep:
            self._current, self._stuck = topology, None if caught else topology
            self._latest = max(self._latest, topology.seq)
            self.last_error = None
            if self._then is not None:
                self._then(topology)


def _roomier(share: int) -> int:
    """The room the next build keeps after an index with ``share`` ran out: twice as much, at most
    :data:`ROOMIEST`."""
    return max(ROOMIEST, share // 2)
