"""FAQ entries: generated from the catalog (jinja2 templates over each item's
structured facts, one entry per item and contract topic, and one per permit, filing and
registration on what the holder must do afterwards, ``_after_licence``, and on operating without
it, ``_unlicensed``) plus curated entries
from ``data/faq/curated.yaml`` for what no single item answers.

A generated answer opens with one direct sentence (``answers.direct_sentence``),
then the details rendered from the item's facts with their sources, so it cannot
drift from the catalog.  A curated entry may ``overrides:`` a generated
one; the generated entry is then kept (visible to maintainers, ``overridden_by``
set) but not indexed, and its question wordings are indexed for the curated one.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, Field

TOPICS: tuple[str, ...] = (
    "scope", "conditions", "materials", "time_limit", "fee", "validity",
    "department", "process", "commitment", "change", "general",
)
TOPIC_LABELS: dict[str, str] = {
    "scope": "适用范围", "conditions": "条件", "materials": "材料", "time_limit": "办理时限",
    "fee": "收费", "validity": "有效期", "department": "办理部门", "process": "流程",
    "commitment": "告知承诺/容缺", "change": "变更注销", "general": "通用",
}
KIND_LABELS = {"permit": "许可", "filing": "备案", "registration": "登记", "startup": "企业开办"}
UNIT_LABELS = {"working_days": "个工作日", "days": "日", "immediate": "即办"}
INFERRED_NOTE = "以窗口核实为准"
TEMPLATES_DIR = Path(__file__).parent / "templates"

Origin = Literal["generated", "curated", "maintainer"]


class FaqEntry(BaseModel):
    id: str
    item_code: str | None = None
    topic: str
    question: str
    paraphrases: list[str] = Field(default_factory=list)
    answer: str
    direct: str | None = None  # the answer's first sentence, answering the question as asked
    sources: list[str] = Field(default_factory=list)
    inferred: bool = False
    origin: Origin = "generated"
    terms: list[str] = Field(default_factory=list)  # words naming the entry's subject (证照分离), no item needed
    region: str | None = None  # curated entry that only applies to one region
    overrides: str | None = None  # curated: id of the generated entry it replaces
    overridden_by: str | None = None  # generated: the curated entry replacing it
    retired: bool = False
    # curated: an entry shown second whenever this one comes first, because callers' labellers
    # file the same question under either (「开奶茶店要办哪些证」: general.which_permits or
    # general.reform_scope); hit@3 then holds whichever reading the caller meant
    second: str | None = None

    def texts(self) -> list[str]:
        """Every wording indexed for this entry (canonical question first)."""
        seen: dict[str, None] = {}
        for t in [self.question, *self.paraphrases]:
            t = normalize_text(t)
            if t:
                seen.setdefault(t, None)
        return list(seen)

    @property
    def active(self) -> bool:
        return not self.retired and self.overridden_by is None

    def content_hash(self) -> str:
        payload = json.dumps(
            [self.id, self.item_code, self.topic, self.texts(), self.answer, self.sources, self.region],
            ensure_ascii=False,
        )
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def normalize_text(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip())


# --------------------------------------------------------------------------- catalog


def load_catalog(data_dir: Path | str):
    """The one strict catalog loader (a broken catalog file is an error, never skipped)."""
    from knowledge_base.catalog.loader import load_catalog as _load

    return _load(data_dir)


@dataclass
class Edits:
    """Maintainers' changes stored in the database, applied over generated + curated."""

    entries: list[FaqEntry] = field(default_factory=list)  # new or overriding entries
    paraphrases: list[tuple[str, str, bool]] = field(default_factory=list)  # (entry id, text, removed), in order
    retired: dict[str, bool] = field(default_factory=dict)  # entry id -> retired flag


# --------------------------------------------------------------------------- rendering


def _fact_text(fact) -> str:
    if fact is None:
        return ""
    text = fact.text.rstrip()
    return f"{text}【推断，{INFERRED_NOTE}】" if getattr(fact, "inferred", False) else text


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["fact"] = _fact_text
    return env


@lru_cache(maxsize=1)
def question_templates() -> dict[str, list[str]]:
    return yaml.safe_load((TEMPLATES_DIR / "questions.yaml").read_text(encoding="utf-8"))


def _short_names(name: str) -> list[str]:
    out = [name]
    base = re.sub(r"[（(][^）)]*[）)]", "", name).strip()
    if base and base != name:
        out.append(base)
    for suffix in ("证书", "许可证", "证"):
        if base.endswith(suffix) and len(base) - len(suffix) >= 3:
            out.append(base[: -len(suffix)])
            break
    return out


