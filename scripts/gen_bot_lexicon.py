#!/usr/bin/env python3
"""Generate the bot's lexicon files from the catalog, so that a new industry or
item added under data/catalog/ reaches the Rasa bot without hand edits.

Reads (defensively: missing files/keys are skipped):
  data/catalog/industries.yaml   activities[].{key, name, synonyms}
  data/catalog/items/*.yaml      {code, name, aliases, local_name}
  data/catalog/regions/*.yaml    {code, name, items[].local_name}

Writes:
  bot/dict/daoban_lexicon.txt              jieba user dictionary (word freq tag)
  bot/data/nlu/lookup_generated.yml        lookup tables + synonyms (activity, region, item)
  bot/data/nlu/describe_generated.yml      templated describe_business examples, a few per activity

Output is deterministic (sorted, seeded), so the training hash only changes when
the catalog does.  Runs in either environment (needs only PyYAML).
Usage: python scripts/gen_bot_lexicon.py [--root REPO] [--check]
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# Region codes, names and place words come from the region packs only (data/catalog/regions/).
PROVINCE_SUFFIXES = ("回族自治区", "自治区", "省")
# Words jieba should keep whole (units, common intake words).
EXTRA_WORDS = [
    "平米", "平方米", "平方", "平方公里", "吨", "总质量", "客房", "预包装", "预包装食品", "散装",
    "散装食品", "现做现卖", "食用农产品", "清真", "卖烟", "烟草", "医疗器械", "二类", "三类",
    "第二类", "第三类", "小作坊", "放射", "X光", "母婴保健", "驻唱", "卡拉OK", "演艺", "营业执照",
    "一照通行", "一业一证", "证照联办", "证照分离", "导办", "人工", "人工客服", "转人工", "12345",
    "告知承诺", "容缺受理", "一表申请", "申请表", "多久", "多长时间", "几天", "要钱", "收费",
]
SPACE = re.compile(r"\s")


def _load_yaml(path: Path):
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:  # a half-written file must not break training
        print(f"gen_bot_lexicon: skipping {path}: {exc}", file=sys.stderr)
        return None


def _clean(words) -> list[str]:
    out = []
    for w in words or []:
        if not isinstance(w, str):
            continue
        w = w.strip()
        # jieba's user dictionary is whitespace separated; mixed text with spaces breaks
        # the 3.6 tokenizer (rasa#7910): keep single-token words only.
        if w and not SPACE.search(w) and len(w) <= 30:
            out.append(w)
    return out


def load_catalog(root: Path) -> dict:
    catalog = root / "data" / "catalog"
    activities: list[dict] = []
    data = _load_yaml(catalog / "industries.yaml") or {}
    raw = data.get("activities", data.get("industries", [])) if isinstance(data, dict) else data
    for act in raw or []:
        if not isinstance(act, dict) or not act.get("key"):
            continue
        names = _clean(re.split(r"[/／、,，]", act.get("name") or ""))
        activities.append({"key": str(act["key"]), "names": names, "synonyms": _clean(act.get("synonyms"))})

    items: list[dict] = []
    for path in sorted((catalog / "items").glob("*.yaml")):
        it = _load_yaml(path)
        if not isinstance(it, dict):
            continue
        code = it.get("code") or path.stem
        words = _clean([it.get("name"), it.get("local_name"), *(it.get("aliases") or [])])
        items.append({"code": str(code), "words": words})

    regions: dict[str, list[str]] = {}
    local_names: dict[str, list[str]] = {}
    for path in sorted((catalog / "regions").glob("*.yaml")):
        reg = _load_yaml(path)
        if not isinstance(reg, dict):
            continue
        code = str(reg.get("code") or path.stem)
        province = str(reg.get("province") or "")
        for suffix in PROVINCE_SUFFIXES:
            province = province.removesuffix(suffix)
        names = [reg.get("name"), reg.get("short"), *(reg.get("words") or [])]
        if province and reg.get("short"):
            names += [province + reg["short"], province + str(reg.get("name"))]
        for d in reg.get("districts") or []:
            if isinstance(d, dict):
                names += [d.get("name"), *(d.get("words") or [])]
        regions.setdefault(code, [])
        for w in _clean(names):
            if w not in regions[code]:
                regions[code].append(w)
        for entry in reg.get("items") or []:
            if isinstance(entry, dict) and entry.get("code") and entry.get("local_name"):
                local_names.setdefault(str(entry["code"]), []).extend(_clean([entry["local_name"]]))
    for it in items:  # local names (e.g. 中山's wording) are aliases of the same code
        for w in local_names.get(it["code"], []):
            if w not in it["words"]:
                it["words"].append(w)
    return {"activities": activities, "items": items, "regions": regions}


def _by_length(words) -> list[str]:
    """Longest first: a lookup regex is an alternation tried left to right."""
    return sorted(set(words), key=lambda w: (-len(w), w))


def build_lookup(cat: dict) -> tuple[dict, dict]:
    lookups = {"activity": [], "region": [], "item": []}
    synonyms: dict[str, list[str]] = {}
    seen: set[str] = set()  # synonym mapping is by text only: first owner wins

    def add(entity: str, value: str, words: list[str]):
        for w in words:
            lookups[entity].append(w)
            if w in seen or w == value:
                continue
            seen.add(w)
            synonyms.setdefault(value, []).append(w)

    for code, words in sorted(cat["regions"].items()):
        add("region", code, words)
    for act in cat["activities"]:
        add("activity", act["key"], act["names"] + act["synonyms"])
    for it in cat["items"]:
        add("item", it["code"], it["words"])
    return {k: _by_length(v) for k, v in lookups.items()}, synonyms


def write_dict(cat: dict, path: Path) -> None:
    words: dict[str, str] = {}
    for ws in cat["regions"].values():
        for w in ws:
            words.setdefault(w, "ns")
    for act in cat["activities"]:
        for w in act["names"] + act["synonyms"]:
            words.setdefault(w, "n")
    for it in cat["items"]:
        for w in it["words"]:
            words.setdefault(w, "nz")
    for w in EXTRA_WORDS:
        words.setdefault(w, "n")
    lines = [f"{w} {2000 + 10 * len(w)} {tag}" for w, tag in sorted(words.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _yaml_list(lines: list[str], values: list[str], indent: str = "      ") -> None:
    for v in values:
        lines.append(f"{indent}- {v}")


def write_lookup(cat: dict, path: Path) -> None:
    lookups, synonyms = build_lookup(cat)
    lines = [
        "# GENERATED by scripts/gen_bot_lexicon.py from data/catalog/ - do not edit by hand.",
        'version: "3.1"',
        "nlu:",
    ]
    for name, values in lookups.items():
        if not values:
            continue
        lines += [f"  - lookup: {name}", "    examples: |"]
        _yaml_list(lines, values)
    for value in sorted(synonyms):
        lines += [f"  - synonym: {value}", "    examples: |"]
        _yaml_list(lines, sorted(synonyms[value]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


AREAS = ["八十平米", "50平米", "一百二十平方", "200平方米", "三十平米", "60平", "150平米", "四百平米", "25平方米", "九十平"]
AREA_RE = re.compile(r"(平米|平方米|平方|平)$")
TEMPLATES = [
    "我想在[{r}](region)开一家[{a}](activity)",
    "在[{r}](region)开[{a}](activity)要办什么证",
    "我准备开个[{a}](activity)，[{area}](area)",
    "[{r}](region)，[{a}](activity)，大概[{area}](area)",
    "我要开[{a}](activity)，在[{r}](region)",
    "想做[{a}](activity)生意，需要办哪些手续",
    "打算在[{r}](region)开[{a}](activity)，面积[{area}](area)左右",
    "开[{a}](activity)需要什么许可",
]


def write_examples(cat: dict, path: Path, per_activity: int = 3) -> None:
    rng = random.Random(20240801)
    region_words = [w for ws in cat["regions"].values() for w in ws if len(w) <= 4]
    lines = [
        "# GENERATED by scripts/gen_bot_lexicon.py from data/catalog/industries.yaml - do not edit by hand.",
        'version: "3.1"',
        "nlu:",
        "  - intent: describe_business",
        "    examples: |",
    ]
    seen: set[str] = set()
    for act in cat["activities"]:
        words = act["synonyms"] or act["names"]
        if not words:
            continue
        for i in range(per_activity):
            a = words[(i * 7 + len(act["key"])) % len(words)]
            tpl = TEMPLATES[rng.randrange(len(TEMPLATES))]
            ex = tpl.format(a=a, r=rng.choice(region_words), area=rng.choice(AREAS))
            if ex not in seen:
                seen.add(ex)
                lines.append(f"      - {ex}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    root = args.root
    cat = load_catalog(root)
    write_dict(cat, root / "bot" / "dict" / "daoban_lexicon.txt")
    write_lookup(cat, root / "bot" / "data" / "nlu" / "lookup_generated.yml")
    write_examples(cat, root / "bot" / "data" / "nlu" / "describe_generated.yml")
    print(
        f"gen_bot_lexicon: {len(cat['activities'])} activities, {len(cat['items'])} items, "
        f"{len(cat['regions'])} regions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
