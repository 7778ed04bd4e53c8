"""The bot's public door (POST /api/v1/chat/webhook) and intake snapshots by code,
in process: Rasa is a fake transport (the real one is in tests/e2e)."""
from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from api.chat.service import CODE_ALPHABET, RasaRelay, RateLimiter, normalise_code
from api.main import create_app
from knowledge_base.settings import Settings

WIDGET = "https://widget.example.gov.cn"
BOT = "bot-token-for-tests"


class _NoFaq:
    def status(self):
        return {"entries": 0}

    def close(self):
        pass


class FakeRasa:
    """Two Rasa URLs; ``down`` ones refuse connections.  Records which URL got each turn."""

    def __init__(self):
        self.down: set[str] = set()
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        if base in self.down:
            raise httpx.ConnectError("refused", request=request)
        import json

        body = json.loads(request.content)
        self.calls.append((base, body))
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": f"收到：{body['message']}"}])


@pytest.fixture()
def fake():
    return FakeRasa()


@pytest.fixture()
def client(tmp_path, fake):
    settings = Settings(var_dir=tmp_path, embedder="fake", chat_rasa_urls="http://r1:5005,http://r2:5006",
                        chat_allowed_origins=WIDGET, chat_rate_per_minute=5, bot_token=BOT,
                        chat_code_lookups_per_minute=4)
    app = create_app(settings, faq_service=_NoFaq())
    with TestClient(app) as c:
        relay = app.state.chat_relay
        relay._http = httpx.AsyncClient(transport=httpx.MockTransport(fake))  # the fake Rasa
        yield c


def test_relay_same_shape_as_rasa_and_sticky(client, fake):
    for i in range(3):
        r = client.post("/api/v1/chat/webhook", json={"sender": "web-abc", "message": f"第{i}句"})
        assert r.status_code == 200, r.text
        assert r.json() == [{"recipient_id": "web-abc", "text": f"收到：第{i}句"}]
    assert len({url for url, _ in fake.calls}) == 1  # one sender, one Rasa
    senders = {f"web-{i}" for i in range(40)}
    for s in senders:
        client.post("/api/v1/chat/webhook", json={"sender": s, "message": "你好"})
    assert {url for url, _ in fake.calls} == {"http://r1:5005", "http://r2:5006"}  # spread over both


def test_relay_moves_a_sender_when_its_rasa_is_down_and_503_when_none(client, fake):
    client.post("/api/v1/chat/webhook", json={"sender": "web-move", "message": "一"})
    first = fake.calls[-1][0]
    fake.down.add(first)
    r = client.post("/api/v1/chat/webhook", json={"sender": "web-move", "message": "二"})
    assert r.status_code == 200 and fake.calls[-1][0] != first
    fake.down |= {"http://r1:5005", "http://r2:5006"}
    r = client.post("/api/v1/chat/webhook", json={"sender": "web-move", "message": "三"})
    assert r.status_code == 503
    assert "重启" in r.json()["error"]["message"]
    for _ in range(10):  # retries while no Rasa answers do not use up the sender's rate
        assert client.post("/api/v1/chat/webhook", json={"sender": "web-move", "message": "三"}).status_code == 503
    assert client.get("/api/v1/health").status_code == 200  # the API keeps serving


def test_relay_caps_message_length(client, fake):
    r = client.post("/api/v1/chat/webhook", json={"sender": "web-long", "message": "长" * 501})
    assert r.status_code == 413
    assert "最多500个字" in r.json()["error"]["message"]
    assert not fake.calls
    r = client.post("/api/v1/chat/webhook", json={"sender": "web-long", "message": "长" * 500})
    assert r.status_code == 200


