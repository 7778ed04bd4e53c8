"""The intake conversation.  Every turn's text goes through the same reading as the
first message (``POST /intake/describe`` with the profile so far): whatever it says —
an answer, information out of turn, a correction — is merged and acknowledged in one
short line; the pending question is asked again only while unanswered, and then in
other words (why + example).  「不知道」 gets what the answer would change.  What to ask
and why comes from the API; the bot only carries the conversation."""
from __future__ import annotations

import logging
import os
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import common as c
from actions.client import DaobanApiError, IntakeResult, Question, get_client

log = logging.getLogger(__name__)

# Entities that are text annotations, not profile facts.
TEXT_ENTITIES = {"area", "weight", "item", "intake_code", "faq_query"}
# A bare number answering a numeric question gets its unit so the API's parser reads it.
UNIT_HINTS = {"area_m2": "平方米", "vehicle_weight_t": "吨", "rooms": "间客房", "employees": "人"}
BARE_NUMBER = re.compile(r"^(大概|大约|差不多|约)?[0-9０-９.．零〇一二两三四五六七八九十百千万点]+(多|左右|来)?$")
ORDINALS = {"第一": 0, "第二": 1, "第三": 2, "第四": 3, "第五": 4, "第六": 5, "1": 0, "2": 1, "3": 2, "4": 3}
PUNCT = re.compile(r"[\s，。！？!?,.、；;：:「」“”\"'（）()~～…]+")
# 「不知道」「还没想好」: not an answer, not a question — say what the answer would change
NON_ANSWER = re.compile(
    r"(不知道|不清楚|不确定|不太确定|说不准|说不好|不好说|还没想好|没想好|还没定|没定|还不一定|不一定|"
    r"看情况|再看看|待定|拿不准|不晓得|不懂|没考虑|还在考虑|不太清楚|不是很清楚|都有可能|可能吧|也许)"
)
# a yes/no answer typed in words: 「卖的」「会」「不会，只看牙」「没有的」
NEG_START = re.compile(r"^(不|没|无|否|别|非|并不|并没)")
YES_START = re.compile(r"^(是|会|有|要|卖|对|嗯|用|需要|当然|肯定|打算|准备|可能会)")
CODE_IN_TEXT = re.compile(r"(?:办理码|编码|代码|码)\s*(?:是|为|:|：)?\s*([A-Za-z0-9]{6})(?![A-Za-z0-9])")
IDLE_MINUTES = float(os.environ.get("DAOBAN_CHAT_IDLE_MINUTES", "30"))
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
        elif key == "activities_removed":
            continue
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


# a question the intake answers itself (which permits), not the knowledge base
WHICH_PERMITS = re.compile(r"(什么证|哪些证|啥证|咩证|乜嘢证|要办什么|要办啥|要不要办|需要办什么|办哪些|办哪几)")


def _asks_something(text: str) -> bool:
    from actions.faq import is_question

    return is_question(text) and not is_non_answer(text)


def is_non_answer(text: str) -> bool:
    return bool(NON_ANSWER.search(text or ""))


def match_option(question: Question, text: str, intent: str | None, *, loose: bool = True) -> Any:
    """Read a free-text answer against the options the API offered for the pending
    question (words only; what the options mean is the API's business)."""
    options = question.get("options") or []
    values = [o.get("value") for o in options]
    norm = PUNCT.sub("", text)
    if norm and not is_non_answer(norm):
        for o in options:  # the option's own title
            if PUNCT.sub("", o.get("title") or "") == norm:
                return o.get("value")
        for word, idx in ORDINALS.items():  # 「第二个」
            if norm.startswith(word) and len(norm) <= 4 and idx < len(options):
                return options[idx].get("value")
        hits = [o for o in options if len(norm) >= 2 and norm in (o.get("title") or "")]
        if len(hits) == 1:
            return hits[0].get("value")
        # the answer starts with an option's title: 「不会，只看牙」
        lead = [o for o in options if PUNCT.sub("", o.get("title") or "") and norm.startswith(PUNCT.sub("", o.get("title") or ""))]
        if lead:
            return max(lead, key=lambda o: len(o.get("title") or "")).get("value")
        if loose and True in values and False in values and len(norm) <= 12:
            if NEG_START.match(norm):
                return False
            if YES_START.match(norm):
                return True
        if loose and "none" in values and NEG_START.match(norm) and len(norm) <= 8:
            return "none"
    if intent in ("affirm", "deny") and not is_non_answer(norm):
        if True in values and False in values:
            return intent == "affirm"
        if intent == "deny" and "none" in values:
            return "none"
    return _NO_MATCH


