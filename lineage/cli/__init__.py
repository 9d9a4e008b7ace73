"""The ``lineage`` command: a thin skin over the library, printing for people or (--json) for scripts.

:mod:`.app` defines the app and what every command shares; each other module is one group of
commands and registers on it when imported, here, in the order ``lineage --help`` lists them.

May import: anything in :mod:`lineage`; never :mod:`api`.
"""

from lineage.cli import data, trace, complaints, recall, export  # noqa: I001 (the order of --help)
from lineage.cli.app import app

__all__ = ["app", "complaints", "data", "export", "recall", "trace"]
