"""Retail, health, agriculture, transport and service trades: one rule per item."""
from __future__ import annotations

from knowledge_base.rules.base import Ctx, not_needed, rule


def _tagged(code: str, tag: str, reason: str, reference: str, doc: str | None = None):
    """A rule whose only trigger is an activity tag (the item's own law names the trade).
    ``reference``: source keys (the item's own ``sources`` or data/catalog/sources.yaml)."""

    def fn(ctx: Ctx):
        return [reason.format(names=ctx.names(tag))] if ctx.has(tag) else None

    fn.__name__ = f"{code}_for_{tag}"
    fn.__doc__ = doc or reason.replace("{names}", tag)
    return rule(code, reference=reference)(fn)


_tagged("real_estate_agency_filing", "real_estate_agency", "您从事{names}业务，领取营业执照后30日内须向住房城乡建设部门备案。", "fdc_law fdjj")
_tagged("travel_agency", "travel_agency", "您经营{names}，招徕、组织、接待旅游者，须取得旅行社业务经营许可。", "lxs_tl")
_tagged("seal_engraving", "seal_engraving", "您经营{names}，承接公章刻制业务，须取得公安机关的印章刻制业特种行业许可。", "gwy_412")
_tagged("fireworks_retail", "fireworks", "您零售{names}，须取得应急管理部门的烟花爆竹经营（零售）许可证。", "yhbz_tl yhbz_65")
_tagged("animal_clinic", "pet_clinic", "您开办{names}，从事动物诊疗活动，须取得动物诊疗许可证。", "dwfyf dzjg_2022")
_tagged("pesticide_business", "pesticide", "您经营{names}，销售农药（卫生用农药除外）须取得农药经营许可证。", "nygl nyjyxk")
_tagged("vet_drug_business", "vet_drug", "您经营{names}，销售兽药须取得兽药经营许可证。", "sygl")
_tagged("drug_wholesale", "drug_wholesale", "您从事{names}，药品批发或零售连锁总部须取得省级药品监管部门的药品经营许可。", "ypglf")
@rule("internet_drug_info", reference="hlwyp")
def internet_drug_information(ctx: Ctx):
    """互联网药品信息服务管理办法：通过网站、APP、小程序向公众提供药品(含医疗器械)信息，须取得资格证书。"""
    if ctx.has("internet_drug"):
        return [f"您通过网站或APP提供药品、医疗器械信息（{ctx.names('internet_drug')}），须取得互联网药品信息服务资格证书。"]
    if ctx.has("pharmacy", "drug_wholesale", "device_sales") and ctx.fact("online_drug_info"):
        return ["您要通过自己的网站、APP或小程序展示、销售药品，须取得互联网药品信息服务资格证书（网上卖药另按规定向药品监管部门报告）。"]
    return None
