"""Building the FAQ index: one ``rebuild`` used by the command line and the service.

On disk (``settings.index_dir``)::

    CURRENT                 name of the live build (replaced atomically)
    builds/<stamp>/         meta.json        entries, wordings, lexicon, regions
                            vectors.npy      one e5 vector per wording (the next build's cache)
                            dense.faiss      HNSW graph over the indexed wordings' vectors
                            topics.npz       the topic classifier's weights
                            scope.npz        the scope classifier's weights (scope.py)
                            pinyin.json      fuzzy syllables for typo/homophone correction
                            calibration.json ranking weights and the answered gate

A build reuses the vectors of unchanged wordings from the live build (content hash
per text), so editing one entry re-embeds only its wordings; then it calibrates
(``calibrate.py``) on the blind calibration set and switches ``CURRENT``.
Querying is ``query.py``; nothing here runs at search time.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge_base.faq.calibrate import YAML_LOADER
from knowledge_base.faq.entries import TOPICS, FaqEntry, build_entries, name_variants
from knowledge_base.faq.text import clean_question

FORMAT_VERSION = 6
# wordings of one entry closer than this to one already indexed are embedded (kept for the
# next build's cache) but not put in FAISS: half the vectors, the same answers (README: FAQ)
DEDUPE_COS = 0.97
# the dense index: an HNSW graph with half-precision vectors (cosines move by < 1e-4); built once
# here, single-threaded, so two builds of the same vectors give the same graph
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 200
PINYIN_TABLES = "4"  # bump when pinyin.build_tables changes (stored tables are reused by their words; 3: ü read as v; 4: pairs from frequency 20)
FAQ_DATA = "faq"  # data_dir / "faq": curated.yaml, aliases.yaml, out_of_scope.yaml


# --------------------------------------------------------------------------- store


def current_build(index_dir: Path) -> Path | None:
    cur = Path(index_dir) / "CURRENT"
    if not cur.exists():
        return None
    build = Path(index_dir) / "builds" / cur.read_text().strip()
    return build if (build / "meta.json").exists() else None


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _prune(index_dir: Path, keep: int) -> None:
    builds = sorted(p for p in (index_dir / "builds").iterdir() if p.is_dir() and not p.name.startswith("."))
    live = current_build(index_dir)
    for p in builds[:-keep] if keep > 0 else []:
        if live is not None and p.resolve() == live.resolve():
            continue
        shutil.rmtree(p, ignore_errors=True)
    for p in (index_dir / "builds").glob(".tmp-*"):
        if time.time() - p.stat().st_mtime > 3600:
            shutil.rmtree(p, ignore_errors=True)


def _text_key(embedder_name: str, text: str) -> str:
    return hashlib.sha1(f"{embedder_name}\x00{text}".encode("utf-8")).hexdigest()[:20]


# --------------------------------------------------------------------------- lexicon


def _read_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {} if path.exists() else {}


def _short_province(name: str) -> str:
    return re.sub(r"(回族自治区|壮族自治区|维吾尔自治区|自治区|省|市)$", "", name)


def as_read(word: str) -> str:
    """A lexicon word as questions are read (full-width folded, lower case)."""
    return unicodedata.normalize("NFKC", word).strip().lower()


def derived_hints(catalog, item_words: dict[str, list[str]], hint_words: dict[str, list[str]],
                  skip: set[str] = frozenset()) -> dict[str, list[str]]:
    """The intake's words for a trade (industries.yaml synonyms: 烩面, 卤肉, 猪脚饭) point where
    the FAQ's own trade words of the same activity point (面馆, 熟食店 → 食品经营许可): callers name
    what they sell.  Only activities whose FAQ trade words all point alike; a word that already
    names or points at something keeps its meaning; ``skip`` holds activities and words left out
    (aliases.yaml ``derived_hints_skip``).  Adds to ``hint_words``; returns what it added."""
    added: dict[str, list[str]] = {}
    for ind in getattr(catalog, "industries", {}).values():
        if ind.key in skip:
            continue
        words = [as_read(w) for w in [ind.name, *ind.synonyms]]
        pointed = {tuple(hint_words[w]) for w in words if w in hint_words and w not in skip}
        if len(pointed) != 1:
            continue
        codes = list(next(iter(pointed)))
        for w in words:
            if len(w) >= 2 and "/" not in w and w not in item_words and w not in hint_words and w not in skip:
                added[w] = codes
    hint_words.update(added)
    return added


def free_trades(catalog, taken: set[str]) -> dict[str, str]:
    """Words for the trades the catalog knows to need no permit beyond the business licence
    (industries.yaml ``coverage: none``: 花店, 五金店, 卖手机): word -> activity key.  A caller who
    names one and no permit asks what such a shop needs (「开个花店要不要许可证」), a general
    question, not some permit's whose template wording shares a character (烟花).  Words that
    already name, point at or place something keep that meaning."""
    out: dict[str, str] = {}
    for ind in getattr(catalog, "industries", {}).values():
        if getattr(ind, "coverage", None) != "none":
            continue
        # the name only when it is one word (手机/通讯器材 would make 手机 a trade: 「手机上能办吗」)
        for w in [*([ind.name] if "/" not in str(ind.name) else []), *ind.synonyms]:
            w = as_read(w)
            if len(w) >= 2 and w not in taken:
                out.setdefault(w, ind.key)
    return out


# Latin words callers type as themselves, never as pinyin initials
_LATIN_WORDS = frozenset({"wifi", "http", "https", "www", "html", "logo", "shop", "mall", "taxi", "vlog", "oppo", "vivo",
                          "ipad", "iphone", "java", "spa", "ktv", "diy", "app", "vip", "pos", "led", "sos", "cbd",
                          "gsp", "icp", "otc", "ccc", "mcn", "ceo", "gps", "usb", "nfc", "sim", "gmp", "del", "sys"})


def _leading_cuts(word: str) -> list[int]:
    """Where the leading parts of a name end: where jieba cuts it, and before a final 证 (卫生许可 of
    卫生许可证, 特行 of 特行证: jieba keeps 许可证 whole). The whole word is the last cut."""
    import jieba

    cuts, pos = set(), 0
    for part in jieba.cut(word, HMM=False):
        pos += len(part)
        cuts.add(pos)
    if word.endswith("证"):
        cuts.add(len(word) - 1)
    return sorted(cuts)


def _spelt_by_hand(hand) -> set[str]:
    """The letters aliases.yaml's abbreviations spell out by hand, without their lookahead
    (``yc(?=证)`` is yc): derived initials and spellings leave them to the hand-written entry."""
    return {re.sub(r"\(.*", "", p) for p in hand}


def derived_abbreviations(words, hand: dict[str, str], latin: set[str] = frozenset(),
                          meaning: dict[str, object] | None = None) -> dict[str, str]:
    """Pinyin initials callers type for a name (spjy → 食品经营, yhbz → 烟花爆竹, wsxkz → 卫生许可证,
    yzth → 一照通行, lxs → 旅行社, xzf → 小作坊): of every name, trade word and reform term written in
    Chinese, the initials of the whole word and of each of its leading parts cut where jieba cuts it,
    three letters or more (a Latin run is expanded only whole: 「lxs许可」, never the lxs of a word).
    Initials two words would share, a Latin word (ktv, wifi, or one the lexicon knows) and what
    aliases.yaml spells out by hand are left out; two words that mean the same (``meaning``: the
    permits, activities and entries the lexicon reads in each) share them, the shorter spelt out
    (qzzyz: 清真准营证 and 清真执业证, both the halal permit)."""
    from pypinyin import Style, lazy_pinyin

    made: dict[str, set[str]] = {}
    for word in words:
        if not 3 <= len(word) <= 14 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
            continue
        for end in _leading_cuts(word):
            prefix = word[:end]
            letters = "".join(lazy_pinyin(prefix, style=Style.FIRST_LETTER)).lower()
            if len(letters) >= 3 and letters.isascii() and letters.isalpha():
                made.setdefault(letters, set()).add(prefix)
    taken = _spelt_by_hand(hand)
    meaning = meaning or {}

    def one_sense(v: set[str]) -> bool:
        return len(v) == 1 or (all(w in meaning for w in v) and len({meaning[w] for w in v}) == 1)

    return {k: min(v, key=lambda w: (len(w), w)) for k, v in sorted(made.items())
            if one_sense(v) and k not in _LATIN_WORDS and k not in latin and k not in taken}


def spelled_pinyin(words, taken=(), latin: set[str] = frozenset()) -> dict[str, str]:
    """Names callers type in full pinyin when their input method is off (xiaofang → 消防,
    wangba → 网吧, yancaozheng → 烟草证, tehang证 → 特行证): of every name, trade word, reform
    term and place written in Chinese, the toneless pinyin of the whole word and of each of its
    leading parts (``_leading_cuts``, two characters or more), as read in context and with any one
    character read another way (行: xing and hang). A spelling shorter than five letters, one two
    different words share, a Latin word, or one that is already a word's initials (``taken``) is
    left out."""
    from pypinyin import Style, pinyin

    made: dict[str, set[str]] = {}
    heard: dict[str, list[str]] = {}  # a character's readings, looked up once across all the words
    for word in words:
        if not 2 <= len(word) <= 12 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
            continue
        in_context = pinyin(word, style=Style.NORMAL)  # 行 in 特行证 read as the phrase reads it…
        if len(in_context) != len(word):
            continue
        readings = []  # …then every other reading of the character (行: hang, as callers say 特行)
        for ch, (said,) in zip(word, in_context):
            if ch not in heard:
                heard[ch] = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
            readings.append([r for r in dict.fromkeys([said, *heard[ch]]) if r.isascii() and r.isalpha()])
        if not all(readings):
            continue
        cuts = [c for c in _leading_cuts(word) if c >= 2]
        said = [r[0] for r in readings]
        # the word as read in context, and with one character read otherwise
        variants = [said, *(said[:i] + [other] + said[i + 1:] for i, r in enumerate(readings) for other in r[1:])]
        for syllables in variants:
            for end in cuts:
                made.setdefault("".join(syllables[:end]).lower(), set()).add(word[:end])
    skip = set(_LATIN_WORDS) | set(latin) | set(taken)
    return {k: next(iter(v)) for k, v in sorted(made.items()) if len(v) == 1 and len(k) >= 5 and k not in skip}


# a named fragment in an override pattern: <name>, not a group's name (?P<name>) nor a lookbehind (?<!…)
_PART_REF = re.compile(r"(?<!\?P)<([a-z_][a-z0-9_]*)>")


def expand_parts(pattern: str, parts: dict[str, str]) -> str:
    """``pattern`` with each ``<name>`` replaced by ``override_parts[name]`` (aliases.yaml).

    One wording shared by several overrides is written once (「…要不要带公章 / 章还没刻」 for
    the bank account, tax, social insurance and housing fund); an unknown name fails the build.
    """
    def sub(m: re.Match) -> str:
        if m.group(1) not in parts:
            raise ValueError(f"data/faq/aliases.yaml: unknown override part <{m.group(1)}> in {pattern!r}")
        return parts[m.group(1)]
    return _PART_REF.sub(sub, pattern)


def area_rules(catalog) -> list[dict]:
    """Each region's area threshold between a small-food registration and the food licence, with
    the trades it applies to: the region parameters and trades ``rules/food.py`` reads for the
    intake bundle (小餐饮 ≤ ``nx_small_catering_max_m2``, a shop selling food ≤ ``nx_small_shop_max_m2``:
    the registration; a 小餐饮 above: the licence; a shop above is left to the ranking, since selling
    only prepackaged food is then a filing).  Read by ``area.area_item``."""
    from knowledge_base.intake.lexicon import build_lexicon
    from knowledge_base.rules.food import NX_SMALL_CATERING, NX_SMALL_SHOP, SMALL_CATERING_KEYS

    # the intake's own words for each activity, so a trade is read here as the intake reads it
    activity_words = build_lexicon(catalog).activity_words

    def words(keep) -> list[str]:
        return sorted({as_read(w) for w, key in activity_words.items() if keep(key) and len(as_read(w)) >= 2})

    catering = words(lambda key: key in SMALL_CATERING_KEYS)
    shops = words(lambda key: "food_retail" in catalog.industries[key].tags)
    rules = []
    for code, region in sorted(catalog.regions.items()):
        if NX_SMALL_CATERING in region.parameters:
            rules.append({"region": code, "max_m2": region.parameters[NX_SMALL_CATERING], "words": catering,
                          "within": "nx_food_registration", "over": "food_business_license"})
        if NX_SMALL_SHOP in region.parameters:
            rules.append({"region": code, "max_m2": region.parameters[NX_SMALL_SHOP], "words": shops,
                          "within": "nx_food_registration", "over": None})
    return rules


def _known_codes(catalog, codes, where: str) -> None:
    """A data file naming an item the catalog lacks fails the build, saying which and where."""
    if unknown := sorted({str(c) for c in codes if c not in catalog.items}):
        raise ValueError(f"{where}: unknown item code(s) {unknown}")


def lexicon(catalog, data_dir: Path, entries: list[FaqEntry] = ()) -> dict:
    """What query understanding reads (stored in meta.json; no catalog at query time)."""
    faq_dir = Path(data_dir) / FAQ_DATA
    extra = _read_yaml(faq_dir / "aliases.yaml")
    oos = _read_yaml(faq_dir / "out_of_scope.yaml")
    item_words: dict[str, list[str]] = {}

    def add(word: str, code: str) -> None:
        word = as_read(word)
        if len(word) >= 2 and code not in item_words.setdefault(word, []):
            item_words[word].append(code)

    for code, item in catalog.items.items():
        for n in name_variants(item, catalog):
            add(n, code)
    _known_codes(catalog, extra.get("names") or {}, "data/faq/aliases.yaml names")
    for code, words in (extra.get("names") or {}).items():
        for w in words:
            add(str(w), code)
    weak_words = {str(w).lower() for w in extra.get("weak") or []}
    _known_codes(catalog, extra.get("background") or [], "data/faq/aliases.yaml background")
    for word, code in derived_names(catalog, item_words, weak_words).items():
        add(word, code)
    not_items = sorted({str(w).lower() for w in extra.get("not_items") or []})
    for w in not_items:
        item_words.pop(w, None)
    hint_words: dict[str, list[str]] = {}
    _known_codes(catalog, extra.get("hints") or {}, "data/faq/aliases.yaml hints")
    for code, words in (extra.get("hints") or {}).items():
        for w in words:
            w = str(w).lower()
            if w not in item_words:
                hint_words.setdefault(w, []).append(code)
    derived_hints(catalog, item_words, hint_words, skip={str(w).lower() for w in extra.get("derived_hints_skip") or []})
    bare = {as_read(str(w)): str(code) for w, code in (extra.get("bare") or {}).items()}
    _known_codes(catalog, bare.values(), "data/faq/aliases.yaml bare")
    # what the question says of the trade decides the permit over the one the caller names
    # (「只卖包装好的零食，还用办食品经营许可证不」: the filing, not the licence)
    overrides: dict[str, list[str]] = {}
    parts = {str(k): str(v) for k, v in (extra.get("override_parts") or {}).items()}
    _known_codes(catalog, extra.get("overrides") or {}, "data/faq/aliases.yaml overrides")
    for code, pats in (extra.get("overrides") or {}).items():
        for pat in pats:
            pat = expand_parts(str(pat), parts)
            re.compile(pat)  # a broken expression fails the build, not a search
            overrides.setdefault(code, []).append(pat)
    # pinyin initials typed for a name (yyzz, yc证): expanded before anything else reads the question
    abbreviations: dict[str, str] = {}
    for pat, word in (extra.get("abbreviations") or {}).items():
        re.compile(str(pat))
        abbreviations[str(pat)] = str(word)
    # places: region names and words, districts (catalog regions)
    place_words: dict[str, list] = {}
    region_province: dict[str, str] = {}
    for code, reg in catalog.regions.items():
        prov_key = getattr(reg, "province_key", None) or _short_province(reg.province)
        region_province[code] = prov_key
        words = {reg.name, _short_province(reg.name), getattr(reg, "short", "") or "", *getattr(reg, "words", [])}
        for w in words:
            if len(w) >= 2:
                place_words.setdefault(w.lower(), [code, None])
        for d in getattr(reg, "districts", []) or []:
            for w in {d.name, *d.words}:
                if len(w) >= 2:
                    place_words.setdefault(w.lower(), [code, d.code])
    # provincial items: the name says the province (食品生产加工小作坊登记(广东), 河南省…, 宁夏…)
    prov_names = {}
    for code, reg in catalog.regions.items():
        prov_names.setdefault(_short_province(reg.province), region_province[code])
        prov_names.setdefault(_short_province(reg.province)[:2], region_province[code])
    item_provinces = {}
    for code, item in catalog.items.items():
        text = " ".join([item.name, *item.aliases])
        provs = sorted({key for name, key in prov_names.items() if len(name) >= 2 and name in text})
        if provs:
            item_provinces[code] = provs
    counterparts: dict[str, list[str]] = {}  # aliases.yaml: province_counterparts
    for group in extra.get("province_counterparts") or []:
        _known_codes(catalog, group, "data/faq/aliases.yaml province_counterparts")
        for c in group:
            counterparts.setdefault(c, []).extend(k for k in group if k != c and k not in counterparts[c])
    item_regions = {code: sorted(r for r, reg in catalog.regions.items() if any(ri.code == code for ri in reg.items))
                    for code in catalog.items}
    weak = sorted(weak_words)
    province_words = {}
    for code, reg in catalog.regions.items():
        short = _short_province(reg.province)
        for w in {reg.province, short}:
            if len(w) >= 2 and w.lower() not in place_words:
                province_words[w.lower()] = region_province[code]
    general_terms: dict[str, list[str]] = {}
    term_topics: dict[str, set[str]] = {}
    for e in entries:
        for t in e.terms:
            general_terms.setdefault(t.lower(), []).append(e.id)
            term_topics.setdefault(t.lower(), set()).add(e.topic)
    named = [*item_words, *hint_words, *general_terms]  # every name, trade word and reform term
    trades = free_trades(catalog, {*named, *not_items, *place_words})
    latin = {w for w in named if w.isascii()}
    for category, codes in (oos.get("owned") or {}).items():
        _known_codes(catalog, codes, f"data/faq/out_of_scope.yaml owned.{category}")
    read_as = {w: (frozenset(item_words.get(w, ())), frozenset(hint_words.get(w, ())), frozenset(general_terms.get(w, ())))
               for w in named}
    initials = derived_abbreviations(named, abbreviations, latin, read_as)
    spelled = spelled_pinyin([*named, *place_words], {*initials, *_spelt_by_hand(abbreviations)}, latin)
    return {
        "general_terms": general_terms,
        # a subject word of entries of several topics (一照通行: what it is, how long, the fee…) says
        # the subject, not the topic: the topic classifier reads it masked, as a permit's name
        "subject_terms": sorted(t for t, topics in term_topics.items() if len(topics) > 1),
        "item_words": item_words, "weak": weak, "hint_words": hint_words, "not_items": not_items, "bare_words": bare,
        "trade_words": trades,
        "overrides": overrides,
        "abbreviations": abbreviations, "initials": initials, "spelled": spelled,
        "condition_terms": sorted({str(t).lower() for t in extra.get("condition_terms") or []}),
        "background": sorted(str(c) for c in extra.get("background") or []),
        "plain_words": sorted({str(w).lower() for w in extra.get("plain_words") or []}),
        "permits_in_general": str(extra.get("permits_in_general") or ""),
        "place_words": place_words, "province_words": province_words, "region_province": region_province,
        "item_provinces": item_provinces, "counterparts": counterparts,
        "item_regions": item_regions, "terms": [str(t) for t in extra.get("terms") or []],
        "refusal_intents": {k: [str(c).lower() for c in v] for k, v in (oos.get("intents") or {}).items()},
        "refusal_patterns": {k: [str(c) for c in v] for k, v in (oos.get("patterns") or {}).items()},
        "refusal_subjects": [str(s).lower() for s in oos.get("subjects") or []],
        "refusal_subjects_not": [str(s).lower() for s in oos.get("subjects_not") or []],
        "area_rules": area_rules(catalog),
        "refusal_soft": [str(s) for s in oos.get("soft") or []],
        "refusal_negatable": [str(s) for s in oos.get("negatable") or []],
        "refusal_owned": {str(k): [str(c) for c in v] for k, v in (oos.get("owned") or {}).items()},
        "licence_ask": str(oos.get("licence_ask") or ""),
        "licensing_words": [str(s).lower() for s in oos.get("licensing_words") or []],
        "licensing_not": [str(s).lower() for s in oos.get("licensing_not") or []],
    }


# what a permit's name ends with, by kind of item; callers swap them (娱乐证, 游泳经营许可)
_SUFFIXES = {"permit": ("许可证", "许可", "证", "审批"), "registration": ("登记证", "登记", "证"),
             "filing": ("备案",)}
_MIDDLES = ("", "经营", "执业", "服务")


def derived_names(catalog, item_words: dict[str, list[str]], weak: set[str]) -> dict[str, str]:
    """Names callers make from an item's names by swapping the ending of the kind
    (许可证/许可/证, 登记证/登记, 备案) with or without 经营/场所 before it (娱乐许可证 →
    娱乐证, 娱乐经营许可; 游泳证 → 游泳经营许可), and names without their punctuation
    (公众聚集场所投入使用营业前消防安全检查).  A word another item already has, or that two
    items would make, is left out (no guessing between items)."""
    made: dict[str, set[str]] = {}
    every = {s for family in _SUFFIXES.values() for s in family}
    for word, codes in item_words.items():
        if len(codes) != 1 or word in weak:
            continue
        code = codes[0]
        bare = re.sub(r"[、，,·\s]", "", word)
        if bare != word:
            made.setdefault(bare, set()).add(code)
        kind = getattr(catalog.items[code], "kind", "permit")
        suffixes = _SUFFIXES.get(kind)
        if not suffixes:
            continue
        ending = next((x for x in sorted(every, key=len, reverse=True) if bare.endswith(x)), None)
        if ending is None or len(bare) > 10 or "什么" in bare:
            continue
        root = bare[: -len(ending)]
        for mid in _MIDDLES:
            if mid and root.endswith(mid):
                root = root[: -len(mid)]
        if not 2 <= len(root) <= 8 or not all("\u3400" <= ch <= "\u9fff" for ch in root):
            continue
        for mid in _MIDDLES:
            for suf in suffixes:
                made.setdefault(f"{root}{mid}{suf}", set()).add(code)
    return {w: next(iter(cs)) for w, cs in made.items()
            if len(cs) == 1 and w not in item_words and w not in weak}


def region_facts(catalog) -> dict:
    """Per region what answers need: names, window, offices, each item's local listing."""
    out = {}
    for code, reg in catalog.regions.items():
        out[code] = {
            "name": reg.name, "short": getattr(reg, "short", None) or _short_province(reg.name),
            "window": getattr(reg, "window", None), "hotline": getattr(reg, "hotline", "12345"),
            "county_offices": getattr(reg, "county_offices", {}) or {},
            "districts": {d.code: {"name": d.name, "kind": d.kind} for d in getattr(reg, "districts", []) or []},
            "items": {ri.code: {"local_name": ri.local_name, "department": ri.department, "note": ri.note,
                                "scope": catalog.region_scope(code, ri), "promised_days": ri.promised_days, "level": getattr(ri, "level", None)}
                      for ri in reg.items},
        }
    return out