def test_relay_rate_limits_per_sender(client):
    codes = [client.post("/api/v1/chat/webhook", json={"sender": "web-fast", "message": "hi"}).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    r = client.post("/api/v1/chat/webhook", json={"sender": "web-fast", "message": "hi"})
    assert r.headers.get("retry-after") and "太快" in r.json()["error"]["message"]
    assert client.post("/api/v1/chat/webhook", json={"sender": "web-other", "message": "hi"}).status_code == 200


def test_relay_origins(client):
    ok = client.post("/api/v1/chat/webhook", json={"sender": "web-o1", "message": "hi"}, headers={"Origin": WIDGET})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == WIDGET
    assert "access-control-allow-credentials" not in ok.headers
    bad = client.post("/api/v1/chat/webhook", json={"sender": "web-o2", "message": "hi"}, headers={"Origin": "https://evil.example"})
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers
    pre = client.options("/api/v1/chat/webhook", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
    pre = client.options("/api/v1/chat/webhook", headers={"Origin": WIDGET, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == WIDGET
    assert "access-control-allow-credentials" not in pre.headers
    same = client.post("/api/v1/chat/webhook", json={"sender": "web-o3", "message": "hi"}, headers={"Origin": "http://testserver"})
    assert same.status_code == 200  # the API's own chat page


def test_relay_rejects_bad_senders_and_strips_metadata(client, fake):
    r = client.post("/api/v1/chat/webhook", json={"sender": "<script>", "message": "hi"})
    assert r.status_code == 422
    client.post("/api/v1/chat/webhook", json={"sender": "web-m", "message": "hi", "metadata": {"region": "zhongshan", "x": "y"}})
    meta = fake.calls[-1][1]["metadata"]
    assert meta.pop("request_id")  # added by the relay for the actions' logs (issue 10)
    assert meta == {"region": "zhongshan"}


def test_intake_snapshots_need_the_bot_token_and_mask_for_others(client):
    snap = {"sender": "web-snap", "channel": "web", "profile": {"region": "zhongshan", "activities": ["tea_drink"],
            "name": "陈记 13800138000"}, "pending": {"key": "area_m2", "text": "面积？"}, "bundle": {"items": []}}
    assert client.post("/api/v1/chat/intakes", json=snap).status_code == 401
    assert client.post("/api/v1/chat/intakes", json=snap, headers={"X-Bot-Token": "nope"}).status_code == 401
    r = client.post("/api/v1/chat/intakes", json=snap, headers={"X-Bot-Token": BOT})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    snap["pending"] = {"key": "food_sales", "text": "卖吃的吗？"}
    assert client.put(f"/api/v1/chat/intakes/{code}", json=snap).status_code == 401
    assert client.put(f"/api/v1/chat/intakes/{code}", json=snap, headers={"X-Bot-Token": BOT}).status_code == 200
    public = client.get(f"/api/v1/chat/intakes/{code.lower()}").json()
    assert public["pending_question"]["key"] == "food_sales"
    assert "13800138000" not in str(public) and "138****8000" in public["profile"]["name"]
    assert "sender" not in public
    full = client.get(f"/api/v1/chat/intakes/{code}", headers={"X-Bot-Token": BOT}).json()
    assert full["sender"] == "web-snap" and "13800138000" in full["profile"]["name"]


def test_code_lookups_are_rate_limited(client):
    statuses = [client.get("/api/v1/chat/intakes/ZZZZZZ").status_code for _ in range(6)]
    assert statuses[:4] == [404] * 4 and statuses[4:] == [429, 429]


def test_opening_intakes_through_the_bot_is_rate_limited_per_address(client):
    codes = [client.post("/api/v1/chat/webhook", json={"sender": f"web-c{i}", "message": '/resume_intake{"intake_code": "ZZZZZZ"}'}).status_code
             for i in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]  # new senders each time: the address counts


def test_helpers():
    assert normalise_code(" k7q-x2m ") == "K7QX2M"
    assert normalise_code("K7QX2O") is None  # O is not in the alphabet
    rl = RateLimiter(2, window=10)
    assert rl.hit("a", 0) is None and rl.hit("a", 1) is None and rl.hit("a", 2) == pytest.approx(8)
    assert rl.hit("a", 10.5) is None
    relay = RasaRelay(["http://a", "http://b", "http://c"])
    assert relay.order("x") == relay.order("x")


def test_rasa_endpoints_share_the_apis_database_and_lock_store(tmp_path):
    import stat

    import yaml

    from api.chat.rasa_config import endpoints, write

    one = endpoints("http://127.0.0.1:5055/webhook", f"sqlite:///{tmp_path}/daoban.sqlite3")
    assert one["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "daoban.sqlite3")}
    assert "lock_store" not in one  # one Rasa: in memory
    two = endpoints("http://127.0.0.1:5055/webhook", "postgresql+psycopg://u:p%40ss@db:5433/daoban", "redis://127.0.0.1:6380/2")
    assert two["tracker_store"] == {"type": "SQL", "url": "postgresql://u:p%40ss@db:5433/daoban"}
    assert two["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 6380, "db": 2, "key_prefix": "daoban"}
    path = write(tmp_path / "endpoints.yml", two)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # may hold a database password
    assert yaml.safe_load(path.read_text())["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
