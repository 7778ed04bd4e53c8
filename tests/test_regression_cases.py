"""Regression cases as data (tests/cases/*.yaml): exact codes that must and must not appear."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge_base.rules.profile import Profile

CASES_DIR = Path(__file__).parent / "cases"


def _cases():
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for i, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            yield pytest.param(case, id=f"{path.stem}-{i}-{case.get('name') or case.get('text')}")


@pytest.mark.parametrize("case", list(_cases()))
def test_case(case, intake):
    if "text" in case:
        result = intake.describe(case["text"], case.get("region"))
        for key, value in case.get("expect_profile", {}).items():
            assert result["profile"][key] == value, (key, result["profile"])
    else:
        result = intake.resolve(Profile.model_validate(case["profile"]))
    bundle = result["bundle"]
    codes = {it["code"] for it in bundle["items"]}
    assert set(case.get("must", [])) <= codes, f"missing {set(case['must']) - codes}; got {sorted(codes)}"
    assert not set(case.get("must_not", [])) & codes, f"unexpected {set(case['must_not']) & codes}"
    if case.get("empty"):
        assert codes == set()
    if case.get("final"):
        assert bundle["final"] and result["questions"] == [], result["questions"]
    if "startup" in case:
        assert [s["code"] for s in bundle["startup_steps"]] == case["startup"]
    if "startup_requested" in case:
        assert [s["code"] for s in bundle["startup_steps"] if s["requested"]] == case["startup_requested"]
    if "coverage" in case:
        assert bundle["coverage"] == case["coverage"], (bundle["coverage"], bundle["unrecognized"])
    if "unrecognized" in case:
        assert bundle["unrecognized"] == case["unrecognized"]
    if case.get("not_empty"):
        assert codes, "a regulated trade must not get an empty list"
    if case.get("not_empty_or_partial") or case.get("not_empty"):
        assert codes or bundle["coverage"] != "known", "准入即准营 said of a trade not known to need nothing"
    if "summary_has" in case:
        assert case["summary_has"] in bundle["summary"], bundle["summary"]
    asked = [q["key"] for q in result["questions"]]
    assert set(case.get("asks", [])) <= set(asked), asked
    assert not set(case.get("not_asks", [])) & set(asked), asked
    items = {it["code"]: it for it in bundle["items"]}
    for code, words in case.get("department", {}).items():
        assert words in items[code]["department"], items[code]["department"]
    for code, words in case.get("why", {}).items():
        assert words in "".join(items[code]["why"]), items[code]["why"]
    if "rule_doc" in case:
        from knowledge_base.rules.engine import load_rules

        rules, _ = load_rules()
        for code, words in case["rule_doc"].items():
            assert any(words in r.doc for r in rules if r.code == code)
    for item in bundle["items"]:
        assert item["why"] and all(isinstance(w, str) and w for w in item["why"])
        assert item["legal_basis"]
