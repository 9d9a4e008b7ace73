"""What a supplier may see and send through a key bound to it.

A supplier uploads its own production data: its Supplier record, the material lots it supplied and
the SUPPLIED relationships between them. It reads the scopes that start from its own lots, without
the other parties' customers, their sales and their complaints. Imports the model, the store and
the loading's validated input; nothing imports HTTP here (``api`` applies these to keys).
"""

from __future__ import annotations

from collections import defaultdict

from lineage.errors import NotPermitted, Problem, RecordsNotPermitted
from lineage.graph.model import Label, NodeRef, RelType
from lineage.graph.store import Store
from lineage.loading.checks import existing
from lineage.loading.validate import Input, Position

#: Kinds a supplier's scopes leave out: other parties' customers and what they sold and heard.
HIDDEN_FROM_SUPPLIERS = frozenset({Label.CUSTOMER, Label.SALE, Label.COMPLAINT})
VISIBLE_TO_SUPPLIERS = frozenset(Label) - HIDDEN_FROM_SUPPLIERS


def suppliers_of(store: Store, lots: set[str]) -> dict[str, set[str]]:
    """The stored suppliers of each of ``lots`` (a lot no supplier supplied is left out)."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in store.run("trace_lot_suppliers", uids=sorted(lots)):
        found[row["lot"]].add(row["supplier"])
    return found


def check_source(store: Store, supplier: str, source: NodeRef) -> None:
    """A supplier's scope must start from a lot it supplied."""
    if source.label != Label.MATERIAL_LOT or supplier not in suppliers_of(store, {source.uid}).get(
        source.uid, set()
    ):
        raise NotPermitted(
            f"a key of supplier {supplier!r} reads only scopes that start from its own material lots; "
            f"{source.label.value} {source.uid!r} is not one"
        )


def visible_kinds(supplier: str, asked: frozenset[Label]) -> frozenset[Label]:
    """The kinds a supplier's scope shows of those asked (none asked: every kind it may see)."""
    kinds = (asked or frozenset(Label)) & VISIBLE_TO_SUPPLIERS
    if not kinds:
        hidden = ", ".join(sorted(k.value for k in asked))
        raise NotPermitted(f"a key of supplier {supplier!r} does not see {hidden}: other parties' records")
    return kinds


def check_records(store: Store, data: Input, supplier: str) -> None:
    """Refuse, whole, input from ``supplier``'s key that holds anything but its own Supplier record,
    lots that it (and nobody else) supplied, and SUPPLIED relationships from it; each offending
    record is named."""
    problems: list[Problem] = []
    for label, table in data.nodes.items():
        for uid, (_, position) in table.items():
            if label == Label.SUPPLIER and uid != supplier:
                problems.append(data.problem(position, "uid", f"Supplier {uid!r} is another party"))
            elif label not in (Label.SUPPLIER, Label.MATERIAL_LOT):
                problems.append(
                    data.problem(position, "kind", f"a supplier's key cannot send {label.value} records")
                )
    for (rel, _, _), pairs in data.rels.items():
        for (src, _), (_, position) in pairs.items():
            if rel != RelType.SUPPLIED:
                problems.append(
                    data.problem(position, "kind", f"a supplier's key cannot send {rel.value} relationships")
                )
            elif src != supplier:
                problems.append(data.problem(position, "from", f"Supplier {src!r} is another party"))
    if data.events:
        source = str(data.files[0]) if data.files else "input"
        problems.append(Problem(source, None, None, "a supplier's key sends JSON Lines or CSV, not EPCIS"))
    lots = set(data.nodes.get(Label.MATERIAL_LOT, {}))
    own = data.rels.get((RelType.SUPPLIED, Label.SUPPLIER, Label.MATERIAL_LOT), {})
    supplied = {dst for src, dst in own if src == supplier}
    stored = suppliers_of(store, lots | supplied)
    present = {uid for _, uid in existing(store, {Label.MATERIAL_LOT: lots | supplied})}
    for lot in sorted(lots | supplied):
        theirs = stored.get(lot, set())
        # A stored lot is the supplier's only if it is on record as supplied by it alone: one that
        # another party supplied, or that nobody did (the plant's own), cannot be claimed. Who the
        # other party is stays unsaid.
        mine = theirs == {supplier} or (lot not in present and lot in supplied)
        if not mine:
            problems.append(
                data.problem(_position_of(data, lot), "uid", f"MaterialLot {lot!r} is not its own")
            )
    if problems:
        raise RecordsNotPermitted(f"records that supplier {supplier!r} may not write", problems)


def _position_of(data: Input, lot: str) -> Position:
    record = data.nodes.get(Label.MATERIAL_LOT, {}).get(lot)
    if record is not None:
        return record[1]
    return next(
        position
        for (rel, _, _), pairs in data.rels.items()
        if rel == RelType.SUPPLIED
        for (_, dst), (_, position) in pairs.items()
        if dst == lot
    )
