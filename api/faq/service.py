"""FAQ service: the live index, maintainer edits and the query log.

- The index is loaded at start-up if a build exists, else built (synchronously for
  the fake embedder, in a background thread otherwise: searches answer 503 until
  it is ready).  ``rebuild()`` builds a new index next to the live one and swaps
  the reference: searches never wait and never see a half-built index.
- Maintainer entries, added/removed wordings and retired flags live in the
  database (tables ``faq_*``), merged over the catalog-generated and curated
  entries at every build.
- Every search is logged (text, top id, score, answered) through a background
  writer so logging costs the search nothing.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from api.db import Base as _Base
from api.db import make_engine

from api.exceptions import Conflict, InvalidInput, NotFound, ServiceUnavailable, UnknownRegion
from knowledge_base.faq.entries import TOPIC_LABELS, TOPICS, FaqEntry, build_entries, load_catalog_any, region_note

log = logging.getLogger("daoban.faq")


class FaqEntryRow(_Base):
    """An entry written by a maintainer (new, or overriding a generated one)."""

    __tablename__ = "faq_entries"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    item_code: Mapped[str | None] = mapped_column(String(80), nullable=True)
    topic: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON, default=list)
    inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    region: Mapped[str | None] = mapped_column(String(40), nullable=True)
    overrides: Mapped[str | None] = mapped_column(String(120), nullable=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))


class FaqParaphraseRow(_Base):
    """A wording added to (or removed from) any entry by a maintainer."""

    __tablename__ = "faq_paraphrases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(120), index=True)
    text: Mapped[str] = mapped_column(Text)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))


class FaqFlagRow(_Base):
    """Retired flag for generated/curated entries (maintainer entries carry their own)."""

    __tablename__ = "faq_entry_flags"
    entry_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))


class FaqQueryRow(_Base):
    __tablename__ = "faq_query_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc), index=True)
    q: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(40), nullable=True)
    top_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered: Mapped[bool] = mapped_column(Boolean, index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)


class FaqService:
    def __init__(self, settings, catalog, *, embedder=None, engine=None, background: bool | None = None):
        self.settings = settings
        self.catalog = catalog if catalog is not None else load_catalog_any(settings.data_dir)
        self.engine = engine or make_engine(settings.sqlalchemy_url)
        _Base.metadata.create_all(self.engine)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self._embedder = embedder
        self._index = None
        self._error: str | None = None
        self._build_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self._pending_rebuild = False
        self.last_build: dict | None = None
        self._log_q: queue.Queue = queue.Queue(maxsize=10000)
        self._closed = threading.Event()
        self._writer = threading.Thread(target=self._log_writer, name="faq-query-log", daemon=True)
        self._writer.start()
        if background is None:
            background = settings.embedder != "fake"
        self._background = background
        self._last_check = time.monotonic()
        self._reloading = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def from_settings(cls, settings, catalog=None, *, engine=None) -> "FaqService":
        svc = cls(settings, catalog, engine=engine)
        svc.start()
        return svc

    def start(self) -> None:
        """Load the live index if one exists; else build it (in the background
        unless the embedder is the fast fake one)."""
        if self._try_load():
            return
        if self._background:
            self.rebuild()
        else:
            self._build()

    def _get_embedder(self):
        if self._embedder is None:
            from knowledge_base.faq.embedders import make_embedder

            self._embedder = make_embedder(self.settings)
        return self._embedder

    def _try_load(self) -> bool:
        from knowledge_base.faq.index import FaqIndex, current_build

        if current_build(self.settings.index_dir) is None:
            return False
        try:
            self._index = FaqIndex.load(self.settings.index_dir, self._get_embedder())
            return True
        except FileNotFoundError as exc:  # built with another embedder / old format
            log.info("FAQ index not reusable: %s", exc)
            return False

    def entries(self) -> list[FaqEntry]:
        """All entries (generated, curated, maintainer) with database edits applied."""
        with self.Session() as s:
            rows = s.scalars(select(FaqEntryRow)).all()
            paras = s.scalars(select(FaqParaphraseRow).order_by(FaqParaphraseRow.id)).all()
            flags = {f.entry_id: f.retired for f in s.scalars(select(FaqFlagRow)).all()}
        edits = [FaqEntry(id=r.id, item_code=r.item_code, topic=r.topic, question=r.question, answer=r.answer,
                          sources=list(r.sources or []), inferred=r.inferred, region=r.region,
                          overrides=r.overrides, retired=r.retired, origin="maintainer") for r in rows]
        entries = build_entries(self.catalog, self.settings.data_dir, edits)
        by_id = {e.id: e for e in entries}
        for p in paras:
            e = by_id.get(p.entry_id)
            if e is None:
                continue
            if p.removed:
                e.paraphrases = [t for t in e.paraphrases if t != p.text]
            elif p.text not in e.paraphrases:
                e.paraphrases.append(p.text)
        for eid, retired in flags.items():
            if eid in by_id and retired:
                by_id[eid].retired = True
        # overriding entries pick up wordings after edits
        return entries

    def _build(self) -> dict:
        from knowledge_base.faq.index import build_index, calibrate, load_eval

        with self._build_lock:
            t0 = time.perf_counter()
            entries = self.entries()
            index, report = build_index(entries, self._get_embedder(), self.settings.index_dir,
                                        catalog=self.catalog, progress=False)
            ev = Path(self.settings.data_dir) / "faq" / "eval.yaml"
            cal = index.calibration or {}
            if ev.exists() and (not cal.get("calibrated") or cal.get("embedder") != index.embedder.name):
                index.save_calibration(calibrate(index, load_eval(ev)["calibration"]))
            self._index = index  # atomic swap: searches use the old index until here
            self._error = None
            self.last_build = {**report.as_dict(), "total_seconds": round(time.perf_counter() - t0, 2),
                               "finished_at": datetime.now(timezone.utc).isoformat()}
            log.info("FAQ index ready: %s", self.last_build)
            return self.last_build

    def rebuild(self, *, wait: bool = False) -> dict:
        """Build a new index in the background and swap it in when done."""
        if wait:
            return self._build()
        if self._builder is not None and self._builder.is_alive():
            self._pending_rebuild = True
            return {"status": "queued"}

        def run():
            while True:
                self._pending_rebuild = False
                try:
                    self._build()
                except Exception as exc:  # noqa: BLE001 - keep serving the old index
                    log.exception("FAQ index build failed")
                    self._error = f"{type(exc).__name__}: {exc}"
                if not self._pending_rebuild or self._closed.is_set():
                    break

        self._builder = threading.Thread(target=run, name="faq-index-build", daemon=True)
        self._builder.start()
        return {"status": "started"}

    def wait_ready(self, timeout: float = 600) -> bool:
        if self._builder is not None:
            self._builder.join(timeout)
        return self._index is not None

    @property
    def ready(self) -> bool:
        return self._index is not None

    def status(self) -> dict:
        idx = self._index
        return {
            "ready": idx is not None,
            "building": bool(self._builder is not None and self._builder.is_alive()),
            "error": self._error,
            "embedder": getattr(self._embedder, "name", None),
            "entries": idx.n_entries if idx else 0,
            "wordings": len(idx.texts) if idx else 0,
            "index_path": str(idx.path) if idx and idx.path else None,
            "calibration": {k: v for k, v in (idx.calibration if idx else {}).items() if k != "report"},
            "last_build": self.last_build,
        }

    def close(self) -> None:
        self._closed.set()
        self._log_q.put(None)
        self._writer.join(timeout=5)
        if self._builder is not None:
            self._builder.join(timeout=1)
        self.engine.dispose()

    # ------------------------------------------------------------------ search

    def _maybe_reload(self) -> None:
        """Pick up an index built by another process (CLI ``build-index``): at most
        every 5 s look at ``CURRENT``; load a new build in the background and swap."""
        now = time.monotonic()
        if now - self._last_check < 5 or self._reloading or self._index is None:
            return
        self._last_check = now
        from knowledge_base.faq.index import current_build

        live = current_build(self.settings.index_dir)
        if live is None or self._index.path is None or live.resolve() == Path(self._index.path).resolve():
            return
        if self._builder is not None and self._builder.is_alive():
            return
        self._reloading = True

        def run():
            try:
                self._try_load()
            except Exception:  # noqa: BLE001 - keep serving the old index
                log.exception("FAQ index reload failed")
            finally:
                self._reloading = False

        threading.Thread(target=run, name="faq-index-reload", daemon=True).start()

    def search(self, q: str, k: int = 5, region: str | None = None, method: str = "hybrid") -> dict[str, Any]:
        self._maybe_reload()
        idx = self._index
        if idx is None:
            raise ServiceUnavailable("知识库正在建立索引，请稍后再试。", "The FAQ index is being built.",
                                     {"error": self._error})
        q = (q or "").strip()
        if not q:
            raise InvalidInput("请输入要查询的问题。", "Empty question.")
        if len(q) > self.settings.max_text_chars:
            raise InvalidInput(f"问题太长了，请控制在{self.settings.max_text_chars}字以内。", "Question too long.")
        regions = getattr(self.catalog, "regions", {}) or {}
        if region and regions and region not in regions:
            raise UnknownRegion(f"没有这个地区：{region}。", f"Unknown region: {region}.",
                                {"known": sorted(regions)})
        t0 = time.perf_counter()
        res = idx.search(q, k=k, method=method, region=region, threshold=self.settings.faq_threshold)
        ms = (time.perf_counter() - t0) * 1000
        hits = []
        for h in res.hits:
            answer = h.answer
            note = region_note(self.catalog, region, h.item_code, h.topic) if region else None
            if note and h.topic in ("time_limit", "department", "process", "scope", "materials"):
                answer = f"{answer}\n{note}"
            hits.append({**h.public(), "answer": answer, "topic_label": TOPIC_LABELS.get(h.topic, h.topic),
                         "item_name": self._item_name(h.item_code), "sources": h.sources, "matched": h.matched,
                         "origin": h.origin})
        top = res.hits[0] if res.hits else None
        self._log(q, region, top.id if top else None, top.score if top else None, res.answered, res.reason, ms)
        out = {"answered": res.answered, "hits": hits}
        if not res.answered:
            out["message"] = "知识库里没有找到可靠的答案，下面的条目仅供参考；可拨打12345或到导办窗口咨询。"
        return out

    def _item_name(self, code: str | None) -> str | None:
        if not code:
            return None
        item = getattr(self.catalog, "items", {}).get(code)
        return item.name if item is not None else None

    # ------------------------------------------------------------------ query log

    def _log(self, q, region, top_id, score, answered, reason, ms) -> None:
        try:
            self._log_q.put_nowait(dict(q=q[:500], region=region, top_id=top_id, score=score, answered=answered,
                                        reason=reason[:200], latency_ms=round(ms, 2),
                                        created_at=datetime.now(timezone.utc)))
        except queue.Full:
            log.warning("FAQ query log queue full; dropping a row")

    def _log_writer(self) -> None:
        while True:
            row = self._log_q.get()
            batch = [row] if row is not None else []
            stop = row is None
            while not stop:
                try:
                    nxt = self._log_q.get_nowait()
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

    def flush_log(self, timeout: float = 5.0) -> None:
        end = time.time() + timeout
        while not self._log_q.empty() and time.time() < end:
            time.sleep(0.01)
        time.sleep(0.05)

    def query_log(self, kind: str = "recent", limit: int = 50, low_score: float | None = None) -> list[dict]:
        self.flush_log(1.0)
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
                idx = self._index
                gate = low_score
                if gate is None and idx is not None:
                    gate = float(idx.calibration.get("hybrid", {}).get("score", 0.9)) + 0.02
                stmt = stmt.where(FaqQueryRow.answered.is_(True), FaqQueryRow.score < (gate or 0.9))
            elif kind != "recent":
                raise InvalidInput(f"未知的日志类型：{kind}。", f"Unknown log kind: {kind}.",
                                   {"kinds": ["recent", "unanswered", "low_score", "most_asked"]})
            return [{"id": r.id, "created_at": r.created_at.isoformat() if r.created_at else None, "q": r.q,
                     "region": r.region, "top_id": r.top_id, "score": r.score, "answered": r.answered,
                     "reason": r.reason, "latency_ms": r.latency_ms} for r in s.scalars(stmt)]

    # ------------------------------------------------------------------ maintainer edits

    def list_entries(self, *, origin: str | None = None, item_code: str | None = None, topic: str | None = None,
                     q: str | None = None, include_retired: bool = True) -> list[FaqEntry]:
        out = []
        for e in self.entries():
            if origin and e.origin != origin:
                continue
            if item_code and e.item_code != item_code:
                continue
            if topic and e.topic != topic:
                continue
            if not include_retired and e.retired:
                continue
            if q and q not in e.question and q not in e.answer and not any(q in p for p in e.paraphrases):
                continue
            out.append(e)
        return out

    def get_entry(self, entry_id: str) -> FaqEntry:
        for e in self.entries():
            if e.id == entry_id:
                return e
        raise NotFound(f"没有这个问答条目：{entry_id}。", f"No FAQ entry {entry_id}.")

    def _check(self, data: dict) -> None:
        if data.get("topic") not in TOPICS:
            raise InvalidInput(f"主题必须是：{'、'.join(TOPICS)}。", "Unknown topic.", {"topics": list(TOPICS)})
        code = data.get("item_code")
        if code and code not in getattr(self.catalog, "items", {}):
            raise InvalidInput(f"事项编码不存在：{code}。", f"Unknown item code {code}.")

    def create_entry(self, data: dict) -> FaqEntry:
        self._check(data)
        existing = {e.id: e for e in self.entries()}
        eid = data["id"]
        if eid in existing and existing[eid].origin != "generated":
            raise Conflict(f"条目 {eid} 已存在，请用编辑。", f"Entry {eid} exists.")
        if eid in existing and existing[eid].origin == "generated":
            raise Conflict(f"{eid} 是根据事项目录生成的条目，不能直接改写；请新建条目并填写 overrides: {eid}。",
                           "Generated entries come from the catalog; create an entry that overrides it.")
        if data.get("overrides") and data["overrides"] not in existing:
            raise InvalidInput(f"要覆盖的条目不存在：{data['overrides']}。", "Overridden entry not found.")
        with self.Session.begin() as s:
            s.add(FaqEntryRow(id=eid, item_code=data.get("item_code"), topic=data["topic"], question=data["question"],
                              answer=data["answer"], sources=list(data.get("sources") or []),
                              inferred=bool(data.get("inferred")), region=data.get("region"),
                              overrides=data.get("overrides"), retired=False))
            for p in data.get("paraphrases") or []:
                s.add(FaqParaphraseRow(entry_id=eid, text=p.strip()))
        self.rebuild()
        return self.get_entry(eid)

    def update_entry(self, entry_id: str, patch: dict) -> FaqEntry:
        current = self.get_entry(entry_id)
        if current.origin == "generated":
            raise Conflict(f"{entry_id} 是根据事项目录生成的，答案随目录更新；请新建条目并填写 overrides: {entry_id}，"
                           "或只增删它的问法。", "Generated entries cannot be edited; override them.")
        merged = {**current.model_dump(), **{k: v for k, v in patch.items() if v is not None}}
        self._check(merged)
        with self.Session.begin() as s:
            row = s.get(FaqEntryRow, entry_id)
            if row is None:  # a curated.yaml entry edited for the first time: store the edited copy
                row = FaqEntryRow(id=entry_id)
                s.add(row)
            for key in ("item_code", "topic", "question", "answer", "sources", "inferred", "region", "overrides"):
                setattr(row, key, merged.get(key))
            row.retired = bool(merged.get("retired"))
            row.updated_at = datetime.now(timezone.utc)
            if patch.get("paraphrases") is not None:
                s.execute(update(FaqParaphraseRow).where(FaqParaphraseRow.entry_id == entry_id).values(removed=True))
                for p in patch["paraphrases"]:
                    s.add(FaqParaphraseRow(entry_id=entry_id, text=p.strip()))
        self.rebuild()
        return self.get_entry(entry_id)

    def set_retired(self, entry_id: str, retired: bool = True) -> FaqEntry:
        current = self.get_entry(entry_id)
        with self.Session.begin() as s:
            row = s.get(FaqEntryRow, entry_id)
            if row is not None:
                row.retired = retired
            else:
                flag = s.get(FaqFlagRow, entry_id)
                if flag is None:
                    s.add(FaqFlagRow(entry_id=entry_id, retired=retired))
                else:
                    flag.retired = retired
                    flag.updated_at = datetime.now(timezone.utc)
        self.rebuild()
        return current.model_copy(update={"retired": retired})

    def add_paraphrase(self, entry_id: str, text: str) -> FaqEntry:
        self.get_entry(entry_id)
        text = text.strip()
        if not text:
            raise InvalidInput("问法不能为空。", "Empty paraphrase.")
        with self.Session.begin() as s:
            s.add(FaqParaphraseRow(entry_id=entry_id, text=text))
        self.rebuild()
        return self.get_entry(entry_id)

    def remove_paraphrase(self, entry_id: str, text: str) -> FaqEntry:
        self.get_entry(entry_id)
        with self.Session.begin() as s:
            s.add(FaqParaphraseRow(entry_id=entry_id, text=text.strip(), removed=True))
        self.rebuild()
        return self.get_entry(entry_id)
