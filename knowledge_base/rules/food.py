"""Food rules: national law (食品安全法, 总局令第78号) and the regional small-business
regimes that replace the national licence for small shops (宁夏、河南) or workshops (广东、宁夏、河南)."""
from __future__ import annotations

from knowledge_base.rules.base import Ctx, not_needed, rule

# 宁夏同心附件3: 小餐饮 150平米以下办登记证; 便利店 30平米以下办小销售店登记证.
# 民法典第1259条: "以上、以下、以内"包括本数, so 150 itself is still "small".
NX_SMALL_CATERING = "nx_small_catering_max_m2"
NX_SMALL_SHOP = "nx_small_shop_max_m2"
HA_SMALL_SHOP = "ha_small_shop_max_m2"
SMALL_CATERING_KEYS = {"restaurant", "snack_bar", "tea_drink"}


def _within(ctx: Ctx, parameter: str) -> bool:
    """The area is at or under the region's threshold (以下含本数); False where the
    region sets no such threshold."""
    limit = ctx.param(parameter)
    if limit is None:
        return False
    area = ctx.area()
    return area is not None and area <= limit


def _small_catering_nx(ctx: Ctx) -> bool:
    """同心: a 小餐饮 (饭店/小吃/茶饮) at or under the county threshold."""
    if ctx.province != "ningxia" or not any(a.key in SMALL_CATERING_KEYS for a in ctx.activities):
        return False
    return _within(ctx, NX_SMALL_CATERING)


def _small_shop_nx(ctx: Ctx) -> bool:
    """同心: a shop selling food (便利店, or a 超市 that small) at or under the 食品小销售店 threshold."""
    if ctx.province != "ningxia" or not ctx.has("food_retail"):
        return False
    return _within(ctx, NX_SMALL_SHOP)


def _small_shop_ha(ctx: Ctx) -> bool:
    """睢县(河南): catering or food retail in a shop of at most 60 ㎡, run by a
    个体工商户 (河南小经营店登记管理办法第3条: a company keeps the food licence)."""
    if ctx.province != "henan" or not ctx.has("catering", "food_retail"):
        return False
    if ctx.has("mall", "lodging", "elderly_canteen"):
        return False
    if any(a.key == "canteen" for a in ctx.activities):
        return False
    if not _within(ctx, HA_SMALL_SHOP):
        return False
    return ctx.fact("entity_type") == "individual"


def _small_registration(ctx: Ctx) -> bool:
    level = ctx.food_level()
    if level in ("none", "produce"):
        return False
    if _small_shop_nx(ctx):
        return True
    if level not in ("bulk", "catering"):
        return False
    # a catering business that is not 小餐饮 (e.g. 老饭桌, 食堂, 烘焙, a hotel's dining room) keeps the licence
    only_small_catering = all(a.key in SMALL_CATERING_KEYS or "catering" not in a.tags for a in ctx.activities) \
        and not ctx.has("lodging")
    return (_small_catering_nx(ctx) and only_small_catering) or _small_shop_ha(ctx)


@rule("food_business_license", reference="spsaf spjy_78")
def food_licence_for_catering_or_bulk(ctx: Ctx):
    """餐饮服务、散装食品、现制现售须取得食品经营许可(食品安全法第35条)，
    除非当地把小餐饮/小经营店改为登记(宁夏、河南)。"""
    level = ctx.food_level()
    if level not in ("bulk", "catering"):
        return None
    if _small_registration(ctx):
        return None
    if ctx.has("food_stall") and not ctx.has("catering", "food_retail"):
        return None  # 食品摊贩: the province's 小摊点 registration instead (the activity's confirm says which)
    why = []
    if ctx.has("catering"):
        why.append(f"您经营{ctx.names('catering')}，属于餐饮服务或现制现售，须取得食品经营许可。")
    if level == "catering" and not ctx.has("catering"):
        why.append("您的场所附设餐饮服务（如餐厅、现做食品），须取得食品经营许可。")
    if level == "bulk":
        why.append("您销售散装食品或现做现卖的食品（不只是预包装食品），须取得食品经营许可。")
    limit = ctx.param(NX_SMALL_CATERING)
    if limit is not None and any(a.key in SMALL_CATERING_KEYS for a in ctx.activities):
        why.append(f"{ctx.area_text()}，超过{ctx.region_name}小餐饮登记标准（{limit:g}平方米及以下），按食品经营许可办理。")
    limit = ctx.param(NX_SMALL_SHOP)
    if limit is not None and ctx.has("food_retail"):
        why.append(f"{ctx.area_text()}，超过{ctx.region_name}食品小销售店标准（{limit:g}平方米及以下）。")
    limit = ctx.param(HA_SMALL_SHOP)
    if limit is not None and ctx.has("catering", "food_retail") and ctx.profile.area_m2:
        if ctx.profile.area_m2 <= limit and ctx.profile.entity_type == "company":
            why.append(f"{ctx.area_text()}，虽不超过河南小经营店标准（{limit:g}平方米），但小经营店登记只适用于个体工商户，企业须办食品经营许可证。")
        elif ctx.profile.area_m2 > limit:
            why.append(f"{ctx.area_text()}，超过河南小经营店登记标准（{limit:g}平方米及以下）。")
    return why


@rule("food_business_license", reference="spsaf spjy_78")
def food_licence_for_care_kitchens(ctx: Ctx):
    """养老机构、托育机构、幼儿园自办食堂供餐的，按单位食堂取得食品经营许可。"""
    if ctx.has("elderly_care", "childcare", "school", "after_school") and ctx.fact("meals"):
        return [f"{ctx.names('elderly_care', 'childcare', 'school', 'after_school')}自办食堂或给孩子、老人供餐，须取得食品经营许可。"]
    return None