def name_variants(item, catalog=None) -> list[str]:
    names = _short_names(item.name) + list(item.aliases)
    if catalog is not None:
        for region in getattr(catalog, "regions", {}).values():
            for ri in region.items:
                if ri.code == item.code and ri.local_name:
                    names.append(ri.local_name)
    seen: dict[str, None] = {}
    for n in names:
        n = n.strip()
        if n:
            seen.setdefault(n, None)
    return list(seen)


def _topic_facts(item, topic: str) -> list | None:
    """The facts an answer on ``topic`` is built from, or None when the item has none."""
    if topic == "scope":
        return [*item.triggers, *item.exemptions, *item.legal_basis]
    if topic == "general":
        return [*item.legal_basis[:1], *([item.mode_note] if item.mode_note else [])]
    if topic == "conditions":
        return [f for facts in item.conditions.values() for f in facts] or None
    if topic == "materials":
        return list(item.materials) or None
    if topic == "time_limit":
        return [item.time_limit]
    if topic == "department":
        return list(item.legal_basis[:1])
    if topic == "process":
        return list(item.process) or None
    if topic == "commitment" and item.commitment is None:
        # not stated for the item: answered from its reform mode, marked as inferred (a caller
        # asking 「网吧证能告知承诺吗」 gets the permit's answer, not another permit's)
        return [item.mode_note] if item.mode_note else list(item.legal_basis[:1])
    if topic in ("fee", "validity", "commitment", "change"):
        fact = getattr(item, topic)
        if fact is None:
            return None
        extra = [item.change] if topic == "validity" and item.change else []
        extra += [item.mode_note] if topic == "commitment" and item.mode_note else []
        return [fact, *extra]
    return None


def _source_titles(catalog, item, facts: Iterable) -> list[str]:
    titles: dict[str, None] = {}
    for f in facts:
        for key in getattr(f, "src", []) or []:
            src = catalog.source(item, key) if catalog is not None else None
            title = src.title if src is not None else key
            titles.setdefault(title, None)
    return list(titles)


def render_answer(item, topic: str, catalog) -> tuple[str, str, list[str], bool] | None:
    """(answer, direct sentence, sources, inferred): the direct sentence first, then the
    details from the item's facts, then the sources."""
    from knowledge_base.faq.answers import direct_sentence

    facts = _topic_facts(item, topic)
    if facts is None:
        return None
    direct = direct_sentence(item, topic)
    inferred = any(getattr(f, "inferred", False) for f in facts) or (topic == "commitment" and item.commitment is None)
    sources = _source_titles(catalog, item, facts)
    ctx: dict[str, Any] = {
        "item": item,
        "name": item.name,
        "kind_label": KIND_LABELS.get(item.kind, item.kind),
        "mode_label": _mode_label(item.mode),
        "triggers": item.triggers,
        "exemptions": item.exemptions,
        "legal_basis": item.legal_basis,
        "conditions": [(g, fs) for g, fs in item.conditions.items() if fs],
        "materials": item.materials,
        "tl": item.time_limit,
        "unit_label": UNIT_LABELS.get(item.time_limit.unit, ""),
        "inferred": inferred,
        "sources": sources,
    }
    return _render(f"{topic}.j2", direct, **ctx), direct, sources, inferred


def _render(template: str, direct: str | None, **ctx) -> str:
    """A template's text without blank lines, the direct sentence first."""
    text = re.sub(r"\n{2,}", "\n", _env().get_template(template).render(**ctx)).strip()
    return f"{direct}\n{text}" if direct else text


def _mode_label(mode: str) -> str:
    try:
        from knowledge_base.catalog.models import MODE_LABELS

        return MODE_LABELS.get(mode, mode)
    except Exception:  # noqa: BLE001
        return mode


def _paraphrases(item, topic: str, catalog) -> tuple[str, list[str]]:  # topic: a questions.yaml key
    """Canonical question and wordings: every template with the official name, and
    each name variant (short name, aliases, local names) rotated across templates
    so every variant appears in at least two wordings."""
    templates = question_templates().get(topic) or []
    names = name_variants(item, catalog)
    out: list[str] = []
    for i, tpl in enumerate(templates):
        out.append(tpl.format(n=item.name))
        if len(names) > 1:
            others = names[1:]
            out.append(tpl.format(n=others[i % len(others)]))
            if len(others) > len(templates) // 2:
                out.append(tpl.format(n=others[(i + len(templates)) % len(others)]))
    for n in names[1:]:  # every variant with the canonical wording too
        out.append(templates[0].format(n=n))
    question = templates[0].format(n=item.name)
    seen: dict[str, None] = {}
    for t in out:
        if t != question:
            seen.setdefault(t, None)
    return question, list(seen)