def show_bundle(dispatcher: CollectingDispatcher, bundle: dict, code: str | None = None) -> None:
    items = bundle.get("items") or []
    if items:
        lines = [f"根据您的情况，需要办理{len(items)}项许可/备案："] + c.item_lines(bundle)
        steps = bundle.get("startup_steps") or []
        if steps:
            lines.append("另有开办环节：" + "、".join(s.get("name", s.get("code", "")) for s in steps) + "。")
        dispatcher.utter_message(text="\n".join(lines))
    else:
        dispatcher.utter_message(text=bundle.get("summary") or "按您说的经营项目，领取营业执照后即可经营，不需要另办许可。")
    confirm = bundle.get("to_confirm") or []
    if bundle.get("coverage") == "partial" and confirm:
        names = "、".join(x if isinstance(x, str) else (x.get("name") or x.get("text") or x.get("code") or "") for x in confirm)
        dispatcher.utter_message(text=f"以下还需到窗口确认：{names}。")
    payload = {"type": "bundle", **bundle}
    if code:
        payload["intake_code"] = code
    dispatcher.utter_message(json_message=payload)


def offer_form(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        text="需要我把这些事项合并成一张申请表（一表申请）吗？",
        buttons=[
            {"title": "生成申请表", "payload": "/request_form"},
            {"title": "暂不需要", "payload": "/deny"},
        ],
    )


def unknown_trade(dispatcher: CollectingDispatcher, tracker: Tracker, bundle: dict, events: list) -> None:
    """An activity the catalog does not know: say so, give the general start-up steps,
    hand over (once for the same words)."""
    words = [w for w in bundle.get("unrecognized") or [] if w]
    key = "、".join(words) or "?"
    if tracker.get_slot(c.HANDED_UNKNOWN) == key:
        return
    from actions.handoff import hand_over

    what = f"「{key}」" if words else "您说的经营项目"
    lines = [f"这个行业暂未收录：{what}要办哪些许可，我这里答不准，不能随便说不用办。"]
    steps = bundle.get("startup_steps") or []
    if steps:
        lines.append("通用的开办步骤：" + "、".join(s.get("name", s.get("code", "")) for s in steps) + "。")
    else:
        lines.append("通用的开办步骤：办营业执照、刻章、银行开户、税务登记、社保登记。")
    dispatcher.utter_message(text="\n".join(lines))
    dispatcher.utter_message(json_message={"type": "bundle", **bundle})
    hand_over(dispatcher, tracker, "unknown_trade", None)
    events.append(SlotSet(c.HANDED_UNKNOWN, key))


