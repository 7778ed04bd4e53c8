"""Activities (what a business sells or serves): the lexicon for free text and
the tags the rules read.  Data lives in ``data/catalog/industries.yaml``."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from knowledge_base.catalog.models import Fact

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
    "general",  # 准入即营: no permit by itself (only with coverage "none" and its reason)
    # trades added with issue 7 (each read by one rule, see knowledge_base/rules/)
    "live_music",  # 驻唱、乐队: 营业性演出 (演出场所备案)
    "express_outlet",  # 快递末端网点 (驿站、代收点)
    "express_company",  # 快递企业、加盟网点 (快递业务经营许可)
    "car_wash",  # 洗车 (排水许可)
    "vehicle_repair",  # 机动车维修 (备案)
    "school",  # 民办学校、学科类培训、幼儿园 (办学许可)
    "childcare",  # 托育机构 (备案)
    "elderly_care",  # 养老机构 (备案)
    "used_car",  # 二手车经营 (备案)
    "recycling",  # 再生资源回收 (备案)
    "refined_oil",  # 加油站 (成品油零售)
    "hazardous_chem",  # 危险化学品经营 (许可)
    "pawn",  # 典当 (许可)
    "auction",  # 拍卖 (许可)
    "security_service",  # 保安服务 (许可)
    "labor_dispatch",  # 劳务派遣 (许可)
    "driving_school",  # 机动车驾驶员培训 (备案)
    "script_game",  # 剧本杀、密室逃脱 (剧本娱乐经营场所备案)
    "high_risk_sports",  # 攀岩、潜水、滑雪 (高危险性体育项目许可)
    "livestock",  # 畜禽养殖 (动物防疫条件合格证)
    "sports_venue",  # 体育场馆 (公众聚集场所)
    "playground",  # 儿童乐园、室内游乐场 (公共娱乐场所)
    "stationery",  # 文具店 (卖图书报刊时才要出版物许可)
    "after_school",  # 校外托管、学生小饭桌 (供餐要食品经营许可)
    "food_stall",  # 食品摊贩 (按省小摊点条例登记/备案，不办食品经营许可)
}

Coverage = Literal["rules", "none", "partial"]


class Industry(BaseModel):
    """One activity.  ``coverage`` says how far the rules know it:

    - ``rules``: the rules decide every permit it needs (through its tags and answers);
    - ``none``: positively known to need no permit beyond the business licence —
      ``none_reason`` says why, with its source (the only way to 准入即准营);
    - ``partial``: known, but some permits it may need are outside the rules —
      ``confirm`` lists what to confirm at the window (each with its source).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name: str
    gb: str | None = None  # 国民经济行业分类(GB/T 4754-2017) class, e.g. "5232"
    synonyms: list[str] = []
    tags: list[str]
    asks: list[str] = []  # profile keys worth asking for this activity (if they change the bundle)
    defaults: dict[str, object] = {}  # facts implied by the activity (e.g. food_sales: catering)
    assume: dict[str, object] = {}  # interim guesses until asked (e.g. a 小吃店 is small)
    example: str | None = None
    coverage: Coverage = "rules"
    none_reason: Fact | None = None
    confirm: list[Fact] = []

    @model_validator(mode="after")
    def _coverage_is_explained(self):
        if self.coverage == "none" and self.none_reason is None:
            raise ValueError(f"activity {self.key}: coverage none needs none_reason")
        if self.coverage == "partial" and not self.confirm:
            raise ValueError(f"activity {self.key}: coverage partial needs confirm")
        if "general" in self.tags and self.coverage != "none":
            raise ValueError(f"activity {self.key}: the general tag is only for coverage none")
        return self