_GENERATED: dict[int, tuple[object, list[FaqEntry]]] = {}


def generate_entries(catalog) -> list[FaqEntry]:
    """One entry per item and topic with facts, plus the after-licence and without-it entries (cached per catalog object: rendering all of
    them takes a second or two and every maintainer call needs them; callers copy)."""
    cached = _GENERATED.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return [e.model_copy(deep=True) for e in cached[1]]
    entries = _generate(catalog)
    _GENERATED.clear()
    _GENERATED[id(catalog)] = (catalog, entries)
    return [e.model_copy(deep=True) for e in entries]


def _generate(catalog) -> list[FaqEntry]:
    entries: list[FaqEntry] = []
    for code in sorted(catalog.items):
        item = catalog.items[code]
        for topic in TOPICS:
            rendered = render_answer(item, topic, catalog)
            if rendered is None:
                continue
            answer, direct, sources, inferred = rendered
            question, paraphrases = _paraphrases(item, topic, catalog)
            entries.append(FaqEntry(
                id=f"{code}.{topic}", item_code=code, topic=topic, question=question,
                paraphrases=paraphrases, answer=answer, direct=direct, sources=sources, inferred=inferred,
                origin="generated",
            ))
        for extra in (_after_licence(item, catalog), _unlicensed(item, catalog)):
            if extra is not None:
                entries.append(extra)
    return entries


# sources of the after-licence entry (data/catalog/sources.yaml): display and annual report
# (市场主体登记管理条例 35/36, 企业信息公示暂行条例 8), no lending and inspections (行政许可法 61/80,
# 国办发〔2015〕58号), checks after a commitment (国办发〔2020〕42号)
AFTER_SOURCES = ("shztdj", "qyxxgs", "xzxkf_jd", "sjyg", "gbf_2020_42")
AFTER_DOCS = {"permit": "许可证", "filing": "备案凭证", "registration": "登记证"}


def _after_licence(item, catalog) -> FaqEntry | None:
    """What a holder must do once the permit is granted (display it, never lend it, annual
    report, inspections, changes first): one entry per permit, filing and registration, topic
    ``general``, id ``<code>.after``.  The duties are the same for every permit; the entry exists
    per item because a caller asks them of one permit (「食品证要挂在店里吗」).  行政许可法 (no lending,
    第80条; inspections, 第61条) is cited for permits only: for a filing or a registration the same
    duties are stated as inferred.  No "no annual inspection" claim: some permits have periodic
    校验, 年审 or equipment inspections."""
    doc = AFTER_DOCS.get(item.kind)
    if doc is None:
        return None
    got = "拿到" if item.kind == "permit" else "办好"
    sources = [catalog.sources[k].title for k in AFTER_SOURCES if item.kind == "permit" or k != "xzxkf_jd"]
    direct = f"{got}{item.name}以后：证照在经营场所亮出来，不出租出借，按时年报，接受部门抽查；登记内容变了先办变更。"
    answer = _render("after.j2", direct, name=item.name, doc=doc, got=got, kind=item.kind,
                     kind_label=KIND_LABELS[item.kind], note=INFERRED_NOTE, inferred=True, sources=sources)
    question, paraphrases = _paraphrases(item, "after", catalog)
    return FaqEntry(
        id=f"{item.code}.after", item_code=item.code, topic="general", question=question,
        paraphrases=paraphrases, answer=answer, direct=direct, sources=sources, inferred=True, origin="generated",
    )


# the without-it entry of a permit: 无证经营 is forbidden (第2条), found out by the department the
# permit's law names (第5条) and punished under that law (第13条)
UNLICENSED_SOURCES = ("wzwz",)


def _unlicensed(item, catalog) -> FaqEntry | None:
    """What happens when one operates without the permit (「没办食品证就开业会怎样」): one entry per
    permit, filing and registration, topic ``general``, id ``<code>.unlicensed``.  For a permit
    that is 无证经营 (无证无照经营查处办法第2、5、13条): the penalty is the permit's own law's, named by
    its legal basis; the usual penalties are stated as inferred.  For a filing or a registration
    (the catalog's kinds, not its kind of permit) the decree is not cited and the consequence is
    inferred: the department orders it put right, a fine when it is not."""
    if item.kind not in AFTER_DOCS:
        return None
    permit = item.kind == "permit"
    if permit:
        direct = f"没拿到{item.name}就经营，属于无证经营：主管部门会查处，按这张证的设定依据处罚；先停下，证办下来再营业。"
    else:
        direct = f"没办好{item.name}：主管部门会责令改正，逾期不改的可能罚款；请尽快补办。"
    basis = list(item.legal_basis[:1])
    sources = list(dict.fromkeys([*(catalog.sources[k].title for k in UNLICENSED_SOURCES if permit),
                                  *_source_titles(catalog, item, basis)]))
    answer = _render("unlicensed.j2", direct, name=item.name, permit=permit, kind_label=KIND_LABELS[item.kind],
                     basis=basis, note=INFERRED_NOTE, inferred=True, sources=sources)
    question, paraphrases = _paraphrases(item, "unlicensed", catalog)
    return FaqEntry(
        id=f"{item.code}.unlicensed", item_code=item.code, topic="general", question=question,
        paraphrases=paraphrases, answer=answer, direct=direct, sources=sources, inferred=True, origin="generated",
    )


