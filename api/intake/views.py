from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import intake_service
from api.faq.views import require_maintainer
from api.intake.models import DescribeRequest, FormRequest, IntakeResponse, ResolveRequest

router = APIRouter(prefix="/intake", tags=["intake"])


@router.post("/describe", response_model=IntakeResponse)
def describe(req: DescribeRequest, svc=Depends(intake_service)):
    """自由文本 → 经营情况 → 需办事项 + 还需确认的问题。``bundle.coverage`` 说明结果可信到什么程度：
    known(都已收录)、partial(有事项须到窗口确认，见 to_confirm)、unknown(有行业未收录，见 unrecognized，转人工)。"""
    return svc.describe(req.text, req.region, req.profile)


@router.post("/resolve", response_model=IntakeResponse)
def resolve(req: ResolveRequest, svc=Depends(intake_service)):
    """已知经营情况(profile) → 需办事项 + 还需确认的问题(不解析文字)。"""
    return svc.resolve(req.profile)


@router.post("/form")
def form(req: FormRequest, svc=Depends(intake_service)):
    return svc.form(req.profile, req.values)


@router.get("/admin/unknown-trades", dependencies=[Depends(require_maintainer)])
def unknown_trades(limit: int = Query(default=100, ge=1, le=500), svc=Depends(intake_service)):
    """未收录的行业(申请人说了、但目录里没有的经营项目)，按被问次数排序：维护人员据此补充目录。"""
    return {"trades": svc.unknown_trades(limit)}
