#!/usr/bin/env python
"""Reduction report (issue 9): for every region package and industry the seeds name
(同心 一业一证's 14 industries, 睢县 证照联办's 5 packages, and the combinations a region
pack lists — 中山's 按需组合 when its pack has them, else the examples below, built from
its 第一批 items), the fields and materials before and after merging and the sequential
vs parallel statutory time, next to the seeds' own targets.  Then pre-filled field
counts for three typical bundles.

    .venv/bin/python scripts/reduction_report.py [--json]

How a package becomes a bundle: the package's activities, then every question the
engine still asks answered with the option that keeps most of the items the document
lists for the package (the document lists them 按需办理, so this is the package at its
fullest).  Materials "after" = distinct materials (same key once) − per-item application
forms (replaced by the one merged form, counted once) − the 营业执照 when it is issued in
the same bundle (shared by 一照通行, 免交).  Time = statutory limits of the permits:
sequential = their sum, parallel = the longest (inspection/testing time excluded)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge_base.catalog.loader import load_catalog  # noqa: E402
from knowledge_base.forms.reduction import reduction  # noqa: E402
from knowledge_base.rules.profile import Profile  # noqa: E402
from knowledge_base.settings import get_settings  # noqa: E402

# the seeds' own targets (材料压减, 时限压减); None where the seed names no figure
TARGETS = {
    "suixian": ("材料≥1/3（套餐≥50%）", 1 / 3, "时限≥1/2（并联≥85%）", 0.5),  # 002: 三分之一、50%；二分之一、85%
    "zhongshan": ("—", None, "复杂业务压缩50%", 0.5),  # 000: 对复杂业务按照压缩时限50%的目标
    "yangjiang": ("—", None, "—", None),
    "tongxin": ("减并材料（无数字）", None, "持续压减（无数字）", None),
    "jinzhong": ("—", None, "—", None),
}
# 中山: 按需组合 examples (its pack lists no combinations): (name, activities, answers)
ZHONGSHAN_COMBOS = [
    ("便利店+卖烟", ["convenience_store"], {"tobacco": True, "food_sales": "prepackaged", "area_m2": 40}),
    ("奶茶店", ["tea_drink"], {"area_m2": 40}),
    ("餐厅", ["restaurant"], {"area_m2": 300, "entertainment": False}),
    ("超市+烟+二类器械", ["supermarket"], {"tobacco": True, "medical_devices": "class2", "area_m2": 500}),
    ("宾馆+餐厅", ["hotel", "restaurant"], {"rooms": 40, "area_m2": 800}),
    ("药店+二类器械", ["pharmacy"], {"drugs": True, "medical_devices": "class2", "area_m2": 80}),
    ("KTV+酒吧", ["ktv", "bar"], {"area_m2": 400}),
]


def _with(profile: Profile, key: str, value) -> Profile:
    data = profile.model_dump()
    data[key] = value
    return Profile.model_validate(data)


def fullest(engine, profile: Profile, listed: set[str]) -> tuple[Profile, dict]:
    """Answer the open questions keeping most of the listed items (ties: the first option)."""
    for _ in range(12):
        res = engine.resolve(profile)
        qs = [q for q in res["questions"] if q["key"] not in ("region", "activities") and q.get("options")]
        if not qs:
            return profile, res["bundle"]
        q = qs[0]
        best, best_score = None, -1
        for opt in q["options"]:
            try:
                cand = _with(profile, q["key"], opt["value"])
            except Exception:  # noqa: BLE001 - an option the profile cannot hold
                continue
            codes = {it["code"] for it in engine.resolve(cand)["bundle"]["items"]}
            score = len(codes & listed)
            if score > best_score:
                best, best_score = cand, score
        if best is None:
            break
        profile = best
    return profile, engine.resolve(profile)["bundle"]


def rows(catalog) -> list[dict]:
    from api.intake.service import IntakeService

    engine = IntakeService(catalog)  # resolve() → plain dicts
    out = []
    for code, region in catalog.regions.items():
        cases = [(p.name, p.activities, {}, set(p.items)) for p in region.packages]
        if not cases and code == "zhongshan":
            cases = [(n, a, ans, set()) for n, a, ans in ZHONGSHAN_COMBOS]
        for name, acts, answers, listed in cases:
            profile = Profile.model_validate({"region": code, "activities": acts, **answers})
            profile, bundle = fullest(engine, profile, listed)
            r = reduction(catalog, bundle, profile)
            t = TARGETS.get(code, ("—", None, "—", None))
            out.append({
                "region": region.name, "package": name, "items": len(bundle["items"]), "startup": len(bundle["startup_steps"]),
                "fields_before": r.fields_before, "fields_after": r.fields_after, "fields_cut": round(r.fields_cut, 3),
                "materials_before": r.materials_before, "materials_after": r.materials_after, "materials_cut": round(r.materials_cut, 3),
                "sequential_days": r.sequential_days, "parallel_days": r.parallel_days, "time_cut": round(r.time_cut, 3),
                "mixed_units": r.mixed_units, "target_materials": t[0], "target_time": t[2],
                "meets_materials": None if t[1] is None else r.materials_cut >= t[1] - 1e-9,
                "meets_time": None if t[3] is None or not r.sequential_days else r.time_cut >= t[3] - 1e-9,
            })
    return out


def prefill_counts(catalog, data_dir: Path) -> list[dict]:
    """Three typical bundles, as the apply page fills them for a signed-in demo identity."""
    from api.intake.service import IntakeService
    from knowledge_base.forms.held import apply_held
    from knowledge_base.forms.merge import merge_form
    from knowledge_base.forms.prefill import Prefill, identity_values, licence_values
    from knowledge_base.registry.identity import LocalIdentityStore
    from knowledge_base.registry.licences import LocalLicenceRegistry

    demo = data_dir / "demo"
    ids, reg = LocalIdentityStore(demo / "identities.yaml"), LocalLicenceRegistry(demo / "licences.yaml")
    intake = IntakeService(catalog)
    cases = [
        ("中山 奶茶店（新办，陈小满）", "我想在中山开个奶茶店，四十平米，店名叫小满茶饮，地址中山市石岐区孙文中路1号", "442000199203150020", None),
        ("睢县 药店加二类器械（已有执照和药品证，李娜）", "睢县的康民大药房要加卖血压计这类二类医疗器械，八十平米，有3个员工", "410102198806120046",
         "92411422MA9K7L2Q3C"),
        ("同心 清真小餐馆（已有执照，马明）", "同心县开清真拉面馆，一百平米，店名同心县马明拉面馆，5个员工", "110101198501010033", "92640324MA76XK8D17"),
    ]
    out = []
    for name, text, idn, uscc in cases:
        res = intake.describe(text, None)
        profile = Profile.model_validate(res["profile"])
        ident = ids._by_id[idn][0]
        lics = reg.by_uscc(uscc) if uscc else []
        bl = next((x for x in lics if x.code == "business_registration"), None)
        bundle = apply_held(res["bundle"], lics) if lics else res["bundle"]
        codes = [it["code"] for it in bundle["startup_steps"] + bundle["items"]]
        pre = [Prefill("registry", licence_values(bl)),
               Prefill("identity", identity_values(ident, entity_type=profile.model_dump().get("entity_type"), has_licence=bl is not None))]
        form = merge_form(catalog, codes, profile, {}, pre)
        st = form["stats"]
        out.append({"bundle": name, "items": [it["name"] for it in bundle["items"]], "held": [f"{h['name']}：{h['text']}" for h in bundle.get("held", [])],
                    "fields": st["fields_in_merged_form"], "by_source": st["prefilled_by_source"], "prefilled": st["prefilled"],
                    "verified": st["verified"], "left": st["empty"], "open_questions": [q["key"] for q in res["questions"]]})
    return out


def pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def main(argv: list[str]) -> int:
    settings = get_settings()
    catalog = load_catalog(settings.data_dir)
    table = rows(catalog)
    pre = prefill_counts(catalog, settings.data_dir)
    if "--json" in argv:
        print(json.dumps({"reduction": table, "prefill": pre}, ensure_ascii=False, indent=1))
        return 0
    print("| 地区 | 行业/套餐 | 事项(+开办) | 字段 分表→一表 | 材料 分别→一套 | 时限 逐个→并联(法定,天) | 种子目标 材料 / 时限 |")
    print("|---|---|---|---|---|---|---|")
    for r in table:
        mark = lambda ok: "" if ok is None else (" ✓" if ok else " ✗")  # noqa: E731
        print(f"| {r['region']} | {r['package']} | {r['items']}(+{r['startup']}) | {r['fields_before']}→{r['fields_after']} (−{pct(r['fields_cut'])}) "
              f"| {r['materials_before']}→{r['materials_after']} (−{pct(r['materials_cut'])}){mark(r['meets_materials'])} "
              f"| {r['sequential_days']}→{r['parallel_days']} (−{pct(r['time_cut'])}){'*' if r['mixed_units'] else ''}{mark(r['meets_time'])} "
              f"| {r['target_materials']} / {r['target_time']} |")
    n = len(table)
    avg = lambda k: sum(r[k] for r in table) / n  # noqa: E731
    print(f"\n{n} packages: fields −{pct(avg('fields_cut'))}, materials −{pct(avg('materials_cut'))}, time −{pct(avg('time_cut'))} on average "
          "(* = working days and calendar days mixed; ✓/✗ against the seed's figure where it names one).")
    print("\n| 典型事项组合 | 一表字段 | 预填 (对话/实名/证照库) | 已核验 | 还要填 | 已持有 |")
    print("|---|---|---|---|---|---|")
    for p in pre:
        s = p["by_source"]
        print(f"| {p['bundle']} | {p['fields']} | {p['prefilled']} ({s['intake']}/{s['identity']}/{s['registry']}) | {p['verified']} | {p['left']} "
              f"| {'；'.join(p['held']) or '—'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
