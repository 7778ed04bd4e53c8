"""Rule machinery, in the spirit of openfisca's country-template: each rule is a
small named function with its reference, registered with ``@rule``.

A rule reads facts through :class:`Ctx` and returns the plain-Chinese reasons
(``why``) that make its item required, or ``None``.  ``Ctx`` remembers which
unknown facts a rule had to assume, so the engine can tell which question to ask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from knowledge_base.catalog.industries import Industry
from knowledge_base.catalog.loader import Catalog
from knowledge_base.rules.profile import FOOD_LEVEL, Profile

# The value assumed for a fact nobody has stated yet (interim bundle only; the
# question engine asks whenever the answer could change the bundle).
ASSUMED = {
    "tobacco": False,
    "halal": False,
    "medical_devices": "none",
    "workshop": False,
    "radiation": False,
    "maternal": False,
    "entertainment": False,
    "seed_repack": False,
    "outdoor_ad": False,
    "elevator": False,
    "amusement_rides": False,
    "online_drug_info": False,
    "live_music": False,
    "books": False,
    "drugs": False,
    "meals": False,
    "entity_type": "individual",  # most small shops are 个体工商户; asked where it matters (河南小经营店)
}


# activities that can sell food at all (the food facts only count for them)
FOOD_TAGS = {"catering", "food_retail", "produce", "food_workshop", "food_factory", "bakery", "elderly_canteen", "food_stall"}


@dataclass(frozen=True)
class Rule:
    name: str
    code: str
    reference: str  # source keys (data/catalog/sources.yaml or the item's own)
    doc: str
    fn: Callable[["Ctx"], list[str] | None]
    regions: tuple[str, ...] = ()  # empty: national


@dataclass(frozen=True)
class Exclusion:
    """A rule that explains why an item is NOT needed (一次告知 also says what you can skip)."""

    name: str
    code: str
    reference: str
    doc: str
    fn: Callable[["Ctx"], str | None]


RULES: list[Rule] = []
EXCLUSIONS: list[Exclusion] = []


def rule(code: str, *, reference: str, regions: tuple[str, ...] = ()):
    def deco(fn):
        RULES.append(Rule(fn.__name__, code, reference, (fn.__doc__ or "").strip(), fn, regions))
        return fn

    return deco


def not_needed(code: str, *, reference: str):
    def deco(fn):
        EXCLUSIONS.append(Exclusion(fn.__name__, code, reference, (fn.__doc__ or "").strip(), fn))
        return fn

    return deco


@dataclass
class Ctx:
    profile: Profile
    catalog: Catalog
    assumed: set[str] = field(default_factory=set)
    advisories: list[str] = field(default_factory=list)

    # -- who and where -------------------------------------------------
    @property
    def region(self) -> str | None:
        return self.profile.region

    @property
    def province(self) -> str | None:
        region = self.catalog.regions.get(self.profile.region or "")
        return region.province_key if region else None

    @property
    def region_name(self) -> str:
        region = self.catalog.regions.get(self.profile.region or "")
        return region.name if region else "当地"

    def param(self, name: str) -> float | None:
        """A threshold: national (data/catalog/parameters.yaml) or set by the region's pack
        (``parameters``); None where no such rule applies here."""
        return self.catalog.thresholds(self.profile.region).get(name)

    # -- what it does --------------------------------------------------
    @property
    def activities(self) -> list[Industry]:
        return [self.catalog.industries[a] for a in self.profile.activities if a in self.catalog.industries]

    def with_tag(self, *tags: str) -> list[Industry]:
        return [a for a in self.activities if set(tags) & set(a.tags)]

    def has(self, *tags: str) -> bool:
        return bool(self.with_tag(*tags))

    def names(self, *tags: str) -> str:
        return "、".join(a.name for a in self.with_tag(*tags))

    # -- facts ---------------------------------------------------------
    def fact(self, key: str):
        value = getattr(self.profile, key)
        if value is not None:
            return value
        for act in self.activities:
            if key in act.defaults:
                return act.defaults[key]
        if key in ASSUMED:
            self.assumed.add(key)
            return ASSUMED[key]
        return None

    def food_level(self) -> str:
        """The strongest kind of food business: catering > bulk > prepackaged > produce > none.
        Catering activities always count as catering; for the rest the applicant's
        answer wins over what the activity usually implies."""
        levels = [a.defaults.get("food_sales") for a in self.activities if "catering" in a.tags]
        if not any(FOOD_TAGS & set(a.tags) or "food_sales" in a.asks or "food_sales" in a.defaults for a in self.activities):
            return "none"  # 「包装好的种子」「瓶装液化气」: words about packaging, not a food business
        if self.profile.food_sales is not None:
            levels.append(self.profile.food_sales)
        else:
            implied = [a.defaults.get("food_sales") for a in self.activities if "catering" not in a.tags]
            implied = [v for v in implied if v]
            if implied:
                levels.extend(implied)
            elif self.has("food_retail"):
                self.assumed.add("food_sales")
                levels.append("bulk")
        levels = [v for v in levels if v]
        return max(levels, key=FOOD_LEVEL.__getitem__) if levels else "none"

    def area(self) -> float | None:
        """The stated area; until it is asked, the activity's interim guess (if any)."""
        if self.profile.area_m2 is None:
            self.assumed.add("area_m2")
            guesses = [a.assume["area_m2"] for a in self.activities if "area_m2" in a.assume]
            return float(min(guesses)) if guesses else None
        return self.profile.area_m2

    def area_text(self) -> str:
        a = self.profile.area_m2
        return f"经营面积约{a:g}平方米" if a is not None else "经营面积尚未确认"
