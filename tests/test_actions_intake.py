"""Unit tests of the intake actions: trackers built in code, the API mocked with
respx, the exact events asserted."""
from __future__ import annotations

import json

import httpx
import pytest
import respx
from rasa_sdk.events import AllSlotsReset, SlotSet

from actions.intake import (
    ActionOpenIntake,
    ActionProcessIntake,
    ActionRestartIntake,
    ActionResumeIntake,
    facts_from_entities,
    is_non_answer,
    match_option,
)
from actions.testing import customs, make_tracker, mock_intake_store, run_action, texts

API = "http://daoban.test"

AREA_Q = {
    "type": "question",
    "key": "area_m2",
    "text": "经营场所面积大概多少平方米？",
    "why": "有些证按面积大小决定办哪一种。",
    "consequence": "150平方米及以下办登记证，以上要办食品经营许可。",
    "reask": "面积决定办哪种证。比如「80平米」。经营场所面积大概多少平方米？",
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


@pytest.fixture()
def store(api):
    return mock_intake_store(api)


def slot(events, name):
    found = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name]
    assert found, f"no SlotSet({name}) in {events}"
    return found[-1]


def asked(messages):
    qs = [m for m in customs(messages) if m.get("type") == "question"]
    assert len(qs) == 1, messages
    return qs[0]



def body(route, i=-1):
    return json.loads(route.calls[i].request.content)


def test_first_description_asks_the_engines_first_question_and_gives_a_code(api, store):
    prof = profile(region="tongxin", activities=["snack_bar"])
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(prof, ["nx_food_registration"], [AREA_Q, HALAL_Q],
                                                     understood={"region": "tongxin", "activities": ["snack_bar"]}))
    )
    tracker = make_tracker("我想在同心开一家拉面馆", "describe_business", sender_id="web-abc")
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert body(describe) == {"text": "我想在同心开一家拉面馆"}
    assert slot(events, "profile") == prof
    assert slot(events, "pending_question") == AREA_Q and slot(events, "questions_asked") == 1.0
    assert asked(messages) == AREA_Q  # one question at a time, with its quick replies, first wording
    assert texts(messages)[0].startswith("已记下：同心县")
    create, _ = store
    assert body(create) == {"sender": "web-abc", "channel": "web", "profile": prof, "pending": AREA_Q,
                            "bundle": bundle(["nx_food_registration"], final=False)}
    assert slot(events, "intake_code") == "K7QX2M" and "K7QX2M" in texts(messages)[-1]


def test_out_of_turn_information_is_acknowledged_and_the_question_reworded(api, store):
    """The issue's 同心 convenience store: 「卖一些口罩和体温计」 while 清真 is pending."""
    before = profile(region="tongxin", activities=["convenience_store"], food_sales="prepackaged", area_m2=20.0)
    after = {**before, "medical_devices": "class2"}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json={
        **result(after, ["nx_food_registration", "device_class2_filing"], [HALAL_Q],
                 understood={"medical_devices": "class2"}), "ack": "已记下：卖口罩、体温计"}))
    tracker = make_tracker("卖一些口罩和体温计", "inform",
                           slots={"profile": before, "pending_question": HALAL_Q, "last_question_text": HALAL_Q["text"],
                                  "intake_code": "K7QX2M"})
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert texts(messages)[0] == "已记下：卖口罩、体温计"
    q = asked(messages)
    assert q["key"] == "halal" and q["text"] != HALAL_Q["text"]  # never the same words twice in a row
    assert "宁夏" in q["text"] and "是清真" in q["text"]  # why + the options
    assert slot(events, "last_question_text") == q["text"]
    assert slot(events, "questions_asked") == 0.0  # the same question: not counted again
    _, update = store
    assert body(update)["profile"] == after


