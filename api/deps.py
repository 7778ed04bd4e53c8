"""FastAPI dependencies: services live on ``app.state`` (built in the lifespan)."""
from __future__ import annotations

from fastapi import Request

from api.exceptions import ServiceUnavailable


def _state(request: Request, name: str):
    service = getattr(request.app.state, name, None)
    if service is None:
        raise ServiceUnavailable("服务正在启动，请稍后再试。", f"Service '{name}' is starting.")
    return service


def catalog_service(request: Request):
    return _state(request, "catalog")


def intake_service(request: Request):
    return _state(request, "intake")


def faq_service(request: Request):
    return _state(request, "faq")


def application_service(request: Request):
    return _state(request, "applications")


def settings(request: Request):
    return _state(request, "settings")
