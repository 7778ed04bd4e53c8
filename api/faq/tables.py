"""The FAQ's database tables (schemas unchanged since before issue 11; alembic owns migrations)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


def _now() -> datetime:
    return datetime.now(timezone.utc)


class FaqEntryRow(Base):
    """An entry written by a maintainer (new, or overriding a generated one)."""

    __tablename__ = "faq_entries"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    item_code: Mapped[str | None] = mapped_column(String(80), nullable=True)
    topic: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(40), nullable=True)
    overrides: Mapped[str | None] = mapped_column(String(120), nullable=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class FaqParaphraseRow(Base):
    """A wording added to (or removed from) any entry by a maintainer."""

    __tablename__ = "faq_paraphrases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(120), index=True)
    text: Mapped[str] = mapped_column(Text)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class FaqFlagRow(Base):
    """Retired flag for generated/curated entries (maintainer entries carry their own)."""

    __tablename__ = "faq_entry_flags"
    entry_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class FaqQueryRow(Base):
    """One search.  ``q`` is stored with ID and phone numbers masked (knowledge_base.privacy)."""

    __tablename__ = "faq_query_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    q: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(40), nullable=True)
    top_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered: Mapped[bool] = mapped_column(Boolean, index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
