"""The bot's public door (``POST /api/v1/chat/webhook``, same request and reply as
Rasa's REST channel) and intake snapshots by code (``/api/v1/chat/intakes``)."""
from __future__ import annotations

import hmac
import re

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from api.chat.models import ChatMessage, IntakeSnapshot
from api.chat.service import BotUnavailable, clean_metadata
from api.deps import _state
from api.exceptions import DaobanError, Forbidden, _body, PayloadTooLarge, TooManyRequests, Unauthorized

router = APIRouter(prefix="/chat", tags=["chat"])
CODE_LOOKUP = re.compile(r"^/resume_intake\{|办理码|码[是为:：]?\s*[A-Za-z0-9]{6}")


def relay(request: Request):
    return _state(request, "chat_relay")


def intakes(request: Request):
    return _state(request, "intakes")


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def _check_origin(request: Request) -> str | None:
    """None for non-browser clients (no Origin) and the API's own pages; the origin to
    echo for a configured widget origin; anything else is refused."""
    origin = (request.headers.get("origin") or "").rstrip("/")
    if not origin or origin == _own_origin(request):
        return None
    if origin in request.app.state.settings.chat_origin_list:
        return origin
    raise Forbidden("这个网站不能直接接入智能导办。", f"Origin {origin[:80]} is not allowed.")


def _cors_headers(origin: str | None) -> dict[str, str]:
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


@router.options("/webhook", include_in_schema=False)
def webhook_preflight(request: Request):
    origin = _check_origin(request)
    headers = {
        **_cors_headers(origin),
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


@router.post("/webhook")
async def webhook(msg: ChatMessage, request: Request, rasa=Depends(relay)):
    """申请人的一句话 → 智能导办的回复（与 Rasa REST 通道相同：`[{"recipient_id", "text"?, "buttons"?, "custom"?}]`）。"""
    origin = _check_origin(request)
    try:
        return await _relay(msg, request, rasa, origin)
    except DaobanError as exc:  # the widget's origin must be able to read the reason too
        headers = _cors_headers(origin)
        if isinstance(exc.detail, dict) and exc.detail.get("retry_after"):
            headers["Retry-After"] = str(exc.detail["retry_after"])
        return JSONResponse(_body(exc.code, exc.message, exc.message_en, exc.detail),
                            status_code=exc.status_code, headers=headers)


async def _relay(msg: ChatMessage, request: Request, rasa, origin: str | None):
    settings = request.app.state.settings
    limit = settings.chat_max_message_chars
    if len(msg.message) > limit:
        raise PayloadTooLarge(f"消息太长了（最多{limit}个字），请分几次发，或只说要点。",
                              f"Message longer than {limit} characters.", {"max_chars": limit})
    if not msg.message.strip():
        return JSONResponse([], headers=_cors_headers(origin))
    wait = request.app.state.chat_rate.hit(msg.sender)
    if wait is not None:
        raise TooManyRequests(f"发得太快了，请{int(wait) + 1}秒后再发。", "Too many messages from this sender.",
                              {"retry_after": int(wait) + 1})
    if CODE_LOOKUP.search(msg.message):  # opening an intake by code through the bot: the same limit as the API's
        client = request.client.host if request.client else "?"
        wait = request.app.state.intakes.lookups.hit(client)
        if wait is not None:
            raise TooManyRequests(f"查询办理码太频繁了，请{int(wait) + 1}秒后再试。", "Too many intake-code lookups.",
                                  {"retry_after": int(wait) + 1})
    try:
        replies = await rasa.send(msg.sender, msg.message, clean_metadata(msg.metadata))
    except BotUnavailable:
        request.app.state.chat_rate.undo(msg.sender)  # retrying while Rasa restarts costs nothing
        raise
    return JSONResponse(replies, headers=_cors_headers(origin))


def _is_bot(request: Request, token: str | None) -> bool:
    want = request.app.state.settings.bot_token
    return bool(want) and bool(token) and hmac.compare_digest(token.encode(), want.encode())


def _require_bot(request: Request, token: str | None) -> None:
    if not _is_bot(request, token):
        raise Unauthorized("只有智能导办本身可以保存办理记录。", "A valid X-Bot-Token is required.")


@router.post("/intakes", status_code=201)
def create_intake(snap: IntakeSnapshot, request: Request, x_bot_token: str | None = Header(default=None),
                  svc=Depends(intakes)):
    """Bot only: a new intake gets its code."""
    _require_bot(request, x_bot_token)
    return svc.create(snap)


@router.put("/intakes/{code}")
def update_intake(code: str, snap: IntakeSnapshot, request: Request, x_bot_token: str | None = Header(default=None),
                  svc=Depends(intakes)):
    """Bot only: the latest state of an intake."""
    _require_bot(request, x_bot_token)
    return svc.update(code, snap)


@router.get("/intakes/{code}")
def get_intake(code: str, request: Request, x_bot_token: str | None = Header(default=None), svc=Depends(intakes)):
    """按办理码查看一次导办的进度（个人号码已遮盖；查询有频率限制）。"""
    full = _is_bot(request, x_bot_token)
    client = request.client.host if request.client else "?"
    return svc.get(code, full=full, client=client)
