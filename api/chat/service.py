"""The bot's public door and the intakes' memory.

* ``RasaRelay``: ``POST /api/v1/chat/webhook`` is relayed to the REST channel of one of
  the configured Rasa processes.  A sender always goes to the same Rasa while it is up
  (rendezvous hashing); when it does not answer, the next one takes the turn (the SQL
  tracker store and the Redis lock store make that safe).  No Rasa: ``BotUnavailable``.
* ``RateLimiter``: a sliding window per key (sender, client address), in memory.
* ``IntakeSessions``: snapshots of intakes under a short code (``chat_intakes``), so
  that the 12345 console or another channel can continue an intake."""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.chat.models import IntakeRow, IntakeSnapshot
from api.exceptions import DaobanError, NotFound, ServiceUnavailable, TooManyRequests
from knowledge_base.privacy import mask_text

log = logging.getLogger("daoban.chat")

# 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L): read out on the phone safely.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
METADATA_KEYS = ("region", "channel")  # what a client may pass to the bot


class BotUnavailable(ServiceUnavailable):
    code = "bot_unavailable"


class BotTimeout(DaobanError):
    status_code = 504
    code = "bot_timeout"


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (sliding window)."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 50_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Record one event; None if allowed, else the seconds to wait."""
        if self.limit <= 0:
            return None
        now = time.monotonic() if now is None else now
        q = self._hits.get(key)
        if q is None:
            if len(self._hits) >= self.max_keys:
                self._prune(now)
            q = self._hits[key] = deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.limit:
            return max(0.1, q[0] + self.window - now)
        q.append(now)
        return None

    def undo(self, key: str) -> None:
        """Forget the last event of ``key`` (a message that never reached the bot)."""
        q = self._hits.get(key)
        if q:
            q.pop()

    def _prune(self, now: float) -> None:
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= now - self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full: forget the oldest half
            for key in list(self._hits)[: self.max_keys // 2]:
                del self._hits[key]


class RasaRelay:
    def __init__(self, urls: list[str], *, timeout: float = 30.0, retry_down_after: float = 3.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        if not urls:
            raise ValueError("at least one Rasa URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.retry_down_after = retry_down_after
        self._down: dict[str, float] = {}  # url -> when it last failed
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def order(self, sender: str) -> list[str]:
        """Rendezvous hashing: each sender has a stable preference order over the URLs;
        URLs that failed a moment ago go last."""
        def weight(url: str) -> bytes:
            return hashlib.blake2b(f"{url}|{sender}".encode(), digest_size=8).digest()

        ranked = sorted(self.urls, key=weight, reverse=True)
        now = time.monotonic()
        up = [u for u in ranked if now - self._down.get(u, -1e9) > self.retry_down_after]
        return up + [u for u in ranked if u not in up]

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        for url in self.order(sender):
            try:
                resp = await self._http.post(url + "/webhooks/rest/webhook", json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                # refused, or the process died during the turn (nothing was stored): try the next one
                self._down[url] = time.monotonic()
                log.warning("rasa %s unavailable: %s", url, exc.__class__.__name__)
                continue
            except httpx.TimeoutException as exc:
                raise BotTimeout("智能导办这会儿有点忙，请稍等几秒再发一次。",
                                 "The assistant did not answer in time.") from exc
            if resp.status_code >= 500:
                self._down[url] = time.monotonic()
                log.warning("rasa %s answered HTTP %s", url, resp.status_code)
                continue
            self._down.pop(url, None)
            try:
                data = resp.json()
            except ValueError:
                data = []
            return data if isinstance(data, list) else []
        raise BotUnavailable(
            "智能导办正在重启，请稍等片刻再发；也可以先搜索常见问题，或拨打12345。",
            "The assistant is restarting; try again shortly.",
        )


def clean_metadata(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(metadata, dict):
        return None
    out = {k: str(v)[:40] for k, v in metadata.items() if k in METADATA_KEYS and isinstance(v, (str, int))}
    return out or None


# ------------------------------------------------------------------ intake snapshots
def normalise_code(code: str) -> str | None:
    code = (code or "").strip().upper().replace(" ", "").replace("-", "")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


class IntakeSessions:
    def __init__(self, engine: Engine, *, ttl_hours: int = 72, lookups_per_minute: int = 10):
        self.engine = engine
        self.ttl = timedelta(hours=ttl_hours)
        self.lookups = RateLimiter(lookups_per_minute)

    def _view(self, row: IntakeRow, *, full: bool) -> dict[str, Any]:
        updated = _utc(row.updated_at)
        out = {
            "code": row.code,
            "channel": row.channel,
            "region": row.region,
            "profile": row.profile or {},
            "pending_question": row.pending,
            "bundle": row.bundle,
            "created_at": _utc(row.created_at).isoformat(),
            "updated_at": updated.isoformat(),
            "expires_at": (updated + self.ttl).isoformat(),
        }
        if full:
            out["sender"] = row.sender
            return out
        return _mask(out)

    def create(self, snap: IntakeSnapshot) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        with Session(self.engine) as s, s.begin():
            for _ in range(8):
                code = new_code()
                if s.get(IntakeRow, code) is None:
                    break
            else:  # pragma: no cover - 31^6 codes
                raise ServiceUnavailable("办理码暂时用完了，请稍后再试。", "No free intake code.")
            row = IntakeRow(code=code, sender=snap.sender, channel=snap.channel, region=snap.profile.get("region"),
                            profile=snap.profile, pending=snap.pending, bundle=snap.bundle,
                            created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return self._view(row, full=True)

    def update(self, code: str, snap: IntakeSnapshot) -> dict[str, Any]:
        norm = normalise_code(code)
        with Session(self.engine) as s, s.begin():
            row = s.get(IntakeRow, norm) if norm else None
            if row is None:
                raise NotFound("没有这个办理码。", "No such intake code.")
            row.sender, row.channel = snap.sender, snap.channel
            row.region = snap.profile.get("region")
            row.profile, row.pending, row.bundle = snap.profile, snap.pending, snap.bundle
            row.updated_at = datetime.now(timezone.utc)
            s.flush()
            return self._view(row, full=True)

    def get(self, code: str, *, full: bool = False, client: str = "?") -> dict[str, Any]:
        """A lookup by code.  Readers other than the bot are rate-limited per client
        address and get personal numbers masked and no sender."""
        if not full:
            wait = self.lookups.hit(client)
            if wait is not None:
                raise TooManyRequests(f"查询太频繁了，请{int(wait) + 1}秒后再试。",
                                      "Too many intake-code lookups.", {"retry_after": int(wait) + 1})
        norm = normalise_code(code)
        with Session(self.engine) as s:
            row = s.get(IntakeRow, norm) if norm else None
            if row is None or _utc(row.updated_at) + self.ttl < datetime.now(timezone.utc):
                raise NotFound("没有找到这个办理码，请核对（6位字母和数字），或重新开始。",
                               "No such intake code (or it expired).")
            return self._view(row, full=full)

    def purge_expired(self) -> int:
        cutoff = datetime.now(timezone.utc) - self.ttl
        with Session(self.engine) as s, s.begin():
            return s.execute(delete(IntakeRow).where(IntakeRow.updated_at < cutoff)).rowcount or 0

    def by_sender(self, sender: str) -> str | None:
        with Session(self.engine) as s:
            row = s.execute(select(IntakeRow).where(IntakeRow.sender == sender)
                            .order_by(IntakeRow.updated_at.desc()).limit(1)).scalar_one_or_none()
            return row.code if row else None
