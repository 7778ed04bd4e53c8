"""Every permit a region's own document lists for an industry (同心 一业一证 附件3,
睢县 证照联办 套餐) can come out of the intake for that industry: some combination
of answers to the questions the engine may ask yields it."""
from __future__ import annotations

import itertools

import pytest

from knowledge_base.rules import questions as Q
from knowledge_base.rules.profile import Profile

AREAS = [20, 30, 45, 60, 100, 150, 200, 800]


def reachable(intake, catalog, region: str, activity: str) -> set[str]:
    keys = [k for k in Q.ORDER if k in catalog.industries[activity].asks and k != "rooms"]
    if "entity_type" not in keys:
        keys.append("entity_type")
    values = []
    for k in keys:
        if k == "area_m2":
            values.append(AREAS)
        elif k == "vehicle_weight_t":
            values.append([3.0, 4.5, 10.0])
        else:
            values.append([o.value for o in Q.SPECS[k].options])
    codes: set[str] = set()
    for combo in itertools.product(*values):
        facts: dict = {}
        for k, v in zip(keys, combo):
            facts.update(v if isinstance(v, dict) else {k: v})  # an option may answer several keys
        profile = Profile(region=region, activities=[activity], **facts)
        codes |= set(intake.engine.evaluate(profile).codes)
    return codes


def _packages(catalog):
    for region in ("tongxin", "suixian"):
        for pkg in catalog.regions[region].packages:
            yield pytest.param(region, pkg, id=f"{region}-{pkg.key}")


def pytest_generate_tests(metafunc):
    if "package" in metafunc.fixturenames:
        from pathlib import Path

        from knowledge_base.catalog.loader import load_catalog

        catalog = load_catalog(Path(__file__).resolve().parent.parent / "data")
        metafunc.parametrize("region,package", list(_packages(catalog)))


def test_every_listed_permit_is_reachable(intake, catalog, region, package):
    codes: set[str] = set()
    for activity in package.activities:
        codes |= reachable(intake, catalog, region, activity)
    assert set(package.items) <= codes, f"{package.name}: never produced {sorted(set(package.items) - codes)}"
