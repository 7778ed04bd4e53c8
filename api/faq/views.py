"""FAQ routes: public search, token-protected maintainer endpoints, hotline page."""
from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.deps import faq_service, settings as settings_dep
from api.exceptions import Unauthorized
from api.faq.models import FaqEntryCreate, FaqEntryOut, FaqEntryPatch, FaqSearchResponse, ParaphraseIn

router = APIRouter(prefix="/faq", tags=["faq"])
pages = APIRouter(tags=["pages"])

_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(["html"]))


@router.get("/search", response_model=FaqSearchResponse, summary="Search the FAQ knowledge base")
def search(
    q: str = Query(..., min_length=1, max_length=2000, description="the question, any wording"),
    k: int = Query(5, ge=1, le=20, description="number of hits"),
    region: str | None = Query(None, description="region code (zhongshan, yangjiang, suixian, jinzhong, tongxin)"),
    svc=Depends(faq_service),
):
    """`answered: false` means nothing in the base answers the question well enough:
    the hits are then only suggestions and the first one must not be shown as the answer.
    `clarify` (or null): two permits the question's name fits equally; both are in the hits.
    Each hit's `answer` opens with `direct`; `short` (≤ 140 characters) is for reading out or SMS."""
    return svc.search(q, k=k, region=region)


# ---------------------------------------------------------------- maintainers


def require_maintainer(request: Request, x_maintainer_token: str | None = Header(None)):
    settings = settings_dep(request)
    expected = settings.maintainer_token or ""
    if not expected:
        raise Unauthorized("维护接口未开启：请先设置环境变量 DAOBAN_MAINTAINER_TOKEN。",
                           "Maintainer endpoints are closed: set DAOBAN_MAINTAINER_TOKEN.")
    if not x_maintainer_token or not expected or not hmac.compare_digest(x_maintainer_token, expected):
        raise Unauthorized("需要维护人员令牌（请求头 X-Maintainer-Token）。", "Maintainer token required.")
    return True


admin = APIRouter(prefix="/admin", dependencies=[Depends(require_maintainer)])


@admin.get("/status")
def status(svc=Depends(faq_service)):
    return svc.status()


@admin.get("/entries", response_model=list[FaqEntryOut])
def list_entries(origin: str | None = None, item_code: str | None = None, topic: str | None = None,
                 q: str | None = None, include_retired: bool = True, svc=Depends(faq_service)):
    """All entries; `overridden_by` shows generated entries replaced by a curated one."""
    return [e.model_dump() for e in svc.list_entries(origin=origin, item_code=item_code, topic=topic, q=q,
                                                     include_retired=include_retired)]


@admin.get("/entries/{entry_id}", response_model=FaqEntryOut)
def get_entry(entry_id: str, svc=Depends(faq_service)):
    return svc.get_entry(entry_id).model_dump()


@admin.post("/entries", response_model=FaqEntryOut, status_code=201)
def create_entry(body: FaqEntryCreate, svc=Depends(faq_service)):
    return svc.create_entry(body.model_dump()).model_dump()


@admin.patch("/entries/{entry_id}", response_model=FaqEntryOut)
@admin.put("/entries/{entry_id}", response_model=FaqEntryOut)
def update_entry(entry_id: str, body: FaqEntryPatch, svc=Depends(faq_service)):
    return svc.update_entry(entry_id, body.model_dump(exclude_unset=True)).model_dump()


@admin.delete("/entries/{entry_id}", response_model=FaqEntryOut)
def retire_entry(entry_id: str, svc=Depends(faq_service)):
    """Retire (never delete): the entry leaves the index, stays listed."""
    return svc.set_retired(entry_id, True).model_dump()


@admin.post("/entries/{entry_id}/restore", response_model=FaqEntryOut)
def restore_entry(entry_id: str, svc=Depends(faq_service)):
    return svc.set_retired(entry_id, False).model_dump()


@admin.post("/entries/{entry_id}/paraphrases", response_model=FaqEntryOut, status_code=201)
def add_paraphrase(entry_id: str, body: ParaphraseIn, svc=Depends(faq_service)):
    return svc.add_paraphrase(entry_id, body.text).model_dump()


@admin.post("/entries/{entry_id}/paraphrases/remove", response_model=FaqEntryOut)
def remove_paraphrase(entry_id: str, body: ParaphraseIn, svc=Depends(faq_service)):
    return svc.remove_paraphrase(entry_id, body.text).model_dump()


@admin.get("/queries")
def queries(kind: str = Query("recent", pattern="^(recent|unanswered|low_score|most_asked)$"),
            limit: int = Query(50, ge=1, le=1000), svc=Depends(faq_service)):
    """Query log: recent, unanswered, low_score (answered just above the gate), most_asked."""
    return {"kind": kind, "rows": svc.query_log(kind, limit)}


@admin.post("/rebuild", status_code=202)
def rebuild(wait: bool = False, svc=Depends(faq_service)):
    """Rebuild the index (only changed wordings are re-embedded); the live index keeps
    answering until the new one is swapped in."""
    return svc.rebuild(wait=wait)


router.include_router(admin)


# ---------------------------------------------------------------- hotline page


@pages.get("/hotline", response_class=HTMLResponse, include_in_schema=False)
def hotline(request: Request):
    settings = getattr(request.app.state, "settings", None)
    regions = []
    catalog = getattr(request.app.state, "catalog", None)
    cat = getattr(catalog, "catalog", catalog)
    for code, reg in sorted((getattr(cat, "regions", {}) or {}).items()):
        regions.append({"code": code, "name": reg.name})
    html = _env.get_template("hotline.html").render(api="/api/v1", regions=regions,
                                                    max_chars=getattr(settings, "max_text_chars", 2000))
    return HTMLResponse(html)


@pages.get("/maintainer", response_class=HTMLResponse, include_in_schema=False)
def maintainer_page():
    """The FAQ maintainers' page (the token is typed in the page; every call sends it)."""
    return HTMLResponse(_env.get_template("maintainer.html").render(api="/api/v1"))
