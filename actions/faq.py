"""A question mid-intake: answer it from the knowledge base (faq payload), then take in
whatever else the message said and resume the intake where it was.

Only a real question goes to the knowledge base: a message the NLU took for a question
but that asks nothing (「现场制作」「没有」「不知道」) is read as intake information.  No
good answer to a real question -> hand over (handoff payload).  An ambiguous question
(the API's ``clarify``) -> 「您问的是A还是B？」 with quick replies."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c
from actions.client import DaobanApiError, get_client
from actions.handoff import hand_over

MAX_ANSWER_CHARS = 300
MAX_QUESTIONS = 3
QUESTION_MARKERS = re.compile(
    r"[？?]|吗|么|怎么|怎样|如何|多久|多长时间|多少|哪里|哪儿|哪个|哪些|什么|几天|几个|几份|为什么|为啥|"
    r"能不能|能否|可不可以|可以不|是否|要不要|需不需要|用不用|有没有|请问|咨询一下|想问|想了解"
)
SPLIT = re.compile(r"(?<=[？?])|(?<=吗)[，,。]|(?<=呢)[，,。]")
CLAUSE = re.compile(r"[^，,。；;！!？?\n]+[？?]?")


def is_question(text: str) -> bool:
    return bool(QUESTION_MARKERS.search(text or ""))


SUBJECTLESS = re.compile(r"^(要|需要|得|带|交|怎么|如何|在哪|去哪|哪里|多少|几|什么|多久|能不能|可以|有没有|收费|费用|是不是)")
PREDICATE = re.compile(r"(要|需要|得|怎么|如何|在哪|去哪|多少|几|什么|多久|能不能|可以|有没有|是不是|吗)")


def split_questions(text: str) -> list[str]:
    """「食品证要多久？要带什么材料？」 -> 「食品证要多久？」「食品证要带什么材料？」: each question
    asks something; one without its own subject borrows the first one's."""
    parts = [p.strip(" ，,。；;") for p in SPLIT.split(text or "") if p and p.strip(" ，,。；;")]
    qs = [p for p in parts if is_question(p) and len(p) >= 3]
    if len(qs) > 1:
        m = PREDICATE.search(qs[0])
        subject = qs[0][: m.start()] if m and m.start() >= 2 else ""
        qs = [qs[0]] + [subject + q if subject and SUBJECTLESS.match(q) else q for q in qs[1:]]
    return qs[:MAX_QUESTIONS] or [text.strip()]


def statements(text: str) -> str:
    """The clauses that state something (「面积两百平米」), without the questions: only
    those are read as information (「卡拉OK是什么意思？」 says nothing about the shop)."""
    return "，".join(cl.strip() for cl in CLAUSE.findall(text or "") if cl.strip() and not is_question(cl))


def _clarify_buttons(clarify: dict) -> list[dict]:
    buttons = []
    for item in clarify.get("items") or []:
        if isinstance(item, str):
            title, query = item, item
        elif isinstance(item, dict):
            title = item.get("title") or item.get("question") or item.get("text") or ""
            query = item.get("query") or item.get("question") or title
        else:
            continue
        if title:
            buttons.append({"title": title[:40], "payload": "/ask_question" + json.dumps({"faq_query": query[:120]}, ensure_ascii=False)})
    return buttons[:4]


async def answer(dispatcher: CollectingDispatcher, tracker: Tracker, question: str, region: str | None) -> str:
    """One question: 'answered' | 'clarify' | 'unanswered' | 'error'."""
    try:
        result = await get_client().faq_search(question, k=3, region=region)
    except DaobanApiError as exc:
        c.api_error(dispatcher, exc)
        return "error"
    hits = result.get("hits") or []
    clarify = result.get("clarify")
    if isinstance(clarify, dict) and clarify.get("items"):
        buttons = _clarify_buttons(clarify)
        if buttons:
            dispatcher.utter_message(text=clarify.get("text") or "您问的是哪一个？", buttons=buttons)
            dispatcher.utter_message(json_message={"type": "faq", "answered": False, "hits": hits, "clarify": clarify,
                                                   "question": question})
            return "clarify"
    answered = bool(result.get("answered")) and bool(hits)
    if answered:
        text = (hits[0].get("answer") or "").strip()
        if len(text) > MAX_ANSWER_CHARS:
            text = text[:MAX_ANSWER_CHARS] + "……"
        dispatcher.utter_message(text=text)
    dispatcher.utter_message(json_message={"type": "faq", "answered": answered, "hits": hits, "question": question})
    return "answered" if answered else "unanswered"


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        from actions.intake import ActionProcessIntake, persist, present, read_text

        text = c.latest_text(tracker).strip()
        chosen = [e.get("value") for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == "faq_query"]
        if not chosen and not is_question(text):
            # not a question at all: an answer or information the NLU mistook for one
            return await ActionProcessIntake().run(dispatcher, tracker, domain)
        profile = c.get_profile(tracker)
        region = profile.get("region") or c.latest_metadata(tracker).get("region")
        questions = [str(chosen[0])] if chosen else split_questions(text)
        outcomes = [await answer(dispatcher, tracker, q, region) for q in questions]
        unanswered = [q for q, o in zip(questions, outcomes) if o == "unanswered"]
        if unanswered:
            hand_over(dispatcher, tracker, "faq_unanswered", "；".join(unanswered))
        # whatever else the message said about the business is taken in too
        said = statements(text) if not chosen else ""
        if said and (profile or c.get_pending(tracker)):
            try:
                result, understood = await read_text(get_client(), tracker, said, profile, c.get_pending(tracker), None)
            except DaobanApiError:
                understood = {}
            if understood:
                events = present(dispatcher, tracker, result, understood=understood, text=text, ack=result.get("ack"))
                return events + await persist(dispatcher, tracker, events)
        return c.resume(dispatcher, tracker, lead="我们接着刚才的问题：")
