"""Catalog queries for the API (regions, items, one item as a region lists it)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from api.exceptions import UnknownItem, UnknownRegion
from knowledge_base.catalog.loader import Catalog, load_catalog
from knowledge_base.catalog.models import MODE_LABELS
from knowledge_base.rules.profile import REGIONS


def check_region(region: str | None) -> str | None:
    if region is None or region == "":
        return None
    if region not in REGIONS:
        raise UnknownRegion(
            f"没有这个地区代码：{region[:40]}。可用的有：{'、'.join(REGIONS)}。",
            f"Unknown region '{region[:40]}'. Use one of: {', '.join(REGIONS)}.",
            {"allowed": list(REGIONS)},
        )
    return region


@dataclass
class CatalogService:
    catalog: Catalog

    @classmethod
    def load(cls, data_dir: Path) -> "CatalogService":
        return cls(load_catalog(data_dir))

    def regions(self) -> list[dict]:
        return [
            {"code": r.code, "name": r.name, "province": r.province, "reform": r.reform, "summary": r.summary,
             "item_count": len(r.items), "startup_steps": r.startup_steps,
             "packages": [{"key": p.key, "name": p.name, "items": p.items, "note": p.note} for p in r.packages],
             "hotline": r.hotline, "window": r.window}
            for r in self.catalog.regions.values()
        ]

    def items(self, region: str | None) -> list[dict]:
        region = check_region(region)
        if region:
            codes = [ri.code for ri in self.catalog.regions[region].items]
        else:
            codes = list(self.catalog.items)
        return [self._brief(self.catalog.items[c], region) for c in codes if c in self.catalog.items]

    def _brief(self, item, region):
        ri = self.catalog.region_item(region, item.code)
        mode = (ri.mode if ri and ri.mode else None) or item.mode
        return {
            "code": item.code,
            "name": (ri.local_name if ri and ri.local_name else None) or item.name,
            "kind": item.kind,
            "department": (ri.department if ri and ri.department else None) or item.department,
            "mode": mode,
            "mode_label": MODE_LABELS[mode],
            "time_limit_days": item.time_limit.statutory_days,
            "summary": item.summary,
            "batch": ri.batch if ri else None,
            "note": ri.note if ri else None,
        }

    def item(self, code: str, region: str | None) -> dict:
        region = check_region(region)
        item = self.catalog.items.get(code)
        if item is None:
            raise UnknownItem(f"没有这个事项代码：{code[:60]}。", f"Unknown item code '{code[:60]}'.")
        data = item.model_dump()
        data.update(self._brief(item, region))
        data["sources"] = {
            k: s.model_dump() for k in _src_keys(item) if (s := self.catalog.source(item, k)) is not None
        }
        data["listed_in_regions"] = [r.code for r in self.catalog.regions.values() if any(ri.code == code for ri in r.items)]
        return data


def _src_keys(item) -> list[str]:
    keys: list[str] = []

    def walk(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k == "src" and isinstance(v, list):
                    keys.extend(v)
                else:
                    walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(item.model_dump())
    return list(dict.fromkeys(keys))
