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