_tagged("gas_appliance_installer", "gas_appliance", "您从事{names}业务，须取得燃气燃烧器具安装、维修企业资质。", "rqtl jsb73")
_tagged("hr_service", "hr_agency", "您从事{names}（职业中介活动），须取得人力资源服务许可证。", "rlzysc")
_tagged("industrial_product_license", "industrial_products", "您生产{names}，该类产品列入工业产品生产许可证目录的，须取得生产许可证。", "gycp")
_tagged("disinfection_product", "disinfection", "您生产{names}，须取得消毒产品生产企业卫生许可证。", "crbfz xdgl")
_tagged("packaging_printing", "packaging_printing", "您从事{names}，包装装潢印刷品印刷经营须取得出版行政部门的许可。", "ysgl")
_tagged("ride_hailing", "ride_hailing", "您从事{names}经营，须取得网络预约出租汽车经营许可（车辆、驾驶员另办运输证和驾驶员证）。", "wyc")
_tagged("network_culture", "network_culture", "您从事{names}等经营性互联网文化活动，须取得网络文化经营许可证（省级文化和旅游部门）。", "hlwwh")
_tagged("express_outlet_filing", "express_outlet", "您开办{names}，为快递企业代收代投快件，属于快递末端网点：由合作的快递企业在开始经营之日起20日内向邮政管理部门备案，您须提供场所和负责人信息。", "kdztl", "快递暂行条例第19条：快递末端网点自开办之日起20日内向所在地邮政管理部门备案。")
_tagged("express_business_license", "express_company", "您以自己名义经营快递业务（{names}），须取得邮政管理部门的快递业务经营许可。", "yzf", "邮政法第51条：经营快递业务须取得快递业务经营许可。")
_tagged("drainage_permit", "car_wash", "您经营{names}，洗车废水排入城镇排水管网，属于排水户，须领取污水排入排水管网许可证（排水许可）。", "psfl psxk", "城镇排水与污水处理条例第21条：排水户向城镇排水设施排放污水须领取排水许可证。")
_tagged("vehicle_repair_filing", "vehicle_repair", "您从事{names}，办好营业执照后须向县级交通运输部门办理机动车维修经营备案。", "jdcwx", "道路运输条例：机动车维修经营登记后向县级交通运输主管部门备案。")
_tagged("private_school_license", "school", "您举办{names}，须取得教育部门的民办学校办学许可证（面向义务教育阶段学生的学科类培训已停止新批）。", "mbjy sjgl", "民办教育促进法第12、18条：举办民办学校须经县级以上教育行政部门审批。")
_tagged("childcare_filing", "childcare", "您开办{names}，登记后须向县级卫生健康部门办理托育机构备案。", "tyjg", "托育机构登记和备案办法(试行)：托育机构登记后向县级卫生健康部门备案。")
_tagged("elderly_care_filing", "elderly_care", "您开办{names}，登记后即可开展服务，收住老年人后10个工作日内须向县级民政部门备案。", "lnqy yljg", "老年人权益保障法第43条、养老机构管理办法：养老机构登记后向民政部门备案。")
_tagged("used_car_filing", "used_car", "您从事{names}，取得营业执照后须向商务主管部门办理二手车经营主体备案。", "escl", "二手车流通管理办法：二手车经营主体取得营业执照后向商务主管部门备案。")
_tagged("recycling_filing", "recycling", "您从事{names}，取得营业执照后30日内须向商务主管部门备案；收购生产性废旧金属的还须15日内向县级公安机关备案。", "zszy", "再生资源回收管理办法第7、8条。")
_tagged("refined_oil_retail", "refined_oil", "您开办{names}，零售汽油柴油须取得设区的市级成品油零售经营批准证书。", "cpy", "国发〔2019〕6号：成品油零售经营资格审批下放至设区的市级人民政府。")
_tagged("hazardous_chemicals_license", "hazardous_chem", "您经营{names}，销售的产品属于危险化学品，须取得应急管理部门的危险化学品经营许可证。", "whp whp_jy", "危险化学品安全管理条例第33、35条：危险化学品经营实行许可制度。")
_tagged("pawn_license", "pawn", "您开办{names}，须取得典当经营许可证，再向公安机关申领特种行业许可证。", "ddgl", "典当管理办法：设立典当行须经批准取得典当经营许可证。")
_tagged("auction_license", "auction", "您开办{names}，从事拍卖业务须经省级商务主管部门审核批准。", "pmf", "拍卖法第11、12条。")
_tagged("security_service_license", "security_service", "您开办{names}，须取得公安机关的保安服务许可证。", "bafw", "保安服务管理条例第8、9条。")
_tagged("labor_dispatch_license", "labor_dispatch", "您经营{names}业务，须取得人力资源社会保障部门的劳务派遣经营许可（注册资本不少于200万元）。", "ldht lwpq", "劳动合同法第57条：经营劳务派遣业务须申请行政许可。")
_tagged("driving_school_filing", "driving_school", "您开办{names}，办好营业执照后须向县级交通运输部门办理机动车驾驶员培训备案。", "jpba", "道路运输条例：机动车驾驶员培训登记后向县级交通运输主管部门备案。")
_tagged("animal_epidemic_condition", "livestock", "您开办{names}，达到规模的动物饲养场须取得农业农村部门的动物防疫条件合格证。", "dwfy", "动物防疫法第25条：开办动物饲养场等须取得动物防疫条件合格证。")


@rule("drug_retail", reference="yp_law yp_84")
def drug_retail_licence(ctx: Ctx):
    """药品管理法第51、53条：零售药品须取得药品经营许可证(零售)；超市、便利店卖非处方药的也要办
    (同心一业一证附件1把它列在超市、便利店行业下)。"""
    if ctx.has("pharmacy"):
        return [f"您开办{ctx.names('pharmacy')}，零售药品须取得药品经营许可证（零售）。"]
    if ctx.has("food_retail") and ctx.fact("drugs"):
        return [f"您的{ctx.names('food_retail')}还要卖药品（含非处方药），须取得药品经营许可证（零售），并配备药学技术人员。"]
    return None


