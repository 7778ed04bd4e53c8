"""The merged form (一表申请)."""
from __future__ import annotations

import json

import httpx
import pytest
import respx
from rasa_sdk.events import SlotSet

from actions.form import ActionShowForm
from actions.testing import customs, make_tracker, run_action, texts

API = "http://daoban.test"
PROFILE = {"region": "suixian", "activities": ["pharmacy"], "medical_devices": "class2"}
FORM = {"sections": [{"key": "basic", "title": "基本信息", "fields": ["applicant_name"]}], "fields": [{"key": "applicant_name", "value": None}], "bundle_final": True}


pytestmark = pytest.mark.usefixtures("api_url")


def test_form_payload_from_the_api():
    with respx.mock(base_url=API + "/api/v1") as api:
        route = api.post("/intake/form").mock(return_value=httpx.Response(200, json=FORM))
        drafts = api.post("/applications/drafts").mock(return_value=httpx.Response(404, json={}))
        events, messages = run_action(ActionShowForm(), make_tracker("帮我生成申请表", "request_form", slots={"profile": PROFILE}))
    assert json.loads(route.calls[0].request.content) == {"profile": PROFILE, "values": {}}
    assert events == [SlotSet("form_offered", False)]
    assert customs(messages) == [{"type": "form", **FORM}]  # no drafts yet (404): no apply_url
    assert json.loads(drafts.calls[0].request.content) == {"profile": PROFILE, "values": {}, "channel": "web"}


def test_form_carries_the_apply_url_when_drafts_are_offered():
    with respx.mock(base_url=API + "/api/v1") as api:
        api.post("/intake/form").mock(return_value=httpx.Response(200, json=FORM))
        api.post("/applications/drafts").mock(return_value=httpx.Response(
            201, json={"draft_id": "d-1", "token": "tok", "apply_url": "http://127.0.0.1:8000/apply/d-1#tok"}))
        _, messages = run_action(ActionShowForm(), make_tracker("帮我生成申请表", "request_form", slots={"profile": PROFILE}))
    (form,) = customs(messages)
    assert form["apply_url"] == "http://127.0.0.1:8000/apply/d-1#tok" and form["draft_id"] == "d-1"
    assert "核对并提交" in texts(messages)[-1]


def test_no_form_before_a_description():
    events, messages = run_action(ActionShowForm(), make_tracker("申请表", "request_form"))
    assert events == []
    assert customs(messages) == []
    assert "开什么店" in texts(messages)[0]
