"""Pages for people: the applicant chat widget and the 12345 console's intake page, both
talking to the bot only through the API's relay (POST /api/v1/chat/webhook)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

pages = APIRouter(tags=["pages"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@pages.get("/")
def index():
    return RedirectResponse("/chat")


def _code(request: Request) -> str:
    from api.chat.service import normalise_code

    return normalise_code(request.query_params.get("code") or "") or ""


@pages.get("/chat", response_class=HTMLResponse)
def chat(request: Request):
    settings = request.app.state.settings
    return templates.TemplateResponse(request, "chat.html", {"max_chars": settings.chat_max_message_chars, "code": _code(request)})


@pages.get("/hotline/intake", response_class=HTMLResponse)
def hotline_intake(request: Request):
    """12345 console: open an intake by its code, see what is known (masked), continue it."""
    settings = request.app.state.settings
    return templates.TemplateResponse(request, "hotline_intake.html",
                                      {"max_chars": settings.chat_max_message_chars, "code": _code(request)})
