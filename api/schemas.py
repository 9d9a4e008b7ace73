"""Response models the library does not already define as pydantic models (it keeps its scope
results as plain dataclasses, because scopes reach a hundred thousand nodes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from lineage.graph.cache import IndexState
from lineage.graph.model import readable
from lineage.graph.scope import WhyPath


class Ref(BaseModel):
    label: str
    uid: str


class WhyNode(Ref):
    depth: int
    properties: dict[str, Any]


class WhyEdge(BaseModel):
    type: str
    source: Ref
    target: Ref
    quantity: float | None = None
    unit: str | None = None
    start: str | None = None
    end: str | None = None


class Why(BaseModel):
    direction: str
    source: Ref
    target: Ref
    nodes: list[WhyNode] = Field(description="from the source to the target")
    edges: list[WhyEdge] = Field(description="the relationships between them, as stored")
    description: str

    @classmethod
    def of(cls, path: WhyPath) -> Why:
        data = path.to_dict()
        for node in data["nodes"]:
            node["properties"] = readable(node["properties"])
        for edge in data["edges"]:
            edge.update(readable({k: edge[k] for k in ("start", "end") if k in edge}))
        return cls.model_validate(data | {"description": path.describe()})


class Health(BaseModel):
    status: str
    lineage: str
    engine: str | None = None
    version: str | None = None
    auth: str = Field(description="'keys' when API keys are required, 'open' when none are configured")
    index: IndexState | None = Field(None, description="the in-memory topology index scopes walk")
    detail: str | None = None
