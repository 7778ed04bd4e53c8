"""Unit tests of the intake actions: trackers built in code, the API mocked with
respx, the exact events asserted."""
from __future__ import annotations

import json

import httpx
import pytest
import respx
from rasa_sdk.events import AllSlotsReset, SlotSet

from actions.intake import (
    ActionProcessIntake,
    ActionRestartIntake,
    ActionResumeIntake,
    facts_from_entities,
    match_option,
)
from actions.testing import customs, make_tracker, run_action, texts

API = "http://daoban.test"

AREA_Q = {
    "type": "question",
    "key": "area_m2",
    "text": "经营场所面积大概多少平方米？",
    "why": "有些证按面积大小决定办哪一种。",
    "options": [
        {"title": "150平方米及以下", "payload": '/inform{"area_m2": 30.0}', "value": 30.0},
        {"title": "150平方米以上", "payload": '/inform{"area_m2": 300.0}', "value": 300.0},
    ],
}
HALAL_Q = {
    "type": "question",
    "key": "halal",
    "text": "是清真的吗？",
    "why": "在宁夏经营清真食品要办清真食品准营证。",
    "options": [
        {"title": "是清真", "payload": '/inform{"halal": true}', "value": True},
        {"title": "不是", "payload": '/inform{"halal": false}', "value": False},
    ],
}
FOOD_Q = {
    "type": "question",
    "key": "food_sales",
    "text": "店里卖吃的喝的吗？",
    "options": [
        {"title": "只卖包装好的(预包装)", "payload": '/inform{"food_sales": "prepackaged"}', "value": "prepackaged"},
        {"title": "有散装或现做现卖", "payload": '/inform{"food_sales": "bulk"}', "value": "bulk"},
        {"title": "不卖吃的喝的", "payload": '/inform{"food_sales": "none"}', "value": "none"},
    ],
}


def profile(**kw):
    base = {"region": None, "activities": [], "area_m2": None, "halal": None, "tobacco": None, "new_business": True}
    base.update(kw)
    return base


def bundle(codes, final=True, region="tongxin"):
    return {
        "region": region,
        "final": final,
        "items": [{"code": c, "name": f"{c}名称", "why": [f"因为{c}"], "legal_basis": [f"{c}依据"]} for c in codes],
        "startup_steps": [],
        "not_required": [],
        "summary": "",
    }


def result(prof, codes, questions=(), final=None, understood=None):
    out = {"profile": prof, "bundle": bundle(codes, final=not questions if final is None else final), "questions": list(questions)}
    if understood is not None:
        out["understood"] = understood
    return out


pytestmark = pytest.mark.usefixtures("api_url")


def body(route, i=-1):
    return json.loads(route.calls[i].request.content)


def test_first_description_asks_the_engines_first_question(api):
    prof = profile(region="tongxin", activities=["snack_bar"])
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(prof, ["nx_food_registration"], [AREA_Q, HALAL_Q], understood={"region": "tongxin", "activities": ["snack_bar"]}))
    )
    tracker = make_tracker("我想在同心开一家拉面馆", "describe_business")
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert body(describe) == {"text": "我想在同心开一家拉面馆"}
    assert events == [
        SlotSet("profile", prof),
        SlotSet("bundle", bundle(["nx_food_registration"], final=False)),
        SlotSet("pending_question", AREA_Q),
        SlotSet("questions_asked", 1.0),
    ]
    assert customs(messages) == [AREA_Q]  # one question at a time, with its quick replies


def test_quick_reply_payload_goes_to_resolve_not_describe(api):
    before = profile(region="tongxin", activities=["snack_bar"])
    after = {**before, "area_m2": 30.0}
    describe = api.post("/intake/describe")
    resolve = api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(after, ["nx_food_registration"], [HALAL_Q]))
    )
    tracker = make_tracker(
        '/inform{"area_m2": 30.0}',
        "inform",
        entities=[{"entity": "area_m2", "value": 30.0}],
        slots={"profile": before, "pending_question": AREA_Q, "questions_asked": 1.0},
    )
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert not describe.called
    assert body(resolve) == {"profile": after}
    assert events == [
        SlotSet("profile", after),
        SlotSet("bundle", bundle(["nx_food_registration"], final=False)),
        SlotSet("pending_question", HALAL_Q),
        SlotSet("questions_asked", 2.0),
    ]
    assert customs(messages) == [HALAL_Q]


