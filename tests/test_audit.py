"""The audit log: every write appended with who, when, what and counts, chained by hashes; an entry
changed or removed directly in the database is found and named, by the library, the CLI and the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_embedded_server import cli

from lineage.config import Settings
from lineage.graph import audit
from lineage.graph.queries import Query
from lineage.graph.store import Store
from lineage.loading.load import load
from lineage.samples.demo import demo_dir


def tamper(store: Store, statement: str) -> None:
    """Change the database behind lineage's back, as someone with access to it could."""
    store.engine.run(Query("tamper", Path("test"), statement, (), ("n",), "write", "a test's tampering"), {})


@pytest.fixture
def logged(store: Store) -> Store:
    store.clear()
    load(store, [demo_dir()], who="loader")
    for n in range(2, 7):
        audit.record(store, f"person {n}", "recall.update", f"R-{n}", {"changes": n}, f"change {n}")
    return store


def test_an_intact_log_verifies_and_pages(logged: Store) -> None:
    verified = audit.verify(logged)
    assert verified.ok and verified.entries == 6 and verified.problem is None
    first = audit.page(logged, 0, 4)
    assert [e.seq for e in first.entries] == [1, 2, 3, 4] and first.next_after == 4
    rest = audit.page(logged, first.next_after or 0, 4)
    assert [e.seq for e in rest.entries] == [5, 6] and rest.next_after is None
    load_entry = first.entries[0]
    assert load_entry.who == "loader" and load_entry.action == "load"
    assert load_entry.counts["nodes"] > 0 and load_entry.prev == ""
    assert first.entries[1].prev == load_entry.hash and rest.entries[-1].hash == verified.head


@pytest.mark.parametrize(
    ("statement", "bad", "says"),
    [
        (
            "MATCH (a:AuditEntry {seq: 3}) SET a.who = 'mallory' RETURN count(a) AS n",
            3,
            "entry 3 (recall.update R-3 by mallory) was altered",
        ),
        (
            "MATCH (a:AuditEntry {seq: 4}) SET a.counts = '{\"changes\": 40}' RETURN count(a) AS n",
            4,
            "entry 4 (recall.update R-4 by person 4) was altered",
        ),
        (
            "MATCH (a:AuditEntry {seq: 3}) DETACH DELETE a RETURN count(*) AS n",
            3,
            "entry 3 removed: entry 2 is followed by entry 4",
        ),
        (
            "MATCH (a:AuditEntry) WHERE a.seq >= 5 DETACH DELETE a RETURN count(*) AS n",
            5,
            "entries 5-6 removed: the head records 6 entries",
        ),
        (
            "MATCH (a:AuditEntry {seq: 1}) DETACH DELETE a RETURN count(*) AS n",
            1,
            "entry 1 removed: the start is followed by entry 2",
        ),
    ],
)
def test_tampering_is_found_and_the_entry_named(logged: Store, statement: str, bad: int, says: str) -> None:
    tamper(logged, statement)
    verified = audit.verify(logged)
    assert not verified.ok and verified.first_bad == bad
    assert verified.problem is not None and says in verified.problem
    assert verified.entries == bad - 1


def test_a_rewritten_hash_breaks_the_next_link(logged: Store) -> None:
    tamper(
        logged, "MATCH (a:AuditEntry {seq: 2}) SET a.detail = 'nothing', a.hash = 'f00d' RETURN count(a) AS n"
    )
    verified = audit.verify(logged)
    assert verified.first_bad == 2 and "entry 2" in (verified.problem or "")


def test_writes_after_tampering_still_chain_and_the_cli_names_the_entry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli(data, "load", str(demo_dir())).returncode == 0
    assert cli(data, "drill", "L-4471", "--json").returncode == 0
    with Store.open(Settings(data_dir=data)) as store:
        tamper(store, "MATCH (a:AuditEntry {seq: 1}) SET a.subject = 'nothing loaded' RETURN count(a) AS n")
    done = cli(data, "audit", "verify")
    assert done.returncode == 1 and "entry 1 (load nothing loaded by" in done.stderr


def test_a_head_another_writer_moved_is_read_again(falkor_settings: Settings) -> None:
    """Each store remembers where its own last append left the head and tries that first; when
    another writer (here a second store on the same server, as another process would) or a reset
    moved it, the append reads the head and chains to it."""
    with Store.open(falkor_settings) as first, Store.open(falkor_settings) as second:
        first.clear()
        for n, store in enumerate([first, second, first, first, second, first]):
            audit.record(store, f"writer {n % 2}", "test.append", f"entry {n}")
        verified = audit.verify(first)
        assert verified.ok and verified.entries == 6
        assert [e.subject for e in audit.page(second, 0, 100).entries] == [f"entry {n}" for n in range(6)]
        first.clear()
        assert audit.record(first, "after a reset", "test.append", "again").seq == 1
        assert audit.verify(second).ok


def _append_many(data: str, who: str) -> None:
    with Store.open(Settings(data_dir=Path(data))) as store:
        for n in range(25):
            audit.record(store, who, "test.append", f"{who}-{n}")


def test_writers_in_several_processes_keep_one_chain(tmp_path: Path) -> None:
    """Each process has its own lock; only the compare-and-set append keeps the chain whole."""
    import multiprocessing

    data = tmp_path / "data"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(data), f"p{n}")) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    with Store.open(Settings(data_dir=data)) as store:
        verified = audit.verify(store)
        subjects = [e.subject for e in audit.page(store, 0, 1000).entries]
    assert verified.ok and verified.entries == 75
    assert sorted(subjects) == sorted(f"p{p}-{n}" for p in range(3) for n in range(25))
