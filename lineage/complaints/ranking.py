"""What a suspect is and how it is measured: support against share, lift, score, and the chance
of doing as well at random; and the ranked answer a common-cause analysis gives."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from scipy.stats import binom

from lineage.graph.model import Label

Category = Literal["man", "machine", "material", "method", "environment", "measurement"]


Basis = Literal["batches", "deliveries"]


CATEGORY: dict[Label, Category] = {
    Label.OPERATOR: "man",
    Label.MACHINE: "machine",
    Label.MATERIAL_LOT: "material",
    Label.SUPPLIER: "material",
    Label.BATCH: "material",  # an intermediate or rework batch that went into the complaint batch
    Label.INSPECTION: "measurement",
}


#: On an exact tie, what a coordinator acts on first: a lot (what a recall names) before the
#: intermediate batch it went through, before its supplier.
TIE_ORDER = {"MaterialLot": 0, "Batch": 1, "Supplier": 2, "Machine": 3, "Operator": 4, "Inspection": 5}


WINDOWED = (Label.MACHINE, Label.OPERATOR)


#: A machine's or operator's windows run from the start of one of its runs behind the complaint
#: batches to the end of a later one; past this many runs, this many evenly spread starts and ends.
MAX_ENDPOINTS = 40


DAY_MS = 24 * 3600 * 1000


#: A cause explains at least two complaints, and at most this likely by chance given its share.
SIGNIFICANCE = 0.01


class Suspect(BaseModel):
    label: str = Field(description="a node's label, or Carrier (a shipment's carrier)")
    uid: str
    name: str | None = None
    category: Category
    basis: Basis = Field(description="what support and share count: complaint batches, or deliveries")
    hits: int = Field(description="complaint batches it feeds, or complaints whose unit came through it")
    support: float = Field(description="hits over all complaint batches (or placed complaints)")
    baseline: int = Field(
        description="period batches it feeds, or deliveries of the complaint batches through it"
    )
    share: float = Field(description="baseline over all period batches (or deliveries)")
    lift: float = Field(description="support / share")
    score: float = Field(description="support - share: the ranking")
    chance: float = Field(description="how likely at least this support is by chance, given its share")
    window: dict[str, str] | None = Field(
        None, description="a machine or operator: the window of runs compared (none: the whole period)"
    )
    complaints: list[str] = Field(description="the complaints it explains")
    explains_first: int | None = Field(
        None,
        description="1 for the best explanation; 2 for the best of what is left unexplained by 1, and so on, "
        f"while one explains at least 2 complaints at a chance under {SIGNIFICANCE}; null for the rest",
    )


class RegionShare(BaseModel):
    region: str
    complaints: int
    support: float = Field(description="share of the placed complaints from customers in the region")
    deliveries: int
    share: float = Field(description="share of the complaint batches' deliveries into the region")
    lift: float
    score: float


class CommonCause(BaseModel):
    complaints: list[str]
    untraced: dict[str, str] = Field(description="complaints that lead to no batch, and why")
    unplaced: dict[str, str] = Field(description="traced complaints not placed on a delivery route, and why")
    complaint_batches: list[str]
    period: dict[str, str | None] = Field(description="when the batches compared against were started")
    period_batches: int
    deliveries: int = Field(description="deliveries of the complaint batches to end customers")
    suspects: list[Suspect] = Field(description="best explanation first")
    by_category: dict[str, list[Suspect]] = Field(description="the top suspects of each cause category")
    regions: list[RegionShare] = Field(description="where complaints cluster against where the batches went")
    notes: list[str]


def measure(
    label: str,
    uid: str,
    category: Category,
    basis: Basis,
    hits: int,
    of: int,
    baseline: int,
    share: float,
    explained: set[str],
) -> Suspect:
    return Suspect(
        label=label,
        uid=uid,
        category=category,
        basis=basis,
        hits=hits,
        baseline=baseline,
        chance=float(binom.sf(hits - 1, of, min(share, 1.0))) if hits else 1.0,
        complaints=sorted(explained),
        **support_ratios(hits / of, share),
    )


def support_ratios(support: float, share: float) -> dict[str, float]:
    """Support against share, as every ranking here reports them."""
    return {
        "support": round(support, 4),
        "share": round(share, 4),
        "lift": round(support / share, 3) if share else 0.0,
        "score": round(support - share, 4),
    }
