"""The same services on a real PostgreSQL server (DAOBAN_DATABASE_URL=postgresql+psycopg://…):
a throw-away cluster is created with the machine's initdb on a loopback port."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from api.applications.models import ApplicationCreate
from api.applications.service import ApplicationService


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_db_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def pg_url():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    assert initdb and pg_ctl, "PostgreSQL server binaries are part of this machine image (postgresql-15)"
    root = Path(tempfile.mkdtemp(prefix="daoban-pg-"))  # outside pytest's 0700 tmp: the postgres user must enter it
    root.chmod(0o777)
    data = root / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(_as_db_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=on"
    subprocess.run(_as_db_user([pg_ctl, "-D", str(data), "-o", opts, "-l", str(data / "log"), "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_db_user([pg_ctl, "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _service(url, intake):
    from api.db import make_engine
    from api.migrations import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return ApplicationService(engine, intake), engine


def test_applications_on_postgres(pg_url, intake):
    svc, engine = _service(pg_url, intake)
    req = ApplicationCreate.model_validate({
        "profile": {"region": "suixian", "activities": ["pharmacy"], "medical_devices": "class2", "food_sales": "none"},
        "applicant": {"name": "李娜", "phone": "13700137000"},
        "form_values": {"applicant_name": "睢县康民大药房", "site_area": 80},
        "idempotency_key": "pg-1",
    })
    app, created = svc.create(req)
    again, created_again = svc.create(req)
    assert created and not created_again and again["id"] == app["id"]
    engine.dispose()
    svc, engine = _service(pg_url, intake)  # a new connection pool sees it
    from api.applications.access import Principal

    got = svc.get(app["id"], Principal("applicant", application_id=app["id"]))
    assert {it["code"] for it in got["bundle"]["items"]} == {"drug_retail", "device_class2_filing"}
    values = {f["key"]: f["value"] for f in got["form"]["fields"]}
    assert values["applicant_name"] == "睢县康民大药房" and values["site_area"] == 80
    engine.dispose()


def test_faq_query_log_on_postgres(pg_url, catalog, tmp_path, fake_faq_index):
    from api.faq.service import FaqService
    from knowledge_base.settings import Settings
    from tests.conftest import seed_faq_index

    seed_faq_index(fake_faq_index, tmp_path)

    settings = Settings(var_dir=tmp_path, database_url=pg_url, embedder="fake")
    faq = FaqService.from_settings(settings, catalog)
    try:
        result = faq.search("食品经营许可证多久能办下来", k=3)
        assert result["hits"]
    finally:
        faq.close()