def present(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    result: IntakeResult,
    *,
    understood: dict[str, Any],
    text: str = "",
    ack: str | None = None,
    force_bundle: bool = False,
) -> list[EventType]:
    """Acknowledge what the turn said, then ask the next question the engine wants (in
    other words when it is the same one again), or show the bundle."""
    profile = result.get("profile") or {}
    bundle = result.get("bundle") or {}
    questions = result.get("questions") or []
    pending = c.get_pending(tracker)
    last = tracker.get_slot(c.LAST_ASKED)
    events: list[EventType] = [SlotSet(c.PROFILE, profile), SlotSet(c.BUNDLE, bundle)]
    if not ack and not result.get("ack"):
        ack = c.ack_line(understood)
        out_of_turn = pending and any(k != pending.get("key") for k in understood)
        if ack and out_of_turn and text and len(text) <= 40 and not c.is_payload(text):
            ack += f"（您说的「{text}」）"  # the applicant sees what their words were taken for
    ack = ack or result.get("ack")
    if ack and understood:
        dispatcher.utter_message(text=ack)
    if bundle.get("handoff") or (bundle.get("coverage") == "unknown" and bundle.get("unrecognized")):
        unknown_trade(dispatcher, tracker, bundle, events)
    if questions:
        question = questions[0]
        same = bool(pending) and pending.get("key") == question.get("key")
        if same and is_non_answer(text) and pending.get("key") not in understood:
            because = question.get("consequence") or pending.get("consequence")
            if not because and question.get("why"):
                because = "这一项会影响要办的证：" + question["why"]
            dispatcher.utter_message(
                text=(because or "这一项会影响要办的证。") + "\n可以先按最可能的情况选一个，以后随时能改；实在定不下来，也可以到窗口再确认。"
            )
        elif same and not understood:
            dispatcher.utter_message(text="这句话里我没找到答案，换个问法：")
        events += c.ask(dispatcher, question, last, second=same)
        asked = float(tracker.get_slot(c.QUESTIONS_ASKED) or 0) + (0 if same else 1)
        events += [SlotSet(c.PENDING, question), SlotSet(c.QUESTIONS_ASKED, asked)]
        return events
    previous = c.get_bundle(tracker)
    changed = previous is None or not previous.get("final") or c.bundle_codes(previous) != c.bundle_codes(bundle)
    if understood or changed or force_bundle:
        if previous and previous.get("final") and changed:
            dispatcher.utter_message(text="已按新的情况重新计算：")
        show_bundle(dispatcher, bundle, tracker.get_slot(c.INTAKE_CODE))
        if not tracker.get_slot(c.FORM_OFFERED) or changed:
            offer_form(dispatcher)
            events.append(SlotSet(c.FORM_OFFERED, True))
    elif is_non_answer(text):
        dispatcher.utter_message(text="没关系。结果已经列在上面了；想到什么随时补充或更正（比如「面积是200平米」），或说「生成申请表」。")
    else:
        dispatcher.utter_message(text="这句话里我没找到新的情况。您可以补充或更正（比如「面积是200平米」「也卖烟」），或说「生成申请表」。")
    events.append(SlotSet(c.PENDING, None))
    return events


# -- snapshots: the intake's code and its latest state in the API -------------------
def _slots_after(tracker: Tracker, events: list[EventType]) -> dict[str, Any]:
    slots = {k: tracker.get_slot(k) for k in (c.PROFILE, c.PENDING, c.BUNDLE, c.INTAKE_CODE)}
    for ev in events:
        if isinstance(ev, dict) and ev.get("event") == "slot" and ev.get("name") in slots:
            slots[ev["name"]] = ev.get("value")
        elif isinstance(ev, dict) and ev.get("event") == "reset_slots":
            slots = dict.fromkeys(slots)
    return slots


