"""One ASGI middleware in front of every route (cheap: no body buffering except /docs):

* request id: the caller's ``X-Request-ID`` if well-formed, else a new one; set for the
  logs (knowledge_base/logs.py), the chat relay (metadata → actions) and the response;
* the client address behind nginx (see limits.py) written into the scope, so every
  route's ``request.client.host`` is the applicant's, not nginx's;
* limits: per client address on describe, FAQ search and the chat relay; failed
  credentials (maintainer token, department sign-in, bearer/bot tokens) lock the address
  out for a window; all answered ``429`` with ``Retry-After``;
* bounded bodies: a declared ``Content-Length`` over the route's cap (``body_max_bytes``;
  ``upload_body_max_bytes`` under /api/v1/applications) is answered 413 here, in the API's
  error shape, before anything is read; a streamed body is stopped at the same caps by
  FastAPI's ``max_body_size`` (api/main.py);
* credentials before the body: maintainer endpoints check ``X-Maintainer-Token``, intake
  snapshot writes ``X-Bot-Token``, and the department/applicant endpoints that take a body
  check that ``Authorization`` is there, before anything reads the body (malformed JSON
  without a token is 401, not 400);
* security headers on every answer (CSP without inline script on pages, frame-ancestors
  and X-Frame-Options, nosniff, referrer policy); ``Allow`` on every 405, listing the
  methods of every route on that path;
* metrics per route template and one access-log line (route template, not the path:
  paths carry tokens; no query string: it carries questions)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time

from api.exceptions import _body
from api.middleware import metrics
from api.middleware.limits import INTERNAL, Limiter, Rule, Trusted, client_address
from knowledge_base.logs import REQUEST_ID_HEADER, clean_request_id, new_request_id, request_id_var

log = logging.getLogger("daoban.access")

MAINTAINER_PREFIXES = ("/api/v1/faq/admin", "/api/v1/intake/admin")
LOGIN_PATHS = ("/api/v1/departments/login",)
SIGNIN = re.compile(r"^/api/v1/applications/drafts/[^/]+/signin/?$")
# routes that take a body and need Authorization (department or applicant): checked before the body is read
NEEDS_BEARER = re.compile(r"^/api/v1/applications/(?!drafts(?:/|$))[^/]+/items/[^/]+/(?:transition|supplements)/?$")
UPLOAD_PREFIX = "/api/v1/applications"  # supplied materials: several files in one multipart form
BOT_WRITES = "/api/v1/chat/intakes"  # intake snapshots: written by the action server only (X-Bot-Token)
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors {ancestors}")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
DOCS_CDN = "https://cdn.jsdelivr.net"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def body_cap(settings, path: str) -> int:
    """The largest body a path takes: here for a declared Content-Length, and in api/main.py
    as each router's FastAPI ``max_body_size`` (a streamed body)."""
    return settings.upload_body_max_bytes if path.startswith(UPLOAD_PREFIX) else settings.body_max_bytes


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k == name:
            return v.decode("latin-1")
    return None


