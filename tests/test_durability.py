"""A submitted application survives a crash of the API process (kill -9) and a
client retry after the crash does not create a second application."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import seed_faq_index

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(var_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DAOBAN_VAR_DIR": str(var_dir), "DAOBAN_EMBEDDER": "fake", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail("API process exited during start-up")
        time.sleep(0.3)
    proc.kill()
    pytest.fail("API did not start in 90 s")


def test_application_survives_kill_and_retry(tmp_path, fake_faq_index):
    seed_faq_index(fake_faq_index, tmp_path)
    port = _free_port()
    body = {
        "profile": {"region": "tongxin", "activities": ["snack_bar"], "area_m2": 100, "halal": True},
        "applicant": {"name": "马明", "phone": "13995000000"},
        "form_values": {"applicant_name": "同心县马明拉面馆"},
    }
    proc = _start(tmp_path, port)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/applications", json=body, headers={"Idempotency-Key": "crash-test-1"}, timeout=10)
        assert r.status_code == 201, r.text
        app_id = r.json()["id"]
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean shutdown
        proc.wait(10)
    proc = _start(tmp_path, port)
    try:
        got = httpx.get(f"http://127.0.0.1:{port}/api/v1/applications/{app_id}", timeout=10,
                        headers={"Authorization": f"Bearer {r.json()['token']}"})
        assert got.status_code == 200
        assert {"nx_food_registration", "halal_food_permit"} <= {it["code"] for it in got.json()["bundle"]["items"]}
        retry = httpx.post(f"http://127.0.0.1:{port}/api/v1/applications", json=body, headers={"Idempotency-Key": "crash-test-1"}, timeout=10)
        assert retry.status_code == 200 and retry.json()["id"] == app_id
    finally:
        proc.terminate()
        proc.wait(10)
