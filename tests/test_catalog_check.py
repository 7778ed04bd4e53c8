"""The catalog check refuses dangling codes, missing sources and unknown items."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from knowledge_base.catalog.check import contract_codes, problems
from knowledge_base.catalog.loader import load_catalog

ROOT = Path(__file__).resolve().parent.parent


def _copy(tmp_path):
    shutil.copytree(ROOT / "data" / "catalog", tmp_path / "catalog")
    return tmp_path


def test_real_catalog_is_clean(catalog):
    contract = ROOT.parent / "shared" / "contract.md"
    assert problems(catalog, contract if contract.exists() else None) == []
    if contract.exists():
        assert set(contract_codes(contract)) <= set(catalog.items)


def test_every_region_has_its_pack(catalog):
    assert set(catalog.regions) == {"zhongshan", "yangjiang", "suixian", "jinzhong", "tongxin"}
    assert len(catalog.regions["tongxin"].packages) == 14
    assert len(catalog.regions["suixian"].packages) == 5
    zs = catalog.regions["zhongshan"]
    assert sum(ri.batch == "第一批" for ri in zs.items) == 17 and sum(ri.batch == "第二批" for ri in zs.items) == 20


def test_missing_source_is_reported(tmp_path):
    data = _copy(tmp_path)
    path = data / "catalog/items/tobacco_retail.yaml"
    item = yaml.safe_load(path.read_text(encoding="utf-8"))
    item["legal_basis"][0]["src"] = ["no_such_source"]
    path.write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    errs = problems(load_catalog(data))
    assert any("no_such_source" in e for e in errs)


def test_region_with_unknown_item_is_reported(tmp_path):
    data = _copy(tmp_path)
    path = data / "catalog/regions/zhongshan.yaml"
    region = yaml.safe_load(path.read_text(encoding="utf-8"))
    region["items"].append({"code": "made_up_permit", "src": ["seed_zhongshan"]})
    path.write_text(yaml.safe_dump(region, allow_unicode=True), encoding="utf-8")
    errs = problems(load_catalog(data))
    assert any("made_up_permit" in e for e in errs)


def test_dangling_form_field_and_removed_item(tmp_path):
    data = _copy(tmp_path)
    (data / "catalog/items/halal_food_permit.yaml").unlink()  # a region and a rule still name it
    path = data / "catalog/items/drug_retail.yaml"
    item = yaml.safe_load(path.read_text(encoding="utf-8"))
    item["form_fields"].append("no_such_field")
    path.write_text(yaml.safe_dump(item, allow_unicode=True), encoding="utf-8")
    errs = problems(load_catalog(data))
    assert any("no_such_field" in e for e in errs)
    assert any("halal_food_permit" in e and "region tongxin" in e for e in errs)
    assert any("halal_food_permit" in e and "rule" in e for e in errs)


def test_a_scope_sentence_takes_its_figures_from_the_thresholds_the_rules_read(tmp_path):
    """同心's scope sentence names nx_small_catering_max_m2 rather than writing 150: a changed threshold
    changes the sentence with the engine, and a name the region does not have is reported."""
    data = _copy(tmp_path)
    path = data / "catalog/regions/tongxin.yaml"
    region = yaml.safe_load(path.read_text(encoding="utf-8"))
    region["parameters"]["nx_small_catering_max_m2"] = 120
    path.write_text(yaml.safe_dump(region, allow_unicode=True), encoding="utf-8")
    cat = load_catalog(data)
    ri = cat.region_item("tongxin", "food_business_license")
    assert "超过120平米" in cat.region_scope("tongxin", ri) and "150" not in cat.region_scope("tongxin", ri)
    assert problems(cat) == []
    ri = next(r for r in region["items"] if r["code"] == "food_business_license")
    ri["scope"] = "在同心，超过{no_such_threshold:g}平米的办许可证。"
    path.write_text(yaml.safe_dump(region, allow_unicode=True), encoding="utf-8")
    errs = problems(load_catalog(data))
    assert any("tongxin.food_business_license" in e and "no_such_threshold" in e for e in errs)
