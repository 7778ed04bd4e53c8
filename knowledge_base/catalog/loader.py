"""Load and index the YAML catalog (items, regions, industries, fields, sources)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge_base.catalog.models import FormField, Item, Parameter, Region, Source
from knowledge_base.catalog.industries import Industry


@dataclass
class Catalog:
    items: dict[str, Item]
    regions: dict[str, Region]
    industries: dict[str, Industry]
    fields: dict[str, FormField]
    sources: dict[str, Source]
    parameters: dict[str, Parameter] = field(default_factory=dict)  # national thresholds
    root: Path | None = None
    _region_items: dict[str, dict[str, object]] = field(default_factory=dict, repr=False)

    def source(self, item: Item | Region, key: str) -> Source | None:
        return item.sources.get(key) or self.sources.get(key)

    def thresholds(self, region: str | None) -> dict[str, float]:
        """Every threshold that applies in ``region``: the national ones, overridden or
        extended by the region pack's ``parameters``."""
        out = {name: p.value for name, p in self.parameters.items()}
        if region in self.regions:
            out.update({k: float(v) for k, v in self.regions[region].parameters.items()})
        return out

    def region_scope(self, region: str, ri) -> str | None:
        """A region item's ``scope`` sentence with its thresholds filled in from the ones the rules
        read (``thresholds``), so the answer and the engine cannot disagree on a figure."""
        return ri.scope.format_map(self.thresholds(region)) if ri.scope else None

    def region_item(self, region: str | None, code: str):
        """The region's own listing of an item (local name, department), or None."""
        if region not in self.regions:
            return None
        if region not in self._region_items:
            self._region_items[region] = {ri.code: ri for ri in self.regions[region].items}
        return self._region_items[region].get(code)


def _read(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_catalog(data_dir: Path | str) -> Catalog:
    root = Path(data_dir) / "catalog"
    items = {}
    for path in sorted((root / "items").glob("*.yaml")):
        item = Item.model_validate(_read(path))
        items[item.code] = item
    regions = {}
    for path in sorted((root / "regions").glob("*.yaml")):
        region = Region.model_validate(_read(path))
        regions[region.code] = region
    industries = {}
    for raw in _read(root / "industries.yaml")["activities"]:
        ind = Industry.model_validate(raw)
        industries[ind.key] = ind
    fields = {k: FormField.model_validate(v) for k, v in (_read(root / "fields.yaml") or {}).items()}
    sources = {k: Source.model_validate(v) for k, v in (_read(root / "sources.yaml") or {}).items()}
    params_path = root / "parameters.yaml"
    parameters = {k: Parameter.model_validate(v) for k, v in ((_read(params_path) if params_path.exists() else None) or {}).items()}
    return Catalog(items=items, regions=regions, industries=industries, fields=fields, sources=sources,
                   parameters=parameters, root=root)
