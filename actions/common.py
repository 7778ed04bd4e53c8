"""Conversation helpers shared by the action modules: reading the tracker,
sending the contract's payloads, re-asking the pending question.  No business
rule here: what to ask and what to obtain come from the API."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.client import Bundle, DaobanApiError, Question
from knowledge_base.privacy import mask_text  # noqa: F401  (hand-over summaries)

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

# Rasa slots the actions own (bot/domain.yml).
PROFILE = "profile"
PENDING = "pending_question"
BUNDLE = "bundle"
FORM_OFFERED = "form_offered"
HANDOFF_REQUESTS = "handoff_requests"
QUESTIONS_ASKED = "questions_asked"
LAST_ASKED = "last_question_text"  # the wording of the last question shown (never repeated word for word)
INTAKE_CODE = "intake_code"  # the intake's short code (cross-channel resume)
STASHED = "stashed_text"  # what a returning applicant said before choosing 接着办 / 重新开始
HANDED_UNKNOWN = "handed_unknown"  # the unknown-trade words already handed over

# Profile-key labels, for the hand-over summary only (display text).
LABELS = {
    "region": "地区",
    "activities": "经营项目",
    "area_m2": "面积",
    "food_sales": "食品销售",
    "halal": "清真",
    "tobacco": "卖烟",
    "medical_devices": "医疗器械",
    "workshop": "自产加工",
    "radiation": "放射设备",
    "maternal": "母婴保健",
    "entertainment": "娱乐演艺",
    "vehicle_weight_t": "车辆总质量",
    "rooms": "客房",
    "seed_repack": "种子分装",
    "outdoor_ad": "大型户外广告",
    "elevator": "电梯",
    "amusement_rides": "大型游乐设施",
    "online_drug_info": "互联网药品信息",
    "live_music": "驻唱演出",
    "books": "卖书报",
    "drugs": "卖药",
    "meals": "供餐",
    "entity_type": "主体",
    "name": "名称",
    "address": "地址",
    "employees": "人数",
}
VALUE_LABELS = {
    "food_sales": {"none": "不卖", "produce": "只卖食用农产品", "prepackaged": "只卖预包装", "bulk": "散装或现制", "catering": "餐饮"},
    "medical_devices": {"none": "不卖", "class2": "二类", "class3": "三类", "both": "二类和三类"},
    "entity_type": {"individual": "个体工商户", "company": "公司(企业)"},
}
UNITS = {"area_m2": "平方米", "vehicle_weight_t": "吨", "rooms": "间", "employees": "人"}

API_DOWN_TEXT = "系统暂时连不上，请稍后再试；着急的话可以拨打12345政务服务便民热线。"


@lru_cache(maxsize=1)
def region_names() -> dict[str, str]:
    """code -> name, from the region packs data/catalog/regions/*.yaml (display only)."""
    import os

    import yaml

    names: dict[str, str] = {}
    for path in sorted((Path(os.environ.get("DAOBAN_DATA_DIR", ROOT / "data")) / "catalog" / "regions").glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("code"):
            names[str(data["code"])] = str(data.get("name") or data["code"])
    return names


@lru_cache(maxsize=1)
def activity_names() -> dict[str, str]:
    """key -> display name, from data/catalog/industries.yaml (display only)."""
    import os

    import yaml

    path = Path(os.environ.get("DAOBAN_DATA_DIR", ROOT / "data")) / "catalog" / "industries.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    acts = data.get("activities", []) if isinstance(data, dict) else []
    return {a["key"]: a.get("name") or a["key"] for a in acts if isinstance(a, dict) and a.get("key")}


def get_profile(tracker: Tracker) -> dict[str, Any]:
    value = tracker.get_slot(PROFILE)
    return dict(value) if isinstance(value, dict) else {}


def get_pending(tracker: Tracker) -> Question | None:
    value = tracker.get_slot(PENDING)
    return value if isinstance(value, dict) and value.get("key") else None


def get_bundle(tracker: Tracker) -> Bundle | None:
    value = tracker.get_slot(BUNDLE)
    return value if isinstance(value, dict) else None


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_metadata(tracker: Tracker) -> dict[str, Any]:
    meta = (tracker.latest_message or {}).get("metadata")
    return meta if isinstance(meta, dict) else {}


def is_payload(text: str) -> bool:
    """Quick replies arrive as Rasa intent shortcuts: /inform{"area_m2": 100}."""
    return text.strip().startswith("/")


def _options_hint(question: Question) -> str:
    titles = [o.get("title") for o in question.get("options") or [] if o.get("title")]
    return "可以选：" + "、".join(titles) + "。" if titles else ""


def second_wording(question: Question) -> str:
    """The API's ``reask`` (why + example); built from why/example/options when absent."""
    reask = (question.get("reask") or "").strip()
    if reask:  # why + example; the question itself follows unless the wording already asks it
        return reask if reask.endswith(("？", "?")) else f"{reask}{question.get('text', '')}"
    why = (question.get("why") or "").rstrip("。")
    example = question.get("example")
    hint = f"比如：{example}。" if example else _options_hint(question)
    head = f"问这个是因为{why}。" if why else "换个问法："
    return f"{head}{hint}{question.get('text', '')}"


def wording(question: Question, last: str | None, *, second: bool = False) -> str:
    """The words to ask ``question`` with: its text, or the second wording when asked
    again (``second``) — never the same words as the question shown just before."""
    first, other = question.get("text") or "", second_wording(question)
    chosen = other if second else first
    if chosen == last:
        chosen = first if second else other
    if chosen == last:
        chosen = "换个说法：" + chosen
    return chosen


def ask(
    dispatcher: CollectingDispatcher, question: Question, last: str | None = None, *, second: bool = False
) -> list[EventType]:
    """The contract's question payload: {"type": "question", "key", "text", "options"}."""
    payload = {"type": "question", **question}
    payload["text"] = wording(question, last, second=second)
    payload.setdefault("options", [])
    dispatcher.utter_message(json_message=payload)
    return [SlotSet(LAST_ASKED, payload["text"])]


def resume(dispatcher: CollectingDispatcher, tracker: Tracker, lead: str | None = None) -> list[EventType]:
    """Re-ask the pending question (after an FAQ, a why, a chit-chat turn), in other
    words than the last time."""
    pending = get_pending(tracker)
    if pending:
        dispatcher.utter_message(text=lead or "我们继续：")
        return ask(dispatcher, pending, tracker.get_slot(LAST_ASKED), second=True)
    return []


def join_reasons(why) -> str:
    """Reasons are whole sentences: join them without doubling the full stop."""
    if not isinstance(why, list):
        return str(why or "")
    return "".join(w if w.endswith(("。", "！", "？", "；")) else w + "。" for w in why if w)


def item_lines(bundle: Bundle, limit: int | None = None) -> list[str]:
    lines = []
    for i, item in enumerate(bundle.get("items") or [], 1):
        why = join_reasons(item.get("why") or []) or "按您的经营情况需要办理。"
        lines.append(f"{i}. {item.get('name', item.get('code'))}：{why}")
        if limit and i >= limit:
            break
    return lines


def bundle_codes(bundle: Bundle | None) -> list[str]:
    return [it.get("code") for it in (bundle or {}).get("items") or []]


def describe_value(key: str, value: Any) -> str:
    if key == "region":
        return region_names().get(value, str(value))
    if key == "activities":
        names = activity_names()
        return "、".join(names.get(a, a) for a in value or [])
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in VALUE_LABELS:
        return VALUE_LABELS[key].get(value, str(value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value}{UNITS.get(key, '')}"


def profile_summary(profile: dict[str, Any]) -> str:
    parts = []
    for key, label in LABELS.items():
        value = profile.get(key)
        if value is None or value == [] or value == "":
            continue
        parts.append(f"{label}：{describe_value(key, value)}")
    return "；".join(parts) or "尚未说明经营情况"


def api_error(dispatcher: CollectingDispatcher, exc: DaobanApiError) -> list[EventType]:
    log.warning("daoban API error: %s (%s)", exc, exc.detail)
    if exc.status == 422 or exc.status == 400:
        dispatcher.utter_message(text="抱歉，这条信息我没能处理，请换个说法再试一次。")
    else:
        dispatcher.utter_message(text=API_DOWN_TEXT)
    return []


def ack_line(understood: dict[str, Any]) -> str | None:
    """「已记下：…」 for the facts a turn gave (display only; the API's ``ack`` wins)."""
    parts = []
    for key, value in understood.items():
        if key in ("new_business", "activities_removed") or value is None or value == [] or key not in LABELS:
            continue
        if key == "region":
            parts.append(describe_value(key, value))
        elif key == "activities":
            parts.append(describe_value(key, value))
        else:
            parts.append(f"{LABELS[key]}{'：' if not isinstance(value, (int, float)) or isinstance(value, bool) else ''}"
                         f"{describe_value(key, value)}")
    return "已记下：" + "、".join(parts) if parts else None


def channel_of(tracker: Tracker) -> str:
    meta = latest_metadata(tracker).get("channel")
    if isinstance(meta, str) and meta:
        return meta[:16]
    sender = tracker.sender_id or ""
    for prefix in ("hotline", "wx", "web", "e2e", "bench"):
        if sender.startswith(prefix):
            return "hotline" if prefix == "hotline" else ("wechat" if prefix == "wx" else "web")
    return "web"


def slot_events(**slots: Any) -> list[EventType]:
    return [SlotSet(k, v) for k, v in slots.items()]
