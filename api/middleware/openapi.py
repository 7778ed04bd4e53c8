"""Every status an operation can answer is declared in ``/openapi.json``, without touching
the routers: the generated schema is completed once, from what each operation looks like
(parameters, body, path parameters, credentials, limits).  The error body is the one
shape ``api/exceptions.py`` writes.

Which statuses (docs: README, "Errors"):
  400 a JSON body that is not JSON          401 credentials missing or wrong
  403 a browser origin that is not allowed  404 an id in the path that does not exist
  409 a conflict (Idempotency-Key reused, state changed meanwhile, duplicate)
  413 a message or upload over its cap      422 input that breaks the schema or a rule
  429 a limit (Retry-After says when)       503 starting up, index building, bot restarting
  504 the bot did not answer in time"""
from __future__ import annotations

import re

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string", "description": "中文说明"},
            "message_en": {"type": "string"},
            "detail": {},
        },
    }},
}
DESCRIPTIONS = {
    "400": "请求内容不是有效的 JSON / Malformed JSON",
    "401": "需要凭证或凭证不对 / Credentials missing or wrong",
    "403": "不允许的来源 / Origin not allowed",
    "404": "没有找到 / Not found",
    "409": "冲突（重复提交、状态已变）/ Conflict",
    "413": "内容太大 / Too large",
    "422": "填写的内容有误 / Invalid input",
    "429": "请求太频繁，见 Retry-After / Too many requests",
    "503": "服务正在启动或重启，请稍后再试 / Not ready",
    "504": "智能导办没有及时回答 / The assistant did not answer in time",
}
RATE_LIMITED = {("post", "/api/v1/intake/describe"), ("get", "/api/v1/faq/search"), ("post", "/api/v1/chat/webhook"),
                ("get", "/api/v1/chat/intakes/{code}")}
CREDENTIALS = re.compile(r"^/api/v1/(faq/admin|intake/admin|departments|applications/(?!drafts$)|chat/intakes)")
CONFLICTS = re.compile(r"^/api/v1/(applications|faq/admin/entries|chat/intakes)")
TOO_LARGE = {("post", "/api/v1/chat/webhook"), ("post", "/api/v1/applications/{app_id}/items/{code}/supplements")}
FORBIDDEN = {("post", "/api/v1/chat/webhook")}
TIMEOUT = {("post", "/api/v1/chat/webhook")}


def statuses(method: str, path: str, op: dict) -> set[str]:
    params = op.get("parameters") or []
    body = op.get("requestBody")
    out = {"503"}
    if params or body:
        out.add("422")
    if body and "application/json" in (body.get("content") or {}):
        out.add("400")
    if any(p.get("in") == "path" for p in params) or "{" in path:
        out.add("404")
    if CREDENTIALS.match(path) or path == "/api/v1/applications/drafts/{token}/submit":
        out |= {"401", "404", "429"}  # 404: another's application (no oracle); 429: too many failures
    if method in ("post", "put", "patch", "delete") and CONFLICTS.match(path):
        out.add("409")
    if (method, path) in RATE_LIMITED:
        out.add("429")
    if (method, path) in TOO_LARGE:
        out.add("413")
    if (method, path) in FORBIDDEN:
        out.add("403")
    if (method, path) in TIMEOUT:
        out.add("504")
    return out


def complete(schema: dict, regions: list[str] | None = None) -> dict:
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    comps.setdefault("Error", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for path, ops in (schema.get("paths") or {}).items():
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete") or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            for code in sorted(statuses(method, path, op)):
                entry = responses.setdefault(code, {"description": DESCRIPTIONS[code]})
                if code == "422" or "content" not in entry:
                    entry["content"] = {"application/json": {"schema": ref}}
                if code == "429":
                    entry.setdefault("headers", {})["Retry-After"] = {
                        "description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
            if regions:
                for p in op.get("parameters") or []:
                    if p.get("name") == "region" and p.get("in") == "query":
                        _restrict_region(p, regions)
    return schema


def _restrict_region(param: dict, regions: list[str]) -> None:
    """``region`` in a query is one of the region codes (anything else is 422: the
    schema says so, instead of allowing any string)."""
    enum = {"type": "string", "enum": [*regions, ""], "description": "region code; empty: every region"}
    sch = param.get("schema") or {}
    if "anyOf" in sch:
        sch["anyOf"] = [enum if s.get("type") == "string" else s for s in sch["anyOf"]]
    else:
        param["schema"] = {**{k: v for k, v in sch.items() if k not in ("maxLength", "type")}, **enum}


def install(app, regions_of=None) -> None:
    """Complete ``app.openapi()`` once (cached like FastAPI's own)."""
    original = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        regions = None
        try:
            regions = regions_of() if regions_of else None
        except Exception:  # noqa: BLE001 - a schema without the enum is still a schema
            regions = None
        app.openapi_schema = complete(schema, regions)
        return app.openapi_schema

    app.openapi = openapi
