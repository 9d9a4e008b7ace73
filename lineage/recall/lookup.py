"""The public lookup: is this batch code or serial number under an active recall, and what to do.

What a consumer portal or a store's till asks. The answer discloses nothing but that: no customers,
no quantities, no other batches, and the same answer for a code lineage does not know as for one
that is not recalled, so the lookup cannot be used to find out which codes exist.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from lineage.errors import InvalidRequest
from lineage.graph.model import UID_PATTERN, Label, NodeRef, iso
from lineage.graph.scope import fetch_properties
from lineage.graph.store import Store

_CODE = re.compile(UID_PATTERN)
NOT_RECALLED = "No active recall matches this code."


class RecallNotice(BaseModel):
    recall: str = Field(description="the recall's reference, to quote when getting in touch")
    product: str
    risk: str
    what_to_do: str
    deadline: str | None


class LookupAnswer(BaseModel):
    code: str
    recalled: bool
    message: str
    recalls: list[RecallNotice]


def lookup(store: Store, code: str) -> LookupAnswer:
    code = code.strip()
    if not code or len(code) > 256 or not _CODE.match(code):
        raise InvalidRequest("code must be a batch code or serial number of 1 to 256 printable characters")
    batches = sorted({row["batch"] for row in store.run("lookup_code_batches", code=code)})
    rows = store.run("recall_active_for_batches", uids=batches) if batches else []
    if rows:  # the product of the code itself, not the recall's other products
        props = fetch_properties(store, [NodeRef(Label.BATCH, b) for b in batches])
        named = sorted({str(p.get("product")) for p in props.values() if p.get("product")})
    notices = [
        RecallNotice(
            recall=row["uid"],
            product=", ".join(named) or row["product"],
            risk=row["risk"],
            what_to_do=row["instructions"],
            deadline=iso(row["deadline"]),
        )
        for row in rows
    ]
    if not notices:
        return LookupAnswer(code=code, recalled=False, message=NOT_RECALLED, recalls=[])
    message = f"This product is recalled ({', '.join(n.recall for n in notices)}). {notices[0].what_to_do}"
    return LookupAnswer(code=code, recalled=True, message=message, recalls=notices)
