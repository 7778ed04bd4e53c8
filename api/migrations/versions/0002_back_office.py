"""Back office (issue 9): per-item status at each department, audit log, supplements,
drafts, access tokens; applications gain the request fingerprint (idempotency), the
signed-in subject (history), the public 一码展示 code and updated_at.  Applications
submitted before get their items (待受理) from their stored dispatch, so departments
see them.

Revision ID: 0002_back_office
Revises: 0001_baseline
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from api.migrations.helpers import add_column, create_index, create_table

revision = "0002_back_office"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_column("applications", sa.Column("request_hash", sa.String(64), nullable=True))
    add_column("applications", sa.Column("subject", sa.String(80), nullable=True))
    add_column("applications", sa.Column("public_code", sa.String(43), nullable=True))
    add_column("applications", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    create_index("ix_applications_subject", "applications", ["subject"])
    create_index("ix_applications_public_code", "applications", ["public_code"], unique=True)

    create_table(
        "application_drafts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(80), nullable=True),
        sa.Column("application_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_application_drafts"),
        sa.UniqueConstraint("token_hash", name="uq_application_drafts_token_hash"),
    )
    if create_table(
        "application_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(20), nullable=True),
        sa.Column("department_key", sa.String(40), nullable=False),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested", sa.JSON(), nullable=False),
        sa.Column("commitment", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], name="fk_application_items_application_id_applications"),
        sa.PrimaryKeyConstraint("id", name="pk_application_items"),
        sa.UniqueConstraint("application_id", "code", name="uq_application_items_application_id"),
    ):
        create_index("ix_application_items_application_id", "application_items", ["application_id"])
        create_index("ix_application_items_inbox", "application_items", ["region", "department_key", "status"])
    if create_table(
        "application_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("item_code", sa.String(80), nullable=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("request_key", sa.String(100), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_application_audit"),
        sa.UniqueConstraint("application_id", "request_key", name="uq_application_audit_application_id"),
    ):
        create_index("ix_application_audit_application_id", "application_audit", ["application_id"])
    if create_table(
        "application_supplements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("item_code", sa.String(80), nullable=False),
        sa.Column("material_key", sa.String(80), nullable=False),
        sa.Column("material", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("filename", sa.String(200), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_application_supplements"),
    ):
        create_index("ix_application_supplements_application_id", "application_supplements", ["application_id"])
    if create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=True),
        sa.Column("draft_id", sa.String(36), nullable=True),
        sa.Column("subject", sa.String(120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_access_tokens"),
    ):
        create_index("ix_access_tokens_application_id", "access_tokens", ["application_id"])
    _backfill_items()


def _backfill_items() -> None:
    """Applications submitted before this revision: one 待受理 item per dispatched item."""
    bind = op.get_bind()
    apps = sa.table("applications", sa.column("id", sa.String), sa.column("region", sa.String), sa.column("payload", sa.JSON),
                    sa.column("created_at", sa.DateTime(timezone=True)))
    items = sa.table("application_items", sa.column("application_id", sa.String), sa.column("code", sa.String),
                     sa.column("name", sa.String), sa.column("region", sa.String), sa.column("department_key", sa.String),
                     sa.column("department", sa.String), sa.column("status", sa.String), sa.column("reason", sa.Text),
                     sa.column("requested", sa.JSON), sa.column("commitment", sa.Boolean), sa.column("version", sa.Integer),
                     sa.column("updated_at", sa.DateTime(timezone=True)))
    have = {r[0] for r in bind.execute(sa.select(items.c.application_id).distinct())}
    rows = []
    for app_id, region, payload, created_at in bind.execute(sa.select(apps.c.id, apps.c.region, apps.c.payload, apps.c.created_at)):
        if app_id in have:
            continue
        if isinstance(payload, str):
            payload = json.loads(payload)
        bundle = (payload or {}).get("bundle") or {}
        for it in (bundle.get("startup_steps") or []) + (bundle.get("items") or []):
            rows.append({"application_id": app_id, "code": it["code"], "name": it.get("name") or it["code"], "region": region,
                         "department_key": it.get("department_key") or "unknown", "department": it.get("department") or "",
                         "status": "pending", "reason": None, "requested": [], "commitment": False, "version": 1,
                         "updated_at": created_at or datetime.now(timezone.utc)})
    if rows:
        op.bulk_insert(items, rows)


def downgrade() -> None:
    for name in ("access_tokens", "application_supplements", "application_audit", "application_items", "application_drafts"):
        op.drop_table(name)
    op.drop_index("ix_applications_public_code", table_name="applications")
    op.drop_index("ix_applications_subject", table_name="applications")
    with op.batch_alter_table("applications") as batch:
        for col in ("updated_at", "public_code", "subject", "request_hash"):
            batch.drop_column(col)
