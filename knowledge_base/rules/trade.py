"""Retail, health, agriculture, transport and service trades: one rule per item."""
from __future__ import annotations

from knowledge_base.rules.base import Ctx, not_needed, rule


def _tagged(code: str, tag: str, reason: str, reference: str):
    """A rule whose only trigger is an activity tag (the item's own law names the trade)."""

    def fn(ctx: Ctx):
        return [reason.format(names=ctx.names(tag))] if ctx.has(tag) else None

    fn.__name__ = f"{code}_for_{tag}"
    fn.__doc__ = reason.replace("{names}", tag)
    return rule(code, reference=reference)(fn)


_tagged("real_estate_agency_filing", "real_estate_agency", "您从事{names}业务，领取营业执照后30日内须向住房城乡建设部门备案。", "城市房地产管理法、房地产经纪管理办法")
_tagged("travel_agency", "travel_agency", "您经营{names}，招徕、组织、接待旅游者，须取得旅行社业务经营许可。", "旅行社条例")
_tagged("seal_engraving", "seal_engraving", "您经营{names}，承接公章刻制业务，须取得公安机关的印章刻制业特种行业许可。", "国务院令第412号")
_tagged("fireworks_retail", "fireworks", "您零售{names}，须取得应急管理部门的烟花爆竹经营（零售）许可证。", "烟花爆竹安全管理条例第19条")
_tagged("animal_clinic", "pet_clinic", "您开办{names}，从事动物诊疗活动，须取得动物诊疗许可证。", "动物防疫法第61条")
_tagged("pesticide_business", "pesticide", "您经营{names}，销售农药（卫生用农药除外）须取得农药经营许可证。", "农药管理条例第24条")
_tagged("vet_drug_business", "vet_drug", "您经营{names}，销售兽药须取得兽药经营许可证。", "兽药管理条例第22条")
_tagged("drug_wholesale", "drug_wholesale", "您从事{names}，药品批发或零售连锁总部须取得省级药品监管部门的药品经营许可。", "药品管理法第51条")
_tagged("internet_drug_info", "internet_drug", "您通过网站或APP提供药品、医疗器械信息（{names}），须取得互联网药品信息服务资格证书。", "互联网药品信息服务管理办法")
_tagged("gas_appliance_installer", "gas_appliance", "您从事{names}业务，须取得燃气燃烧器具安装、维修企业资质。", "城镇燃气管理条例、燃气燃烧器具安装维修管理规定")
_tagged("hr_service", "hr_agency", "您从事{names}（职业中介活动），须取得人力资源服务许可证。", "人力资源市场暂行条例第18条")
_tagged("industrial_product_license", "industrial_products", "您生产{names}，该类产品列入工业产品生产许可证目录的，须取得生产许可证。", "工业产品生产许可证管理条例")
_tagged("disinfection_product", "disinfection", "您生产{names}，须取得消毒产品生产企业卫生许可证。", "传染病防治法第29条、消毒管理办法")
_tagged("packaging_printing", "packaging_printing", "您从事{names}，包装装潢印刷品印刷经营须取得出版行政部门的许可。", "印刷业管理条例第9条")
_tagged("ride_hailing", "ride_hailing", "您从事{names}经营，须取得网络预约出租汽车经营许可（车辆、驾驶员另办运输证和驾驶员证）。", "网络预约出租汽车经营服务管理暂行办法")
_tagged("network_culture", "network_culture", "您从事{names}等经营性互联网文化活动，须取得网络文化经营许可证（省级文化和旅游部门）。", "互联网文化管理暂行规定")
_tagged("drug_retail", "pharmacy", "您开办{names}，零售药品须取得药品经营许可证（零售）。", "药品管理法第51条")
_tagged("publication_retail", "publication", "您经营{names}，零售图书、报刊、音像制品须取得出版物经营许可证。", "出版管理条例第36条")


@rule("tobacco_retail", reference="烟草专卖法第16条")
def tobacco_retail_licence(ctx: Ctx):
    """烟草专卖法第16条：经营烟草制品零售业务须取得烟草专卖零售许可证。"""
    if ctx.fact("tobacco"):
        return ["您会零售卷烟、雪茄或电子烟等烟草制品，须取得烟草专卖零售许可证。"]
    return None


def _devices(ctx: Ctx) -> str:
    return ctx.fact("medical_devices") or "none"


