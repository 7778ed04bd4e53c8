"""告知承诺 and 容缺受理, read from the catalog.

* 告知承诺: an item whose mode (national or the region's) is ``commitment`` may be handled
  by a signed commitment letter instead of proving the conditions first; the letter
  lists the item's conditions with the documents they come from (国办发〔2020〕42号).
* 容缺受理: a material that is itself the licence of another item applied for in the
  same bundle (the 营业执照 for every permit, the 娱乐经营许可证 for the police filing …)
  may follow: the department accepts now and the material is supplied — or fetched by
  data sharing — once issued (中山、阳江 方案「需要先行办理其他许可证的…原则上实行容缺受理」)."""
from __future__ import annotations

from datetime import date, timedelta

# material key -> the item whose result it is
PREREQUISITES = {
    "business_license": "business_registration",
    "entertainment_license_copy": "entertainment_venue",
    "medical_institution_license": "medical_institution",
}
CONSEQUENCE = ("申请人作出不实承诺或者未履行承诺的，审批部门依法撤销许可决定、责令限期整改，"
               "并将失信情况记入信用记录；对违法失信主体，不得再以告知承诺方式办理。")
CONSEQUENCE_SRC = "gbf_2020_42"


def _source_titles(catalog, item, keys: list[str]) -> list[str]:
    out = []
    for k in keys:
        src = catalog.source(item, k)
        if src is not None:
            out.append(src.title + (f"（{src.ref}）" if src.ref else ""))
    return out


def commitment_options(catalog, bundle: dict) -> list[dict]:
    """Every item of the bundle with whether the applicant may choose 告知承诺 for it."""
    out = []
    for it in bundle.get("items", []):
        item = catalog.items.get(it["code"])
        eligible = it.get("mode") == "commitment"
        why = item.commitment.text if item and item.commitment else (
            "本事项实行告知承诺，可自主选择。" if eligible else "本事项不实行告知承诺，按普通程序办理。")
        out.append({"code": it["code"], "name": it["name"], "eligible": eligible, "why": why})
    return out


def commitment_letter(catalog, code: str, region: str | None, *, applicant: str | None = None,
                      business: str | None = None, address: str | None = None) -> dict:
    """The content of a 告知承诺书 for one item: what the applicant commits to, each with its source."""
    item = catalog.items[code]
    ri = catalog.region_item(region, code)
    commitments = []
    for group, facts in item.conditions.items():
        for f in facts:
            commitments.append({"group": group, "text": f.text, "sources": _source_titles(catalog, item, f.src),
                                "inferred": f.inferred})
    basis = [{"text": f.text, "sources": _source_titles(catalog, item, f.src)} for f in item.legal_basis]
    policy = None
    if item.commitment:
        policy = {"text": item.commitment.text, "sources": _source_titles(catalog, item, item.commitment.src)}
    consequence_src = catalog.sources.get(CONSEQUENCE_SRC)
    return {
        "code": code,
        "name": (ri.local_name if ri and ri.local_name else None) or item.name,
        "department": (ri.department if ri and ri.department else None) or item.department,
        "applicant": applicant,
        "business": business,
        "address": address,
        "commitments": commitments,
        "legal_basis": basis,
        "policy": policy,
        "consequence": CONSEQUENCE,
        "consequence_source": consequence_src.title if consequence_src else None,
    }


def rongque_list(catalog, bundle: dict, *, submitted_on: date | None = None, days: int = 30,
                 shared: set[str] | None = None) -> list[dict]:
    """Materials allowed to follow (容缺), with their deadline.  ``shared``: material keys
    the departments fetch by data sharing (e.g. a held 营业执照) — nothing to supply."""
    submitted_on = submitted_on or date.today()
    shared = shared or set()
    codes = {it["code"] for it in bundle.get("items", []) + bundle.get("startup_steps", [])}
    names = {it["code"]: it["name"] for it in bundle.get("items", []) + bundle.get("startup_steps", [])}
    out = []
    for it in bundle.get("items", []):
        item = catalog.items.get(it["code"])
        if item is None:
            continue
        for m in item.materials:
            source_item = PREREQUISITES.get(m.key)
            if source_item and source_item in codes and source_item != it["code"] and m.key not in shared:
                out.append({
                    "item": it["code"], "item_name": it["name"], "material_key": m.key, "material": m.name,
                    "because": f"{names[source_item]}与本事项同时办理，发证后补交（部门间共享的可自动获取）。",
                    "deadline": (submitted_on + timedelta(days=days)).isoformat(),
                })
    return out
