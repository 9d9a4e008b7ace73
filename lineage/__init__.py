"""lineage: graph lineage for product recalls.

Forward scope (who and what is affected by a lot, batch, supplier, machine or operator) and
backward trace (where a complaint, sale, shipment or batch came from), on Neo4j or on an embedded
FalkorDB that lineage starts itself.

The names below are imported when first used: a program that needs one module (the load's
validation helper needs the record schema) does not pay 0.8 s for the store, the scope and numpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_WHERE = {
    "lineage.config": ["Settings"],
    "lineage.errors": [
        "CycleDetected",
        "EngineError",
        "EngineUnavailable",
        "InputRejected",
        "InvalidRequest",
        "LineageError",
        "MissingReferences",
        "NotFound",
        "Problem",
        "QueryTimeout",
        "ScopeTooLarge",
        "ValidationFailed",
    ],
    "lineage.loading.load": ["LoadReport", "load"],
    "lineage.graph.model": ["Label", "NodeRef", "RelType"],
    "lineage.graph.scope": [
        "Scope",
        "ScopeEdge",
        "ScopeNode",
        "WhyPath",
        "Window",
        "backward",
        "forward",
        "why",
    ],
    "lineage.graph.store": ["Store"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = ["__version__", *_MODULE_OF]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'lineage' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
