"""The intake conversation: every turn that carries business facts goes to the
API (describe/resolve), which returns the merged profile, the bundle and the
questions that can still change it.  The bot asks the first of those questions,
one at a time, or shows the final bundle and offers the merged form."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c
from actions.client import DaobanApiError, IntakeResult, Question, get_client

# Entities that are text annotations, not profile facts.
TEXT_ENTITIES = {"area", "weight", "item"}
# A bare number answering a numeric question gets its unit so the API's parser reads it.
UNIT_HINTS = {"area_m2": "平方米", "vehicle_weight_t": "吨", "rooms": "间客房", "employees": "人"}
BARE_NUMBER = re.compile(r"^(大概|大约|差不多|约)?[0-9０-９.．零〇一二两三四五六七八九十百千万点]+(多|左右|来)?$")
ORDINALS = {"第一": 0, "第二": 1, "第三": 2, "第四": 3, "第五": 4, "第六": 5, "1": 0, "2": 1, "3": 2, "4": 3}
PUNCT = re.compile(r"[\s，。！？!?,.、；;：:「」“”\"'（）()]+")
_NO_MATCH = object()


def facts_from_entities(entities: list[dict]) -> dict[str, Any]:
    """Profile facts carried by a quick-reply payload (/inform{"area_m2": 100})."""
    facts: dict[str, Any] = {}
    for ent in entities or []:
        key, value = ent.get("entity"), ent.get("value")
        if not key or key in TEXT_ENTITIES or value is None:
            continue
        if key in ("activity", "activities"):
            facts.setdefault("activities", [])
            facts["activities"] += value if isinstance(value, list) else [value]
        else:
            facts[key] = value
    return facts


def merge_facts(profile: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    merged = dict(profile)
    for key, value in facts.items():
        if key == "activities":
            merged["activities"] = list(dict.fromkeys([*(merged.get("activities") or []), *value]))
        else:
            merged[key] = value
    return merged


def new_facts(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Facts the last turn added or changed (new_business defaults: not a fact said)."""
    return {
        k: v
        for k, v in (new or {}).items()
        if k != "new_business" and v is not None and v != [] and old.get(k) != v
    }


def match_option(question: Question, text: str, intent: str | None) -> Any:
    """Read a free-text answer against the options the API offered for the pending
    question (words only; what the options mean is the API's business)."""
    options = question.get("options") or []
    values = [o.get("value") for o in options]
    norm = PUNCT.sub("", text)
    if norm:
        for o in options:  # the option's own title
            if PUNCT.sub("", o.get("title") or "") == norm:
                return o.get("value")
        for word, idx in ORDINALS.items():  # 「第二个」
            if norm.startswith(word) and len(norm) <= 4 and idx < len(options):
                return options[idx].get("value")
        hits = [o for o in options if len(norm) >= 2 and norm in (o.get("title") or "")]
        if len(hits) == 1:
            return hits[0].get("value")
    if intent in ("affirm", "deny"):
        if True in values and False in values:
            return intent == "affirm"
        if intent == "deny" and "none" in values:
            return "none"
    return _NO_MATCH


def show_bundle(dispatcher: CollectingDispatcher, bundle: dict) -> None:
    items = bundle.get("items") or []
    if items:
        lines = [f"根据您的情况，需要办理{len(items)}项许可/备案："] + c.item_lines(bundle)
        steps = bundle.get("startup_steps") or []
        if steps:
            lines.append("另有开办环节：" + "、".join(s.get("name", s.get("code", "")) for s in steps) + "。")
        dispatcher.utter_message(text="\n".join(lines))
    else:
        dispatcher.utter_message(text=bundle.get("summary") or "按您说的经营项目，领取营业执照后即可经营，不需要另办许可。")
    dispatcher.utter_message(json_message={"type": "bundle", **bundle})


def offer_form(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        text="需要我把这些事项合并成一张申请表（一表申请）吗？",
        buttons=[
            {"title": "生成申请表", "payload": "/request_form"},
            {"title": "暂不需要", "payload": "/deny"},
        ],
    )


def present(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    result: IntakeResult,
    *,
    progressed: bool,
    force_bundle: bool = False,
) -> list[EventType]:
    """Ask the next question the engine wants, or show the final bundle."""
    profile = result.get("profile") or {}
    bundle = result.get("bundle") or {}
    questions = result.get("questions") or []
    pending = c.get_pending(tracker)
    events: list[EventType] = [SlotSet(c.PROFILE, profile), SlotSet(c.BUNDLE, bundle)]
    if questions:
        question = questions[0]
        same = bool(pending) and pending.get("key") == question.get("key")
        if same and not progressed:
            dispatcher.utter_message(text="抱歉，我没听明白，请选一个选项或换个说法：")
        c.ask(dispatcher, question)
        asked = float(tracker.get_slot(c.QUESTIONS_ASKED) or 0) + (0 if same else 1)
        events += [SlotSet(c.PENDING, question), SlotSet(c.QUESTIONS_ASKED, asked)]
        return events
    previous = c.get_bundle(tracker)
    changed = (
        previous is None
        or not previous.get("final")
        or c.bundle_codes(previous) != c.bundle_codes(bundle)
    )
    if progressed or changed or force_bundle:
        if previous and previous.get("final") and changed:
            dispatcher.utter_message(text="已按新的情况重新计算：")
        show_bundle(dispatcher, bundle)
        if not tracker.get_slot(c.FORM_OFFERED) or changed:
            offer_form(dispatcher)
            events.append(SlotSet(c.FORM_OFFERED, True))
    else:
        dispatcher.utter_message(text="抱歉，我没听明白。您可以补充或更正情况（如「面积是200平米」），或说「生成申请表」。")
    events.append(SlotSet(c.PENDING, None))
    return events


