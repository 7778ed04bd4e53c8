"""Query understanding before retrieval: which permit, which topic, which place.

- **Items**: a lexicon built from the catalog (each item's name, short name, aliases,
  the regions' local names) plus what callers call things (``data/faq/aliases.yaml``:
  烟证, 卫生证, 执照 …).  Longest matches, no overlaps.  A name that fits several
  items (小作坊登记证: 广东, 河南, 宁夏) gives each an equal share; a place in the
  question or the ``region`` parameter keeps only the items of that province.
  Activity words (药店, 网吧 …) point at an item weakly and only when no name is said.
- **Typos and homophones** are corrected first against the same names and the domain
  terms (``pinyin.py``).
- **Places**: the regions' names, place words and districts from the catalog.
- **Topic**: ``ngram.py``'s topic classifier on the question with names and places masked.
- **Scope**: ``scope.py``'s P(the question is about a permit at all), learned from the
  callers' questions written blind; the gate refuses below its thresholds.
- **Refusal cues** (``data/faq/out_of_scope.yaml``): what the caller wants is not a
  permit (a complaint, compensation, an exam, a job, an emergency) or is another
  government service (护照, 社保卡 …) when no permit is named.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge_base.faq.area import area_item
from knowledge_base.faq.pinyin import Correction, PinyinCorrector
from knowledge_base.faq.scope import p_in
from knowledge_base.faq.text import clean_question


@dataclass
class Understanding:
    question: str  # as retrieval reads it: personal numbers out, cleaned, corrected
    cleaned: str  # before correction
    corrections: list[Correction] = field(default_factory=list)
    items: dict[str, float] = field(default_factory=dict)  # item code -> evidence (1.0: named alone)
    excluded: set = field(default_factory=set)  # permits said after 除了: held already, not asked about
    subjects: dict[str, float] = field(default_factory=dict)  # general entry id -> 1.0 (its term is said;
    # 0 beside a permit's specific name: 「食品证能告知承诺吗」 asks about the permit, 「办食品证员工都得有
    # 健康证吗」 about the food licence's conditions; the general entry still ranks by its wording;
    # −1 for a condition term, 健康证, beside a permit or a trade: pushed down, see __call__)
    hinted: set[str] = field(default_factory=set)  # items pointed at by an activity only (药店, 网吧)
    named: bool = False  # a permit's name was said (not only an activity)
    ambiguous: list[str] = field(default_factory=list)  # items one name fits equally (clarify)
    item_words: list[str] = field(default_factory=list)
    # trades said that the catalog knows to need no permit (花店, 五金店), outside any name or hint
    trades: list[str] = field(default_factory=list)
    # the list of every permit is asked for (「开奶茶店要办哪些证」「几个证」「都要啥」), not one permit's rules
    asks_all: bool = False
    # the licence said with the permits in general (「执照和许可证能一起变更吗」「执照加许可一块办要几天」):
    # the two together are the subject, which the general entries answer
    together: bool = False
    region: str | None = None
    district: str | None = None
    province: str | None = None  # the region's province, or a province named alone (宁夏的…)
    region_from_text: bool = False
    topics: dict[str, float] = field(default_factory=dict)
    refusal: str | None = None  # out-of-scope category and the cue, e.g. "complaint:投诉"
    in_scope: float | None = None  # P(a question about a permit at all), scope.py (None: no classifier)
    licensing: bool = False  # a word of setting up or licensing a business is said (开, 办, 证, 许可 …)
    masked: str = ""
    retrieval: str = ""  # the question without place words (the place is handled apart)

    @property
    def topic(self) -> str | None:
        return max(self.topics, key=self.topics.get) if self.topics else None

    def summary(self) -> dict:
        return {
            "question": self.question,
            "corrections": [{"typed": c.typed, "read_as": c.word} for c in self.corrections],
            "items": {k: round(v, 3) for k, v in sorted(self.items.items(), key=lambda kv: -kv[1])},
            "named": self.named,
            "subjects": sorted(self.subjects),
            "trades": list(self.trades),
            "asks_all": self.asks_all,
            "region": self.region,
            "district": self.district,
            "topic": self.topic,
            "topic_p": round(self.topics.get(self.topic, 0.0), 3) if self.topic else None,
            "refusal": self.refusal,
            "in_scope": None if self.in_scope is None else round(self.in_scope, 3),
        }


class WordIndex:
    """Words looked up by their first character, so that matching a short question against
    thousands of names only tries the few words that can start in it."""

    def __init__(self, words):
        self.by_first: dict[str, list[str]] = {}
        for w in sorted(set(words), key=lambda w: (-len(w), w)):
            if w:
                self.by_first.setdefault(w[0], []).append(w)
        # one question is matched against the same words several times (protected characters,
        # places, names, masking): the last few texts' candidates are kept (read-only lists)
        self._recent: dict[str, list[str]] = {}

    def candidates(self, text: str) -> list[str]:
        """Longest first; of two words as long, the one said first (then by the word itself):
        never the order of a set, which changes from process to process (the topic classifier's
        training text, masked by this, differed between two builds of the same inputs)."""
        hit = self._recent.get(text)
        if hit is not None:
            return hit
        out: list[str] = []
        for ch in set(text):
            out.extend(w for w in self.by_first.get(ch, ()) if w in text)
        out.sort(key=lambda w: (-len(w), text.find(w), w))
        if len(self._recent) >= 16:
            self._recent.clear()
        self._recent[text] = out
        return out


_LATIN = re.compile("[a-z]+")
# words of making goods: the trades known to need no permit (Understanding.trades) sell or serve
_MAKING = re.compile("生产|加工|制造|厂")
# 要 after selling or opening and before a permit is "needs" (「超市卖要许可吗」「零卖要许可证吗」: does
# selling need one), never a typo of 药 (卖药许可): the corrector may not touch it.  In the development
# sets all five questions so written ask whether selling needs a permit; 农要许可, 开要店 stay typos of 药
_NEEDS = re.compile("(?<=[卖开做办])要(?=许可|证)")
# the reform's modes of a permit (「审批改为备案是啥意思」): 备案 said so is the reform's, no filing's
_MODES = re.compile("审批|改(为|成)?备案")
# asking for the whole list of permits: a plural or a total beside 证, 许可, 手续 or 牌照
_ASKS_ALL = re.compile(
    "(哪些|哪几|几个|几样|几多|多少|几种)(个|样|种|项)?(证|许可|手续|牌|执照|审批)"
    "|都(要|需要|得)(办)?(些|哪)?(啥|什么|哪些|甚么|咩|边啲)"
    "|(还|另外|以外)(要|需要|得)(办)?(些|哪)?(啥|什么|哪些|甚么|咩|边啲)"
    "|(证|许可|手续)(都)?有哪些|(一共|总共|所有)(的)?(要)?(办)?(证|许可|手续)")


def _exceptions(words) -> re.Pattern:
    """One pattern for a list of words a cue is not read inside (``licensing_not``, ``subjects_not``),
    masked out before the cues are looked for: the longest first (开不开门 before 开门); each a
    word, or a regular expression where it holds a lookaround or a character class (开药(?!店|房):
    开药店 is opening a pharmacy; 卖[^，。的给]{0,4}感冒药)."""
    words = sorted(words or [], key=len, reverse=True)
    return re.compile("|".join(w if "(?" in w or "[" in w else re.escape(w) for w in words) or "(?!)")


def _said(text: str, cue: str, *, negatable: bool) -> bool:
    """``cue`` occurs in ``text``; when ``negatable``, not right after 不 or 没 (「不看病」)."""
    at = text.find(cue)
    while negatable and at > 0 and text[at - 1] in "不没":
        at = text.find(cue, at + 1)
    return at >= 0


def _matches(text: str, words: WordIndex, taken: list[bool]) -> list[tuple[int, str]]:
    """Longest-first matches of ``words`` not overlapping ``taken`` (which they then take)."""
    found = []
    for w in words.candidates(text):
        start = text.find(w)
        while start >= 0:
            end = start + len(w)
            if not any(taken[start:end]):
                for i in range(start, end):
                    taken[i] = True
                found.append((start, w))
            start = text.find(w, end)
    return sorted(found)


# 「卫生证跟消防那个，先问消防」「烟草证还有预包装备案，先问烟草证」: of several permits named, the
# one after the marker is the subject
_FOCUS = re.compile(r"(先问|先说|就问|只问|单问|先讲|想先问|我问的是|问的是)(一下|下)?")
# 「除了营业执照还要别的证么」: the permit after 除了 is held already, not asked about
_EXCEPT = re.compile(r"除了(办|领|有|那个|这个|个)?")
# 「…，哦不对，是…」「…，不是，是…」「…唔系，系…」: what follows replaces the name before it; not the
# question's own 是不是, 对不对, 系唔系 (「银行开户是不是跟执照一起办」 asks about the account: read as a
# retraction it was dropped for the licence, and so were the subjects of 165 development questions)
_RETRACTION = re.compile(r"[，,、\s]*(哦|噢|呃|啊)?((?<!对)不对|(?<!是)不是|(?<!系)唔系|唔啱|说错了|讲错了|搞错了|打错了)"
                         r"[，,、\s]*(应该是|应该系|是|系)?")


class Understander:
    """Built from the lexicon stored with the index (``build.lexicon``)."""

    # the food permits an area rule decides among (the filing too: 「同心二十平的便利店，备案还是登记证」),
    # and those a food question may name beside them and keep (清真: its own permit, asked or not)
    area_overrides = frozenset({"food_business_license", "nx_food_registration", "food_prepackaged_filing"})
    area_beside = frozenset({"halal_food_permit"})

    def __init__(self, lexicon: dict, corrector: PinyinCorrector | None, classifier=None, scope=None):
        self.item_words: dict[str, list[str]] = lexicon.get("item_words", {})
        self.weak: set[str] = set(lexicon.get("weak", []))
        self.background: set[str] = set(lexicon.get("background", []))
        self.permits_in_general = re.compile(lexicon.get("permits_in_general") or "(?!)")
        self.hint_words: dict[str, list[str]] = lexicon.get("hint_words", {})
        self.bare: dict[str, str] = lexicon.get("bare_words", {})  # 备案 alone → the filing most callers mean
        self.overrides = [(code, re.compile(p)) for code, ps in (lexicon.get("overrides") or {}).items() for p in ps]
        self.area_rules: list[dict] = lexicon.get("area_rules") or []  # area.area_item
        self.not_items: set[str] = set(lexicon.get("not_items", []))
        # pinyin initials (yyzz → 营业执照), ASCII letters on neither side
        self.abbreviations = [(re.compile(rf"(?<![a-z]){pat}(?![a-z])"), word)
                              for pat, word in (lexicon.get("abbreviations") or {}).items()]
        self.initials: dict[str, str] = lexicon.get("initials") or {}  # spjy → 食品经营 (build.derived_abbreviations)
        self.spelled: dict[str, str] = lexicon.get("spelled") or {}  # xiaofang → 消防 (build.spelled_pinyin)
        self.condition_terms: set[str] = set(lexicon.get("condition_terms", []))
        self.general_terms: dict[str, list[str]] = lexicon.get("general_terms", {})
        self.subject_terms: set[str] = set(lexicon.get("subject_terms", []))  # terms of several topics
        self.place_words: dict[str, list] = lexicon.get("place_words", {})  # word -> [region, district|None]
        self.province_words: dict[str, str] = lexicon.get("province_words", {})  # 宁夏 -> province key
        self.item_provinces: dict[str, list[str]] = lexicon.get("item_provinces", {})
        self.counterparts: dict[str, list[str]] = lexicon.get("counterparts", {})  # the same permit in another province
        self.region_province: dict[str, str] = lexicon.get("region_province", {})
        self.item_regions: dict[str, list[str]] = lexicon.get("item_regions", {})
        self.intents: dict[str, list[str]] = lexicon.get("refusal_intents", {})
        self.patterns = [(cat, re.compile(p)) for cat, ps in lexicon.get("refusal_patterns", {}).items() for p in ps]
        self.subjects: list[str] = sorted(lexicon.get("refusal_subjects", []), key=len, reverse=True)
        # … not said inside these (自建房 holds 建房; 「卖感冒药」 holds 感冒)
        self.subjects_not = _exceptions(lexicon.get("refusal_subjects_not"))
        self.soft: set[str] = set(lexicon.get("refusal_soft", []))  # refuse only when no permit is named …
        self.negatable: set[str] = set(lexicon.get("refusal_negatable", []))  # … nor said after 不/没 (不看病)
        self.negatable_subjects: set[str] = set().union(*(self.intents.get(c, []) for c in self.negatable))
        self.owned: dict[str, set[str]] = {k: set(v) for k, v in (lexicon.get("refusal_owned") or {}).items()}
        # … nor a trade with a licensing ask (「开个小诊所，就我一个人看病，得办哪些手续」)
        self.licence_ask = re.compile(lexicon.get("licence_ask") or "(?!)")
        self.licensing_words: list[str] = lexicon.get("licensing_words", [])
        self.licensing_not = _exceptions(lexicon.get("licensing_not"))
        # names, activity hints and subject terms compete for the longest match (刻章店 is an
        # activity, not 刻章 + 店); places are matched first and are never names
        self._words = WordIndex({*self.item_words, *self.not_items, *self.hint_words, *self.general_terms})
        self._places = WordIndex({*self.place_words, *self.province_words})
        self._plain = WordIndex(set(lexicon.get("plain_words", [])))  # callers' words, never corrected
        self.trade_words: dict[str, str] = lexicon.get("trade_words") or {}
        self._trades = WordIndex(set(self.trade_words))  # read after names and hints: never shadows one
        self.corrector = corrector
        self.classifier = classifier  # topics (ngram.py)
        self.scope = scope  # in scope or not (scope.py)

    # ---- pieces (also used at build time to mask the training wordings)

    def mask(self, text: str) -> str:
        """Names and activities as ``X``, places as ``Y`` (what the topic classifier reads).
        The terms of general entries stay as they are: 告知承诺, 容缺, 网上办, 办理进度 say
        the topic (masked, 「X能不能X」 said nothing); a term of entries of several topics
        (一照通行) says only the subject and is masked too (「X都包括哪些许可」 asks the scope)."""
        taken = [False] * len(text)
        spans = [(s, w, "Y") for s, w in _matches(text, self._places, taken)]
        spans += [(s, w, "X") for s, w in _matches(text, self._words, taken)
                  if w in self.item_words or w in self.hint_words or w in self.not_items
                  or w in self.subject_terms]
        out, last = [], 0
        for s, w, sym in sorted(spans):
            out.append(text[last:s])
            out.append(sym)
            last = s + len(w)
        out.append(text[last:])
        return "".join(out)

    def strip_places(self, text: str) -> str:
        """Without the region and district words (the region is handled apart); a province
        named alone stays (no region's answer takes its place)."""
        taken = [False] * len(text)
        hits = [(s, w) for s, w in _matches(text, self._places, taken) if w in self.place_words]
        if not hits:
            return text
        out, last = [], 0
        for s, w in hits:
            out.append(text[last:s])
            last = s + len(w)
        out.append(text[last:])
        stripped = "".join(out).strip(" ，,。")
        return stripped or text

    def _place(self, text: str, region: str | None) -> tuple[str | None, str | None, bool]:
        taken = [False] * len(text)
        hits = [(s, w) for s, w in _matches(text, self._places, taken) if w in self.place_words]
        if region:
            district = next((self.place_words[w][1] for _, w in hits
                             if self.place_words[w][0] == region and self.place_words[w][1]), None)
            return region, district, False
        if not hits:
            return None, None, False
        reg, district = self.place_words[hits[0][1]]
        district = district or next((self.place_words[w][1] for _, w in hits
                                     if self.place_words[w][0] == reg and self.place_words[w][1]), None)
        return reg, district, True

    def _province(self, text: str, region: str | None) -> str | None:
        if region:
            return self.region_province.get(region)
        taken = [False] * len(text)
        return next((self.province_words[w] for _, w in _matches(text, self._places, taken)
                     if w in self.province_words), None)

    def _available(self, code: str, province: str | None) -> bool:
        """False for a provincial item when the question is about another province."""
        provs = self.item_provinces.get(code)
        if not province or not provs:
            return True
        return province in provs

    def _prior(self, code: str) -> float:
        """Share of the regions that list the item (breaks ties between provincial variants)."""
        n = len(self.region_province) or 1
        return len(self.item_regions.get(code, [])) / n

    def _named_after(self, marker: re.Pattern, text: str, found: list[tuple[int, str]], slack: int = 0) -> set[str]:
        """The items whose name (among ``found``) begins within ``slack`` characters after a
        ``marker`` (先问…, 除了…)."""
        return {c for m in marker.finditer(text) for i, w in found
                if m.end() <= i <= m.end() + slack and w in self.item_words for c in self.item_words[w]}

    def _permits_in_general(self, text: str, found: list[tuple[int, str]]) -> bool:
        """The permits in general are said (「和许可证」「其他许可」), outside any name."""
        rest = list(text)
        for i, w in found:
            rest[i : i + len(w)] = "#" * len(w)
        return bool(self.permits_in_general.search("".join(rest)))

    def expand(self, text: str) -> str:
        """Pinyin initials typed for a name (「yyzz地址」「yc证」「sp经营许可证」), or its whole pinyin
        (「xiaofang检查」「tehang证」), spelt out."""
        if not any("a" <= ch <= "z" for ch in text):
            return text
        for pattern, word in self.abbreviations:
            text = pattern.sub(word, text)
        if self.initials or self.spelled:
            text = _LATIN.sub(lambda m: self.initials.get(m.group(0)) or self.spelled.get(m.group(0), m.group(0)), text)
        return text

    def __call__(self, question: str, region: str | None = None) -> Understanding:
        cleaned = self.expand(clean_question(question))
        fixes: list[Correction] = []
        text = cleaned
        if self.corrector is not None:
            protected = [False] * len(cleaned)  # places, names and plain words said right are never "corrected"
            _matches(cleaned, self._places, protected)
            _matches(cleaned, self._words, protected)
            _matches(cleaned, self._plain, protected)
            for m in _NEEDS.finditer(cleaned):
                protected[m.start()] = True
            text, fixes = self.corrector.correct(cleaned, protected)
        text = self.retract(text)
        u = Understanding(question=text, cleaned=cleaned, corrections=fixes, asks_all=bool(_ASKS_ALL.search(text)))
        u.region, u.district, u.region_from_text = self._place(text, region)
        u.province = self._province(text, u.region)
        taken = [False] * len(text)
        _matches(text, self._places, taken)  # places are not names
        found = _matches(text, self._words, taken)
        if not _MAKING.search(text):  # making the goods is another trade (化肥厂, 生产化肥: a licence)
            u.trades = sorted({self.trade_words[w] for _, w in _matches(text, self._trades, list(taken))})
        evidence: dict[str, float] = {}
        conditions: set[str] = set()  # general entries said only by a condition term (健康证)
        split: set[str] = set()  # the items a weak name several share (生产许可证: food or industrial)
        for _, w in found:
            if w in self.general_terms:
                for eid in self.general_terms[w]:
                    u.subjects[eid] = 1.0
                    if w in self.condition_terms:
                        conditions.add(eid)
            if w not in self.item_words:
                continue
            codes = [c for c in self.item_words[w] if self._available(c, u.province)]
            if not codes and w in self.weak:  # 登记证 in 阳春 is not 宁夏's 登记证
                continue
            if not codes:  # 小吃店登记证 (河南's) in 同心 is 宁夏's own registration
                codes = sorted({k for c in self.item_words[w] for k in self.counterparts.get(c, ())
                                if self._available(k, u.province)})
            codes = codes or self.item_words[w]
            if w in self.weak:
                weights = {c: 0.5 / len(codes) for c in codes}
                if len(codes) > 1:
                    split.update(codes)
            elif len(codes) > 1:
                # variants one name fits equally (no place to decide): all named, shown together;
                # the share of regions listing each only orders them
                weights = {c: 0.98 + 0.02 * self._prior(c) for c in codes}
                if not u.ambiguous:
                    u.ambiguous = sorted(codes, key=self._prior, reverse=True)
            else:
                weights = {codes[0]: 1.0}
            for c, wt in weights.items():
                evidence[c] = max(evidence.get(c, 0.0), wt)
            u.item_words.append(w)
        u.named = bool(evidence)
        named_strongly = {c for _, w in found if w in self.item_words and w not in self.weak
                          for c in self.item_words[w]}
        strong = bool(named_strongly)
        # the licence named with the permits in general (「执照和几个许可证一起用一照通行申请，总共多少天」):
        # the reform's terms stay the subject and the licence is context, as beside another permit
        together = strong and named_strongly <= self.background and self._permits_in_general(text, found)
        u.together = together
        if strong and not together:
            u.subjects = {eid: 0.0 for eid in u.subjects}
        # activities point at an item (药店 → 药品经营许可) when no permit is named, or only a
        # background one (「房产中介领了执照多少天内要去备案」: the licence everyone holds first)
        # (a weak name, 登记证 or 消防, does not stop them: 「作坊…登记证上要加品种吗」)
        if not (named_strongly & set(evidence)) - self.background:
            for _, w in found:
                if w not in self.hint_words:
                    continue
                codes = [c for c in self.hint_words[w] if self._available(c, u.province)] or self.hint_words[w]
                if len(codes) > 1 and not u.ambiguous and not named_strongly:
                    u.ambiguous = sorted(codes, key=self._prior, reverse=True)  # 作坊: which province's
                for c in codes:
                    # a trade said beside a weak name several share says which of them (「做钢筋的厂子，
                    # 得办生产许可证不」: the industrial licence, not food's)
                    if c in evidence and c not in u.hinted and c not in split:
                        continue
                    evidence[c] = max(evidence.get(c, 0.0), 0.5 / len(codes))
                    u.hinted.add(c)
                u.item_words.append(w)
        pointed = split & u.hinted
        if pointed:
            evidence = {c: (min(ev, 0.1) if c in split - pointed else ev) for c, ev in evidence.items()}
        # a condition of permits (健康证) said beside a permit or a trade is that permit's condition
        # (「办登记证的时候要不要健康证」「开快餐店…是不是个个都得有健康证」): its entry stays named (a
        # candidate, the gate's subject) but is pushed down, as a permit said after 除了 is (every
        # labeller of the twelve caller sets filed such questions under the permit, none under 健康证)
        if evidence:
            for eid in conditions:
                u.subjects[eid] = -1.0
        # a permit said after 除了 is the one the caller already has in hand, not the one asked
        # about (「除了营业执照还要别的证么」: which others, a general question): it is dropped
        u.excluded = self._named_after(_EXCEPT, text, found)
        for c in u.excluded:
            evidence.pop(c, None)
        # a background permit named beside another is the prerequisite, not the subject
        # (「办烟草证是不是得先有营业执照」, 「社保登记是不是办执照时一起就弄了」), or beside the permits in general
        others = any(c not in self.background for c in evidence)
        if others or together:
            cap = 0.25 if others and u.hinted else 0.5
            for c in self.background & set(evidence):
                evidence[c] = min(evidence[c], cap)
        # of several permits named, the one the caller says they ask about first
        if len(evidence) > 1:
            focus = self._named_after(_FOCUS, text, found, slack=2) & set(evidence)
            if focus and focus != set(evidence):
                evidence = {c: (max(ev, 0.75) if c in focus else min(ev, 0.5)) for c, ev in evidence.items()}
        # a name several permits share, and a trade said that points at one of them (「商场新装了两部
        # 电梯，要办特种设备使用登记吗」): that one is meant, no need to ask which
        if len(u.ambiguous) > 1:
            pointed = {c for _, w in found if w in self.hint_words for c in self.hint_words[w]} & set(u.ambiguous)
            if pointed and pointed != set(u.ambiguous):
                evidence = {c: (1.0 if c in pointed else min(ev, 0.5)) for c, ev in evidence.items()}
                u.ambiguous = []
        # the trade as described decides over the permit named (aliases.yaml: overrides)
        for code, pattern in self.overrides:
            if pattern.search(text):
                evidence = {c: min(ev, 0.5) for c, ev in evidence.items() if c != code}
                evidence[code] = 1.0
                u.hinted.discard(code)
                if code in u.ambiguous:  # the trade said which of the name's variants (药品经营许可证（批发）)
                    u.ambiguous = []
        # the area said decides between the region's small-food registration and the food licence
        # (「同心开个小吃店，八十平米，办许可还是登记证」: the registration), and the other of the two is
        # dropped (kept at half, the registration's curated entry still outranked the licence for a 200 ㎡
        # restaurant); not when another permit is what is asked (「同心一百平的饭馆消防要查吗」「…想卖烟，
        # 烟这块咋办」) or every permit is (「…九十平米，要办几个证」: the list); a permit of the trade named
        # beside it (清真) stays
        decided = None if u.asks_all else area_item(self.area_rules, text, u.region)
        if decided:
            code, rule = decided
            food = {rule["within"], rule.get("over"), *self.area_overrides}
            others = set(evidence) - food - self.area_beside - self.background
            named_food = any(ev >= 0.75 for c, ev in evidence.items() if c in food)
            if not others or (named_food and not {c for c in others if evidence[c] >= 0.75}):
                evidence = {c: (min(ev, 0.5) if c in food else ev) for c, ev in evidence.items()
                            if c not in (rule["within"], rule.get("over"))}
                evidence[code] = 1.0
                u.hinted.discard(code)
                u.ambiguous = [c for c in u.ambiguous if c not in food]
        # a kind of permit said bare, with no permit, activity or reform term (「备案信息填错了怎么改」): it
        # points, as an activity does, at the item most callers mean by it (aliases.yaml: bare)
        if not evidence and not any(v > 0 for v in u.subjects.values()) and not _MODES.search(text):
            code = next((c for w, c in self.bare.items() if w in text and self._available(c, u.province)), None)
            if code:
                evidence[code] = 0.5
                u.hinted.add(code)
        u.items = evidence
        # a term of the reform (告知承诺, 一业一证), or a trade said with a licensing ask: other
        # services' names are context (「注册个体工商户要带啥…房东是我表叔」「房子还没房产证，可以先
        # 写承诺书以后再补吗」)
        reform = any(v > 0 for eid, v in u.subjects.items() if eid not in conditions)
        trade_ask = reform or (any(w in self.hint_words for _, w in found) and bool(self.licence_ask.search(text)))
        u.refusal = self.refusal(text, named=strong, trade_ask=trade_ask, items=evidence)
        plain = self.licensing_not.sub("|", text)
        u.licensing = any(w in plain for w in self.licensing_words)
        u.masked = self.mask(text)
        u.retrieval = self.strip_places(text)
        if self.classifier is not None:
            u.topics = self.classifier.proba(u.masked)
        if self.scope is not None:
            u.in_scope = p_in(self.scope, cleaned)
        return u

    def retract(self, text: str) -> str:
        """A permit named, then taken back for another (「卫生许可，哦不对，是食品经营许可，多久能批」,
        「我要问烟证，不是，是烟花爆竹零售证」): the question without the name taken back."""
        names = None
        for m in _RETRACTION.finditer(text):  # the names are read once, when needed
            if names is None:
                taken = [False] * len(text)
                _matches(text, self._places, taken)
                names = [(i, w) for i, w in _matches(text, self._words, taken)
                         if w in self.item_words or w in self.hint_words]
            before = [i for i, w in names if i + len(w) <= m.start()]
            after = [i for i, _ in names if m.end() <= i <= m.end() + 2]
            if before and after:
                return text[: before[-1]] + text[m.end():]
        return text

    def refusal(self, text: str, *, named: bool, trade_ask: bool = False, items=()) -> str | None:
        """``named``: a permit is named by a specific name (not only 社保, 消防, 登记证 …);
        ``trade_ask``: a trade is named with a licensing ask.  Either makes the soft
        categories' cues and other services' names context.  A category is context, too, beside
        a permit whose trade it is (招聘 beside 人力资源服务许可, 看病 beside 诊所), and a
        negatable category's cue said after 不 or 没 (「只洗澡剪毛不看病」「还没考证」)."""
        context = named or trade_ask
        skip = {c for c, codes in self.owned.items() if codes & set(items)} | (self.soft if context else set())
        for category, cues in self.intents.items():
            if category in skip:
                continue
            for cue in cues:
                if _said(text, cue, negatable=category in self.negatable):
                    return f"{category}:{cue}"
        for category, pattern in self.patterns:
            if category in skip:
                continue
            m = pattern.search(text)
            if m:
                return f"{category}:{m.group(0)}"
        if not context:
            plain = self.subjects_not.sub("|", text)
            for s in self.subjects:
                if _said(plain, s, negatable=s in self.negatable_subjects):
                    return f"other_service:{s}"
        return None
