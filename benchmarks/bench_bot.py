#!/usr/bin/env python3
"""Benchmark the bot, through the API's relay (POST /api/v1/chat/webhook) as the widget uses it.

1. NLU on the held-out split (bot/tests/nlu_holdout.yml, never trained on): intent accuracy
   and entity precision / recall / F1, against always answering the most common intent.
2. Questions and turns to the final bundle on the untidy suite (tests/e2e/scenarios_untidy.yaml)
   and, as the baseline, on the tidy one (scenarios.yaml): median and max.
3. Turn latency p50 / p95 at 10 and at 50 concurrent conversations, with one Rasa process and
   with two (Redis lock store, SQL tracker store) behind the relay; one conversation at a time
   as the baseline.

Starts the system with scripts/run_all.sh on free ports (tests/e2e/botstack.py), once with
one Rasa and once with two.  Writes var/bench/bench_bot.json.  Not a test: it prints figures.
Usage: .venv/bin/python benchmarks/bench_bot.py [--concurrency 10,50] [--rounds 2] [--skip-two]
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
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import botstack  # noqa: E402

HOLDOUT = ROOT / "bot" / "tests" / "nlu_holdout.yml"
TIDY = ROOT / "tests" / "e2e" / "scenarios.yaml"
UNTIDY = ROOT / "tests" / "e2e" / "scenarios_untidy.yaml"
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
        p = client.post(f"{stack.rasa_url}/model/parse", params={"token": stack.rasa_token}, json={"text": text}, timeout=30).json()
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


def to_final(tr: botstack.Transcript) -> int | None:
    """User turns until the first final bundle (None: never final)."""
    for i, t in enumerate(tr.turns, 1):
        if any(b.get("final") for b in botstack.customs(t.replies, "bundle")):
            return i
    return None


def bench_questions(client: httpx.Client, stack: botstack.Stack, scenarios: list[dict]) -> dict:
    asked, turns, failures, never = {}, {}, [], []
    for sc in scenarios:
        tr = botstack.run_scenario(client, stack, sc, f"bench-q-{sc['id']}-{uuid.uuid4().hex[:6]}")
        asked[sc["id"]] = len(tr.asked)
        n = to_final(tr)
        if n is None:
            never.append(sc["id"])
        else:
            turns[sc["id"]] = n
        codes = sorted(it["code"] for it in (tr.bundle or {}).get("items", []))
        if codes != sorted(sc.get("expect_codes") or []):
            failures.append(sc["id"])
    qv, tv = list(asked.values()), list(turns.values())
    return {
        "scenarios": len(scenarios),
        "questions_median": statistics.median(qv), "questions_max": max(qv),
        "turns_median": statistics.median(tv) if tv else None, "turns_max": max(tv) if tv else None,
        "per_scenario": {k: {"questions": asked[k], "turns_to_final": turns.get(k)} for k in asked},
        "never_final": never,
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
    """``concurrency`` applicants at once, each running ``rounds`` conversations one after another."""
    jobs = [scenarios[i % len(scenarios)] for i in range(concurrency * rounds)]
    errors: list[str] = []

    def worker(idx: int) -> list[float]:
        lat: list[float] = []
        with httpx.Client(timeout=120) as client:
            for j in range(idx, len(jobs), concurrency):
                try:
                    tr = botstack.run_scenario(client, stack, jobs[j], f"bench-l-{idx}-{j}-{uuid.uuid4().hex[:6]}")
                    lat += tr.latencies
                except (AssertionError, httpx.HTTPError) as exc:
                    errors.append(f"{jobs[j]['id']}: {str(exc)[:120]}")
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
        "max_ms": round(max(ms), 1) if ms else 0.0,
        "turns_per_s": round(len(ms) / wall, 1),
        "errors": errors,
    }


def latency_runs(stack: botstack.Stack, scenarios: list[dict], levels: list[int], rounds: int) -> dict:
    with httpx.Client() as client:  # warm-up: TensorFlow traces its functions on the first calls
        for sc in scenarios[:4]:
            botstack.run_scenario(client, stack, sc, f"bench-warmup-{uuid.uuid4().hex[:6]}")
    out = {"single": bench_latency(stack, scenarios, 1, max(12, rounds * 6))}  # baseline: one applicant at a time
    for level in levels:
        out[str(level)] = bench_latency(stack, scenarios, level, rounds)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--concurrency", default="10,50", help="comma-separated concurrency levels")
    ap.add_argument("--rounds", type=int, default=2, help="conversations per concurrent applicant")
    ap.add_argument("--skip-two", action="store_true", help="only the one-Rasa layout")
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "bench_bot.json")
    ap.add_argument("--transcript", metavar="ID", help="only print the transcript of one scenario (tests/e2e/*.yaml id)")
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]

    tidy = yaml.safe_load(TIDY.read_text(encoding="utf-8"))["scenarios"]
    untidy = [sc for sc in yaml.safe_load(UNTIDY.read_text(encoding="utf-8"))["scenarios"] if not sc.get("restart")]
    load = [sc for sc in tidy + untidy if not sc.get("expect_unknown")]
    botstack.prepare_model()
    if args.transcript:
        sc = next((sc for sc in tidy + untidy if sc["id"] == args.transcript), None)
        if sc is None:
            raise SystemExit(f"no scenario {args.transcript!r}: " + ", ".join(s["id"] for s in tidy + untidy))
        with botstack.running_stack(1) as stack, httpx.Client() as client:
            tr = botstack.run_scenario(client, stack, sc)
        print(tr.render())
        print(f"[final bundle: {', '.join(i['code'] for i in (tr.bundle or {}).get('items') or [])}; "
              f"questions {len(tr.asked)}, turns {len(tr.turns)}]")
        return 0
    report: dict = {}
    with botstack.running_stack(1) as stack, httpx.Client() as client:
        report["startup_s_one"] = dict(stack.started_s)
        report["nlu"] = bench_nlu(client, stack)
        report["untidy"] = bench_questions(client, stack, untidy)
        report["tidy"] = bench_questions(client, stack, tidy)
        report["one_rasa"] = latency_runs(stack, load, levels, args.rounds)
    if not args.skip_two:
        with botstack.running_stack(2) as stack:
            report["startup_s_two"] = dict(stack.started_s)
            report["two_rasa"] = latency_runs(stack, load, levels, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    nlu = report["nlu"]
    print("bot benchmark (through POST /api/v1/chat/webhook)")
    print(f"  NLU held-out ({nlu['examples']} examples): intent accuracy {nlu['intent_accuracy']:.3f}  entity P/R/F1 "
          f"{nlu['entity_precision']:.3f}/{nlu['entity_recall']:.3f}/{nlu['entity_f1']:.3f}; baseline (most common intent) "
          f"{nlu['baseline_majority_accuracy']:.3f}")
    for m in nlu["misses"]:
        print(f"    miss: {m['text']!r} gold={m['gold']} got={m['got']} ({m['confidence']})")
    for name in ("untidy", "tidy"):
        q = report[name]
        print(f"  {name} suite ({q['scenarios']} conversations): questions to the final bundle median {q['questions_median']} "
              f"max {q['questions_max']}; turns median {q['turns_median']} max {q['turns_max']}"
              + (f"  never final: {q['never_final']}" if q["never_final"] else "")
              + (f"  bundle mismatches: {q['bundle_mismatches']}" if q["bundle_mismatches"] else ""))
    for layout in ("one_rasa", "two_rasa"):
        if layout not in report:
            continue
        runs = report[layout]
        s = runs["single"]
        print(f"  {layout.replace('_', ' ')}: one conversation at a time ({s['turns']} turns) p50 {s['p50_ms']} ms p95 {s['p95_ms']} ms "
              f"({s['turns_per_s']} turns/s)")
        for level in levels:
            r = runs[str(level)]
            print(f"    {level:>3} concurrent ({r['turns']} turns): p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  max {r['max_ms']} ms  "
                  f"{r['turns_per_s']} turns/s" + (f"  errors {len(r['errors'])}" if r["errors"] else ""))
    print("  start-up: " + ", ".join(f"{k} {v}" for k, v in report.items() if k.startswith("startup")))
    print(f"  report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
