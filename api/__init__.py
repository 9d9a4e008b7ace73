"""The HTTP API over the lineage library."""
