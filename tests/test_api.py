"""HTTP API: contract shapes, bad input answered with 4xx and a message a person can act on,
applications persisted and idempotent."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from knowledge_base.settings import Settings


class _NoFaq:
    """Stand-in for the FAQ service: these tests do not touch /faq."""

    def status(self):
        return {"entries": 0}

    def close(self):
        pass


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return Settings(var_dir=tmp_path_factory.mktemp("var"), embedder="fake")


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings, faq_service=_NoFaq())) as c:
        yield c


def _err(resp, status):
    assert resp.status_code == status, resp.text
    body = resp.json()["error"]
    assert body["message"] and body["message_en"]
    return body


def test_health_regions_items(client):
    assert client.get("/api/v1/health").json()["status"] == "ok"
    regions = {r["code"] for r in client.get("/api/v1/regions").json()["regions"]}
    assert regions == {"zhongshan", "yangjiang", "suixian", "jinzhong", "tongxin"}
    zs = client.get("/api/v1/items", params={"region": "zhongshan"}).json()["items"]
    assert len(zs) == 37 and zs[0]["code"] == "food_prepackaged_filing"
    item = client.get("/api/v1/items/tobacco_retail", params={"region": "zhongshan"}).json()
    assert item["department"] == "市烟草专卖局" and item["sources"]


def test_unknown_codes_are_4xx(client):
    assert _err(client.get("/api/v1/items/no_such_item"), 404)["code"] == "unknown_item"
    body = _err(client.get("/api/v1/items", params={"region": "beijing"}), 422)
    assert "地区" in body["message"]
    _err(client.post("/api/v1/intake/describe", json={"text": "开饭店", "region": "mars"}), 422)


def test_describe_contract(client):
    r = client.post("/api/v1/intake/describe", json={"text": "同心县开清真小餐馆，大概一百平米", "region": None})
    assert r.status_code == 200
    data = r.json()
    assert set(data) >= {"profile", "bundle", "questions"}
    codes = {it["code"] for it in data["bundle"]["items"]}
    assert {"nx_food_registration", "halal_food_permit"} <= codes
    for it in data["bundle"]["items"]:
        assert {"code", "name", "department", "why", "legal_basis", "mode", "time_limit_days"} <= set(it)
    for q in data["questions"]:
        assert q["type"] == "question" and q["options"] and all({"title", "payload"} <= set(o) for o in q["options"])


def test_describe_merges_onto_profile(client):
    first = client.post("/api/v1/intake/describe", json={"text": "同心开小吃店 100平米"}).json()
    corrected = client.post("/api/v1/intake/describe", json={"text": "不对，面积是200平米", "profile": first["profile"]}).json()
    assert corrected["profile"]["area_m2"] == 200 and corrected["profile"]["region"] == "tongxin"
    codes = {it["code"] for it in corrected["bundle"]["items"]}
    assert "food_business_license" in codes and "nx_food_registration" not in codes


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"text": ""}, 422),
        ({"text": "   "}, 422),
        ({"text": "开饭店" * 1000}, 422),
        ({}, 422),
        ({"text": "开饭店", "extra": 1}, 422),
        ({"profile": {"activities": ["no_such"]}, "text": "x"}, 422),
    ],
)
def test_describe_bad_input(client, payload, status):
    _err(client.post("/api/v1/intake/describe", json=payload), status)


def test_broken_json_is_400(client):
    r = client.post("/api/v1/intake/describe", content=b'{"text": "abc",', headers={"content-type": "application/json"})
    assert _err(r, 400)["code"] == "invalid_json"


APPLICANT = {"name": "张三", "phone": "13800138000", "id_number": "11010519491231002X"}


def _application(**extra):
    body = {
        "profile": {"region": "zhongshan", "activities": ["convenience_store"], "area_m2": 40, "food_sales": "prepackaged", "tobacco": True, "medical_devices": "none"},
        "applicant": APPLICANT,
        "form_values": {"applicant_name": "中山市小榄便民商店", "site_address": "中山市小榄镇民安路1号"},
    }
    body.update(extra)
    return body


def test_application_roundtrip_and_dispatch(client):
    r = client.post("/api/v1/applications", json=_application())
    assert r.status_code == 201, r.text
    app = r.json()
    got = client.get(f"/api/v1/applications/{app['id']}", headers={"Authorization": f"Bearer {app['token']}"}).json()
    assert {it["code"] for it in got["bundle"]["items"]} == {"food_prepackaged_filing", "tobacco_retail"}
    keys = [f["key"] for f in got["form"]["fields"]]
    assert len(keys) == len(set(keys)) and got["form"]["stats"]["duplicates_removed"] > 0
    depts = {d["department_key"] for d in got["dispatch"]}
    assert {"tobacco", "market_regulation"} <= depts
    assert next(f for f in got["form"]["fields"] if f["key"] == "site_area")["value"] == 40
    qr = client.get(f"/api/v1/applications/{app['id']}/qr.svg", headers={"Authorization": f"Bearer {app['token']}"})
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg") and b"<svg" in qr.content


def test_application_idempotent_and_survives_restart(settings):
    with TestClient(create_app(settings, faq_service=_NoFaq())) as c:
        first = c.post("/api/v1/applications", json=_application(), headers={"Idempotency-Key": "retry-1"})
        again = c.post("/api/v1/applications", json=_application(), headers={"Idempotency-Key": "retry-1"})
        assert first.status_code == 201 and again.status_code == 200
        assert first.json()["id"] == again.json()["id"]
    with TestClient(create_app(settings, faq_service=_NoFaq())) as c:  # a new process on the same database
        assert c.get(f"/api/v1/applications/{first.json()['id']}", headers={"Authorization": f"Bearer {first.json()['token']}"}).status_code == 200


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"form_values": {"applicant_name": "<script>alert(1)</script>"}}, "applicant_name"),
        ({"form_values": {"site_address": "<img src=x onerror=alert(1)>"}}, "site_address"),
        ({"applicant": {**APPLICANT, "id_number": "110105194912310021"}}, "id_number"),
        ({"applicant": {**APPLICANT, "phone": "12345"}}, "phone"),
        ({"applicant": {**APPLICANT, "uscc": "91110000000000000X"}}, "uscc"),
        ({"form_values": {"Bad Key": "x"}}, "form_values"),
    ],
)
def test_application_rejects_hostile_input(client, patch, field):
    body = _err(client.post("/api/v1/applications", json=_application(**patch)), 422)
    detail = body["detail"] if isinstance(body["detail"], list) else [body["detail"]]  # a domain rule names one field
    assert field in " ".join(d["field"] + " " + d["problem"] for d in detail)


def test_application_needs_region_and_activity(client):
    body = _application(profile={"activities": []})
    _err(client.post("/api/v1/applications", json=body), 422)
    _err(client.get("/api/v1/applications/does-not-exist"), 401)  # reading needs the applicant's token (issue 9)


def test_jinzhong_modes_and_chat_page(client):
    items = {i["code"]: i for i in client.get("/api/v1/items", params={"region": "jinzhong"}).json()["items"]}
    assert items["fire_safety_check"]["mode"] == "commitment"
    assert items["device_class2_filing"]["mode"] == "filing"
    page = client.get("/chat")
    # the widget talks to the API's relay only (Rasa is not on the internet), with its script in a file
    assert page.status_code == 200 and "智能导办" in page.text and "/static/chat/chat.js" in page.text
    assert "/webhooks/rest/webhook" not in page.text and "<script>" not in page.text
    assert client.get("/docs").status_code == 200


def test_error_messages_are_plain_chinese(client):
    assert "描述内容不能为空" in _err(client.post("/api/v1/intake/describe", json={"text": ""}), 422)["message"]
    assert "最多2000个字" in _err(client.post("/api/v1/intake/describe", json={"text": "开" * 2001}), 422)["message"]
    body = _err(client.post("/api/v1/applications", json=_application(applicant={"name": "张三", "phone": "123"})), 422)
    assert "联系电话太短了" in body["message"] and body["detail"][0]["field"] == "applicant.phone"
    body = _err(client.post("/api/v1/applications", json=_application(form_values={"applicant_name": "<b>x</b>"})), 422)
    assert "网页代码" in body["message"]


def test_describe_is_typed_and_says_how_far_to_trust_it(client):
    schema = client.get("/openapi.json").json()
    props = schema["components"]["schemas"]["Bundle"]["properties"]
    assert {"coverage", "unrecognized", "to_confirm", "handoff"} <= set(props)
    assert props["coverage"]["enum"] == ["known", "partial", "unknown"]
    r = client.post("/api/v1/intake/describe", json={"text": "在晋中开个服装店"}).json()
    assert r["bundle"]["coverage"] == "known" and r["bundle"]["items"] == [] and "准入即准营" in r["bundle"]["summary"]
    r = client.post("/api/v1/intake/describe", json={"text": "在晋中开个纹身店"}).json()
    assert r["bundle"]["coverage"] == "unknown" and r["bundle"]["unrecognized"] == ["纹身店"] and r["bundle"]["handoff"]
    assert "准入即准营" not in r["bundle"]["summary"]


def test_unknown_trades_reach_the_maintainers_masked(tmp_path):
    import time

    settings = Settings(var_dir=tmp_path, embedder="fake", maintainer_token="m-token")
    with TestClient(create_app(settings, faq_service=_NoFaq())) as c:
        for _ in range(2):
            c.post("/api/v1/intake/describe", json={"text": "同心开个纹身店，电话13812345678"})
        assert c.get("/api/v1/intake/admin/unknown-trades").status_code == 401
        for _ in range(50):  # written by a background writer
            rows = c.get("/api/v1/intake/admin/unknown-trades", headers={"X-Maintainer-Token": "m-token"}).json()["trades"]
            if rows and rows[0]["count"] == 2:
                break
            time.sleep(0.05)
        assert rows[0]["word"] == "纹身店" and rows[0]["count"] == 2
        assert "13812345678" not in rows[0]["example"] and "138****5678" in rows[0]["example"]
