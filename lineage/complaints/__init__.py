"""Complaints and what they have in common: intake, signals and the common-cause ranking.

Owns the complaint form and its checks (:mod:`.intake`), the signal rules and the signals they raise
(:mod:`.signals`, rules shipped in ``signal_rules.toml``) and common-cause analysis
(:mod:`.suspects`, measured in :mod:`.ranking`, the environment's suspects in :mod:`.environment`).

May import: :mod:`lineage.graph`, :mod:`lineage.config`, :mod:`lineage.errors`.
"""
