"""Recognition of trades beyond the synonym list (knowledge_base/intake/matcher.py): building is
separate from matching, the decision is thresholded (accept / ask / unknown), activities known
to need nothing are never taken on a semantic match alone, and an unknown trade is never
told 准入即准营.  One test loads the real model and checks the calibration list."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from knowledge_base.intake.describe import Describer
from knowledge_base.intake.matcher import ActivityMatcher, Thresholds


class TableEmbedder:
    """Vectors chosen by hand: phrase -> direction (tests only)."""

    name = "table"
    dim = 4

    def __init__(self, table):
        self.table = table

    def _v(self, text):
        v = np.asarray(self.table.get(text, [0, 0, 0, 1]), dtype=np.float32)
        return v / np.linalg.norm(v)

    def encode(self, texts, **_):
        return np.stack([self._v(t) for t in texts])

    def encode_query(self, text):
        return self._v(text)


def test_decisions_follow_the_thresholds(catalog, tmp_path):
    words = ["洗车店", "汽修厂", "服装店"]
    keys = ["car_wash", "vehicle_repair", "clothing"]
    emb = TableEmbedder({"洗车店": [1, 0, 0, 0], "汽修厂": [0, 1, 0, 0], "服装店": [0, 0, 1, 0],
                         "洗车行": [1, 0.05, 0, 0], "精洗车行": [1, 0.05, 0, 0], "修洗车": [1, 0.97, 0, 0], "卖衣服的": [0, 0, 1, 0.01], "纹身店": [0.2, 0.1, 0.1, 1]})
    m = ActivityMatcher(emb, words, keys, emb.encode(words), Thresholds(accept=0.95, margin=0.05, ask=0.7),
                        confirm_only=frozenset({"clothing"}))
    assert m.match("洗车行").decision == "accept" and m.match("洗车行").keys == ["car_wash"]
    assert m.match("精洗车行").decision == "ask"  # 精 is not in any catalog word: asked, not taken
    ask = m.match("修洗车")
    assert ask.decision == "ask" and set(ask.keys) == {"car_wash", "vehicle_repair"}
    assert m.match("纹身店").decision == "unknown"
    # known to need nothing: asked, never taken silently
    assert m.match("卖衣服的").decision == "ask"


def test_vectors_are_cached_by_words_and_model(catalog, tmp_path):
    from knowledge_base.faq.embedders import FakeEmbedder

    calls = []

    class Counting(FakeEmbedder):
        def encode(self, texts, **kw):
            calls.append(len(texts))
            return super().encode(texts, **kw)

    a = ActivityMatcher.build(catalog, Counting(), tmp_path)
    b = ActivityMatcher.build(catalog, Counting(), tmp_path)
    assert len(calls) == 1 and np.array_equal(a.vectors, b.vectors)
    assert len(set(a.keys)) == len(catalog.industries)


def test_unknown_trade_is_handed_over_not_cleared(intake):
    r = intake.describe("在阳江开个纹身店")
    b = r["bundle"]
    assert b["coverage"] == "unknown" and b["unrecognized"] == ["纹身店"] and b["handoff"] is True
    assert not b["items"] and "准入即准营" not in b["summary"] and "暂未收录" in b["summary"]
    assert [s["code"] for s in b["startup_steps"]] == ["business_registration"]  # the general start-up steps


def test_ambiguous_match_becomes_a_which_question(intake, catalog):
    emb = TableEmbedder({"饭店": [1, 0, 0, 0], "夜市摊": [0, 1, 0, 0], "撸串摊": [1, 1, 0, 0]})
    words, keys = ["饭店", "夜市摊"], ["restaurant", "food_stall"]
    m = ActivityMatcher(emb, words, keys, emb.encode(words), Thresholds(accept=0.99, margin=0.05, ask=0.5))
    d = Describer(intake.lexicon, m)
    parsed = d.parse("中山开个撸串摊")
    assert parsed.profile.candidates == {"撸串摊": ["restaurant", "food_stall"]}
    r = intake.engine.resolve(parsed.profile).model_dump()
    q = r["questions"][0]
    assert q["key"] == "activities" and "还是" in q["text"]
    assert [o["value"] for o in q["options"]] == ["restaurant", "food_stall", None]  # 都不是 stays unknown
    assert r["bundle"]["coverage"] == "unknown" and r["bundle"]["handoff"] is False  # asked first
    assert '"candidates": {}' in q["options"][0]["payload"] and '"unrecognized": []' in q["options"][0]["payload"]
    assert emb.name == "table"


@pytest.mark.real_model
def test_real_model_never_accepts_a_wrong_trade(catalog, tmp_path):
    """The calibration list (tests/data/matcher_calibration.yaml) with the e5 model the API uses."""
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.settings import Settings

    m = ActivityMatcher.build(catalog, make_embedder(Settings()), tmp_path)
    cases = yaml.safe_load((Path(__file__).parent / "data" / "matcher_calibration.yaml").read_text(encoding="utf-8"))
    wrong, good = [], 0
    for c in cases:
        r = m.match(c["phrase"])
        if r.decision == "accept" and r.keys != [c["want"]]:
            wrong.append((c["phrase"], r.keys))
        good += (r.decision == "accept" and r.keys == [c["want"]]) or (r.decision == "ask" and c["want"] in r.keys) \
            or (r.decision == "unknown" and c["want"] is None)
    assert wrong == []
    assert good >= 0.85 * len(cases), good
