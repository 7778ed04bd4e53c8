"""One engine for every channel: describe (free text), resolve (profile), form.

Trades the catalog does not know are logged (masked) for the maintainers as trades
to add; the semantic matcher that recognises trades beyond the synonym list is
attached when the embedding model is ready (``attach_matcher``), until then such
words simply stay unknown (never 准入即准营)."""
from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timezone

from sqlalchemy import DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from api.catalog.service import check_region
from api.db import Base
from api.exceptions import InvalidInput
from knowledge_base.catalog.loader import Catalog
from knowledge_base.forms.merge import merge_form
from knowledge_base.intake.ack import acknowledge
from knowledge_base.intake.describe import Describer
from knowledge_base.intake.lexicon import build_lexicon
from knowledge_base.privacy import mask_text
from knowledge_base.rules.engine import Engine
from knowledge_base.rules.profile import Profile

log = logging.getLogger("daoban.intake")


class UnknownTradeRow(Base):
    """A trade word an applicant used that matched no activity (for the maintainers)."""

    __tablename__ = "intake_unknown_trades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc), index=True)
    word: Mapped[str] = mapped_column(String(40), index=True)
    region: Mapped[str | None] = mapped_column(String(20), nullable=True)
    text: Mapped[str] = mapped_column(Text)  # the description, personal numbers masked


class IntakeService:
    def __init__(self, catalog: Catalog, engine=None):
        self.catalog = catalog
        self.engine = Engine(catalog)
        self.lexicon = build_lexicon(catalog)
        self.describer = Describer(self.lexicon, industries=catalog.industries)
        self.db = engine
        self._log_q: queue.Queue | None = None
        if engine is not None:
            self._log_q = queue.Queue(maxsize=5000)
            threading.Thread(target=self._writer, name="intake-unknown-trades", daemon=True).start()

    def attach_matcher(self, matcher) -> None:
        """Recognise trades beyond the synonym list from now on (thread-safe swap)."""
        self.describer = Describer(self.lexicon, matcher, industries=self.catalog.industries)

    def close(self) -> None:
        if self._log_q is not None:
            self._log_q.put(None)

    def _check(self, profile: Profile) -> Profile:
        unknown = [a for a in profile.activities if a not in self.catalog.industries]
        if unknown:
            raise InvalidInput(
                f"不认识的经营项目代码：{'、'.join(u[:40] for u in unknown)}。",
                f"Unknown activity keys: {', '.join(u[:40] for u in unknown)}.",
                {"allowed": sorted(self.catalog.industries)},
            )
        for key, words in profile.candidates.items():
            if any(w not in self.catalog.industries for w in words):
                raise InvalidInput("候选经营项目代码不对。", f"Unknown candidate activity for '{key[:40]}'.")
        region = self.catalog.regions.get(profile.region or "")
        if profile.district and (region is None or profile.district not in {d.code for d in region.districts}):
            raise InvalidInput(
                f"没有这个县（市、区）代码：{profile.district[:40]}。",
                f"Unknown district '{profile.district[:40]}' for region '{profile.region}'.",
                {"allowed": [d.code for d in region.districts] if region else []},
            )
        return profile

    def describe(self, text: str, region: str | None = None, base: Profile | None = None) -> dict:
        region = check_region(region)
        parsed = self.describer.parse(text, region)
        profile = (base or Profile()).merged(parsed.profile, parsed.removed) if base else parsed.profile
        result = self.engine.resolve(self._check(profile))
        result.understood = parsed.found
        result.ack = acknowledge(self.catalog, base or Profile(), profile, parsed)
        if parsed.profile.unrecognized:
            self._log_unknown(parsed.profile.unrecognized, profile.region, text)
        return result.model_dump()

    def resolve(self, profile: Profile) -> dict:
        return self.engine.resolve(self._check(profile)).model_dump()

    def form(self, profile: Profile, values: dict | None = None, resolved: dict | None = None) -> dict:
        """The merged form for the profile's bundle (``resolved``: a resolve() result the
        caller already has, so the bundle is not computed twice)."""
        profile = self._check(profile)
        bundle = (resolved or self.resolve(profile))["bundle"]
        codes = [it["code"] for it in bundle["startup_steps"]] + [it["code"] for it in bundle["items"]]
        form = merge_form(self.catalog, codes, profile, values)
        form["bundle_final"] = bundle["final"]
        form["profile"] = profile.model_dump()  # so a widget can submit the form with what it was built from
        return form

    # -- trades to add (maintainers) ----------------------------------------
    def _log_unknown(self, words: list[str], region: str | None, text: str) -> None:
        log.info("unknown trade %s (region %s)", "、".join(words), region)
        if self._log_q is None:
            return
        try:
            self._log_q.put_nowait((words, region, mask_text(text)[:500]))
        except queue.Full:
            log.warning("unknown-trade log queue full; entry dropped")

    def _writer(self) -> None:
        while True:
            entry = self._log_q.get()
            if entry is None:
                return
            words, region, text = entry
            try:
                with Session(self.db) as s, s.begin():
                    for w in words:
                        s.add(UnknownTradeRow(word=w[:40], region=region, text=text))
            except Exception:  # logging must never break the intake
                log.exception("could not store an unknown trade")

    def unknown_trades(self, limit: int = 100) -> list[dict]:
        """Trade words to add to the catalog, most asked first."""
        if self.db is None:
            return []
        with Session(self.db) as s:
            rows = s.execute(
                select(UnknownTradeRow.word, func.count(), func.max(UnknownTradeRow.created_at))
                .group_by(UnknownTradeRow.word).order_by(func.count().desc()).limit(limit)
            ).all()
            out = []
            for word, count, last in rows:
                example = s.scalar(select(UnknownTradeRow.text).where(UnknownTradeRow.word == word)
                                   .order_by(UnknownTradeRow.id.desc()).limit(1))
                out.append({"word": word, "count": count, "last_seen": last.isoformat() if last else None, "example": example})
            return out