def test_final_bundle_is_shown_with_reasons_and_the_form_is_offered(api):
    before = profile(region="tongxin", activities=["snack_bar"], area_m2=30.0)
    after = {**before, "halal": True}
    api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(after, ["nx_food_registration", "halal_food_permit"]))
    )
    tracker = make_tracker(
        '/inform{"halal": true}',
        "inform",
        entities=[{"entity": "halal", "value": True}],
        slots={"profile": before, "pending_question": HALAL_Q, "bundle": bundle(["nx_food_registration"], final=False)},
    )
    events, messages = run_action(ActionProcessIntake(), tracker)

    final = bundle(["nx_food_registration", "halal_food_permit"])
    assert events == [
        SlotSet("profile", after),
        SlotSet("bundle", final),
        SlotSet("form_offered", True),
        SlotSet("pending_question", None),
    ]
    assert customs(messages) == [{"type": "bundle", **final}]
    said = texts(messages)
    assert "需要办理2项" in said[0]
    assert "因为nx_food_registration" in said[0] and "因为halal_food_permit" in said[0]
    assert "申请表" in said[-1]
    assert messages[-1]["buttons"][0]["payload"] == "/request_form"


def test_yes_answers_a_yes_no_question_from_its_options(api):
    before = profile(region="tongxin", activities=["snack_bar"], area_m2=30.0)
    after_text = dict(before)  # the API's parser finds nothing in 「是的」
    final_profile = {**before, "halal": True}
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(after_text, ["nx_food_registration"], [HALAL_Q], understood={}))
    )
    resolve = api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(final_profile, ["nx_food_registration", "halal_food_permit"]))
    )
    tracker = make_tracker("是的", "affirm", slots={"profile": before, "pending_question": HALAL_Q})
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert body(describe) == {"text": "是的", "profile": before}
    assert body(resolve) == {"profile": final_profile}
    assert events[0] == SlotSet("profile", final_profile)
    assert events[-1] == SlotSet("pending_question", None)
    assert customs(messages)[0]["type"] == "bundle"


def test_bare_number_answers_a_numeric_question_with_its_unit(api):
    before = profile(region="tongxin", activities=["snack_bar"])
    after = {**before, "area_m2": 80.0}
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(after, ["nx_food_registration"], [HALAL_Q], understood={"area_m2": 80.0}))
    )
    tracker = make_tracker("80", "inform", slots={"profile": before, "pending_question": AREA_Q, "questions_asked": 1.0})
    events, _ = run_action(ActionProcessIntake(), tracker)

    assert body(describe) == {"text": "80平方米", "profile": before}
    assert events[2:] == [SlotSet("pending_question", HALAL_Q), SlotSet("questions_asked", 2.0)]


def test_correction_recalculates_and_shows_the_new_bundle(api):
    before = profile(region="tongxin", activities=["snack_bar"], area_m2=80.0, halal=False)
    after = {**before, "area_m2": 200.0}
    old = bundle(["nx_food_registration"])
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(after, ["food_business_license"], understood={"area_m2": 200.0}))
    )
    tracker = make_tracker("不对，面积是200平米", "correct", slots={"profile": before, "bundle": old, "form_offered": True})
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert body(describe) == {"text": "不对，面积是200平米", "profile": before}
    new = bundle(["food_business_license"])
    assert events == [
        SlotSet("profile", after),
        SlotSet("bundle", new),
        SlotSet("form_offered", True),
        SlotSet("pending_question", None),
    ]
    assert texts(messages)[0] == "已按新的情况重新计算："
    assert customs(messages) == [{"type": "bundle", **new}]


def test_correction_of_the_activity_replaces_it(api):
    before = profile(region="jinzhong", activities=["snack_bar"])
    united = {**before, "activities": ["snack_bar", "restaurant"]}
    replaced = {**before, "activities": ["restaurant"]}
    api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(united, ["food_business_license"], understood={"activities": ["restaurant"]}))
    )
    resolve = api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(replaced, ["food_business_license"]))
    )
    tracker = make_tracker("不对，是饭店不是小吃店", "correct", slots={"profile": before})
    events, _ = run_action(ActionProcessIntake(), tracker)

    assert body(resolve) == {"profile": replaced}
    assert events[0] == SlotSet("profile", replaced)


