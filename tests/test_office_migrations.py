"""Schema migrations (alembic, api/migrations) on SQLite and PostgreSQL:

* revision 0001 is exactly the first release's schema (what ``Base.metadata.create_all``
  made at commit ed089a2; DDL kept in tests/data/schema_ed089a2.*.sql);
* a database made by that code upgrades in place — through the app's own start-up — with
  every row kept, old applications given their items, and Rasa's tracker-store table
  (``events``) in the same database left alone;
* after the upgrade the database matches the models exactly (autogenerate finds nothing)."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from api.db import make_engine
from api.migrations import BASELINE, diff, head, upgrade

DATA = Path(__file__).parent / "data"
OLD_PAYLOAD = {"id": "old-1", "status": "submitted", "channel": "web",
               "applicant": {"name": "马明", "phone": "13995000000", "id_number": None, "uscc": None},
               "profile": {"region": "tongxin", "activities": ["snack_bar"], "area_m2": 100, "halal": True},
               "bundle": {"region": "tongxin", "region_name": "同心县", "items": [
                   {"code": "halal_food_permit", "name": "清真食品准营证", "department": "县委统战部(民族宗教事务局)", "department_key": "ethnic_religious"},
                   {"code": "nx_food_registration", "name": "食品生产经营登记证", "department": "县市场监督管理局", "department_key": "market_regulation"}],
                   "startup_steps": [{"code": "business_registration", "name": "营业执照（设立登记）", "department": "县市场监督管理局",
                                      "department_key": "market_regulation"}]},
               "form": {"fields": [{"key": "applicant_name", "value": "同心县马明拉面馆", "group": "subject", "type": "text"}]},
               "dispatch": []}


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def _make_first_release(conn, dialect: str) -> None:
    """The first release's tables with rows in each, and Rasa's ``events`` table next to them."""
    for stmt in _statements((DATA / f"schema_ed089a2.{dialect}.sql").read_text()):
        conn.execute(text(stmt))
    conn.execute(text("INSERT INTO applications (id, idempotency_key, created_at, status, channel, region, payload) "
                      "VALUES ('old-1', 'k-old-1', '2026-11-30 08:00:00', 'submitted', 'web', 'tongxin', :p)"),
                 {"p": json.dumps(OLD_PAYLOAD, ensure_ascii=False)})
    conn.execute(text("INSERT INTO faq_entries VALUES ('m-1', 'tobacco_retail', 'fee', '烟草证收费吗', '不收费。', '[]', false, NULL, NULL, false, "
                      "'2026-11-30 08:00:00')"))
    conn.execute(text("INSERT INTO faq_paraphrases (entry_id, text, removed, created_at) VALUES ('m-1', '办烟证要钱吗', false, '2026-11-30 08:00:00')"))
    conn.execute(text("INSERT INTO faq_entry_flags VALUES ('gen-x', true, '2026-11-30 08:00:00')"))
    conn.execute(text("INSERT INTO faq_query_log (created_at, q, region, top_id, score, answered, reason, latency_ms) "
                      "VALUES ('2026-11-30 08:00:00', '烟草证多久', NULL, 'm-1', 0.9, true, '', 12.5)"))
    conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), data TEXT)"))
    conn.execute(text("INSERT INTO events VALUES (1, 'u1', 'user', '{}')"))


def _counts(engine) -> dict:
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
                ("applications", "faq_entries", "faq_paraphrases", "faq_entry_flags", "faq_query_log", "events")}


def _shape(engine, tables) -> dict:
    insp = inspect(engine)
    out = {}
    for t in sorted(tables):
        cols = [(c["name"], str(c["type"]).split("(")[0] if "TIMESTAMP" in str(c["type"]) else str(c["type"]), c["nullable"])
                for c in insp.get_columns(t)]
        out[t] = {"columns": cols, "pk": insp.get_pk_constraint(t)["constrained_columns"],
                  "unique": sorted((u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(t)),
                  "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)
                                    if not i["name"].startswith("sqlite_autoindex"))}
    return out


FIRST = ("applications", "faq_entries", "faq_paraphrases", "faq_entry_flags", "faq_query_log")


def _check_upgraded(engine) -> None:
    assert diff(engine) == []
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()
        items = c.execute(text("SELECT code, status, department_key FROM application_items WHERE application_id = 'old-1' ORDER BY id")).all()
        payload = c.execute(text("SELECT payload FROM applications WHERE id = 'old-1'")).scalar()
        assert c.execute(text("SELECT sender_id FROM events")).scalar() == "u1"
    payload = json.loads(payload) if isinstance(payload, str) else payload
    assert payload["applicant"]["name"] == "马明" and payload["bundle"]["items"][0]["code"] == "halal_food_permit"
    assert [tuple(i) for i in items] == [("business_registration", "pending", "market_regulation"),
                                         ("halal_food_permit", "pending", "ethnic_religious"),
                                         ("nx_food_registration", "pending", "market_regulation")]


# ---------------------------------------------------------------- SQLite
def test_baseline_is_the_first_release_schema_sqlite(tmp_path):
    old = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with old.begin() as c:
        for stmt in _statements((DATA / "schema_ed089a2.sqlite.sql").read_text()):
            c.execute(text(stmt))
    new = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert upgrade(new, BASELINE) == BASELINE
    assert set(inspect(new).get_table_names()) == set(FIRST) | {"alembic_version"}
    assert _shape(new, FIRST) == _shape(old, FIRST)


def test_first_release_database_upgrades_in_place_at_start_up(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from knowledge_base.settings import Settings

    path = tmp_path / "daoban.sqlite3"
    raw = create_engine(f"sqlite:///{path}")
    with raw.begin() as c:
        _make_first_release(c, "sqlite")
    before = _counts(raw)
    raw.dispose()

    class _NoFaq:
        def close(self):
            pass

    with TestClient(create_app(Settings(var_dir=tmp_path, embedder="fake"), faq_service=_NoFaq())) as client:
        tok = client.post("/api/v1/departments/login", json={"username": "tongxin.ethnic_religious", "password": "daoban-demo"}).json()["token"]
        inbox = client.get("/api/v1/departments/inbox", headers={"Authorization": f"Bearer {tok}"}).json()["applications"]
        assert [a["id"] for a in inbox] == ["old-1"] and inbox[0]["items"][0]["code"] == "halal_food_permit"
        assert inbox[0]["business"] == "同心县马明拉面馆"
        again = client.post("/api/v1/applications", headers={"Idempotency-Key": "k-old-1"}, json={
            "profile": OLD_PAYLOAD["profile"], "applicant": {"name": "马明", "phone": "13995000000"}})
        assert again.status_code == 409 and "马明" not in again.text  # an old key is never replayed to an unknown body
    engine = make_engine(f"sqlite:///{path}")
    assert _counts(engine) == before
    _check_upgraded(engine)
    assert upgrade(engine) == head()  # a second run changes nothing
    assert _counts(engine) == before
    engine.dispose()


def test_tables_made_by_create_all_are_adopted(tmp_path):
    """A database whose tables some tool made with create_all (no alembic_version) upgrades too."""
    from api.db import Base
    from api.migrations import load_models

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    load_models()
    Base.metadata.create_all(engine)
    assert upgrade(engine) == head() and diff(engine) == []


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg_server():
    from tests.test_postgres import _as_db_user, _bin

    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    assert initdb and pg_ctl, "PostgreSQL server binaries are part of this machine image (postgresql-15)"
    root = Path(tempfile.mkdtemp(prefix="daoban-pgm-"))
    root.chmod(0o777)
    data = root / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_db_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_db_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(data / "log"), "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_db_user([pg_ctl, "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _database(server: str, name: str) -> str:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{server}/{name}"


def test_migrations_on_postgres(pg_server):
    old = create_engine(_database(pg_server, "first_release_schema"))
    with old.begin() as c:
        for stmt in _statements((DATA / "schema_ed089a2.postgresql.sql").read_text()):
            c.execute(text(stmt))
    new = make_engine(_database(pg_server, "baseline"))
    assert upgrade(new, BASELINE) == BASELINE
    assert _shape(new, FIRST) == _shape(old, FIRST)
    assert upgrade(new) == head() and diff(new) == []
    old.dispose()
    new.dispose()
    # a first-release database with rows (and Rasa's events) upgrades in place
    engine = make_engine(_database(pg_server, "in_place"))
    with engine.begin() as c:
        _make_first_release(c, "postgresql")
    before = _counts(engine)
    assert upgrade(engine) == head()
    assert _counts(engine) == before
    _check_upgraded(engine)
    engine.dispose()
