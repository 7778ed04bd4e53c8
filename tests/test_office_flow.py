"""Back office (issue 9), in process: pre-fill with provenance (intake, identity,
licence registry, history), drafts, submissions that cannot leak (idempotency 409,
links from the configured base URL, normalised names and phones, 0600 database),
department transitions with 一次性告知 and the applicant's supplements, audit,
documents (HTML + PDF), the tracking page and the 一码展示 page."""
from __future__ import annotations

import os
import stat
import threading

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from knowledge_base.settings import Settings

BASE = "https://yzt.example.gov.cn"
CHEN = {"id_number": "442000199203150020", "password": "daoban-demo"}  # data/demo/identities.yaml
LINA = {"id_number": "410102198806120046", "password": "daoban-demo"}
RESTAURANT = {"region": "zhongshan", "activities": ["restaurant"], "area_m2": 300, "entertainment": False,
              "name": "小满饭店", "address": "中山市石岐区孙文中路1号", "employees": 8}


class _NoFaq:
    def status(self):
        return {"entries": 0}

    def close(self):
        pass


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return Settings(var_dir=tmp_path_factory.mktemp("office"), embedder="fake", public_base_url=BASE)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings, faq_service=_NoFaq())) as c:
        yield c


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def login(client, username):
    r = client.post("/api/v1/departments/login", json={"username": username, "password": "daoban-demo"})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def draft(client, profile, values=None):
    r = client.post("/api/v1/applications/drafts", json={"profile": profile, "values": values or {}, "channel": "bot"})
    assert r.status_code == 201, r.text
    return r.json()


def signin(client, token, who):
    r = client.post(f"/api/v1/applications/drafts/{token}/signin", json=who)
    assert r.status_code == 200, r.text
    return r.json()["session"]


def fields(form):
    return {f["key"]: f for f in form["fields"]}


def test_database_file_is_owner_only(client, settings):
    """The database, its WAL and shared-memory files: readable by the owner only."""
    client.post("/api/v1/applications/drafts", json={"profile": RESTAURANT})  # a write: the WAL exists
    files = sorted(settings.var_dir.glob("daoban.sqlite3*"))
    assert settings.var_dir / "daoban.sqlite3" in files and settings.var_dir / "daoban.sqlite3-wal" in files
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, (f.name, oct(os.stat(f).st_mode))


def test_draft_prefills_from_intake_then_identity(client):
    d = draft(client, RESTAURANT)
    assert d["apply_url"].startswith(f"{BASE}/apply/") and d["token"] in d["apply_url"]
    anon = client.get(f"/api/v1/applications/drafts/{d['token']}").json()
    f = fields(anon["form"])
    assert not anon["signed_in"] and anon["identity"] is None
    assert (f["applicant_name"]["value"], f["applicant_name"]["source"]) == ("小满饭店", "intake")
    assert (f["site_address"]["value"], f["site_address"]["source"]) == ("中山市石岐区孙文中路1号", "intake")
    assert f["employees"]["value"] == 8 and not f["applicant_name"]["verified"]
    assert f["legal_rep_id"]["value"] is None  # nothing personal before the sign-in
    assert client.post(f"/api/v1/applications/drafts/{d['token']}/signin", json={**CHEN, "password": "x"}).status_code == 401
    session = signin(client, d["token"], CHEN)
    me = client.get(f"/api/v1/applications/drafts/{d['token']}", headers=bearer(session)).json()
    f = fields(me["form"])
    assert me["signed_in"] and me["identity"]["name"] == "陈小满" and "*" in me["identity"]["id_number"]
    assert (f["legal_rep_id"]["value"], f["legal_rep_id"]["source"], f["legal_rep_id"]["verified"]) == (CHEN["id_number"], "identity", True)
    assert (f["contact_phone"]["value"], f["contact_phone"]["source"]) == ("13800138000", "identity")
    assert all(x["editable"] for x in me["form"]["fields"])
    assert me["form"]["stats"]["prefilled_by_source"]["identity"] >= 4 and me["form"]["stats"]["prefilled_by_source"]["intake"] >= 4
    eligible = {o["code"] for o in me["commitment_options"] if o["eligible"]}
    assert eligible == {"fire_safety_check"}
    assert {r["material_key"] for r in me["rongque"]} == {"business_license"}  # 营业执照 issued in the same bundle
    # a session for another draft does not open this one's identity data
    other = draft(client, RESTAURANT)
    assert client.get(f"/api/v1/applications/drafts/{other['token']}", headers=bearer(session)).json()["signed_in"] is False
    assert client.get("/api/v1/applications/drafts/not-a-token").status_code == 404


