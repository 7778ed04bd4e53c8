from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from api.deps import catalog_service

router = APIRouter(tags=["catalog"])


@router.get("/health")
def health(request: Request):
    state = request.app.state
    faq = getattr(state, "faq", None)
    return {
        "status": "ok",
        "items": len(state.catalog.catalog.items),
        "regions": len(state.catalog.catalog.regions),
        "faq": faq.status() if faq is not None and hasattr(faq, "status") else None,
    }


@router.get("/regions")
def regions(svc=Depends(catalog_service)):
    return {"regions": svc.regions()}


@router.get("/items")
def items(region: str | None = Query(default=None, max_length=40), svc=Depends(catalog_service)):
    return {"region": region, "items": svc.items(region)}


@router.get("/items/{code}")
def item(code: str, region: str | None = Query(default=None, max_length=40), svc=Depends(catalog_service)):
    return svc.item(code, region)
