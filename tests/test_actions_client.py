"""The typed API client."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx

from actions.client import DEFAULT_API_URL, DaobanApiError, DaobanClient, get_client, reset_clients

API = "http://daoban.test"


def run(coro):
    return asyncio.run(coro)


def test_base_url_from_env(monkeypatch):
    monkeypatch.delenv("DAOBAN_API_URL", raising=False)
    assert DaobanClient().base_url == DEFAULT_API_URL == "http://127.0.0.1:8000"
    monkeypatch.setenv("DAOBAN_API_URL", "http://10.9.9.9:9000/")
    assert DaobanClient().base_url == "http://10.9.9.9:9000"


def test_get_client_is_pooled_per_loop(monkeypatch):
    monkeypatch.setenv("DAOBAN_API_URL", API)
    reset_clients()

    async def two():
        return get_client() is get_client()

    assert run(two())
    reset_clients()


@respx.mock(base_url=API + "/api/v1")
def test_endpoints_and_bodies(respx_mock):
    describe = respx_mock.post("/intake/describe").mock(return_value=httpx.Response(200, json={"profile": {}, "bundle": {}, "questions": []}))
    resolve = respx_mock.post("/intake/resolve").mock(return_value=httpx.Response(200, json={"profile": {}, "bundle": {}, "questions": []}))
    form = respx_mock.post("/intake/form").mock(return_value=httpx.Response(200, json={"sections": []}))
    faq = respx_mock.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": False, "hits": []}))
    apps = respx_mock.post("/applications").mock(return_value=httpx.Response(201, json={"id": "A1"}))

    async def go():
        c = DaobanClient(API)
        try:
            await c.describe("开奶茶店", profile={"region": "zhongshan"}, region=None)
            await c.resolve({"region": "zhongshan"})
            await c.form({"region": "zhongshan"}, {"applicant_name": "张三"})
            await c.faq_search("要多久", k=2, region="tongxin")
            return await c.create_application({"region": "zhongshan"}, idempotency_key="k1")
        finally:
            await c.aclose()

    assert run(go()) == {"id": "A1"}
    assert json.loads(describe.calls[0].request.content) == {"text": "开奶茶店", "profile": {"region": "zhongshan"}}
    assert json.loads(resolve.calls[0].request.content) == {"profile": {"region": "zhongshan"}}
    assert json.loads(form.calls[0].request.content) == {"profile": {"region": "zhongshan"}, "values": {"applicant_name": "张三"}}
    assert dict(faq.calls[0].request.url.params) == {"q": "要多久", "k": "2", "region": "tongxin"}
    assert apps.calls[0].request.headers["Idempotency-Key"] == "k1"


@respx.mock(base_url=API + "/api/v1")
def test_errors_are_typed(respx_mock):
    respx_mock.post("/intake/resolve").mock(return_value=httpx.Response(422, json={"detail": "bad"}))
    respx_mock.get("/health").mock(side_effect=httpx.ConnectTimeout("slow"))

    async def go():
        c = DaobanClient(API)
        errors = []
        for call in (c.resolve({}), c.health()):
            with pytest.raises(DaobanApiError) as info:
                await call
            errors.append(info.value)
        await c.aclose()
        return errors

    bad, down = run(go())
    assert bad.status == 422 and bad.detail == {"detail": "bad"}
    assert down.status is None and "ConnectTimeout" in str(down)
