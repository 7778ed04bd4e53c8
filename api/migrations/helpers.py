"""DDL that creates only what is missing: a database may already hold a table (made by
``Base.metadata.create_all`` in a test or a tool before it was under alembic), and a
migration must then leave it — and its rows — alone."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def _insp():
    return sa.inspect(op.get_bind())


def has_table(name: str) -> bool:
    return _insp().has_table(name)


def create_table(name: str, *columns, **kw) -> bool:
    if has_table(name):
        return False
    op.create_table(name, *columns, **kw)
    return True


def add_column(table: str, column: sa.Column) -> bool:
    if column.name in {c["name"] for c in _insp().get_columns(table)}:
        return False
    with op.batch_alter_table(table) as batch:
        batch.add_column(column)
    return True


def create_index(name: str, table: str, columns: list[str], unique: bool = False) -> bool:
    if name in {i["name"] for i in _insp().get_indexes(table)}:
        return False
    op.create_index(name, table, columns, unique=unique)
    return True
