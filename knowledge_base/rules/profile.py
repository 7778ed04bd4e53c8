"""The business profile: the facts the rules reason on (docs/architecture.md)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

REGIONS = ("zhongshan", "yangjiang", "suixian", "jinzhong", "tongxin")
FoodSales = Literal["none", "produce", "prepackaged", "bulk", "catering"]
Devices = Literal["none", "class2", "class3", "both"]
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
    new_business: bool = True
    name: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=200)
    employees: int | None = Field(default=None, ge=0, le=1_000_000)

    @field_validator("activities")
    @classmethod
    def _dedupe(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    def merged(self, newer: "Profile") -> "Profile":
        """This profile with every fact ``newer`` states written over it (a
        correction wins); activities are united."""
        data = self.model_dump()
        for key, value in newer.model_dump(exclude_unset=True).items():
            if key == "activities":
                data[key] = list(dict.fromkeys([*data[key], *value]))
            elif value is not None:
                data[key] = value
        return Profile.model_validate(data)
