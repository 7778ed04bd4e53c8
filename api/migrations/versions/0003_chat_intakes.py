"""The bot's intake snapshots under a short code (issue 8: api/chat/models.py IntakeRow).

Revision ID: 0003_chat_intakes
Revises: 0002_back_office
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.migrations.helpers import create_index, create_table

revision = "0003_chat_intakes"
down_revision = "0002_back_office"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "chat_intakes",
        sa.Column("code", sa.String(6), nullable=False),
        sa.Column("sender", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("bundle", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_chat_intakes"),
    )
    create_index("ix_chat_intakes_sender", "chat_intakes", ["sender"])
    create_index("ix_chat_intakes_updated_at", "chat_intakes", ["updated_at"])


def downgrade() -> None:
    op.drop_table("chat_intakes")
