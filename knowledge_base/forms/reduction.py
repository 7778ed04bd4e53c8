"""How much 一表申请 and 并联审批 save for one bundle: fields and materials before and
after merging, sequential vs parallel statutory time (scripts/reduction_report.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge_base.forms.merge import merge_form

# a per-item application form (replaced by the one merged form): 「…申请书/申请表/登记表/备案表」
FORM = re.compile(r"(申请书|申请表|登记表|备案表)(\(.*\)|（.*）)?$")
SHARED_BY_DATA = {"business_license": "business_registration"}  # 营业执照: 一照通行 shares it with every department


@dataclass
class Reduction:
    items: list[str]
    fields_before: int
    fields_after: int
    materials_before: int
    materials_unique: int
    materials_after: int
    forms_replaced: int
    shared: int
    sequential_days: int
    parallel_days: int
    mixed_units: bool

    @property
    def fields_cut(self) -> float:
        return 1 - self.fields_after / self.fields_before if self.fields_before else 0.0

    @property
    def materials_cut(self) -> float:
        return 1 - self.materials_after / self.materials_before if self.materials_before else 0.0

    @property
    def time_cut(self) -> float:
        return 1 - self.parallel_days / self.sequential_days if self.sequential_days else 0.0


def is_form(name: str) -> bool:
    return bool(FORM.search(name)) and "和" not in name


def reduction(catalog, bundle: dict, profile) -> Reduction:
    steps = bundle.get("startup_steps", []) + bundle.get("items", [])
    codes = [it["code"] for it in steps]
    form = merge_form(catalog, codes, profile)
    before = 0
    unique: dict[str, str] = {}
    for code in codes:
        for m in catalog.items[code].materials:
            before += 1
            unique.setdefault(m.key, m.name)
    forms = {k for k, n in unique.items() if is_form(n)}
    shared = {k for k, src in SHARED_BY_DATA.items() if k in unique and src in codes}
    after = len(unique) - len(forms) - len(shared) + (1 if forms else 0)
    days = [it["time_limit_days"] for it in bundle.get("items", []) if it.get("time_limit_days") is not None]
    units = {it.get("time_limit_unit") for it in bundle.get("items", []) if it.get("time_limit_days") is not None}
    return Reduction(codes, form["stats"]["fields_in_separate_forms"], form["stats"]["fields_in_merged_form"], before, len(unique),
                     after, len(forms), len(shared), sum(days), max(days) if days else 0, len(units) > 1)
