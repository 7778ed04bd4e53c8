"""Who is asking: bearer tokens (stored only as SHA-256) → a principal.

* ``applicant``  the token returned when the application was submitted (the applicant's own);
* ``track``      the tracking link's token (derived from the applicant's token; masked view);
* ``identity``   a sign-in with the identity provider on the apply page (a person);
* ``department`` a department's session after signing in with its own credentials;
* ``anonymous``  nothing (or a token we do not know: same answer, no oracle)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.applications.tables import TokenRow


def now() -> datetime:
    return datetime.now(timezone.utc)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(("daoban:" + token).encode()).hexdigest()


def track_token_for(applicant_token: str) -> str:
    """The tracking link's token: computable from the applicant's token, not the reverse."""
    mac = hmac.new(applicant_token.encode(), b"daoban-track-link", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:  # SQLite returns naive datetimes
        return dt.replace(tzinfo=timezone.utc)
    return dt


@dataclass(frozen=True)
class Principal:
    kind: str = "anonymous"
    application_id: str | None = None
    subject: str | None = None  # identity subject, or a department account's username
    draft_id: str | None = None
    region: str | None = None
    department_key: str | None = None
    department: str | None = None
    token: str | None = field(default=None, repr=False, compare=False)

    @property
    def actor(self) -> str:
        if self.kind == "department":
            return f"department:{self.subject}"
        if self.kind in ("applicant", "track", "identity"):
            return "applicant"
        return self.kind


ANONYMOUS = Principal()


def issue(session: Session, kind: str, *, application_id: str | None = None, draft_id: str | None = None,
          subject: str | None = None, hours: float | None = None, token: str | None = None) -> str:
    token = token or new_token()
    session.merge(TokenRow(token_hash=token_hash(token), kind=kind, application_id=application_id, draft_id=draft_id,
                           subject=subject, created_at=now(), expires_at=now() + timedelta(hours=hours) if hours else None))
    return token


def lookup(session: Session, token: str | None) -> TokenRow | None:
    if not token or len(token) > 200:
        return None
    row = session.get(TokenRow, token_hash(token))
    if row is None:
        return None
    exp = aware(row.expires_at)
    if exp is not None and exp < now():
        return None
    return row


def revoke(session: Session, token: str) -> None:
    session.execute(delete(TokenRow).where(TokenRow.token_hash == token_hash(token)))


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class SignInGuard:
    """At most ``limit`` failed sign-ins per account (or 身份证号) in ``window`` seconds;
    then the account is refused until the window has passed (password guessing)."""

    def __init__(self, limit: int = 8, window: float = 600.0):
        self.limit, self.window = limit, window
        self._fails: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _key(self, kind: str, who: str) -> str:
        return kind + ":" + hashlib.sha256((who or "").strip().upper().encode()).hexdigest()[:16]

    def check(self, kind: str, who: str) -> float | None:
        """None if a try is allowed, else the seconds to wait."""
        now_ = time.monotonic()
        with self._lock:
            q = self._fails.get(self._key(kind, who))
            while q and q[0] <= now_ - self.window:
                q.popleft()
            return max(1.0, q[0] + self.window - now_) if q and len(q) >= self.limit else None

    def failed(self, kind: str, who: str) -> None:
        with self._lock:
            if len(self._fails) > 50_000:
                self._fails.clear()
            self._fails.setdefault(self._key(kind, who), deque()).append(time.monotonic())

    def succeeded(self, kind: str, who: str) -> None:
        with self._lock:
            self._fails.pop(self._key(kind, who), None)
