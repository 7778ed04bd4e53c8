"""FAQ mid-intake: answered from the knowledge base then resumed; unanswered -> hand-over."""
from __future__ import annotations

import httpx
import pytest
import respx

from actions.faq import ActionAnswerFaq
from actions.testing import customs, make_tracker, run_action, texts

API = "http://daoban.test"
AREA_Q = {"type": "question", "key": "area_m2", "text": "经营场所面积大概多少平方米？", "options": []}
HIT = {
    "id": "food_business_license.time_limit",
    "question": "食品经营许可证多久能办下来？",
    "answer": "受理后10个工作日内作出决定。",
    "item_code": "food_business_license",
    "topic": "time_limit",
    "score": 0.93,
}
PROFILE = {"region": "zhongshan", "activities": ["tea_drink"]}


pytestmark = pytest.mark.usefixtures("api_url")


def test_answered_question_then_the_intake_resumes(api):
    route = api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": True, "hits": [HIT]}))
    tracker = make_tracker("食品证要多久？", "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q})
    events, messages = run_action(ActionAnswerFaq(), tracker)

    params = route.calls[0].request.url.params
    assert (params["q"], params["k"], params["region"]) == ("食品证要多久？", "3", "zhongshan")
    assert events == []  # the pending question stays pending
    assert texts(messages)[0] == HIT["answer"]
    assert customs(messages) == [{"type": "faq", "answered": True, "hits": [HIT]}, AREA_Q]


def test_unanswered_question_hands_over_with_a_summary(api):
    api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": False, "hits": [HIT]}))
    tracker = make_tracker("你们食堂的菜好吃吗", "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q})
    events, messages = run_action(ActionAnswerFaq(), tracker)

    assert events == []
    faq, handoff, question = customs(messages)
    assert faq == {"type": "faq", "answered": False, "hits": [HIT]}
    assert HIT["answer"] not in texts(messages)  # the first hit is not presented as the answer
    assert handoff["type"] == "handoff" and handoff["reason"] == "faq_unanswered" and handoff["target"] == "12345"
    assert "中山市" in handoff["summary"] and "你们食堂的菜好吃吗" in handoff["summary"]
    assert handoff["pending_question"] == "area_m2"
    assert question == AREA_Q


def test_question_before_any_intake_needs_no_region(api):
    route = api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": True, "hits": [HIT]}))
    events, messages = run_action(ActionAnswerFaq(), make_tracker("食品证要多久", "ask_question"))
    assert "region" not in route.calls[0].request.url.params
    assert events == []
    assert customs(messages) == [{"type": "faq", "answered": True, "hits": [HIT]}]


def test_search_failure_still_resumes(api):
    api.get("/faq/search").mock(return_value=httpx.Response(503, json={"detail": "index building"}))
    tracker = make_tracker("食品证要多久", "ask_question", slots={"pending_question": AREA_Q})
    events, messages = run_action(ActionAnswerFaq(), tracker)
    assert events == []
    assert "12345" in texts(messages)[0]
    assert customs(messages) == [AREA_Q]