@rule("food_prepackaged_filing", reference="spsaf spjy_78")
def prepackaged_only_is_a_filing(ctx: Ctx):
    """只销售预包装食品不需许可，改为备案(食品安全法第35条，2021修正)。"""
    if ctx.food_level() != "prepackaged" or _small_shop_nx(ctx):
        return None
    if ctx.has("food_factory") and not ctx.has("catering"):
        return None  # 78号令第5条: a producer selling its own prepackaged food files nothing more
    return ["您只销售预包装食品（包装好的零食、饮料等），按规定不需要食品经营许可，办理备案即可。"]


@rule("nx_food_registration", reference="nx_sanxiao nx_djbf seed_tongxin", regions=("tongxin",))
def ningxia_small_food_registration(ctx: Ctx):
    """宁夏"三小"条例：小作坊、小餐饮、食品小销售店办食品生产经营登记证；
    同心附件3 给出小餐饮150㎡、便利店30㎡的门槛。"""
    if ctx.province != "ningxia":
        return None
    why = []
    if _small_catering_nx(ctx) and ctx.food_level() == "catering" and _small_registration(ctx):
        why.append(f"{ctx.area_text()}，在{ctx.region_name}小餐饮标准（{ctx.param(NX_SMALL_CATERING):g}平方米及以下）内，办小餐饮食品生产经营登记证，不办食品经营许可证。")
    if _small_shop_nx(ctx) and ctx.food_level() not in ("none", "produce"):
        why.append(f"{ctx.area_text()}，在{ctx.region_name}食品小销售店标准（{ctx.param(NX_SMALL_SHOP):g}平方米及以下）内，办食品小销售店登记证。")
    if ctx.has("food_workshop") or (ctx.has("bakery") and ctx.fact("workshop")):
        why.append("您自己生产加工食品（小作坊），按宁夏规定办理食品小作坊登记证。")
    return why or None


@rule("ha_small_shop_registration", reference="ha_sanxiao ha_xjyd", regions=("suixian",))
def henan_small_shop_registration(ctx: Ctx):
    """河南：使用面积≤60㎡、从事食品销售或餐饮服务的个体工商户取得小经营店登记证。"""
    if ctx.food_level() not in ("bulk", "catering") or not _small_shop_ha(ctx):
        return None
    return [f"{ctx.area_text()}，不超过河南小经营店标准（{ctx.param(HA_SMALL_SHOP):g}平方米），以个体工商户经营，办小经营店登记证即可。"]


@rule("food_workshop_registration", reference="gd_xzf gd_djbf", regions=("zhongshan", "yangjiang"))
def guangdong_workshop_registration(ctx: Ctx):
    """广东：食品生产加工小作坊生产前向县级市场监管部门登记。"""
    if ctx.province != "guangdong":
        return None
    if ctx.has("food_workshop") or (ctx.has("bakery") and ctx.fact("workshop")):
        return ["您自己生产加工传统食品，规模小、工艺简单，按广东规定办理食品生产加工小作坊登记。"]
    return None


@rule("ha_food_workshop_registration", reference="ha_sanxiao", regions=("suixian",))
def henan_workshop_registration(ctx: Ctx):
    """河南：食品小作坊取得登记证后方可生产。"""
    if ctx.province != "henan":
        return None
    if ctx.has("food_workshop") or (ctx.has("bakery") and ctx.fact("workshop")):
        return ["您自己生产加工食品（小作坊），按河南规定办理食品小作坊登记证。"]
    return None


@rule("food_production_license", reference="spsaf")
def food_factory_production_licence(ctx: Ctx):
    """工厂化生产食品须取得食品生产许可(食品安全法第35条)。"""
    if ctx.has("food_factory"):
        return [f"您经营{ctx.names('food_factory')}，规模化生产食品须取得食品生产许可。"]
    if ctx.has("food_workshop") and ctx.province not in ("guangdong", "ningxia", "henan"):
        ctx.advisories.append(f"{ctx.region_name}的食品小作坊按本省小作坊条例登记，本系统尚未收录该省登记事项，请向县市场监管部门确认；超出小作坊条件的须办食品生产许可。")
    return None


@rule("halal_food_permit", reference="nx_qz seed_tongxin", regions=("tongxin",))
def ningxia_halal_permit(ctx: Ctx):
    """宁夏清真食品管理条例：生产经营清真食品、使用清真标识须取得清真食品准营证。"""
    if ctx.province != "ningxia":
        return None
    if ctx.food_level() in ("none",) and not ctx.has("food_workshop", "food_factory"):
        return None
    if ctx.fact("halal"):
        return ["您经营清真食品（或使用“清真”字样、标识），在宁夏须取得清真食品准营证。"]
    return None


@not_needed("food_business_license", reference="spsaf spjy_78")
def produce_needs_no_food_licence(ctx: Ctx):
    """只卖食用农产品既不需许可也不需备案。"""
    if ctx.food_level() == "produce":
        return "只销售食用农产品（蔬菜、水果、生鲜肉蛋等），不需要食品经营许可，也不需要备案。"
    return None


@not_needed("food_business_license", reference="spsaf")
def prepackaged_needs_no_licence(ctx: Ctx):
    """只卖预包装食品的不办许可。"""
    if ctx.food_level() == "prepackaged":
        return "只卖预包装食品，不需要食品经营许可证（改为备案）。"
    return None
