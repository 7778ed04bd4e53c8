"""Hardening (issue 10): one middleware for request ids, logs, limits, credentials before
the body, security headers and metrics; ``/metrics``; complete OpenAPI responses.
``install(app, settings)`` is called once by ``api.main.create_app``."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api.middleware.limits import INTERNAL, Limiter, Trusted, client_address


def install(app: FastAPI, settings) -> None:
    from api.middleware import metrics
    from api.middleware.core import HardeningMiddleware
    from knowledge_base import logs

    logs.configure("api", fmt=settings.log_format)
    app.add_middleware(HardeningMiddleware, settings=settings, fastapi_app=app)
    trusted = Trusted(settings.trusted_proxy_list)

    if settings.metrics_enabled:
        @app.get("/metrics", include_in_schema=False)
        def prometheus_metrics(request: Request):
            """Prometheus text format; only for callers on this machine (not through nginx)."""
            peer = request.scope.get("client") or (None, 0)
            if client_address(peer[0], request.headers.get("x-forwarded-for"), trusted) != INTERNAL:
                return Response(status_code=404)
            body, ctype = metrics.render()
            return Response(body, media_type=ctype, headers={"Cache-Control": "no-store"})

    from api.middleware import openapi

    def regions() -> list[str]:
        cat = getattr(getattr(app.state, "catalog", None), "catalog", None)
        codes = sorted(getattr(cat, "regions", {}) or {})
        return codes or sorted(p.stem for p in (settings.data_dir / "catalog" / "regions").glob("*.yaml"))

    openapi.install(app, regions)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with inner(a) as state:
            metrics.instrument(a.state)
            a.state.limiter = Limiter.from_settings(settings)
            try:
                yield state
            finally:
                await a.state.limiter.aclose()

    app.router.lifespan_context = lifespan
