"""FAQ mid-intake: only real questions reach the knowledge base; answered then resumed;
unanswered -> hand-over; ambiguous -> 「您问的是A还是B？」; two questions in one message."""
from __future__ import annotations

import json

import httpx
import pytest

from actions.faq import ActionAnswerFaq, is_question, split_questions
from actions.testing import customs, make_tracker, mock_intake_store, run_action, texts

AREA_Q = {"type": "question", "key": "area_m2", "text": "经营场所面积大概多少平方米？", "why": "面积决定办哪种证。",
          "reask": "面积决定办哪种证，比如「80平米」。面积大概多少？", "options": []}
HIT = {
    "id": "food_business_license.time_limit",
    "question": "食品经营许可证多久能办下来？",
    "answer": "受理后10个工作日内作出决定。",
    "item_code": "food_business_license",
    "topic": "time_limit",
    "score": 0.93,
}
HIT2 = {**HIT, "id": "food_business_license.materials", "answer": "营业执照、场所平面图、人员健康证明。", "topic": "materials"}
PROFILE = {"region": "zhongshan", "activities": ["tea_drink"]}
NOTHING = {"profile": PROFILE, "bundle": {"items": [], "final": False}, "questions": [AREA_Q], "understood": {}}


pytestmark = pytest.mark.usefixtures("api_url")


@pytest.fixture()
def describe(api):
    mock_intake_store(api)
    return api.post("/intake/describe").mock(return_value=httpx.Response(200, json=NOTHING))


def faqs(messages):
    return [m for m in customs(messages) if m["type"] == "faq"]


def test_answered_question_then_the_intake_resumes_in_other_words(api, describe):
    route = api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": True, "hits": [HIT]}))
    tracker = make_tracker("食品证要多久？", "ask_question",
                           slots={"profile": PROFILE, "pending_question": AREA_Q, "last_question_text": AREA_Q["text"]})
    events, messages = run_action(ActionAnswerFaq(), tracker)

    params = route.calls[0].request.url.params
    assert (params["q"], params["k"], params["region"]) == ("食品证要多久？", "3", "zhongshan")
    assert texts(messages)[0] == HIT["answer"]
    faq, question = customs(messages)
    assert faq == {"type": "faq", "answered": True, "hits": [HIT], "question": "食品证要多久？"}
    assert question["key"] == "area_m2" and question["text"] == AREA_Q["reask"]
    assert [e["name"] for e in events] == ["last_question_text"]  # the pending question stays pending


