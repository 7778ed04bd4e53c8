"""The questions the engine may ask, in the order it asks them.  Each question is
asked only when its answer could change the bundle (the engine tries every
option), and only for activities that list it in ``asks``."""
from __future__ import annotations

import json
from dataclasses import dataclass

# Answers split into ranges at the thresholds that apply in the region (Catalog.thresholds: national
# data/catalog/parameters.yaml plus the region pack's parameters), by the parameter name's suffix:
# *_m2 the area, *_t the vehicle mass.  "以下" includes the number itself (民法典第1259条).
THRESHOLDS = {"area_m2": ("_m2", "平方米"), "vehicle_weight_t": ("_t", "吨")}


@dataclass(frozen=True)
class Option:
    title: str
    value: object


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    text: str
    options: tuple[Option, ...]
    why: str  # shown when the applicant asks why we ask
    example: str = ""  # how to answer in words (the second wording uses it)
    only_if_package: str | None = None  # asked only where a region package lists this item for the activity


# The region question's options come from the region packs (the engine builds them).

ACTIVITY_OPTIONS = (
    Option("餐饮(饭店、小吃、奶茶)", "restaurant"),
    Option("超市、便利店", "convenience_store"),
    Option("宾馆、民宿", "hotel"),
    Option("KTV、电玩城、网吧", "ktv"),
    Option("药店、诊所", "pharmacy"),
)