@rule("device_class2_filing", reference="医疗器械监督管理条例第41、42条")
def class2_device_filing(ctx: Ctx):
    """医疗器械监督管理条例第41条：经营第二类医疗器械向设区的市级药监部门备案。"""
    if _devices(ctx) in ("class2", "both"):
        return ["您销售第二类医疗器械（如血压计、体温计、医用口罩），须办理经营备案。"]
    return None


@rule("device_class3_license", reference="医疗器械监督管理条例第41、42条")
def class3_device_licence(ctx: Ctx):
    """医疗器械监督管理条例第42条：经营第三类医疗器械须取得经营许可。"""
    if _devices(ctx) in ("class3", "both"):
        return ["您销售第三类医疗器械（如隐形眼镜、注射器、植入类产品），须取得经营许可。"]
    return None


@rule("medical_institution", reference="医疗机构管理条例(2022修订)")
def medical_institution_licence(ctx: Ctx):
    """医疗机构管理条例：医院等须设置审批和执业登记；诊所实行备案(2022修订)。"""
    if ctx.has("hospital"):
        return [f"您开办{ctx.names('hospital')}，须办理医疗机构设置审批和执业登记。"]
    if ctx.has("clinic"):
        return [f"您开办{ctx.names('clinic')}，诊所向县级卫生健康部门备案后即可执业（门诊部等须执业登记）。"]
    return None


@rule("maternal_infant_health", reference="母婴保健法第32条")
def maternal_infant_services(ctx: Ctx):
    """母婴保健法第32条：开展婚检、产前诊断、助产、结扎、终止妊娠等须取得许可。"""
    if ctx.has("clinic", "hospital") and ctx.fact("maternal"):
        return ["您开展助产、婚前检查、产前筛查、结扎或终止妊娠等母婴保健技术服务，须取得执业许可。"]
    return None


@rule("radiation_diagnosis", reference="放射诊疗管理规定")
def radiation_diagnosis_licence(ctx: Ctx):
    """放射诊疗管理规定：使用X光机、CT、牙片机等开展诊疗须取得放射诊疗许可。"""
    if ctx.has("clinic", "hospital") and ctx.fact("radiation"):
        return ["您使用X光机、CT、牙片机等放射设备，须取得放射诊疗许可。"]
    return None


@rule("seed_business", reference="种子法第31、38条")
def seed_licence(ctx: Ctx):
    """种子法第31、38条：生产或分装经营农作物种子须许可；只卖不再分装的包装种子只需备案。"""
    if not ctx.has("seed"):
        return None
    if ctx.fact("seed_repack"):
        return ["您生产或分装农作物种子，须取得农作物种子生产经营许可证。"]
    ctx.advisories.append("只经营不再分装的包装种子，不需要种子生产经营许可证，但须向当地农业农村部门备案。")
    return None


@rule("road_freight", reference="道路运输条例第22、24条")
def road_freight_licence(ctx: Ctx):
    """道路运输条例第22、24条：用总质量4.5吨以上的普通货车从事营业性运输须许可。"""
    if not ctx.has("freight"):
        return None
    weight = ctx.profile.vehicle_weight_t
    if weight is None:
        ctx.assumed.add("vehicle_weight_t")
        return ["从事营业性道路货运：如使用总质量超过4.5吨的货车，须取得道路运输经营许可证（车辆尚未确认）。"]
    if weight > 4.5:
        return [f"您的货车总质量约{weight:g}吨，超过4.5吨，从事营业性货运须取得道路运输经营许可证和车辆营运证。"]
    return None


@not_needed("road_freight", reference="道路运输条例第22、24条")
def light_trucks_need_no_freight_licence(ctx: Ctx):
    """总质量4.5吨及以下普通货车从事普通货运无需道路运输经营许可。"""
    weight = ctx.profile.vehicle_weight_t
    if ctx.has("freight") and weight is not None and weight <= 4.5:
        return f"货车总质量{weight:g}吨，不超过4.5吨，从事普通货运不需要道路运输经营许可证和车辆营运证。"
    return None


@rule("outdoor_ad_large", reference="城市市容和环境卫生管理条例第11条")
def large_outdoor_ad(ctx: Ctx):
    """城市市容和环境卫生管理条例第11条：设置大型户外广告须经城管部门同意。"""
    if ctx.fact("outdoor_ad"):
        return ["您要设置大型户外广告（楼顶、墙面大型广告牌或电子屏），须经城市管理部门审批。"]
    return None
