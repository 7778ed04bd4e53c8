"""Answer text: a direct sentence first, then the details and the source; the
region's office and note when a region is named or passed; a short text (≤ 140
characters) that staff can read out or send by SMS.

- ``direct_sentence(item, topic)`` (build time): one sentence that answers the topic's
  question as asked, from the item's own facts: 「不收费。」, 「法定10个工作日内办结。」,
  「由县级以上市场监督管理部门办理。」, 「有效期5年。」 …
- ``compose(...)`` (query time): the stored answer with the direct sentence made
  regional (「在睢县，由县市场监督管理局办理。」, 「阳江承诺5个工作日内办结」) and the
  region's note inserted before the source line.
"""
from __future__ import annotations

import re

SHORT_MAX = 140
UNIT = {"working_days": "个工作日", "days": "日", "immediate": ""}
KIND_LABELS = {"permit": "许可", "filing": "备案", "registration": "登记", "startup": "企业开办"}


def first_clause(text: str, limit: int = 70) -> str:
    """The first sentence (up to 「；」 or 「。」), cut at a comma if still too long."""
    text = re.sub(r"\s+", "", text or "")
    m = re.search(r"[；。;]", text)
    head = text[: m.start()] if m else text
    if len(head) > limit:
        cut = max(head.rfind("，", 0, limit), head.rfind(",", 0, limit))
        head = head[:cut] if cut > 10 else head[:limit]
    return head.rstrip("，,、：:") + "。"


def direct_sentence(item, topic: str) -> str | None:
    """One sentence answering ``topic`` for ``item`` (None when the item has no such fact)."""
    if topic == "scope":
        return first_clause(item.summary, 120)
    if topic == "general":
        kind = KIND_LABELS.get(item.kind, "许可")
        return first_clause(f"{item.name}是{kind}事项，{item.summary}", 120)
    if topic == "conditions":
        groups = [g for g, fs in item.conditions.items() if fs]
        if not groups:
            return None
        first = item.conditions[groups[0]][0].text
        return f"要满足{'、'.join(groups)}等方面的条件，例如{first_clause(first, 50)}"
    if topic == "materials":
        names = [m.name for m in item.materials]
        if not names:
            return None
        more = "等" if len(names) > 3 else ""
        return f"一般要交{len(names)}样材料：{'、'.join(names[:3])}{more}。"
    if topic == "time_limit":
        tl = item.time_limit
        if tl.unit == "immediate":
            return "当场办结（即办）。"
        if tl.statutory_days:
            promised = f"，承诺{tl.promised_days}{UNIT[tl.unit]}" if tl.promised_days else ""
            return f"法定{tl.statutory_days}{UNIT[tl.unit]}内办结{promised}。"
        return first_clause(tl.text)
    if topic == "department":
        return f"由{item.department}办理。"
    if topic == "process":
        return first_clause(item.process[0].text, 90) if item.process else None
    if topic == "commitment" and item.commitment is None:
        if item.mode == "commitment":
            return "按告知承诺办理（以当地清单为准）。"
        return "一般不按告知承诺办理，材料不全能否容缺受理以窗口为准。"
    fact = getattr(item, topic, None) if topic in ("fee", "validity", "commitment", "change") else None
    return first_clause(fact.text) if fact is not None else None


def _office(region: dict, item: dict | None, code: str, district: str | None) -> str | None:
    """The office that handles ``code`` in the region (the district's own when the
    region's list says county level and a district was named)."""
    ri = region["items"].get(code) or {}
    if ri.get("level") == "county" and district and item:
        d = region["districts"].get(district)
        pattern = (region.get("county_offices") or {}).get(item.get("department_key") or "", {})
        if d and pattern.get(d["kind"]):
            city = region["name"]
            return pattern[d["kind"]].format(name=d["name"], city=city)
    return ri.get("department")


def _get(entry, key: str):
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def regional(entry, topic: str, regions: dict, items: dict, region: str | None,
             district: str | None) -> tuple[str | None, str | None]:
    """(regional direct sentence or None, region note or None) for an item entry."""
    code = _get(entry, "item_code")
    if not region or not code or region not in regions:
        return None, None
    reg = regions[region]
    ri = reg["items"].get(code)
    if ri is None:
        return None, None
    office = _office(reg, items.get(code), code, district)
    place = reg["short"]
    if district and district in reg["districts"]:
        place = reg["districts"][district]["name"]
    direct = None
    if topic == "department" and office:
        direct = f"在{place}，由{office}办理。"
    elif topic == "time_limit" and ri.get("promised_days") is not None:
        direct = f"{reg['short']}承诺{ri['promised_days']}个工作日内办结。"
    elif topic == "scope" and ri.get("scope"):
        direct = ri["scope"]  # the region's own threshold, in place of the national sentence
    parts = []
    if ri.get("local_name"):
        parts.append(f"当地事项名称为「{ri['local_name']}」")
    if office:
        parts.append(f"由{office}办理")
    if ri.get("promised_days") is not None:
        parts.append(f"承诺{ri['promised_days']}个工作日内办结")
    if ri.get("note"):
        parts.append(ri["note"].rstrip("。"))
    note = f"{reg['name']}：" + "，".join(parts) + "。" if parts else None
    return direct, note


_TAIL = re.compile(r"^(来源：|（标注【推断】|（部分内容为推断)")


def compose(entry, *, regions: dict, items: dict, region: str | None = None,
            district: str | None = None) -> tuple[str, str, str]:
    """(answer, direct, short) for a hit (an entry or its dict), regional when a region is known."""
    answer = _get(entry, "answer")
    direct = _get(entry, "direct") or first_clause(answer.splitlines()[0] if answer else "", 90)
    reg_direct, note = regional(entry, _get(entry, "topic"), regions, items, region, district)
    if reg_direct:
        lines = answer.splitlines()
        if lines and lines[0].strip() == direct:
            lines[0] = reg_direct
        else:
            lines.insert(0, reg_direct)
        answer = "\n".join(lines)
        direct = reg_direct
    elif answer and not answer.startswith(direct):
        answer = f"{direct}\n{answer}"
    if note and note not in answer:
        lines = answer.splitlines()
        at = next((i for i, ln in enumerate(lines) if _TAIL.match(ln)), len(lines))
        lines.insert(at, note)
        answer = "\n".join(lines)
    return answer, direct, short_text(entry, direct, items, regions, region, district)


def short_text(entry, direct: str, items: dict, regions: dict, region: str | None,
               district: str | None) -> str:
    """≤ 140 characters to read out or send by SMS: what, the direct answer, where to ask."""
    code = _get(entry, "item_code")
    name = (items.get(code) or {}).get("short") or (items.get(code) or {}).get("name") if code else None
    text = f"{name}：{direct}" if name and name not in direct else direct
    if region and region in regions and code:
        office = _office(regions[region], items.get(code), code, district)
        if office and office not in text:
            text += f"（{regions[region]['short']}由{office}办理）"
    if _get(entry, "inferred"):
        text += "以窗口核实为准。"
    hotline = (regions.get(region) or {}).get("hotline") or "12345"
    tail = f"详询{hotline}。"
    if len(text) + len(tail) <= SHORT_MAX:
        return text + tail
    return text[: SHORT_MAX - 1] + "…"
