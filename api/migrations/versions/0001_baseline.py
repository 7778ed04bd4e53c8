"""The schema of the first release (what ``Base.metadata.create_all`` made at commit
ed089a2): applications and the FAQ tables.  On a database made by that code every
table exists and nothing is done; on an empty one they are created.

Revision ID: 0001_baseline
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa

from api.migrations.helpers import create_index, create_table

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "applications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("region", sa.String(20), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.UniqueConstraint("idempotency_key", name="uq_applications_idempotency_key"),
    )
    create_table(
        "faq_entries",
        sa.Column("id", sa.String(120), nullable=False),
        sa.Column("item_code", sa.String(80), nullable=True),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("inferred", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(40), nullable=True),
        sa.Column("overrides", sa.String(120), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
    )
    create_table(
        "faq_entry_flags",
        sa.Column("entry_id", sa.String(120), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_faq_entry_flags"),
    )
    if create_table(
        "faq_paraphrases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_paraphrases"),
    ):
        create_index("ix_faq_paraphrases_entry_id", "faq_paraphrases", ["entry_id"])
    if create_table(
        "faq_query_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("q", sa.Text(), nullable=False),
        sa.Column("region", sa.String(40), nullable=True),
        sa.Column("top_id", sa.String(120), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_query_log"),
    ):
        create_index("ix_faq_query_log_answered", "faq_query_log", ["answered"])
        create_index("ix_faq_query_log_created_at", "faq_query_log", ["created_at"])


def downgrade() -> None:
    raise NotImplementedError("the first schema is not downgraded")
