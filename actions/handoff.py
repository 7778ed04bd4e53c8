"""Hand-over to a person: the 12345 hotline or the 导办 desk, with a short summary
of what is known so far (so the applicant does not start again)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c

HOTLINE = {"key": "12345", "name": "12345政务服务便民热线", "phone": "12345"}
DESK = {"key": "desk", "name": "政务服务中心导办窗口（帮办代办）"}
# Requests for a person before the bot hands over (the first one is offered help first).
HANDOFF_AFTER = 2


def build_handoff(tracker: Tracker, reason: str, question: str | None = None) -> dict[str, Any]:
    profile = c.get_profile(tracker)
    bundle = c.get_bundle(tracker) or {}
    pending = c.get_pending(tracker)
    parts = [c.profile_summary(profile)]
    codes = c.bundle_codes(bundle)
    if codes:
        names = "、".join(it.get("name", it.get("code")) for it in bundle.get("items") or [])
        parts.append(("已确定需办：" if bundle.get("final") else "初步需办：") + names)
    if pending:
        parts.append(f"待确认：{pending.get('text', pending.get('key'))}")
    if question:
        parts.append(f"申请人的问题：{c.mask_text(question)}")
    if tracker.get_slot(c.INTAKE_CODE):
        parts.append(f"办理码：{tracker.get_slot(c.INTAKE_CODE)}")
    summary = "。".join(parts) + "。"
    target = HOTLINE if reason == "faq_unanswered" else DESK  # user_request / unknown_trade: the desk
    return {
        "type": "handoff",
        "reason": reason,  # faq_unanswered | user_request | unknown_trade
        "target": target["key"],
        "targets": [DESK, HOTLINE],
        "summary": summary,
        "region": profile.get("region"),
        "profile": profile,
        "bundle_codes": codes,
        "pending_question": (pending or {}).get("key"),
        "question": question,
        "sender_id": tracker.sender_id,
        "intake_code": tracker.get_slot(c.INTAKE_CODE),
    }


def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, question: str | None = None
) -> dict[str, Any]:
    payload = build_handoff(tracker, reason, question)
    if reason == "faq_unanswered":
        text = "这个问题我暂时答不准，已把您的情况整理好转给人工：可拨打12345政务服务便民热线，或到政务服务中心导办窗口咨询。"
    elif reason == "unknown_trade":
        text = "已把您的情况整理好转给人工：请到政务服务中心导办窗口或拨打12345，由工作人员确认要办哪些许可。"
    else:
        text = "好的，已为您转人工：导办窗口工作人员会接手，也可拨打12345。您的情况已整理好，不用从头再说。"
    dispatcher.utter_message(text=text)
    dispatcher.utter_message(json_message=payload)
    return payload


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        count = int(tracker.get_slot(c.HANDOFF_REQUESTS) or 0) + 1
        if count < HANDOFF_AFTER:
            dispatcher.utter_message(
                text="我可以先帮您把要办的证照理清楚，通常几个问题就好。如果还是需要人工，请再说一次「转人工」。"
            )
            return [SlotSet(c.HANDOFF_REQUESTS, float(count))] + c.resume(dispatcher, tracker, lead="我们先继续：")
        hand_over(dispatcher, tracker, "user_request")
        return [SlotSet(c.HANDOFF_REQUESTS, 0.0)] + c.resume(
            dispatcher, tracker, lead="等人工的同时，也可以接着把情况说完，工作人员接手时都能看到："
        )
