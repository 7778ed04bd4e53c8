"""Public places: hygiene licence (公共场所卫生管理条例), pre-opening fire check
(消防法第15、73条), lodging (旅馆业治安管理办法), entertainment, internet cafés, cinemas,
swimming pools."""
from __future__ import annotations

from knowledge_base.rules.base import Ctx, not_needed, rule

# 公共场所卫生管理条例第2条 (宾馆、浴室、理发美容、影剧院/游艺厅/舞厅、游泳场、商场、书店 …)
HYGIENE_TAGS = ("lodging", "mall", "song_dance", "game_arcade", "cinema", "bath", "barber_beauty", "swimming", "bookstore")
# 消防法第73条 公众聚集场所 (宾馆、饭店、商场、集贸市场 … 体育场馆、会堂、公共娱乐场所)
GATHERING_TAGS = ("lodging", "mall", "song_dance", "game_arcade", "internet_cafe", "cinema", "bath", "swimming",
                  "amusement_park", "playground", "script_game", "live_music", "sports_venue")
# 饭店 (消防法第73条) with customers on the premises: no area threshold in the law.  Bakeries and
# unit canteens are not open dining rooms: advisory only.
DINING_KEYS = {"restaurant", "snack_bar", "tea_drink", "bar", "elderly_canteen"}


@rule("public_place_hygiene", reference="ggcs gf_2016_12 gf_2012_52")
def hygiene_licence_for_public_places(ctx: Ctx):
    """《公共场所卫生管理条例》第2、4条所列场所须取得卫生许可证。"""
    if ctx.has(*HYGIENE_TAGS):
        return [f"您经营{ctx.names(*HYGIENE_TAGS)}，属于《公共场所卫生管理条例》所列公共场所，须办卫生许可（可告知承诺）。"]
    if _entertainment(ctx):
        return ["您的场所供顾客唱歌跳舞，属于歌舞厅类公共场所(公共场所卫生管理条例第2条)，须办卫生许可（可告知承诺）。"]
    return None


@not_needed("public_place_hygiene", reference="gf_2016_12")
def restaurants_need_no_hygiene_licence(ctx: Ctx):
    """饭馆、咖啡馆、酒吧、茶座不再办公共场所卫生许可(国发〔2016〕12号)。"""
    if ctx.has("catering") and not ctx.has(*HYGIENE_TAGS):
        return "饭馆、咖啡馆、酒吧、茶座自2016年起不再办理公共场所卫生许可，卫生要求并入食品经营许可。"
    return None


def _entertainment(ctx: Ctx) -> bool:
    """A bar or restaurant where the customers sing or dance (卡拉OK、舞池: 自娱自乐) counts as an
    entertainment venue (娱乐场所管理条例第2条).  Performers on a stage (驻唱、乐队) do not:
    that is a performance (live_music, 营业性演出管理条例)."""
    return ctx.has("catering") and bool(ctx.fact("entertainment"))


@rule("fire_safety_check", reference="xff yj_2021_34")
def fire_check_for_public_gathering_places(ctx: Ctx):
    """公众聚集场所(宾馆、饭店、商场、体育场馆、公共娱乐场所等，消防法第73条)投入使用、营业前须向
    消防救援机构申请消防安全检查(消防法第15条，告知承诺)。法律没有面积门槛：小餐馆也是饭店。"""
    why = []
    if ctx.has(*GATHERING_TAGS):
        why.append(f"您经营{ctx.names(*GATHERING_TAGS)}，属于公众聚集场所，开业前须办消防安全检查（可告知承诺，当场办结）。")
    if _entertainment(ctx) or (ctx.has("catering") and ctx.fact("live_music")):
        why.append("您的场所有驻唱、卡拉OK或演艺等娱乐功能，属于公共娱乐场所，须办消防安全检查。")
    dining = [a for a in ctx.activities if a.key in DINING_KEYS]
    if dining and not why:
        why.append(f"您经营{'、'.join(a.name for a in dining)}，堂食的餐饮场所属于消防法所称的饭店（公众聚集场所），法律没有面积门槛，开业前须办消防安全检查（可告知承诺，当场办结）。")
        ctx.advisories.append(f"部分地方对设在首层、面积较小的小餐馆免于营业前消防安全检查，{ctx.region_name}是否有此规定，请以当地消防救援机构口径为准。")
    elif ctx.has("bakery", "food_retail") and not why:
        ctx.advisories.append(f"烘焙店、便利店等一般不属于公众聚集场所；设有较大堂食区的，是否须办开业前消防安全检查请咨询{ctx.region_name}消防救援机构。")
    return why or None


@rule("hotel_special_trade", reference="lg_zaf gwy_412")
def lodging_needs_special_trade_licence(ctx: Ctx):
    """旅馆业治安管理办法：接待旅客住宿须取得特种行业许可证。"""
    if ctx.has("lodging"):
        return [f"您经营{ctx.names('lodging')}，接待旅客住宿，须向公安机关申领旅馆业特种行业许可证。"]
    return None


