"""「为什么要办这个？」: the reasons the rules engine gave for an item (or why a
question is asked), then back to the pending question."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c


def _basis(item: dict) -> str:
    basis = item.get("legal_basis") or []
    first = basis[0] if basis else None
    if isinstance(first, dict):
        first = first.get("text")
    return f"依据：{first}" if first else ""


def find_item(tracker: Tracker, bundle: dict) -> tuple[dict | None, bool]:
    """The item the applicant means: an `item` entity (catalog code via synonyms) or
    a name in the text; searched in the bundle, then in what is not required."""
    text = c.latest_text(tracker)
    codes = [e.get("value") for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == "item"]
    for required, pool in ((True, bundle.get("items") or []), (False, bundle.get("not_required") or [])):
        for item in pool:
            if item.get("code") in codes:
                return item, required
        for item in pool:
            name = item.get("name") or ""
            if name and (name in text or any(part and part in text for part in name.split("（")[:1])):
                return item, required
    return None, False


class ActionExplainWhy(Action):
    def name(self) -> Text:
        return "action_explain_why"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        bundle = c.get_bundle(tracker) or {}
        pending = c.get_pending(tracker)
        text = c.latest_text(tracker)
        item, required = find_item(tracker, bundle)
        if item:
            why = item.get("why") or []
            why_text = c.join_reasons(why)
            head = f"「{item.get('name')}」" + ("需要办，因为：" if required else "不用办，因为：")
            lines = [head + (why_text or "按您的经营情况判断。")]
            if required and _basis(item):
                lines.append(_basis(item))
            dispatcher.utter_message(text="\n".join(lines))
        elif pending and ("问" in text or not bundle.get("items")):
            dispatcher.utter_message(
                text=f"问这个是因为：{pending.get('why') or '您的回答会影响需要办理的事项。'}我只问会改变结果的问题。"
            )
        elif bundle.get("items"):
            lines = ["每一项要办的原因："] + c.item_lines(bundle)
            dispatcher.utter_message(text="\n".join(lines))
        elif pending:
            dispatcher.utter_message(text=f"问这个是因为：{pending.get('why') or '您的回答会影响需要办理的事项。'}")
        else:
            dispatcher.utter_message(text="请先说说您想在哪里开什么店，我会告诉您要办哪些证、为什么要办。")
        return c.resume(dispatcher, tracker, lead="我们继续：")