def test_affirm_after_the_offer_shows_the_form(api):
    prof = profile(region="zhongshan", activities=["tea_drink"], area_m2=30.0)
    form = {"sections": [{"title": "基本信息"}], "fields": [{"key": "applicant_name"}]}
    route = api.post("/intake/form").mock(return_value=httpx.Response(200, json=form))
    tracker = make_tracker("好的", "affirm", slots={"profile": prof, "form_offered": True, "bundle": bundle(["food_business_license"])})
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert body(route) == {"profile": prof, "values": {}}
    assert events == [SlotSet("form_offered", False)]
    assert customs(messages) == [{"type": "form", **form}]


def test_deny_after_the_offer_is_acknowledged():
    tracker = make_tracker("不用了", "deny", slots={"profile": profile(activities=["bar"]), "form_offered": True})
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert events == [SlotSet("form_offered", False)]
    assert customs(messages) == []


def test_unclear_answer_re_asks_the_pending_question(api):
    before = profile(region="tongxin", activities=["snack_bar"])
    api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(before, ["nx_food_registration"], [AREA_Q], understood={}))
    )
    tracker = make_tracker("嗯嗯那个", "nlu_fallback", slots={"profile": before, "pending_question": AREA_Q})
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert events == []
    assert "没听明白" in texts(messages)[0]
    assert customs(messages) == [AREA_Q]


def test_region_from_channel_metadata_is_sent_until_known(api):
    prof = profile(region="yangjiang", activities=["supermarket"])
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(prof, ["food_business_license"], [FOOD_Q], understood={"activities": ["supermarket"]}))
    )
    tracker = make_tracker("我要开超市", "describe_business", metadata={"region": "yangjiang"})
    run_action(ActionProcessIntake(), tracker)
    assert body(describe) == {"text": "我要开超市", "region": "yangjiang"}


def test_api_down_is_reported_without_events(api):
    api.post("/intake/describe").mock(side_effect=httpx.ConnectError("refused"))
    events, messages = run_action(ActionProcessIntake(), make_tracker("我想开奶茶店", "describe_business"))
    assert events == []
    assert "12345" in texts(messages)[0]


def test_restart_resets_all_slots():
    events, messages = run_action(ActionRestartIntake(), make_tracker("重新开始", "start_over", slots={"profile": profile(activities=["bar"])}))
    assert events == [AllSlotsReset()]
    assert "重新开始" in texts(messages)[0]


def test_resume_re_asks_the_pending_question_only():
    events, messages = run_action(ActionResumeIntake(), make_tracker("你好", "greet", slots={"pending_question": AREA_Q}))
    assert events == []
    assert customs(messages) == [AREA_Q]
    events, messages = run_action(ActionResumeIntake(), make_tracker("你好", "greet"))
    assert events == [] and messages == []


def test_payload_entities_map_to_profile_facts():
    ents = [
        {"entity": "activity", "value": "restaurant"},
        {"entity": "area_m2", "value": 100},
        {"entity": "area", "value": "一百平米"},
        {"entity": "halal", "value": False},
    ]
    assert facts_from_entities(ents) == {"activities": ["restaurant"], "area_m2": 100, "halal": False}


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("是清真", "inform", True),
        ("不是", "deny", False),
        ("是", "affirm", True),
        ("第二个", "inform", False),
        ("今天天气", "inform", "no"),
    ],
)
def test_match_option(text, intent, expected):
    from actions.intake import _NO_MATCH

    got = match_option(HALAL_Q, text, intent)
    assert (got is _NO_MATCH) if expected == "no" else got == expected
    assert match_option(FOOD_Q, "不卖", "deny") == "none"


def test_bare_wish_to_open_a_shop_gets_the_first_question(api):
    region_q = {"type": "question", "key": "region", "text": "您的店开在哪个地方？",
                "options": [{"title": "广东中山", "payload": '/inform{"region": "zhongshan"}', "value": "zhongshan"}]}
    empty = {**profile()}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(empty, [], [region_q], understood={})))
    events, messages = run_action(ActionProcessIntake(), make_tracker("我想开个店", "describe_business"))
    assert customs(messages) == [region_q]
    assert SlotSet("pending_question", region_q) in events


def test_nothing_usable_and_no_intake_intent_says_so(api):
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(profile(), [], [], understood={})))
    events, messages = run_action(ActionProcessIntake(), make_tracker("嗯", "inform"))
    assert events == [] and "没听明白" in texts(messages)[0]