def test_dont_know_gets_what_the_answer_would_change(api, store):
    before = profile(region="tongxin", activities=["snack_bar"])
    api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(before, ["nx_food_registration"], [AREA_Q], understood={}))
    )
    tracker = make_tracker("还不确定呢", "inform", slots={"profile": before, "pending_question": AREA_Q,
                                                      "last_question_text": AREA_Q["text"]})
    events, messages = run_action(ActionProcessIntake(), tracker)
    said = texts(messages)
    assert AREA_Q["consequence"] in said[0] and "没听明白" not in " ".join(said)
    q = asked(messages)
    assert q["text"] == AREA_Q["reask"] and q["options"] == AREA_Q["options"]
    assert not [m for m in customs(messages) if m["type"] in ("faq", "handoff")]


def test_dont_know_without_consequence_falls_back_to_why(api, store):
    q = {k: v for k, v in AREA_Q.items() if k not in ("consequence", "reask")}
    before = profile(region="tongxin", activities=["snack_bar"])
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(before, [], [q], understood={})))
    tracker = make_tracker("不知道", "deny", slots={"profile": before, "pending_question": q, "last_question_text": q["text"]})
    _, messages = run_action(ActionProcessIntake(), tracker)
    assert q["why"] in texts(messages)[0]
    assert asked(messages)["text"] != q["text"] and "面积" in asked(messages)["text"]


def test_non_answer_is_re_prompted_with_an_example(api, store):
    before = profile(region="zhongshan", activities=["tea_drink"])
    api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(before, ["food_business_license"], [AREA_Q], understood={}))
    )
    tracker = make_tracker("嗯嗯那个", "nlu_fallback", slots={"profile": before, "pending_question": AREA_Q,
                                                         "last_question_text": AREA_Q["text"]})
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert "换个问法" in texts(messages)[0]
    assert asked(messages)["text"] == AREA_Q["reask"]


def test_quick_reply_payload_goes_to_resolve_not_describe(api, store):
    before = profile(region="tongxin", activities=["snack_bar"])
    after = {**before, "area_m2": 30.0}
    describe = api.post("/intake/describe")
    resolve = api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(after, ["nx_food_registration"], [HALAL_Q]))
    )
    tracker = make_tracker('/inform{"area_m2": 30.0}', "inform", entities=[{"entity": "area_m2", "value": 30.0}],
                           slots={"profile": before, "pending_question": AREA_Q, "questions_asked": 1.0})
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert not describe.called
    assert body(resolve) == {"profile": after}
    assert slot(events, "pending_question") == HALAL_Q and slot(events, "questions_asked") == 2.0
    assert asked(messages) == HALAL_Q


def test_final_bundle_is_shown_with_reasons_and_the_form_is_offered(api, store):
    before = profile(region="tongxin", activities=["snack_bar"], area_m2=30.0)
    after = {**before, "halal": True}
    api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(after, ["nx_food_registration", "halal_food_permit"]))
    )
    tracker = make_tracker('/inform{"halal": true}', "inform", entities=[{"entity": "halal", "value": True}],
                           slots={"profile": before, "pending_question": HALAL_Q, "intake_code": "K7QX2M",
                                  "bundle": bundle(["nx_food_registration"], final=False)})
    events, messages = run_action(ActionProcessIntake(), tracker)

    final = bundle(["nx_food_registration", "halal_food_permit"])
    assert slot(events, "bundle") == final and slot(events, "form_offered") is True
    assert slot(events, "pending_question") is None
    assert customs(messages) == [{"type": "bundle", **final, "intake_code": "K7QX2M"}]
    said = texts(messages)
    assert said[0] == "已记下：清真：是"
    assert "需要办理2项" in said[1] and "因为nx_food_registration" in said[1] and "因为halal_food_permit" in said[1]
    assert "申请表" in said[-1]
    assert messages[-1]["buttons"][0]["payload"] == "/request_form"


def test_yes_answers_a_yes_no_question_from_its_options(api, store):
    before = profile(region="tongxin", activities=["snack_bar"], area_m2=30.0)
    final_profile = {**before, "halal": True}
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(before, ["nx_food_registration"], [HALAL_Q], understood={}))
    )
    resolve = api.post("/intake/resolve").mock(
        return_value=httpx.Response(200, json=result(final_profile, ["nx_food_registration", "halal_food_permit"]))
    )
    tracker = make_tracker("是的", "affirm", slots={"profile": before, "pending_question": HALAL_Q})
    events, messages = run_action(ActionProcessIntake(), tracker)

    assert body(describe) == {"text": "是的", "profile": before}
    assert body(resolve) == {"profile": final_profile}
    assert slot(events, "profile") == final_profile and slot(events, "pending_question") is None
    assert [m["type"] for m in customs(messages)] == ["bundle"]