@rule("entertainment_venue", reference="ylcs_tl")
def entertainment_venue_licence(ctx: Ctx):
    """娱乐场所管理条例第9条：歌舞、游艺娱乐场所须取得娱乐经营许可证。"""
    if ctx.has("song_dance", "game_arcade"):
        return [f"您经营{ctx.names('song_dance', 'game_arcade')}，属于娱乐场所，须向文化和旅游部门申请娱乐经营许可证。"]
    if _entertainment(ctx):
        return ["您的场所供顾客唱歌、跳舞（卡拉OK、舞池，自娱自乐），按娱乐场所管理，须申请娱乐经营许可证。"]
    return None


@rule("performance_venue_filing", reference="ycgl ylcs")
def live_performances_are_a_filing(ctx: Ctx):
    """营业性演出管理条例第7条：演出场所经营单位领取营业执照后20日内向县级文化主管部门备案。驻唱、乐队
    由演员表演，不是娱乐场所(娱乐场所管理条例第2条只管自娱自乐)。"""
    if ctx.has("live_music") or (ctx.has("catering") and ctx.fact("live_music")):
        return ["您的场所有驻唱、乐队等现场演出，属于营业性演出场所（不是娱乐场所），领取营业执照后20日内须向县级文化和旅游部门备案。"]
    return None


@not_needed("entertainment_venue", reference="ylcs")
def live_music_is_not_an_entertainment_venue(ctx: Ctx):
    """驻唱、乐队演出不是娱乐场所(娱乐场所管理条例第2条：消费者自娱自乐)。"""
    if ctx.fact("live_music") and not ctx.has("song_dance", "game_arcade") and not _entertainment(ctx):
        return "驻唱、乐队等由演员表演的属于营业性演出，不办娱乐经营许可证（顾客自己唱歌跳舞的才是娱乐场所）。"
    return None


@rule("script_entertainment_filing", reference="jbyl")
def script_games_are_a_filing(ctx: Ctx):
    """文旅市场发〔2022〕70号：剧本娱乐经营场所向县级文化和旅游部门告知性备案。"""
    if ctx.has("script_game"):
        return [f"您经营{ctx.names('script_game')}，属于剧本娱乐经营场所，须向县级文化和旅游部门备案，并建立剧本自审制度。"]
    return None


@rule("high_risk_sports_other", reference="gwxty")
def climbing_diving_skiing(ctx: Ctx):
    """体育法、全民健身条例：经营攀岩、潜水、滑雪等高危险性体育项目须经体育主管部门许可。"""
    if ctx.has("high_risk_sports"):
        return [f"您经营{ctx.names('high_risk_sports')}，属于高危险性体育项目，须向体育主管部门申请许可。"]
    return None


@rule("entertainment_police_filing", reference="ylcs_tl")
def entertainment_police_filing(ctx: Ctx):
    """娱乐场所管理条例第11条：取得许可证后15日内向县级公安部门备案。"""
    if ctx.has("song_dance", "game_arcade") or _entertainment(ctx):
        return ["娱乐场所取得营业执照和娱乐经营许可证后15日内，须向县级公安部门备案。"]
    return None


@rule("internet_cafe", reference="hlwsw")
def internet_cafe_licence(ctx: Ctx):
    """互联网上网服务营业场所管理条例：设立网吧须经文化部门审批。"""
    if ctx.has("internet_cafe"):
        return [f"您经营{ctx.names('internet_cafe')}，向公众提供上网服务，须办理互联网上网服务营业场所经营许可（网络文化经营许可证）。"]
    return None


@rule("cinema", reference="dycy")
def cinema_licence(ctx: Ctx):
    """电影产业促进法第24条：从事电影放映须经县级电影主管部门许可。"""
    if ctx.has("cinema"):
        return [f"您经营{ctx.names('cinema')}，从事营业性电影放映，须取得电影放映经营许可证。"]
    return None


@rule("high_risk_sports_swimming", reference="tyf qmjs gwty_bf")
def swimming_high_risk_sports(ctx: Ctx):
    """体育法、全民健身条例：经营游泳等高危险性体育项目须取得许可。"""
    if ctx.has("swimming"):
        return ["游泳属于高危险性体育项目，经营游泳场馆须向体育部门申请许可。"]
    return None


@rule("special_equipment_amusement", reference="tzsb tsg08")
def amusement_ride_registration(ctx: Ctx):
    """特种设备安全法第33条：大型游乐设施投入使用前后30日内办理使用登记。"""
    if ctx.has("amusement_park") or (ctx.has("playground", "amusement_park") and ctx.fact("amusement_rides")) or ctx.profile.amusement_rides:
        return ["场所使用大型游乐设施，投入使用前或使用后30日内须办理特种设备使用登记。"]
    return None


@rule("special_equipment_elevator", reference="tzsb tsg08")
def elevator_registration(ctx: Ctx):
    """特种设备安全法第33条：使用单位自有电梯须办理使用登记。"""
    if ctx.fact("elevator"):
        return ["您的场所有由您负责使用管理的电梯（含自动扶梯），须办理特种设备使用登记。"]
    return None
