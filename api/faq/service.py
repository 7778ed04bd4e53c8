"""FAQ service: the live index, searches, maintainers' edits and the query log.

- The index is loaded at start-up if a build exists, else built (synchronously for the
  fake embedder, in a background thread otherwise: searches answer 503 until it is
  ready).  ``rebuild()`` runs the one rebuild (``knowledge_base.faq.build.rebuild``)
  next to the live index and swaps the reference: searches never wait and never see a
  half-built index.  An index built by another process (``cli build-index``) is picked
  up within 5 s.
- Searching, ranking and the answered gate are ``knowledge_base.faq.query``; this
  module validates input, adds the permit-or-not verdict for scope questions when the
  rules engine can tell (``scope_judge``), and logs (``querylog.py``: masked).
- Maintainers' edits: ``maintain.py``; tables: ``tables.py``.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.orm import sessionmaker

from api.db import Base, make_engine
from api.exceptions import InvalidInput, ServiceUnavailable, UnknownRegion
from api.faq.maintain import Maintenance, not_found
from api.faq.querylog import QueryLog
from knowledge_base.faq.entries import FaqEntry, build_entries, load_catalog

log = logging.getLogger("daoban.faq")
UNANSWERED = "知识库里没有找到可靠的答案，下面的条目仅供参考；可拨打12345或到导办窗口咨询。"


class FaqService:
    def __init__(self, settings, catalog, *, embedder=None, engine=None, background: bool | None = None,
                 scope_judge: Callable[[str, str | None], dict] | None = None):
        self.settings = settings
        self.catalog = catalog if catalog is not None else load_catalog(settings.data_dir)
        self.engine = engine or make_engine(settings.sqlalchemy_url)
        Base.metadata.create_all(self.engine)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.maintenance = Maintenance(self.Session, lambda: set(self.catalog.items))
        self.log = QueryLog(self.Session)
        self.scope_judge = scope_judge
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._index = None
        self._error: str | None = None
        self._build_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self._pending_rebuild = False
        self._closed = threading.Event()
        self.last_build: dict | None = None
        self._background = settings.embedder != "fake" if background is None else background
        self._last_check = time.monotonic()
        self._reloading = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def from_settings(cls, settings, catalog=None, *, engine=None, scope_judge=None) -> "FaqService":
        svc = cls(settings, catalog, engine=engine, scope_judge=scope_judge)
        svc.start()
        return svc

    def start(self) -> None:
        """Load the live index if one exists; else build it (in the background unless the
        embedder is the fast fake one)."""
        if self._try_load():
            return
        if self._background:
            self.rebuild()
        else:
            self._build()

    def get_embedder(self):
        """The FAQ's embedder (the intake's activity matcher shares it)."""
        return self._get_embedder()

    def _get_embedder(self):
        with self._embedder_lock:
            if self._embedder is None:
                from knowledge_base.faq.embedders import make_embedder

                self._embedder = make_embedder(self.settings)
            return self._embedder

    def _try_load(self) -> bool:
        from knowledge_base.faq.build import current_build
        from knowledge_base.faq.query import FaqIndex

        if current_build(self.settings.index_dir) is None:
            return False
        try:
            self._index = FaqIndex.load(self.settings.index_dir, self._get_embedder())
            return True
        except FileNotFoundError as exc:  # built with another embedder / an old format
            log.info("FAQ index not reusable: %s", exc)
            return False

    def entries(self) -> list[FaqEntry]:
        """All entries (generated, curated, maintainer) with the database's edits applied."""
        return build_entries(self.catalog, self.settings.data_dir, self.maintenance.edits())

    def _build(self) -> dict:
        from knowledge_base.faq.build import rebuild

        with self._build_lock:
            t0 = time.perf_counter()
            index, report = rebuild(self.settings, catalog=self.catalog, edits=self.maintenance.edits(),
                                    embedder=self._get_embedder())
            self._index = index  # atomic swap: searches use the old index until here
            self._error = None
            self.last_build = {**report.as_dict(), "total_seconds": round(time.perf_counter() - t0, 2),
                               "finished_at": datetime.now(timezone.utc).isoformat()}
            log.info("FAQ index ready: %s", {k: v for k, v in self.last_build.items() if k != "calibration"})
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
        cal = idx.calibration if idx else {}
        return {
            "ready": idx is not None,
            "building": bool(self._builder is not None and self._builder.is_alive()),
            "error": self._error,
            "embedder": getattr(self._embedder, "name", None),
            "runtime": getattr(self.settings, "faq_runtime", None),
            "entries": idx.n_entries if idx else 0,
            "wordings": len(idx.texts) if idx else 0,
            "index_path": str(idx.path) if idx and idx.path else None,
            "calibration": {k: v for k, v in cal.items() if k != "report"},
            "calibration_report": cal.get("report"),
            "last_build": self.last_build,
        }

    def close(self) -> None:
        self._closed.set()
        self.log.close()
        if self._builder is not None:
            self._builder.join(timeout=1)
        self.engine.dispose()

    # ------------------------------------------------------------------ search

    def _maybe_reload(self) -> None:
        """At most every 5 s look at ``CURRENT``; load a build made elsewhere in the background."""
        now = time.monotonic()
        if now - self._last_check < 5 or self._reloading or self._index is None:
            return
        self._last_check = now
        from knowledge_base.faq.build import current_build

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
        regions = self.catalog.regions
        if region and region not in regions:
            raise UnknownRegion(f"没有这个地区：{region}。", f"Unknown region: {region}.", {"known": sorted(regions)})
        t0 = time.perf_counter()
        res = idx.search(q, k=k, method=method, region=region, threshold=self.settings.faq_threshold)
        hits = [h.public() for h in res.hits]
        if hits and res.answered and self.scope_judge is not None:
            self._scope_verdict(res, hits)
        ms = (time.perf_counter() - t0) * 1000
        top = res.hits[0] if res.hits else None
        self.log.record(q, region, top.id if top else None, top.score if top else None, res.answered, res.reason, ms)
        u = res.understanding
        out: dict[str, Any] = {
            "answered": res.answered, "hits": hits,
            "clarify": res.clarify.public() if res.clarify else None,
            "understood": u.summary() if u is not None else None,
            "reason": res.reason,
        }
        if not res.answered:
            out["message"] = UNANSWERED
        return out

    def _scope_verdict(self, res, hits: list[dict]) -> None:
        """要不要 questions about a described trade: the rules engine says what this business
        needs; its verdict becomes the direct sentence.  Only when the question names the
        permit the hit is about (「开奶茶店需要食品证不」), or, for the general 「要办哪些证」
        entry, when it describes a trade (「开饭店要什么证」; 「开个花店要不要许可证」: none)."""
        hit = hits[0]
        u = res.understanding
        if hit["topic"] != "scope" or u is None:
            return
        code = hit["item_code"]
        if code and u.items.get(code, 0.0) < 0.75:
            return
        try:
            judged = self.scope_judge(u.question, u.region)
        except Exception:  # noqa: BLE001 - the verdict is an addition, never a failure
            log.exception("scope verdict failed")
            return
        if not judged:
            return
        if code:
            found = judged["verdicts"].get(code)
            if not found:
                return
            needed, why = found
            name = hit.get("item_name") or code
            direct = (f"要办{name}：{why}" if needed else f"不用办{name}：{why}").rstrip("。") + "。"
        else:
            names, acts = judged["needed"], "、".join(judged["activities"])
            if names:
                direct = f"按您说的（{acts}），要办：{'、'.join(names)}。"
            elif judged.get("free"):  # said only of trades positively known to need none
                direct = f"按您说的（{acts}），领了营业执照就能经营，不用另办许可证。"
            else:
                return
        hit["answer"] = f"{direct}\n{hit['answer']}"
        hit["direct"] = direct
        hit["short"] = direct if len(direct) <= 140 else direct[:139] + "…"

    # ------------------------------------------------------------------ query log

    def flush_log(self, timeout: float = 5.0) -> None:
        self.log.flush(timeout)

    def query_log(self, kind: str = "recent", limit: int = 50, low_score: float | None = None) -> list[dict]:
        if kind == "low_score" and low_score is None and self._index is not None:
            # answered, but the best wording was only just close enough
            low_score = float(self._index.calibration.get("hybrid", {}).get("anchored", 0.9)) + 0.02
        return self.log.rows(kind, limit, low_score)

    # ------------------------------------------------------------------ maintainers

    def list_entries(self, *, origin: str | None = None, item_code: str | None = None, topic: str | None = None,
                     q: str | None = None, include_retired: bool = True) -> list[FaqEntry]:
        out = []
        for e in self.entries():
            if (origin and e.origin != origin) or (item_code and e.item_code != item_code) \
                    or (topic and e.topic != topic) or (not include_retired and e.retired):
                continue
            if q and q not in e.question and q not in e.answer and not any(q in p for p in e.paraphrases):
                continue
            out.append(e)
        return out

    def get_entry(self, entry_id: str) -> FaqEntry:
        for e in self.entries():
            if e.id == entry_id:
                return e
        raise not_found(entry_id)

    def create_entry(self, data: dict) -> FaqEntry:
        eid = self.maintenance.create(data, {e.id: e for e in self.entries()})
        self.rebuild()
        return self.get_entry(eid)

    def update_entry(self, entry_id: str, patch: dict) -> FaqEntry:
        self.maintenance.update(self.get_entry(entry_id), patch)
        self.rebuild()
        return self.get_entry(entry_id)

    def set_retired(self, entry_id: str, retired: bool = True) -> FaqEntry:
        current = self.get_entry(entry_id)
        self.maintenance.set_retired(entry_id, retired)
        self.rebuild()
        return current.model_copy(update={"retired": retired})

    def add_paraphrase(self, entry_id: str, text: str) -> FaqEntry:
        self.get_entry(entry_id)
        self.maintenance.add_paraphrase(entry_id, text)
        self.rebuild()
        return self.get_entry(entry_id)

    def remove_paraphrase(self, entry_id: str, text: str) -> FaqEntry:
        self.get_entry(entry_id)
        self.maintenance.add_paraphrase(entry_id, text, removed=True)
        self.rebuild()
        return self.get_entry(entry_id)


