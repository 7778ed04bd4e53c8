"""The merged form (一表申请) for the current bundle, pre-filled from the profile."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c
from actions.client import DaobanApiError, get_client


async def show_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    profile = c.get_profile(tracker)
    if not profile.get("activities"):
        dispatcher.utter_message(text="请先说说您想在哪里开什么店，我再帮您生成申请表。")
        return []
    try:
        form = await get_client().form(profile)
    except DaobanApiError as exc:
        return c.api_error(dispatcher, exc)
    try:  # the back office's pre-filled application page, where it exists
        draft = await get_client().create_draft(profile, None, c.channel_of(tracker))
    except DaobanApiError as exc:
        draft = None
        c.log.warning("draft not created: %s", exc)
    if draft and draft.get("apply_url"):
        form = {**form, "apply_url": draft["apply_url"], "draft_id": draft.get("draft_id")}
    pending = c.get_pending(tracker)
    if pending:
        dispatcher.utter_message(text="这是按目前情况合并的申请表，还有问题确认后事项可能会变：")
    else:
        dispatcher.utter_message(text="这是合并后的一张申请表，已按您说的情况预填，核对补全后即可提交。")
    dispatcher.utter_message(json_message={"type": "form", **form})
    if form.get("apply_url"):
        dispatcher.utter_message(text="点「去核对并提交」打开申请页面，登录后核对预填内容就能提交。")
    events: List[EventType] = [SlotSet(c.FORM_OFFERED, False)]
    return events + c.resume(dispatcher, tracker)


class ActionShowForm(Action):
    def name(self) -> Text:
        return "action_show_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return await show_form(dispatcher, tracker)
