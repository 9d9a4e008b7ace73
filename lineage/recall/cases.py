"""What a recall case is: the request that opens one, the case as stored and shown with its
frozen scope and pending change, and the changes an update may make (:mod:`.recalls` carries a
case from draft to closed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from lineage.graph.model import EpochMs, Text, now_ms, to_epoch_ms
from lineage.graph.store import Store
from lineage.recall.affected import (
    AffectedBatch,
    AffectedCustomer,
    AffectedShipment,
    Response,
    ResponseLevel,
    StockOnHand,
)

Strategy = Literal["full", "targeted", "selective_replacement"]


State = Literal["draft", "active", "closed"]


Remedy = Literal["return", "destroy", "replace", "repair"]


RECORD = "Recall"


#: A change of state: (store, recall uid, who) to the recall as it is after.
Transition = Callable[[Store, str, str], "Recall"]


#: What a customer is asked to do, by remedy: the "how" of a notice and of the public lookup.
INSTRUCTIONS: dict[Remedy, str] = {
    "return": "Stop selling and using it now. Keep it apart from other stock and return it; you will be "
    "refunded or credited.",
    "destroy": "Stop selling and using it now, and destroy it. Keep a record of the quantity destroyed.",
    "replace": "You may keep using it until the replacement arrives; contact us to arrange the replacement.",
    "repair": "Contact us to arrange the repair; follow the safety advice in this notice until then.",
}


class RecallRequest(BaseModel):
    """What a coordinator decides when opening a recall."""

    source: str = Field(description="Label:uid of the forward scope's source, e.g. MaterialLot:L-4471")
    window_from: EpochMs | None = Field(None, description="for a machine or operator: batches run from")
    window_to: EpochMs | None = Field(None, description="... up to (exclusive)")
    strategy: Strategy = "full"
    regions: list[Text] = Field(default_factory=list, description="targeted: the regions recalled")
    customers: list[Text] = Field(default_factory=list, description="targeted: the customers recalled")
    reason: Text = Field(min_length=1, description="why the product is recalled, for the record")
    risk: Text = Field(min_length=1, description="the risk in plain words, as customers will read it")
    safety: bool = Field(True, description="a risk to health or safety (selective replacement needs false)")
    remedy: Remedy | None = Field(None, description="return or destroy (full, targeted); replace or repair")
    level: ResponseLevel | None = Field(None, description="overrides the computed level; needs level_reason")
    level_reason: Text | None = None
    owner: Text = Field(min_length=1, description="who runs the recall")
    deadline: EpochMs = Field(description="when customers must have acted")
    force: bool = Field(False, description="take a deadline already past (a recall recorded afterwards)")

    @model_validator(mode="after")
    def _coherent(self) -> RecallRequest:
        if self.strategy == "targeted" and not (self.regions or self.customers):
            raise ValueError("a targeted recall names the regions or customers it covers")
        if self.strategy != "targeted" and (self.regions or self.customers):
            raise ValueError("regions and customers narrow a targeted recall only")
        if self.strategy == "selective_replacement":
            if self.safety:
                raise ValueError(
                    "selective replacement is for defects that are no safety risk (safety: false)"
                )
            if self.remedy in ("return", "destroy"):
                raise ValueError(
                    "selective replacement replaces or repairs; remedy must be replace or repair"
                )
        elif self.remedy in ("replace", "repair") and self.safety:
            raise ValueError(
                "a safety recall takes the product back (return or destroy), not replace or repair"
            )
        if self.level is not None and not self.level_reason:
            raise ValueError("overriding the computed level needs level_reason")
        return self

    @property
    def chosen_remedy(self) -> Remedy:
        return self.remedy or ("replace" if self.strategy == "selective_replacement" else "return")


class RecallCustomer(AffectedCustomer):
    reshipped: list[dict[str, Any]] = Field(default_factory=list, description="what it passed on")


class RecalledLot(BaseModel):
    """A material lot the recall stops at its source: what is left of it must not go into new batches."""

    uid: str
    material: str | None = None
    on_hand: float | None = Field(None, description="unconsumed stock at its last count; null: no count")
    unit: str | None = None


class RecallScope(BaseModel):
    """What a recall covers: the affected batches (all of them, whatever the strategy: their stock
    is held), the lots at its source (a recalled lot, or every lot of a recalled supplier), and the
    shipments, customers and stock the strategy keeps."""

    batches: list[AffectedBatch]
    lots: list[RecalledLot] = Field(default_factory=list)
    shipments: list[AffectedShipment]
    customers: list[RecallCustomer]
    stock: list[StockOnHand]
    regions: list[str]
    left_out: int = Field(0, description="customers in the scope that a targeted recall leaves out")
    response: Response


class Change(BaseModel):
    at: str
    by: str
    what: str


class Pending(BaseModel):
    """What the scope is now, against what the recall froze."""

    added: dict[str, list[str]]
    removed: dict[str, list[str]]

    @property
    def empty(self) -> bool:
        return not any(self.added.values()) and not any(self.removed.values())


class Recall(BaseModel):
    uid: str
    state: State
    source: dict[str, str]
    window: dict[str, str | None] | None = None
    strategy: Strategy
    regions: list[str]
    customers: list[str]
    reason: str
    risk: str
    safety: bool
    remedy: Remedy
    instructions: str
    product: str = Field(description="the products recalled, for notices and the public lookup")
    level: ResponseLevel
    level_computed: ResponseLevel
    level_reason: str | None = None
    level_rule: str
    owner: str
    deadline: str
    created_at: str
    created_by: str
    history: list[Change]
    scope: RecallScope | None = Field(None, description="frozen while active and closed; live in a draft")
    pending: Pending | None = Field(None, description="an active recall's scope as data now has it")

    def past_deadline(self) -> bool:
        """Active, and its deadline has passed: whoever is not done is overdue."""
        return self.state == "active" and bool(self.deadline) and to_epoch_ms(self.deadline) < now_ms()


class RecallBrief(BaseModel):
    uid: str
    state: State
    strategy: Strategy
    level: str
    source: str
    owner: str
    deadline: str | None
    created_at: str | None
    reason: str


class RecallUpdate(BaseModel):
    owner: Text | None = None
    deadline: EpochMs | None = None
    force: bool = Field(False, description="take a deadline already past")
    risk: Text | None = None
    level: ResponseLevel | None = None
    level_reason: Text | None = None

    @model_validator(mode="after")
    def _level_reasoned(self) -> RecallUpdate:
        if self.level is not None and not self.level_reason:
            raise ValueError("changing the level needs level_reason")
        return self
