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
        events, messages = run_action(ActionShowForm(), make_tracker("帮我生成申请表", "request_form", slots={"profile": PROFILE}))
    assert json.loads(route.calls[0].request.content) == {"profile": PROFILE, "values": {}}
    assert events == [SlotSet("form_offered", False)]
    assert customs(messages) == [{"type": "form", **FORM}]


def test_no_form_before_a_description():
    events, messages = run_action(ActionShowForm(), make_tracker("申请表", "request_form"))
    assert events == []
    assert customs(messages) == []
    assert "开什么店" in texts(messages)[0]
