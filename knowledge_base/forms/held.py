"""Licences already held: a valid held permit leaves the bundle (shown as
「已持有，有效期至…」); an expired one stays, with a note to renew it."""
from __future__ import annotations

import copy
from datetime import date


def apply_held(bundle: dict, licences: list, today: date | None = None) -> dict:
    """The bundle without what the business already holds, with ``held`` filled.
    ``licences``: the business's licences from the registry (Licence objects)."""
    today = today or date.today()
    out = copy.deepcopy(bundle)
    by_code: dict[str, object] = {}
    for lic in licences:
        best = by_code.get(lic.code)
        if best is None or lic.is_valid(today) and not best.is_valid(today):
            by_code[lic.code] = lic
    held: list[dict] = list(out.get("held") or [])
    removed: set[str] = set()
    for part in ("items", "startup_steps"):
        kept = []
        for it in out.get(part, []):
            lic = by_code.get(it["code"])
            if lic is not None and lic.is_valid(today):
                removed.add(it["code"])
                held.append({
                    "code": it["code"], "name": it["name"], "title": lic.title, "licence_no": lic.licence_no,
                    "holder": lic.holder, "valid_until": lic.valid_until.isoformat() if lic.valid_until else None,
                    "text": f"已持有，{lic.validity_text()}",
                })
                continue
            if lic is not None:
                until = lic.valid_until.isoformat() if lic.valid_until else ""
                it["held_note"] = f"已持有的{lic.title}({lic.licence_no})已于{until}到期或失效，需要重新办理或申请延续。"
            kept.append(it)
        out[part] = kept
    out["held"] = held
    if removed:
        mats = []
        for m in out.get("materials", []):
            m = dict(m, for_items=[c for c in m.get("for_items", []) if c not in removed])
            if m["for_items"]:
                mats.append(m)
        out["materials"] = mats
        days = [it["time_limit_days"] for it in out.get("items", []) if it.get("time_limit_days") is not None]
        out.setdefault("time", {}).update({"parallel_days": max(days) if days else 0, "sum_days": sum(days)})
        names = "、".join(h["name"] for h in held)
        todo = out.get("items", [])
        head = f"需要办理{len(todo)}项：{'、'.join(it['name'] for it in todo)}。" if todo else "您要办的许可都已持有，不需要再申请。"
        out["summary"] = f"{head}已持有：{names}。"
    return out
