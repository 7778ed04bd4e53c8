"""Typed shape of the permit catalog under ``data/catalog/``.

Every statement of fact in an item carries ``src``: a list of keys into the
item's own ``sources`` table (or the shared ``data/catalog/sources.yaml``), so
the catalog check can refuse a fact without a source.  ``inferred: true`` marks a
fact that was not read in an official text and must be confirmed at the window.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["approval", "filing", "commitment", "optimized", "registration", "startup"]
MODE_LABELS: dict[str, str] = {
    "approval": "审批",
    "filing": "备案",
    "commitment": "告知承诺",
    "optimized": "优化审批服务",
    "registration": "登记",
    "startup": "企业开办",
}
ConditionGroup = Literal["场所", "设备", "人员", "制度", "资金"]
CONDITION_GROUPS: tuple[str, ...] = ("场所", "设备", "人员", "制度", "资金")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A document a fact was read from (law, seed, official guide, secondary)."""

    title: str
    kind: Literal["law", "regulation", "rule", "seed", "guide", "standard", "secondary"] = "law"
    ref: str | None = None  # article, document number, seed file name or URL


class Fact(_Strict):
    """One sourced statement in plain Chinese."""

    text: str
    src: list[str] = Field(min_length=1)
    inferred: bool = False


class Material(_Strict):
    """A document to bring.  ``key`` names shared materials so a bundle can
    merge them across items (e.g. ``business_license``, ``id_card``)."""

    key: str
    name: str
    src: list[str] = Field(min_length=1)
    note: str | None = None
    inferred: bool = False


class TimeLimit(_Strict):
    statutory_days: int | None = None  # None: 备案/即办 or not fixed
    unit: Literal["working_days", "days", "immediate"] = "working_days"
    promised_days: int | None = None
    text: str  # plain-language statement, e.g. 受理后10个工作日内决定，可延长5个工作日
    src: list[str] = Field(min_length=1)
    inferred: bool = False


class Item(_Strict):
    """One permit, filing, registration or start-up step (contract code table)."""

    code: str
    name: str
    kind: Literal["permit", "filing", "registration", "startup"] = "permit"
    aliases: list[str] = []  # what applicants call it: 食品证, 卫生证, 烟草证 ...
    summary: str  # one sentence: who needs it
    department: str  # generic national wording, regions may override
    department_key: str  # dispatch routing key: market_regulation, health, fire, police ...
    mode: Mode
    mode_note: Fact | None = None  # why this mode (证照分离 list etc.)
    legal_basis: list[Fact] = Field(min_length=1)
    triggers: list[Fact] = []  # when it is needed
    exemptions: list[Fact] = []  # when it is not needed
    time_limit: TimeLimit
    conditions: dict[ConditionGroup, list[Fact]] = {}
    materials: list[Material] = []
    validity: Fact | None = None
    fee: Fact | None = None
    process: list[Fact] = []  # steps, online channel, post-approval check
    commitment: Fact | None = None  # 告知承诺 / 容缺 applicability
    change: Fact | None = None  # 变更、延续、注销
    form_fields: list[str] = []  # keys into data/catalog/fields.yaml
    sources: dict[str, Source] = {}


class Parameter(_Strict):
    """A national threshold the rules read (data/catalog/parameters.yaml)."""

    value: float
    text: str
    src: list[str] = Field(min_length=1)


class FormField(_Strict):
    """An entry of the shared field dictionary used to merge application forms."""

    label: str
    group: Literal["subject", "site", "people", "business", "item"]
    type: Literal["text", "number", "area", "uscc", "id_number", "phone", "address", "choice", "bool", "date"] = "text"
    choices: list[str] = []
    profile_key: str | None = None  # pre-filled from the intake profile (e.g. area_m2)
    hint: str | None = None


class RegionItem(_Strict):
    """An item as a region lists it: local name, department, batch, note."""

    code: str
    local_name: str | None = None
    department: str | None = None
    batch: str | None = None
    note: str | None = None
    # where the region's own threshold decides whether the item applies (同心's 150 ㎡ 小餐饮, 睢县's
    # 60 ㎡ 小经营店): the sentence a FAQ answer on the item's scope opens with there, in place of the
    # national rule's, which would read as binding on every shop; the national cases follow.  Its
    # figures are the thresholds the rules read, named ({nx_small_catering_max_m2:g}): Catalog.region_scope
    scope: str | None = None
    promised_days: int | None = None
    mode: Mode | None = None  # region's reform mode when it differs (晋中 证照分离)
    level: Literal["county", "city", "province"] | None = None  # county: the applicant's county/district office
    src: list[str] = Field(min_length=1)


class Package(_Strict):
    """A named industry bundle a region publishes (睢县 套餐, 同心 一业一证 行业)."""

    key: str
    name: str
    activities: list[str]  # activity keys from data/catalog/industries.yaml
    items: list[str]  # codes the document lists for it (按需办理: rules decide)
    note: str | None = None
    src: list[str] = Field(min_length=1)


class District(_Strict):
    """A county, county-level city or district of a region (阳春市, 榆次区 …): where the
    county-level offices sit.  ``kind`` picks the office pattern (县/市 vs 区)."""

    code: str
    name: str
    kind: Literal["county", "district"] = "county"
    words: list[str] = []  # place words (towns, streets) that put an address here


class Region(_Strict):
    """A jurisdiction: the single source of its name, place words, districts and
    offices (nothing else in the code names a place)."""

    code: str
    name: str
    short: str  # what people call it: 中山, 睢县
    province: str
    province_key: str  # guangdong / henan / shanxi / ningxia: regional rules key on it
    words: list[str] = []  # place words for the region itself (towns, streets; not its districts)
    districts: list[District] = []
    # department_key -> office name pattern for items handled at county/district level:
    # {"county": "{name}市场监督管理局", "district": "{city}公安局{name}分局"}; {name} is the
    # district's name, {city} the region's.  Keys not listed stay as the pack lists them.
    county_offices: dict[str, dict[str, str]] = {}
    county_offices_src: list[str] = []
    reform: str
    seed: str
    summary: str
    items: list[RegionItem]
    startup_steps: list[str] = []  # 开办 steps offered together (阳江, 睢县)
    packages: list[Package] = []
    parameters: dict[str, float] = {}  # thresholds this region changes, named in rules
    hotline: str = "12345"
    window: str = "政务服务中心导办窗口"
    sources: dict[str, Source] = {}