async def persist(dispatcher: CollectingDispatcher, tracker: Tracker, events: list[EventType]) -> list[EventType]:
    """Save the intake's state under its code (created, and told once, on the first
    turn that says something about the business).  Never fails the turn."""
    slots = _slots_after(tracker, events)
    profile = slots[c.PROFILE] or {}
    if not (profile.get("activities") or profile.get("region")):
        return []
    bundle = slots[c.BUNDLE] or None
    snapshot = {
        "sender": tracker.sender_id,
        "channel": c.channel_of(tracker),
        "profile": profile,
        "pending": slots[c.PENDING] or None,
        "bundle": bundle,
    }
    client = get_client()
    code = slots[c.INTAKE_CODE]
    unchanged = all(slots[k] == tracker.get_slot(k) for k in (c.PROFILE, c.PENDING, c.BUNDLE))
    if code and unchanged:
        return []  # nothing new to save (chit-chat, a re-ask)
    try:
        if code:
            try:
                await client.update_intake(code, snapshot)
                return []
            except DaobanApiError as exc:
                if exc.status != 404:
                    raise
        created = await client.create_intake(snapshot)
    except DaobanApiError as exc:
        log.warning("intake snapshot not saved: %s", exc)
        return []
    code = created.get("code")
    if not code:
        return []
    dispatcher.utter_message(
        text=f"您的办理码：{code}。换电话（12345）、小程序或到窗口时报这个码，就能接着办，不用从头说。"
    )
    return [SlotSet(c.INTAKE_CODE, code)]


def idle_minutes(tracker: Tracker) -> float:
    """Minutes between the applicant's previous message and this one."""
    stamps = [e.get("timestamp") for e in tracker.events or [] if e.get("event") == "user" and e.get("timestamp")]
    if len(stamps) < 2:
        return 0.0
    return max(0.0, (stamps[-1] - stamps[-2]) / 60.0)


# -- reading a turn -------------------------------------------------------------------
async def read_text(client, tracker: Tracker, text: str, profile: dict, pending: Question | None,
                    intent: str | None) -> tuple[IntakeResult, dict[str, Any]]:
    """describe(text, profile) plus the pending question's options; returns the result
    and what this text said (understood)."""
    key = (pending or {}).get("key")
    sent = text
    if key in UNIT_HINTS and BARE_NUMBER.match(PUNCT.sub("", text)):
        sent = PUNCT.sub("", text) + UNIT_HINTS[key]
    region = c.latest_metadata(tracker).get("region") if not profile.get("region") else None
    result = await client.describe(sent, profile=profile or None, region=region)
    new_profile = result.get("profile") or {}
    understood = result.get("understood")
    if isinstance(understood, dict):
        found = {k: v for k, v in understood.items() if v is not None and v != []}
    else:
        found = new_facts(profile, new_profile)
    found = {k: v for k, v in found.items() if k != "new_business"}
    if pending and key not in found:
        # yes/no read loosely only when the text said nothing else (「卖一些口罩」 is not 「是清真」)
        value = match_option(pending, text, intent, loose=not found)
        if value is not _NO_MATCH:
            if key == "activities":
                value = value if isinstance(value, list) else [value]
            facts = dict(value) if isinstance(value, dict) else {key: value}  # an option may set several keys
            result = await client.resolve(merge_facts(new_profile, facts))
            found.update(facts)
            return result, found
    if intent == "correct" and "activities_removed" not in (result.get("understood") or {}):
        # a correction names the activity instead of the earlier one: replace, not unite
        said = [a for a in (found.get("activities") or []) if a != "tobacco_shop"]
        if said and set(said) != set(new_profile.get("activities") or []):
            result = await client.resolve({**new_profile, "activities": list(dict.fromkeys(said))})
    return result, found


async def process_text(dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str | None,
                       *, profile: dict | None = None) -> list[EventType]:
    """One applicant message read as intake information (used after an idle offer too)."""
    profile = c.get_profile(tracker) if profile is None else profile
    pending = c.get_pending(tracker)
    client = get_client()
    try:
        result, understood = await read_text(client, tracker, text, profile, pending, intent)
    except DaobanApiError as exc:
        return c.api_error(dispatcher, exc)
    if not understood and not pending and not profile.get("activities") and not profile.get("region"):
        bundle = result.get("bundle") or {}
        if bundle.get("handoff") or bundle.get("unrecognized"):
            events: list[EventType] = [SlotSet(c.PROFILE, result.get("profile") or {}), SlotSet(c.BUNDLE, bundle)]
            unknown_trade(dispatcher, tracker, bundle, events)
            return events
        if intent == "describe_business" and result.get("questions"):
            return present(dispatcher, tracker, result, understood={}, text=text)
        if is_non_answer(text):
            dispatcher.utter_message(text="没关系，先说个大概就行：在哪个地方、打算卖什么或做什么服务，比如「在阳江开一家小超市」。")
        else:
            dispatcher.utter_message(
                text="请说说您想在哪里开什么店，比如「我想在阳江开一家80平米的超市」。"
            )
        return []
    return present(dispatcher, tracker, result, understood=understood, text=text,
                   ack=result.get("ack"), force_bundle=intent == "correct")


