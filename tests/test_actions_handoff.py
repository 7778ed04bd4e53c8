"""Asking for a person: the second request hands over with a summary."""
from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.handoff import ActionRequestHuman, build_handoff
from actions.testing import customs, make_tracker, run_action, texts

AREA_Q = {"type": "question", "key": "area_m2", "text": "经营场所面积大概多少平方米？", "options": []}
PROFILE = {"region": "tongxin", "activities": ["snack_bar"], "halal": True, "area_m2": 80.0, "new_business": True}
BUNDLE = {"final": False, "items": [{"code": "nx_food_registration", "name": "食品生产经营登记证"}]}


def test_first_request_offers_help_and_resumes():
    tracker = make_tracker("转人工", "request_human", slots={"profile": PROFILE, "pending_question": AREA_Q})
    events, messages = run_action(ActionRequestHuman(), tracker)
    (q,) = customs(messages)
    assert events == [SlotSet("handoff_requests", 1.0), SlotSet("last_question_text", q["text"])]
    assert "再说一次" in texts(messages)[0]
    assert q["key"] == "area_m2" and "面积" in q["text"]


def test_second_request_hands_over_with_what_is_known():
    tracker = make_tracker(
        "我要人工",
        "request_human",
        slots={"profile": PROFILE, "pending_question": AREA_Q, "bundle": BUNDLE, "handoff_requests": 1.0},
        sender_id="u-42",
    )
    events, messages = run_action(ActionRequestHuman(), tracker)
    handoff, question = customs(messages)
    assert events == [SlotSet("handoff_requests", 0.0), SlotSet("last_question_text", question["text"])]
    assert question["key"] == "area_m2"  # the intake can go on while waiting
    assert handoff["type"] == "handoff"
    assert handoff["reason"] == "user_request" and handoff["target"] == "desk"
    assert {t["key"] for t in handoff["targets"]} == {"desk", "12345"}
    assert handoff["region"] == "tongxin" and handoff["sender_id"] == "u-42"
    assert handoff["bundle_codes"] == ["nx_food_registration"]
    summary = handoff["summary"]
    for part in ("同心县", "清真：是", "面积：80平方米", "初步需办：食品生产经营登记证", "待确认：经营场所面积"):
        assert part in summary, part


def test_summary_with_nothing_known():
    payload = build_handoff(make_tracker("人工", "request_human"), "user_request")
    assert payload["summary"].startswith("尚未说明经营情况")
    assert payload["profile"] == {} and payload["bundle_codes"] == []
