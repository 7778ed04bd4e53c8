"""Issue 10, in process: limits (429 + Retry-After, shared through Redis across two app
instances), credentials before the body, security headers on pages and API, Allow on 405,
request ids (API ↔ relay metadata ↔ actions' calls), JSON logs with personal numbers masked,
/metrics, and the OpenAPI declarations.  No model, no services except a throw-away Redis."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import socket
import subprocess
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from knowledge_base.settings import Settings

MAINTAINER = "m-token-for-tests"
APPLICANT = ("203.0.113.7", 50000)  # a documentation address: what the limits count


class _Faq:
    def __init__(self):
        self.calls = 0

    def search(self, q, k=5, region=None):
        self.calls += 1
        return {"answered": "营业执照" in q, "hits": []}

    def status(self):
        return {"ready": True}

    def close(self):
        pass


def _settings(tmp_path, **kw):
    base = dict(var_dir=tmp_path, embedder="fake", maintainer_token=MAINTAINER, rate_describe_per_minute=5,
                rate_faq_per_minute=8, rate_chat_per_minute=4, auth_failures_allowed=3, auth_failure_window_s=120,
                chat_rasa_urls="http://r1.test:5005", intake_semantic=False)
    base.update(kw)
    return Settings(**base)


@pytest.fixture()
def app_and_client(tmp_path):
    app = create_app(_settings(tmp_path), faq_service=_Faq())
    with TestClient(app, client=APPLICANT) as c:
        yield app, c


@pytest.fixture()
def client(app_and_client):
    return app_and_client[1]


def _retry_after(r) -> int:
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "too_many_requests" and "秒后再试" in r.json()["error"]["message"]
    return int(r.headers["Retry-After"])


# ---------------------------------------------------------------- limits

def test_describe_and_faq_limited_per_client_with_retry_after(client):
    for _ in range(5):
        assert client.post("/api/v1/intake/describe", json={"text": "开个小卖部"}).status_code == 200
    assert 1 <= _retry_after(client.post("/api/v1/intake/describe", json={"text": "开个小卖部"})) <= 60
    for _ in range(8):
        assert client.get("/api/v1/faq/search", params={"q": "营业执照怎么办"}).status_code == 200
    _retry_after(client.get("/api/v1/faq/search", params={"q": "营业执照怎么办"}))
    # another client behind the same nginx (X-Forwarded-For from a trusted proxy) has its own budget
    app = client.app
    other = TestClient(app, client=("127.0.0.1", 40000))  # not entered: the same running app, no second lifespan
    r = other.post("/api/v1/intake/describe", json={"text": "开个小卖部"}, headers={"X-Forwarded-For": "198.51.100.4"})
    assert r.status_code == 200
    # …but a forwarded header from an untrusted peer is ignored (no way around the limit)
    r = client.post("/api/v1/intake/describe", json={"text": "开个小卖部"}, headers={"X-Forwarded-For": "198.51.100.5"})
    assert r.status_code == 429


def test_bodies_are_bounded_before_they_are_read(client):
    """FastAPI's max_body_size: 413 with a message, whether the size is declared or streamed."""
    big = json.dumps({"text": "开" * 100_000}, ensure_ascii=False).encode()  # 300 KB > body_max_bytes
    r = client.post("/api/v1/intake/describe", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "太大" in r.json()["error"]["message"], r.text

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 10_000

    r = client.post("/api/v1/intake/describe", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "太大" in r.json()["error"]["message"], r.text
    assert client.post("/api/v1/intake/describe", json={"text": "在中山开奶茶店"}).status_code == 200
    # supplied materials (several files in one form) have their own, larger cap: the same 300 KB
    # reaches the route, which then refuses the made-up session
    r = client.post("/api/v1/applications/A1/items/food_business_license/supplements",
                    files={"file:floor_plan": ("plan.pdf", big, "application/pdf")},
                    headers={"Authorization": "Bearer not-a-session"})
    assert r.status_code in (401, 403, 404), r.text


def test_chat_relay_limited_per_address_across_senders(client):
    codes = []
    for i in range(6):  # new sender ids each time: the per-sender limit alone would never stop this
        r = client.post("/api/v1/chat/webhook", json={"sender": f"web-{i}", "message": "你好"})
        codes.append(r.status_code)
    assert codes[4:] == [429, 429] and 429 not in codes[:4], codes


def test_failed_maintainer_tokens_lock_the_address_out(client):
    for _ in range(3):
        assert client.get("/api/v1/faq/admin/status", headers={"X-Maintainer-Token": "guess"}).status_code == 401
    _retry_after(client.get("/api/v1/faq/admin/status", headers={"X-Maintainer-Token": "guess"}))
    # locked out: even the right token waits (an attacker cannot tell a hit from a miss)
    assert client.get("/api/v1/faq/admin/status", headers={"X-Maintainer-Token": MAINTAINER}).status_code == 429
    # others are not affected
    other = TestClient(client.app, client=("203.0.113.99", 1))
    if True:
        assert other.get("/api/v1/faq/admin/status", headers={"X-Maintainer-Token": MAINTAINER}).status_code == 200


def test_failed_department_signins_lock_the_address_out(client):
    for _ in range(3):
        r = client.post("/api/v1/departments/login", json={"username": "nobody", "password": "wrong-password"})
        assert r.status_code == 401, r.text
    _retry_after(client.post("/api/v1/departments/login", json={"username": "nobody", "password": "wrong-password"}))


def test_expired_sessions_do_not_lock_an_office_out(client):
    """Bearer sessions are random: an office page polling with an expired one gets 401 as
    often as it likes, and its people can still sign in."""
    for _ in range(6):
        assert client.get("/api/v1/departments/inbox", headers={"Authorization": "Bearer expired"}).status_code == 401
    r = client.post("/api/v1/departments/login", json={"username": "nobody", "password": "wrong-password"})
    assert r.status_code == 401  # not 429


def test_credentials_checked_before_the_body(client):
    r = client.post("/api/v1/faq/admin/entries", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = client.post("/api/v1/applications/A1/items/fire_safety_check/transition", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    r = client.put("/api/v1/chat/intakes/ABC234", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    # with the token, the same malformed body is a 400 (the body is read only now)
    r = client.post("/api/v1/faq/admin/entries", content=b"{not json",
                    headers={"Content-Type": "application/json", "X-Maintainer-Token": MAINTAINER})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_internal_callers_are_not_limited(tmp_path):
    """The action server calls describe for every chat turn from loopback without a
    forwarded header: one applicant's limit must not stop every conversation."""
    app = create_app(_settings(tmp_path), faq_service=_Faq())
    with TestClient(app, client=("127.0.0.1", 5555)) as c:
        assert all(c.post("/api/v1/intake/describe", json={"text": "开饭店"}).status_code == 200 for _ in range(8))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def redis_url(tmp_path):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is installed by scripts/setup_system.sh")
    port = _free_port()
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        r = redis.Redis(port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/2"
    finally:
        proc.terminate()
        proc.wait(5)


def test_two_replicas_share_one_limit_through_redis(tmp_path, redis_url):
    a = create_app(_settings(tmp_path / "a", redis_url=redis_url), faq_service=_Faq())
    b = create_app(_settings(tmp_path / "b", redis_url=redis_url), faq_service=_Faq())
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    with TestClient(a, client=APPLICANT) as ca, TestClient(b, client=APPLICANT) as cb:
        codes = [(ca if i % 2 else cb).get("/api/v1/faq/search", params={"q": "办证"}).status_code for i in range(10)]
        assert codes[:8] == [200] * 8 and codes[8:] == [429, 429], codes  # 8 per minute in all, not per replica
        wait = _retry_after(ca.get("/api/v1/faq/search", params={"q": "办证"}))
        assert 1 <= wait <= 60


def test_redis_down_keeps_limits_in_process(tmp_path):
    app = create_app(_settings(tmp_path, redis_url=f"redis://127.0.0.1:{_free_port()}/2"), faq_service=_Faq())
    with TestClient(app, client=APPLICANT) as c:
        codes = [c.get("/api/v1/faq/search", params={"q": "办证"}).status_code for _ in range(9)]
    assert codes == [200] * 8 + [429]


# ---------------------------------------------------------------- headers

def test_pages_send_a_strict_csp_and_framing_headers(client):
    for path in ("/chat", "/hotline/intake", "/office", "/hotline", "/maintainer"):
        r = client.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert script_src.strip() == "'self'", (path, csp)  # no 'unsafe-inline', no hosts
        assert "frame-ancestors" in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] in ("DENY", "SAMEORIGIN")
        assert r.headers["referrer-policy"]
        # and the page itself has no inline script or handler the CSP would block
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path
        assert not re.search(r"\son[a-z]+\s*=", r.text), path
    assert "frame-ancestors 'none'" in client.get("/office").headers["content-security-policy"]


def test_api_answers_carry_headers_and_a_request_id(client):
    r = client.get("/api/v1/regions", headers={"X-Request-ID": "abc-123-def-456"})
    assert r.headers["x-request-id"] == "abc-123-def-456"
    assert r.headers["x-content-type-options"] == "nosniff" and "default-src 'none'" in r.headers["content-security-policy"]
    r = client.get("/api/v1/regions", headers={"X-Request-ID": "bad id\"with quotes"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])  # not echoed into logs: a new one


def test_405_carries_allow_with_every_method_of_the_path(client):
    r = client.delete("/api/v1/health")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = client.post("/api/v1/faq/admin/entries/x", headers={"X-Maintainer-Token": MAINTAINER})
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "PUT", "PATCH", "DELETE"}
    assert r.json()["error"]["message"]


def test_docs_page_allows_only_its_own_bootstrap_script(client):
    r = client.get("/docs")
    csp = r.headers["content-security-policy"]
    assert r.status_code == 200 and "'unsafe-inline'" not in re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'sha256-" in csp


# ---------------------------------------------------------------- request ids, logs, metrics

def test_relay_puts_the_request_id_into_rasa_metadata(app_and_client):
    app, client = app_and_client
    seen = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append((json.loads(request.content), dict(request.headers)))
        return httpx.Response(200, json=[{"recipient_id": "web-r", "text": "好的"}])

    app.state.chat_relay._http = httpx.AsyncClient(transport=httpx.MockTransport(rasa))
    r = client.post("/api/v1/chat/webhook", json={"sender": "web-r", "message": "开饭店"},
                    headers={"X-Request-ID": "turn-0001-abcdef"})
    assert r.status_code == 200 and seen[0][0]["metadata"]["request_id"] == "turn-0001-abcdef"


def test_actions_send_the_request_id_back(monkeypatch):
    from actions.client import DaobanClient
    from knowledge_base.logs import request_id_var

    got = []

    def api(request: httpx.Request) -> httpx.Response:
        got.append(request.headers.get("x-request-id"))
        return httpx.Response(200, json={"status": "ok"})

    async def run():
        c = DaobanClient("http://api.test", transport=httpx.MockTransport(api))
        token = request_id_var.set("turn-0002-abcdef")
        try:
            await c.health()
        finally:
            request_id_var.reset(token)
        await c.health()
        await c.aclose()

    asyncio.run(run())
    assert got == ["turn-0002-abcdef", None]


def test_action_server_runs_each_action_with_the_turn_request_id(monkeypatch):
    import sys
    import types

    from rasa_sdk.executor import ActionExecutor

    from knowledge_base import logs

    monkeypatch.delenv("DAOBAN_ACTION_SERVER", raising=False)  # set by the install: gone after the test
    fake_main = types.ModuleType("__main__")
    fake_main.__spec__ = types.SimpleNamespace(name="rasa_sdk.__main__")
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # install reformats the root's handlers
    seen = []

    async def original(self, action_call, *a, **k):  # stands in for rasa-sdk's run
        seen.append(logs.current_request_id())

    monkeypatch.setattr(ActionExecutor, "run", original)  # restored after the test
    logs.install_action_server()
    call = {"tracker": {"latest_message": {"metadata": {"request_id": "turn-0003-abcdef"}}}}
    asyncio.run(ActionExecutor.run(object(), call))
    asyncio.run(ActionExecutor.run(object(), {"tracker": {"latest_message": {}}}))
    assert seen[0] == "turn-0003-abcdef" and re.fullmatch(r"[0-9a-f]{32}", seen[1])
    assert logs.current_request_id() is None


def test_json_logs_mask_personal_numbers(caplog):
    from knowledge_base.logs import JsonFormatter, request_id_var

    rec = logging.LogRecord("daoban.test", logging.INFO, __file__, 1, "电话 %s 身份证 %s", ("13812345678", "11010519491231002X"),
                            None)
    rec.extra_field = {"phone": "１３８１２３４５６７８"}
    token = request_id_var.set("rid-0004-abcdef")
    try:
        out = json.loads(JsonFormatter("api").format(rec))
    finally:
        request_id_var.reset(token)
    text = json.dumps(out, ensure_ascii=False)
    assert "13812345678" not in text and "11010519491231002X" not in text and "12345678" not in text
    assert "138****5678" in out["msg"] and out["request_id"] == "rid-0004-abcdef"
    assert out["extra_field"]["phone"] == "138****5678"


def test_access_log_is_one_masked_json_line_with_the_route_template(client, caplog):
    caplog.set_level(logging.INFO, logger="daoban.access")
    client.get("/api/v1/faq/search", params={"q": "我电话13812345678能办吗"}, headers={"X-Request-ID": "rid-0005-abcdef"})
    recs = [r for r in caplog.records if r.name == "daoban.access"]
    assert recs
    from knowledge_base.logs import JsonFormatter

    line = JsonFormatter("api").format(recs[-1])
    assert "13812345678" not in line and '"route": "/api/v1/faq/search"' in line
    assert json.loads(line)["http"]["status"] == 200


def test_metrics(app_and_client):
    app, client = app_and_client
    client.post("/api/v1/intake/describe", json={"text": "同心县开清真小餐馆，大概一百平米"})
    client.get("/api/v1/faq/search", params={"q": "营业执照怎么办"})
    client.get("/api/v1/faq/search", params={"q": "今天天气"})
    client.get("/api/v1/items/no_such_item")
    assert TestClient(app, client=("203.0.113.50", 1)).get("/metrics").status_code == 404  # only for this machine
    text = TestClient(app).get("/metrics").text
    assert re.search(r'daoban_http_requests_total\{method="POST",route="/api/v1/intake/describe",status="200"\} [1-9]', text)
    assert re.search(r'daoban_http_request_duration_seconds_bucket\{le="0.5",method="GET",route="/api/v1/faq/search"\}', text)
    assert re.search(r'daoban_faq_searches_total\{outcome="answered"\} [1-9]', text)
    assert re.search(r'daoban_faq_searches_total\{outcome="refused"\} [1-9]', text)
    assert re.search(r'daoban_bundles_resolved_total\{coverage="\w+",endpoint="describe",final="\w+"\} [1-9]', text)
    assert re.search(r'daoban_http_errors_total\{route="/api/v1/items/\{code\}",status_class="4xx"\} [1-9]', text)
    assert "/api/v1/items/no_such_item" not in text  # templates, not paths: bounded labels


# ---------------------------------------------------------------- OpenAPI

def test_openapi_declares_errors_limits_and_region_codes(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"400", "422", "429", "503"} <= set(paths["/api/v1/intake/describe"]["post"]["responses"])
    search = paths["/api/v1/faq/search"]["get"]
    assert "Retry-After" in search["responses"]["429"]["headers"]
    region = next(p for p in search["parameters"] if p["name"] == "region")
    enum = next(s["enum"] for s in region["schema"].get("anyOf", [region["schema"]]) if "enum" in s)
    assert set(enum) - {""} == {"zhongshan", "yangjiang", "suixian", "jinzhong", "tongxin"}
    for path, ops in paths.items():
        for method, op in ops.items():
            if path.startswith("/api/v1/faq/admin"):
                assert {"401", "429"} <= set(op["responses"]), (method, path)
    assert {"403", "413", "429", "503", "504"} <= set(paths["/api/v1/chat/webhook"]["post"]["responses"])
