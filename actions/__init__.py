"""Rasa custom actions (rasa-sdk).  In the action server, every action runs with the
request id from the API's relay (JSON logs, X-Request-ID on API calls): knowledge_base/logs.py."""
from knowledge_base.logs import install_action_server as _install

_install()
