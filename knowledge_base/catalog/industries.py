"""Activities (what a business sells or serves): the lexicon for free text and
the tags the rules read.  Data lives in ``data/catalog/industries.yaml``."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# Tags the rules understand; the catalog check refuses any other.
TAGS = {
    "catering",  # 餐饮服务
    "food_retail",  # 销售食品(超市、便利店)
    "produce",  # 只卖食用农产品
    "bakery",
    "food_workshop",  # 小作坊
    "food_factory",
    "lodging",
    "mall",  # 商场(店)、超市: 公共场所 + 公众聚集场所
    "song_dance",  # 歌舞娱乐
    "game_arcade",  # 游艺娱乐
    "internet_cafe",
    "cinema",
    "bar",
    "bath",
    "barber_beauty",
    "swimming",
    "bookstore",
    "publication",
    "clinic",
    "hospital",
    "pharmacy",
    "device_sales",
    "drug_wholesale",
    "internet_drug",
    "tobacco_shop",
    "real_estate_agency",
    "travel_agency",
    "seal_engraving",
    "fireworks",
    "pet_clinic",
    "pesticide",
    "seed",
    "vet_drug",
    "freight",
    "gas_appliance",
    "hr_agency",
    "industrial_products",
    "disinfection",
    "packaging_printing",
    "ride_hailing",
    "network_culture",
    "amusement_park",
    "elderly_canteen",
    "general",  # 准入即营: no permit by itself
}


class Industry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str
    synonyms: list[str] = []
    tags: list[str]
    asks: list[str] = []  # profile keys worth asking for this activity (if they change the bundle)
    defaults: dict[str, object] = {}  # facts implied by the activity (e.g. food_sales: catering)
    assume: dict[str, object] = {}  # interim guesses until asked (e.g. a 小吃店 is small)
    example: str | None = None
