"""alembic environment: the app's engine (or a connection handed over by
``api.migrations.upgrade``), every table on api.db.Base, other tables ignored."""
from __future__ import annotations

from alembic import context
from sqlalchemy import text

from api.migrations import include_name, load_models

config = context.config
target_metadata = load_models()
LOCK_ID = 4_242_009  # pg_advisory_xact_lock: one migration at a time on a PostgreSQL database


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, include_name=include_name,
                      compare_type=True, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_ID})
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from api.db import make_engine
    from knowledge_base.settings import get_settings

    url = config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported: the migrations look at the database (create only what is missing)")
run_online()
