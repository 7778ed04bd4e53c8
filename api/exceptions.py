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


class ServiceUnavailable(DaobanError):
    status_code = 503
    code = "not_ready"


def _body(code: str, message: str, message_en: str, detail: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "message_en": message_en, "detail": detail}}


def _describe_validation(errors: list[dict]) -> list[dict]:
    out = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        out.append({"field": loc or "(body)", "problem": err.get("msg", ""), "type": err.get("type", "")})
    return out


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
            _body("invalid_input", f"填写的内容有误：{fields}。请按提示修改后再提交。",
                  f"Invalid input in: {fields}.", detail),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: ("没有这个地址，请检查链接。", "No such path."),
            405: ("不支持这种请求方式。", "Method not allowed."),
            413: ("提交的内容太大了。", "Payload too large."),
        }
        zh, en = messages.get(exc.status_code, ("请求有误。", str(exc.detail)))
        return JSONResponse(_body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code)
