"""Schema migrations (alembic) for every table on ``api.db.Base.metadata``.

``upgrade(engine)`` brings any database to the latest schema in place: an empty one,
one made by the first release's ``Base.metadata.create_all`` (no ``alembic_version``
table yet: revision 0001 is exactly that schema and creates only what is missing), or
one already under alembic.  Tables that are not ours (Rasa's tracker store ``events``
in the same database) are never touched, and autogenerate ignores them.

Command line: ``python -m api.migrations upgrade|current|check`` (URL from
``DAOBAN_DATABASE_URL`` or the default SQLite file), or ``alembic upgrade head`` with
the repository's ``alembic.ini``."""
from __future__ import annotations

import fcntl
import importlib
import os
import pkgutil
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine, make_url

HERE = Path(__file__).resolve().parent
BASELINE = "0001_baseline"
MODEL_MODULES = ("tables", "models", "service")


def load_models():
    """Import every module that may declare tables (api/<topic>/{tables,models,service}.py),
    so Base.metadata holds all of them; returns the metadata."""
    import api
    from api.db import Base

    for info in pkgutil.iter_modules(api.__path__):
        if not info.ispkg or info.name == "migrations":
            continue
        pkg_dir = Path(api.__path__[0]) / info.name
        for mod in MODEL_MODULES:
            if (pkg_dir / f"{mod}.py").exists():
                importlib.import_module(f"api.{info.name}.{mod}")
    return Base.metadata


def include_name(name, type_, parent_names) -> bool:
    """Only our tables: the same database may hold Rasa's tracker store (``events``)."""
    if type_ == "table":
        from api.db import Base

        return name in Base.metadata.tables
    return True


def config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _file_lock(engine: Engine):
    """Two processes starting on one SQLite file migrate one after the other
    (PostgreSQL uses an advisory lock inside the migration transaction)."""
    url = make_url(str(engine.url))
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        yield
        return
    lock = Path(url.database + ".migrate.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(lock, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade in place; returns the revision the database is at afterwards."""
    from alembic import command

    load_models()
    with _file_lock(engine):
        with engine.begin() as conn:
            command.upgrade(config(conn), revision)
        return current(engine)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def diff(engine: Engine) -> list:
    """Differences between the database and the models (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    metadata = load_models()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        return compare_metadata(ctx, metadata)
