"""Status changes survive a killed server (kill -9 while changes are streaming in):
after a restart nothing confirmed is lost, and retrying every change — the one that was
in flight and all the ones already confirmed — with the same Idempotency-Key applies
each exactly once (one audit row per change, no duplicates)."""
from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import httpx

from tests.conftest import seed_faq_index
from tests.test_durability import _free_port, _start

BODY = {"profile": {"region": "zhongshan", "activities": ["restaurant"], "area_m2": 300, "entertainment": False},
        "applicant": {"name": "陈小满", "phone": "13800138000"}, "form_values": {"applicant_name": "中山市耐久饭店"}}


def _plan(apps: list[dict]) -> list[tuple]:
    """Every change for every application, in the order a day at the windows would make them."""
    ops = []
    for a in apps:
        i = a["id"]
        ops += [("dept", "fire", i, "fire_safety_check", {"to": "accepted"}),
                ("dept", "market", i, "business_registration", {"to": "accepted"}),
                ("dept", "market", i, "food_business_license", {"to": "correction", "missing": ["site_layout_plan", "health_certificates"]}),
                ("supply", a["token"], i, "food_business_license", {"confirm:site_layout_plan": "1", "confirm:health_certificates": "1"}),
                ("dept", "fire", i, "fire_safety_check", {"to": "approved"}),
                ("dept", "market", i, "business_registration", {"to": "approved"}),
                ("dept", "market", i, "food_business_license", {"to": "approved"})]
    return [(n, *op) for n, op in enumerate(ops)]


def _send(client: httpx.Client, url: str, tokens: dict, op) -> httpx.Response:
    n, kind, who, app_id, code, body = op
    key = {"Idempotency-Key": f"op-{n}"}
    if kind == "dept":
        return client.post(f"{url}/api/v1/applications/{app_id}/items/{code}/transition", json=body,
                           headers={**key, "Authorization": f"Bearer {tokens[who]}"})
    return client.post(f"{url}/api/v1/applications/{app_id}/items/{code}/supplements", data=body,
                       headers={**key, "Authorization": f"Bearer {who}"})


def _login(url: str) -> dict:
    return {k: httpx.post(f"{url}/api/v1/departments/login", json={"username": f"zhongshan.{d}", "password": "daoban-demo"},
                          timeout=10).json()["token"] for k, d in (("fire", "fire"), ("market", "market_regulation"))}


def test_status_changes_survive_kill_and_retry(tmp_path, fake_faq_index):
    seed_faq_index(fake_faq_index, tmp_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path, port)
    confirmed: list[int] = []
    try:
        apps = [httpx.post(f"{url}/api/v1/applications", json=BODY, timeout=10).json() for _ in range(6)]
        tokens = _login(url)
        ops = _plan(apps)
        stop = threading.Event()

        def stream():
            with httpx.Client(timeout=10) as client:
                for op in ops:
                    if stop.is_set():
                        return
                    try:
                        r = _send(client, url, tokens, op)
                    except httpx.HTTPError:
                        return  # the server died under this request
                    assert r.status_code == 200, r.text
                    confirmed.append(op[0])

        t = threading.Thread(target=stream)
        t.start()
        while len(confirmed) < len(ops) // 2 and t.is_alive():
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)  # mid-stream: a change is in flight
        proc.wait(10)
        stop.set()
        t.join(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert 0 < len(confirmed) < len(ops)
    proc = _start(tmp_path, port)
    try:
        tokens = _login(url)  # sessions survive too, but sign in again as a clerk would
        with httpx.Client(timeout=10) as client:
            for op in ops:  # retry everything: what was confirmed, what was in flight, the rest
                r = _send(client, url, tokens, op)
                assert r.status_code == 200, (op, r.text)
            for a in apps:
                got = client.get(f"{url}/api/v1/applications/{a['id']}", headers={"Authorization": f"Bearer {a['token']}"}).json()
                assert got["status"] == "completed" and {it["status"] for it in got["items"]} == {"approved"}
                moves = Counter((x["item"], x["from"], x["to"]) for x in got["audit"] if x["item"])
                assert moves == Counter({("fire_safety_check", "pending", "accepted"): 1, ("fire_safety_check", "accepted", "approved"): 1,
                                         ("business_registration", "pending", "accepted"): 1,
                                         ("business_registration", "accepted", "approved"): 1,
                                         ("food_business_license", "pending", "correction"): 1,
                                         ("food_business_license", "correction", "accepted"): 1,
                                         ("food_business_license", "accepted", "approved"): 1}), moves
                assert sum(1 for x in got["audit"] if x["action"] == "submitted") == 1
    finally:
        proc.terminate()
        proc.wait(10)