def test_bare_number_answers_a_numeric_question_with_its_unit(api, store):
    before = profile(region="tongxin", activities=["snack_bar"])
    after = {**before, "area_m2": 80.0}
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(after, ["nx_food_registration"], [HALAL_Q], understood={"area_m2": 80.0}))
    )
    tracker = make_tracker("80", "inform", slots={"profile": before, "pending_question": AREA_Q, "questions_asked": 1.0})
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert body(describe) == {"text": "80平方米", "profile": before}
    assert slot(events, "pending_question") == HALAL_Q and slot(events, "questions_asked") == 2.0
    assert texts(messages)[0] == "已记下：面积80平方米"


def test_correction_recalculates_and_shows_the_new_bundle(api, store):
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
    assert slot(events, "bundle") == new and slot(events, "form_offered") is True
    assert texts(messages)[:2] == ["已记下：面积200平方米", "已按新的情况重新计算："]
    assert customs(messages) == [{"type": "bundle", **new}]


def test_correction_of_the_activity_replaces_it(api, store):
    before = profile(region="jinzhong", activities=["snack_bar"])
    united = {**before, "activities": ["snack_bar", "restaurant"]}
    replaced = {**before, "activities": ["restaurant"]}
    api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(united, ["food_business_license"], understood={"activities": ["restaurant"]}))
    )
    resolve = api.post("/intake/resolve").mock(return_value=httpx.Response(200, json=result(replaced, ["food_business_license"])))
    events, _ = run_action(ActionProcessIntake(), make_tracker("不对，是饭店不是小吃店", "correct", slots={"profile": before}))
    assert body(resolve) == {"profile": replaced}
    assert slot(events, "profile") == replaced


def test_affirm_after_the_offer_shows_the_form_with_apply_url_when_offered(api, store):
    prof = profile(region="zhongshan", activities=["tea_drink"], area_m2=30.0)
    form = {"sections": [{"title": "基本信息"}], "fields": [{"key": "applicant_name"}]}
    route = api.post("/intake/form").mock(return_value=httpx.Response(200, json=form))
    slots = {"profile": prof, "form_offered": True, "bundle": bundle(["food_business_license"])}
    events, messages = run_action(ActionProcessIntake(), make_tracker("好的", "affirm", slots=slots))
    assert body(route) == {"profile": prof, "values": {}}
    assert events == [SlotSet("form_offered", False)]
    assert customs(messages) == [{"type": "form", **form}]  # drafts not offered (404): no apply_url
    api.post("/applications/drafts").mock(return_value=httpx.Response(
        201, json={"draft_id": "d1", "token": "t", "apply_url": "/apply/d1?t=t"}))
    _, messages = run_action(ActionProcessIntake(), make_tracker("好的", "affirm", slots=slots))
    assert customs(messages)[0]["apply_url"] == "/apply/d1?t=t"


def test_deny_after_the_offer_is_acknowledged():
    tracker = make_tracker("不用了", "deny", slots={"profile": profile(activities=["bar"]), "form_offered": True})
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert events == [SlotSet("form_offered", False)]
    assert customs(messages) == []


def test_unknown_trade_says_so_gives_the_steps_and_hands_over_once(api, store):
    prof = profile(region="zhongshan", activities=[])
    unknown = {**bundle([], final=True, region="zhongshan"), "coverage": "unknown", "unrecognized": ["宠物殡葬"],
               "handoff": True, "startup_steps": [{"code": "business_registration", "name": "营业执照（设立登记）"}]}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json={
        "profile": prof, "bundle": unknown, "questions": [], "understood": {"region": "zhongshan"}}))
    events, messages = run_action(ActionProcessIntake(), make_tracker("我想在中山开宠物殡葬店", "describe_business"))
    said = "\n".join(texts(messages))
    assert "这个行业暂未收录" in said and "宠物殡葬" in said and "营业执照" in said
    (handoff,) = [m for m in customs(messages) if m["type"] == "handoff"]
    assert handoff["reason"] == "unknown_trade"
    assert slot(events, "handed_unknown") == "宠物殡葬"
    tracker = make_tracker("在中山", "inform", slots={"profile": prof, "handed_unknown": "宠物殡葬", "bundle": unknown})
    _, messages = run_action(ActionProcessIntake(), tracker)
    assert not [m for m in customs(messages) if m["type"] == "handoff"]


