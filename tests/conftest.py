from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def catalog():
    from knowledge_base.catalog.loader import load_catalog

    return load_catalog(ROOT / "data")


@pytest.fixture(scope="session")
def intake(catalog):
    from api.intake.service import IntakeService

    return IntakeService(catalog)


FAKE_API = "http://daoban.test"  # what the action tests point the actions' API client at


@pytest.fixture()
def api_url(monkeypatch):
    """Point the actions' client at a fake API host (respx answers for it)."""
    monkeypatch.setenv("DAOBAN_API_URL", FAKE_API)
    return FAKE_API


@pytest.fixture()
def api(api_url):
    """respx mock of the daoban API for action tests."""
    import respx

    with respx.mock(base_url=api_url + "/api/v1", assert_all_called=False) as mock:
        yield mock