def test_held_licence_fills_subject_and_leaves_the_bundle(client):
    profile = {"region": "suixian", "activities": ["pharmacy"], "medical_devices": "class2", "food_sales": "none",
               "name": "康民大药房", "new_business": False}
    d = draft(client, profile)
    session = signin(client, d["token"], LINA)
    me = client.get(f"/api/v1/applications/drafts/{d['token']}", headers=bearer(session)).json()
    f = fields(me["form"])
    assert me["uscc"] == "92411422MA9K7L2Q3C" and me["businesses"][0]["name"] == "睢县康民大药房"
    assert (f["applicant_name"]["value"], f["applicant_name"]["source"], f["applicant_name"]["verified"]) == ("睢县康民大药房", "registry", True)
    assert f["uscc"]["value"] == "92411422MA9K7L2Q3C" and f["legal_rep_name"]["source"] == "registry"
    codes = [it["code"] for it in me["bundle"]["items"]]
    held = {h["code"]: h for h in me["bundle"]["held"]}
    assert "drug_retail" not in codes and "device_class2_filing" in codes
    assert held["drug_retail"]["text"] == "已持有，有效期至2027年6月30日"
    # choosing "new business" puts the permit back and drops the registry values
    new = client.get(f"/api/v1/applications/drafts/{d['token']}?uscc=new", headers=bearer(session)).json()
    assert "drug_retail" in [it["code"] for it in new["bundle"]["items"]] and not new["bundle"]["held"]
    # submit: an unchanged verified value keeps its provenance; a changed one becomes the applicant's
    body = {"values": {**{k: v["value"] for k, v in f.items() if v["value"] is not None}, "legal_rep_name": "李娜娜",
                       "quality_manager": "王明 执业药师"}, "uscc": me["uscc"]}
    r = client.post(f"/api/v1/applications/drafts/{d['token']}/submit", json=body, headers=bearer(session))
    assert r.status_code == 201, r.text
    app = r.json()
    sf = fields(app["form"])
    assert (sf["uscc"]["source"], sf["uscc"]["verified"]) == ("registry", True)
    assert (sf["legal_rep_name"]["source"], sf["legal_rep_name"]["verified"]) == ("applicant", False)
    assert app["bundle"]["held"][0]["code"] == "drug_retail"
    assert {it["code"] for it in app["items"]} >= {"device_class2_filing"} and "drug_retail" not in {it["code"] for it in app["items"]}
    # history: a later draft by the same person gets values typed before
    d2 = draft(client, {**profile, "name": None})
    s2 = signin(client, d2["token"], LINA)
    later = fields(client.get(f"/api/v1/applications/drafts/{d2['token']}?uscc=new", headers=bearer(s2)).json()["form"])
    assert (later["quality_manager"]["value"], later["quality_manager"]["source"]) == ("王明 执业药师", "history")
    # the person signed in is the applicant: they read their own application unmasked
    own = client.get(f"/api/v1/applications/{app['id']}", headers=bearer(s2)).json()
    assert own["role"] == "owner" and own["applicant"]["id_number"] == LINA["id_number"]


def test_submit_draft_twice_is_one_application(client):
    d = draft(client, RESTAURANT)
    session = signin(client, d["token"], CHEN)
    body = {"values": {"site_floor": "1楼"}, "commitments": ["fire_safety_check"]}
    first = client.post(f"/api/v1/applications/drafts/{d['token']}/submit", json=body, headers=bearer(session))
    again = client.post(f"/api/v1/applications/drafts/{d['token']}/submit", json=body, headers=bearer(session))
    assert first.status_code == 201 and again.status_code == 200 and first.json()["id"] == again.json()["id"]
    changed = client.post(f"/api/v1/applications/drafts/{d['token']}/submit", json={"values": {"site_floor": "2楼"}},
                          headers=bearer(session))
    assert changed.status_code == 409 and "陈" not in changed.text and CHEN["id_number"] not in changed.text
    assert client.post(f"/api/v1/applications/drafts/{d['token']}/submit", json=body).status_code == 401
    bad = client.post(f"/api/v1/applications/drafts/{d['token']}/submit", json={"commitments": ["food_business_license"]},
                      headers=bearer(session))
    assert bad.status_code in (409, 422)