# --------------------------------------------------------------------------- curated


def load_curated(path: Path | str) -> list[FaqEntry]:
    path = Path(path)
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for row in raw.get("entries", []):
        row = dict(row)
        row.setdefault("origin", "curated")
        row["answer"] = normalize_answer(row.get("answer", ""))
        entry = FaqEntry.model_validate(row)
        if entry.topic not in TOPICS:
            raise ValueError(f"{path}: entry {entry.id}: unknown topic {entry.topic!r}")
        if entry.direct:  # the answer opens with the sentence answering the question as asked
            entry.direct = entry.direct.strip()
            if not entry.answer.startswith(entry.direct):
                entry.answer = f"{entry.direct}\n{entry.answer}"
        else:
            from knowledge_base.faq.answers import first_clause

            entry.direct = first_clause(entry.answer.splitlines()[0], 90)
        if entry.inferred and INFERRED_NOTE not in entry.answer:
            entry.answer += f"（部分内容为推断，{INFERRED_NOTE}。）"
        if entry.sources and "来源：" not in entry.answer:
            entry.answer += "\n来源：" + "；".join(entry.sources)
        out.append(entry)
    return out


def normalize_answer(text: str) -> str:
    return "\n".join(line.rstrip() for line in (text or "").strip().splitlines())


def merge_entries(generated: list[FaqEntry], curated: list[FaqEntry], edits: Iterable[FaqEntry] = ()) -> list[FaqEntry]:
    """generated ← curated.yaml ← maintainer edits (database), by id.  Overrides mark
    the generated entry and move its wordings to the overriding entry."""
    by_id: dict[str, FaqEntry] = {e.id: e.model_copy(deep=True) for e in generated}
    for e in [*curated, *edits]:
        prev = by_id.get(e.id)
        if prev is not None and prev.origin == "generated" and e.origin != "generated":
            # a curated entry using a generated id replaces it in place
            e = e.model_copy(update={"overrides": e.overrides or None})
        elif prev is not None:
            # a maintainer's edit of a curated entry rewrites its wording, not its ranking: the
            # subject words (terms) and the pair (second) stay unless the edit sets its own; the
            # direct sentence stays while the edited answer still opens with it
            keep = {k: getattr(prev, k) for k in ("terms", "second") if getattr(prev, k) and not getattr(e, k)}
            if prev.direct and not e.direct and e.answer.startswith(prev.direct):
                keep["direct"] = prev.direct
            if keep:
                e = e.model_copy(update=keep)
        by_id[e.id] = e.model_copy(deep=True)
    for e in list(by_id.values()):
        if e.overrides and e.overrides in by_id and e.active:
            target = by_id[e.overrides]
            target.overridden_by = e.id
            extra = [t for t in target.texts() if t not in e.texts()]
            e.paraphrases = [*e.paraphrases, *extra]
            if e.item_code is None:
                e.item_code = target.item_code
    return sorted(by_id.values(), key=lambda e: (e.origin != "curated", e.id))


def build_entries(catalog, data_dir: Path | str, edits: Edits | None = None) -> list[FaqEntry]:
    """generated ← data/faq/curated.yaml ← maintainer edits (entries, wordings, retired flags)."""
    edits = edits or Edits()
    curated = load_curated(Path(data_dir) / "faq" / "curated.yaml")
    entries = merge_entries(generate_entries(catalog), curated, edits.entries)
    by_id = {e.id: e for e in entries}
    for entry_id, text, removed in edits.paraphrases:
        e = by_id.get(entry_id)
        if e is None:
            continue
        if removed:
            e.paraphrases = [t for t in e.paraphrases if t != text]
        elif text not in e.paraphrases:
            e.paraphrases.append(text)
    for entry_id, retired in edits.retired.items():
        if entry_id in by_id and retired:
            by_id[entry_id].retired = True
    for e in entries:
        if e.second is not None and (e.second == e.id or e.second not in by_id):
            raise ValueError(f"data/faq/curated.yaml: entry {e.id}: second {e.second!r} is not another entry")
    return entries
