"""From a profile to a bundle (一次告知) and the questions still worth asking."""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from knowledge_base.catalog.loader import Catalog
from knowledge_base.catalog.models import MODE_LABELS, Item
from knowledge_base.rules import questions as Q
from knowledge_base.rules.base import EXCLUSIONS, REGION_NAMES, RULES, Ctx
from knowledge_base.rules.profile import Profile

RULE_MODULES = ("knowledge_base.rules.food", "knowledge_base.rules.venues", "knowledge_base.rules.trade")


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
    def _candidates(self, profile: Profile) -> list[str]:
        keys: list[str] = []
        if profile.region is None:
            keys.append("region")
        acts = [self.catalog.industries[a] for a in profile.activities if a in self.catalog.industries]
        if not acts:
            keys.append("activities")
        for act in acts:
            for k in act.asks:
                if getattr(profile, k, None) is None and k not in act.defaults:
                    keys.append(k)
        return [k for k in Q.ORDER if k in keys]

    def _with(self, profile: Profile, key: str, value) -> Profile:
        data = profile.model_dump()
        data[key] = value
        return Profile.model_validate(data)

    def questions(self, profile: Profile) -> list[dict]:
        out = []
        for key in self._candidates(profile):
            if key == "region":  # always needed: without them there is no bundle to speak of
                out.append(self._question(key, [(o.title, o.value) for o in Q.REGION_OPTIONS]))
                continue
            if key == "activities":
                out.append(self._question(key, [(o.title, o.value) for o in Q.ACTIVITY_OPTIONS]))
                continue
            if key in Q.THRESHOLDS:
                options = self._ranges(profile, key)
                if options:
                    out.append(self._question(key, options))
                continue
            variants = [(o.title, o.value) for o in Q.SPECS[key].options]
            outcomes = {frozenset(self.evaluate(self._with(profile, key, v)).codes) for _, v in variants}
            if len(outcomes) > 1:  # only an answer that can change the bundle is worth asking
                out.append(self._question(key, variants))
        return out

    def _ranges(self, profile: Profile, key: str) -> list[tuple[str, object]]:
        """The ranges between thresholds, neighbours that give the same bundle joined,
        so the options are only the thresholds that matter here (e.g. just 150㎡ for a
        同心 小餐饮).  Empty when every range gives the same bundle."""
        thresholds, unit = Q.THRESHOLDS[key]
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
            return []  # every range gives the same bundle: nothing to ask
        out = []
        for lo, hi, value, _ in ranges:
            if lo is None:
                title = f"{hi:g}{unit}及以下"
            elif hi is None:
                title = f"{lo:g}{unit}以上"
            else:
                title = f"{lo:g}到{hi:g}{unit}"
            out.append((title, value))
        return out

    def _question(self, key: str, variants) -> dict:
        spec = Q.SPECS[key]
        return {
            "type": "question",
            "key": key,
            "text": spec.text,
            "why": spec.why,
            "options": [{"title": t, "payload": Q.payload(key, v), "value": v} for t, v in variants],
        }

    # -- bundle ----------------------------------------------------------
    def resolve(self, profile: Profile) -> dict:
        ev = self.evaluate(profile)
        qs = self.questions(profile)
        return {"profile": profile.model_dump(), "bundle": self.bundle(profile, ev, final=not qs), "questions": qs}

    def bundle(self, profile: Profile, ev: Evaluation, *, final: bool) -> dict:
        region = profile.region
        items = [self._bundle_item(self.catalog.items[c], region, why, ev.rules[c]) for c, why in ev.codes.items() if c in self.catalog.items]
        order = {c: i for i, c in enumerate(self.catalog.items)}
        items.sort(key=lambda it: (it["kind"] != "permit", order.get(it["code"], 0)))
        startup = []
        if profile.new_business:
            steps = ["business_registration"]
            if region in self.catalog.regions:
                steps += [s for s in self.catalog.regions[region].startup_steps if s not in steps]
            for code in steps:
                if code in self.catalog.items:
                    startup.append(self._bundle_item(self.catalog.items[code], region, ["新开办的市场主体先办营业执照及开办事项。"], ["startup"]))
        days = [it["time_limit_days"] for it in items if it["time_limit_days"] is not None]
        materials = self._merge_materials(items + startup)
        not_required = [
            {"code": c, "name": self.catalog.items[c].name if c in self.catalog.items else c, "why": t}
            for c, t in ev.not_required.items()
        ]
        summary = self._summary(profile, items, final)
        return {
            "region": region,
            "region_name": REGION_NAMES.get(region or "", None),
            "final": final,
            "items": items,
            "startup_steps": startup,
            "materials": materials,
            "not_required": not_required,
            "advisories": ev.advisories,
            "assumed": sorted(ev.assumed) if not final else [],
            "time": {
                "parallel_days": max(days) if days else 0,
                "sum_days": sum(days),
                "note": "并联办理按各事项法定时限中最长的计算；逐个办理为各时限之和(检验、检测、现场核查时间另计)。",
            },
            "summary": summary,
        }

    def _summary(self, profile: Profile, items: list[dict], final: bool) -> str:
        if not profile.activities:
            return "请先告诉我您打算经营什么。"
        if not items:
            return "按您说的经营项目，不需要办理经营许可，领取营业执照后即可经营（准入即准营）。"
        names = "、".join(it["name"] for it in items)
        head = f"需要办理{len(items)}项：{names}。"
        return head if final else head + "还有几个问题确认后结果才最终确定。"

    def _bundle_item(self, item: Item, region: str | None, why: list[str], rules: list[str]) -> dict:
        ri = self.catalog.region_item(region, item.code)
        mode = (ri.mode if ri and ri.mode else None) or item.mode
        inferred = item.time_limit.inferred or any(f.inferred for f in item.legal_basis)
        return {
            "code": item.code,
            "name": (ri.local_name if ri and ri.local_name else None) or item.name,
            "kind": item.kind,
            "department": (ri.department if ri and ri.department else None) or item.department,
            "department_key": item.department_key,
            "why": why,
            "legal_basis": [f.text for f in item.legal_basis],
            "mode": mode,
            "mode_label": MODE_LABELS[mode],
            "time_limit_days": item.time_limit.statutory_days,
            "time_limit_unit": item.time_limit.unit,
            "time_limit_text": item.time_limit.text,
            "promised_days": (ri.promised_days if ri else None) or item.time_limit.promised_days,
            "conditions": {g: [f.text for f in facts] for g, facts in item.conditions.items()},
            "materials": [m.name for m in item.materials],
            "validity": item.validity.text if item.validity else None,
            "fee": item.fee.text if item.fee else None,
            "in_reform": ri is not None,
            "region_note": ri.note if ri else None,
            "inferred": inferred,
            "rules": rules,
        }

    def _merge_materials(self, items: list[dict]) -> list[dict]:
        merged: dict[str, dict] = {}
        for it in items:
            for m in self.catalog.items[it["code"]].materials:
                entry = merged.setdefault(m.key, {"key": m.key, "name": m.name, "for_items": []})
                if it["code"] not in entry["for_items"]:
                    entry["for_items"].append(it["code"])
        return list(merged.values())
