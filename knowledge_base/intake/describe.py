"""Free Chinese text → Profile: region and district, activities, numbers with units,
flags, names and addresses, the start-up steps asked for — read the way a person
means it.

「同心县开清真小餐馆，大概一百平米」 → region tongxin, activities [snack_bar], halal True,
area_m2 100.  The text is read clause by clause (split at punctuation and at
correction words); a later clause wins over an earlier one: 「大概两百平，哦不对，刚量了
是一百四」 is 140, 「本来想卖烟的，后来想想算了不卖了」 sells no tobacco, 「先说开饭店，其实是开个
奶茶店」 is a tea shop.  Several vehicles give the heaviest; several areas of one shop
(一楼、二楼) are added.  Chinese numerals go through cn2an; activities and places are
the longest non-overlapping matches of the catalog lexicon; trade words that match
nothing are kept as ``unrecognized`` (or matched semantically, see matcher.py).
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass, field

import cn2an

from knowledge_base.hanzi import simplified
from knowledge_base.intake.lexicon import Lexicon
from knowledge_base.rules.profile import FOOD_LEVEL, Profile

_NUM = r"(\d+(?:\.\d+)?)"
AREA_RE = re.compile(_NUM + r"\s*(?:多|来|余|左右)?\s*(?:个|多个)?\s*(平方米|平方|平米|平房|平放|㎡|m2|m²|平)(?!台|方向|常|安|时|价|均|板|衡)")
AREA_WORD_RE = re.compile(r"(?:面积|店面|门面|场地|营业面积|使用面积|建筑面积)[^0-9，。；]{0,6}" + _NUM)
WEIGHT_RE = re.compile(_NUM + r"\s*(吨|t|T|千克|公斤|kg)(?![a-zA-Z])")
ROOMS_RE = re.compile(_NUM + r"\s*(?:个|间)?\s*(?:客房|房间|间房|间客房|个房间|间)")
EMPLOYEES_RE = re.compile(_NUM + r"\s*(?:个|名|位)?\s*(?:员工|店员|服务员|工人|人手|伙计|师傅|厨师|雇员)")
# several areas of one shop: added (一楼八十平、二楼六十平); a total wins
AREA_PART = re.compile(r"(一楼|二楼|三楼|楼上|楼下|一层|二层|三层|前厅|后厨|大堂|包间|仓库|库房|后面|前面|里间|外间|院子)")
AREA_TOTAL = re.compile(r"(总共|一共|合计|总面积|加起来|共计|共)")
PER_FLOOR = re.compile(r"每层[^，。]{0,4}?" + _NUM + r"\s*(?:平方米|平方|平米|平|㎡)[^，。]{0,6}?(\d+)\s*层|(\d+)\s*层[^，。]{0,6}?每层[^，。]{0,4}?" + _NUM)

# clause boundaries, and the words that make a clause take back or correct what came before
CLAUSE_SPLIT = re.compile(r"[，。；！？,;!?\n]+|(?=哦不对|不对不对|不对，|说错了|搞错了|更正一下|纠正一下|其实是|应该是|改成|改为|换成|刚量了)")
CORRECTION = re.compile(r"^\s*(哦|噢|呃|啊|嗯)?\s*(不对|不是的|唔系|唔啱|说错了|搞错了|讲错了|更正|纠正|其实|应该是|改成|改为|换成|准确说|确切地说|刚量了|量了一下|重新说)")
# a later decision: overrides numbers and places said before, but adds to the activities
LATER = re.compile(r"(后来|最后|最终|现在|决定|商量了|改了|实际|到时候)")
# facts said as a plan that was dropped: 「本来想…」「原来看的…」
PROVISIONAL = re.compile(r"(本来|原来|原先|原本|原打算|本打算|之前想|一开始|起初|开始想|原计划)")
# 「光卖酒」「只做早餐」: what the clause names is all there is
ONLY = re.compile(r"(光|只|就只|仅|只是|就光)(卖|经营|做|开|搞)")
# 「农药不卖了」「烟花就不卖了」: a negation after the thing
POST_NEG = re.compile(r"^(就|也|都|先|还是)?(不卖了|不卖|不做了|不做|不开了|不开|不要了|不搞了|不弄了|算了|取消了|就算了|不经营了|不干了)")
# 「卖给超市和医院」「给饭店送气」「在商场里」「商场里的小铺位」: other businesses named as clients or places
CONTEXT_RE = re.compile(
    r"(?:卖给|供给|供应给|提供给|批发给|配送给|送给|供货给|送到|给|往|向|帮|替)(?!人|客人|顾客|大家|孩子|老人|学生|自己|外地(?!\w{0,2}(?:超市|饭店|商场|药店)))(?P<c>[^，。；,;！？]{1,14}?)(?=做|供货|供应|送|提供|加工|印|配送|装|修|批|发|卖|$|[，。；,;！？])"
    r"|(?:在|喺|系)(?P<l>[\u4e00-\u9fa5]{1,8}?)(?:里面|里边|里头|入面|里|内|旁边|对面|附近|门口|楼上|楼下|边上|隔壁)"
    r"|(?P<m>[\u4e00-\u9fa5]{1,6}?)(?:里|内)的(?:小)?(?:铺位|铺面|档口|柜台|店铺|门面|摊位|位置|一个)"
)
FLAG_POST_NEG = re.compile(r"^[\u4e00-\u9fa5]{0,3}?(就|都|也)?(唔卖|不卖|冇卖|没得卖|唔做|不做|唔整|不整)")
POST_NEG_STEP = re.compile(r"^(先|暂时|暂)?(不交|不办|不用|不要|不弄|不搞|不开|唔使|唔要|唔办|唔用)")
LICENCE_WORDS = ("证", "许可", "专卖局", "局", "备案")
TRADE_VERB = re.compile(r"(开|搞|弄|整|做|干)(一)?(个|家|间)?$")
NEG_BRIDGE = set("是要开做卖带含设提供搞弄经营干想打算准备再泡脚去了个家一间也还")  # 「不是要开」「也不泡脚」
NOT_NEG = ("不错", "不少", "不大", "不小", "不远", "不到", "不超过", "不多", "不太", "不一定")
RETRACT = re.compile(r"(算了|不卖了|不做了|不开了|不弄了|不搞了|不干了|取消了|取消|不要了|放弃了|打消了|不打算了|不考虑了|没打算|唔整|唔做|唔卖|唔搞|唔开|唔要)")
_NEG = re.compile(r"(不|没|無|无|非|未|别|唔|冇|不会|不用|不打算|不想|不再)[^，。,；;！!？?]{0,3}$")
# 「不带餐厅」「没有KTV」「不是饭店」「不开饭店了」: the activity right after a negation is not the business
ACT_NEG = re.compile(r"(不|没[有得]?|无|非|别|唔|冇)(是|系|带|含|设|开|做|提供|卖|要|搞|附设|弄|经营|干)?(个|家|一家|一个)?$")

# flag word patterns: (profile key, value, words)
FLAGS: list[tuple[str, object, tuple[str, ...]]] = [
    ("halal", True, ("清真",)),
    ("tobacco", True, ("香烟", "卷烟", "烟草", "电子烟", "雪茄", "烟酒", "烟柜")),
    ("food_sales", "prepackaged", ("预包装", "只卖包装", "包装好", "整箱", "整瓶", "整件", "灌好瓶", "瓶装", "罐装", "盒装", "定型包装", "包装食品", "瓶装饮料", "袋装零食", "酒水", "饮料", "零食", "奶粉", "方便面", "火腿肠")),
    ("food_sales", "bulk", ("散装", "称重", "熟食", "现做", "现卖", "现场制作", "现场加工", "现炒", "现烤", "卤味", "凉菜", "热食", "做饭", "炒菜", "鲜榨", "果盘", "小吃", "爆米花", "现磨", "手工", "关东煮", "茶叶蛋", "烤肠", "现煮", "散称", "现蒸", "散酒", "打散酒", "散茶", "现泡", "现制", "自制", "饭吃", "给客人做", "提供早餐", "供餐", "管饭", "早饭", "卖早点", "煮饭", "加吃饭", "管吃饭", "吃饭")),
    ("food_sales", "produce", ("只卖蔬菜", "只卖水果", "只卖生鲜", "食用农产品")),
    ("workshop", True, ("小作坊", "自己加工", "自产", "批发给", "加工后", "生产加工", "作坊", "卖给别的店", "供给饭店")),
    ("radiation", True, ("X光", "x光", "CT", "DR", "牙片机", "牙片", "全景机", "拍片", "放射", "B超机")),
    ("maternal", True, ("助产", "接生", "婚检", "婚前检查", "产前", "结扎", "人流", "终止妊娠", "妇产")),
    ("entertainment", True, ("卡拉OK", "卡拉ok", "K歌", "客人唱歌", "顾客唱歌", "自己唱歌", "跳舞", "舞池", "蹦迪", "点歌")),
    ("live_music", True, ("驻唱", "乐队", "歌手", "演艺", "演出", "表演", "现场音乐", "弹唱")),
    ("outdoor_ad", True, ("户外广告", "大型广告", "楼顶广告", "广告牌", "LED大屏", "广告大屏")),
    ("elevator", True, ("电梯", "扶梯")),
    ("amusement_rides", True, ("过山车", "摩天轮", "大型游乐设施", "旋转木马", "海盗船")),
    ("seed_repack", True, ("分装种子", "种子分装", "生产种子", "制种", "繁种", "分装", "繁育")),
    ("online_drug_info", True, ("药品信息", "医药网站", "药品网站", "网上卖药", "网上药店", "小程序卖药", "线上卖药", "网上售药")),
    ("books", True, ("卖书", "图书", "书籍", "教辅", "报刊", "杂志", "音像", "课外书", "绘本", "小说")),
    ("drugs", True, ("卖药", "非处方药", "感冒药", "药品柜", "常用药", "OTC")),
    ("meals", True, ("食堂", "做饭", "开伙", "供餐", "管饭", "三餐", "午餐", "管吃", "包吃", "晚饭", "管一顿", "吃住", "煮饭", "饭堂", "厨房", "吃饭", "月子餐")),
]
NO_TOBACCO_RE = re.compile(r"(没有?|冇|无|不)(有)?(香)?烟(卖|售)")
TOBACCO_RE = re.compile(r"(卖|售|和|跟|同|、|及|还有|带|兼营|也卖|还卖)\s*(点|些|一些|的)?\s*(香)?烟(?![花囱雾道机头台])")
# medical devices: the national list of class II products exempt from the business filing,
# other class II, class III
DEVICE_WORDS = {
    "exempt": ("体温计", "血压计", "血糖仪", "血糖试纸", "医用卫生口罩", "医用口罩", "口罩", "轮椅", "避孕套", "验孕棒", "妊娠试纸", "脱脂棉", "医用纱布"),
    "class2": ("二类医疗器械", "二类器械", "第二类", "制氧机", "雾化器", "理疗仪", "助听器", "医用外科口罩", "颈椎牵引", "按摩器械", "二类"),
    "class3": ("三类医疗器械", "三类器械", "第三类", "隐形眼镜", "美瞳", "注射器", "输液器", "护理液", "三类"),
}
NO_DEVICES = ("不卖医疗器械", "没有医疗器械", "不卖器械")
NO_FOOD = ("不卖吃的", "不卖食品", "不卖饮料", "不卖吃喝", "不卖东西吃", "不卖零食")
EATERY_RE = re.compile(r"(吃|饭|面|汤|粥|菜|肉|鱼|鸡|鸭|饺|包子|米线|粉|饼|串)[^，。,；;]{0,3}(馆|店|铺|档|摊|坊)")
# a trade named by the applicant: 「开个汽车贴膜店」「搞个托管班」「做二手车生意」
TRADE_RE = re.compile(
    r"(?:开|办|搞|弄|整|做|干|经营|从事|投资|租个|盘个|盘下|接手|加盟|开设|开办|想开|准备开)了?"
    r"(?:一|1)?(?:个|家|间|座|所|处|条|台)?(?:小|新|大)?"
    r"(?P<t>[\u4e00-\u9fa5A-Za-z]{1,10}?)"
    r"(?P<s>店|馆|厂|公司|中心|工作室|室|部|行|铺|站|所|社|坊|场|院|园|吧|厅|摊|档|驿站|门市|基地|机构|俱乐部|超市|诊所|市场|会所|班|生意|买卖|业务)"
)
GENERIC_TRADE = {"", "个", "家", "新", "小", "一", "自己", "自己的", "我的", "我们", "这个", "那个", "实体", "门", "个人", "一个", "分", "连锁", "夫妻", "什么", "啥", "小型", "大型"}
STARTUP_WORDS = {
    "business_registration": ("营业执照", "执照", "工商登记", "办照"),
    "company_seal": ("刻章", "公章", "印章", "刻个章", "刻公章", "把章刻", "章刻了"),
    "bank_account": ("银行开户", "对公账户", "银行账户", "基本户", "银行开个户", "开户"),
    "tax_invoice": ("税务", "发票", "领票", "报税", "税务登记", "税控"),
    "social_insurance": ("社保", "参保", "社会保险"),
    "housing_fund": ("公积金",),
}
STARTUP_CUE = re.compile(r"(一起|一并|顺便|同时|也要|还要|还想|帮我|帮忙|都办|一块|一次性|全部|办理|要办|想办|申领|开户|登记|都要|弄好|搞掂|整埋|弄一下|申请|一齐|刻了|去哪|在哪|哪里|咋办|怎么办)")
INDIVIDUAL_RE = re.compile(r"(个体工商户|个体户|个体|夫妻店|自己一个人干)")
COMPANY_RE = re.compile(r"(有限公司|有限责任公司|公司|企业|集团|合伙企业|股份)")
NAME_RE = re.compile(r"(?:店名|名字|字号|招牌|名称|店的名字|起名|取名)(?:叫做|叫|是|定为|就叫|打算叫|想叫|暂定|为)?[：:\s\"“「『]*(?P<n>[\u4e00-\u9fa5A-Za-z0-9·&]{2,24}?)(?=[”」』\"，。,；;\s]|$|的店|的)")
ADDRESS_RE = re.compile(r"(?:地址|店址|地点|位置|位于|门牌)(?:是|在|：|:|为|就在)?\s*(?P<a>[\u4e00-\u9fa5A-Za-z0-9\-－#号]{4,60})")
ADDRESS_SHAPE = re.compile(r"(市|区|县|镇|乡|村|路|街|道|巷|号|大道|广场|楼|栋|弄|组)")
# words that look like an activity but say nothing about the business
STOP = {"开", "店"}


@dataclass
class Clause:
    raw: str
    num: str  # Chinese numerals as digits (cn2an)
    start: int  # offset in the whole text
    correction: bool
    retract: bool
    later: bool = False
    provisional: bool = False


@dataclass
class Parse:
    profile: Profile
    found: dict[str, object] = field(default_factory=dict)  # key -> value, for explanations
    removed: list[str] = field(default_factory=list)  # activities the text took back
    words: dict[str, list[str]] = field(default_factory=dict)  # key -> the words that said it (for the ack)


def _pinyin(text: str) -> list[str]:
    """One fuzzy syllable per character (non-Chinese characters stand for themselves)."""
    from knowledge_base.intake.pinyin_table import read

    return read(text)


def _pinyin_index(words: list[str]):
    try:
        index: dict[tuple, str] = {}
        for w in sorted(words, key=len):
            if len(w) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in w):
                index.setdefault(tuple(_pinyin(w)), w)
        return index, max((len(k) for k in index), default=0)
    except ImportError:  # no table and no pypinyin: exact matches only
        return None, 0


FOOD_CAPABLE = {"catering", "food_retail", "produce", "food_workshop", "food_factory", "bakery", "elderly_canteen", "food_stall"}
FOOD_SALE_RE = re.compile(r"(?<![不没冇唔])(?:卖|售|销售|冰柜|带货|批发|零售|还有|也有|包装的|装的)?[^，。；,;]{0,8}?(饮料|零食|雪糕|冷饮|食品|特产|枸杞|肉干|牛肉干|羊肉干|牛肉|红枣|糕点|饼干|奶茶|咖啡|熟食|小吃|吃的|糖果|年货|干果|坚果|瓜子|豆豉|咸鱼|腊肠|腊肉|月饼|茶叶|白酒|酒水|醋|调料|粮油|大米|面粉)")


def found_food_sale(text: str) -> bool:
    """The text says food is sold (「卖饮料」「直播卖零食」), not just that something is packaged;
    food named as a client (「帮食品厂印」「给月饼厂做包装」) does not count."""
    masked = CONTEXT_RE.sub(lambda m: "，" * len(m.group(0)), text)
    return bool(FOOD_SALE_RE.search(masked))


def to_digits(text: str) -> str:
    """Chinese numerals as digits (cn2an: 一百二十平 → 120平); the text as it is where cn2an gives up."""
    try:
        with warnings.catch_warnings():  # cn2an warns on stderr for what it leaves as it is (五六十, 万)
            warnings.simplefilter("ignore", UserWarning)
            return cn2an.transform(text, "cn2an")
    except Exception:  # cn2an rejects some odd inputs; keep the original
        return text


class Describer:
    """Built once from the catalog lexicon; stateless afterwards (safe across threads).
    ``matcher`` (optional, knowledge_base/intake/matcher.py) recognises trades the
    lexicon lacks; without it such words stay unrecognised."""

    def __init__(self, lexicon: Lexicon, matcher=None, industries: dict | None = None):
        self.lexicon = lexicon
        self.matcher = matcher
        self.industries = industries  # activity key -> Industry (to know which can sell food)
        self._activity_words = sorted((w for w in lexicon.activity_words if w and w not in STOP), key=len, reverse=True)
        self._pinyin_words, self._pinyin_max = _pinyin_index(self._activity_words)
        # licence names people say (食品经营许可证, 烟草证 …): never read as the business
        self._item_names = sorted((w for w in lexicon.item_words if len(w) >= 3 and re.search(r"(证|许可|备案|登记|审批|执照)", w)),
                                  key=len, reverse=True)
        self._district_words = sorted(lexicon.district_words, key=len, reverse=True)
        self._region_words = sorted(lexicon.region_words, key=len, reverse=True)

    # -- helpers ---------------------------------------------------------
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

    @staticmethod
    def clauses(text: str) -> list[Clause]:
        out, pos = [], 0
        for part in CLAUSE_SPLIT.split(text):
            if part is None:
                continue
            start = text.find(part, pos) if part else pos
            pos = start + len(part)
            if not part.strip():
                continue
            raw = part
            out.append(Clause(raw, to_digits(raw), start, bool(CORRECTION.search(raw)), False,
                              bool(LATER.search(raw)), bool(PROVISIONAL.search(raw))))
        for i, c in enumerate(out):
            # a clause that takes back without naming anything: 「后来想想算了不卖了」
            c.retract = bool(RETRACT.search(c.raw))
            # 「哦不对，刚量了是一百四」: a bare 「不对」 makes the next clause the correction
            if (c.correction or c.raw.strip() in ("不是", "唔系", "不系")) and i + 1 < len(out) \
                    and len(re.sub(r"[\s哦噢呃啊嗯不对是的说错了搞错了唔系]", "", c.raw)) == 0:
                out[i + 1].correction = True
        return out

    # -- activities --------------------------------------------------------
    @staticmethod
    def _negated_before(raw: str, pos: int) -> bool:
        """「不开饭店」「没有KTV」「不是要开刻章店」「也不泡脚洗浴」 (but not 「不错的饭店」)."""
        window = raw[max(0, pos - 5):pos]
        if ACT_NEG.search(raw[max(0, pos - 4):pos]):
            return True
        m = re.search(r"(不|没有?|非|别|唔|冇)([\u4e00-\u9fa5]{0,3})$", window)
        return bool(m) and all(ch in NEG_BRIDGE for ch in m.group(2)) and not any(window[m.start():].startswith(w) for w in NOT_NEG)

    def _activities(self, raw: str, text_has_exact: bool = True):
        """(activities in order, negated activities, taken character mask).  Exact lexicon
        matches and homophones (「受药店」 is 兽药店, 「名宿」 is 民宿): the longest wins, an exact
        match wins a tie; businesses named as clients or places (「卖给超市」) are not the business."""
        taken = [False] * len(raw)
        for name in self._item_names:  # 「办食品经营许可证要多久」 names a licence, not a business
            for pos in self._find(raw, name):
                for i in range(pos, pos + len(name)):
                    taken[i] = True
        for m in CONTEXT_RE.finditer(raw):
            g = "c" if m.group("c") else "l" if m.group("l") else "m"
            for i in range(m.start(g), m.end(g)):
                taken[i] = True
        spans = []  # (length, exact, pos, word, key)
        for word in self._activity_words:
            if word in raw:
                for pos in self._find(raw, word):
                    spans.append((len(word), True, pos, word, self.lexicon.activity_words[word]))
        spans += [(len(w), False, pos, w, k) for pos, w, k in self._homophones(raw, any_exact=text_has_exact)]
        spans.sort(key=lambda s: (-s[0], not s[1], s[2]))
        acts: list[tuple[int, str]] = []
        negated: list[str] = []
        for length, _, pos, word, key in spans:
            span = range(pos, pos + length)
            if any(taken[i] for i in span):
                continue
            if raw[pos + length:pos + length + 2].startswith(LICENCE_WORDS):
                continue  # 「烟草证不好办」「网吧证」 names a licence, not the business
            for i in span:
                taken[i] = True
            if self._negated_before(raw, pos) or POST_NEG.search(raw[pos + length:pos + length + 6]):
                negated.append(key)
                continue
            acts.append((pos, key))
        return list(dict.fromkeys(a for _, a in sorted(acts))), negated, taken

    def _homophones(self, raw: str, any_exact: bool):
        """Spans whose (fuzzy) pinyin equals an activity word's: 3+ characters always; 2 only
        when nothing in the text matched exactly and a trade verb comes right before
        (「搞个名宿」), since two syllables collide too easily (「五六」 is not 物流)."""
        if self._pinyin_words is None:
            return []
        syl = _pinyin(raw)
        out = []
        for n in range(min(self._pinyin_max, len(raw)), 1, -1):
            if n == 2 and any_exact:
                break
            for start in range(0, len(raw) - n + 1):
                key = tuple(syl[start:start + n])
                word = self._pinyin_words.get(key)
                if word and raw[start:start + n] != word:
                    if n == 2 and not TRADE_VERB.search(raw[max(0, start - 4):start]):
                        continue
                    same = sum(a == b for a, b in zip(raw[start:start + n], word))
                    if same < max(1, (n + 1) // 2):  # 「受药店」 shares 药店 with 兽药店; 「辅盗版」 (one in three) is not 辅导班
                        continue
                    out.append((start, word, self.lexicon.activity_words[word]))
        return out

    def _trade_phrases(self, raw: str, taken: list[bool]) -> list[str]:
        """Trade words the applicant used that no activity covers."""
        out = []
        for m in TRADE_RE.finditer(raw):
            t = m.group("t")
            t = re.sub(r"^(一个|一家|个|家|间|小|新|大)+", "", t)
            if t in GENERIC_TRADE or len(t) < 1:
                continue
            span = range(m.start("t"), m.end("s"))
            if any(taken[i] for i in span if i < len(taken)):
                continue
            if ACT_NEG.search(raw[max(0, m.start() - 3):m.start()]):
                continue
            phrase = t + m.group("s") if m.group("s") not in ("生意", "买卖", "业务") else t
            if len(phrase) >= 2 and not any(w in phrase for w in self.lexicon.region_words):
                out.append(phrase)
        return list(dict.fromkeys(out))

    # -- parse -----------------------------------------------------------
    def parse(self, text: str, region: str | None = None) -> Parse:
        # traditional characters as simplified (「開間茶餐廳」): the lexicon is simplified
        text = simplified(unicodedata.normalize("NFKC", text).replace("\u3000", " "))
        clauses = self.clauses(text)
        found: dict[str, object] = {}
        words: dict[str, list[str]] = {}

        # region and district: the explicit argument wins; else the first place named, unless a
        # later decision moves it (「本来打算在中山开，现在决定去海陵岛开」)
        if region:
            found["region"] = region
        else:
            hits = []  # (clause, region)
            for c in clauses:
                named = [(c.raw.find(w), w) for w in self._region_words if w in c.raw]
                if named:
                    hits.append((c, self.lexicon.region_words[min(named)[1]]))
            firm = [h for h in hits if not h[0].provisional] or hits
            moved = [h for h in firm if h[0].later or h[0].correction]
            if firm:
                found["region"] = (moved[-1] if moved else firm[0])[1]
        for w in self._district_words:
            if w in text:
                reg, dist = self.lexicon.district_words[w]
                if found.get("region") in (None, reg):
                    found.setdefault("region", reg)
                    found["district"] = dist
                    break

        activities: list[str] = []
        removed: list[str] = []
        unknown: list[str] = []
        per_clause_acts: list[list[str]] = []
        flags: dict[str, object] = {}
        food_levels: list[tuple[int, str]] = []
        device_classes: dict[int, set[str]] = {}
        areas: list[tuple[int, float, str]] = []
        weights: list[tuple[int, float]] = []
        rooms: list[int] = []
        employees: list[int] = []
        startup: list[str] = []
        said: tuple[int, dict] | None = None  # the last clause that named something
        tobacco_planned = False  # tobacco was named only as a plan (「本来想…」)

        text_has_exact = any(w in text for w in self._activity_words)
        for idx, c in enumerate(clauses):
            raw = c.raw
            acts, negated, taken = self._activities(raw, text_has_exact)
            if c.correction and acts and not re.search(r"(还|也|另外|再|又|加)", raw):  # 「其实是开个奶茶店」: what came before is replaced
                removed += [a for a in activities if a not in acts]
                activities = []
            activities += [a for a in acts if a not in activities]
            removed += [a for a in negated if a not in acts]
            activities = [a for a in activities if a not in negated or a in acts]
            per_clause_acts.append(acts)
            unknown += [p for p in self._trade_phrases(raw, taken) if p not in unknown]

            clause_flags: dict[str, object] = {}
            mentioned = False  # the clause names a thing (negated or not): a 「不卖了」 in it is about that thing
            for key, value, ws in FLAGS:
                for word in ws:
                    pos = raw.find(word)
                    if pos < 0 or raw[pos + len(word):pos + len(word) + 2].startswith(LICENCE_WORDS):
                        continue  # 「烟草证不好办」 names a licence, not what is sold
                    neg = self._negated(raw, pos) or bool(FLAG_POST_NEG.search(raw[pos + len(word):pos + len(word) + 8]))
                    mentioned = True
                    if key == "food_sales":
                        if not neg:
                            food_levels.append((idx, str(value)))
                            words.setdefault("food_sales", []).append(word)
                    elif isinstance(value, bool):
                        clause_flags[key] = (not value) if neg else value
                        words.setdefault(key, []).append(word)
                    break
            if NO_TOBACCO_RE.search(raw):
                clause_flags["tobacco"] = False
            tob = TOBACCO_RE.search(raw)
            if tob and "tobacco" not in clause_flags:
                clause_flags["tobacco"] = not self._negated(raw, tob.start())
                words.setdefault("tobacco", []).append("烟")
            if ONLY.search(raw) and "tobacco" not in clause_flags and flags.get("tobacco") and tobacco_planned:
                clause_flags["tobacco"] = False  # 「本来想烟酒一起卖…就光卖酒」: the cigarettes planned before are out
            if clause_flags.get("tobacco") is True:
                tobacco_planned = c.provisional
            if any(w in raw for w in NO_FOOD):
                food_levels.append((idx, "none"))
            if re.search(r"(只|仅)(卖|销售|经营)[^，。]{0,6}(包装|预包装)", raw):
                food_levels.append((idx, "prepackaged!"))
            classes = set()
            for cls, ws in DEVICE_WORDS.items():
                hit = [w for w in ws if w in raw and not self._negated(raw, raw.find(w))]
                if hit:
                    classes.add(cls)
                    words.setdefault("medical_devices", []).extend(hit[:2])
            if any(w in raw for w in NO_DEVICES):
                classes = {"none"}
            if classes:
                device_classes[idx] = classes

            # retraction: 「本来想卖烟的，后来…就不卖了」 takes back the last clause that said something
            # retraction: 「本来想卖烟的，后来…就不卖了」 takes back the plan just before, or else the last
            # clause that named something (「本来还想做…，算了这个不做」 takes back only that plan)
            target = None
            if c.retract and not acts and not negated and idx > 0 and (clauses[idx - 1].provisional or not mentioned):
                target = idx - 1 if clauses[idx - 1].provisional else (said[0] if said else None)
            if target is not None:
                for key, value in (said[1] if said and said[0] == target else {}).items():
                    if value is True and key not in clause_flags:
                        clause_flags[key] = False
                removed += per_clause_acts[target]
                activities = [a for a in activities if a not in per_clause_acts[target]]
                food_levels = [(i, v) for i, v in food_levels if i != target]
                device_classes.pop(target, None)
            flags.update(clause_flags)
            if acts or clause_flags:
                said = (idx, clause_flags)

            # numbers with units (on the clause with Chinese numerals as digits)
            num = c.num
            for m in AREA_RE.finditer(num):
                areas.append((idx, float(m.group(1)), num))
            if not AREA_RE.search(num):
                m = AREA_WORD_RE.search(num)
                if m:
                    areas.append((idx, float(m.group(1)), num))
                elif c.correction and areas and not WEIGHT_RE.search(num):
                    bare = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.]*\s*(?:吨|间|个|人|名|台|辆|层|楼|号|元|块|万|岁|年|月|天|点))", num)
                    if bare:  # 「不对，是一百四」 corrects the area just given
                        areas.append((idx, float(bare.group(1)), num))
            per_floor = PER_FLOOR.search(num)
            if per_floor:
                g = per_floor.groups()
                each, floors = (g[0], g[1]) if g[0] else (g[3], g[2])
                areas = [a for a in areas if a[0] != idx] + [(idx, float(each) * float(floors), "每层")]
            for m in WEIGHT_RE.finditer(num):
                value, unit = float(m.group(1)), m.group(2)
                weights.append((idx, value / 1000 if unit in ("千克", "公斤", "kg") else value))
            m = ROOMS_RE.search(num)
            if m:
                rooms.append(int(float(m.group(1))))
            for m in EMPLOYEES_RE.finditer(num):
                employees.append(int(float(m.group(1))))

            if any(w in raw for ws in STARTUP_WORDS.values() for w in ws) and STARTUP_CUE.search(raw) \
                    and not re.search(r"(除了|除咗|之外|以外)", raw):  # 「除了营业执照之外还要办什么」 is not a request
                for code, ws in STARTUP_WORDS.items():
                    for w in ws:
                        pos = raw.find(w)
                        if pos >= 0 and not self._negated(raw, pos) and not POST_NEG_STEP.search(raw[pos + len(w):pos + len(w) + 6]) \
                                and not (code == "company_seal" and "seal_shop" in activities) \
                                and not (w == "开户" and re.search(r"(社保|公积金|医保)[同和跟、及]?$", raw[max(0, pos - 6):pos])):
                            startup.append(code)
                            break

        # activities the lexicon lacks: 「羊肉汤馆」「卖面的铺子」 are eateries
        if not activities and not unknown and EATERY_RE.search(text):
            activities = ["snack_bar"]
        if flags.get("tobacco") is True and "tobacco_shop" in activities and len(activities) > 1:
            activities.remove("tobacco_shop")  # 「便利店也卖烟」: the flag says it all
        if activities and found_food_sale(text) and not any(self._food_capable(a) for a in activities):
            # 「卖衣服…门口摆个冰柜卖饮料」「网店卖枸杞」: food is sold, though no food business was named
            online = re.search(r"(网店|电商|直播|抖音|淘宝|拼多多|小程序|网上)", text)
            activities = [a for a in activities if a != "online_shop"] + ["online_food" if online else "convenience_store"]
        if "food_stall" in activities:  # 「夜市摆个摊卖炒粉」: the dishes are what the stall sells
            activities = [a for a in activities if a not in ("restaurant", "snack_bar")]
        if "online_shop" in activities and len(activities) > 1:
            activities.remove("online_shop")  # 「网店卖衣服」: the goods say what it is
        candidates: dict[str, list[str]] = {}
        if unknown and self.matcher is not None:
            still = []
            for phrase in unknown:
                m = self.matcher.match(phrase)
                if m.decision == "accept":
                    activities += [k for k in m.keys if k not in activities]
                elif m.decision == "ask":
                    candidates[phrase] = m.keys
                    still.append(phrase)
                else:
                    still.append(phrase)
            unknown = still
        if activities:
            found["activities"] = activities
        if removed:
            found["activities_removed"] = [a for a in dict.fromkeys(removed) if a not in activities]
        if unknown:
            found["unrecognized"] = unknown
        if candidates:
            found["candidates"] = candidates

        # facts: later clauses win
        for key, value in flags.items():
            found[key] = value
        if food_levels:
            forced = [v for _, v in food_levels if v.endswith("!")]
            last_none = max((i for i, v in food_levels if v == "none"), default=-1)
            levels = [v for i, v in food_levels if i > last_none and not v.endswith("!") and v != "none"]
            if forced and not levels:
                found["food_sales"] = "prepackaged"
            elif levels:  # 「散装零食和饮料」: the strongest kind of food business wins
                found["food_sales"] = max(levels, key=FOOD_LEVEL.__getitem__)
            else:
                found["food_sales"] = "none"
        if device_classes:
            last = device_classes[max(device_classes)]
            allc = set().union(*device_classes.values()) if "none" not in last else {"none"}
            if "none" in allc:
                found["medical_devices"] = "none"
            else:
                two, three = "class2" in allc, "class3" in allc
                found["medical_devices"] = "both" if two and three else "class3" if three else "class2" if two else "exempt"
        area = self._area(areas, clauses)
        if area:
            found["area_m2"] = area
        if weights:
            last_corr = max((i for i, _ in weights if clauses[i].correction or clauses[i].later), default=-1)
            found["vehicle_weight_t"] = max(v for i, v in weights if i >= last_corr)  # the heaviest vehicle
        if rooms and any(a in activities for a in ("hotel", "homestay", "esports_hotel")):
            found["rooms"] = max(rooms)
        if employees:
            found["employees"] = sum(employees) if len(employees) > 1 else employees[0]
        if startup:
            found["startup"] = list(dict.fromkeys(startup))
        ent = self._entity_type(text, activities)
        if ent:
            found["entity_type"] = ent
        name = NAME_RE.search(text)
        if name:
            found["name"] = name.group("n")
        addr = ADDRESS_RE.search(text)
        if addr and ADDRESS_SHAPE.search(addr.group("a")):
            found["address"] = addr.group("a")
        profile = Profile.model_validate({k: v for k, v in found.items() if k != "activities_removed"})
        return Parse(profile=profile, found=found, removed=list(found.get("activities_removed", [])), words=words)

    def _food_capable(self, key: str) -> bool:
        ind = self.industries.get(key) if self.industries else None
        return ind is not None and bool(FOOD_CAPABLE & set(ind.tags) or "food_sales" in ind.asks or "food_sales" in ind.defaults)

    @staticmethod
    def _area(areas: list[tuple[int, float, str]], clauses: list[Clause]) -> float | None:
        if not areas:
            return None
        last_corr = max((i for i, _, _ in areas if clauses[i].correction or clauses[i].later), default=-1)
        if last_corr >= 0:  # 「哦不对，刚量了是一百四」「原来看的三百平，后来只租了一百二十平」
            return [v for i, v, _ in areas if i == last_corr][-1]
        totals = [v for i, v, ctx in areas if AREA_TOTAL.search(clauses[i].raw)]
        if totals:
            return totals[-1]
        if len(areas) > 1 and all(AREA_PART.search(clauses[i].raw) or ctx == "每层" for i, _, ctx in areas):
            return sum(v for _, v, _ in areas)
        return max(v for _, v, _ in areas)

    @staticmethod
    def _entity_type(text: str, activities: list[str]) -> str | None:
        ind, comp = INDIVIDUAL_RE.search(text), COMPANY_RE.search(text)
        if ind and (not comp or ind.start() > comp.start()):
            return "individual"
        if comp:
            return "company"
        return None
