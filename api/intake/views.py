from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import intake_service
from api.intake.models import DescribeRequest, FormRequest, IntakeResponse, ResolveRequest

router = APIRouter(prefix="/intake", tags=["intake"])


@router.post("/describe", response_model=IntakeResponse)
def describe(req: DescribeRequest, svc=Depends(intake_service)):
    """自由文本 → 经营情况 → 需办事项 + 还需确认的问题。"""
    return svc.describe(req.text, req.region, req.profile)


@router.post("/resolve", response_model=IntakeResponse)
def resolve(req: ResolveRequest, svc=Depends(intake_service)):
    return svc.resolve(req.profile)


@router.post("/form")
def form(req: FormRequest, svc=Depends(intake_service)):
    return svc.form(req.profile, req.values)
