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

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

# Rasa slots the actions own (bot/domain.yml).
PROFILE = "profile"
PENDING = "pending_question"
BUNDLE = "bundle"
FORM_OFFERED = "form_offered"
HANDOFF_REQUESTS = "handoff_requests"
QUESTIONS_ASKED = "questions_asked"

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
    "name": "名称",
    "address": "地址",
    "employees": "人数",
}
VALUE_LABELS = {
    "food_sales": {"none": "不卖", "produce": "只卖食用农产品", "prepackaged": "只卖预包装", "bulk": "散装或现制", "catering": "餐饮"},
    "medical_devices": {"none": "不卖", "class2": "二类", "class3": "三类", "both": "二类和三类"},
}
UNITS = {"area_m2": "平方米", "vehicle_weight_t": "吨", "rooms": "间", "employees": "人"}
REGION_NAMES = {"zhongshan": "中山市", "yangjiang": "阳江市", "suixian": "睢县", "jinzhong": "晋中市", "tongxin": "同心县"}

API_DOWN_TEXT = "系统暂时连不上，请稍后再试；着急的话可以拨打12345政务服务便民热线。"


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


def ask(dispatcher: CollectingDispatcher, question: Question) -> None:
    """The contract's question payload: {"type": "question", "key", "text", "options"}."""
    payload = {"type": "question", **question}
    payload.setdefault("options", [])
    dispatcher.utter_message(json_message=payload)


def resume(dispatcher: CollectingDispatcher, tracker: Tracker, lead: str | None = None) -> list[EventType]:
    """Re-ask the pending question (after an FAQ, a why, a chit-chat turn)."""
    pending = get_pending(tracker)
    if pending:
        dispatcher.utter_message(text=lead or "我们继续：")
        ask(dispatcher, pending)
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
        return REGION_NAMES.get(value, str(value))
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


def slot_events(**slots: Any) -> list[EventType]:
    return [SlotSet(k, v) for k, v in slots.items()]
