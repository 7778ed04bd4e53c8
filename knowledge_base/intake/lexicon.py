"""The free-text lexicon, generated from the catalog: activity synonyms
(industries.yaml), region names, and item aliases.  The bot's jieba dictionary
and lookup tables are generated from the same lexicon."""
from __future__ import annotations

from dataclasses import dataclass

from knowledge_base.catalog.loader import Catalog

REGION_WORDS = {
    "zhongshan": ["中山市", "中山", "火炬开发区", "火炬区", "翠亨新区", "东区", "西区", "南区", "三乡镇", "坦洲镇", "小榄镇", "古镇镇", "石岐", "小榄", "古镇", "东凤", "南头", "黄圃", "三乡", "坦洲", "沙溪", "大涌", "横栏", "板芙", "五桂山", "三角", "民众", "阜沙", "港口镇", "南朗", "神湾"],
    "yangjiang": ["阳江市", "阳江", "江城区", "江城", "阳东", "阳西", "阳春", "海陵", "闸坡", "北惯", "合山镇", "雅韶", "东平镇", "织篢", "溪头镇", "沙扒", "儒洞", "程村", "春城街道", "合水镇"],
    "suixian": ["睢县", "商丘", "睢州", "北湖", "城关镇", "城郊乡", "蓼堤", "孙聚寨", "董店", "匡城", "白庙", "胡堂", "长岗", "后台乡", "白楼", "尤吉屯", "西陵寺", "潮庄", "尚屯", "河集", "周堂", "平岗", "涧岗"],
    "jinzhong": ["晋中市", "晋中", "榆次", "太谷", "平遥", "介休", "灵石", "祁县", "寿阳", "昔阳", "和顺", "左权", "榆社"],
    "tongxin": ["同心县", "同心", "吴忠", "豫海", "韦州", "下马关", "预旺", "丁塘", "河西镇", "王团", "田老庄", "马高庄", "张家塬", "兴隆乡"],
}


@dataclass(frozen=True)
class Lexicon:
    activity_words: dict[str, str]  # synonym -> activity key
    region_words: dict[str, str]  # place word -> region code
    item_words: dict[str, str]  # item name/alias -> code


def build_lexicon(catalog: Catalog) -> Lexicon:
    acts: dict[str, str] = {}
    for ind in catalog.industries.values():
        for word in [ind.name, *ind.synonyms]:
            for part in word.split("/"):
                acts.setdefault(part.strip(), ind.key)
    regions = {w: code for code, words in REGION_WORDS.items() for w in words}
    for code, region in catalog.regions.items():
        regions.setdefault(region.name, code)
    items: dict[str, str] = {}
    for item in catalog.items.values():
        for word in [item.name, *item.aliases]:
            items.setdefault(word, item.code)
    return Lexicon(acts, regions, items)