SPECS: dict[str, QuestionSpec] = {
    "region": QuestionSpec("region", "您的店开在哪个地方？", (), "各地办理的事项和门槛不同", "比如「中山小榄」「睢县城关镇」"),
    "activities": QuestionSpec("activities", "您打算经营什么？比如开饭店、便利店、宾馆，说说卖什么或提供什么服务。", ACTIVITY_OPTIONS, "要办哪些证由经营项目决定", "比如「开个洗车店」「卖衣服」「开托育中心」"),
    "food_sales": QuestionSpec(
        "food_sales",
        "店里卖吃的喝的吗？是只卖包装好的，还是有散装、现做现卖的？",
        (
            Option("只卖包装好的(预包装)", "prepackaged"),
            Option("有散装或现做现卖", "bulk"),
            Option("只卖蔬菜水果生鲜", "produce"),
            Option("不卖吃的喝的", "none"),
        ),
        "只卖预包装食品办备案，有散装或现做现卖要办食品经营许可",
        "比如「只卖包装好的饮料零食」或「有现做的关东煮」",
    ),
    "area_m2": QuestionSpec("area_m2", "经营场所面积大概多少平方米？", (), "有些证按面积大小决定办哪一种", "说个大概数就行，比如「八十平米」「一百二十平方」"),
    "halal": QuestionSpec("halal", "是清真的吗？店招或包装上会用“清真”字样吗？", (Option("是清真", True), Option("不是", False)), "在宁夏经营清真食品要办清真食品准营证", "回答「是清真」或「不是」"),
    "tobacco": QuestionSpec("tobacco", "店里会卖烟吗（含电子烟）？", (Option("会卖烟", True), Option("不卖烟", False)), "卖烟要办烟草专卖零售许可证", "回答「卖烟」或「不卖烟」"),
    "medical_devices": QuestionSpec(
        "medical_devices",
        "会卖医疗器械吗？比如体温计、血压计、制氧机、雾化器(二类)，或隐形眼镜、注射器(三类)？",
        (
            Option("不卖", "none"),
            Option("只卖体温计、血压计、医用口罩这类", "exempt"),
            Option("卖制氧机、雾化器等其他二类", "class2"),
            Option("卖三类(隐形眼镜等)", "class3"),
            Option("二类三类都卖", "both"),
        ),
        "二类医疗器械办备案(体温计、血压计等免备案)，三类要办经营许可",
        "比如「只卖体温计和口罩」或「还卖制氧机」",
    ),
    # one question for both: customers singing (娱乐场所) and performers on a stage (营业性演出)
    "entertainment": QuestionSpec(
        "entertainment",
        "店里有唱歌跳舞或演出吗？",
        (
            Option("都没有", {"entertainment": False, "live_music": False}),
            Option("顾客自己唱歌跳舞(卡拉OK、舞池)", {"entertainment": True, "live_music": False}),
            Option("请歌手驻唱或乐队演出", {"entertainment": False, "live_music": True}),
            Option("两样都有", {"entertainment": True, "live_music": True}),
        ),
        "顾客自己唱歌跳舞的属于娱乐场所，要办娱乐经营许可；请歌手驻唱、乐队演出的属于营业性演出，要向文旅部门备案",
        "回答「都没有」「有卡拉OK」或「有驻唱」",
    ),
    "workshop": QuestionSpec("workshop", "您会自己加工食品再包装卖给别的店或批发吗（小作坊）？", (Option("会", True), Option("不会，只在店里现做现卖", False)), "自己加工批发属于食品小作坊，要办小作坊登记", "回答「会批发给别的店」或「只在店里卖」"),
    "radiation": QuestionSpec("radiation", "会用X光机、CT、牙片机等放射设备吗？", (Option("会用", True), Option("不用", False)), "使用放射设备要办放射诊疗许可", "回答「有牙片机」或「不用」"),
    "maternal": QuestionSpec("maternal", "会开展助产、婚前检查、产前筛查、结扎或人流吗？", (Option("会", True), Option("不会", False)), "这些母婴保健技术服务要单独许可", "回答「会做婚检」或「不做」"),
    "vehicle_weight_t": QuestionSpec("vehicle_weight_t", "运货的车总质量多少？（看行驶证上的“总质量”）", (), "4.5吨及以下的普通货车不用办道路运输许可", "说最重那台车的总质量，比如「4.5吨」「十八吨」"),
    "seed_repack": QuestionSpec("seed_repack", "种子是自己生产或分装，还是只卖厂家包装好的？", (Option("自己生产或分装", True), Option("只卖包装好的", False)), "只卖包装好的种子办备案，生产或分装要办许可", "回答「自己分装」或「只卖包装好的」"),
    "books": QuestionSpec("books", "店里会卖图书、报刊、教辅或音像制品吗？", (Option("会卖书刊", True), Option("只卖文具", False)), "卖图书报刊要办出版物经营许可证", "回答「卖教辅」或「只卖文具」"),
    "drugs": QuestionSpec("drugs", "店里会卖药品吗（包括感冒药等非处方药）？", (Option("会卖药", True), Option("不卖药", False)), "卖药品要办药品经营许可证", "回答「卖药」或「不卖药」", only_if_package="drug_retail"),
    "meals": QuestionSpec("meals", "机构里会自己开伙做饭（自办食堂）吗？", (Option("自办食堂", True), Option("不做饭或外包送餐", False)), "自办食堂要按单位食堂办食品经营许可", "回答「自己做饭」或「外面送餐」"),
    "online_drug_info": QuestionSpec("online_drug_info", "会通过自己的网站、APP或小程序在网上展示、销售药品吗？", (Option("会", True), Option("不会，只在店里卖", False)), "通过自己的网站、APP提供药品信息要办互联网药品信息服务资格证书", "回答「会在网上卖」或「只在店里卖」"),
    "amusement_rides": QuestionSpec("amusement_rides", "场地里有大型游乐设施吗（如过山车、摩天轮、大型滑道，按国家目录属于特种设备的）？", (Option("有", True), Option("没有，只有小型玩具和蹦床", False)), "大型游乐设施投入使用前后30日内要办特种设备使用登记", "回答「有过山车」或「没有」"),
    "entity_type": QuestionSpec("entity_type", "您是以个体工商户还是公司（企业）名义开店？", (Option("个体工商户", "individual"), Option("公司(企业)", "company")), "河南的小经营店登记只适用于个体工商户，公司要办食品经营许可证", "回答「个体户」或「开公司」"),
}
ORDER = ("region", "activities", "food_sales", "area_m2", "entity_type", "halal", "tobacco", "drugs", "medical_devices", "online_drug_info", "entertainment", "books", "meals", "amusement_rides", "workshop", "radiation", "maternal", "vehicle_weight_t", "seed_repack")


def shortcut(facts: dict) -> str:
    """A Rasa intent shortcut carrying profile facts: /inform{"area_m2": 100}."""
    return "/inform" + json.dumps(facts, ensure_ascii=False)


def payload(key: str, value: object) -> str:
    """A Rasa intent shortcut the widget sends back verbatim (an option may set several keys)."""
    if key == "activities":
        return shortcut({"activity": value})
    if isinstance(value, dict):
        return shortcut(value)
    return shortcut({key: value})


def above(top: float, key: str) -> float:
    """A value safely above the highest threshold (for the "…以上" option)."""
    return top * 2 if key == "area_m2" else top + 1
