"""lineage: graph lineage for product recalls.

Forward scope (who and what is affected by a lot, batch, supplier, machine or operator) and
backward trace (where a complaint, sale, shipment or batch came from), on Neo4j or on an embedded
FalkorDB that lineage starts itself.
"""

from lineage.config import Settings
from lineage.errors import (
    CycleDetected,
    EngineError,
    EngineUnavailable,
    InputRejected,
    InvalidRequest,
    LineageError,
    MissingReferences,
    NotFound,
    Problem,
    QueryTimeout,
    ScopeTooLarge,
    ValidationFailed,
)
from lineage.loading.load import LoadReport, load
from lineage.model import Label, NodeRef, RelType
from lineage.scope import Scope, ScopeEdge, ScopeNode, WhyPath, Window, backward, forward, why
from lineage.store import Store

__version__ = "0.1.0"

__all__ = [
    "CycleDetected",
    "EngineError",
    "EngineUnavailable",
    "InputRejected",
    "InvalidRequest",
    "Label",
    "LineageError",
    "LoadReport",
    "MissingReferences",
    "NodeRef",
    "NotFound",
    "Problem",
    "QueryTimeout",
    "RelType",
    "Scope",
    "ScopeEdge",
    "ScopeNode",
    "ScopeTooLarge",
    "Settings",
    "Store",
    "ValidationFailed",
    "WhyPath",
    "Window",
    "__version__",
    "backward",
    "forward",
    "load",
    "why",
]