def _label(item) -> str:
    """What staff call the item when reading out: its name without the bracket if short,
    else its first alias (营业执照, 药品经营许可证, 消防证)."""
    base = re.sub(r"[（(][^）)]*[）)]", "", item.name).strip()
    if len(base) <= 10 or not item.aliases:
        return base
    return item.aliases[0]


def item_facts(catalog) -> dict:
    return {code: {"name": it.name, "short": _label(it), "department": it.department,
                   "department_key": it.department_key}
            for code, it in catalog.items.items()}


def correction_words(lex: dict) -> list[str]:
    """What a typo or homophone may be read as: the names, activities, subject terms and
    domain words; place names of three characters or more (「一百来平要办」 is not 平遥).
    Not the topic cues: short everyday phrases (得办, 是什么, 补办) that a window across two
    words sounds like (「考试什么时候」, 「卫生许可的办证」)."""
    words = set(lex["item_words"]) | set(lex["hint_words"]) | set(lex["terms"])
    words |= {w for w in lex["place_words"] if len(w) >= 3}
    words |= set(lex.get("general_terms", {}))
    return sorted(w for w in words if len(w) >= 2)


CALLER_WEIGHT = 3  # a caller's question counts as this many wordings (the wordings are many and alike)


# the topic classifier's solver tolerance: at sklearn's 1e-4 it stopped short of its optimum, where the
# path decides: the same examples in another order gave another topic on 31 of 6,353 held-out questions
# (probabilities up to 0.14 apart), so any edit of the lexicon moved unrelated answers; at 1e-5 on 2 (up
# to 0.016), fitted in 45 s instead of 28.  The scope classifier keeps sklearn's: refitted with 1e-5 the
# gate chose milder scope thresholds and the held-out fresh31 answered four more it should refuse
TOPIC_TOL = 1e-5


