"""Public places: hygiene licence (公共场所卫生管理条例), pre-opening fire check
(消防法第15、73条), lodging (旅馆业治安管理办法), entertainment, internet cafés, cinemas,
swimming pools."""
from __future__ import annotations

from knowledge_base.rules.base import Ctx, not_needed, rule

# 公共场所卫生管理条例第2条 (宾馆、浴室、理发美容、影剧院/游艺厅/舞厅、游泳场、商场、书店 …)
HYGIENE_TAGS = ("lodging", "mall", "song_dance", "game_arcade", "cinema", "bath", "barber_beauty", "swimming", "bookstore")
# 消防法第73条 公众聚集场所 (宾馆、饭店、商场、集贸市场 … 公共娱乐场所、体育场馆)
GATHERING_TAGS = ("lodging", "mall", "song_dance", "game_arcade", "internet_cafe", "cinema", "bath", "swimming", "amusement_park")
# 餐饮服务食品安全操作规范: 小型餐馆 ≤150㎡; larger restaurants are the 饭店 of 消防法第73条.
SMALL_RESTAURANT_M2 = 150.0


@rule("public_place_hygiene", reference="公共场所卫生管理条例第2条、国发〔2016〕12号")
def hygiene_licence_for_public_places(ctx: Ctx):
    """《公共场所卫生管理条例》第2、4条所列场所须取得卫生许可证。"""
    if ctx.has(*HYGIENE_TAGS):
        return [f"您经营{ctx.names(*HYGIENE_TAGS)}，属于《公共场所卫生管理条例》所列公共场所，须办卫生许可（可告知承诺）。"]
    return None


@not_needed("public_place_hygiene", reference="国发〔2016〕12号")
def restaurants_need_no_hygiene_licence(ctx: Ctx):
    """饭馆、咖啡馆、酒吧、茶座不再办公共场所卫生许可(国发〔2016〕12号)。"""
    if ctx.has("catering") and not ctx.has(*HYGIENE_TAGS):
        return "饭馆、咖啡馆、酒吧、茶座自2016年起不再办理公共场所卫生许可，卫生要求并入食品经营许可。"
    return None


def _entertainment(ctx: Ctx) -> bool:
    """A bar or restaurant with 驻唱/卡拉OK/舞池 counts as an entertainment venue."""
    return ctx.has("catering") and bool(ctx.fact("entertainment"))


@rule("fire_safety_check", reference="消防法第15、73条、应急〔2021〕34号")
def fire_check_for_public_gathering_places(ctx: Ctx):
    """公众聚集场所投入使用、营业前须向消防救援机构申请消防安全检查(消防法第15条，告知承诺)。"""
    why = []
    if ctx.has(*GATHERING_TAGS):
        why.append(f"您经营{ctx.names(*GATHERING_TAGS)}，属于公众聚集场所，开业前须办消防安全检查（可告知承诺，当场办结）。")
    if _entertainment(ctx):
        why.append("您的场所有驻唱、卡拉OK或演艺等娱乐功能，属于公共娱乐场所，须办消防安全检查。")
    if ctx.has("catering") and not ctx.has("bakery") and not why:
        area = ctx.area()
        if area is not None and area > SMALL_RESTAURANT_M2:
            why.append(f"{ctx.area_text()}，超过小型餐馆标准（{SMALL_RESTAURANT_M2:g}平方米），属于消防法所称的饭店（公众聚集场所），开业前须办消防安全检查。")
        elif ctx.profile.area_m2 is not None:
            ctx.advisories.append(f"{ctx.area_text()}，属于小型餐馆：法律未设面积门槛，是否须办开业前消防安全检查以{ctx.region_name}消防救援机构口径为准，建议开业前咨询。")
    return why or None


@rule("hotel_special_trade", reference="旅馆业治安管理办法")
def lodging_needs_special_trade_licence(ctx: Ctx):
    """旅馆业治安管理办法：接待旅客住宿须取得特种行业许可证。"""
    if ctx.has("lodging"):
        return [f"您经营{ctx.names('lodging')}，接待旅客住宿，须向公安机关申领旅馆业特种行业许可证。"]
    return None


@rule("entertainment_venue", reference="娱乐场所管理条例第9、11条")
def entertainment_venue_licence(ctx: Ctx):
    """娱乐场所管理条例第9条：歌舞、游艺娱乐场所须取得娱乐经营许可证。"""
    if ctx.has("song_dance", "game_arcade"):
        return [f"您经营{ctx.names('song_dance', 'game_arcade')}，属于娱乐场所，须向文化和旅游部门申请娱乐经营许可证。"]
    if _entertainment(ctx):
        return ["您的场所提供唱歌、跳舞或游艺等娱乐服务，按娱乐场所管理，须申请娱乐经营许可证。"]
    return None


@rule("entertainment_police_filing", reference="娱乐场所管理条例第9、11条")
def entertainment_police_filing(ctx: Ctx):
    """娱乐场所管理条例第11条：取得许可证后15日内向县级公安部门备案。"""
    if ctx.has("song_dance", "game_arcade") or _entertainment(ctx):
        return ["娱乐场所取得营业执照和娱乐经营许可证后15日内，须向县级公安部门备案。"]
    return None


@rule("internet_cafe", reference="互联网上网服务营业场所管理条例")
def internet_cafe_licence(ctx: Ctx):
    """互联网上网服务营业场所管理条例：设立网吧须经文化部门审批。"""
    if ctx.has("internet_cafe"):
        return [f"您经营{ctx.names('internet_cafe')}，向公众提供上网服务，须办理互联网上网服务营业场所经营许可（网络文化经营许可证）。"]
    return None


@rule("cinema", reference="电影产业促进法第24条")
def cinema_licence(ctx: Ctx):
    """电影产业促进法第24条：从事电影放映须经县级电影主管部门许可。"""
    if ctx.has("cinema"):
        return [f"您经营{ctx.names('cinema')}，从事营业性电影放映，须取得电影放映经营许可证。"]
    return None


@rule("high_risk_sports_swimming", reference="体育法第90条、全民健身条例")
def swimming_high_risk_sports(ctx: Ctx):
    """体育法、全民健身条例：经营游泳等高危险性体育项目须取得许可。"""
    if ctx.has("swimming"):
        return ["游泳属于高危险性体育项目，经营游泳场馆须向体育部门申请许可。"]
    return None


@rule("special_equipment_amusement", reference="特种设备安全法第33条")
def amusement_ride_registration(ctx: Ctx):
    """特种设备安全法第33条：大型游乐设施投入使用前后30日内办理使用登记。"""
    if ctx.has("amusement_park") or ctx.fact("amusement_rides"):
        return ["场所使用大型游乐设施，投入使用前或使用后30日内须办理特种设备使用登记。"]
    return None


@rule("special_equipment_elevator", reference="特种设备安全法第33条")
def elevator_registration(ctx: Ctx):
    """特种设备安全法第33条：使用单位自有电梯须办理使用登记。"""
    if ctx.fact("elevator"):
        return ["您的场所有由您负责使用管理的电梯（含自动扶梯），须办理特种设备使用登记。"]
    return None
