"""「为什么要办这个？」"""
from __future__ import annotations

from actions.testing import customs, make_tracker, run_action, texts
from rasa_sdk.events import SlotSet

from actions.why import ActionExplainWhy

AREA_Q = {"type": "question", "key": "area_m2", "text": "面积多少？", "why": "有些证按面积大小决定办哪一种。", "options": []}
BUNDLE = {
    "final": True,
    "items": [
        {"code": "food_business_license", "name": "食品经营许可证", "why": ["您开饭店，属于餐饮服务。"], "legal_basis": ["《食品安全法》第三十五条"]},
        {"code": "fire_safety_check", "name": "公众聚集场所投入使用、营业前消防安全检查", "why": ["营业面积较大的餐饮场所属于公众聚集场所。"], "legal_basis": []},
    ],
    "not_required": [{"code": "public_place_hygiene", "name": "公共场所卫生许可", "why": "饭馆的卫生许可已并入食品经营许可。"}],
}


def test_item_named_by_entity():
    tracker = make_tracker("为什么要办食品证", "ask_why", entities=[{"entity": "item", "value": "food_business_license"}], slots={"bundle": BUNDLE})
    events, messages = run_action(ActionExplainWhy(), tracker)
    assert events == []
    said = texts(messages)[0]
    assert said.startswith("「食品经营许可证」需要办，因为：您开饭店") and "《食品安全法》第三十五条" in said


def test_item_not_required_is_explained_too():
    tracker = make_tracker("为什么不用办公共场所卫生许可", "ask_why", slots={"bundle": BUNDLE})
    _, messages = run_action(ActionExplainWhy(), tracker)
    assert texts(messages)[0].startswith("「公共场所卫生许可」不用办")


def test_this_item_means_every_item_with_its_reason():
    _, messages = run_action(ActionExplainWhy(), make_tracker("为什么要办这个？", "ask_why", slots={"bundle": BUNDLE}))
    said = texts(messages)[0]
    assert "1. 食品经营许可证：您开饭店" in said and "2. 公众聚集场所" in said


def test_why_a_question_is_asked_then_resume():
    tracker = make_tracker("为什么要问这个", "ask_why", slots={"bundle": {**BUNDLE, "final": False}, "pending_question": AREA_Q})
    events, messages = run_action(ActionExplainWhy(), tracker)
    assert "有些证按面积大小决定办哪一种" in texts(messages)[0]
    (q,) = customs(messages)
    assert events == [SlotSet("last_question_text", q["text"])]
    assert q["key"] == "area_m2" and q["text"] != AREA_Q["text"] and "面积" in q["text"]  # asked again in other words
