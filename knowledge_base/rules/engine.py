"""From a profile to a bundle (一次告知) and the questions still worth asking.

Three honest outcomes for every described activity (``Bundle.coverage``):
known and covered by the rules; known but only partly covered (``to_confirm`` says
what to confirm at the window); not known (``unrecognized`` holds the words, and a
person takes over).  "No permit needed" (准入即准营) is said only when every activity
is known and its rules give nothing.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from knowledge_base.catalog.loader import Catalog
from knowledge_base.catalog.models import MODE_LABELS, Item
from knowledge_base.rules import questions as Q
from knowledge_base.rules.base import EXCLUSIONS, RULES, Ctx
from knowledge_base.rules.bundle import (Bundle, BundleItem, IntakeResult, MergedMaterial, NotRequired, Question,
                                         QuestionOption, TimeFigures)
from knowledge_base.rules.profile import Profile

RULE_MODULES = ("knowledge_base.rules.food", "knowledge_base.rules.venues", "knowledge_base.rules.trade")
STARTUP_ORDER = ("business_registration", "company_seal", "bank_account", "tax_invoice", "social_insurance", "housing_fund")


def load_rules():
    for mod in RULE_MODULES:
        importlib.import_module(mod)
    return RULES, EXCLUSIONS


@dataclass
class Evaluation:
    codes: dict[str, list[str]]  # code -> reasons (ordered as rules fired)
    rules: dict[str, list[str]]  # code -> rule names
    not_required: dict[str, str]
    advisories: list[str]
    assumed: set[str]


def province_short(province: str) -> str:
    for suffix in ("回族自治区", "维吾尔自治区", "壮族自治区", "自治区", "省", "市"):
        if province.endswith(suffix):
            return province[: -len(suffix)]
    return province


class Engine:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.rules, self.exclusions = load_rules()

    # -- evaluation ------------------------------------------------------
    def evaluate(self, profile: Profile) -> Evaluation:
        ctx = Ctx(profile, self.catalog)
        codes: dict[str, list[str]] = {}
        fired: dict[str, list[str]] = {}
        for r in self.rules:
            if r.regions and profile.region not in r.regions:
                continue
            why = r.fn(ctx)
            if why:
                codes.setdefault(r.code, []).extend(w for w in why if w not in codes.get(r.code, []))
                fired.setdefault(r.code, []).append(r.name)
        not_required = {}
        for ex in self.exclusions:
            if ex.code in codes:
                continue
            text = ex.fn(ctx)
            if text:
                not_required.setdefault(ex.code, text)
        advisories = list(dict.fromkeys(ctx.advisories))
        return Evaluation(codes, fired, not_required, advisories, set(ctx.assumed))

    # -- questions -------------------------------------------------------
    def _package_lists(self, region: str | None, activity: str, code: str) -> bool:
        pack = self.catalog.regions.get(region or "")
        return bool(pack) and any(activity in p.activities and code in p.items for p in pack.packages)

    def _candidates(self, profile: Profile) -> list[str]:
        keys: list[str] = []
        if profile.region is None:
            keys.append("region")
        acts = [self.catalog.industries[a] for a in profile.activities if a in self.catalog.industries]
        if not acts and not profile.unrecognized:
            keys.append("activities")
        for act in acts:
            for k in act.asks:
                if getattr(profile, k, None) is not None or k in act.defaults:
                    continue
                spec = Q.SPECS.get(k)
                if spec and spec.only_if_package and not self._package_lists(profile.region, act.key, spec.only_if_package):
                    continue
                keys.append(k)
        return [k for k in Q.ORDER if k in keys]

    def _with(self, profile: Profile, key: str, value) -> Profile:
        data = profile.model_dump()
        if isinstance(value, dict):  # an option that answers several keys at once
            data.update(value)
        else:
            data[key] = value
        return Profile.model_validate(data)

    def region_options(self) -> list[tuple[str, str]]:
        return [(f"{province_short(r.province)}{r.short}", r.code) for r in self.catalog.regions.values()]

    def questions(self, profile: Profile) -> list[Question]:
        out: list[Question] = []
        for word, keys in profile.candidates.items():  # «您说的是 A 还是 B？»
            out.append(self._which_activity(profile, word, keys))
        for key in self._candidates(profile):
            if key == "region":  # always needed: without them there is no bundle to speak of
                out.append(self._question(profile, key, self.region_options(), {}))
                continue
            if key == "activities":
                out.append(self._question(profile, key, [(o.title, o.value) for o in Q.ACTIVITY_OPTIONS], {}))
                continue
            if key in Q.THRESHOLDS:
                options, outcomes = self._ranges(profile, key)
                if options:
                    out.append(self._question(profile, key, options, outcomes))
                continue
            variants = [(o.title, o.value) for o in Q.SPECS[key].options]
            outcomes = {title: frozenset(self.evaluate(self._with(profile, key, v)).codes) for title, v in variants}
            if len(set(outcomes.values())) > 1:  # only an answer that can change the bundle is worth asking
                out.append(self._question(profile, key, variants, outcomes))
        return out

    def _ranges(self, profile: Profile, key: str):
        """The ranges between thresholds, neighbours that give the same bundle joined,
        so the options are only the thresholds that matter here (e.g. just 150㎡ for a
        同心 小餐饮).  Empty when every range gives the same bundle."""
        suffix, unit = Q.THRESHOLDS[key]
        thresholds = sorted({v for name, v in self.catalog.thresholds(profile.region).items() if name.endswith(suffix)})
        if not thresholds:
            return [], {}
        bounds = [None, *thresholds, None]
        ranges = []  # (lo, hi, representative value, codes)
        for lo, hi in zip(bounds, bounds[1:]):
            value = hi if hi is not None else Q.above(lo, key)  # "以下" includes the bound itself
            codes = frozenset(self.evaluate(self._with(profile, key, value)).codes)
            if ranges and ranges[-1][3] == codes:
                ranges[-1] = (ranges[-1][0], hi, ranges[-1][2], codes)
            else:
                ranges.append((lo, hi, value, codes))
        if len(ranges) == 1:
            return [], {}  # every range gives the same bundle: nothing to ask
        options, outcomes = [], {}
        for lo, hi, value, codes in ranges:
            if lo is None:
                title = f"{hi:g}{unit}及以下"
            elif hi is None:
                title = f"{lo:g}{unit}以上"
            else:
                title = f"{lo:g}到{hi:g}{unit}"
            options.append((title, value))
            outcomes[title] = codes
        return options, outcomes

    def _which_activity(self, profile: Profile, word: str, keys: list[str]) -> Question:
        names = [self.catalog.industries[k].name for k in keys if k in self.catalog.industries]
        rest = [w for w in profile.unrecognized if w != word]
        others = {k: v for k, v in profile.candidates.items() if k != word}
        options = [
            QuestionOption(title=self.catalog.industries[k].name, value=k,
                           payload=Q.shortcut({"activities": [*profile.activities, k], "unrecognized": rest, "candidates": others}))
            for k in keys if k in self.catalog.industries
        ]
        options.append(QuestionOption(title="都不是", value=None, payload=Q.shortcut({"candidates": others})))
        return Question(
            key="activities",
            text=f"您说的「{word}」，是{'还是'.join(names)}？",
            why="要办哪些证由经营项目决定，我需要先确认是哪一种",
            example="点选一项，或换个说法说说具体卖什么、做什么",
            consequence="",
            reask=f"「{word}」我不太确定指的是哪一种。要办哪些证由经营项目决定：请点选最接近的一项；都不是的话，换个说法说说具体卖什么、做什么。",
            options=options,
        )

    def _question(self, profile: Profile, key: str, variants, outcomes: dict) -> Question:
        spec = Q.SPECS[key]
        consequence = self._consequence(profile, outcomes) if outcomes else ""
        reask = f"我问这个，是因为{spec.why}。{spec.example}。" if spec.example else f"我问这个，是因为{spec.why}。"
        return Question(
            key=key,
            text=spec.text,
            why=spec.why + "。",
            example=spec.example,
            consequence=consequence,
            reask=reask,
            options=[QuestionOption(title=t, payload=Q.payload(key, v), value=v) for t, v in variants],
        )

    def _item_name(self, region: str | None, code: str) -> str:
        ri = self.catalog.region_item(region, code)
        item = self.catalog.items.get(code)
        return (ri.local_name if ri and ri.local_name else None) or (item.name if item else code)

    def _consequence(self, profile: Profile, outcomes: dict[str, frozenset]) -> str:
        """What each answer would change: 「只卖包装好的：要办仅销售预包装食品备案；有散装或现做现卖：要办食品经营许可证」."""
        common = frozenset.intersection(*outcomes.values())
        grouped: dict[frozenset, list[str]] = {}
        for title, codes in outcomes.items():
            grouped.setdefault(codes - common, []).append(title)
        parts = []
        for extra, titles in grouped.items():
            head = "或".join(titles)
            if extra:
                names = "、".join(self._item_name(profile.region, c) for c in sorted(extra, key=list(self.catalog.items).index))
                parts.append(f"{head}：要办{names}")
            else:
                parts.append(f"{head}：不用另外办证")
        return "这会影响要办的证——" + "；".join(parts) + "。"

    # -- bundle ----------------------------------------------------------
    def resolve(self, profile: Profile) -> IntakeResult:
        ev = self.evaluate(profile)
        qs = self.questions(profile)
        return IntakeResult(profile=profile.model_dump(), bundle=self.bundle(profile, ev, final=not qs), questions=qs)

    def coverage(self, profile: Profile) -> tuple[str, list[str]]:
        """(coverage, what to confirm at the window)."""
        acts = [self.catalog.industries[a] for a in profile.activities if a in self.catalog.industries]
        to_confirm = [f.text for a in acts if a.coverage == "partial" for f in a.confirm]
        if profile.unrecognized or not acts:
            return "unknown", to_confirm
        return ("partial" if to_confirm else "known"), to_confirm

    def bundle(self, profile: Profile, ev: Evaluation, *, final: bool) -> Bundle:
        region = profile.region
        items = [self._bundle_item(self.catalog.items[c], profile, why, ev.rules[c]) for c, why in ev.codes.items() if c in self.catalog.items]
        order = {c: i for i, c in enumerate(self.catalog.items)}
        items.sort(key=lambda it: (it.kind != "permit", order.get(it.code, 0)))
        startup, offered = self._startup(profile)
        days = [it.time_limit_days for it in items if it.time_limit_days is not None]
        not_required = [
            NotRequired(code=c, name=self._item_name(region, c), why=t) for c, t in ev.not_required.items()
        ]
        coverage, to_confirm = self.coverage(profile)
        pack = self.catalog.regions.get(region or "")
        district = self._district(profile)
        return Bundle(
            region=region,
            region_name=pack.name if pack else None,
            district=district.code if district else None,
            district_name=district.name if district else None,
            final=final,
            items=items,
            startup_steps=startup,
            startup_offered=offered,
            materials=self._merge_materials(items + startup),
            not_required=not_required,
            advisories=ev.advisories,
            assumed=sorted(ev.assumed) if not final else [],
            time=TimeFigures(
                parallel_days=max(days) if days else 0,
                sum_days=sum(days),
                note="并联办理按各事项法定时限中最长的计算；逐个办理为各时限之和(检验、检测、现场核查时间另计)。",
            ),
            summary=self._summary(profile, items, final, coverage, to_confirm),
            coverage=coverage,
            unrecognized=list(profile.unrecognized),
            to_confirm=to_confirm,
            handoff=coverage == "unknown" and bool(profile.unrecognized) and not profile.candidates,
        )

    def _startup(self, profile: Profile) -> tuple[list[BundleItem], list[str]]:
        """The business licence for a new business, and the 开办 steps the applicant asked for;
        the region's other 开办 steps are offered (办 together on request)."""
        pack = self.catalog.regions.get(profile.region or "")
        offered_by_region = list(pack.startup_steps) if pack else []
        wanted = ["business_registration"] if profile.new_business else []
        wanted += [s for s in profile.startup if s not in wanted]
        steps = []
        order = list(dict.fromkeys([*offered_by_region, *STARTUP_ORDER]))  # the region's own order first
        for code in sorted(wanted, key=order.index):
            if code not in self.catalog.items:
                continue
            requested = code in profile.startup
            why = ["您要求一并办理。"] if requested else ["新开办的市场主体先办营业执照。"]
            item = self._bundle_item(self.catalog.items[code], profile, why, ["startup"])
            steps.append(item.model_copy(update={"requested": requested}))
        offered = [c for c in offered_by_region if c not in wanted]
        return steps, offered

    def _summary(self, profile: Profile, items: list[BundleItem], final: bool, coverage: str, to_confirm: list[str]) -> str:
        pack = self.catalog.regions.get(profile.region or "")
        hotline = pack.hotline if pack else "12345"
        window = pack.window if pack else "政务服务中心导办窗口"
        names = "、".join(it.name for it in items)
        if profile.unrecognized:
            words = "、".join(f"「{w}」" for w in profile.unrecognized)
            head = f"{words}这个行业暂未收录，我没法确定要办哪些许可，所以不能告诉您“不用办证”。"
            known = f"已确定的有：{names}。" if items else ""
            tail = f"营业执照等开办事项可以先办；许可事项请拨打{hotline}或到{window}确认，这个行业已记下，会尽快补充。"
            return head + known + tail
        if not profile.activities:
            return "请先告诉我您打算经营什么。"
        confirm = "另有几项要到窗口确认（见“待确认”）。" if to_confirm else ""
        if not items:
            if coverage == "known":
                return "按您说的经营项目，不需要办理经营许可，领取营业执照后即可经营（准入即准营）。"
            return "按您说的情况，目前没有确定必须办的许可，但还有几项要到窗口确认（见“待确认”），确认前请不要当作“不用办证”。"
        head = f"需要办理{len(items)}项：{names}。" + confirm
        return head if final else head + "还有几个问题确认后结果才最终确定。"

    def _district(self, profile: Profile):
        pack = self.catalog.regions.get(profile.region or "")
        if not pack or not profile.district:
            return None
        return next((d for d in pack.districts if d.code == profile.district), None)

    def _department(self, item: Item, profile: Profile, ri) -> tuple[str, str | None]:
        """The office that handles the item: the applicant's county/district office for items
        the region pack marks county-level (阳江、晋中), else as the pack or the item lists it."""
        listed = (ri.department if ri and ri.department else None) or item.department
        level = ri.level if ri else None
        pack = self.catalog.regions.get(profile.region or "")
        if level != "county" or not pack or item.department_key not in pack.county_offices:
            return listed, level
        patterns = pack.county_offices[item.department_key]
        district = self._district(profile)
        if district is None:
            name = patterns["county"].format(name="所在县（市、区）", city=pack.name)
            return f"{name}（{pack.name}各县市区分别受理，按经营场所所在地）", level
        pattern = patterns.get(district.kind) or patterns["county"]
        return pattern.format(name=district.name, city=pack.name), level

    def _bundle_item(self, item: Item, profile: Profile, why: list[str], rules: list[str]) -> BundleItem:
        region = profile.region
        ri = self.catalog.region_item(region, item.code)
        mode = (ri.mode if ri and ri.mode else None) or item.mode
        inferred = item.time_limit.inferred or any(f.inferred for f in item.legal_basis)
        department, level = self._department(item, profile, ri)
        return BundleItem(
            code=item.code,
            name=(ri.local_name if ri and ri.local_name else None) or item.name,
            kind=item.kind,
            department=department,
            department_key=item.department_key,
            department_level=level,
            why=why,
            legal_basis=[f.text for f in item.legal_basis],
            mode=mode,
            mode_label=MODE_LABELS[mode],
            time_limit_days=item.time_limit.statutory_days,
            time_limit_unit=item.time_limit.unit,
            time_limit_text=item.time_limit.text,
            promised_days=(ri.promised_days if ri else None) or item.time_limit.promised_days,
            conditions={g: [f.text for f in facts] for g, facts in item.conditions.items()},
            materials=[m.name for m in item.materials],
            validity=item.validity.text if item.validity else None,
            fee=item.fee.text if item.fee else None,
            in_reform=ri is not None,
            region_note=ri.note if ri else None,
            inferred=inferred,
            rules=rules,
        )

    def _merge_materials(self, items: list[BundleItem]) -> list[MergedMaterial]:
        merged: dict[str, MergedMaterial] = {}
        for it in items:
            for m in self.catalog.items[it.code].materials:
                entry = merged.setdefault(m.key, MergedMaterial(key=m.key, name=m.name, for_items=[]))
                if it.code not in entry.for_items:
                    entry.for_items.append(it.code)
        return list(merged.values())