async def process_payload(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str | None) -> list[EventType]:
    profile = c.get_profile(tracker)
    pending = c.get_pending(tracker)
    facts = facts_from_entities((tracker.latest_message or {}).get("entities") or [])
    if not facts and pending and intent in ("affirm", "deny"):
        value = match_option(pending, "", intent)
        if value is not _NO_MATCH:
            facts = dict(value) if isinstance(value, dict) else {pending["key"]: value}
    if not facts:
        if pending:
            dispatcher.utter_message(text="请点一个选项，或直接用一句话告诉我：")
            return c.ask(dispatcher, pending, tracker.get_slot(c.LAST_ASKED), second=True)
        dispatcher.utter_message(text="请说说您想在哪里开什么店，比如「我想在中山开一家奶茶店」。")
        return []
    try:
        result = await get_client().resolve(merge_facts(profile, facts))
    except DaobanApiError as exc:
        return c.api_error(dispatcher, exc)
    return present(dispatcher, tracker, result, understood=facts, text="", ack=c.ack_line(facts))


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

        m = CODE_IN_TEXT.search(text)
        if m and not c.is_payload(text):
            return await open_intake(dispatcher, tracker, m.group(1))
        if (
            not c.is_payload(text)
            and profile.get("activities")
            and IDLE_MINUTES > 0
            and idle_minutes(tracker) >= IDLE_MINUTES
        ):
            dispatcher.utter_message(
                text=f"欢迎回来！上次说到：{c.profile_summary(profile)}。接着上次的办，还是重新开始？",
                buttons=[{"title": "接着办", "payload": "/resume_intake"}, {"title": "重新开始", "payload": "/start_over"}],
            )
            return [SlotSet(c.STASHED, text)]

        if (
            not c.is_payload(text)
            and (intent not in ("describe_business", "correct") or not WHICH_PERMITS.search(text))
            and (pending or profile.get("activities"))
            and _asks_something(text)
        ):  # a real question mid-intake (the NLU took it for information): the knowledge base;
            # 「…要办什么证？」 is what the intake itself answers
            from actions.faq import ActionAnswerFaq

            return await ActionAnswerFaq().run(dispatcher, tracker, domain)

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

        if c.is_payload(text):
            events = await process_payload(dispatcher, tracker, intent)
        else:
            events = await process_text(dispatcher, tracker, text, intent, profile=profile)
        return events + await persist(dispatcher, tracker, events)


