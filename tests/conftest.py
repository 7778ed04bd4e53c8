from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge_base.faq.embedders import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def catalog():
    from knowledge_base.catalog.loader import load_catalog

    return load_catalog(ROOT / "data")


@pytest.fixture(scope="session")
def intake(catalog):
    from api.intake.service import IntakeService

    return IntakeService(catalog)


class CountingFake(FakeEmbedder):
    """The fake embedder, counting what it encodes (an incremental rebuild embeds only what changed)."""

    def __init__(self):
        super().__init__()
        self.encoded = 0

    def encode(self, texts, **kw):
        self.encoded += len(texts)
        return super().encode(texts, **kw)


@pytest.fixture(scope="session")
def fake_faq_build(tmp_path_factory):
    """The one calibrated FAQ build with the fake embedder (about 3 min on 2 cores, most of it
    fitting the ranking weights): (index dir, the embedder that counted what it encoded, the build
    report).  Tests copy it rather than building their own."""
    from knowledge_base.faq.build import rebuild
    from knowledge_base.settings import Settings

    var = tmp_path_factory.mktemp("fakefaq")
    emb = CountingFake()
    _, report = rebuild(Settings(var_dir=var, embedder="fake"), embedder=emb)
    return var / "faq_index", emb, report


@pytest.fixture(scope="session")
def fake_faq_index(fake_faq_build) -> Path:
    """The fake-embedder FAQ index, for every test that starts an API on a fresh var dir:
    ``seed_faq_index`` copies it in, so each start loads it instead of building its own."""
    return fake_faq_build[0]


def seed_faq_index(index_dir: Path, var_dir: Path) -> None:
    """Copy a built FAQ index (``fake_faq_index``) into ``var_dir`` (builds and CURRENT)."""
    shutil.copytree(index_dir, Path(var_dir) / "faq_index", dirs_exist_ok=True)


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
