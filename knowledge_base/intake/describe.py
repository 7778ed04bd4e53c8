"""Free Chinese text → Profile: region, activities, numbers with units, flags.

「同心县开清真小餐馆，大概一百平米」 → region tongxin, activities [snack_bar],
halal True, area_m2 100.  Chinese numerals are converted with cn2an; activities
and places are the longest non-overlapping matches of the catalog lexicon (the same
lexicon becomes the bot's jieba dictionary); negation (不/没/无) in front of a word
turns it off.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an

from knowledge_base.intake.lexicon import Lexicon
from knowledge_base.rules.profile import FOOD_LEVEL, Profile

_NEG = re.compile(r"(不|没|無|无|非|未|别|不会|不用|不打算|不想)[^，。,；;！!？?]{0,3}$")
_NUM = r"(\d+(?:\.\d+)?)"
AREA_RE = re.compile(_NUM + r"\s*(?:多|来|余|左右)?\s*(平方米|平方|平米|㎡|m2|m²|平)(?!台|方向|常|安|时)")
AREA_WORD_RE = re.compile(r"(?:面积|店面|门面|场地|营业面积|使用面积|建筑面积)[^0-9]{0,6}" + _NUM)
WEIGHT_RE = re.compile(_NUM + r"\s*(吨|t|T|千克|公斤|kg)(?![a-zA-Z])")
ROOMS_RE = re.compile(_NUM + r"\s*(?:个|间)?\s*(?:客房|房间|间房|间客房|个房间|间)")
EMPLOYEES_RE = re.compile(_NUM + r"\s*(?:个|名)?\s*(?:员工|店员|服务员|工人|人手)")

# flag word patterns: (profile key, value, words)
FLAGS: list[tuple[str, object, tuple[str, ...]]] = [
    ("halal", True, ("清真",)),
    ("tobacco", True, ("香烟", "卷烟", "烟草", "电子烟", "雪茄", "烟酒")),
    ("food_sales", "prepackaged", ("预包装", "只卖包装", "包装好的", "定型包装", "包装食品", "瓶装饮料", "袋装零食", "酒水", "饮料", "零食")),
    ("food_sales", "bulk", ("散装", "称重", "熟食", "现做", "现卖", "现场制作", "现场加工", "现炒", "现烤", "卤味", "凉菜", "热食", "做饭", "炒菜", "鲜榨", "果盘", "小吃", "爆米花", "现磨", "手工", "关东煮", "茶叶蛋", "烤肠", "现煮", "散称", "现蒸")),
    ("food_sales", "produce", ("只卖蔬菜", "只卖水果", "只卖生鲜", "食用农产品")),
    ("workshop", True, ("小作坊", "自己加工", "自产", "批发给", "加工后", "生产加工", "作坊")),
    ("radiation", True, ("X光", "x光", "CT", "DR", "牙片机", "拍片", "放射", "B超机")),
    ("maternal", True, ("助产", "接生", "婚检", "婚前检查", "产前", "结扎", "人流", "终止妊娠", "妇产")),
    ("entertainment", True, ("驻唱", "卡拉OK", "卡拉ok", "K歌", "唱歌", "演艺", "演出", "跳舞", "舞池", "歌手", "乐队", "蹦迪")),
    ("outdoor_ad", True, ("户外广告", "大型广告", "楼顶广告", "广告牌", "LED大屏", "广告大屏")),
    ("elevator", True, ("电梯", "扶梯")),
    ("amusement_rides", True, ("过山车", "摩天轮", "大型游乐设施", "旋转木马", "海盗船")),
    ("seed_repack", True, ("分装种子", "种子分装", "生产种子", "制种", "繁种")),
    ("online_drug_info", True, ("药品信息", "医药网站", "药品网站")),
]
EATERY_RE = re.compile(r"(吃|饭|面|汤|粥|菜|肉|鱼|鸡|鸭|饺|包子|米线|粉|饼|串)[^，。,；;]{0,3}(馆|店|铺|档|摊|坊)")
# 「不带餐厅」「没有KTV」「不是饭店」: the activity right after a negation is not the business
ACT_NEG = re.compile(r"(不|没有?|无|非)(是|带|含|设|开|做|提供|卖|要|搞|附设)?(个|家|一家|一个)?$")
TOBACCO_RE = re.compile(r"(卖|售|和|、|及|还有|带|兼营)\s*(香)?烟(?![花囱雾道机头])")
DEVICE_WORDS = {
    "class2": ("二类医疗器械", "二类器械", "第二类", "血压计", "体温计", "医用口罩", "血糖仪", "二类"),
    "class3": ("三类医疗器械", "三类器械", "第三类", "隐形眼镜", "注射器", "输液器", "三类"),
}
NO_DEVICES = ("不卖医疗器械", "没有医疗器械", "不卖器械")
NO_FOOD = ("不卖吃的", "不卖食品", "不卖饮料", "不卖吃喝", "不卖东西吃")
# words that look like an activity but say nothing about the business
STOP = {"开", "店"}


@dataclass
class Parse:
    profile: Profile
    found: dict[str, object] = field(default_factory=dict)  # key -> value, for explanations


class Describer:
    """Built once from the catalog lexicon; stateless afterwards (safe across threads)."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self._activity_words = sorted(lexicon.activity_words, key=len, reverse=True)

    # -- helpers ---------------------------------------------------------
    @staticmethod
    def normalise(text: str) -> str:
        text = text.replace("\u3000", " ").strip()
        try:
            converted = cn2an.transform(text, "cn2an")
        except Exception:  # cn2an rejects some odd inputs; keep the original
            converted = text
        return converted

    @staticmethod
    def _negated(text: str, start: int) -> bool:
        return bool(_NEG.search(text[max(0, start - 6):start]))

    @staticmethod
    def _find(text: str, word: str):
        """Every start position of ``word`` in ``text`` (plain substring search)."""
        pos = text.find(word)
        while pos >= 0:
            yield pos
            pos = text.find(word, pos + 1)

    # -- parse -----------------------------------------------------------
    def parse(self, text: str, region: str | None = None) -> Parse:
        raw = text
        text = self.normalise(text)
        found: dict[str, object] = {}
        # region: explicit argument wins, else the first place name
        region_hits = [(text.find(w), code) for w, code in self.lexicon.region_words.items() if w in text]
        if region:
            found["region"] = region
        elif region_hits:
            found["region"] = min(region_hits)[1]
        # activities: longest-first matches on the raw text, without overlaps
        taken = [False] * len(raw)
        acts: list[tuple[int, str]] = []
        for word in self._activity_words:
            if word in STOP or word not in raw:
                continue
            for pos in self._find(raw, word):
                span = range(pos, pos + len(word))
                if any(taken[i] for i in span):
                    continue
                if ACT_NEG.search(raw[max(0, pos - 4):pos]):
                    continue
                for i in span:
                    taken[i] = True
                acts.append((pos, self.lexicon.activity_words[word]))
        activities = list(dict.fromkeys(a for _, a in sorted(acts)))
        if not activities and EATERY_RE.search(raw):  # 「羊肉汤馆」「卖面的铺子」: an eatery the lexicon lacks
            activities = ["snack_bar"]
        if activities:
            found["activities"] = activities
        # numbers with units
        area = AREA_RE.search(text) or AREA_WORD_RE.search(text)
        if area:
            found["area_m2"] = float(area.group(1))
        weight = WEIGHT_RE.search(text)
        if weight:
            value, unit = float(weight.group(1)), weight.group(2)
            found["vehicle_weight_t"] = value / 1000 if unit in ("千克", "公斤", "kg") else value
        elif re.search(r"(小货车|面包车|皮卡|微型货车|轻型货车|三轮)", raw) and "freight" in activities:
            pass  # vehicle class alone does not fix the total mass: the engine asks
        rooms = ROOMS_RE.search(text)
        if rooms and "hotel" in activities:
            found["rooms"] = int(float(rooms.group(1)))
        emp = EMPLOYEES_RE.search(text)
        if emp:
            found["employees"] = int(float(emp.group(1)))
        # flags, with negation
        food_levels: list[str] = []
        for key, value, words in FLAGS:
            for word in words:
                pos = raw.find(word)
                if pos < 0:
                    continue
                neg = self._negated(raw, pos)
                if isinstance(value, bool):
                    found[key] = not value if neg else value
                elif key == "food_sales":
                    if not neg:
                        food_levels.append(value)
                elif not neg:
                    found.setdefault(key, value)
                break
        tob = TOBACCO_RE.search(raw)
        if tob and "tobacco" not in found:
            found["tobacco"] = not self._negated(raw, tob.start())
        if food_levels:  # 「散装零食和饮料」: the strongest kind of food business wins
            found["food_sales"] = max(food_levels, key=FOOD_LEVEL.__getitem__)
        if any(w in raw for w in NO_FOOD):
            found["food_sales"] = "none"
        if re.search(r"(只|仅)(卖|销售|经营)[^，。]{0,6}(包装|预包装)", raw):
            found["food_sales"] = "prepackaged"
        classes = {c for c, words in DEVICE_WORDS.items() if any(w in raw and not self._negated(raw, raw.find(w)) for w in words)}
        if any(w in raw for w in NO_DEVICES):
            found["medical_devices"] = "none"
        elif classes:
            found["medical_devices"] = "both" if len(classes) == 2 else classes.pop()
        if found.get("tobacco") is True and "tobacco_shop" in activities and len(activities) > 1:
            activities.remove("tobacco_shop")  # 「便利店也卖烟」: the flag says it all
        profile = Profile.model_validate({k: v for k, v in found.items()})
        return Parse(profile=profile, found=found)
