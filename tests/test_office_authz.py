"""Authorization matrix: every endpoint that reads or changes an application × every
kind of caller, each cell asserted (status and what the body may or may not show).

Callers: anonymous, the applicant (own token), another applicant (a valid token for
another application), department A (zhongshan.fire: one item in the application),
department B (zhongshan.market_regulation: two items), a FAQ maintainer (a valid
maintainer token is no credential here), and the tracking link's token (masked)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from knowledge_base.settings import Settings

ID = "442000199203150020"
PHONE = "13800138000"
MAINTAINER = "matrix-maintainer-token"
ROLES = ("anonymous", "applicant", "other_applicant", "dept_a", "dept_b", "maintainer", "track")
BODY = {"profile": {"region": "zhongshan", "activities": ["restaurant"], "area_m2": 300, "entertainment": False, "name": "矩阵饭店"},
        "applicant": {"name": "陈小满", "phone": PHONE, "id_number": ID}, "commitments": ["fire_safety_check"],
        "form_values": {"applicant_name": "中山市矩阵饭店", "legal_rep_id": ID, "contact_phone": PHONE}}


class _NoFaq:
    def close(self):
        pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    settings = Settings(var_dir=tmp_path_factory.mktemp("authz"), embedder="fake", maintainer_token=MAINTAINER,
                        public_base_url="https://yzt.example.gov.cn")
    with TestClient(create_app(settings, faq_service=_NoFaq())) as c:
        login = lambda u: c.post("/api/v1/departments/login", json={"username": u, "password": "daoban-demo"}).json()["token"]  # noqa: E731
        other = c.post("/api/v1/applications", json={**BODY, "applicant": {"name": "李四", "phone": "13900139000"}}).json()
        yield {"c": c, "dept_a": login("zhongshan.fire"), "dept_b": login("zhongshan.market_regulation"), "other": other["token"]}


def fresh(env) -> dict:
    """A new application: food_business_license asked for two materials (需补正), then one
    supplied earlier on business_registration (an uploaded file to download)."""
    c = env["c"]
    app = c.post("/api/v1/applications", json=BODY).json()
    b = {"Authorization": f"Bearer {env['dept_b']}"}
    base = f"/api/v1/applications/{app['id']}/items"
    c.post(f"{base}/business_registration/transition", json={"to": "correction", "missing": ["id_card"]}, headers=b)
    c.post(f"{base}/business_registration/supplements", files={"file:id_card": ("id.pdf", b"%PDF id", "application/pdf")},
           headers={"Authorization": f"Bearer {app['token']}"})
    c.post(f"{base}/food_business_license/transition", json={"to": "correction", "missing": ["site_layout_plan", "health_certificates"]},
           headers=b)
    sup = c.get(f"/api/v1/applications/{app['id']}", headers={"Authorization": f"Bearer {app['token']}"}).json()["supplements"][0]
    return {**app, "sup": sup["url"], "track": app["track_url"].rsplit("/", 1)[-1]}


def headers(env, app, role) -> dict:
    tok = {"applicant": app["token"], "other_applicant": env["other"], "dept_a": env["dept_a"], "dept_b": env["dept_b"],
           "track": app["track"]}.get(role)
    if role == "maintainer":
        return {"X-Maintainer-Token": MAINTAINER, "Authorization": f"Bearer {MAINTAINER}"}
    return {"Authorization": f"Bearer {tok}"} if tok else {}


def call(env, app, endpoint, role):
    c, h, a = env["c"], headers(env, app, role), f"/api/v1/applications/{app['id']}"
    return {
        "read": lambda: c.get(a, headers=h),
        "qr": lambda: c.get(f"{a}/qr.svg", headers=h),
        "doc_application": lambda: c.get(f"{a}/documents/application", headers=h),
        "doc_commitment": lambda: c.get(f"{a}/documents/commitment-fire_safety_check", headers=h),
        "doc_receipt": lambda: c.get(f"{a}/documents/receipt", headers=h),
        "accept_fire": lambda: c.post(f"{a}/items/fire_safety_check/transition", json={"to": "accepted"}, headers=h),
        "accept_registration": lambda: c.post(f"{a}/items/business_registration/transition", json={"to": "approved"}, headers=h),
        "supply": lambda: c.post(f"{a}/items/food_business_license/supplements",
                                 data={"confirm:site_layout_plan": "1", "confirm:health_certificates": "1"}, headers=h),
        "download": lambda: c.get(app["sup"], headers=h),
        "inbox": lambda: c.get("/api/v1/departments/inbox", headers=h),
        "public_page": lambda: c.get(app["public_url"].removeprefix("https://yzt.example.gov.cn"), headers=h),
    }[endpoint]()


def _unmasked(r):
    return ID in r.text and PHONE in r.text


def _masked(r):
    return ID not in r.text and PHONE not in r.text and "442000********0020" in r.text.replace('"', "")


def _dept_only(code_in, code_out):
    def check(r):
        codes = [it["code"] for it in r.json()["items"]]
        return code_in in codes and code_out not in codes and _masked(r)
    return check


def _inbox_has(dept):
    def check(r):
        apps = r.json()["applications"]
        return apps and all(i["department_key"] == dept for a in apps for i in a["items"])
    return check


def _nothing_personal(r):
    return all(x not in r.text for x in (ID, PHONE, "138****8000", "陈小满", "442000"))


OK_OWNER, OK_TRACK = (200, _unmasked), (200, _masked)
E401, E404 = (401, None), (404, None)
MATRIX = {
    #                      anonymous  applicant   other   dept_a                                   dept_b                                     maintainer track
    "read":               (E401, OK_OWNER, E404, (200, _dept_only("fire_safety_check", "food_business_license")),
                           (200, _dept_only("food_business_license", "fire_safety_check")), E401, OK_TRACK),
    "qr":                 (E401, (200, lambda r: r.content.startswith(b"<svg")), E404, E404, E404, E401, (200, lambda r: b"<svg" in r.content)),
    "doc_application":    (E401, OK_OWNER, E404, (200, lambda r: ID not in r.text and "食品经营许可" not in r.text),
                           (200, lambda r: ID not in r.text and "食品经营许可" in r.text), E401, (200, lambda r: ID not in r.text)),
    "doc_commitment":     (E401, (200, lambda r: "告知承诺书" in r.text), E404, (200, lambda r: "告知承诺书" in r.text), E404, E401,
                           (200, lambda r: "告知承诺书" in r.text)),
    "doc_receipt":        (E401, (200, lambda r: "回执" in r.text), E404, E404, E404, E401, (200, lambda r: "回执" in r.text)),
    "accept_fire":        (E401, E404, E404, (200, lambda r: r.json()["status"] == "accepted"), E404, E401, E404),
    "accept_registration": (E401, E404, E404, E404, (200, lambda r: r.json()["status"] == "approved"), E401, E404),
    "supply":             (E401, (200, lambda r: r.json()["status"] == "accepted"), E404, E404, E404, E401,
                           (200, lambda r: r.json()["status"] == "accepted")),
    "download":           (E401, (200, lambda r: r.content == b"%PDF id"), E404, E404, (200, lambda r: r.content == b"%PDF id"), E401,
                           (200, lambda r: r.content == b"%PDF id")),
    "inbox":              (E401, E401, E401, (200, _inbox_has("fire")), (200, _inbox_has("market_regulation")), E401, E401),
    "public_page":        tuple((200, _nothing_personal) for _ in ROLES),
}
CELLS = [(ep, role, MATRIX[ep][i]) for ep in MATRIX for i, role in enumerate(ROLES)]


@pytest.mark.parametrize("endpoint,role,expected", CELLS, ids=[f"{e}-{r}" for e, r, _ in CELLS])
def test_cell(env, endpoint, role, expected):
    app = fresh(env) if endpoint in ("accept_fire", "accept_registration", "supply") else env.setdefault("shared", fresh(env))
    status, check = expected
    r = call(env, app, endpoint, role)
    assert r.status_code == status, (endpoint, role, r.status_code, r.text[:300])
    if status >= 400:
        assert r.json()["error"]["message"] and ID not in r.text and PHONE not in r.text and app["id"] not in r.text
    if check is not None:
        assert check(r), (endpoint, role, r.text[:500])


def test_matrix_covers_every_application_route(env):
    """A new route that reads or changes an application must be added to the matrix."""
    paths = env["c"].get("/openapi.json").json()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() if "{app_id}" in p for m in ops}
    assert routes == {("GET", "/api/v1/applications/{app_id}"), ("GET", "/api/v1/applications/{app_id}/qr.svg"),
                      ("GET", "/api/v1/applications/{app_id}/documents/{name}"),
                      ("POST", "/api/v1/applications/{app_id}/items/{code}/transition"),
                      ("POST", "/api/v1/applications/{app_id}/items/{code}/supplements"),
                      ("GET", "/api/v1/applications/{app_id}/supplements/{sid}")}