class ActionProcessIntake(Action):
    """describe_business / inform / correct / affirm / deny (and unclear input)."""

    def name(self) -> Text:
        return "action_process_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = c.latest_text(tracker).strip()
        intent = c.latest_intent(tracker)
        profile = c.get_profile(tracker)
        pending = c.get_pending(tracker)

        if intent in ("affirm", "deny") and not pending:
            if tracker.get_slot(c.FORM_OFFERED) and intent == "affirm":
                from actions.form import show_form

                return await show_form(dispatcher, tracker)
            if tracker.get_slot(c.FORM_OFFERED):
                dispatcher.utter_message(text="好的。需要时说「生成申请表」，或随时补充、更正情况。")
                return [SlotSet(c.FORM_OFFERED, False)]
            if not profile.get("activities"):
                dispatcher.utter_message(text="请先说说您想在哪里开什么店，比如「我想在中山开一家奶茶店」。")
                return []

        client = get_client()
        try:
            if c.is_payload(text):
                result = await self._from_payload(client, tracker, profile, pending, intent)
            else:
                result = await self._from_text(client, tracker, text, profile, pending, intent)
        except DaobanApiError as exc:
            return c.api_error(dispatcher, exc)
        if result is None:  # nothing usable in the message
            if pending:
                dispatcher.utter_message(text="抱歉，我没听明白，请选一个选项或换个说法：")
                c.ask(dispatcher, pending)
            else:
                dispatcher.utter_message(
                    text="抱歉，我没听明白。请说说您想在哪里开什么店，比如「我想在阳江开一家80平米的超市」。"
                )
            return []
        progressed = bool(new_facts(profile, result.get("profile") or {}))
        return present(dispatcher, tracker, result, progressed=progressed, force_bundle=intent == "correct")

    async def _from_payload(self, client, tracker, profile, pending, intent):
        facts = facts_from_entities((tracker.latest_message or {}).get("entities") or [])
        if not facts and pending and intent in ("affirm", "deny"):
            value = match_option(pending, "", intent)
            if value is not _NO_MATCH:
                facts = {pending["key"]: value}
        if not facts:
            return None
        if pending and pending.get("key") == "activities" and "activities" in facts:
            pass  # activities are united by merge_facts
        return await client.resolve(merge_facts(profile, facts))

    async def _from_text(self, client, tracker, text, profile, pending, intent):
        key = (pending or {}).get("key")
        sent = text
        if key in UNIT_HINTS and BARE_NUMBER.match(PUNCT.sub("", text)):
            sent = PUNCT.sub("", text) + UNIT_HINTS[key]
        region = c.latest_metadata(tracker).get("region") if not profile.get("region") else None
        result = await client.describe(sent, profile=profile or None, region=region)
        new_profile = result.get("profile") or {}
        found = new_facts(profile, new_profile)
        understood = result.get("understood")
        if isinstance(understood, dict):
            found = {**found, **{k: v for k, v in understood.items() if v is not None}}
        if pending and key not in found:
            value = match_option(pending, text, intent)
            if value is not _NO_MATCH:
                if key == "activities":
                    value = value if isinstance(value, list) else [value]
                result = await client.resolve(merge_facts(new_profile, {key: value}))
                return result
        if intent == "correct":
            # a correction names the activity instead of the earlier one: replace, not unite
            said = [a for a in (found.get("activities") or []) if a != "tobacco_shop"]
            if said and set(said) != set(new_profile.get("activities") or []):
                return await client.resolve({**new_profile, "activities": list(dict.fromkeys(said))})
        if not found and not pending and not profile:
            # 「我想开个店」: clearly an intake, nothing said yet: ask the engine's first question
            return result if intent == "describe_business" and result.get("questions") else None
        if not found and pending:
            return None
        return result


class ActionResumeIntake(Action):
    """Re-ask the pending question after chit-chat, out-of-scope and the like."""

    def name(self) -> Text:
        return "action_resume_intake"

    async def run(self, dispatcher, tracker, domain):
        return c.resume(dispatcher, tracker)


class ActionRestartIntake(Action):
    """「重新开始」: forget the profile, keep the conversation."""

    def name(self) -> Text:
        return "action_restart_intake"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="好的，我们重新开始。请说说您想在哪里开什么店，比如「我想在中山开一家奶茶店」。")
        return [AllSlotsReset()]
