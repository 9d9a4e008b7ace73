"""``POST /complaints``: one complaint form in, checked against the lineage and stored, never refused
for not matching it (see :mod:`lineage.complaints.intake`)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EDITOR, ActorDep, StoreDep
from api.problems import documented
from api.responses import ModelJSON
from lineage.complaints.intake import ComplaintForm, Intake, intake

router = APIRouter(dependencies=EDITOR, responses=documented(401, 403, 422, 500, 503), tags=["complaints"])


@router.post("/complaints", response_model=Intake, status_code=201)
def post_complaint(store: StoreDep, form: ComplaintForm, who: ActorDep) -> ModelJSON:
    """Store a complaint: linked to the batch, unit (serial) and customer it names where they exist,
    and flagged `unverified`, with every reason, where it does not match the lineage (an unknown
    batch, a batch that never reached the customer or their region). Sending the same form again
    stores nothing new."""
    return ModelJSON(intake(store, form, who=who), status_code=201)
