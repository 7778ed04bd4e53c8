"""Free-text understanding: Chinese numerals and units, negation, places, flags."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "text, expected",
    [
        ("八十平米的便利店", {"area_m2": 80, "activities": ["convenience_store"]}),
        ("一百二十平方的饭馆", {"area_m2": 120, "activities": ["restaurant"]}),
        ("两百平左右的超市", {"area_m2": 200, "activities": ["supermarket"]}),
        ("店面大概 35 ㎡，卖奶茶", {"area_m2": 35, "activities": ["tea_drink"]}),
        ("跑货运，车是4.5吨的", {"vehicle_weight_t": 4.5}),
        ("物流公司，货车总质量4500公斤", {"vehicle_weight_t": 4.5}),
        ("不卖烟的小卖部", {"tobacco": False, "activities": ["convenience_store"]}),
        ("便利店，也卖烟", {"tobacco": True, "activities": ["convenience_store"]}),
        ("卖散装零食和烟", {"tobacco": True, "food_sales": "bulk"}),
        ("开个店卖烟花", {"activities": ["fireworks_shop"]}),
        ("不卖烟酒的超市", {"tobacco": False}),
        ("只卖包装好的零食", {"food_sales": "prepackaged"}),
        ("诊所，有牙片机，不做助产", {"radiation": True, "maternal": False, "activities": ["clinic"]}),
        ("清真拉面馆", {"halal": True, "activities": ["snack_bar"]}),
        ("不是清真的面馆", {"halal": False}),
        ("宾馆有三十间客房", {"rooms": 30, "activities": ["hotel"]}),
        ("药店还卖血压计和隐形眼镜", {"medical_devices": "class3"}),  # 血压计: on the national exempt list
        ("药店还卖制氧机和隐形眼镜", {"medical_devices": "both"}),
        ("卖口罩和体温计", {"medical_devices": "exempt"}),
        # traditional characters read as simplified
        ("我想喺中山開間茶餐廳，大概八十平米", {"area_m2": 80, "activities": ["restaurant"], "region": "zhongshan"}),
        ("開間麻雀館", {"activities": ["chess_room"]}),
        ("便利店，唔賣煙", {"activities": ["convenience_store"], "tobacco": False}),
        ("便利店，没得卖烟", {"activities": ["convenience_store"], "tobacco": False}),
    ],
)
def test_parse(intake, text, expected):
    found = intake.describer.parse(text).found
    for key, value in expected.items():
        assert found.get(key) == value, (key, found)
    if "烟花" in text:
        assert "tobacco" not in found


@pytest.mark.parametrize(
    "text, region",
    [
        ("中山小榄开店", "zhongshan"),
        ("阳江阳东开店", "yangjiang"),
        ("商丘睢县开店", "suixian"),
        ("晋中平遥开客栈", "jinzhong"),
        ("吴忠同心县开店", "tongxin"),
    ],
)
def test_region(intake, text, region):
    assert intake.describer.parse(text).found["region"] == region


def test_unknown_text_gives_questions_not_guesses(intake):
    r = intake.describe("你好")
    assert r["profile"]["activities"] == [] and r["bundle"]["items"] == []
    assert [q["key"] for q in r["questions"]][:2] == ["region", "activities"]
