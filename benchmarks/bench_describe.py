"""Describe latency: free text → profile → bundle + questions.

Prints p50/p95/max over the describe texts of tests/cases and a set of extra
descriptions, for (a) the full describe path through the HTTP app (in-process),
(b) the service call alone, and (c) the baseline: resolve from an already
structured profile (no text understanding); ratio = describe / baseline."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXTRA = [
    "我想在同心开个清真小饭馆，一百平米左右",
    "中山石岐开奶茶店，三十平米",
    "阳江阳东开一家超市，八百平方，卖烟也卖散装食品",
    "睢县开个小卖部，四十平米，卖烟和散装零食",
    "晋中平遥开客栈，十五间房，有餐厅",
    "同心开网吧，卖饮料泡面",
    "中山开宠物医院",
    "晋中开物流公司，用18吨的大货车",
    "同心开诊所，有牙片机",
    "阳江开理发店",
    "睢县开饭店两百平米",
    "中山开KTV三百平，带小吃果盘",
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(rounds: int = 20):
    from fastapi.testclient import TestClient

    from api.intake.service import IntakeService
    from api.main import create_app
    from knowledge_base.settings import Settings
    from knowledge_base.catalog.loader import load_catalog
    from knowledge_base.rules.profile import Profile

    texts = [c["text"] for c in yaml.safe_load((ROOT / "tests/cases/describe.yaml").read_text(encoding="utf-8"))] + EXTRA
    svc = IntakeService(load_catalog(ROOT / "data"))
    profiles = [Profile.model_validate(svc.describe(t)["profile"]) for t in texts]

    def timed(fn, items):
        out = []
        for _ in range(rounds):
            for it in items:
                t0 = time.perf_counter()
                fn(it)
                out.append((time.perf_counter() - t0) * 1000)
        return out

    class _NoFaq:
        def close(self):
            pass

    import tempfile

    with tempfile.TemporaryDirectory() as tmp, TestClient(create_app(Settings(var_dir=Path(tmp)), faq_service=_NoFaq())) as client:
        http = timed(lambda t: client.post("/api/v1/intake/describe", json={"text": t}).raise_for_status(), texts)
    service = timed(svc.describe, texts)
    baseline = timed(svc.resolve, profiles)
    print(f"describe benchmark: {len(texts)} texts x {rounds} rounds")
    print(f"{'path':<34}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, vals in [("HTTP POST /intake/describe", http), ("service describe()", service), ("baseline resolve(profile)", baseline)]:
        print(f"{name:<34}{statistics.median(vals):>10.2f}{pct(vals, 95):>10.2f}{max(vals):>10.2f}")
    print(f"ratio describe/resolve (p50): {statistics.median(service) / statistics.median(baseline):.2f}x")
    accuracy(svc)


def accuracy(svc):
    """Understanding on descriptions written for evaluation only (benchmarks/data/*.yaml).
    "codes ok" sends the region as the widget/hotline would (the applicant picked it);
    "region from text" is how often the place is read from the words alone (many texts
    name no place at all, so this is a floor, not an error rate).  Baseline: the same
    texts through a keyword-only reader (activity lexicon, no numbers/negation/flags)."""
    from knowledge_base.rules.profile import Profile

    print()
    print(f"{'eval set':<20}{'n':>5}{'codes ok':>10}{'baseline':>10}{'region from text':>18}")
    for path in sorted((ROOT / "benchmarks" / "data").glob("describe_*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
        reg = ok = base = 0
        for c in cases:
            good = lambda codes: set(c.get("must", [])) <= codes and not set(c.get("must_not", [])) & codes
            r = svc.describe(c["text"], c.get("region"))
            ok += good({it["code"] for it in r["bundle"]["items"]})
            words = [a for w, a in svc.lexicon.activity_words.items() if w in c["text"]]
            b = svc.resolve(Profile(region=c.get("region"), activities=list(dict.fromkeys(words))))
            base += good({it["code"] for it in b["bundle"]["items"]})
            reg += svc.describe(c["text"])["profile"]["region"] == c.get("region")
        n = len(cases)
        print(f"{path.stem:<20}{n:>5}{ok / n:>10.2f}{base / n:>10.2f}{reg / n:>18.2f}")


if __name__ == "__main__":
    main()