async def open_intake(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> list[EventType]:
    """Continue an intake begun on another channel: load what it knows, carry on."""
    code = (code or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{6}", code):
        dispatcher.utter_message(text="办理码是6位字母和数字，请核对后再发一次。")
        return []
    try:
        snap = await get_client().get_intake(code)
    except DaobanApiError as exc:
        if exc.status == 404:
            dispatcher.utter_message(text=f"没有找到办理码 {code}（可能输错了，或已超过保存期限）。请核对，或直接说说您的情况，我们重新开始。")
            return []
        if exc.status == 429:
            dispatcher.utter_message(text="查询办理码太频繁了，请过一会儿再试。")
            return []
        return c.api_error(dispatcher, exc)
    profile = snap.get("profile") or {}
    pending = snap.get("pending_question") or None
    bundle = snap.get("bundle") or None
    events: list[EventType] = [
        SlotSet(c.PROFILE, profile), SlotSet(c.PENDING, pending), SlotSet(c.BUNDLE, bundle),
        SlotSet(c.INTAKE_CODE, code), SlotSet(c.FORM_OFFERED, None), SlotSet(c.STASHED, None),
    ]
    dispatcher.utter_message(text=f"已找到办理码 {code}：{c.profile_summary(profile)}。我们接着办。")
    if pending:
        events += c.ask(dispatcher, pending, tracker.get_slot(c.LAST_ASKED))
    elif bundle:
        show_bundle(dispatcher, bundle, code)
        offer_form(dispatcher)
        events.append(SlotSet(c.FORM_OFFERED, True))
    snapshot = {"sender": tracker.sender_id, "channel": c.channel_of(tracker), "profile": profile,
                "pending": pending, "bundle": bundle}
    try:
        await get_client().update_intake(code, snapshot)  # the intake now lives on this channel
    except DaobanApiError as exc:
        log.warning("intake %s not moved: %s", code, exc)
    return events


class ActionOpenIntake(Action):
    """/resume_intake{"intake_code": "K7QX2M"}: open an intake by code; without a code
    (「接着办」 after an idle offer): go on with what the applicant had just said."""

    def name(self) -> Text:
        return "action_open_intake"

    async def run(self, dispatcher, tracker, domain):
        codes = [e.get("value") for e in (tracker.latest_message or {}).get("entities") or [] if e.get("entity") == "intake_code"]
        if codes and codes[0]:
            return await open_intake(dispatcher, tracker, str(codes[0]))
        stashed = tracker.get_slot(c.STASHED)
        events: list[EventType] = [SlotSet(c.STASHED, None)]
        if stashed:
            dispatcher.utter_message(text="好的，接着上次的办。")
            more = await process_text(dispatcher, tracker, stashed, None)
            return events + more + await persist(dispatcher, tracker, more)
        return events + c.resume(dispatcher, tracker, lead="好的，接着上次的办：")


class ActionResumeIntake(Action):
    """After chit-chat, a greeting, thanks or out-of-scope: anything the message said
    about the business is still taken in; otherwise the pending question again (in other
    words)."""

    def name(self) -> Text:
        return "action_resume_intake"

    async def run(self, dispatcher, tracker, domain):
        text = c.latest_text(tracker).strip()
        profile = c.get_profile(tracker)
        pending = c.get_pending(tracker)
        if text and not c.is_payload(text) and (profile or pending):
            try:
                result, understood = await read_text(get_client(), tracker, text, profile, pending, None)
            except DaobanApiError:
                understood = {}
            if understood:
                events = present(dispatcher, tracker, result, understood=understood, text=text, ack=result.get("ack"))
                return events + await persist(dispatcher, tracker, events)
        return c.resume(dispatcher, tracker)


class ActionRestartIntake(Action):
    """「重新开始」: forget the profile, keep the conversation (a new intake, a new code)."""

    def name(self) -> Text:
        return "action_restart_intake"

    async def run(self, dispatcher, tracker, domain):
        stashed = tracker.get_slot(c.STASHED)
        events: list[EventType] = [AllSlotsReset()]
        if stashed and not c.is_payload(stashed):
            dispatcher.utter_message(text="好的，我们重新开始。")
            more = await process_text(dispatcher, _Blank(tracker), stashed, None, profile={})
            return events + more + await persist(dispatcher, _Blank(tracker), more)
        dispatcher.utter_message(text="好的，我们重新开始。请说说您想在哪里开什么店，比如「我想在中山开一家奶茶店」。")
        return events


def _Blank(tracker: Tracker) -> Tracker:
    """The same conversation with every slot empty (after 重新开始)."""
    return Tracker(tracker.sender_id, {k: None for k in tracker.slots}, tracker.latest_message, tracker.events,
                   False, None, {}, tracker.latest_action_name)
