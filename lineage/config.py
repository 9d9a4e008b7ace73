"""One settings object for the whole process, read from the environment (``LINEAGE_*``).

It is validated once at start-up so that a wrong URI or a missing Neo4j password fails before any
data is touched, not in the middle of a load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED = "embedded"
Role = Literal["viewer", "editor", "admin"]


class Settings(BaseSettings):
    """Where the graph lives and how far a scope may go.

    ``db_uri`` is ``embedded`` (FalkorDB started by lineage on a private Unix socket in ``data_dir``)
    or a ``bolt://``, ``bolt+s://``, ``neo4j://`` or ``neo4j+s://`` URI of a Neo4j server or cluster.
    """

    model_config = SettingsConfigDict(env_prefix="LINEAGE_", extra="ignore")

    db_uri: str = EMBEDDED
    db_user: str = "neo4j"
    db_password: SecretStr | None = None
    db_database: str = "neo4j"
    data_dir: Path = Path(".lineage")
    graph: str = Field("lineage", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")

    scope_max_nodes: int = Field(200_000, ge=1)
    # Exports stream a scope from the index walk's arrays a chunk at a time, so they may go further
    # than pages and summaries, which hold the whole scope as objects.
    scope_stream_max_nodes: int = Field(5_000_000, ge=1)
    scope_timeout_s: float = Field(30.0, gt=0)
    load_batch_rows: int = Field(10_000, ge=1, le=100_000)
    load_bulk: bool = True  # a load into an empty graph uses the engine's bulk path where it has one
    # JSON Lines input from which a second process checks the records (lineage.loading.helper): it
    # takes 0.3 s to start and saves about 1.5 us a record, so it pays from some 20 MB on.
    load_helper_min_bytes: int = Field(32 * 1024 * 1024, ge=0)
    server_start_timeout_s: float = Field(120.0, gt=0)
    # A long-lived process (`lineage serve`) keeps the lineage's shape in memory and walks scopes
    # there (lineage.topology); off, every scope walks the database in Cypher.
    topology_index: bool = True
    # Writes are applied to the index as changes (lineage.live); off, every write has it built again.
    index_deltas: bool = True
    # Change log entries kept (older ones are trimmed): an index further behind is built again.
    change_log_keep: int = Field(100_000, ge=1_000)

    # Complaint categories, each with whether it is a safety category (JSON: {"injury": true, ...}).
    complaint_categories: dict[str, bool] = Field(
        default_factory=lambda: {
            "injury": True,
            "illness": True,
            "allergen": True,
            "choking": True,
            "fire": True,
            "foreign body": True,
            "spoilage": False,
            "taste": False,
            "packaging": False,
            "quality": False,
            "other": False,
        }
    )

    # Signal rules (TOML, see docs/signals.md); none: the rules shipped in lineage/signal_rules.toml.
    signal_rules: Path | None = None

    # The firm's own site as the FSMA 204 export describes where its events happen: business name,
    # address and phone, or a GLN (lineage.fsma).
    firm_location: str | None = Field(None, max_length=500)

    # Suggested response level by the number of regions a scope reached.
    response_national_regions: int = Field(3, ge=1)
    response_regional_regions: int = Field(2, ge=1)

    # The API: keys and their roles, as JSON ({"key": "viewer" | "editor" | "admin"}). With no keys
    # the API is open to whoever can reach it, and `lineage serve` says so.
    api_keys: dict[SecretStr, Role] = Field(default_factory=dict)
    ingest_max_bytes: int = Field(256 * 1024 * 1024, ge=1)
    # The public lookup (GET /lookup): requests per client address per minute, in each API process.
    lookup_per_minute: int = Field(60, ge=1)
    # Requests one API process works on at once; more wait their turn (see api.main).
    api_threads: int = Field(4, ge=1, le=256)

    @field_validator("db_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if value != EMBEDDED and not value.startswith(schemes):
            raise ValueError(
                f"LINEAGE_DB_URI must be '{EMBEDDED}' or a Neo4j URI starting with one of "
                f"{', '.join(schemes)}; got {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _neo4j_needs_password(self) -> Settings:
        if self.engine == "neo4j" and not self.db_password:
            raise ValueError("LINEAGE_DB_PASSWORD is required when LINEAGE_DB_URI points at Neo4j")
        return self

    @model_validator(mode="after")
    def _levels_ordered(self) -> Settings:
        if self.response_regional_regions > self.response_national_regions:
            raise ValueError(
                "LINEAGE_RESPONSE_REGIONAL_REGIONS must not exceed LINEAGE_RESPONSE_NATIONAL_REGIONS"
            )
        return self

    @property
    def engine(self) -> Literal["falkordb", "neo4j"]:
        return "falkordb" if self.db_uri == EMBEDDED else "neo4j"