@rule("publication_retail", reference="cbgl cbsc")
def publication_retail_licence(ctx: Ctx):
    """出版管理条例第35条：从事出版物零售业务须取得出版物经营许可证(县级出版主管部门)；文具店不卖书报刊的不用办。"""
    if ctx.has("publication") or (ctx.has("stationery") and ctx.fact("books")):
        names = ctx.names("publication", "stationery")
        return [f"您经营{names}，零售图书、报刊、音像制品，须取得出版物经营许可证。"]
    return None


@not_needed("publication_retail", reference="cbgl")
def stationery_without_books(ctx: Ctx):
    """只卖文具、不卖图书报刊音像的，不需要出版物经营许可证。"""
    if ctx.has("stationery") and ctx.profile.books is False and not ctx.has("publication"):
        return "只卖文具、不卖图书报刊和音像制品，不需要出版物经营许可证。"
    return None


@rule("drainage_permit", reference="psfl psxk")
def drainage_advisory_for_catering(ctx: Ctx):
    """城镇排水与污水处理条例第21条把餐饮列为排水户；多地按名录管理小餐饮，只作提示(不列为必办)。"""
    if ctx.has("catering") and not ctx.has("car_wash"):
        ctx.advisories.append(f"按《城镇排水与污水处理条例》第二十一条，餐饮单位向城镇排水管网排放污水的须办排水许可；{ctx.region_name}是否对小型餐饮实行名录管理或告知承诺，请向当地排水主管部门确认。")
    return None


@rule("tobacco_retail", reference="yczmf_law yc_37")
def tobacco_retail_licence(ctx: Ctx):
    """烟草专卖法第16条：经营烟草制品零售业务须取得烟草专卖零售许可证。"""
    if ctx.fact("tobacco"):
        return ["您会零售卷烟、雪茄或电子烟等烟草制品，须取得烟草专卖零售许可证。"]
    return None


def _devices(ctx: Ctx) -> str:
    return ctx.fact("medical_devices") or "none"


@rule("device_class2_filing", reference="ylqx_tl ylqx_54 ylqx_mb")
def class2_device_filing(ctx: Ctx):
    """医疗器械监督管理条例第41条：经营第二类医疗器械向设区的市级药监部门备案；国家药监局目录所列
    产品(体温计、血压计、家用血糖仪、医用卫生口罩、轮椅等)免于经营备案。"""
    if _devices(ctx) in ("class2", "both"):
        return ["您销售第二类医疗器械（如制氧机、雾化器、理疗仪等不在免备案目录中的产品），须办理经营备案。"]
    return None


@not_needed("device_class2_filing", reference="ylqx_54 ylqx_mb")
def exempt_class2_devices(ctx: Ctx):
    """只卖免于经营备案目录中的二类器械(体温计、血压计、家用血糖仪、医用卫生口罩等)不用备案。"""
    if _devices(ctx) == "exempt":
        return "您卖的体温计、血压计、家用血糖仪、医用卫生口罩等在国家《免于经营备案的第二类医疗器械产品目录》中，不需要办理第二类医疗器械经营备案。"
    return None


@rule("device_class3_license", reference="ylqx_tl ylqx_54")
def class3_device_licence(ctx: Ctx):
    """医疗器械监督管理条例第42条：经营第三类医疗器械须取得经营许可。"""
    if _devices(ctx) in ("class3", "both"):
        return ["您销售第三类医疗器械（如隐形眼镜、注射器、植入类产品），须取得经营许可。"]
    return None


@rule("medical_institution", reference="ylgl ylgl_2022")
def medical_institution_licence(ctx: Ctx):
    """医疗机构管理条例：医院等须设置审批和执业登记；诊所实行备案(2022修订)。"""
    if ctx.has("hospital"):
        return [f"您开办{ctx.names('hospital')}，不属于诊所，须办理医疗机构执业登记（按规定须设置审批的一并办理）。"]
    if ctx.has("clinic"):
        return [f"您开办{ctx.names('clinic')}，诊所向县级卫生健康部门备案后即可执业。"]
    return None


