"""Prometheus metrics (prometheus-client, the process's default registry).  Each API
replica serves its own ``/metrics``; Prometheus scrapes the replicas directly (nginx does
not expose ``/metrics``).

Request counts and latency per route template come from the middleware; the domain
counters (FAQ answered/refused, bundles resolved, bot turns) from thin wrappers put around
the services once the lifespan has built them (``instrument``), so no router changes."""
from __future__ import annotations

import functools
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("daoban_http_requests_total", "HTTP requests by route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("daoban_http_request_duration_seconds", "HTTP request latency by route template",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
ERRORS = Counter("daoban_http_errors_total", "HTTP answers with status >= 400 (class 4xx/5xx)",
                 ["route", "status_class"])
UNHANDLED = Counter("daoban_unhandled_exceptions_total", "exceptions that reached the middleware", ["route"])
RATE_LIMITED = Counter("daoban_rate_limited_total", "requests answered 429 by the limits", ["rule"])
AUTH_FAILURES = Counter("daoban_auth_failures_total", "failed credentials (maintainer token, department sign-in)",
                        ["kind"])
FAQ = Counter("daoban_faq_searches_total", "FAQ searches by outcome (answered or refused)", ["outcome"])
BUNDLES = Counter("daoban_bundles_resolved_total", "bundles returned by describe/resolve",
                  ["endpoint", "coverage", "final"])
BOT_TURNS = Counter("daoban_bot_turns_total", "chat turns relayed to Rasa by outcome", ["outcome"])
BOT_TURN_SECONDS = Histogram("daoban_bot_turn_seconds", "one relayed chat turn (Rasa and the actions)",
                             buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


def _wrap_bundle(fn, endpoint: str):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        bundle = out.get("bundle") if isinstance(out, dict) else None
        if isinstance(bundle, dict):
            BUNDLES.labels(endpoint, str(bundle.get("coverage") or "unknown"),
                           "true" if bundle.get("final") else "false").inc()
        return out

    wrapper._daoban_metrics = True
    return wrapper


def _wrap_faq(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, dict):
            FAQ.labels("answered" if out.get("answered") else "refused").inc()
        return out

    wrapper._daoban_metrics = True
    return wrapper


def _wrap_relay(fn):
    from knowledge_base.logs import current_request_id

    @functools.wraps(fn)
    async def wrapper(sender, message, metadata=None):
        rid = current_request_id()
        if rid:  # the actions log it and send it back on their API calls (X-Request-ID)
            metadata = {**(metadata or {}), "request_id": rid}
        t0 = time.perf_counter()
        try:
            out = await fn(sender, message, metadata)
        except Exception as exc:
            BOT_TURNS.labels(getattr(exc, "code", type(exc).__name__)).inc()
            raise
        BOT_TURN_SECONDS.observe(time.perf_counter() - t0)
        BOT_TURNS.labels("ok").inc()
        return out

    wrapper._daoban_metrics = True
    return wrapper


def instrument(state) -> None:
    """Wrap the services the lifespan put on ``app.state`` (idempotent)."""
    intake = getattr(state, "intake", None)
    for name in ("describe", "resolve"):
        fn = getattr(intake, name, None)
        if fn is not None and not getattr(fn, "_daoban_metrics", False):
            setattr(intake, name, _wrap_bundle(fn, name))
    faq = getattr(state, "faq", None)
    fn = getattr(faq, "search", None)
    if fn is not None and not getattr(fn, "_daoban_metrics", False):
        try:
            setattr(faq, "search", _wrap_faq(fn))
        except AttributeError:  # a test double without instance attributes
            pass
    relay = getattr(state, "chat_relay", None)
    fn = getattr(relay, "send", None)
    if fn is not None and not getattr(fn, "_daoban_metrics", False):
        setattr(relay, "send", _wrap_relay(fn))
