"""一表申请: merge the application forms of a bundle's items into one form.

Each item lists the keys of the shared field dictionary its form asks for; the
merged form holds every field once, remembers which items need it, and fills
what the intake already knows (area, rooms, address …)."""
from __future__ import annotations

from knowledge_base.catalog.loader import Catalog
from knowledge_base.rules.profile import Profile

GROUP_TITLES = {
    "subject": "主体信息",
    "site": "场所信息",
    "people": "人员信息",
    "business": "经营信息",
    "item": "事项专项信息",
}


def merge_form(catalog: Catalog, codes: list[str], profile: Profile, values: dict | None = None) -> dict:
    values = values or {}
    order: list[str] = []
    needed_by: dict[str, list[str]] = {}
    total_requested = 0
    for code in codes:
        item = catalog.items.get(code)
        if not item:
            continue
        for key in item.form_fields:
            total_requested += 1
            if key not in needed_by:
                order.append(key)
                needed_by[key] = []
            needed_by[key].append(code)
    prof = profile.model_dump()
    prof["activities_text"] = "、".join(catalog.industries[a].name for a in profile.activities if a in catalog.industries) or None
    fields = []
    for key in order:
        spec = catalog.fields.get(key)
        if spec is None:
            continue
        value = values.get(key)
        prefilled_from = None
        if value is None and spec.profile_key and prof.get(spec.profile_key) is not None:
            value = prof[spec.profile_key]
            prefilled_from = "intake"
        fields.append({
            "key": key,
            "label": spec.label,
            "group": spec.group,
            "type": spec.type,
            "choices": spec.choices,
            "hint": spec.hint,
            "value": value,
            "prefilled_from": prefilled_from,
            "required_by": needed_by[key],
        })
    sections = []
    for group, title in GROUP_TITLES.items():
        keys = [f["key"] for f in fields if f["group"] == group]
        if keys:
            sections.append({"group": group, "title": title, "fields": keys})
    return {
        "type": "form",
        "title": "一照通行 一表申请",
        "items": list(codes),
        "fields": fields,
        "sections": sections,
        "stats": {
            "fields_in_separate_forms": total_requested,
            "fields_in_merged_form": len(fields),
            "duplicates_removed": total_requested - len(fields),
            "prefilled": sum(1 for f in fields if f["value"] is not None),
        },
    }