def topic_examples(entries: list[FaqEntry], mask) -> list[tuple[str, str]]:
    """Every indexed wording with names masked, labelled with its entry's topic, the topic
    cue words (each a short example of its topic), and the callers' questions of the
    development sets written blind (``calibrate.TOPIC_SETS``: their labelled topic)."""
    from knowledge_base.faq.calibrate import TOPIC_SETS, load_calibration, read_set

    # a question a calibration set also holds (two writers may type the same 「食品证咋办」) is left
    # out: the gate's κ·P(topic) is fitted on questions the classifier has not seen
    calibration = load_calibration()
    held = {clean_question(q).lower() for q, _ in (calibration.in_scope if calibration else [])}
    out = [(mask(t.lower()), e.topic) for e in entries for t in e.texts()]
    cues = _read_yaml(Path(__file__).parent / "templates" / "topic_cues.yaml")
    for topic, words in cues.items():
        for w in words:
            out.append((str(w), topic))
            out.append((f"X{w}", topic))
    for path in TOPIC_SETS:
        if not path.exists():
            continue
        for r in (read_set(path).get("in_scope") or []):  # (cached: calibration reads the same sets)
            text = clean_question(str(r["q"])).lower()
            if r.get("topic") and text not in held:
                out += [(mask(text), str(r["topic"]))] * CALLER_WEIGHT
    return out


