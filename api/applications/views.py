"""Applications API and the applicant's pages (apply, track, 一码展示).

Who may do what (the authorization matrix in tests/test_office_authz.py checks every cell):
- anyone: submit (``POST /applications``), create a draft, open a draft link, the public QR page;
- the applicant (own token or identity sign-in): read everything of their application unmasked;
- the tracking link: the same, personal numbers masked; supply materials after 需补正;
- a department (its session): its own items only, minimised and masked; change their status."""
from __future__ import annotations

import io
import re
from pathlib import Path

from fastapi import APIRouter, Depends, Header, Path as PathParam, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.convertors import Convertor, register_url_convertor

from api.applications.access import Principal, bearer
from api.applications.models import ApplicationCreate, DraftCreate, DraftSubmit, SignIn, Transition
from api.deps import application_service
from api.exceptions import DaobanError, InvalidInput, NotFound

class _AppId(Convertor):
    """An application id in a path: any segment except ``drafts`` (so /applications/drafts
    is only the drafts route, and its 405 answers ``Allow: POST``)."""

    regex = "(?!drafts(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value) -> str:
        return str(value)


register_url_convertor("appid", _AppId())
router = APIRouter(prefix="/applications", tags=["applications"])
pages = APIRouter(tags=["pages"], include_in_schema=False)
env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=select_autoescape(["html"]))
KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def principal(request: Request, authorization: str | None = Header(default=None, include_in_schema=False),
              svc=Depends(application_service)) -> Principal:
    return svc.principal(bearer(authorization))


def _key(value: str | None) -> str | None:
    if value and not KEY.fullmatch(value):
        raise InvalidInput("Idempotency-Key 只能包含字母、数字和 _.:-，最长64位。", "Invalid Idempotency-Key header.")
    return value


def qr_svg(url: str) -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=4, xmldecl=False)
    return buf.getvalue()


# ---------------------------------------------------------------- API
@router.post("", status_code=201)
def create(req: ApplicationCreate, idempotency_key: str | None = Header(default=None, max_length=64),
           svc=Depends(application_service)):
    """提交申请：保存需办事项和合并后的一张表，按部门拆分(一键分办)。返回申请人自己的 `token`(读取申请用，请妥善保存)
    和查询链接 `track_url`。重试时带同一个 Idempotency-Key 且内容相同，返回同一份申请；内容不同则 409。"""
    if idempotency_key and not req.idempotency_key:
        req = req.model_copy(update={"idempotency_key": _key(idempotency_key)})
    app, created = svc.create(req)
    return JSONResponse(app, status_code=201 if created else 200)


@router.post("/drafts", status_code=201)
def create_draft(req: DraftCreate, svc=Depends(application_service)):
    """导办对话给出合并表单时调用：保存草稿，返回申请页链接 `apply_url`(含不可猜测的 token)。"""
    return JSONResponse(svc.create_draft(req), status_code=201)


@router.get("/drafts/{token}")
def draft(token: str = PathParam(max_length=200), uscc: str | None = Query(default=None, max_length=40),
          p: Principal = Depends(principal), svc=Depends(application_service)):
    """申请页的数据：合并表单(每个字段注明来源、是否已核验)、告知承诺可选事项、容缺清单。实名登录后才带入身份和证照信息。"""
    return JSONResponse(svc.draft_view(token, p, uscc))


@router.post("/drafts/{token}/signin")
def draft_signin(req: SignIn, token: str = PathParam(max_length=200), svc=Depends(application_service)):
    """实名登录(演示身份认证)：返回本次申请用的会话令牌(请求头 Authorization: Bearer …)。"""
    return svc.draft_signin(token, req.id_number, req.password)


@router.post("/drafts/{token}/submit", status_code=201)
def draft_submit(req: DraftSubmit, token: str = PathParam(max_length=200),
                 idempotency_key: str | None = Header(default=None, max_length=64),
                 p: Principal = Depends(principal), svc=Depends(application_service)):
    app, created = svc.draft_submit(token, p, req, _key(idempotency_key))
    return JSONResponse(app, status_code=201 if created else 200)


@router.get("/{app_id:appid}")
def get(app_id: str = PathParam(max_length=64), p: Principal = Depends(principal), svc=Depends(application_service)):
    """读取申请：需要申请人自己的 token、查询链接的 token(身份证号、电话打码)或部门登录(只看本部门事项，打码)。"""
    return JSONResponse(svc.get(app_id, p))  # already plain JSON: skip FastAPI's slow re-encoding of a large payload


@router.get("/{app_id:appid}/qr.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def qr(app_id: str = PathParam(max_length=64), for_: str = Query(default="track", alias="for", pattern="^(track|public)$"),
       p: Principal = Depends(principal), svc=Depends(application_service)):
    """回执二维码：`for=track` 指向申请人的查询链接(只给申请人)，`for=public` 指向一码展示页(不含个人信息)。"""
    view = svc.get(app_id, p)
    if view["role"] not in ("owner", "track"):
        raise NotFound("回执二维码只给申请人。", "Only for the applicant.")
    if for_ == "public":
        url = view["public_url"]
    else:
        url = view.get("track_url") or (svc.url(f"/track/{p.token}") if p.kind == "track" else None)
        if url is None:
            raise InvalidInput("请用申请时返回的 token 获取查询二维码。", "The applicant's own token is needed.")
    return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


