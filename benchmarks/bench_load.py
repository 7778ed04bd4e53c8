#!/usr/bin/env python3
"""Load: the scenario mix of a city's 12345 centre at opening hours, against the single setup
(scripts/run_all.sh: one API, one action server, one Rasa, SQLite) and the balanced one
(deploy/balanced.sh: nginx, two of each, PostgreSQL, Redis), one run each, at 10 and 50
concurrent users.

Users (asyncio + httpx; a fixed seed):
* applicants (60 %): a whole conversation through the relay (POST /api/v1/chat/webhook) from
  the tidy e2e scenarios: first message, answers to the bot's questions until the bundle is
  final, then 「帮我生成申请表」 for the form; 1–2.5 s think time; then a new conversation;
* hotline agents (40 %): FAQ searches (the FAQ evaluation questions) with 0.5–1.5 s think
  time, and every fifth call the 来电情况速查 box (POST /api/v1/intake/describe);
* one maintainer: at a third of each phase, POST /api/v1/faq/admin/rebuild, then the status
  until the new index is live.
Each simulated user has its own client address (X-Forwarded-For from loopback, a
documentation range), so the per-address limits apply as they would in production.

Prints per layout and load: throughput, p50/p95/p99 per route, errors, completed
conversations, RSS per process (peak, MB), and the FAQ search and chat p95 while the index
was rebuilt vs the rest of the phase.  Writes var/bench/bench_load.json.  Not a test.

Usage: .venv/bin/python benchmarks/bench_load.py [--users 10,50] [--duration 60] [--layouts single,balanced]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import balancedstack  # noqa: E402
import botstack  # noqa: E402

SEED = 20261201
FORM_ASK = "帮我生成申请表"


@dataclass
class Rec:
    t: float  # start, seconds since the phase began
    route: str
    status: int  # 0: no answer (timeout, connection)
    ms: float


@dataclass
class Phase:
    users: int
    duration: float
    recs: list[Rec] = field(default_factory=list)
    conversations: int = 0
    conversations_done: int = 0  # reached a final bundle and a form
    rebuild: tuple[float, float] | None = None
    rebuild_error: str | None = None
    rss: dict[str, float] = field(default_factory=dict)


def load_inputs():
    sc = yaml.safe_load((ROOT / "tests" / "e2e" / "scenarios.yaml").read_text(encoding="utf-8"))["scenarios"]
    ev = yaml.safe_load((ROOT / "data" / "faq" / "eval.yaml").read_text(encoding="utf-8"))
    qs = [x["q"] for part in ev.values() if isinstance(part, dict) for x in part.get("in_scope", [])]
    qs += [x["q"] if isinstance(x, dict) else x for part in ev.values() if isinstance(part, dict)
           for x in part.get("out_of_scope", [])]
    callers = [s["say"] for s in sc]
    return sc, qs, callers


class Target:
    def __init__(self, base: str, maintainer: str, status_urls: list[str]):
        self.base, self.maintainer, self.status_urls = base, maintainer, status_urls


async def timed(phase: Phase, t0: float, route: str, coro):
    start = time.monotonic()
    try:
        r = await coro
        status = r.status_code
    except httpx.HTTPError:
        r, status = None, 0
    phase.recs.append(Rec(start - t0, route, status, (time.monotonic() - start) * 1000))
    return r


def _answer(question: dict, sc: dict, rnd: random.Random) -> str:
    ans = (sc.get("answers") or {}).get(question.get("key"))
    if ans is not None:
        try:
            return botstack.answer_message(question, ans)
        except AssertionError:
            pass
    opts = question.get("options") or []
    return rnd.choice(opts)["payload"] if opts else "不知道"


async def applicant(http: httpx.AsyncClient, tg: Target, phase: Phase, t0: float, end: float, uid: int,
                    scenarios: list[dict], rnd: random.Random) -> None:
    ip = f"203.0.113.{uid % 250 + 1}" if uid < 250 else f"198.51.100.{uid % 250 + 1}"
    headers = {"X-Forwarded-For": ip}
    while time.monotonic() < end:
        sc = rnd.choice(scenarios)
        sender = f"load-{uid}-{uuid.uuid4().hex[:8]}"
        phase.conversations += 1
        msg, final, formed = sc["say"], False, False
        for _turn in range(10):
            if time.monotonic() >= end:
                break
            r = await timed(phase, t0, "chat", http.post(f"{tg.base}/api/v1/chat/webhook", headers=headers,
                                                          json={"sender": sender, "message": msg}))
            if r is None or r.status_code != 200:
                await asyncio.sleep(rnd.uniform(1.0, 2.5))
                break
            replies = r.json()
            if botstack.customs(replies, "form"):
                formed = True
                break
            bundle = botstack.customs(replies, "bundle")
            final = final or any(b.get("final") for b in bundle)
            q = botstack.last_question(replies)
            msg = FORM_ASK if (final or q is None) else _answer(q, sc, rnd)
            await asyncio.sleep(rnd.uniform(1.0, 2.5))
        if final and formed:
            phase.conversations_done += 1


async def agent(http: httpx.AsyncClient, tg: Target, phase: Phase, t0: float, end: float, uid: int,
                questions: list[str], callers: list[str], rnd: random.Random) -> None:
    headers = {"X-Forwarded-For": f"192.0.2.{uid % 250 + 1}"}
    n = 0
    while time.monotonic() < end:
        n += 1
        if n % 5 == 0:
            await timed(phase, t0, "describe", http.post(f"{tg.base}/api/v1/intake/describe", headers=headers,
                                                          json={"text": rnd.choice(callers)}))
        else:
            await timed(phase, t0, "faq_search", http.get(f"{tg.base}/api/v1/faq/search", headers=headers,
                                                           params={"q": rnd.choice(questions), "k": 5}))
        await asyncio.sleep(rnd.uniform(0.5, 1.5))


async def maintainer(http: httpx.AsyncClient, tg: Target, phase: Phase, t0: float) -> None:
    await asyncio.sleep(phase.duration / 3)
    h = {"X-Maintainer-Token": tg.maintainer}
    start = time.monotonic()
    r = await timed(phase, t0, "rebuild", http.post(f"{tg.base}/api/v1/faq/admin/rebuild", headers=h))
    if r is None or r.status_code >= 400:
        phase.rebuild_error = f"rebuild answered {getattr(r, 'status_code', 'nothing')}"
        return
    await asyncio.sleep(1.0)
    while time.monotonic() - start < 600:  # until every replica serves the new build
        states = []
        for url in tg.status_urls:
            try:
                s = (await http.get(f"{url}/api/v1/faq/admin/status", headers=h, timeout=10)).json()
                states.append((s.get("building"), s.get("index_path"), s.get("error")))
            except (httpx.HTTPError, ValueError):
                states.append((True, None, None))
        if not any(b for b, _, _ in states) and len({p for _, p, _ in states}) == 1:
            phase.rebuild = (start - t0, time.monotonic() - t0)
            if any(e for _, _, e in states):
                phase.rebuild_error = "; ".join(str(e) for _, _, e in states if e)
            return
        await asyncio.sleep(1.0)
    phase.rebuild_error = "rebuild not finished in 600 s"


def service_pids(kind: str, stack) -> dict[str, list[int]]:
    if kind == "single":
        names = ["api", "actions", "rasa-0"]
        out = {n: [stack.pid(n)] for n in names if stack.pid(n)}
    else:
        names = [f"api-{i}" for i in range(len(stack.layout["api"]))] + \
                [f"actions-{i}" for i in range(len(stack.layout["actions"]))] + \
                [f"rasa-{i}" for i in range(len(stack.layout["rasa"]))] + ["nginx", "redis"]
        out = {n: [stack.pid(n)] for n in names if stack.pid(n)}
        if stack.postgres_pid():
            out["postgres"] = [stack.postgres_pid()]
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            total += p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
        except psutil.Error:
            pass
    return total / 2**20


async def sample_rss(phase: Phase, pids: dict[str, list[int]], end: float) -> None:
    while time.monotonic() < end:
        for name, ps in pids.items():
            phase.rss[name] = max(phase.rss.get(name, 0.0), rss_mb(ps))
        await asyncio.sleep(3)


async def run_phase(tg: Target, users: int, duration: float, pids: dict[str, list[int]], inputs) -> Phase:
    scenarios, questions, callers = inputs
    phase = Phase(users, duration)
    n_app = math.ceil(users * 0.6)
    limits = httpx.Limits(max_connections=users + 20, max_keepalive_connections=users + 20)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits) as http:
        t0 = time.monotonic()
        end = t0 + duration
        tasks = [applicant(http, tg, phase, t0, end, i, scenarios, random.Random(SEED + i)) for i in range(n_app)]
        tasks += [agent(http, tg, phase, t0, end, i, questions, callers, random.Random(SEED + 1000 + i))
                  for i in range(users - n_app)]
        tasks += [maintainer(http, tg, phase, t0), sample_rss(phase, pids, end)]
        await asyncio.gather(*tasks)
        phase.duration = time.monotonic() - t0  # conversations finish their turn
    return phase


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(math.ceil(p / 100 * len(v))) - 1)]


def summary(phase: Phase) -> dict:
    routes = {}
    for route in sorted({r.route for r in phase.recs}):
        rs = [r for r in phase.recs if r.route == route]
        ms = [r.ms for r in rs]
        routes[route] = {"n": len(rs), "errors": sum(1 for r in rs if r.status == 0 or r.status >= 400),
                         "statuses": dict(sorted({str(s): sum(1 for r in rs if r.status == s)
                                                  for s in {r.status for r in rs}}.items())),
                         "p50": pct(ms, 50), "p95": pct(ms, 95), "p99": pct(ms, 99)}
    spike = None
    if phase.rebuild:
        a, b = phase.rebuild
        spike = {}
        for route in ("faq_search", "chat"):
            inside = [r.ms for r in phase.recs if r.route == route and a <= r.t <= b]
            outside = [r.ms for r in phase.recs if r.route == route and not a <= r.t <= b]
            spike[route] = {"p95_during": pct(inside, 95), "p95_other": pct(outside, 95), "n_during": len(inside),
                            "errors_during": sum(1 for r in phase.recs if r.route == route and a <= r.t <= b
                                                 and (r.status == 0 or r.status >= 400))}
    total = len([r for r in phase.recs if r.route not in ("rebuild",)])
    return {"users": phase.users, "duration_s": round(phase.duration, 1), "requests": total,
            "throughput_rps": round(total / phase.duration, 2),
            "chat_turns_per_s": round(routes.get("chat", {}).get("n", 0) / phase.duration, 2),
            "errors": sum(v["errors"] for k, v in routes.items()), "routes": routes,
            "conversations": phase.conversations, "conversations_to_form": phase.conversations_done,
            "rebuild_s": (round(phase.rebuild[1] - phase.rebuild[0], 1) if phase.rebuild else None),
            "rebuild_error": phase.rebuild_error, "rebuild_spike": spike,
            "rss_mb": {k: round(v) for k, v in phase.rss.items()}}


def show(layout: str, s: dict) -> None:
    print(f"\n== {layout}, {s['users']} users, {s['duration_s']} s: {s['throughput_rps']} req/s "
          f"({s['chat_turns_per_s']} chat turns/s), errors {s['errors']}, conversations {s['conversations']} "
          f"(to a form: {s['conversations_to_form']})")
    print(f"   {'route':<11}{'n':>6}{'err':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses")
    for route, v in s["routes"].items():
        print(f"   {route:<11}{v['n']:>6}{v['errors']:>5}{v['p50']:>9.0f}{v['p95']:>9.0f}{v['p99']:>9.0f}  {v['statuses']}")
    rb = s["rebuild_spike"] or {}
    print(f"   FAQ rebuild: {s['rebuild_s']} s until every replica served it; error: {s['rebuild_error']}; " + "; ".join(
        f"{k} p95 {v['p95_during']:.0f} ms during (n={v['n_during']}, errors {v['errors_during']}) vs {v['p95_other']:.0f} ms"
        for k, v in rb.items()))
    print("   RSS MB (peak): " + ", ".join(f"{k} {v}" for k, v in s["rss_mb"].items()) + f"; total {sum(s['rss_mb'].values())}")


def run_layout(kind: str, users: list[int], duration: float, inputs) -> list[dict]:
    limits = {"DAOBAN_CHAT_RATE_PER_MINUTE": "30"}
    out = []
    if kind == "single":
        botstack.prepare_model()
        with botstack.running_stack(1, extra_env=limits) as st:
            tg = Target(st.api_url, botstack.MAINTAINER_TOKEN, [st.api_url])
            for u in users:
                s = summary(asyncio.run(run_phase(tg, u, duration, service_pids("single", st), inputs)))
                show(kind, s)
                out.append(s)
    else:
        with balancedstack.running_balanced(extra_env=limits) as st:
            tg = Target(st.url, st.maintainer_token, st.replica_urls())
            for u in users:
                s = summary(asyncio.run(run_phase(tg, u, duration, service_pids("balanced", st), inputs)))
                show(kind, s)
                out.append(s)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", default="10,50")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--layouts", default="single,balanced")
    args = ap.parse_args()
    users = [int(u) for u in args.users.split(",")]
    inputs = load_inputs()
    print(f"scenario mix: {len(inputs[0])} conversations, {len(inputs[1])} FAQ questions; seed {SEED}; "
          f"{args.duration:.0f} s per load level; machine: {psutil.cpu_count()} cores")
    results = {}
    for kind in args.layouts.split(","):
        t = time.monotonic()
        results[kind] = run_layout(kind, users, args.duration, inputs)
        print(f"   ({kind}: {time.monotonic() - t:.0f} s with start-up)")
    out = ROOT / "var" / "bench" / "bench_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\nwritten {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
