"""Department sign-in and inbox (API) and the department page ``/office``.
Status changes are ``POST /api/v1/applications/{id}/items/{code}/transition``."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from api.applications import access
from api.applications.access import Principal
from api.applications.models import Login
from api.applications.views import principal
from api.deps import application_service
from api.exceptions import Unauthorized

router = APIRouter(prefix="/departments", tags=["departments"])
pages = APIRouter(include_in_schema=False)
env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=select_autoescape(["html"]))


@router.post("/login")
def login(req: Login, svc=Depends(application_service)):
    """部门登录：用本部门的账号密码换会话令牌(请求头 Authorization: Bearer …)。"""
    svc.check_guard("department", req.username)
    acc = svc.accounts.authenticate(req.username, req.password) if svc.accounts else None
    if acc is None:
        svc.guard.failed("department", req.username)
        raise Unauthorized("账号或密码不对。", "Sign-in failed.")
    svc.guard.succeeded("department", req.username)
    hours = svc.settings.department_session_hours
    with Session(svc.engine) as s, s.begin():
        token = access.issue(s, "department", subject=acc.username, hours=hours)
    return {"token": token, "expires_in_s": hours * 3600, "department": acc.public()}


@router.post("/logout")
def logout(p: Principal = Depends(principal), svc=Depends(application_service)):
    if p.kind == "department" and p.token:
        with Session(svc.engine) as s, s.begin():
            access.revoke(s, p.token)
    return {"ok": True}


@router.get("/me")
def me(p: Principal = Depends(principal)):
    if p.kind != "department":
        raise Unauthorized("请先用部门账号登录。", "Department sign-in required.")
    return {"username": p.subject, "region": p.region, "department_key": p.department_key, "department": p.department}


@router.get("/inbox")
def inbox(status: str | None = Query(default=None, pattern="^(pending|accepted|correction|approved|rejected)$"),
          p: Principal = Depends(principal), svc=Depends(application_service)):
    """本部门的分办件：只含本部门的事项。"""
    if p.kind != "department":
        raise Unauthorized("请先用部门账号登录。", "Department sign-in required.")
    return {"department": p.department, "applications": svc.inbox(p, status)}


@pages.get("/office", response_class=HTMLResponse)
def office_page():
    html = env.get_template("office.html").render(title="部门审批工作台")
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
