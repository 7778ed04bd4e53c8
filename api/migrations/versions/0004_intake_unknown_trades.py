"""Trade words no activity matched, for the maintainers (issue 7: api/intake/service.py UnknownTradeRow).

Revision ID: 0004_intake_unknown_trades
Revises: 0003_chat_intakes
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from api.migrations.helpers import create_index, create_table

revision = "0004_intake_unknown_trades"
down_revision = "0003_chat_intakes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "intake_unknown_trades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("word", sa.String(40), nullable=False),
        sa.Column("region", sa.String(20), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_unknown_trades"),
    )
    create_index("ix_intake_unknown_trades_created_at", "intake_unknown_trades", ["created_at"])
    create_index("ix_intake_unknown_trades_word", "intake_unknown_trades", ["word"])


def downgrade() -> None:
    op.drop_table("intake_unknown_trades")
