from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from api.applications.models import ApplicationCreate
from api.exceptions import InvalidInput
from api.deps import application_service

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", status_code=201)
def create(req: ApplicationCreate, response: Response, idempotency_key: str | None = Header(default=None, max_length=64), svc=Depends(application_service)):
    """提交申请：保存需办事项和合并后的一张表，按部门拆分(一键分办)。重试时带同一个 Idempotency-Key 不会重复提交。"""
    if idempotency_key and not req.idempotency_key:
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", idempotency_key):
            raise InvalidInput("Idempotency-Key 只能包含字母、数字和 _.:-，最长64位。", "Invalid Idempotency-Key header.")
        req = req.model_copy(update={"idempotency_key": idempotency_key})
    app, created = svc.create(req)
    if not created:
        response.status_code = 200
    return app


@router.get("/{app_id}")
def get(app_id: str = Path(max_length=64), svc=Depends(application_service)):
    return svc.get(app_id)


@router.get("/{app_id}/qr.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def qr(request: Request, app_id: str = Path(max_length=64), svc=Depends(application_service)):
    """申请回执二维码：扫码查看办理进度(指向本申请的查询地址)。"""
    import io

    import segno

    svc.get(app_id)  # 404 for an unknown id
    url = f"{str(request.base_url).rstrip('/')}/api/v1/applications/{app_id}"
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=4)
    return Response(buf.getvalue(), media_type="image/svg+xml")
