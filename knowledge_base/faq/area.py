"""The shop's area a question states, and the regional thresholds it decides between.

同心 (宁夏) registers a 小餐饮 of at most 150 ㎡ and a 食品小销售店 of at most 30 ㎡ instead of
licensing them (region parameters ``nx_small_catering_max_m2`` / ``nx_small_shop_max_m2``, read by
``rules/food.py`` for the intake bundle).  A caller who says 「同心开个小吃店，八十平米，办许可还是登记证」
is answered by the registration, 「两百平的饭馆」 by the licence, as the intake bundle would tell them.
The rules are built from the catalog with the index (``build.area_rules``) and read here from the
stored lexicon: no catalog at query time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge_base.intake.describe import AREA_RE, to_digits

# 「三十平米以下」「150平米以上」「不到一百平」「超过一百五十平」: a bound, not the area itself
_AT_MOST_AFTER = re.compile(r"^(及|或)?(以下|以内|之内|之下|内)")
_AT_LEAST_AFTER = re.compile(r"^(及|或)?(以上|之上|开外)")
_AT_MOST_BEFORE = re.compile(r"(不到|不足|不满|不超过|没超过|没有超过|没到|小于|低于|少于|不够|未满|未超过)$")
_AT_LEAST_BEFORE = re.compile(r"(超过|超出|大于|多于|高于|不止|起码|至少)$")
# 「十几平」「二十几个平方」: read as the middle of the ten; 「六七十平」: as the upper of the two
_SOME_TENS = re.compile(r"([一二三四五六七八九两]?十)几")
_TWO_TENS = re.compile(r"([一二三四五六七八九])([一二三四五六七八九])十")
# 「扩到两百平了，登记证咋办」「原来那个登记证还能用吗」: the registration held, changed (its own entries)
_GROWN = re.compile(r"扩|原来|原先|以前办|换成|改办|接着用|继续用|划线")
# 「一百六十平的饭馆还能办登记证吗」「是不是不能办登记证」「那还办登记证吗」: whether the registration is
# still open to it
_STILL = re.compile(r"(还能|还可以|能不能|能否|可不可以|是不是不能|不能|那还|还要|还用)[^，。？！,?!]{0,6}登记")
# 「二十来平米，不对，二十五平」: the area said after a correction replaces the one before
_CORRECTION = re.compile(r"不对|说错|讲错|搞错|应该是|其实是|准确说|刚量了")


@dataclass(frozen=True)
class StatedArea:
    value: float
    bound: str  # "about" (the area), "at_most" (≤ value), "at_least" (≥ value)

    def within(self, limit: float) -> bool | None:
        """At or under ``limit`` (以下含本数); None when the question leaves it open."""
        if self.bound == "at_least":
            return False if self.value >= limit else None
        if self.bound == "at_most":
            return True if self.value <= limit else None
        return self.value <= limit


def stated_area(text: str) -> StatedArea | None:
    """The one area the question states, with its bound; None when it states none, or several
    that differ (「原来一百平，现在扩成一百八十平」: which one is asked is for a person to read)."""
    num = to_digits(_TWO_TENS.sub(r"\2十", _SOME_TENS.sub(r"\1五", text)))
    found, end = [], 0
    for m in AREA_RE.finditer(num):
        if found and _CORRECTION.search(num[end:m.start()]):
            found = []
        end = m.end()
        value = float(m.group(1))
        after, before = num[m.end():m.end() + 4], num[max(0, m.start() - 5):m.start()]
        more = num[m.end(1):m.end()].lstrip().startswith(("多", "余"))  # 「三十多平」: over thirty
        if _AT_MOST_AFTER.search(after) or _AT_MOST_BEFORE.search(before):
            bound = "at_most"
        elif more or _AT_LEAST_AFTER.search(after) or _AT_LEAST_BEFORE.search(before):
            bound = "at_least"
        else:
            bound = "about"
        found.append(StatedArea(value, bound))
    if not found or len({(a.value, a.bound) for a in found}) > 1:
        return None
    return found[0]


def area_item(rules: list[dict], text: str, region: str | None) -> tuple[str, dict] | None:
    """(item code, the rule) the stated area decides for the region's trade named in ``text``; None
    when the region sets no threshold, no one rule's trade is named, no area is stated or the
    area leaves it open.  ``rules``: ``build.area_rules`` (region, max_m2, words, within, over)."""
    if not region or _GROWN.search(text):
        return None
    mine = [r for r in rules if r["region"] == region and any(w in text for w in r["words"])]
    if len(mine) != 1:  # none, or a shop that cooks too (both kinds named): the bundle's questions decide
        return None
    area = stated_area(text)
    if area is None:
        return None
    rule = mine[0]
    within = area.within(float(rule["max_m2"]))
    if within is False and _STILL.search(text):  # 「一百六十平还能办登记证吗」: the registration's own scope
        return None
    code = rule["within"] if within else rule.get("over") if within is False else None
    return (code, rule) if code else None