def _application(**extra):
    body = {"profile": {"region": "zhongshan", "activities": ["convenience_store"], "area_m2": 40, "food_sales": "prepackaged",
                        "tobacco": True, "medical_devices": "none"},
            "applicant": {"name": "陈小满", "phone": "13800138000"},
            "form_values": {"applicant_name": "中山市小榄陈记便利店", "site_address": "中山市小榄镇民安路1号"}}
    body.update(extra)
    return body


def test_idempotency_key_with_another_body_is_409_and_leaks_nothing(client):
    """Twenty submissions, one key, twenty different names, at once: one application,
    nineteen 409s that show nothing of it."""
    names = [f"申请人{chr(0x4e00 + i * 7)}" for i in range(20)]
    results: list = [None] * 20

    def go(i):
        body = _application(applicant={"name": names[i], "phone": "13800138000", "id_number": "442000199203150020"})
        results[i] = client.post("/api/v1/applications", json=body, headers={"Idempotency-Key": "same-key-20"})

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 19, codes
    winner = next(r for r in results if r.status_code == 201).json()
    for r in results:
        if r.status_code == 409:
            body = r.json()
            assert body["error"]["code"] == "conflict" and "Idempotency-Key" in body["error"]["message"]
            assert winner["id"] not in r.text and "442000" not in r.text and winner["applicant"]["name"] not in r.text
    same = client.post("/api/v1/applications", json=_application(applicant={"name": winner["applicant"]["name"], "phone": "13800138000",
                                                                           "id_number": "442000199203150020"}),
                       headers={"Idempotency-Key": "same-key-20"})
    assert same.status_code == 200 and same.json()["id"] == winner["id"] and same.json()["token"] != winner["token"]


def test_links_and_qr_come_from_the_configured_base_url(client):
    from api.applications.views import qr_svg

    r = client.post("/api/v1/applications", json=_application(), headers={"Host": "attacker.example"})
    app = r.json()
    assert app["track_url"].startswith(f"{BASE}/track/") and app["public_url"].startswith(f"{BASE}/qr/")
    assert "attacker" not in r.text
    qr = client.get(f"/api/v1/applications/{app['id']}/qr.svg", headers={**bearer(app["token"]), "Host": "attacker.example"})
    assert qr.status_code == 200 and qr.content == qr_svg(app["track_url"])
    pub = client.get(f"/api/v1/applications/{app['id']}/qr.svg?for=public", headers=bearer(app["token"]))
    assert pub.content == qr_svg(app["public_url"])
    code = app["public_url"].rsplit("/", 1)[-1]
    assert client.get(f"/qr/{code}.svg", headers={"Host": "attacker.example"}).content == qr_svg(app["public_url"])


@pytest.mark.parametrize("phone", ["１３８００１３８０００", "١٣٨٠٠١٣٨٠٠٠", "+86 138-0013-8000", "۱۳۸۰۰۱۳۸۰۰۰"])
def test_phone_digits_normalised_before_checking(client, phone):
    r = client.post("/api/v1/applications", json=_application(applicant={"name": "陈小满", "phone": phone}))
    assert r.status_code == 201, r.text
    assert r.json()["applicant"]["phone"] == "13800138000"


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u3164", "\u200d\ufeff\u2060", "   "])
def test_names_of_invisible_characters_are_refused(client, name):
    r = client.post("/api/v1/applications", json=_application(applicant={"name": name, "phone": "13800138000"}))
    assert r.status_code == 422 and "看不见" in r.json()["error"]["message"] or "不能为空" in r.json()["error"]["message"]


