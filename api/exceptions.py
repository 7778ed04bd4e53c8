"""Domain errors and the single place that maps them to HTTP answers.

Every error body is ``{"error": {"code", "message", "message_en", "detail"}}``:
``message`` is plain Chinese a person can act on, ``message_en`` the same in English.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class DaobanError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, message_en: str, detail: Any = None):
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        self.detail = detail


class NotFound(DaobanError):
    status_code = 404
    code = "not_found"


class UnknownRegion(DaobanError):
    status_code = 422
    code = "unknown_region"


class UnknownItem(DaobanError):
    status_code = 404
    code = "unknown_item"


class InvalidInput(DaobanError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(DaobanError):
    status_code = 401
    code = "unauthorized"


class Conflict(DaobanError):
    status_code = 409
    code = "conflict"


class Forbidden(DaobanError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(DaobanError):
    status_code = 413
    code = "too_large"


class TooManyRequests(DaobanError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(DaobanError):
    status_code = 503
    code = "not_ready"


def _body(code: str, message: str, message_en: str, detail: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "message_en": message_en, "detail": detail}}


def _describe_validation(errors: list[dict]) -> list[dict]:
    out = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        out.append({"field": loc or "(body)", "problem": msg, "type": err.get("type", ""), "ctx": {
            k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, (int, float, str))}})
    return out


FIELD_NAMES = {
    "text": "描述内容", "region": "地区", "q": "问题", "k": "返回条数",
    "applicant.name": "经办人姓名", "applicant.phone": "联系电话", "applicant.id_number": "身份证号码",
    "applicant.uscc": "统一社会信用代码", "profile.area_m2": "经营面积", "profile.activities": "经营项目",
    "profile.region": "地区", "profile.vehicle_weight_t": "货车总质量", "form_values": "表单内容",
}
_TYPE_ZH = {
    "missing": "必须填写",
    "string_too_short": "不能为空",
    "string_too_long": "太长了（最多{max_length}个字）",
    "too_long": "条目太多（最多{max_length}项）",
    "extra_forbidden": "是不认识的字段，请删除",
    "literal_error": "取值不在允许范围内（可选：{expected}）",
    "enum": "取值不在允许范围内（可选：{expected}）",
    "int_parsing": "应填整数",
    "float_parsing": "应填数字",
    "bool_parsing": "应填 是/否(true/false)",
    "greater_than": "应大于{gt}",
    "greater_than_equal": "应不小于{ge}",
    "less_than_equal": "应不大于{le}",
    "string_pattern_mismatch": "格式不对",
    "dict_type": "应为对象(JSON 对象)",
    "list_type": "应为列表",
    "string_type": "应为文字",
    "model_type": "应为对象(JSON 对象)",
}


def _zh_summary(detail: list[dict]) -> str:
    """The problems in words a person can act on: our own validators speak Chinese;
    for pydantic's generic ones we name the field."""
    parts = []
    for d in detail[:3]:
        zh = d["problem"].split(" / ")[0]
        name = FIELD_NAMES.get(d["field"], d["field"])
        if any("\u4e00" <= ch <= "\u9fff" for ch in zh):
            parts.append(zh)
        elif d["type"] == "string_too_short" and d["ctx"].get("min_length", 1) > 1:
            parts.append(f"{name}太短了（至少{d['ctx']['min_length']}个字）")
        elif d["type"] in _TYPE_ZH:
            try:
                parts.append(f"{name}{_TYPE_ZH[d['type']].format(**d['ctx'])}")
            except (KeyError, IndexError):
                parts.append(f"{name}{_TYPE_ZH[d['type']].split('（')[0]}")
        else:
            parts.append(f"{name}的内容不符合要求（{d['problem']}）")
    return "；".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(DaobanError)
    async def _domain(_: Request, exc: DaobanError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message, exc.message_en, exc.detail), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _describe_validation(exc.errors())
        if any(d["type"] == "json_invalid" for d in detail):
            return JSONResponse(
                _body("invalid_json", "请求内容不是有效的 JSON，请检查引号、逗号和括号。",
                      "The request body is not valid JSON.", detail),
                status_code=400,
            )
        fields = "、".join(d["field"] for d in detail)
        return JSONResponse(
            _body("invalid_input", f"填写的内容有误：{_zh_summary(detail)}。请修改后再提交。",
                  f"Invalid input in: {fields}.", detail),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: ("没有这个地址，请检查链接。", "No such path."),
            405: ("不支持这种请求方式。", "Method not allowed."),
            413: ("提交的内容太大了，请精简后再提交；材料文件请分几次上传。", "Payload too large."),
        }
        zh, en = messages.get(exc.status_code, ("请求有误。", str(exc.detail)))
        return JSONResponse(_body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))  # e.g. Allow on 405
