"""One settings object for the whole process, read from the environment (``LINEAGE_*``).

It is validated once at start-up so that a wrong URI or a missing Neo4j password fails before any
data is touched, not in the middle of a load.
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED = "embedded"
#: A key given in settings as the hex SHA-256 digest of the key, after this prefix.
DIGEST_PREFIX = "sha256:"


def default_data_dir() -> Path:
    """The user's data directory for lineage, as the platform places it (``~/.local/share/lineage``
    on Linux, ``~/Library/Application Support/lineage`` on macOS, ``%LOCALAPPDATA%\\lineage`` on
    Windows)."""
    return Path(platformdirs.user_data_dir("lineage", appauthor=False))


#: viewer reads; editor also writes; admin also administers; supplier sends and reads only what is
#: about its own lots; regulator reads recalls, scopes, notices, the FSMA 204 export and the audit log.
Role = Literal["viewer", "editor", "admin", "supplier", "regulator"]


class KeyGrant(BaseModel):
    """What one API key may do, and the name the audit log gives it (never the key itself)."""

    model_config = {"extra": "forbid"}

    role: Role
    label: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    #: The supplier's uid, for (and only for) the supplier role.
    supplier: str | None = Field(None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _supplier_named(self) -> KeyGrant:
        if (self.role == "supplier") != (self.supplier is not None):
            raise ValueError("a key has a supplier (its uid) exactly when its role is supplier")
        return self


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
    # The embedded engine's folder: one per user by default, wherever the command is run from.
    data_dir: Path = Field(default_factory=default_data_dir)
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
    # there (lineage.graph.topology); off, every scope walks the database in Cypher.
    topology_index: bool = True
    # Writes are applied to the index as changes (lineage.graph.live); off, every write has it built again.
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

    # Signal rules (TOML, see docs/signals.md); none: the rules shipped in
    # lineage/complaints/signal_rules.toml.
    signal_rules: Path | None = None

    # The firm's own site as the FSMA 204 export describes where its events happen: business name,
    # address and phone, or a GLN (lineage.interchange.fsma).
    firm_location: str | None = Field(None, max_length=500)

    # Suggested response level by the number of regions a scope reached.
    response_national_regions: int = Field(3, ge=1)
    response_regional_regions: int = Field(2, ge=1)

    # The API: keys and what each may do, as JSON: {"<key>": "viewer"} or {"<key>": {"role":
    # "supplier", "supplier": "S-1", "label": "Acme uploads"}}; "<key>" may be "sha256:<hex digest of
    # the key>" so that the settings do not hold the secret (docs/security.md). With no keys the API
    # is open to whoever reaches it, and `lineage serve` binds only to loopback.
    api_keys: dict[SecretStr, Role | KeyGrant] = Field(default_factory=dict)
    # More keys, in a JSON file of the same shape, read again whenever it changes (key rotation
    # without a restart).
    api_keys_file: Path | None = None
    # Host names the API answers besides loopback's and the address it is bound to ("*": any).
    allowed_hosts: list[str] = Field(default_factory=list)
    # Origins (scheme://host[:port]) whose pages may write through the API and read it with CORS.
    allowed_origins: list[str] = Field(default_factory=list)
    # The address `lineage serve` bound to (it sets this for its workers).
    serve_host: str | None = None
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
    def keys_required(self) -> bool:
        """Whether the API asks for keys: some are set, or a keys file is (empty, it lets nobody in)."""
        return bool(self.api_keys) or self.api_keys_file is not None

    @property
    def engine(self) -> Literal["falkordb", "neo4j"]:
        return "falkordb" if self.db_uri == EMBEDDED else "neo4j"


def key_digest(key: str) -> str:
    """What settings may hold in place of an API key: ``sha256:<hex digest>``."""
    return DIGEST_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
