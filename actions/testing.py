"""Helpers for the action unit tests: trackers built in code, actions run
synchronously, dispatched messages collected.  (Imported by tests only.)"""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import client as client_mod

DEFAULT_SLOTS: dict[str, Any] = {
    "profile": None,
    "pending_question": None,
    "bundle": None,
    "form_offered": None,
    "handoff_requests": 0.0,
    "questions_asked": 0.0,
    "last_question_text": None,
    "intake_code": None,
    "stashed_text": None,
    "handed_unknown": None,
}


def make_tracker(
    text: str = "",
    intent: str | None = None,
    *,
    entities: list[dict] | None = None,
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    sender_id: str = "test-user",
    previous: list[dict] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
    }
    if metadata is not None:
        latest["metadata"] = metadata
    events = [
        *(previous or []),
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest, "timestamp": 1_000_000.0},
    ]
    return Tracker(
        sender_id=sender_id,
        slots={**DEFAULT_SLOTS, **(slots or {})},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run_action(action: Action, tracker: Tracker, domain: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Run ``action`` on ``tracker``; returns (events, dispatched messages)."""
    dispatcher = CollectingDispatcher()

    async def _run():
        client_mod.reset_clients()
        try:
            return await action.run(dispatcher, tracker, domain or {})
        finally:
            for c in list(client_mod._clients.values()):
                await c.aclose()
            client_mod.reset_clients()

    events = asyncio.run(_run())
    return events, dispatcher.messages


def customs(messages: list[dict]) -> list[dict]:
    return [m["custom"] for m in messages if m.get("custom")]


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if m.get("text")]


def mock_intake_store(api, code: str = "K7QX2M"):
    """respx routes for the intake snapshots (POST/PUT /chat/intakes) and drafts (404:
    not offered).  Returns (create, update) routes."""
    import httpx

    create = api.post("/chat/intakes").mock(return_value=httpx.Response(201, json={"code": code}))
    update = api.put(url__regex=r".*/chat/intakes/[A-Z0-9]{6}$").mock(return_value=httpx.Response(200, json={"code": code}))
    api.post("/applications/drafts").mock(return_value=httpx.Response(404, json={"error": {"code": "http_404"}}))
    return create, update