class HardeningMiddleware:
    def __init__(self, app, *, settings, fastapi_app):
        self.app = app
        self.settings = settings
        self.fastapi_app = fastapi_app  # routes (for Allow), state (limiter)
        self.trusted = Trusted(settings.trusted_proxy_list)
        self.rate_rules = {
            ("POST", "/api/v1/intake/describe"): Rule("describe", settings.rate_describe_per_minute, 60),
            ("GET", "/api/v1/faq/search"): Rule("faq", settings.rate_faq_per_minute, 60),
            ("POST", "/api/v1/chat/webhook"): Rule("chat", settings.rate_chat_per_minute, 60),
        }
        self.auth_rule = Rule("auth", settings.auth_failures_allowed, settings.auth_failure_window_s)
        ancestors = " ".join(["'self'", *settings.chat_origin_list])
        self.page_csp = {
            "chat": PAGE_CSP.format(ancestors=ancestors),  # the widget may be framed by its configured sites
            "other": PAGE_CSP.format(ancestors="'none'"),
        }

    @property
    def limiter(self) -> Limiter:
        lim = getattr(self.fastapi_app.state, "limiter", None)
        if lim is None:  # before the lifespan (or an app used without it)
            lim = self.fastapi_app.state.limiter = Limiter.from_settings(self.settings)
        return lim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        rid = clean_request_id(_header(scope, b"x-request-id")) or new_request_id()
        token = request_id_var.set(rid)
        method, path = scope["method"], scope["path"]
        peer = (scope.get("client") or (None, 0))[0]
        client = client_address(peer, _header(scope, b"x-forwarded-for"), self.trusted)
        if client not in (INTERNAL, peer):
            scope["client"] = (client, 0)
        state = {"status": 500, "bytes": 0}
        try:
            early = await self._before(scope, method, path, client)
            if early is not None:
                scope["daoban_route"] = (path.rstrip("/") if (method, path.rstrip("/")) in self.rate_rules
                                         else "/api/v1/faq/admin/*" if path.startswith(MAINTAINER_PREFIXES[0])
                                         else "/api/v1/intake/admin/*" if path.startswith(MAINTAINER_PREFIXES[1])
                                         else "<early>")
                status, body, headers = early
                await self._send_json(scope, send, status, body, headers, rid, state)
            else:
                await self._call(scope, receive, send, rid, state)
        except Exception:
            metrics.UNHANDLED.labels(self._route(scope)).inc()
            state["status"] = 500
            raise
        finally:
            route = self._route(scope)
            elapsed = time.perf_counter() - t0
            status = state["status"]
            metrics.REQUESTS.labels(method, route, str(status)).inc()
            metrics.LATENCY.labels(method, route).observe(elapsed)
            if status >= 400:
                metrics.ERRORS.labels(route, f"{status // 100}xx").inc()
            if status == 401 and self._presents_credentials(scope, path):
                metrics.AUTH_FAILURES.labels("maintainer" if path.startswith(MAINTAINER_PREFIXES)
                                             else "department" if path in LOGIN_PATHS
                                             else "identity" if SIGNIN.match(path) else "bot").inc()
                try:
                    await self.limiter.fail(self.auth_rule, client)
                except Exception:  # noqa: BLE001 - a limiter problem never fails the answer
                    log.exception("auth failure not counted")
            log.info("%s %s %s", method, route, status, extra={
                "http": {"method": method, "route": route, "status": status, "ms": round(elapsed * 1000, 1),
                         "client": client, "bytes": state["bytes"]}})
            request_id_var.reset(token)

    # ------------------------------------------------------------------ before the app

    def _presents_credentials(self, scope, path: str) -> bool:
        """A credential someone could guess: a sign-in (department, the apply page's identity),
        a maintainer token, the bot token.  Bearer session tokens are 256-bit random: an expired
        one (an office page still polling) must not lock a whole office out."""
        if path in LOGIN_PATHS or SIGNIN.match(path) or _header(scope, b"x-bot-token"):
            return True
        return path.startswith(MAINTAINER_PREFIXES) and bool(_header(scope, b"x-maintainer-token"))

    async def _before(self, scope, method: str, path: str, client: str):
        if method == "OPTIONS":
            return None
        length, cap = (_header(scope, b"content-length") or "").strip(), body_cap(self.settings, path)
        if length.isdigit() and int(length) > cap:
            size = f"{cap // 1_000_000}MB" if cap >= 1_000_000 else f"{cap // 1024}KB"
            return 413, _body("too_large", f"提交的内容太大了（最多{size}），请精简后再提交；材料文件请分几次上传。",
                              f"Request body over {cap} bytes.", {"max_bytes": cap}), {}
        if self._presents_credentials(scope, path):
            wait = await self.limiter.blocked(self.auth_rule, client)
            if wait is not None:
                metrics.RATE_LIMITED.labels("auth").inc()
                return self._too_many(wait, "登录或令牌错误次数太多，请{s}秒后再试。",
                                      "Too many failed credentials from this address.")
        if not self._routed(method, path):
            return None  # the router answers 404/405 (with Allow)
        if path.startswith(MAINTAINER_PREFIXES):
            expected = self.settings.maintainer_token or ""
            given = _header(scope, b"x-maintainer-token") or ""
            if not expected:
                return 401, _body("unauthorized", "维护接口未开启：请先设置环境变量 DAOBAN_MAINTAINER_TOKEN。",
                                  "Maintainer endpoints are closed: set DAOBAN_MAINTAINER_TOKEN."), {}
            if not given or not hmac.compare_digest(given.encode(), expected.encode()):
                return 401, _body("unauthorized", "需要维护人员令牌（请求头 X-Maintainer-Token）。",
                                  "Maintainer token required."), {}
        elif method == "POST" and NEEDS_BEARER.match(path) and not (_header(scope, b"authorization") or "").strip():
            return 401, _body("unauthorized", "请先登录，或使用申请时给您的查询链接。", "Credentials required."), {}
        elif method in ("POST", "PUT") and path.startswith(BOT_WRITES):
            expected = self.settings.bot_token or ""
            given = _header(scope, b"x-bot-token") or ""
            if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
                return 401, _body("unauthorized", "只有智能导办本身可以保存办理记录。", "A valid X-Bot-Token is required."), {}
        rule = self.rate_rules.get((method, path.rstrip("/") or "/"))
        if rule is not None:
            wait = await self.limiter.hit(rule, client)
            if wait is not None:
                metrics.RATE_LIMITED.labels(rule.name).inc()
                return self._too_many(wait, "请求太频繁了，请{s}秒后再试。", f"Rate limit for {rule.name} reached.")
        return None

    def _routed(self, method: str, path: str) -> bool:
        if not (path.startswith(MAINTAINER_PREFIXES) or path.startswith(BOT_WRITES) or NEEDS_BEARER.match(path)):
            return True  # only these get early checks; no need to look
        return method in self._methods_for(path)

    @staticmethod
    def _too_many(wait: float, zh: str, en: str):
        s = int(wait + 0.999)
        return 429, _body("too_many_requests", zh.format(s=s), en, {"retry_after": s}), {"Retry-After": str(s)}

    # ------------------------------------------------------------------ the app and its answer

    def _security_headers(self, scope, path: str, content_type: str, rid: str) -> list[tuple[bytes, bytes]]:
        is_page = content_type.startswith("text/html")
        framable = path == "/chat"
        csp = (self.page_csp["chat" if framable else "other"]) if is_page else API_CSP
        out = [
            (b"x-request-id", rid.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"SAMEORIGIN" if framable else b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"content-security-policy", csp.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        return out

    async def _call(self, scope, receive, send, rid: str, state: dict):
        path = scope["path"]
        docs = path in DOCS_PATHS
        held: dict = {}

        async def wrapped(message):
            if message["type"] == "http.response.start":
                status = message["status"]
                state["status"] = status
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                ctype = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
                for k, v in self._security_headers(scope, path, ctype, rid):
                    if k not in present:
                        headers.append((k, v))
                if status == 405:
                    allow = self._allowed(scope)
                    headers = [(k, v) for k, v in headers if k.lower() != b"allow"]
                    headers.append((b"allow", ", ".join(allow).encode()))
                if docs and status == 200:
                    held["start"] = {**message, "headers": headers}
                    held["body"] = b""
                    return
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body") or b"")
                if "start" in held:
                    held["body"] += message.get("body") or b""
                    if message.get("more_body"):
                        return
                    await self._send_docs(send, held["start"], held["body"])
                    return
            await send(message)

        await self.app(scope, receive, wrapped)

    async def _send_docs(self, send, start: dict, body: bytes) -> None:
        """Swagger UI / ReDoc: their inline bootstrap scripts are allowed by hash (not
        'unsafe-inline'), their files from the CDN FastAPI uses."""
        hashes = " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(m).digest()).decode()
                          for m in INLINE_SCRIPT.findall(body))
        csp = (f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; style-src 'self' {DOCS_CDN} 'unsafe-inline'; "
               f"img-src 'self' data: https:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'")
        headers = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-security-policy", b"content-length")]
        headers += [(b"content-security-policy", csp.encode()), (b"content-length", str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _route_table(self) -> list[tuple]:
        """(regex, parameters, methods) for every route, included routers walked (built once)."""
        table = getattr(self, "_table", None)
        if table is None:
            from starlette.routing import compile_path

            def walk(routes, prefix=""):
                for r in routes:
                    if hasattr(r, "original_router"):  # FastAPI's included router
                        yield from walk(r.original_router.routes, prefix + (r.include_context.prefix or ""))
                    elif getattr(r, "methods", None) and getattr(r, "path", None):
                        regex, _, convertors = compile_path(prefix + r.path)
                        yield regex, len(convertors), frozenset(r.methods)

            table = self._table = list(walk(getattr(self.fastapi_app, "routes", ())))
        return table

    def _methods_for(self, path: str) -> set[str]:
        """The methods of the most specific routes for this path (``/applications/drafts`` is
        the drafts route, not ``/applications/{app_id}``), as the OpenAPI paths declare them."""
        found = [(n, methods) for regex, n, methods in self._route_table() if regex.match(path)]
        if not found:
            return set()
        best = min(n for n, _ in found)
        return set().union(*(m for n, m in found if n == best))

    def _allowed(self, scope) -> list[str]:
        """Allow for a 405: every method declared for this path (FastAPI's own names only the
        first route that matched; CORS preflight is not listed)."""
        order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        methods = self._methods_for(scope["path"])
        return [m for m in order if m in methods] or ["GET"]

    @staticmethod
    def _route(scope) -> str:
        """The route template (``/api/v1/items/{code}``): a bounded label set for metrics."""
        ctx = (scope.get("fastapi") or {}).get("effective_route_context")
        if ctx is not None and getattr(ctx, "path", None):
            return ctx.path
        if "daoban_route" in scope:
            return scope["daoban_route"]
        route = scope.get("route")
        if route is not None and str(getattr(route, "path", "")).startswith("/"):
            return route.path
        path = scope.get("path", "")
        if path.startswith("/static/"):
            return "/static"
        if scope.get("endpoint") is not None and "{" not in path and len(path) < 40:
            return path  # a plain route without parameters (/docs, /openapi.json)
        return "<unmatched>"

    async def _send_json(self, scope, send, status: int, body: dict, headers: dict, rid: str, state: dict):
        data = json.dumps(body, ensure_ascii=False).encode()
        hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        hdrs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        origin = (_header(scope, b"origin") or "").rstrip("/")
        if origin and origin in self.settings.chat_origin_list:  # the widget's site must read the reason
            hdrs += [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
        hdrs += self._security_headers(scope, scope["path"], "application/json", rid)
        state["status"], state["bytes"] = status, len(data)
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": data})