def test_name_normalised_and_typed_numbers_checked(client):
    r = client.post("/api/v1/applications", json=_application(applicant={"name": "陈\u200b小满", "phone": "13800138000",
                                                                         "id_number": "４４２０００１９９２０３１５００２０"}))
    assert r.status_code == 201 and r.json()["applicant"]["name"] == "陈小满"
    assert r.json()["applicant"]["id_number"] == "442000199203150020"
    bad = client.post("/api/v1/applications", json=_application(form_values={"contact_phone": "12345"}))
    assert bad.status_code == 422 and "联系电话" in bad.json()["error"]["message"]
    bad = client.post("/api/v1/applications", json=_application(form_values={"legal_rep_id": "110105194912310021"}))
    assert bad.status_code == 422


def test_departments_one_time_notice_supplements_audit_and_pages(client):
    app = client.post("/api/v1/applications", json=_application(profile=RESTAURANT, commitments=["fire_safety_check"],
                                                                applicant={"name": "陈小满", "phone": "13800138000",
                                                                           "id_number": CHEN["id_number"]})).json()
    app_id, tok = app["id"], app["token"]
    fire, market = login(client, "zhongshan.fire"), login(client, "zhongshan.market_regulation")
    url = f"/api/v1/applications/{app_id}/items"
    # each department sees only its dispatch, minimised and masked
    fv = client.get(f"/api/v1/applications/{app_id}", headers=bearer(fire)).json()
    assert [it["code"] for it in fv["items"]] == ["fire_safety_check"] and fv["role"] == "department"
    assert "food_business_license" not in str(fv["fields"]) and "*" in fv["applicant"]["id_number"]
    assert {f["key"] for f in fv["fields"]} <= {"applicant_name", "uscc", "legal_rep_name", "site_address", "site_area", "site_floor",
                                                "building_fire_acceptance", "capacity_persons", "fire_safety_manager", "contact_name",
                                                "contact_phone", "entity_type", "legal_rep_id", "domicile", "employees", "business_scope"}
    assert "commitment:fire_safety_check" in fv["documents"]
    inbox = client.get("/api/v1/departments/inbox", headers=bearer(fire)).json()["applications"]
    assert app_id in [a["id"] for a in inbox] and all(i["department_key"] == "fire" for a in inbox for i in a["items"])
    # A accepts and approves its item; a retry with the same key changes nothing
    r = client.post(f"{url}/fire_safety_check/transition", json={"to": "accepted", "expected": "pending"},
                    headers={**bearer(fire), "Idempotency-Key": "fire-1"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    again = client.post(f"{url}/fire_safety_check/transition", json={"to": "accepted", "expected": "pending"},
                        headers={**bearer(fire), "Idempotency-Key": "fire-1"})
    assert again.status_code == 200 and again.json()["version"] == r.json()["version"]
    assert client.post(f"{url}/food_business_license/transition", json={"to": "accepted"}, headers=bearer(fire)).status_code == 404
    # B asks for two missing materials at once (一次性告知); unknown materials and empty lists refused
    assert client.post(f"{url}/food_business_license/transition", json={"to": "correction", "missing": []},
                       headers=bearer(market)).status_code == 422
    assert client.post(f"{url}/food_business_license/transition", json={"to": "correction", "missing": ["no_such"]},
                       headers=bearer(market)).status_code == 422
    r = client.post(f"{url}/food_business_license/transition",
                    json={"to": "correction", "missing": ["site_layout_plan", "health_certificates"], "note": "布局图要标出消毒间"},
                    headers=bearer(market))
    assert r.status_code == 200 and [m["key"] for m in r.json()["requested"]] == ["site_layout_plan", "health_certificates"]
    assert client.post(f"{url}/food_business_license/transition", json={"to": "approved"}, headers=bearer(market)).status_code == 409
    # the applicant supplies only those, all at once
    sup = f"{url}/food_business_license/supplements"
    assert client.post(sup, files={"file:site_layout_plan": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")},
                       headers=bearer(tok)).status_code == 422  # one missing
    assert client.post(sup, data={"confirm:site_layout_plan": "1", "confirm:health_certificates": "1", "confirm:id_card": "1"},
                       headers=bearer(tok)).status_code == 422  # one not asked for
    assert client.post(sup, data={"confirm:health_certificates": "1"}, headers=bearer(market)).status_code == 404  # not the applicant
    r = client.post(sup, files={"file:site_layout_plan": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")},
                    data={"confirm:health_certificates": "1"}, headers=bearer(tok))
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    again = client.post(f"{url}/food_business_license/transition", json={"to": "correction", "missing": ["food_safety_rules"]},
                        headers=bearer(market))
    assert again.status_code == 409 and "一次性告知" in again.json()["error"]["message"]  # one round only (第32条)
    mv = client.get(f"/api/v1/applications/{app_id}", headers=bearer(market)).json()
    upload = next(s for s in mv["supplements"] if s["kind"] == "upload")
    assert client.get(upload["url"], headers=bearer(market)).content == b"%PDF-1.4 plan"
    assert client.get(upload["url"], headers=bearer(fire)).status_code == 404
    for code in ("food_business_license", "business_registration"):
        if code == "business_registration":
            client.post(f"{url}/{code}/transition", json={"to": "accepted"}, headers=bearer(market))
        assert client.post(f"{url}/{code}/transition", json={"to": "approved"}, headers=bearer(market)).json()["status"] == "approved"
    assert client.post(f"{url}/fire_safety_check/transition", json={"to": "approved"}, headers=bearer(fire)).json()["status"] == "approved"
    own = client.get(f"/api/v1/applications/{app_id}", headers=bearer(tok)).json()
    assert own["status"] == "completed" and {it["status"] for it in own["items"]} == {"approved"}
    trail = [(a["item"], a["from"], a["to"], a["actor"]) for a in own["audit"]]
    assert ("fire_safety_check", "pending", "accepted", "department:zhongshan.fire") in trail
    assert ("food_business_license", "correction", "accepted", "applicant") in trail
    assert sum(1 for t in trail if t[:3] == ("fire_safety_check", "pending", "accepted")) == 1  # the retry left no second row
    # the tracking page: statuses, what was asked, documents; personal numbers masked
    track = own["track_url"].removeprefix(BASE)
    page = client.get(track)
    assert page.status_code == 200 and "准予" in page.text and "主要设备设施布局图" in page.text
    assert CHEN["id_number"] not in page.text and "13800138000" not in page.text and "138****8000" in page.text
    assert "<script" not in page.text.lower()
    # documents: HTML (escaped) and PDF; the commitment letter lists the item's conditions with their sources
    letter = client.get(f"/api/v1/applications/{app_id}/documents/commitment-fire_safety_check", headers=bearer(tok))
    assert letter.status_code == 200 and "告知承诺书" in letter.text and "违反承诺的后果" in letter.text and "依据" in letter.text
    pdf = client.get(f"{track}/documents/receipt?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert CHEN["id_number"] not in client.get(f"{track}/documents/application").text
    assert CHEN["id_number"] in client.get(f"/api/v1/applications/{app_id}/documents/application", headers=bearer(tok)).text
    assert client.get(f"{track}/documents/commitment-food_business_license").status_code == 404
    # 一码展示: the business and its licences' status, nothing personal
    qr = client.get(own["public_url"].removeprefix(BASE))
    assert qr.status_code == 200 and "中山市小榄陈记便利店" in qr.text and "准予" in qr.text
    for personal in ("陈小满", "13800138000", "138****8000", CHEN["id_number"], "442000"):
        assert personal not in qr.text


def test_markup_in_values_is_refused_and_documents_escape(client):
    r = client.post("/api/v1/applications", json=_application(form_values={"site_floor": "<script>alert(1)</script>"}))
    assert r.status_code == 422
    app = client.post("/api/v1/applications", json=_application(form_values={"site_address": "中山市 A&B 大厦 \"3\"号"})).json()
    html = client.get(f"/api/v1/applications/{app['id']}/documents/application", headers=bearer(app["token"])).text
    assert "A&amp;B" in html and "&#34;3&#34;" in html


def test_password_guessing_is_stopped(client):
    for _ in range(8):
        r = client.post("/api/v1/departments/login", json={"username": "zhongshan.tobacco", "password": "guess"})
        assert r.status_code == 401
    r = client.post("/api/v1/departments/login", json={"username": "zhongshan.tobacco", "password": "daoban-demo"})
    assert r.status_code == 429 and "分钟后再试" in r.json()["error"]["message"]
    assert client.post("/api/v1/departments/login", json={"username": "zhongshan.health", "password": "daoban-demo"}).status_code == 200
