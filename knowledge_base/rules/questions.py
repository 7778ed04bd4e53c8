"""The questions the engine may ask, in the order it asks them.  Each question is
asked only when its answer could change the bundle (the engine tries every
option), and only for activities that list it in ``asks``."""
from __future__ import annotations

import json
from dataclasses import dataclass

# Thresholds that split the area question into ranges (㎡): 30 同心小销售店, 60 河南小经营店,
# 150 同心小餐饮 / 小型餐馆.  "以下" includes the number itself (民法典第1259条).
AREA_THRESHOLDS = (30.0, 60.0, 150.0)
WEIGHT_THRESHOLDS = (4.5,)
THRESHOLDS = {"area_m2": (AREA_THRESHOLDS, "平方米"), "vehicle_weight_t": (WEIGHT_THRESHOLDS, "吨")}


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


REGION_OPTIONS = (
    Option("广东中山", "zhongshan"),
    Option("广东阳江", "yangjiang"),
    Option("河南睢县", "suixian"),
    Option("山西晋中", "jinzhong"),
    Option("宁夏同心", "tongxin"),
)

ACTIVITY_OPTIONS = (
    Option("餐饮(饭店、小吃、奶茶)", "restaurant"),
    Option("超市、便利店", "convenience_store"),
    Option("宾馆、民宿", "hotel"),
    Option("KTV、电玩城、网吧", "ktv"),
    Option("药店、诊所", "pharmacy"),
    Option("其他", "general_retail"),
)

SPECS: dict[str, QuestionSpec] = {
    "region": QuestionSpec("region", "您的店开在哪个地方？", REGION_OPTIONS, "各地办理的事项和门槛不同。"),
    "activities": QuestionSpec("activities", "您打算经营什么？比如开饭店、便利店、宾馆，说说卖什么或提供什么服务。", ACTIVITY_OPTIONS, "要办哪些证由经营项目决定。"),
    "food_sales": QuestionSpec(
        "food_sales",
        "店里卖吃的喝的吗？是只卖包装好的，还是有散装、现做现卖的？",
        (
            Option("只卖包装好的(预包装)", "prepackaged"),
            Option("有散装或现做现卖", "bulk"),
            Option("只卖蔬菜水果生鲜", "produce"),
            Option("不卖吃的喝的", "none"),
        ),
        "只卖预包装食品办备案，有散装或现做现卖要办食品经营许可。",
    ),
    "area_m2": QuestionSpec("area_m2", "经营场所面积大概多少平方米？", (), "有些证按面积大小决定办哪一种。"),
    "halal": QuestionSpec("halal", "是清真的吗？店招或包装上会用“清真”字样吗？", (Option("是清真", True), Option("不是", False)), "在宁夏经营清真食品要办清真食品准营证。"),
    "tobacco": QuestionSpec("tobacco", "店里会卖烟吗（含电子烟）？", (Option("会卖烟", True), Option("不卖烟", False)), "卖烟要办烟草专卖零售许可证。"),
    "medical_devices": QuestionSpec(
        "medical_devices",
        "会卖医疗器械吗？比如血压计、医用口罩(二类)，或隐形眼镜、注射器(三类)？",
        (
            Option("不卖", "none"),
            Option("卖二类(血压计、口罩等)", "class2"),
            Option("卖三类(隐形眼镜等)", "class3"),
            Option("二类三类都卖", "both"),
        ),
        "二类医疗器械办备案，三类要办经营许可。",
    ),
    "entertainment": QuestionSpec("entertainment", "店里有驻唱、卡拉OK、舞池或演出吗？", (Option("有", True), Option("没有", False)), "有娱乐功能的要办娱乐经营许可和消防检查。"),
    "workshop": QuestionSpec("workshop", "您会自己加工食品再包装卖给别的店或批发吗（小作坊）？", (Option("会", True), Option("不会，只在店里现做现卖", False)), "自己加工批发属于食品小作坊，要办小作坊登记。"),
    "radiation": QuestionSpec("radiation", "会用X光机、CT、牙片机等放射设备吗？", (Option("会用", True), Option("不用", False)), "使用放射设备要办放射诊疗许可。"),
    "maternal": QuestionSpec("maternal", "会开展助产、婚前检查、产前筛查、结扎或人流吗？", (Option("会", True), Option("不会", False)), "这些母婴保健技术服务要单独许可。"),
    "vehicle_weight_t": QuestionSpec("vehicle_weight_t", "运货的车总质量多少？（看行驶证上的“总质量”）", (), "4.5吨及以下的普通货车不用办道路运输许可。"),
    "seed_repack": QuestionSpec("seed_repack", "种子是自己生产或分装，还是只卖厂家包装好的？", (Option("自己生产或分装", True), Option("只卖包装好的", False)), "只卖包装好的种子办备案，生产或分装要办许可。"),
}
ORDER = ("region", "activities", "food_sales", "area_m2", "halal", "tobacco", "medical_devices", "entertainment", "workshop", "radiation", "maternal", "vehicle_weight_t", "seed_repack")


def payload(key: str, value: object) -> str:
    """A Rasa intent shortcut the widget sends back verbatim."""
    if key == "activities":
        return "/inform" + json.dumps({"activity": value}, ensure_ascii=False)
    return "/inform" + json.dumps({key: value}, ensure_ascii=False)


def above(top: float, key: str) -> float:
    """A value safely above the highest threshold (for the "…以上" option)."""
    return top * 2 if key == "area_m2" else top + 1
