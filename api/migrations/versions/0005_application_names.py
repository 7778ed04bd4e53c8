"""Applications keep the business name and address (masked) in columns, so a department's
inbox lists them without reading every payload; filled for existing rows.

Revision ID: 0005_application_names
Revises: 0004_intake_unknown_trades
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from api.migrations.helpers import add_column

revision = "0005_application_names"
down_revision = "0004_intake_unknown_trades"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_column("applications", sa.Column("business", sa.String(200), nullable=True))
    add_column("applications", sa.Column("address", sa.String(300), nullable=True))
    from knowledge_base.privacy import mask_text

    bind = op.get_bind()
    apps = sa.table("applications", sa.column("id", sa.String), sa.column("payload", sa.JSON),
                    sa.column("business", sa.String), sa.column("address", sa.String))
    for app_id, payload in bind.execute(sa.select(apps.c.id, apps.c.payload).where(apps.c.business.is_(None))).all():
        if isinstance(payload, str):
            payload = json.loads(payload)
        payload = payload or {}
        values = {f.get("key"): f.get("value") for f in (payload.get("form") or {}).get("fields", [])}
        prof = payload.get("profile") or {}
        name = values.get("applicant_name") or prof.get("name")
        address = values.get("site_address") or prof.get("address")
        bind.execute(apps.update().where(apps.c.id == app_id).values(
            business=mask_text(str(name))[:200] if name else None, address=mask_text(str(address))[:300] if address else None))


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("address")
        batch.drop_column("business")
