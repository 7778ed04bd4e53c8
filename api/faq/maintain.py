"""Maintainers' edits of the FAQ, stored in the database (tables ``faq_entries``,
``faq_paraphrases``, ``faq_entry_flags``) and merged over the catalog-generated and
curated entries at every build (``knowledge_base.faq.entries.Edits``)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from api.exceptions import Conflict, InvalidInput, NotFound
from api.faq.tables import FaqEntryRow, FaqFlagRow, FaqParaphraseRow
from knowledge_base.faq.entries import TOPICS, Edits, FaqEntry


class Maintenance:
    def __init__(self, sessionmaker, item_codes):
        self.Session = sessionmaker
        self.item_codes = item_codes  # callable -> set of catalog codes

    def edits(self) -> Edits:
        with self.Session() as s:
            rows = s.scalars(select(FaqEntryRow)).all()
            paras = s.scalars(select(FaqParaphraseRow).order_by(FaqParaphraseRow.id)).all()
            flags = {f.entry_id: f.retired for f in s.scalars(select(FaqFlagRow)).all()}
        entries = [FaqEntry(id=r.id, item_code=r.item_code, topic=r.topic, question=r.question, answer=r.answer,
                            sources=list(r.sources or []), inferred=r.inferred, region=r.region,
                            overrides=r.overrides, retired=r.retired, origin="maintainer") for r in rows]
        return Edits(entries=entries, paraphrases=[(p.entry_id, p.text, p.removed) for p in paras], retired=flags)

    def check(self, data: dict) -> None:
        if data.get("topic") not in TOPICS:
            raise InvalidInput(f"主题必须是：{'、'.join(TOPICS)}。", "Unknown topic.", {"topics": list(TOPICS)})
        code = data.get("item_code")
        if code and code not in self.item_codes():
            raise InvalidInput(f"事项编码不存在：{code}。", f"Unknown item code {code}.")

    def create(self, data: dict, existing: dict[str, FaqEntry]) -> str:
        self.check(data)
        eid = data["id"]
        if eid in existing and existing[eid].origin != "generated":
            raise Conflict(f"条目 {eid} 已存在，请用编辑。", f"Entry {eid} exists.")
        if eid in existing:
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
        return eid

    def update(self, current: FaqEntry, patch: dict) -> None:
        if current.origin == "generated":
            raise Conflict(f"{current.id} 是根据事项目录生成的，答案随目录更新；请新建条目并填写 overrides: {current.id}，"
                           "或只增删它的问法。", "Generated entries cannot be edited; override them.")
        merged = {**current.model_dump(), **{k: v for k, v in patch.items() if v is not None}}
        self.check(merged)
        with self.Session.begin() as s:
            row = s.get(FaqEntryRow, current.id)
            if row is None:  # a curated.yaml entry edited for the first time: store the edited copy
                row = FaqEntryRow(id=current.id)
                s.add(row)
            for key in ("item_code", "topic", "question", "answer", "sources", "inferred", "region", "overrides"):
                setattr(row, key, merged.get(key))
            row.retired = bool(merged.get("retired"))
            row.updated_at = datetime.now(timezone.utc)
            if patch.get("paraphrases") is not None:
                s.execute(update(FaqParaphraseRow).where(FaqParaphraseRow.entry_id == current.id).values(removed=True))
                for p in patch["paraphrases"]:
                    s.add(FaqParaphraseRow(entry_id=current.id, text=p.strip()))

    def set_retired(self, entry_id: str, retired: bool) -> None:
        with self.Session.begin() as s:
            row = s.get(FaqEntryRow, entry_id)
            if row is not None:
                row.retired = retired
                return
            flag = s.get(FaqFlagRow, entry_id)
            if flag is None:
                s.add(FaqFlagRow(entry_id=entry_id, retired=retired))
            else:
                flag.retired = retired
                flag.updated_at = datetime.now(timezone.utc)

    def add_paraphrase(self, entry_id: str, text: str, *, removed: bool = False) -> None:
        text = text.strip()
        if not text:
            raise InvalidInput("问法不能为空。", "Empty paraphrase.")
        with self.Session.begin() as s:
            s.add(FaqParaphraseRow(entry_id=entry_id, text=text, removed=removed))


def not_found(entry_id: str) -> NotFound:
    return NotFound(f"没有这个问答条目：{entry_id}。", f"No FAQ entry {entry_id}.")
