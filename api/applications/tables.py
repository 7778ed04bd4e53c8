"""Tables of the back office (all on ``api.db.Base``; created by the migrations in
``api/migrations``).  ``applications`` is the table of the first release; the rest
came with issue 9."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class ApplicationRow(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(20), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    # issue 9
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # fingerprint of the body (idempotency)
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)  # signed-in identity (history)
    public_code: Mapped[str | None] = mapped_column(String(43), nullable=True, unique=True, index=True)  # 一码展示
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    business: Mapped[str | None] = mapped_column(String(200), nullable=True)  # 主体名称 for inbox lists (no payload read)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)


class DraftRow(Base):
    """A form offered to an applicant (from the chat) before it is submitted."""

    __tablename__ = "application_drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(20))
    profile: Mapped[dict] = mapped_column(JSON)
    values: Mapped[dict] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True)
    application_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class ItemRow(Base):
    """One item of an application at one department: its status (待受理 → 已受理 → 需补正 → 准予/不予)."""

    __tablename__ = "application_items"
    __table_args__ = (
        UniqueConstraint("application_id", "code"),
        Index("ix_application_items_inbox", "region", "department_key", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), ForeignKey("applications.id"), index=True)
    code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(20), nullable=True)
    department_key: Mapped[str] = mapped_column(String(40))
    department: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested: Mapped[list] = mapped_column(JSON)  # 需补正: [{"key", "name"}], every missing material at once
    commitment: Mapped[bool] = mapped_column(Boolean, default=False)  # handled by 告知承诺
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Every change: who, when, from, to.  ``request_key`` makes a retried change a no-op."""

    __tablename__ = "application_audit"
    __table_args__ = (UniqueConstraint("application_id", "request_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), index=True)
    item_code: Mapped[str | None] = mapped_column(String(80), nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON)
    request_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupplementRow(Base):
    """A material supplied after 需补正 (a file, or a confirmation that it was handed in)."""

    __tablename__ = "application_supplements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(36), index=True)
    item_code: Mapped[str] = mapped_column(String(80))
    material_key: Mapped[str] = mapped_column(String(80))
    material: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # upload | confirm
    filename: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TokenRow(Base):
    """Bearer tokens, stored as SHA-256: an applicant's own token, the tracking link,
    an apply-page sign-in, a department session."""

    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # applicant | track | identity | department
    application_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    draft_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
