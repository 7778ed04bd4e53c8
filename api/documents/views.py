"""Documents as HTML or PDF: ``/api/v1/applications/{id}/documents/{name}`` (the reader's
credentials decide the view) and ``/track/{token}/documents/{name}`` (the tracking link:
masked)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path as PathParam, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.applications.access import Principal
from api.applications.views import principal
from api.deps import application_service

router = APIRouter(prefix="/applications", tags=["documents"])
pages = APIRouter(include_in_schema=False)
FMT = Query(default="html", pattern="^(html|pdf)$", description="html 可打印网页；pdf")


def _docs(request: Request):
    return request.app.state.documents


def _send(docs, name: str, view: dict, fmt: str, track_url: str | None) -> Response:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if fmt == "pdf":
        pdf = docs.render_pdf(name, view, track_url=track_url)
        headers["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return Response(pdf, media_type="application/pdf", headers=headers)
    return HTMLResponse(docs.render_html(name, view, track_url=track_url), headers=headers)


@router.get("/{app_id:appid}/documents/{name}")
def document(app_id: str = PathParam(max_length=64), name: str = PathParam(max_length=100), format: str = FMT,
             p: Principal = Depends(principal), svc=Depends(application_service), docs=Depends(_docs)):
    """文书：application 一表申请书、receipt 回执、rongque 容缺清单、commitment-<事项代码> 告知承诺书。"""
    view = svc.get(app_id, p)
    track_url = view.get("track_url") or (svc.url(f"/track/{p.token}") if p.kind == "track" else None)
    return _send(docs, name, view, format, track_url)


@pages.get("/track/{token}/documents/{name}")
def track_document(token: str = PathParam(max_length=200), name: str = PathParam(max_length=100), format: str = FMT,
                   svc=Depends(application_service), docs=Depends(_docs)):
    view = svc.by_track_token(token)
    return _send(docs, name, view, format, svc.url(f"/track/{token}"))
