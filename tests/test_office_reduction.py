"""The reduction report covers every package the seeds name and its figures hold together."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("reduction_report", ROOT / "scripts" / "reduction_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_seed_package_with_consistent_figures(catalog):
    rows = _script().rows(catalog)
    per_region = {}
    for r in rows:
        per_region[r["region"]] = per_region.get(r["region"], 0) + 1
        assert r["fields_after"] < r["fields_before"] and r["materials_after"] < r["materials_before"], r
        assert r["parallel_days"] <= r["sequential_days"], r
    assert per_region["同心县"] == 14 and per_region["睢县"] == 5 and per_region["中山市"] >= 5
    suixian = {r["package"]: r for r in rows if r["region"] == "睢县"}
    assert all(r["meets_materials"] for r in suixian.values())  # 材料压减三分之一: met by every 睢县 package


def test_prefill_counts_for_three_typical_bundles(catalog):
    pre = _script().prefill_counts(catalog, ROOT / "data")
    assert len(pre) == 3
    new, pharmacy, noodles = pre
    assert new["by_source"]["intake"] >= 3 and new["by_source"]["identity"] >= 3 and new["by_source"]["registry"] == 0
    assert pharmacy["by_source"]["registry"] >= 3 and any("药品经营许可证" in h for h in pharmacy["held"])
    assert any("清真食品准营证" in h for h in noodles["held"]) and "食品生产经营登记证核发" in noodles["items"]  # expired: renew
