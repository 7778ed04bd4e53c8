#!/usr/bin/env python3
"""Benchmark the Rasa bot.

1. NLU on the held-out split (bot/tests/nlu_holdout.yml, never trained on):
   intent accuracy and entity precision / recall / F1 (type + exact span).
2. Questions asked per scenario (tests/e2e/scenarios.yaml): median and max.
3. Webhook turn latency p50 / p95 / max with N concurrent conversations.

Starts the API, the action server and Rasa on loopback (like the e2e test), or
uses running ones with --running.  Targets: intent accuracy >= 0.95, median
questions <= 3, p95 turn latency < 300 ms.  Writes var/bench/bench_bot.json.
Usage: .venv/bin/python benchmarks/bench_bot.py [--concurrency 10] [--rounds 3] [--running] [--strict]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import botstack  # noqa: E402

HOLDOUT = ROOT / "bot" / "tests" / "nlu_holdout.yml"
SCENARIOS = ROOT / "tests" / "e2e" / "scenarios.yaml"
TARGETS = {"intent_accuracy": 0.95, "median_questions": 3, "p95_ms": 300}
ANNOT = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def parse_example(line: str) -> tuple[str, list[tuple[str, int, int]]]:
    """'在[中山](region)开店' -> ('在中山开店', [('region', 1, 3)])"""
    text, ents, pos, out = line, [], 0, []
    for m in ANNOT.finditer(text):
        out.append(text[pos:m.start()])
        start = sum(len(x) for x in out)
        out.append(m.group(1))
        ents.append((m.group(2).split(":")[0].split("{")[0].strip(), start, start + len(m.group(1))))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), ents


def load_holdout() -> list[tuple[str, str, list]]:
    data = yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))
    rows = []
    for block in data["nlu"]:
        for line in block.get("examples", "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                text, ents = parse_example(line[2:].strip())
                rows.append((block["intent"], text, ents))
    return rows


def bench_nlu(client: httpx.Client, stack: botstack.Stack) -> dict:
    rows = load_holdout()
    correct = tp = fp = fn = 0
    misses = []
    per_intent: dict[str, list[int]] = {}
    for intent, text, gold in rows:
        p = client.post(f"{stack.rasa_url}/model/parse", json={"text": text}, timeout=30).json()
        got = (p.get("intent") or {}).get("name")
        ok = got == intent
        correct += ok
        per_intent.setdefault(intent, [0, 0])
        per_intent[intent][0] += ok
        per_intent[intent][1] += 1
        if not ok:
            misses.append({"text": text, "gold": intent, "got": got, "confidence": round((p.get("intent") or {}).get("confidence", 0), 3)})
        pred = {(e["entity"], e["start"], e["end"]) for e in p.get("entities") or []}
        gold_set = set(gold)
        tp += len(pred & gold_set)
        fp += len(pred - gold_set)
        fn += len(gold_set - pred)
    majority = max(per_intent.values(), key=lambda v: v[1])[1] / len(rows)  # baseline: always the most common intent
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "examples": len(rows),
        "intent_accuracy": round(correct / len(rows), 4),
        "baseline_majority_accuracy": round(majority, 4),
        "entity_precision": round(precision, 4),
        "entity_recall": round(recall, 4),
        "entity_f1": round(f1, 4),
        "per_intent_accuracy": {k: round(v[0] / v[1], 3) for k, v in sorted(per_intent.items())},
        "misses": misses,
    }


def naive_questions(client: httpx.Client, stack: botstack.Stack, sc: dict) -> int:
    """Baseline: a static form asks every fact its activities list (asks), whether or not
    the answer can change the bundle; only what the first message already said is skipped."""
    industries = {a["key"]: a for a in yaml.safe_load((ROOT / "data/catalog/industries.yaml").read_text(encoding="utf-8"))["activities"]}
    r = client.post(f"{stack.api_url}/api/v1/intake/describe", json={"text": sc["say"]}, timeout=30).json()
    prof = r["profile"]
    keys = {k for a in prof["activities"] for k in industries.get(a, {}).get("asks", []) if prof.get(k) is None}
    return len(keys) + (prof["region"] is None) + (not prof["activities"])


def bench_questions(client: httpx.Client, stack: botstack.Stack, scenarios: list[dict]) -> dict:
    counts, failures = {}, []
    naive = [naive_questions(client, stack, sc) for sc in scenarios]
    for sc in scenarios:
        tr = botstack.run_scenario(client, stack, sc, f"bench-q-{sc['id']}-{uuid.uuid4().hex[:6]}")
        counts[sc["id"]] = len(tr.asked)
        codes = sorted(it["code"] for it in (tr.bundle or {}).get("items", []))
        if codes != sorted(sc.get("expect_codes") or []):
            failures.append(sc["id"])
    values = list(counts.values())
    return {
        "scenarios": len(values),
        "median_questions": statistics.median(values),
        "baseline_static_form_median": statistics.median(naive),
        "baseline_static_form_total": sum(naive),
        "total_questions": sum(values),
        "max_questions": max(values),
        "per_scenario": counts,
        "bundle_mismatches": failures,
    }


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def bench_latency(stack: botstack.Stack, scenarios: list[dict], concurrency: int, rounds: int) -> dict:
    jobs = [scenarios[i % len(scenarios)] for i in range(concurrency * rounds)]

    def worker(idx: int) -> list[float]:
        lat: list[float] = []
        with httpx.Client() as client:
            for j in range(idx, len(jobs), concurrency):  # each worker: one conversation at a time
                tr = botstack.run_scenario(client, stack, jobs[j], f"bench-l-{idx}-{j}-{uuid.uuid4().hex[:6]}")
                lat += tr.latencies
        return lat

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        all_lat = [x for part in pool.map(worker, range(concurrency)) for x in part]
    wall = time.perf_counter() - t0
    ms = [x * 1000 for x in all_lat]
    return {
        "concurrency": concurrency,
        "conversations": len(jobs),
        "turns": len(ms),
        "p50_ms": round(pct(ms, 0.5), 1),
        "p95_ms": round(pct(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "turns_per_s": round(len(ms) / wall, 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3, help="conversations per concurrent user")
    ap.add_argument("--running", action="store_true", help="use services already running on the DAOBAN_E2E_* ports")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "bench_bot.json")
    args = ap.parse_args(argv)

    scenarios = yaml.safe_load(SCENARIOS.read_text(encoding="utf-8"))["scenarios"]
    if args.running:
        ctx = nullcontext(botstack.Stack(botstack.Ports()))
    else:
        botstack.prepare_model()
        ctx = botstack.running_stack()
    with ctx as stack, httpx.Client() as client:
        # warm-up: TensorFlow traces its functions on the first calls of each input shape
        for sc in scenarios[:3]:
            botstack.run_scenario(client, stack, sc, f"bench-warmup-{uuid.uuid4().hex[:6]}")
        nlu = bench_nlu(client, stack)
        questions = bench_questions(client, stack, scenarios)
        latency = bench_latency(stack, scenarios, args.concurrency, args.rounds)
        single = bench_latency(stack, scenarios, 1, max(1, args.rounds))  # baseline: no concurrency
        startup = dict(stack.started_s)

    checks = {
        "intent_accuracy": nlu["intent_accuracy"] >= TARGETS["intent_accuracy"],
        "median_questions": questions["median_questions"] <= TARGETS["median_questions"],
        "p95_ms": latency["p95_ms"] < TARGETS["p95_ms"],
    }
    report = {"nlu": nlu, "questions": questions, "latency": latency, "latency_single": single, "startup_s": startup, "targets": TARGETS, "pass": checks}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    print("bot benchmark")
    print(f"  NLU held-out ({nlu['examples']} examples): intent accuracy {nlu['intent_accuracy']:.3f} "
          f"(target >= {TARGETS['intent_accuracy']})  entity P/R/F1 {nlu['entity_precision']:.3f}/"
          f"{nlu['entity_recall']:.3f}/{nlu['entity_f1']:.3f}")
    print(f"    baseline (always the most common intent): {nlu['baseline_majority_accuracy']:.3f}  "
          f"ratio {nlu['intent_accuracy'] / max(nlu['baseline_majority_accuracy'], 1e-9):.2f}x")
    for m in nlu["misses"]:
        print(f"    miss: {m['text']!r} gold={m['gold']} got={m['got']} ({m['confidence']})")
    print(f"  questions per scenario ({questions['scenarios']} scenarios): median {questions['median_questions']} "
          f"max {questions['max_questions']} (target median <= {TARGETS['median_questions']})"
          + (f"  bundle mismatches: {questions['bundle_mismatches']}" if questions["bundle_mismatches"] else ""))
    print(f"    baseline (static form asking every listed fact): median {questions['baseline_static_form_median']}, "
          f"total {questions['baseline_static_form_total']} vs {questions['total_questions']} asked "
          f"(ratio {questions['total_questions'] / max(questions['baseline_static_form_total'], 1):.2f})")
    print(f"  webhook turn latency, {latency['concurrency']} concurrent conversations ({latency['turns']} turns): "
          f"p50 {latency['p50_ms']} ms  p95 {latency['p95_ms']} ms  max {latency['max_ms']} ms  "
          f"({latency['turns_per_s']} turns/s; target p95 < {TARGETS['p95_ms']} ms)")
    print(f"    baseline (one conversation at a time, {single['turns']} turns): p50 {single['p50_ms']} ms  p95 {single['p95_ms']} ms; "
          f"p95 ratio 10-concurrent/single {latency['p95_ms'] / max(single['p95_ms'], 1e-9):.2f}x, "
          f"throughput ratio {latency['turns_per_s'] / max(single['turns_per_s'], 1e-9):.2f}x")
    if startup:
        print("  start-up: " + ", ".join(f"{k} {v:.1f}s" for k, v in startup.items()))
    print("  targets: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in checks.items()))
    print(f"  report: {args.out}")
    return 1 if args.strict and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
