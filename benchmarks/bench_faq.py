"""FAQ retrieval benchmark: the chosen retrieval (hybrid e5 + jieba BM25), dense
only, and the BM25-only baseline, in the same run, on the held-out ``test`` split
of ``data/faq/eval.yaml`` (the ``calibration`` split only chose the weights and
thresholds).

Prints hit@1, hit@3, out-of-scope rejection, answered-and-correct, p50/p95 search
latency (query embedding + FAISS + BM25 + gate; no query cache) and peak RSS.
Each method runs in its own process so peak memory is its own: the BM25 baseline
never loads the model.

    .venv/bin/python benchmarks/bench_faq.py                # uses/creates the live index
    .venv/bin/python benchmarks/bench_faq.py --rebuild      # also times a full index build (temp dir)
    .venv/bin/python benchmarks/bench_faq.py --threads 2    # torch threads per search (default 1)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(method: str, split: str) -> dict:
    from knowledge_base.settings import get_settings
    from knowledge_base.faq.embedders import make_embedder
    from knowledge_base.faq.index import FaqIndex, evaluate, load_eval

    s = get_settings()
    t0 = time.perf_counter()
    embedder = None if method == "bm25" else make_embedder(s)
    index = FaqIndex.load(s.index_dir, embedder)
    load_s = time.perf_counter() - t0
    ev = load_eval(Path(s.data_dir) / "faq" / "eval.yaml")
    # warm-up (first call pays lazy init), not counted
    for q, *_ in ev["calibration"]["in_scope"][:5]:
        index.search(q, method=method, use_cache=False)
    res = evaluate(index, ev[split], method, use_cache=False)
    res.update({"peak_rss_mb": round(_peak_rss_mb(), 1), "load_s": round(load_s, 2),
                "entries": index.n_entries, "wordings": len(index.texts)})
    return res


def ensure_index(rebuild: bool) -> dict:
    from knowledge_base.settings import get_settings
    from knowledge_base.faq.cli import build
    from knowledge_base.faq.index import current_build

    s = get_settings()
    info: dict = {}
    if rebuild:
        from knowledge_base.settings import Settings

        with tempfile.TemporaryDirectory() as tmp:
            ts = Settings(**{**s.model_dump(), "var_dir": Path(tmp)})
            t = time.perf_counter()
            _, report = build(ts, progress=True)
            info["full_build_s"] = round(time.perf_counter() - t, 1)
            info["full_build_report"] = report.as_dict()
    t = time.perf_counter()
    if current_build(s.index_dir) is None or rebuild:
        _, report = build(s, progress=True)  # incremental against the live build
        info["live_build_report"] = report.as_dict()
    info["ensure_s"] = round(time.perf_counter() - t, 1)
    return info


def fmt(v):
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=["hybrid", "dense", "bm25"])
    ap.add_argument("--split", default="test", choices=["test", "calibration"])
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads per search (default 1: steadiest p95 on 2 shared cores)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["DAOBAN_TORCH_THREADS"] = str(args.threads)
    if args.child:
        print(json.dumps(child(args.child, args.split)))
        return

    from knowledge_base.settings import get_settings

    s = get_settings()
    print(f"embedder={s.embedder} index_dir={s.index_dir} split={args.split} torch_threads/search={args.threads} "
          f"cpus={os.cpu_count()}")
    info = ensure_index(args.rebuild)
    if info.get("full_build_s"):
        r = info["full_build_report"]
        print(f"full index build: {info['full_build_s']} s for {r['texts']} wordings / {r['entries']} entries "
              f"(generated {r['generated']}, curated {r['curated']})")
    results = {}
    for method in ("hybrid", "dense", "bm25"):
        env = {**os.environ, "DAOBAN_TORCH_THREADS": str(args.threads)}
        out = subprocess.run([sys.executable, __file__, "--child", method, "--split", args.split,
                              "--threads", str(args.threads)], capture_output=True, text=True, env=env, cwd=ROOT)
        if out.returncode != 0:
            print(out.stderr[-3000:])
            raise SystemExit(f"{method} failed")
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
    cols = ["hit@1", "hit@3", "oos_rejection", "answered_correct", "p50_ms", "p95_ms", "peak_rss_mb"]
    r0 = results["hybrid"]
    print(f"\n{r0['n_in_scope']} in-scope + {r0['n_oos']} out-of-scope questions ({args.split} split); "
          f"index: {r0['entries']} entries, {r0['wordings']} wordings\n")
    print(f"{'method':<10}" + "".join(f"{c:>18}" for c in cols))
    for m, r in results.items():
        print(f"{m:<10}" + "".join(f"{fmt(r[c]):>18}" for c in cols))
    b = results["bm25"]
    print(f"{'hybrid/bm25':<10}" + "".join(
        f"{(r0[c] / b[c] if b[c] else float('inf')):>18.2f}" for c in cols))
    targets = {"hit@1": 0.90, "hit@3": 0.97, "oos_rejection": 0.95}
    ok = all(r0[k] >= v for k, v in targets.items()) and r0["p50_ms"] < 30
    print("\ntargets (hybrid): hit@1>=0.90 hit@3>=0.97 oos>=0.95 p50<30ms ->", "MET" if ok else "NOT MET")
    if args.json:
        print(json.dumps({"results": results, "build": info}, ensure_ascii=False))


if __name__ == "__main__":
    main()