def test_region_from_channel_metadata_is_sent_until_known(api, store):
    prof = profile(region="yangjiang", activities=["supermarket"])
    describe = api.post("/intake/describe").mock(
        return_value=httpx.Response(200, json=result(prof, ["food_business_license"], [FOOD_Q], understood={"activities": ["supermarket"]}))
    )
    run_action(ActionProcessIntake(), make_tracker("我要开超市", "describe_business", metadata={"region": "yangjiang"}))
    assert body(describe) == {"text": "我要开超市", "region": "yangjiang"}


def test_api_down_is_reported_without_events(api):
    api.post("/intake/describe").mock(side_effect=httpx.ConnectError("refused"))
    events, messages = run_action(ActionProcessIntake(), make_tracker("我想开奶茶店", "describe_business"))
    assert events == []
    assert "12345" in texts(messages)[0]


def test_snapshot_failure_does_not_fail_the_turn(api):
    prof = profile(region="tongxin", activities=["snack_bar"])
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(prof, [], [AREA_Q], understood={"activities": ["snack_bar"]})))
    api.post("/chat/intakes").mock(return_value=httpx.Response(401, json={}))
    events, messages = run_action(ActionProcessIntake(), make_tracker("开拉面馆", "describe_business"))
    assert asked(messages)["key"] == "area_m2"
    assert not [e for e in events if e.get("name") == "intake_code"]


def test_restart_resets_all_slots():
    events, messages = run_action(ActionRestartIntake(), make_tracker("重新开始", "start_over", slots={"profile": profile(activities=["bar"])}))
    assert events == [AllSlotsReset()]
    assert "重新开始" in texts(messages)[0]


def test_resume_re_asks_the_pending_question_in_other_words():
    tracker = make_tracker("/greet", "greet", slots={"pending_question": AREA_Q, "last_question_text": AREA_Q["text"]})
    events, messages = run_action(ActionResumeIntake(), tracker)
    assert asked(messages)["text"] == AREA_Q["reask"]
    assert events == [SlotSet("last_question_text", AREA_Q["reask"])]
    events, messages = run_action(ActionResumeIntake(), make_tracker("你好", "greet"))
    assert events == [] and messages == []


def test_chit_chat_that_carries_information_is_taken_in(api, store):
    before = profile(region="zhongshan", activities=["convenience_store"])
    after = {**before, "tobacco": True}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(after, ["tobacco_retail"], [AREA_Q], understood={"tobacco": True})))
    tracker = make_tracker("谢谢啊，对了也卖烟", "thank", slots={"profile": before, "pending_question": AREA_Q, "last_question_text": AREA_Q["text"]})
    events, messages = run_action(ActionResumeIntake(), tracker)
    assert texts(messages)[0].startswith("已记下：卖烟：是")
    assert slot(events, "profile") == after


def test_idle_return_offers_to_continue_or_start_over(api, store, monkeypatch):
    monkeypatch.setattr("actions.intake.IDLE_MINUTES", 30.0)
    prof = profile(region="zhongshan", activities=["tea_drink"])
    earlier = [{"event": "user", "text": "我想在中山开奶茶店", "timestamp": 1_000_000.0 - 3600}]
    tracker = make_tracker("面积80平米", "inform", slots={"profile": prof, "pending_question": AREA_Q}, previous=earlier)
    events, messages = run_action(ActionProcessIntake(), tracker)
    assert events == [SlotSet("stashed_text", "面积80平米")]
    assert "欢迎回来" in texts(messages)[0] and "奶茶" in texts(messages)[0]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/resume_intake", "/start_over"]
    # 接着办: what was said is processed on the profile
    after = {**prof, "area_m2": 80.0}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(after, ["food_business_license"], understood={"area_m2": 80.0})))
    tracker = make_tracker("/resume_intake", "resume_intake", slots={"profile": prof, "pending_question": AREA_Q, "stashed_text": "面积80平米"})
    events, messages = run_action(ActionOpenIntake(), tracker)
    assert slot(events, "profile") == after and slot(events, "stashed_text") is None
    assert any(m["type"] == "bundle" for m in customs(messages))