async def _entries(request: Request) -> list[dict]:
    """Supplied materials from a multipart form (``file:<key>`` / ``confirm:<key>`` / ``note:<key>``)
    or JSON ``{"materials": [{"key", "note"?}]}`` (confirmations)."""
    ctype = request.headers.get("content-type", "")
    entries: dict[str, dict] = {}
    if ctype.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("请求内容不是有效的 JSON。", "Invalid JSON.") from None
        for m in (body or {}).get("materials", []) if isinstance(body, dict) else []:
            if isinstance(m, dict) and isinstance(m.get("key"), str):
                entries[m["key"][:80]] = {"key": m["key"][:80], "kind": "confirm", "note": str(m.get("note") or "")[:500]}
        return list(entries.values())
    form = await request.form()
    for name, value in form.multi_items():
        kind, _, key = name.partition(":")
        key = key[:80]
        if kind == "file" and hasattr(value, "read"):
            content = await value.read()
            if content:
                entries[key] = {**entries.get(key, {}), "key": key, "kind": "upload", "filename": value.filename,
                                "content_type": value.content_type, "content": content}
        elif kind == "confirm" and value:
            entries.setdefault(key, {"key": key, "kind": "confirm"})
        elif kind == "note" and isinstance(value, str) and value.strip():
            entries.setdefault(key, {"key": key, "kind": "confirm"})["note"] = value[:500]
    return list(entries.values())


@router.post("/{app_id:appid}/items/{code}/supplements")
async def supply(request: Request, app_id: str = PathParam(max_length=64), code: str = PathParam(max_length=80),
                 idempotency_key: str | None = Header(default=None, max_length=64),
                 p: Principal = Depends(principal), svc=Depends(application_service)):
    """补正：只交部门要求补正的材料，一次交齐(上传文件 `file:<材料代码>`，或确认已交纸质件 `confirm:<材料代码>`)。"""
    return svc.supply(app_id, code, p, await _entries(request), _key(idempotency_key))


@router.get("/{app_id:appid}/supplements/{sid}")
def supplement_file(app_id: str = PathParam(max_length=64), sid: int = PathParam(ge=1, le=2**31),
                    p: Principal = Depends(principal), svc=Depends(application_service)):
    sup = svc.supplement_file(app_id, sid, p)
    return Response(sup.content or b"", media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename=\"material-{sup.id}\"", "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "no-store"})


@router.post("/{app_id:appid}/items/{code}/transition")
def transition(t: Transition, app_id: str = PathParam(max_length=64), code: str = PathParam(max_length=80),
               idempotency_key: str | None = Header(default=None, max_length=64),
               p: Principal = Depends(principal), svc=Depends(application_service)):
    """部门办理：accepted 已受理 / correction 需补正(`missing` 一次列全缺少的材料) / approved 准予 / rejected 不予(须写理由)。
    带 Idempotency-Key 重试不会重复记录；`expected` 为办理人看到的状态，不符时 409。"""
    return svc.transition(app_id, code, p, t, _key(idempotency_key))


# ---------------------------------------------------------------- pages
def _page(name: str, status: int = 200, **ctx) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**ctx), status_code=status,
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@pages.get("/apply/{token}", response_class=HTMLResponse)
def apply_page(token: str = PathParam(max_length=200), svc=Depends(application_service)):
    try:
        svc.draft_view(token, Principal())
    except DaobanError as exc:
        return _page("message.html", 404, title="链接无效", message=exc.message)
    return _page("apply.html", title="一表申请")


@pages.get("/track/{token}", response_class=HTMLResponse)
def track_page(token: str = PathParam(max_length=200), svc=Depends(application_service)):
    try:
        view = svc.by_track_token(token)
    except DaobanError as exc:
        return _page("message.html", 404, title="链接无效", message=exc.message)
    return _page("track.html", title="办理进度", app=view, token=token)


@pages.post("/track/{token}/items/{code}/supplements", response_class=HTMLResponse)
async def track_supply(request: Request, token: str = PathParam(max_length=200), code: str = PathParam(max_length=80),
                       svc=Depends(application_service)):
    p = svc.principal(token)
    if p.kind != "track":
        return _page("message.html", 404, title="链接无效", message="这个查询链接无效或已失效。")
    try:
        svc.supply(p.application_id, code, p, await _entries(request))
    except DaobanError as exc:
        view = svc.by_track_token(token)
        return _page("track.html", exc.status_code, title="办理进度", app=view, token=token, error=exc.message, error_item=code)
    return RedirectResponse(f"/track/{token}#item-{code}", status_code=303)


@pages.get("/qr/{code}.svg", response_class=Response)
def public_qr_svg(code: str = PathParam(max_length=43), svc=Depends(application_service)):
    data = svc.public(code)
    return Response(qr_svg(data["url"]), media_type="image/svg+xml")


@pages.get("/qr/{code}", response_class=HTMLResponse)
def public_page(code: str = PathParam(max_length=43), svc=Depends(application_service)):
    try:
        data = svc.public(code)
    except DaobanError as exc:
        return _page("message.html", 404, title="一码展示", message=exc.message)
    return _page("public.html", title="一码展示", biz=data, code=code)
