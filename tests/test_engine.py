"""The question engine asks only what can change the bundle; bundles carry reasons,
merged materials and time figures."""
from __future__ import annotations

from knowledge_base.rules.profile import Profile


def keys(result):
    return [q["key"] for q in result["questions"]]


def test_halal_only_asked_in_ningxia(intake):
    assert "halal" in keys(intake.resolve(Profile(region="tongxin", activities=["snack_bar"])))
    for region in ("zhongshan", "yangjiang", "suixian", "jinzhong"):
        assert "halal" not in keys(intake.resolve(Profile(region=region, activities=["snack_bar"])))


def test_area_asked_only_where_a_threshold_matters(intake):
    # 同心 小餐饮: 150㎡ decides registration vs licence
    q = intake.resolve(Profile(region="tongxin", activities=["snack_bar"], halal=False))["questions"]
    area = next(x for x in q if x["key"] == "area_m2")
    assert [o["title"] for o in area["options"]] == ["150平方米及以下", "150平方米以上"]
    # a KTV's bundle does not depend on area: never asked
    assert "area_m2" not in keys(intake.resolve(Profile(region="zhongshan", activities=["ktv"])))
    # 睢县 小经营店: only the 60㎡ of 河南小经营店登记 matters (no area threshold for the fire check)
    q = intake.resolve(Profile(region="suixian", activities=["snack_bar"]))["questions"]
    area = next(x for x in q if x["key"] == "area_m2")
    assert [o["title"] for o in area["options"]] == ["60平方米及以下", "60平方米以上"]


def test_answered_facts_are_not_asked_again(intake):
    r = intake.describe("同心县开清真小餐馆，大概一百平米")
    assert not {"region", "activities", "area_m2", "halal"} & set(keys(r))
    assert r["bundle"]["final"] is True


def test_no_permit_threshold_gives_empty_list(intake):
    r = intake.resolve(Profile(region="jinzhong", activities=["clothing"]))
    assert r["bundle"]["items"] == [] and r["questions"] == []
    assert "准入即准营" in r["bundle"]["summary"]
    assert [s["code"] for s in r["bundle"]["startup_steps"]] == ["business_registration"]


def test_question_payloads_are_rasa_shortcuts(intake):
    q = intake.resolve(Profile(region="zhongshan", activities=["convenience_store"]))["questions"][0]
    assert q["key"] == "food_sales"
    assert q["options"][0]["payload"] == '/inform{"food_sales": "prepackaged"}'


def test_bundle_merges_materials_and_times(intake):
    r = intake.resolve(Profile(region="tongxin", activities=["hotel"], food_sales="catering", halal=True))
    b = r["bundle"]
    keys_ = [m["key"] for m in b["materials"]]
    assert len(keys_) == len(set(keys_))
    shared = next(m for m in b["materials"] if m["key"] == "business_license")
    assert len(shared["for_items"]) >= 3  # one copy serves several items
    days = [it["time_limit_days"] for it in b["items"] if it["time_limit_days"]]
    assert b["time"]["parallel_days"] == max(days) and b["time"]["sum_days"] == sum(days)
    assert b["time"]["parallel_days"] < b["time"]["sum_days"]


def test_not_required_is_explained(intake):
    b = intake.resolve(Profile(region="zhongshan", activities=["restaurant"], area_m2=80, entertainment=False))["bundle"]
    nr = {n["code"]: n["why"] for n in b["not_required"]}
    assert "2016" in nr["public_place_hygiene"]


def test_region_listing_names_and_departments(intake):
    b = intake.resolve(Profile(region="zhongshan", activities=["convenience_store"], food_sales="prepackaged", tobacco=True, medical_devices="none"))["bundle"]
    filing = next(it for it in b["items"] if it["code"] == "food_prepackaged_filing")
    assert filing["name"].startswith("食品经营许可（仅销售预包装食品）") and filing["in_reform"]
    assert filing["mode"] == "filing"


def test_correction_recalculates(intake):
    first = intake.describe("同心开小吃店，100平米，不是清真")
    second = intake.describe("不对，面积是200平米", base=Profile.model_validate(first["profile"]))
    codes = lambda r: {it["code"] for it in r["bundle"]["items"]}
    assert "nx_food_registration" in codes(first) and "food_business_license" not in codes(first)
    assert "food_business_license" in codes(second) and "nx_food_registration" not in codes(second)
