"""``GET /audit``: the audit log a page at a time, and its verification (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AUDIT, StoreDep
from api.problems import documented
from api.responses import ModelJSON
from lineage.graph import audit

router = APIRouter(dependencies=AUDIT, responses=documented(401, 403, 422, 500, 503), tags=["admin"])


@router.get("/audit", response_model=audit.AuditPage)
def audit_page(
    store: StoreDep,
    after: Annotated[
        int, Query(ge=0, description="entries numbered after this; next_after of the last page")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ModelJSON:
    """Every write, oldest first: who, when, what, counts, and the hashes that chain the entries."""
    return ModelJSON(audit.page(store, after, limit))


@router.get("/audit/verify", response_model=audit.Verification)
def audit_verify(store: StoreDep) -> ModelJSON:
    """Walk the chain; name the first entry that was altered or removed."""
    return ModelJSON(audit.verify(store))
