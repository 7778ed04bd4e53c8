"""One short line that acknowledges what a turn added or changed (「已记下：卖口罩、体温计」),
so the applicant sees every piece of information was taken in, whenever it was given."""
from __future__ import annotations

from knowledge_base.catalog.loader import Catalog
from knowledge_base.rules.profile import Profile

FOOD = {"none": "不卖吃的喝的", "produce": "只卖蔬菜水果生鲜", "prepackaged": "只卖包装好的食品",
        "bulk": "有散装或现做现卖的食品", "catering": "做餐饮"}
DEVICES = {"none": "不卖医疗器械", "exempt": "卖{w}(免备案的二类器械)", "class2": "卖{w}(二类医疗器械)",
           "class3": "卖{w}(三类医疗器械)", "both": "卖{w}(二类和三类医疗器械)"}
YES_NO = {
    "tobacco": ("卖烟", "不卖烟"), "halal": ("清真", "不是清真"), "entertainment": ("有卡拉OK/舞池", "没有卡拉OK/舞池"),
    "live_music": ("有驻唱或演出", "没有驻唱或演出"), "workshop": ("自己加工批发", "不自己加工批发"),
    "radiation": ("用放射设备", "不用放射设备"), "maternal": ("做母婴保健技术服务", "不做母婴保健技术服务"),
    "seed_repack": ("自己生产或分装种子", "只卖包装好的种子"), "books": ("卖图书报刊", "不卖图书报刊"),
    "drugs": ("卖药品", "不卖药品"), "meals": ("自办食堂", "不自办食堂"), "outdoor_ad": ("设大型户外广告", "不设大型户外广告"),
    "elevator": ("有自管电梯", "没有自管电梯"), "amusement_rides": ("有大型游乐设施", "没有大型游乐设施"),
    "online_drug_info": ("提供网上药品信息", "不提供网上药品信息"),
}
STARTUP = {"business_registration": "营业执照", "company_seal": "刻章", "bank_account": "银行开户",
           "tax_invoice": "税务发票", "social_insurance": "社保登记", "housing_fund": "公积金"}


def _num(v: float) -> str:
    return f"{v:g}"


def acknowledge(catalog: Catalog, before: Profile, after: Profile, parsed) -> str | None:
    """「已记下：…」 for what ``after`` states differently from ``before``; None if nothing."""
    parts: list[str] = []
    names = {k: v.name for k, v in catalog.industries.items()}
    if after.region != before.region and after.region in catalog.regions:
        parts.append(f"在{catalog.regions[after.region].name}")
    if after.district != before.district and after.district:
        pack = catalog.regions.get(after.region or "")
        d = next((d for d in pack.districts if d.code == after.district), None) if pack else None
        if d:
            parts.append(d.name)
    added = [a for a in after.activities if a not in before.activities]
    gone = [a for a in before.activities if a not in after.activities]
    if gone:
        parts.append("不再是" + "、".join(names.get(a, a) for a in gone))
    if added:
        parts.append("经营" + "、".join(names.get(a, a) for a in added))
    new_words = [w for w in after.unrecognized if w not in before.unrecognized]
    if new_words:
        parts.append("「" + "、".join(new_words) + "」(暂未收录)")
    if after.area_m2 != before.area_m2 and after.area_m2 is not None:
        parts.append(("面积改为" if before.area_m2 is not None else "面积约") + f"{_num(after.area_m2)}平方米")
    if after.food_sales != before.food_sales and after.food_sales:
        parts.append(FOOD[after.food_sales])
    if after.medical_devices != before.medical_devices and after.medical_devices:
        said = "、".join(dict.fromkeys(parsed.words.get("medical_devices", []))) or "医疗器械"
        parts.append(DEVICES[after.medical_devices].format(w=said))
    for key, (yes, no) in YES_NO.items():
        a, b = getattr(after, key), getattr(before, key)
        if a != b and a is not None:
            parts.append(yes if a else no)
    if after.vehicle_weight_t != before.vehicle_weight_t and after.vehicle_weight_t is not None:
        parts.append(f"货车总质量{_num(after.vehicle_weight_t)}吨")
    if after.rooms != before.rooms and after.rooms is not None:
        parts.append(f"{after.rooms}间客房")
    if after.employees != before.employees and after.employees is not None:
        parts.append(f"{after.employees}名员工")
    if after.entity_type != before.entity_type and after.entity_type:
        parts.append("个体工商户" if after.entity_type == "individual" else "公司(企业)")
    steps = [s for s in after.startup if s not in before.startup]
    if steps:
        parts.append("一并办" + "、".join(STARTUP[s] for s in steps))
    if after.name != before.name and after.name:
        parts.append(f"店名「{after.name}」")
    if after.address != before.address and after.address:
        parts.append(f"地址{after.address}")
    return "已记下：" + "；".join(parts) + "。" if parts else None
