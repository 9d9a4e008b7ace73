"""The query book: every file's header matches its body, and broken files fail naming file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lineage.errors import QueryFileError
from lineage.graph.live import nodes_query_name, pairs_query_name
from lineage.graph.model import REL_ENDPOINTS, Label, RelType, node_query_name, rel_query_name
from lineage.graph.queries import QueryBook, parse_query_file
from lineage.graph.topology import LABELS, properties_query_name, topology_query_name

ROOT = Path(__file__).resolve().parent.parent

GOOD = """// name: {name}
// params: uids
// returns: uid
// mode: read
// why: a test query.
UNWIND $uids AS u MATCH (n:Batch {{uid: u}}) RETURN n.uid AS uid
"""


def test_every_label_and_relationship_variant_has_its_upsert_query() -> None:
    book = QueryBook.load()
    for label in Label:
        assert book[node_query_name(label)].params == ("rows",)
    for rel, pairs in REL_ENDPOINTS.items():
        for src, dst in pairs:
            query = book[rel_query_name(rel, src, dst)]
            assert f"(a:{src.value} " in query.text and f"(b:{dst.value} " in query.text
            assert f"[r:{rel.value}]" in query.text


def test_every_relationship_variant_is_read_into_the_topology_index() -> None:
    book = QueryBook.load()
    for rel, pairs in REL_ENDPOINTS.items():
        for src, dst in pairs:
            query = book[topology_query_name(rel, src, dst)]
            assert f"(a:{src.value})-[r:{rel.value}]->(b:{dst.value})" in query.text
            assert query.returns[:2] == ("src", "dst")
            assert set(query.returns[2:]) <= {"quantity", "unit", "start", "end"}
    unread = {q.name for q in book if q.name.startswith("topology_rel_")} - {
        topology_query_name(rel, src, dst) for rel, pairs in REL_ENDPOINTS.items() for src, dst in pairs
    }
    assert not unread


def test_the_index_reads_the_properties_of_every_kind() -> None:
    book = QueryBook.load()
    for label in LABELS:
        query = book[properties_query_name(label)]
        assert f"MATCH (n:{label.value})" in query.text and query.returns == ("uid", "props")
    read = {q.name for q in book if q.name.startswith("topology_props_")}
    assert read == {properties_query_name(label) for label in LABELS}


def test_every_relationship_variant_is_read_again_by_its_ends() -> None:
    """What an index catching up reads of the relationships a change log entry names: the same
    columns as the variant's full read, by the pairs of uids."""
    book = QueryBook.load()
    for rel, pairs in REL_ENDPOINTS.items():
        for src, dst in pairs:
            query = book[pairs_query_name(rel, src, dst)]
            assert query.read_only and query.params == ("pairs",)
            assert query.text.startswith("UNWIND $pairs AS p\n")
            assert (
                f"(a:{src.value} {{uid: p.src}})-[r:{rel.value}]->(b:{dst.value} {{uid: p.dst}})"
                in query.text
            )
            assert query.returns == book[topology_query_name(rel, src, dst)].returns
    read = {q.name for q in book if q.name.startswith("topology_pairs_")}
    assert read == {
        pairs_query_name(rel, src, dst) for rel, pairs in REL_ENDPOINTS.items() for src, dst in pairs
    }


def test_every_kind_is_read_again_by_its_uids() -> None:
    book = QueryBook.load()
    for label in LABELS:
        query = book[nodes_query_name(label)]
        assert query.read_only and query.params == ("uids",)
        assert f"MATCH (n:{label.value} {{uid: u}})" in query.text
        assert query.returns == book[properties_query_name(label)].returns == ("uid", "props")
    read = {q.name for q in book if q.name.startswith("topology_nodes_")}
    assert read == {nodes_query_name(label) for label in LABELS}


LOG_KEYS = ("node_labels", "node_uids", "rel_types", "rel_src_labels", "rel_src", "rel_dst_labels", "rel_dst")


def test_every_write_to_the_lineage_logs_its_change_in_the_same_statement() -> None:
    """Each statement that changes the lineage (but the reset, after which every index is built
    again) ends by numbering its change and appending it to the log, and returns the number with
    the revision's token (what the writer signals to every other process's watch)."""
    logged = [q for q in QueryBook.load() if q.changes_lineage and q.name != "admin_delete_some"]
    assert len(logged) == len(Label) + sum(map(len, REL_ENDPOINTS.values())) + 6
    for query in logged:
        text = query.text
        assert query.returns[-2:] == ("seq", "token"), query.name
        assert text.endswith(", clock.seq AS seq, clock.token AS token"), query.name
        tail = text[text.index("MERGE (clock:Revision {uid: 'lineage'})") :]
        locked, counted = "SET clock.locked = true", "SET clock.seq = coalesce(clock.seq, 0) + 1"
        assert tail.index(locked) < tail.index(counted), query.name  # the write lock before the read
        assert "CREATE (:LineageChange {seq: clock.seq, at: timestamp(), " in tail, query.name
        named = set(re.findall(r"\b([a-z_]+): ", tail[tail.index("CREATE") :])) & set(LOG_KEYS)
        assert named in ({"node_labels", "node_uids"}, set(LOG_KEYS[2:])), query.name
        why = re.sub(r"\s*\n//\s*", " ", query.path.read_text().split(text)[0])  # the header, unwrapped
        assert "the change log's next entry naming" in why, query.name
    book = QueryBook.load()
    assert "LineageChange" not in book["admin_delete_some"].text  # a reset deletes the log too
    assert book["topology_revision"].returns == ("token", "seq")
    assert book["revision_bump"].returns == ("token", "seq")
    assert book["change_log_after"].returns == ("seq", *LOG_KEYS)
    assert book["change_log_after"].params == ("after", "limit")
    assert book["change_log_first"].returns == ("seq",) and book["change_log_first"].read_only
    trim = book["change_log_trim"]
    assert trim.params == ("before", "limit") and trim.returns == ("trimmed",) and trim.changes == "records"