def test_two_questions_in_one_message_get_two_answers(api, describe):
    route = api.get("/faq/search").mock(side_effect=[
        httpx.Response(200, json={"answered": True, "hits": [HIT]}),
        httpx.Response(200, json={"answered": True, "hits": [HIT2]}),
    ])
    tracker = make_tracker("食品证要多久？要带什么材料？", "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q})
    _, messages = run_action(ActionAnswerFaq(), tracker)
    assert [c.request.url.params["q"] for c in route.calls] == ["食品证要多久？", "食品证要带什么材料？"]
    assert texts(messages)[:2] == [HIT["answer"], HIT2["answer"]]
    assert len(faqs(messages)) == 2 and not [m for m in customs(messages) if m["type"] == "handoff"]


def test_unanswered_question_hands_over_with_a_summary(api, describe):
    api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": False, "hits": [HIT]}))
    tracker = make_tracker("你们食堂的菜好吃吗", "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q})
    _, messages = run_action(ActionAnswerFaq(), tracker)

    faq, handoff, question = customs(messages)
    assert faq["answered"] is False
    assert HIT["answer"] not in texts(messages)  # the first hit is not presented as the answer
    assert handoff["type"] == "handoff" and handoff["reason"] == "faq_unanswered" and handoff["target"] == "12345"
    assert "中山市" in handoff["summary"] and "你们食堂的菜好吃吗" in handoff["summary"]
    assert handoff["pending_question"] == "area_m2"
    assert question["key"] == "area_m2"


@pytest.mark.parametrize("text", ["现场制作", "没有", "不知道", "还不确定"])
def test_a_non_question_never_reaches_the_knowledge_base(api, describe, text):
    search = api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": False, "hits": []}))
    tracker = make_tracker(text, "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q,
                                                        "last_question_text": AREA_Q["text"]})
    _, messages = run_action(ActionAnswerFaq(), tracker)
    assert not search.called
    assert json.loads(describe.calls[0].request.content)["text"] == text  # read as intake information
    assert not faqs(messages) and not [m for m in customs(messages) if m["type"] == "handoff"]
    q = [m for m in customs(messages) if m["type"] == "question"]
    assert q and q[0]["text"] != AREA_Q["text"]


def test_ambiguous_question_asks_which_with_quick_replies(api, describe):
    clarify = {"items": ["食品经营许可证", "仅销售预包装食品备案"], "text": "您问的是食品经营许可证还是仅销售预包装食品备案？"}
    api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": False, "hits": [HIT], "clarify": clarify}))
    tracker = make_tracker("食品证要多久？", "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q})
    _, messages = run_action(ActionAnswerFaq(), tracker)
    ask = next(m for m in messages if m.get("buttons"))
    assert ask["text"] == clarify["text"]
    assert [b["title"] for b in ask["buttons"]] == clarify["items"]
    assert ask["buttons"][0]["payload"] == '/ask_question{"faq_query": "食品经营许可证"}'
    assert not [m for m in customs(messages) if m["type"] == "handoff"]  # not a reason to hand over
    # the chosen quick reply searches that wording
    route = api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": True, "hits": [HIT]}))
    tracker = make_tracker(ask["buttons"][0]["payload"], "ask_question", entities=[{"entity": "faq_query", "value": "食品经营许可证"}],
                           slots={"profile": PROFILE, "pending_question": AREA_Q})
    _, messages = run_action(ActionAnswerFaq(), tracker)
    assert route.calls[-1].request.url.params["q"] == "食品经营许可证"
    assert texts(messages)[0] == HIT["answer"]


def test_question_with_information_acknowledges_it(api):
    mock_intake_store(api)
    after = {**PROFILE, "area_m2": 80.0}
    api.post("/intake/describe").mock(return_value=httpx.Response(200, json={
        "profile": after, "bundle": {"items": [{"code": "food_business_license", "name": "食品经营许可证", "why": ["现制饮品"]}],
                                     "final": True}, "questions": [], "understood": {"area_m2": 80.0}}))
    api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": True, "hits": [HIT]}))
    tracker = make_tracker("面积八十平米，食品证要多久？", "ask_question", slots={"profile": PROFILE, "pending_question": AREA_Q})
    events, messages = run_action(ActionAnswerFaq(), tracker)
    said = texts(messages)
    assert said[0] == HIT["answer"] and "已记下：面积80平方米" in said
    assert any(m["type"] == "bundle" for m in customs(messages))


def test_question_before_any_intake_needs_no_region(api):
    route = api.get("/faq/search").mock(return_value=httpx.Response(200, json={"answered": True, "hits": [HIT]}))
    events, messages = run_action(ActionAnswerFaq(), make_tracker("食品证要多久", "ask_question"))
    assert "region" not in route.calls[0].request.url.params
    assert events == []
    assert customs(messages) == [{"type": "faq", "answered": True, "hits": [HIT], "question": "食品证要多久"}]


def test_search_failure_still_resumes(api, describe):
    api.get("/faq/search").mock(return_value=httpx.Response(503, json={"detail": "index building"}))
    tracker = make_tracker("食品证要多久", "ask_question", slots={"pending_question": AREA_Q})
    _, messages = run_action(ActionAnswerFaq(), tracker)
    assert "12345" in texts(messages)[0]
    assert [m["key"] for m in customs(messages)] == ["area_m2"]


def test_question_detection():
    assert is_question("食品证要多久") and is_question("要不要办健康证") and is_question("在哪里办？")
    assert not is_question("现场制作") and not is_question("八十平米") and not is_question("还不确定呢")
    assert split_questions("食品证要多久？要带什么材料？") == ["食品证要多久？", "食品证要带什么材料？"]
    assert split_questions("营业执照怎么办？烟草证在哪办？") == ["营业执照怎么办？", "烟草证在哪办？"]
