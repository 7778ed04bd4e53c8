"""Chat relay and intake-snapshot shapes.

``chat_intakes`` (one row per intake, keyed by its short code) holds what the bot
knows about an intake so that another channel can continue it: the profile, the
pending question, the last bundle and the sender it was last seen on.  It holds
personal data: read it only by code (rate-limited), masked unless the reader is
the bot itself."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

SENDER_PATTERN = r"^[A-Za-z0-9_.:\-]{1,80}$"


class IntakeRow(Base):
    __tablename__ = "chat_intakes"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    sender: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(16), nullable=True)
    profile: Mapped[dict] = mapped_column(JSON)
    pending: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    bundle: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_chat_intakes_sender", "sender"), Index("ix_chat_intakes_updated_at", "updated_at"))


class ChatMessage(BaseModel):
    """Rasa's REST channel request (the relay's public shape)."""

    model_config = ConfigDict(extra="ignore")

    sender: str = Field(pattern=SENDER_PATTERN, description="会话标识（每个申请人一个，随机生成）")
    message: str = Field(description="申请人输入的文字，或快捷回复的 payload")
    metadata: dict[str, Any] | None = None


class IntakeSnapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sender: str = Field(pattern=SENDER_PATTERN)
    channel: str = Field(default="web", max_length=16)
    profile: dict[str, Any] = Field(default_factory=dict)
    pending: dict[str, Any] | None = None
    bundle: dict[str, Any] | None = None
