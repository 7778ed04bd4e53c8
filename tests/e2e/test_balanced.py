"""The balanced layout (deploy/balanced.sh) end to end, through nginx: limits shared by the API
replicas (Redis), headers and request ids through the balancer, the FAQ index rebuilt once
and served by every replica, and a conversation that continues on the other Rasa when its
own dies mid-intake (SQL tracker store on PostgreSQL, Redis lock store)."""
from __future__ import annotations

import re
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import balancedstack  # noqa: E402
import botstack  # noqa: E402

pytestmark = pytest.mark.e2e
DESCRIBE_LIMIT = 6


@pytest.fixture(scope="module")
def bal():
    botstack.prepare_model()
    with balancedstack.running_balanced(extra_env={"DAOBAN_BAL_RATE_DESCRIBE": str(DESCRIBE_LIMIT)}) as b:
        yield b


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=120) as c:
        yield c


def _describes_served(http, url: str) -> float:
    text = http.get(f"{url}/metrics").text
    m = re.search(r'daoban_http_requests_total\{method="POST",route="/api/v1/intake/describe",status="200"\} ([0-9.]+)', text)
    return float(m.group(1)) if m else 0.0


def test_headers_request_id_and_metrics_through_nginx(bal, http):
    r = http.get(f"{bal.url}/chat", headers={"X-Request-ID": "e2e-bal-0001-page"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "e2e-bal-0001-page"
    assert "script-src 'self';" in r.headers["content-security-policy"] and r.headers["x-content-type-options"] == "nosniff"
    r = http.get(f"{bal.url}/api/v1/health")
    assert r.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])  # nginx's own id
    assert http.get(f"{bal.url}/metrics").status_code == 404  # not on the public side
    assert all(http.get(f"{u}/metrics").status_code == 200 for u in bal.replica_urls())


def test_one_limit_across_both_replicas(bal, http):
    before = [_describes_served(http, u) for u in bal.replica_urls()]
    codes = []
    for _ in range(DESCRIBE_LIMIT + 2):
        r = http.post(f"{bal.url}/api/v1/intake/describe", json={"text": "开个小卖部"},
                      headers={"X-Forwarded-For": "203.0.113.77"})
        codes.append(r.status_code)
    assert codes == [200] * DESCRIBE_LIMIT + [429, 429], codes
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    after = [_describes_served(http, u) for u in bal.replica_urls()]
    assert all(a > b for a, b in zip(after, before)), (before, after)  # both replicas served some
    # another address is not affected
    r = http.post(f"{bal.url}/api/v1/intake/describe", json={"text": "开个小卖部"},
                  headers={"X-Forwarded-For": "203.0.113.78"})
    assert r.status_code == 200


def test_request_id_travels_relay_rasa_actions_api(bal, http):
    rid = f"e2e-bal-{uuid.uuid4().hex[:12]}"
    r = http.post(bal.webhook, json={"sender": f"web-{uuid.uuid4().hex[:8]}", "message": "我想在中山开一家奶茶店"},
                  headers={"X-Request-ID": rid})
    assert r.status_code == 200 and r.json()
    time.sleep(0.5)
    lines = [ln for i in range(len(bal.layout["api"])) for ln in bal.log(f"api-{i}").splitlines() if rid in ln]
    # the relay's own line, and the actions' describe call back to the API (through the internal nginx port)
    assert any("/api/v1/chat/webhook" in ln for ln in lines), lines
    assert any("/api/v1/intake/describe" in ln and '"client": "internal"' in ln for ln in lines), lines


def test_faq_index_rebuilt_once_and_served_by_every_replica(bal, http):
    h = {"X-Maintainer-Token": bal.maintainer_token}
    paths_before = {http.get(f"{u}/api/v1/faq/admin/status", headers=h).json().get("index_path")
                    for u in bal.replica_urls()}
    r = http.post(f"{bal.url}/api/v1/faq/admin/rebuild", headers=h)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for u in bal.replica_urls():  # a search is what makes a replica look at CURRENT
            assert http.get(f"{u}/api/v1/faq/search", params={"q": "营业执照怎么办"}).status_code == 200
        states = [http.get(f"{u}/api/v1/faq/admin/status", headers=h).json() for u in bal.replica_urls()]
        paths = {s.get("index_path") for s in states}
        if not any(s.get("building") for s in states) and len(paths) == 1 and paths != paths_before:
            break
        time.sleep(2)
    else:
        pytest.fail(f"replicas did not all serve the new build: {states}")
    assert not any(s.get("error") for s in states)


def test_conversation_moves_to_the_other_rasa_mid_intake(bal, http):
    from api.chat.service import RasaRelay

    sender = f"web-move-{uuid.uuid4().hex[:8]}"
    first = RasaRelay(bal.rasa_urls()).order(sender)[0]  # the Rasa the relay prefers for this sender
    idx = bal.rasa_urls().index(first)
    replies = botstack.customs(http.post(bal.webhook, json={"sender": sender, "message": "我想在中山开一家小饭馆"}).json())
    assert replies, "the bot answered"
    bal.kill(f"rasa-{idx}")  # dies between two turns of the intake
    r = http.post(bal.webhook, json={"sender": sender, "message": "大概80平米"})
    assert r.status_code == 200, r.text
    msgs = r.json()
    bundles = botstack.customs(msgs, "bundle")
    assert bundles, botstack.texts(msgs)
    bundle = bundles[-1]
    # the other Rasa continued the same intake: region and trade from the first turn are still known
    assert bundle.get("region") == "zhongshan" and "food_business_license" in {i["code"] for i in bundle["items"]}
    other = bal.rasa_urls()[1 - idx]
    tracker = http.get(f"{other}/conversations/{sender}/tracker", params={"token": bal.rasa_token}).json()
    said = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert said[:2] == ["我想在中山开一家小饭馆", "大概80平米"], said
