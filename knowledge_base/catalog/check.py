"""Catalog check: ``python -m knowledge_base.catalog.check [DATA_DIR]``.

Fails (exit 1) on a dangling code, a fact without a resolvable source, a region
or package naming an unknown item or activity, an unknown form field, a rule for
an item that does not exist, or a contract code missing from the catalog."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from knowledge_base.catalog.industries import TAGS
from knowledge_base.catalog.loader import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[2]


def contract_codes(contract: Path) -> list[str]:
    if not contract.exists():
        return []
    text = contract.read_text(encoding="utf-8")
    section = text.split("## Permit item codes", 1)[-1].split("## FAQ topics", 1)[0]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M)


def _walk_src(obj, path: str):
    if isinstance(obj, dict):
        if "src" in obj:
            yield path, obj["src"]
        for k, v in obj.items():
            if k != "src":
                yield from _walk_src(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk_src(v, f"{path}[{i}]")


def problems(catalog: Catalog, contract: Path | None = None) -> list[str]:
    errs: list[str] = []
    items = catalog.items
    for code, item in items.items():
        for path, keys in _walk_src(item.model_dump(exclude={"sources"}), code):
            for key in keys:
                if catalog.source(item, key) is None:
                    errs.append(f"{path}: source '{key}' is not defined")
        for key in item.form_fields:
            if key not in catalog.fields:
                errs.append(f"{code}.form_fields: unknown field '{key}'")
        if not item.legal_basis:
            errs.append(f"{code}: no legal basis")
    for rcode, region in catalog.regions.items():
        for ri in region.items:
            if ri.code not in items:
                errs.append(f"region {rcode}: unknown item '{ri.code}'")
            for key in ri.src:
                if catalog.source(region, key) is None:
                    errs.append(f"region {rcode}.{ri.code}: source '{key}' is not defined")
            try:
                catalog.region_scope(rcode, ri)
            except (KeyError, ValueError, IndexError) as e:
                errs.append(f"region {rcode}.{ri.code}: scope names no threshold of the region ({e})")
        for code in region.startup_steps:
            if code not in items:
                errs.append(f"region {rcode}: unknown start-up step '{code}'")
        for pkg in region.packages:
            for code in pkg.items:
                if code not in items:
                    errs.append(f"region {rcode} package {pkg.key}: unknown item '{code}'")
            for act in pkg.activities:
                if act not in catalog.industries:
                    errs.append(f"region {rcode} package {pkg.key}: unknown activity '{act}'")
            for key in pkg.src:
                if catalog.source(region, key) is None:
                    errs.append(f"region {rcode} package {pkg.key}: source '{key}' is not defined")
    for name, param in catalog.parameters.items():
        for key in param.src:
            if key not in catalog.sources:
                errs.append(f"parameter {name}: source '{key}' is not defined")
    errs += _activity_problems(catalog)
    errs += _region_problems(catalog)
    from knowledge_base.rules.engine import load_rules

    rules, exclusions = load_rules()
    for r in [*rules, *exclusions]:
        if r.code not in items:
            errs.append(f"rule {r.name}: item '{r.code}' is not in the catalog")
            continue
        if not r.reference or not r.doc:
            errs.append(f"rule {r.name}: missing reference or documentation")
        for key in r.reference.split():  # rule references are source keys
            if catalog.source(items[r.code], key) is None:
                errs.append(f"rule {r.name}: reference '{key}' is not a source of {r.code} or sources.yaml")
    if contract is not None:
        for code in contract_codes(contract):
            if code not in items:
                errs.append(f"contract code '{code}' has no catalog item")
    return errs


def _activity_problems(catalog: Catalog) -> list[str]:
    from knowledge_base.rules.profile import Profile
    from knowledge_base.rules.questions import SPECS

    errs = []
    seen: dict[str, str] = {}
    for ind in catalog.industries.values():
        for tag in ind.tags:
            if tag not in TAGS:
                errs.append(f"activity {ind.key}: unknown tag '{tag}'")
        for key in ind.asks:
            if key not in SPECS:
                errs.append(f"activity {ind.key}: asks '{key}', which no question covers")
        for key in [*ind.defaults, *ind.assume]:
            if key not in Profile.model_fields:
                errs.append(f"activity {ind.key}: default for unknown profile key '{key}'")
        facts = [*ind.confirm, *([ind.none_reason] if ind.none_reason else [])]
        for f in facts:
            for key in f.src:
                if key not in catalog.sources:
                    errs.append(f"activity {ind.key}: source '{key}' is not defined in sources.yaml")
        for word in [ind.name, *ind.synonyms]:
            if word in seen and seen[word] != ind.key:
                errs.append(f"activity {ind.key}: word '{word}' is also a synonym of {seen[word]}")
            seen.setdefault(word, ind.key)
    return errs


def _region_problems(catalog: Catalog) -> list[str]:
    from typing import get_args

    from knowledge_base.rules.profile import Profile

    errs = []
    codes = set(get_args(get_args(Profile.model_fields["region"].annotation)[0]))
    if codes != set(catalog.regions):
        errs.append(f"region codes in the profile {sorted(codes)} differ from the region packs {sorted(catalog.regions)}")
    owner: dict[str, str] = {}
    for rcode, region in catalog.regions.items():
        for key in region.county_offices_src:
            if catalog.source(region, key) is None:
                errs.append(f"region {rcode}: county_offices source '{key}' is not defined")
        if any(ri.level == "county" for ri in region.items) and not region.districts:
            errs.append(f"region {rcode}: county-level items but no districts")
        words = [region.name, region.short, *region.words] + [w for d in region.districts for w in (d.name, *d.words)]
        for w in words:
            if owner.setdefault(w, rcode) != rcode:
                errs.append(f"place word '{w}' is in both {owner[w]} and {rcode}")
    return errs


app = typer.Typer(add_completion=False)


@app.command()
def main(data_dir: Path = typer.Argument(ROOT / "data"), contract: Path = typer.Option(ROOT.parent / "shared" / "contract.md")):
    console = Console()
    catalog = load_catalog(data_dir)
    errs = problems(catalog, contract)
    table = Table(title="catalog")
    table.add_column("region")
    table.add_column("items", justify="right")
    table.add_column("packages", justify="right")
    for r in catalog.regions.values():
        table.add_row(r.code, str(len(r.items)), str(len(r.packages)))
    console.print(table)
    console.print(f"items: {len(catalog.items)}  activities: {len(catalog.industries)}  fields: {len(catalog.fields)}")
    if errs:
        for e in errs:
            console.print(f"[red]✗[/red] {e}")
        console.print(f"[red]{len(errs)} problem(s)[/red]")
        raise typer.Exit(1)
    console.print("[green]catalog ok[/green]")


if __name__ == "__main__":
    sys.exit(app())
