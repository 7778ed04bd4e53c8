"""The one typed client the actions use to reach the daoban API.

Every business rule (what to ask, what to obtain, why) lives behind this API
(docs/architecture.md); the actions only carry the conversation.  Base URL from
``DAOBAN_API_URL`` (default http://127.0.0.1:8000).
"""
from __future__ import annotations

import asyncio
import os
from typing import Any, TypedDict

import httpx

from knowledge_base.logs import add_request_id_header

DEFAULT_API_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"


class Option(TypedDict, total=False):
    title: str
    payload: str
    value: Any


class Question(TypedDict, total=False):
    type: str  # "question"
    key: str  # a profile key
    text: str
    why: str
    example: str
    consequence: str  # what each answer would change (for 「不知道」)
    reask: str  # the second wording (why + example)
    options: list[Option]


class BundleItem(TypedDict, total=False):
    code: str
    name: str
    department: str
    why: list[str]
    legal_basis: list[Any]
    mode: str
    mode_label: str
    time_limit_days: int | None
    time_limit_text: str


class Bundle(TypedDict, total=False):
    region: str | None
    region_name: str | None
    final: bool
    items: list[BundleItem]
    startup_steps: list[BundleItem]
    not_required: list[dict]
    materials: list[dict]
    summary: str
    coverage: str  # known | partial | unknown
    unrecognized: list[str]
    to_confirm: list[Any]
    handoff: bool


class IntakeResult(TypedDict, total=False):
    profile: dict[str, Any]
    bundle: Bundle
    questions: list[Question]
    understood: dict[str, Any] | None
    ack: str | None


class FaqHit(TypedDict, total=False):
    id: str
    question: str
    answer: str
    item_code: str | None
    topic: str
    score: float


class FaqResult(TypedDict, total=False):
    answered: bool
    hits: list[FaqHit]
    clarify: dict[str, Any] | None  # {"items": [...], "text": "您问的是A还是B？"}


class DaobanApiError(Exception):
    """The API could not be reached or refused the request."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class DaobanClient:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.base_url = (base_url or os.environ.get("DAOBAN_API_URL") or DEFAULT_API_URL).rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url + API_PREFIX,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "daoban-actions/1"},
            event_hooks={"request": [add_request_id_header]},  # X-Request-ID of the chat turn (issue 10)
        )
        self._bot_token = os.environ.get("DAOBAN_BOT_TOKEN") or ""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs) -> Any:
        try:
            resp = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DaobanApiError(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                detail = resp.json()
            except ValueError:
                detail = resp.text[:500]
            raise DaobanApiError(f"{method} {path}: HTTP {resp.status_code}", resp.status_code, detail)
        try:
            return resp.json()
        except ValueError as exc:
            raise DaobanApiError(f"{method} {path}: response is not JSON", resp.status_code) from exc

    # -- intake ------------------------------------------------------------
    async def describe(
        self, text: str, *, profile: dict[str, Any] | None = None, region: str | None = None
    ) -> IntakeResult:
        """Parse free text; the facts found are merged onto ``profile`` (later wins)."""
        body: dict[str, Any] = {"text": text}
        if region:
            body["region"] = region
        if profile:
            body["profile"] = profile
        return await self._request("POST", "/intake/describe", json=body)

    async def resolve(self, profile: dict[str, Any]) -> IntakeResult:
        return await self._request("POST", "/intake/resolve", json={"profile": profile})

    async def form(self, profile: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._request("POST", "/intake/form", json={"profile": profile, "values": values or {}})

    # -- knowledge base ----------------------------------------------------
    async def faq_search(self, q: str, *, k: int = 3, region: str | None = None) -> FaqResult:
        params: dict[str, Any] = {"q": q, "k": k}
        if region:
            params["region"] = region
        return await self._request("GET", "/faq/search", params=params)

    # -- applications ------------------------------------------------------
    async def create_application(
        self,
        profile: dict[str, Any],
        form_values: dict[str, Any] | None = None,
        applicant: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        body = {"profile": profile, "form_values": form_values or {}, "applicant": applicant or {}}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self._request("POST", "/applications", json=body, headers=headers)

    async def create_draft(
        self, profile: dict[str, Any], values: dict[str, Any] | None = None, channel: str = "web"
    ) -> dict[str, Any] | None:
        """A draft application the applicant opens at ``apply_url`` to sign in, check and
        submit; None while the API does not offer drafts (404)."""
        body = {"profile": profile, "values": values or {}, "channel": channel}
        try:
            return await self._request("POST", "/applications/drafts", json=body)
        except DaobanApiError as exc:
            if exc.status in (404, 405):
                return None
            raise

    # -- intake snapshots (cross-channel resume) ---------------------------
    def _bot_headers(self) -> dict[str, str]:
        return {"X-Bot-Token": self._bot_token} if self._bot_token else {}

    async def create_intake(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", "/chat/intakes", json=snapshot, headers=self._bot_headers())

    async def update_intake(self, code: str, snapshot: dict[str, Any]) -> dict[str, Any]:
        return await self._request("PUT", f"/chat/intakes/{code}", json=snapshot, headers=self._bot_headers())

    async def get_intake(self, code: str) -> dict[str, Any]:
        return await self._request("GET", f"/chat/intakes/{code}", headers=self._bot_headers())

    async def health(self) -> dict[str, Any]:
        return await self._request("GET", "/health")


_clients: dict[int, DaobanClient] = {}


def get_client() -> DaobanClient:
    """One pooled client per event loop (the action server runs one loop)."""
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = 0
    client = _clients.get(loop_id)
    if client is None:
        if len(_clients) > 8:  # old loops (tests): drop their clients
            _clients.clear()
        client = _clients[loop_id] = DaobanClient()
    return client


def reset_clients() -> None:
    """Forget cached clients (tests change DAOBAN_API_URL)."""
    _clients.clear()
