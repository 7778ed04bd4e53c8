"""A question mid-intake: answer it from the knowledge base (faq payload), then
resume the intake where it was.  No good answer -> hand over (handoff payload)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c
from actions.client import DaobanApiError, get_client
from actions.handoff import hand_over

MAX_ANSWER_CHARS = 300


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        question = c.latest_text(tracker).strip()
        region = c.get_profile(tracker).get("region") or c.latest_metadata(tracker).get("region")
        try:
            result = await get_client().faq_search(question, k=3, region=region)
        except DaobanApiError as exc:
            c.api_error(dispatcher, exc)
            return c.resume(dispatcher, tracker)
        hits = result.get("hits") or []
        answered = bool(result.get("answered")) and bool(hits)
        if answered:
            answer = (hits[0].get("answer") or "").strip()
            if len(answer) > MAX_ANSWER_CHARS:
                answer = answer[:MAX_ANSWER_CHARS] + "……"
            dispatcher.utter_message(text=answer)
        dispatcher.utter_message(json_message={"type": "faq", "answered": answered, "hits": hits})
        if not answered:
            hand_over(dispatcher, tracker, "faq_unanswered", question)
        return c.resume(dispatcher, tracker, lead="我们接着刚才的问题：")