def test_open_intake_by_code_continues_with_everything_known(api, store):
    prof = profile(region="tongxin", activities=["snack_bar"])
    api.get("/chat/intakes/K7QX2M").mock(return_value=httpx.Response(200, json={
        "code": "K7QX2M", "profile": prof, "pending_question": AREA_Q, "bundle": bundle(["nx_food_registration"], final=False)}))
    tracker = make_tracker('/resume_intake{"intake_code": "k7qx2m"}', "resume_intake",
                           entities=[{"entity": "intake_code", "value": "k7qx2m"}], sender_id="hotline-1")
    events, messages = run_action(ActionOpenIntake(), tracker)
    assert slot(events, "profile") == prof and slot(events, "intake_code") == "K7QX2M"
    assert "K7QX2M" in texts(messages)[0] and "同心县" in texts(messages)[0]
    assert asked(messages)["key"] == "area_m2"
    _, update = store
    assert body(update)["sender"] == "hotline-1" and body(update)["channel"] == "hotline"


def test_unknown_code_is_said_plainly(api, store):
    api.get("/chat/intakes/ZZZZZZ").mock(return_value=httpx.Response(404, json={}))
    events, messages = run_action(ActionProcessIntake(), make_tracker("我的办理码是ZZZZZZ", "inform"))
    assert events == [] and "没有找到办理码 ZZZZZZ" in texts(messages)[0]


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
        ("不知道", "deny", "no"),
        ("不是清真的", "inform", False),
        ("是的呀", "inform", True),
    ],
)
def test_match_option(text, intent, expected):
    from actions.intake import _NO_MATCH

    got = match_option(HALAL_Q, text, intent)
    assert (got is _NO_MATCH) if expected == "no" else got == expected
    assert match_option(FOOD_Q, "不卖", "deny") == "none"


def test_typed_yes_no_answers():
    tobacco = {"key": "tobacco", "options": [{"title": "会卖烟", "value": True}, {"title": "不卖烟", "value": False}]}
    maternal = {"key": "maternal", "options": [{"title": "会", "value": True}, {"title": "不会", "value": False}]}
    assert match_option(tobacco, "卖的", "inform") is True
    assert match_option(tobacco, "没有卖", "inform") is False
    assert match_option(maternal, "不会，只看牙", "inform") is False
    from actions.intake import _NO_MATCH

    assert match_option(tobacco, "卖的", "inform", loose=False) is _NO_MATCH  # the text said something else
    assert match_option(FOOD_Q, "没有，不卖", "inform") == "none"


@pytest.mark.parametrize("text,expected", [("不知道", True), ("还不确定呢", True), ("还没想好", True),
                                           ("现场制作", False), ("没有", False), ("八十平米", False)])
def test_non_answers(text, expected):
    assert is_non_answer(text) is expected


def test_bare_wish_to_open_a_shop_gets_the_first_question(api, store):
    region_q = {"type": "question", "key": "region", "text": "您的店开在哪个地方？",
                "options": [{"title": "广东中山", "payload": '/inform{"region": "zhongshan"}', "value": "zhongshan"}]}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(profile(), [], [region_q], understood={})))
    events, messages = run_action(ActionProcessIntake(), make_tracker("我想开个店", "describe_business"))
    assert asked(messages) == region_q
    assert slot(events, "pending_question") == region_q


def test_nothing_usable_and_no_intake_intent_asks_for_the_business(api, store):
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json=result(profile(), [], [], understood={})))
    events, messages = run_action(ActionProcessIntake(), make_tracker("嗯", "inform"))
    assert events == [] and "在哪里开什么店" in texts(messages)[0]
