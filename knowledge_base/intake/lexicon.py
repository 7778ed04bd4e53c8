"""The free-text lexicon, generated from the catalog: activity synonyms
(industries.yaml), place words (the region packs: regions and their districts), and
item aliases.  The bot's jieba dictionary and lookup tables are generated from the
same lexicon (scripts/gen_bot_lexicon.py)."""
from __future__ import annotations

from dataclasses import dataclass

from knowledge_base.catalog.loader import Catalog


@dataclass(frozen=True)
class Lexicon:
    activity_words: dict[str, str]  # synonym -> activity key
    region_words: dict[str, str]  # place word -> region code
    district_words: dict[str, tuple[str, str]]  # place word -> (region code, district code)
    item_words: dict[str, str]  # item name/alias -> code


def build_lexicon(catalog: Catalog) -> Lexicon:
    acts: dict[str, str] = {}
    for ind in catalog.industries.values():
        for word in [ind.name, *ind.synonyms]:
            for part in word.split("/"):
                acts.setdefault(part.strip(), ind.key)
    regions: dict[str, str] = {}
    districts: dict[str, tuple[str, str]] = {}
    for code, region in catalog.regions.items():
        for word in [region.name, region.short, *region.words]:
            regions.setdefault(word, code)
        for d in region.districts:
            for word in [d.name, *d.words]:
                regions.setdefault(word, code)
                districts.setdefault(word, (code, d.code))
    items: dict[str, str] = {}
    for item in catalog.items.values():
        for word in [item.name, *item.aliases]:
            items.setdefault(word, item.code)
    return Lexicon(acts, regions, districts, items)
