"""``python -m lineage.cli``: the ``lineage`` command."""

from lineage.cli import app

app()
