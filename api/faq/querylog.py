"""The FAQ query log: every search is written by a background thread (logging costs a
search nothing), with 身份证号 and phone numbers masked before they are stored."""
from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import Integer, func, select

from api.exceptions import InvalidInput
from api.faq.tables import FaqQueryRow
from knowledge_base.privacy import mask_text

log = logging.getLogger("daoban.faq")
KINDS = ("recent", "unanswered", "low_score", "most_asked")


class QueryLog:
    def __init__(self, sessionmaker):
        self.Session = sessionmaker
        self._q: queue.Queue = queue.Queue(maxsize=10000)
        self._writer = threading.Thread(target=self._run, name="faq-query-log", daemon=True)
        self._writer.start()

    def record(self, q: str, region: str | None, top_id: str | None, score: float | None, answered: bool,
               reason: str, ms: float) -> None:
        try:
            self._q.put_nowait(dict(q=mask_text(q)[:500], region=region, top_id=top_id, score=score,
                                    answered=answered, reason=(reason or "")[:200], latency_ms=round(ms, 2),
                                    created_at=datetime.now(timezone.utc)))
        except queue.Full:
            log.warning("FAQ query log queue full; dropping a row")

    def _run(self) -> None:
        while True:
            row = self._q.get()
            batch = [row] if row is not None else []
            stop = row is None
            while not stop:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                else:
                    batch.append(nxt)
            if batch:
                try:
                    with self.Session.begin() as s:
                        s.add_all([FaqQueryRow(**r) for r in batch])
                except Exception:  # noqa: BLE001 - logging must never break search
                    log.exception("FAQ query log write failed")
            if stop:
                return

    def flush(self, timeout: float = 5.0) -> None:
        end = time.time() + timeout
        while not self._q.empty() and time.time() < end:
            time.sleep(0.01)
        time.sleep(0.05)

    def close(self) -> None:
        self._q.put(None)
        self._writer.join(timeout=5)

    def rows(self, kind: str = "recent", limit: int = 50, low_score_below: float | None = None) -> list[dict]:
        if kind not in KINDS:
            raise InvalidInput(f"未知的日志类型：{kind}。", f"Unknown log kind: {kind}.", {"kinds": list(KINDS)})
        self.flush(1.0)
        with self.Session() as s:
            if kind == "most_asked":
                stmt = (select(FaqQueryRow.q, func.count().label("n"), func.max(FaqQueryRow.top_id),
                               func.avg(FaqQueryRow.score), func.sum(func.cast(FaqQueryRow.answered, Integer)))
                        .group_by(FaqQueryRow.q).order_by(func.count().desc()).limit(limit))
                return [{"q": q, "count": n, "top_id": tid, "avg_score": round(avg or 0, 4), "answered": int(a or 0)}
                        for q, n, tid, avg, a in s.execute(stmt)]
            stmt = select(FaqQueryRow).order_by(FaqQueryRow.id.desc()).limit(limit)
            if kind == "unanswered":
                stmt = stmt.where(FaqQueryRow.answered.is_(False))
            elif kind == "low_score":
                stmt = stmt.where(FaqQueryRow.answered.is_(True), FaqQueryRow.score < (low_score_below or 1.0))
            return [{"id": r.id, "created_at": r.created_at.isoformat() if r.created_at else None, "q": r.q,
                     "region": r.region, "top_id": r.top_id, "score": r.score, "answered": r.answered,
                     "reason": r.reason, "latency_ms": r.latency_ms} for r in s.scalars(stmt)]


class MaskQueryStrings(logging.Filter):
    """For the access log: personal numbers in request lines (query strings) masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        return True


def mask_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install ``MaskQueryStrings`` on the access log once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, MaskQueryStrings) for f in logger.filters):
        logger.addFilter(MaskQueryStrings())
