"""一表申请: merge the application forms of a bundle's items into one form.

Each item lists the keys of the shared field dictionary its form asks for; the
merged form holds every field once, remembers which items need it, and fills what
is already known — from the conversation and, when given, from the verified
identity, the licence registry and earlier applications — saying for every value
where it came from (``source``) and whether it is ``verified``.  Every field stays
editable: a value the applicant changed is theirs (``source: applicant``)."""
from __future__ import annotations

from knowledge_base.catalog.loader import Catalog
from knowledge_base.forms.prefill import SOURCE_LABELS, Prefill, intake_values, same_value
from knowledge_base.rules.profile import Profile

GROUP_TITLES = {
    "subject": "主体信息",
    "site": "场所信息",
    "people": "人员信息",
    "business": "经营信息",
    "item": "事项专项信息",
}
PRIORITY = ("registry", "identity", "intake", "history")


def merge_form(catalog: Catalog, codes: list[str], profile: Profile | dict, values: dict | None = None,
               prefill: list[Prefill] | None = None) -> dict:
    values = {k: v for k, v in (values or {}).items() if v not in (None, "")}
    prof = profile.model_dump() if isinstance(profile, Profile) else dict(profile)
    sources = {p.source: p for p in (prefill or [])}
    sources["intake"] = Prefill("intake", intake_values(catalog, prof))
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
    fields = []
    for key in order:
        spec = catalog.fields.get(key)
        if spec is None:
            continue
        known, source = None, None
        for name in PRIORITY:
            src = sources.get(name)
            if src is not None and src.values.get(key) not in (None, ""):
                known, source = src.values[key], name
                break
        value = known
        if key in values and not same_value(values[key], known):
            value, source = values[key], "applicant"
        fields.append({
            "key": key,
            "label": spec.label,
            "group": spec.group,
            "type": spec.type,
            "choices": spec.choices,
            "hint": spec.hint,
            "value": value,
            "source": source,
            "source_label": SOURCE_LABELS.get(source) if source else None,
            "verified": source in ("registry", "identity"),
            "editable": True,
            "prefilled_from": source if source != "applicant" else None,
            "required_by": needed_by[key],
        })
    sections = []
    for group, title in GROUP_TITLES.items():
        keys = [f["key"] for f in fields if f["group"] == group]
        if keys:
            sections.append({"group": group, "title": title, "fields": keys})
    by_source = {s: sum(1 for f in fields if f["source"] == s) for s in (*PRIORITY, "applicant")}
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
            "prefilled": sum(1 for f in fields if f["value"] is not None and f["source"] != "applicant"),
            "prefilled_by_source": {k: v for k, v in by_source.items() if k != "applicant"},
            "verified": sum(1 for f in fields if f["verified"]),
            "typed": by_source["applicant"],
            "empty": sum(1 for f in fields if f["value"] is None),
        },
    }
