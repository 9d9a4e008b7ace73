"""The catalog that search answers from: uids and names of every node, kept current by writes.

Random runs of writes (new nodes, renamed ones, deleted ones), merged into new sorted arrays now
and then, against a plain dictionary of what is stored: every search names exactly the nodes that
match, as the database's scan does (tests/test_live.py compares the two on a real database).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lineage.graph.catalog import Catalog, Hit, name_of
from lineage.graph.model import Label

KINDS = [Label.MATERIAL_LOT, Label.CUSTOMER, Label.BATCH]
UIDS = st.text("aAbB-é1", min_size=1, max_size=4)
NAMES = st.none() | st.text("xXyé ", max_size=4)


def props(label: Label, name: str | None) -> dict[str, object]:
    key = {Label.MATERIAL_LOT: "material", Label.BATCH: "product"}.get(label, "name")
    return {} if name is None else {key: name}


def expected(stored: dict[tuple[Label, str], str | None], q: str, kinds: list[Label]) -> set[Hit]:
    """Every match, as node_search's scan finds them, with the best match for each node."""
    hits = set()
    for (label, uid), name in stored.items():
        if label not in kinds:
            continue
        if uid == q:
            hits.add(Hit(label, uid, name, "uid"))
        elif uid.startswith((q, q.upper())):
            hits.add(Hit(label, uid, name, "uid_prefix"))
        elif name is not None and q.lower() in name.lower():
            hits.add(Hit(label, uid, name, "name"))
    return hits


@given(
    built=st.dictionaries(st.tuples(st.sampled_from(KINDS), UIDS), NAMES, max_size=12),
    writes=st.lists(st.tuples(st.sampled_from(KINDS), UIDS, st.booleans(), NAMES), max_size=30),
    queries=st.lists(UIDS | NAMES.filter(bool), min_size=1, max_size=6),
    merge_at=st.sampled_from([1, 3, 1000]),
    newest=st.sampled_from([0, 2, 1000]),
)
def test_search_finds_what_is_stored_after_any_writes(
    built: dict[tuple[Label, str], str | None],
    writes: list[tuple[Label, str, bool, str | None]],
    queries: list[str],
    merge_at: int,
    newest: int,
) -> None:
    parts: dict[Label, list[tuple[str, str | None]]] = {}
    for (label, uid), name in built.items():
        parts.setdefault(label, []).append((uid, name_of(label, props(label, name))))
    catalog = Catalog(parts, merge_at=merge_at, newest=newest)
    stored = dict(built)
    for label, uid, deleted, name in writes:
        if deleted:
            catalog.set(label, uid, None)
            stored.pop((label, uid), None)
        else:
            catalog.set(label, uid, props(label, name))
            stored[(label, uid)] = name
    for q in queries:
        got = catalog.search(q, KINDS, limit=1000)
        assert len(got) == len({(h.label, h.uid) for h in got}), q
        assert set(got) == expected(stored, q, KINDS), q
        few = catalog.search(q, [Label.CUSTOMER], limit=1)
        assert set(few) <= expected(stored, q, [Label.CUSTOMER]), q
        assert len(few) <= 3  # at most one of each match


def test_a_lot_is_named_by_its_material_and_a_node_without_a_name_by_nothing() -> None:
    catalog = Catalog({Label.MATERIAL_LOT: [("L-1", "milk powder")], Label.SALE: [("S-1", None)]})
    assert catalog.search("Milk", [Label.MATERIAL_LOT], 5) == [
        Hit(Label.MATERIAL_LOT, "L-1", "milk powder", "name")
    ]
    assert catalog.search("s-1", [Label.SALE], 5) == [Hit(Label.SALE, "S-1", None, "uid_prefix")]
    assert name_of(Label.MATERIAL_LOT, {"material": "whey", "name": "Whey 80"}) == "Whey 80"
