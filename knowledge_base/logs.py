"""Structured logs for every daoban process (API replicas, action servers): one JSON
object per line, the request id of the request being served, and personal numbers
masked (knowledge_base/privacy.py) in the message, the extra fields and tracebacks.

The request id travels: client or nginx ``X-Request-ID`` → API (``request_id_var``) →
the chat relay puts it into the Rasa message metadata → the action server sets it for
the action's run (actions/__init__.py) → the actions' API calls send it back as
``X-Request-ID``; every log line on the way carries it.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar

from knowledge_base.privacy import mask_text

request_id_var: ContextVar[str | None] = ContextVar("daoban_request_id", default=None)
REQUEST_ID_HEADER = "X-Request-ID"
_RID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


def clean_request_id(value: str | None) -> str | None:
    """A caller's id if it looks like one (no spaces, quotes or newlines: it goes into logs)."""
    return value if value and _RID.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


def _masked(value):
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str = "api"):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self.service,
            "pid": record.process,
            "msg": mask_text(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STD and key not in out and not key.startswith("_"):
                out[key] = _masked(value)
        if record.exc_info:
            out["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class MaskingFormatter(logging.Formatter):
    """Plain text (DAOBAN_LOG_FORMAT=text) with the same masking and request id."""

    def format(self, record: logging.LogRecord) -> str:
        rid = request_id_var.get()
        line = super().format(record)
        return mask_text(f"{line} [rid={rid}]" if rid else line)


_configured: set[str] = set()


def configure(service: str = "api", *, fmt: str | None = None, level: str | None = None) -> None:
    """Root handler on stderr with the JSON (or masked text) formatter; uvicorn's own
    loggers reformatted the same way (run uvicorn with ``--no-access-log``: the API
    middleware writes its own access line with the route template and the request id).  Idempotent."""
    fmt = (fmt or os.environ.get("DAOBAN_LOG_FORMAT") or "json").lower()
    formatter: logging.Formatter = JsonFormatter(service) if fmt == "json" else MaskingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    if service not in _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(f"daoban-{service}")
        root.addHandler(handler)
        _configured.add(service)
    for h in root.handlers:
        if h.get_name() == f"daoban-{service}":
            h.setFormatter(formatter)
    root.setLevel(level or os.environ.get("DAOBAN_LOG_LEVEL") or "INFO")
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sanic.root", "sanic.error", "sanic.access",
                 "rasa_sdk"):
        lg = logging.getLogger(name)
        for h in lg.handlers:
            h.setFormatter(formatter)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO line logs each URL with the query


def install_action_server() -> None:
    """In the rasa-sdk action server (``python -m rasa_sdk --actions actions``): each action
    runs with the request id the API's relay put into the message metadata, its log lines
    are JSON and masked, and the actions' API calls send the id back (actions/client.py).
    A no-op anywhere else (tests import the actions package too).  Idempotent."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if getattr(spec, "name", "") in ("rasa_sdk.__main__", "rasa_sdk"):
        os.environ["DAOBAN_ACTION_SERVER"] = "1"  # Sanic's workers are spawned processes: they inherit this
    elif os.environ.get("DAOBAN_ACTION_SERVER") != "1":
        return
    from rasa_sdk.executor import ActionExecutor

    if getattr(ActionExecutor.run, "_daoban_rid", False):
        return
    original = ActionExecutor.run

    async def run(self, action_call, *args, **kwargs):
        meta = ((action_call or {}).get("tracker") or {}).get("latest_message") or {}
        meta = meta.get("metadata") if isinstance(meta, dict) else None
        rid = clean_request_id(meta.get("request_id")) if isinstance(meta, dict) else None
        token = request_id_var.set(rid or new_request_id())
        try:
            return await original(self, action_call, *args, **kwargs)
        finally:
            request_id_var.reset(token)

    run._daoban_rid = True
    ActionExecutor.run = run
    fmt = (os.environ.get("DAOBAN_LOG_FORMAT") or "json").lower()
    formatter = JsonFormatter("actions") if fmt == "json" else MaskingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s")
    for h in logging.getLogger().handlers:  # rasa-sdk's own (coloured) handler: same lines, JSON and masked
        h.setFormatter(formatter)
    if not logging.getLogger().handlers:
        configure("actions", fmt=fmt)


async def add_request_id_header(request) -> None:
    """httpx request hook for clients that call the API on behalf of a request."""
    rid = request_id_var.get()
    if rid and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = rid