# --------------------------------------------------------------------------- build


@dataclass
class BuildReport:
    path: str
    entries: int
    generated: int
    curated: int
    overridden: int
    texts: int
    embedded: int
    reused: int
    changed_entries: int
    seconds: float
    calibration: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _encode(embedder, texts: list[str], progress: bool, batch_size: int) -> np.ndarray:
    if not progress:
        return embedder.encode(texts, batch_size=batch_size)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]embedding FAQ wordings"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=False) as bar:
        task = bar.add_task("embed", total=len(texts))
        return embedder.encode(texts, batch_size=batch_size, progress=lambda n: bar.advance(task, n))


def write_dense_index(vectors: np.ndarray, path: Path) -> None:
    """Write the FAISS index searched at query time: the indexed wordings' vectors (row i = faiss id i)."""
    import faiss

    faiss.omp_set_num_threads(1)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexHNSWSQ(int(vectors.shape[1]), faiss.ScalarQuantizer.QT_fp16, HNSW_M,
                              faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if len(vectors):
        index.train(vectors)
        index.add(vectors)
    faiss.write_index(index, str(path))


def dedupe(vectors: np.ndarray, text_entry: list[int], cos: float = DEDUPE_COS) -> list[int]:
    """Text indices to put in FAISS: per entry its canonical question, then every wording
    not within ``cos`` of one already kept (name variants of one template mostly)."""
    out: list[int] = []
    start = 0
    n = len(text_entry)
    while start < n:
        end = start
        while end < n and text_entry[end] == text_entry[start]:
            end += 1
        kept = [start]
        for i in range(start + 1, end):
            if float(np.max(vectors[kept] @ vectors[i])) < cos:
                kept.append(i)
        out.extend(kept)
        start = end
    return out


def build_index(entries: list[FaqEntry], embedder, index_dir: Path, *, catalog, data_dir: Path,
                progress: bool = False, keep: int = 3, batch_size: int = 64, calibrate: bool | str = True,
                calibration_key: str | None = None, cache_dir: Path | None = None, warm_start: bool = False):
    """Write a new build next to the live one (reusing unchanged vectors), calibrate it,
    then switch ``CURRENT``.  Returns (FaqIndex, BuildReport).

    ``warm_start``: the classifiers' solver starts from the live build's weights (a maintainer's
    edit changes a few of their 197,000 examples: about 12 s instead of 50 for the topic
    classifier; on 4,536 questions of three blind sets 4 top topics differed from a fit from zero,
    probabilities at most 0.025 apart).  The command line builds from zero.

    ``calibrate``: True fits weights and gate on the calibration set; "auto" keeps the live
    build's calibration when it was fitted for the same embedder on the same set (a
    maintainer's edit moves no threshold: ``calibration_key`` names the calibration set and
    the catalog-made entries), else fits; False leaves the defaults.  ``cache_dir``: the
    classifiers trained before on the same examples are read from there, not fitted again."""
    from knowledge_base.faq.pinyin import PinyinCorrector, build_tables
    from knowledge_base.faq.query import FaqIndex
    from knowledge_base.faq.calibrate import SCOPE_SETS
    from knowledge_base.faq.ngram import NgramClassifier
    from knowledge_base.faq.scope import train_scope
    from knowledge_base.faq.understand import Understander

    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    (index_dir / "builds").mkdir(parents=True, exist_ok=True)
    all_entries = list(entries)
    active = [e for e in all_entries if e.active]
    texts, text_entry = [], []
    for i, e in enumerate(active):
        for t in e.texts():
            texts.append(t)
            text_entry.append(i)

    old_vecs: dict[str, np.ndarray] = {}
    old_hashes: dict[str, str] = {}
    prev_cal, prev_tables, warm_topics, warm_scope = None, None, None, None
    prev = current_build(index_dir)
    if prev is not None:
        try:
            meta = json.loads((prev / "meta.json").read_text(encoding="utf-8"))
            if meta.get("embedder") == embedder.name and meta.get("text_keys"):
                vecs = np.load(prev / "vectors.npy")
                old_vecs = dict(zip(meta["text_keys"], vecs))
                old_hashes = meta.get("entry_hashes", {})
                if (prev / "calibration.json").exists():
                    prev_cal = json.loads((prev / "calibration.json").read_text(encoding="utf-8"))
            if meta.get("format") == FORMAT_VERSION and (prev / "pinyin.json").exists():
                prev_tables = json.loads((prev / "pinyin.json").read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a broken previous build only costs re-embedding
            old_vecs = {}
        if warm_start:
            try:
                warm_topics = NgramClassifier.load(prev / "topics.npz")
                warm_scope = NgramClassifier.load(prev / "scope.npz")
            except Exception:  # noqa: BLE001 - no usable weights: fitted from zero
                warm_topics, warm_scope = None, None
    keys = [_text_key(embedder.name, t) for t in texts]
    todo = [i for i, k in enumerate(keys) if k not in old_vecs]
    dim = int(getattr(embedder, "dim", 384))
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in old_vecs:
            vectors[i] = old_vecs[k]
    if todo:
        vectors[todo] = _encode(embedder, [texts[i] for i in todo], progress, batch_size)
    indexed = dedupe(vectors, text_entry)
    entry_hashes = {e.id: e.content_hash() for e in all_entries}
    changed = sum(1 for e in active if old_hashes.get(e.id) != entry_hashes[e.id])

    lex = lexicon(catalog, data_dir, active)
    words = correction_words(lex)
    words_key = hashlib.sha1("\n".join([PINYIN_TABLES, *words]).encode("utf-8")).hexdigest()[:16]
    if prev_tables is not None and prev_tables.get("key") == words_key:
        tables = prev_tables
    else:
        tables = {**build_tables(words), "key": words_key}
    understander = Understander(lex, PinyinCorrector(tables))
    classifier = NgramClassifier.train(topic_examples(active, understander.mask), list(TOPICS), tol=TOPIC_TOL,
                                       cache_dir=cache_dir, warm=warm_topics)
    scope = train_scope(active, SCOPE_SETS, cache_dir=cache_dir, warm=warm_scope)

    meta = {
        "format": FORMAT_VERSION, "embedder": embedder.name, "dim": dim,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "entries": [e.model_dump() for e in active],
        "inactive": [{"id": e.id, "overridden_by": e.overridden_by} for e in all_entries if not e.active],
        "entry_hashes": entry_hashes, "texts": texts, "text_keys": keys, "text_entry": text_entry,
        "indexed": indexed, "dedupe_cos": DEDUPE_COS,
        "lexicon": lex, "regions": region_facts(catalog), "items": item_facts(catalog),
    }
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{int(time.time_ns() % 1_000_000):06d}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir / "builds"))
    try:
        np.save(tmp / "vectors.npy", vectors)
        write_dense_index(vectors[indexed], tmp / "dense.faiss")
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        (tmp / "pinyin.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
        classifier.save(tmp / "topics.npz")
        scope.save(tmp / "scope.npz")
        index = FaqIndex.open(tmp, embedder)
        cal_report = None
        if calibration_key:  # the lexicon (aliases, refusal cues, topic cues) moves the fit too
            lex_hash = hashlib.sha1(json.dumps([lex, sorted(map(str, topic_examples([], lambda t: t)))],
                                               ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:12]
            calibration_key = f"{calibration_key}:{lex_hash}"
        if calibrate == "auto" and calibration_key and prev_cal and prev_cal.get("key") == calibration_key:
            cal = prev_cal
        elif calibrate:
            from knowledge_base.faq.calibrate import calibrate_index

            cal = calibrate_index(index, data_dir, cache_dir=cache_dir)
            if cal is not None:
                cal["key"] = calibration_key
        else:
            cal = None
        if cal is not None:
            index.calibration = cal
            (tmp / "calibration.json").write_text(json.dumps(cal, indent=2, ensure_ascii=False), encoding="utf-8")
            cal_report = cal.get("report")
        final = index_dir / "builds" / stamp
        os.replace(tmp, final)
        index.path = final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic_write_text(index_dir / "CURRENT", stamp + "\n")
    _prune(index_dir, keep)
    report = BuildReport(
        path=str(final), entries=len(active),
        generated=sum(1 for e in active if e.origin == "generated"),
        curated=sum(1 for e in active if e.origin != "generated"),
        overridden=sum(1 for e in all_entries if e.overridden_by),
        texts=len(texts), embedded=len(todo), reused=len(texts) - len(todo), changed_entries=changed,
        seconds=round(time.perf_counter() - t0, 2), calibration=cal_report,
    )
    return index, report


def rebuild(settings, *, catalog=None, edits=None, embedder=None, progress: bool = False,
            calibrate: bool | str = "auto"):
    """The one rebuild: catalog + curated (+ maintainer edits) -> entries -> index ->
    calibration.  Used by ``cli build-index`` and by the service.  With maintainer edits the
    classifiers start from the live build's weights (``build_index``: warm_start)."""
    from knowledge_base.catalog.loader import load_catalog

    if catalog is None:
        catalog = load_catalog(settings.data_dir)
    if embedder is None:
        from knowledge_base.faq.embedders import make_embedder

        embedder = make_embedder(settings)
    from knowledge_base.faq.calibrate import calibration_set_key

    entries = build_entries(catalog, settings.data_dir, edits)
    base = hashlib.sha1("".join(e.content_hash() for e in build_entries(catalog, settings.data_dir)).encode())
    key = f"{calibration_set_key(settings.data_dir)}:{base.hexdigest()[:16]}:{FORMAT_VERSION}:{DEDUPE_COS}"
    return build_index(entries, embedder, settings.index_dir, catalog=catalog, data_dir=settings.data_dir,
                       progress=progress, calibrate=calibrate, calibration_key=key,
                       cache_dir=Path(settings.cache_dir) / "classifiers", warm_start=bool(edits))