def test_headers_describe_the_queries() -> None:
    for query in QueryBook.load():
        assert query.returns, query.name
        assert query.why, query.name
        assert query.mode == ("read" if query.name.startswith(("scope_", "trace_", "nodes_")) else query.mode)
        if not query.name.startswith("bench_naive_"):  # the benchmarks' counter-example only
            assert "-[*" not in query.text and "*]-" not in query.text, f"{query.name} enumerates paths"
    for code in [*(ROOT / "lineage").rglob("*.py"), *(ROOT / "api").rglob("*.py")]:
        assert "bench_naive_" not in code.read_text(), f"{code} runs a path-enumerating query"


LINEAGE_NAMES = re.compile(
    r":(" + "|".join([*(label.value for label in Label), *(rel.value for rel in RelType)]) + r")\b"
)
ANY_LABEL = re.compile(r"\([a-z]*:[A-Z]")


def test_a_write_that_reaches_the_lineage_says_it_changes_it() -> None:
    """The store moves the revision, which every topology index compares, after a write that says
    ``changes: lineage``: a write that names a lineage label or relationship type, or no label at all
    (it may touch anything), must say so; one that names only lineage's own records must not."""
    for query in QueryBook.load():
        if query.read_only:
            assert query.changes is None, query.name
            continue
        reaches = bool(LINEAGE_NAMES.search(query.text)) or not ANY_LABEL.search(query.text)
        assert query.changes == ("lineage" if reaches else "records"), query.name
    book = QueryBook.load()
    assert not book["revision_bump"].changes_lineage  # the bump itself moves nothing further
    assert book["signal_complaint_keys"].changes_lineage and book["admin_delete_some"].changes_lineage
    assert not book["hold_write"].changes_lineage and not book["audit_append"].changes_lineage


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.cypher"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.format(name="other"), r"q\.cypher:1: header name 'other' differs from the file name 'q'"),
        (GOOD.format(name="q").replace("// mode: read\n", ""), r"q\.cypher:1: header lacks mode"),
        (GOOD.format(name="q").replace("mode: read", "mode: sometimes"), r"mode must be read or write"),
        (
            GOOD.format(name="q").replace("mode: read", "mode: write"),
            r"q\.cypher:1: a write must say what it changes \('changes: lineage' or 'changes: records'\)",
        ),
        (
            GOOD.format(name="q").replace("mode: read", "mode: write\n// changes: everything"),
            r"not 'everything'",
        ),
        (
            GOOD.format(name="q").replace("mode: read", "mode: read\n// changes: lineage"),
            r"a read changes nothing; drop 'changes: lineage'",
        ),
        (
            GOOD.format(name="q").replace("params: uids", "params: uids, extra"),
            r"declares unused parameter\(s\) extra",
        ),
        (
            GOOD.format(name="q").replace("params: uids", "params: none"),
            r"uses undeclared parameter\(s\) uids",
        ),
        (GOOD.format(name="q").split("UNWIND")[0], r"q\.cypher:6: no statement after the header"),
        (
            GOOD.format(name="q").replace("// why: a test query.\n", "// why: x\n// why: y\n"),
            r"q\.cypher:6: header 'why' given twice",
        ),
    ],
)
def test_a_broken_file_fails_naming_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(QueryFileError, match=expected):
        parse_query_file(write(tmp_path, "q", text))


def test_the_book_refuses_duplicates_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(QueryFileError, match=r"no \.cypher files"):
        QueryBook.load(tmp_path)
    write(tmp_path, "q", GOOD.format(name="q"))
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "q", GOOD.format(name="q"))
    with pytest.raises(QueryFileError, match=r"name 'q' is also used by"):
        QueryBook.load(tmp_path)


def test_a_parameter_inside_a_string_is_not_a_parameter(tmp_path: Path) -> None:
    text = GOOD.format(name="q").replace("RETURN n.uid AS uid", "RETURN n.uid + '$notparam' AS uid")
    assert parse_query_file(write(tmp_path, "q", text)).params == ("uids",)