def intake_scope_judge(intake) -> Callable[[str, str | None], dict]:
    """What the rules engine says about a trade described in a question:
    ``{"activities": [names], "needed": [item names], "verdicts": {code: (needed, why)}, "free": bool}``
    (free: every activity said is known to need no permit beyond the licence, and the bundle is
    empty), or {} when the text names no trade the engine knows.  Synonyms only (the intake's
    lexicon and engine; no model call, nothing written to the intake's unknown-trade log)."""
    from knowledge_base.intake.describe import Describer

    describer = Describer(intake.lexicon, industries=intake.catalog.industries)
    engine = intake.engine
    industries = intake.catalog.industries

    def judge(text: str, region: str | None) -> dict:
        parsed = describer.parse(text, region)
        acts = (parsed.found or {}).get("activities") or []
        if not acts:
            return {}
        bundle = engine.resolve(parsed.profile).model_dump()["bundle"]
        if bundle.get("coverage") not in (None, "known"):
            return {}
        verdicts = {}
        for it in bundle.get("items", []):
            verdicts[it["code"]] = (True, "".join(it.get("why") or []) or "按您说的经营内容需要办理")
        for it in bundle.get("not_required", []) or []:
            if it.get("code"):
                verdicts.setdefault(it["code"], (False, it.get("why") or "按您说的经营内容不需要"))
        names = [getattr(industries.get(a), "name", a) for a in acts if isinstance(a, str)]
        # every activity said is one the catalog positively knows to need no permit (coverage none)
        free = all(getattr(industries.get(a), "coverage", None) == "none" for a in acts)
        return {"activities": names, "needed": [it["name"] for it in bundle.get("items", [])], "verdicts": verdicts,
                "free": free and bundle.get("coverage") == "known" and not bundle.get("items")}

    return judge
