"""Pages for people: the applicant chat widget (talks to Rasa's REST channel)."""
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


@pages.get("/chat", response_class=HTMLResponse)
def chat(request: Request):
    settings = request.app.state.settings
    return templates.TemplateResponse(request, "chat.html", {"rasa_url": settings.rasa_url})
