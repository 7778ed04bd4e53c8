"""The real e5 model on onnxruntime (the served path) and the real index, in a fresh
process: the search answers and torch is never imported."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys
from knowledge_base.settings import get_settings
from knowledge_base.faq.embedders import make_embedder
from knowledge_base.faq.query import FaqIndex
s = get_settings()
emb = make_embedder(s, build=False)
idx = FaqIndex.load(s.index_dir, emb)
out = {}
for q in ("开饭店那个食品证几天能拿到", "消访检查要多久", "办护照要带什么", "哈哈", "我要投诉一家饭店卫生太差",
          "开个花店要不要许可证"):
    r = idx.search(q)
    out[q] = [r.answered, r.hits[0].id if r.hits else None]
v = emb.encode(["开饭店要办什么证", "开餐馆需要什么许可证", "今天天气很好"])
out["_sims"] = [float(v[0] @ v[1]), float(v[0] @ v[2])]
one = emb.encode_query("开餐馆需要什么许可证")
out["_batch_vs_one"] = float(v[1] @ one)  # the index's vector = the question's own (one text per run)
import onnx
g = onnx.load(str(emb.model_path), load_external_data=False).graph
out["_ops"] = sorted({n.op_type for n in g.node})
out["_threads"] = emb.query_threads
out["_runtime"] = s.faq_runtime
out["_torch"] = "torch" in sys.modules
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.mark.real_model
def test_onnx_model_searches_real_index_without_torch():
    from knowledge_base.faq.build import current_build
    from knowledge_base.settings import get_settings

    settings = get_settings()
    if settings.embedder == "fake":
        pytest.skip("DAOBAN_EMBEDDER=fake")
    if current_build(settings.index_dir) is None:
        pytest.skip("no FAQ index built (scripts/prepare.sh builds it)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["_torch"] is False, "the query path imported torch"
    assert res["_runtime"].startswith("onnx")
    assert res["_sims"][0] > res["_sims"][1]
    assert res["_batch_vs_one"] > 0.99999, res["_batch_vs_one"]
    assert "QAttention" in res["_ops"] or "Attention" in res["_ops"], res["_ops"]  # the fused graph
    assert res["_threads"] == min(2, os.cpu_count() or 1)
    assert res["开饭店那个食品证几天能拿到"] == [True, "food_business_license.time_limit"]
    assert res["消访检查要多久"][0] is True and res["消访检查要多久"][1].startswith("fire")
    for q in ("办护照要带什么", "哈哈", "我要投诉一家饭店卫生太差"):
        assert res[q][0] is False, q
    # a trade known to need no permit: a general entry, not the fireworks permit (花)
    assert res["开个花店要不要许可证"] == [True, "general.which_permits"]
