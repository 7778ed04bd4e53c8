"""The business profile: the facts the rules reason on (docs/architecture.md)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

REGIONS = ("zhongshan", "yangjiang", "suixian", "jinzhong", "tongxin")
FoodSales = Literal["none", "produce", "prepackaged", "bulk", "catering"]
# exempt: only class II products on the national list exempt from the business filing (体温计、血压计 …)
Devices = Literal["none", "exempt", "class2", "class3", "both"]
EntityType = Literal["individual", "company"]
StartupStep = Literal["business_registration", "company_seal", "bank_account", "tax_invoice", "social_insurance", "housing_fund"]
# order of food-sales levels: a stronger level needs everything a weaker one does
FOOD_LEVEL = {"none": 0, "produce": 1, "prepackaged": 2, "bulk": 3, "catering": 4}


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: Literal["zhongshan", "yangjiang", "suixian", "jinzhong", "tongxin"] | None = None
    activities: list[str] = Field(default_factory=list, max_length=20)
    area_m2: float | None = Field(default=None, gt=0, le=1_000_000)
    food_sales: FoodSales | None = None
    halal: bool | None = None
    tobacco: bool | None = None
    medical_devices: Devices | None = None
    workshop: bool | None = None
    radiation: bool | None = None
    maternal: bool | None = None
    entertainment: bool | None = None
    vehicle_weight_t: float | None = Field(default=None, gt=0, le=200)
    rooms: int | None = Field(default=None, ge=0, le=100_000)
    seed_repack: bool | None = None
    outdoor_ad: bool | None = None
    elevator: bool | None = None
    amusement_rides: bool | None = None
    online_drug_info: bool | None = None
    live_music: bool | None = None  # 驻唱、乐队等由演员表演 (营业性演出)
    books: bool | None = None  # 卖图书、报刊、音像制品
    drugs: bool | None = None  # 超市、便利店也卖药品(含非处方药)
    meals: bool | None = None  # 养老、托育机构、幼儿园自办食堂
    entity_type: EntityType | None = None  # 个体工商户 / 企业
    district: str | None = Field(default=None, max_length=40, description="county/district code within the region (阳春 yangchun …)")
    startup: list[StartupStep] = Field(default_factory=list, max_length=6, description="开办 steps the applicant asked to do together")
    unrecognized: list[str] = Field(default_factory=list, max_length=10, description="trade words that matched no activity")
    candidates: dict[str, list[str]] = Field(default_factory=dict, max_length=5, description="an unrecognised word -> close activities (asked)")
    new_business: bool = True
    name: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=200)
    employees: int | None = Field(default=None, ge=0, le=1_000_000)

    @field_validator("area_m2", "vehicle_weight_t", "rooms", "employees", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, v):
        """JSON numbers only: ``false`` or ``"80"`` is not a number of square metres (issue 10)."""
        if isinstance(v, (bool, str)):
            raise ValueError("应填数字")
        return v

    @field_validator("halal", "tobacco", "workshop", "radiation", "maternal", "entertainment", "seed_repack",
                     "outdoor_ad", "elevator", "amusement_rides", "online_drug_info", "live_music", "books", "drugs",
                     "meals", "new_business", mode="before")
    @classmethod
    def _yes_no_is_boolean(cls, v):
        """true/false only (not 1, "yes" or "true"): what the schema says (issue 10)."""
        if v is not None and not isinstance(v, bool):
            raise ValueError("应填 是/否(true/false)")
        return v

    @field_validator("activities", "startup", "unrecognized")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    @field_validator("unrecognized")
    @classmethod
    def _short_words(cls, v: list[str]) -> list[str]:
        return [w[:40] for w in v]

    def merged(self, newer: "Profile", removed: list[str] | tuple = ()) -> "Profile":
        """This profile with every fact ``newer`` states written over it (a
        correction wins); activities, requested start-up steps and unrecognised
        words are united; ``removed`` activities are taken back (「不开饭店了」)."""
        data = self.model_dump()
        for key, value in newer.model_dump(exclude_unset=True).items():
            if key in ("activities", "startup", "unrecognized"):
                data[key] = list(dict.fromkeys([*data[key], *value]))
            elif key == "candidates":
                data[key] = {**data[key], **value}
            elif value is not None:
                data[key] = value
        if removed:
            data["activities"] = [a for a in data["activities"] if a not in removed]
        return Profile.model_validate(data)
