"""One running stack (API, action server, Rasa) for every end-to-end module."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import botstack  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    botstack.prepare_model()
    with botstack.running_stack(2) as s:  # two Rasa processes behind the relay, Redis lock store
        yield s
