"""One node with its neighbours, and search by uid or name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import VIEWER, StoreDep
from api.problems import documented
from api.responses import ModelJSON
from lineage.graph.model import UID_PATTERN, Label, NodeRef, node_key
from lineage.graph.nodes import MAX_LIMIT, NodeDetail, SearchHit, node_detail, search

router = APIRouter(dependencies=VIEWER, responses=documented(401, 403, 422, 500, 503), tags=["nodes"])


@router.get("/nodes/{label}/{uid}", response_model=NodeDetail, responses=documented(404))
def get_node(
    store: StoreDep,
    label: Annotated[Label, Path(description="the node's kind")],
    uid: Annotated[str, Path(max_length=256, pattern=UID_PATTERN)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="neighbours at most")] = 100,
) -> ModelJSON:
    """The node's properties, its relationships counted by type, and its direct neighbours."""
    return ModelJSON(node_detail(store, NodeRef(label, node_key(uid)), limit))


@router.get("/search", response_model=list[SearchHit])
def search_nodes(
    store: StoreDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=256,
            pattern=UID_PATTERN,
            description="a uid, its start, or part of a name",
        ),
    ],
    kinds: Annotated[list[Label] | None, Query(description="only these kinds (repeat the parameter)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> ModelJSON:
    """Nodes by exact uid, uid prefix, or a piece of their name (a lot's material, a batch's
    product), exact matches first."""
    return ModelJSON(search(store, q, kinds, limit))
