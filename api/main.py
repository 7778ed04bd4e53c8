"""Application factory.  Nothing heavy happens at import time: the catalog, the
rules engine, the FAQ index and the database are opened in the lifespan."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import exceptions
from knowledge_base.settings import Settings, get_settings


def _attach_activity_matcher(app: FastAPI, settings: Settings) -> None:
    """Recognise trades beyond the synonym list (knowledge_base/intake/matcher.py) with the
    FAQ's own embedding model, built in the background: describe answers meanwhile, and a
    trade it cannot read stays unknown (never 准入即准营).  Off with the fake test embedder."""
    if settings.embedder == "fake" or not settings.intake_semantic:
        return
    import logging
    import threading

    def build():
        from knowledge_base.intake.matcher import ActivityMatcher

        try:
            faq = app.state.faq
            embedder = faq.get_embedder() if hasattr(faq, "get_embedder") else faq._get_embedder()
            matcher = ActivityMatcher.build(app.state.intake.catalog, embedder, settings.var_dir / "intake")
            app.state.intake.attach_matcher(matcher)
        except Exception:  # the intake works without it: unknown words stay unknown
            logging.getLogger("daoban.intake").exception("activity matcher not available")

    threading.Thread(target=build, name="activity-matcher", daemon=True).start()


def create_app(settings: Settings | None = None, *, faq_service=None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from api.applications.service import ApplicationService
        from api.catalog.service import CatalogService
        from api.chat.service import IntakeSessions, RasaRelay, RateLimiter
        from api.db import make_engine
        from api.documents.service import DocumentService
        from api.migrations import upgrade as migrate
        from api.intake.service import IntakeService

        catalog = CatalogService.load(settings.data_dir)
        db = make_engine(settings.sqlalchemy_url)
        migrate(db)  # alembic: every table upgraded in place to the latest schema (api/migrations)
        app.state.settings = settings
        app.state.db = db
        app.state.catalog = catalog
        app.state.intake = IntakeService(catalog.catalog, engine=db)
        app.state.applications = ApplicationService.from_settings(db, app.state.intake, settings)
        app.state.documents = DocumentService(catalog.catalog, settings)
        app.state.chat_relay = RasaRelay(settings.chat_rasa_url_list, timeout=settings.chat_timeout_s)
        app.state.chat_rate = RateLimiter(settings.chat_rate_per_minute)
        app.state.intakes = IntakeSessions(db, ttl_hours=settings.chat_intake_ttl_hours,
                                           lookups_per_minute=settings.chat_code_lookups_per_minute)
        if faq_service is not None:
            app.state.faq = faq_service
        else:
            from api.faq.service import FaqService, intake_scope_judge

            app.state.faq = FaqService.from_settings(settings, catalog.catalog, engine=db,
                                                     scope_judge=intake_scope_judge(app.state.intake))
        from api.faq.querylog import mask_access_log

        mask_access_log()  # personal numbers in logged query strings (FAQ questions) masked
        _attach_activity_matcher(app, settings)
        try:
            yield
        finally:
            app.state.intake.close()
            app.state.faq.close()
            await app.state.chat_relay.aclose()
            app.state.applications.close()
            db.dispose()

    app = FastAPI(
        title="daoban 一照通行 智能导办",
        version="0.1.0",
        description="Permit catalog, rules engine, FAQ search and applications for 5 regions.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    exceptions.install(app)
    from api.middleware import install as install_hardening  # limits, headers, request ids, logs, /metrics

    install_hardening(app, settings)

    from api.applications.views import router as applications_router
    from api.catalog.views import router as catalog_router
    from api.chat.views import router as chat_router
    from api.departments.views import pages as office_pages
    from api.departments.views import router as departments_router
    from api.documents.views import pages as document_pages
    from api.documents.views import router as documents_router
    from api.applications.views import pages as application_pages
    from api.faq.views import pages as faq_pages
    from api.faq.views import router as faq_router
    from api.intake.views import router as intake_router
    from api.web.views import pages as web_pages

    # no route reads an unbounded body: a streamed one is stopped at FastAPI's max_body_size (a
    # declared Content-Length over the same cap is answered earlier, by api/middleware/core.py)
    from api.middleware.core import body_cap

    for router in (catalog_router, intake_router, faq_router, applications_router, chat_router, departments_router,
                   documents_router):
        app.include_router(router, prefix="/api/v1", max_body_size=body_cap(settings, "/api/v1" + router.prefix))
    for router in (faq_pages, web_pages, application_pages, office_pages, document_pages):  # /apply, /track, /qr, /office
        app.include_router(router, max_body_size=body_cap(settings, router.prefix))
    from pathlib import Path

    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