@rule("maternal_infant_health", reference="mybjf mybjzx")
def maternal_infant_services(ctx: Ctx):
    """母婴保健法第32条：开展婚检、产前诊断、助产、结扎、终止妊娠等须取得许可。"""
    if ctx.has("clinic", "hospital") and ctx.fact("maternal"):
        return ["您开展助产、婚前检查、产前筛查、结扎或终止妊娠等母婴保健技术服务，须取得执业许可。"]
    return None


@rule("radiation_diagnosis", reference="fszl")
def radiation_diagnosis_licence(ctx: Ctx):
    """放射诊疗管理规定：使用X光机、CT、牙片机等开展诊疗须取得放射诊疗许可。"""
    if ctx.has("clinic", "hospital") and ctx.fact("radiation"):
        return ["您使用X光机、CT、牙片机等放射设备，须取得放射诊疗许可。"]
    return None


@rule("radiation_safety_license", reference="fsxtw_ab")
def radiation_safety_licence(ctx: Ctx):
    """放射性同位素与射线装置安全和防护条例第5、8条：使用射线装置的单位取得辐射安全许可证(生态环境部门)。"""
    if ctx.has("clinic", "hospital") and ctx.fact("radiation"):
        return ["使用X光机、牙片机、CT等射线装置，还须向生态环境部门申领辐射安全许可证（与放射诊疗许可是两张证）。"]
    return None


@rule("seed_business", reference="zzf zzxk")
def seed_licence(ctx: Ctx):
    """种子法第31、38条：生产或分装经营农作物种子须许可；只卖不再分装的包装种子只需备案。"""
    if not ctx.has("seed"):
        return None
    if ctx.fact("seed_repack"):
        return ["您生产或分装农作物种子，须取得农作物种子生产经营许可证。"]
    return None


@rule("seed_sales_filing", reference="zzf_ba")
def packaged_seed_sales_filing(ctx: Ctx):
    """种子法第38条：只经营不再分装的包装种子的，不办许可证，但向当地农业农村部门备案。"""
    if ctx.has("seed") and not ctx.fact("seed_repack"):
        return ["您只卖厂家包装好、不再分装的种子，不需要种子生产经营许可证，但须向县级农业农村部门备案。"]
    return None


FREIGHT_EXEMPT = "road_freight_exempt_max_t"  # data/catalog/parameters.yaml (道路运输条例)


@rule("road_freight", reference="dlys hyzc")
def road_freight_licence(ctx: Ctx):
    """道路运输条例第22、24条：用总质量超过4.5吨(parameters.yaml)的普通货车从事营业性运输须许可。"""
    limit = ctx.param(FREIGHT_EXEMPT)
    if not ctx.has("freight"):
        if ctx.profile.vehicle_weight_t is not None and ctx.profile.vehicle_weight_t > limit:
            ctx.advisories.append(f"用自有的{ctx.profile.vehicle_weight_t:g}吨货车运自己的货不需要道路运输经营许可；如替别人运货收运费，属于营业性道路货运，须办道路运输经营许可证。")
        return None
    weight = ctx.profile.vehicle_weight_t
    if weight is None:
        ctx.assumed.add("vehicle_weight_t")
        return [f"从事营业性道路货运：如使用总质量超过{limit:g}吨的货车，须取得道路运输经营许可证（车辆尚未确认）。"]
    if weight > limit:
        return [f"您的货车总质量约{weight:g}吨，超过{limit:g}吨，从事营业性货运须取得道路运输经营许可证和车辆营运证。"]
    return None


@not_needed("road_freight", reference="dlys hyzc")
def light_trucks_need_no_freight_licence(ctx: Ctx):
    """总质量4.5吨(parameters.yaml)及以下普通货车从事普通货运无需道路运输经营许可。"""
    limit = ctx.param(FREIGHT_EXEMPT)
    weight = ctx.profile.vehicle_weight_t
    if ctx.has("freight") and weight is not None and weight <= limit:
        return f"货车总质量{weight:g}吨，不超过{limit:g}吨，从事普通货运不需要道路运输经营许可证和车辆营运证。"
    return None


@rule("outdoor_ad_large", reference="srhw")
def large_outdoor_ad(ctx: Ctx):
    """城市市容和环境卫生管理条例第11条：设置大型户外广告须经城管部门同意。"""
    if ctx.fact("outdoor_ad"):
        return ["您要设置大型户外广告（楼顶、墙面大型广告牌或电子屏），须经城市管理部门审批。"]
    return None
