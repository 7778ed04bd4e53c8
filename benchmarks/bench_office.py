#!/usr/bin/env python
"""Back-office throughput over real HTTP (uvicorn, one worker, SQLite file in a temp dir;
``--pg`` adds a throw-away PostgreSQL cluster): submissions (POST /applications: resolve,
merge, store the application, its items, audit row and tokens) and status changes
(POST …/transition: one optimistic update + one audit row), sequential and with 4
concurrent clients.  Baselines in the same run: GET /health (the server's floor) and
POST /intake/resolve (the same engine work as a submission, nothing stored).

    .venv/bin/python benchmarks/bench_office.py [--n 120] [--pg]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PROFILE = {"region": "zhongshan", "activities": ["restaurant"], "area_m2": 300, "entertainment": False, "name": "压测饭店"}
BODY = {"profile": PROFILE, "applicant": {"name": "陈小满", "phone": "13800138000"}, "form_values": {"site_floor": "1楼"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(var_dir: Path, port: int, database_url: str = "") -> subprocess.Popen:
    env = {**os.environ, "DAOBAN_VAR_DIR": str(var_dir), "DAOBAN_EMBEDDER": "fake", "HF_HUB_OFFLINE": "1",
           "DAOBAN_DATABASE_URL": database_url}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--no-access-log"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("API exited during start-up")
        time.sleep(0.3)
    raise SystemExit("API did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)


def run(label: str, fn, n: int, workers: int) -> dict:
    """fn(client, i) -> response; n calls split over ``workers`` threads."""
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(ids):
        with httpx.Client(timeout=30) as c:
            for i in ids:
                t0 = time.perf_counter()
                r = fn(c, i)
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
                    if r.status_code >= 300:
                        errors[0] += 1
    chunks = [list(range(w, n, workers)) for w in range(workers)]
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    out = {"label": label, "n": n, "workers": workers, "per_s": n / wall, "p50_ms": statistics.median(lat) * 1000,
           "p95_ms": lat[int(0.95 * (len(lat) - 1))] * 1000, "errors": errors[0]}
    print(f"  {label:<34} x{workers}  {out['per_s']:7.1f}/s   p50 {out['p50_ms']:6.1f} ms   p95 {out['p95_ms']:6.1f} ms"
          + (f"   ERRORS {errors[0]}" if errors[0] else ""))
    return out


def bench(url: str, n: int) -> list[dict]:
    api = f"{url}/api/v1"
    results = []
    with httpx.Client(timeout=30) as c:
        for _ in range(5):  # warm-up
            c.post(f"{api}/applications", json=BODY)
        tok = {d: c.post(f"{api}/departments/login", json={"username": f"zhongshan.{d}", "password": "daoban-demo"}).json()["token"]
               for d in ("fire", "market_regulation")}
    results.append(run("baseline GET /health", lambda c, i: c.get(f"{api}/health"), n, 1))
    results.append(run("baseline POST /intake/resolve", lambda c, i: c.post(f"{api}/intake/resolve", json={"profile": PROFILE}), n, 1))
    apps: list[dict] = []
    lock = threading.Lock()

    def submit(c, i):
        r = c.post(f"{api}/applications", json=BODY, headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"})
        with lock:
            apps.append(r.json())
        return r

    results.append(run("submit POST /applications", submit, n, 1))
    results.append(run("submit POST /applications", submit, n, 4))
    results.append(run("replay same key + body (200)", lambda c, i: c.post(f"{api}/applications", json=BODY,
                                                                           headers={"Idempotency-Key": "bench-replay"}), n, 1))

    def change(to):
        def fn(c, i):
            a = apps[i]
            return c.post(f"{api}/applications/{a['id']}/items/fire_safety_check/transition", json={"to": to},
                          headers={"Authorization": f"Bearer {tok['fire']}", "Idempotency-Key": f"{to}-{i}"})
        return fn

    results.append(run("status change 待受理→已受理", change("accepted"), n, 1))
    results.append(run("status change 已受理→准予", change("approved"), n, 4))
    results.append(run("retry of a change (no-op)", change("approved"), n, 4))
    results.append(run("department inbox GET", lambda c, i: c.get(f"{api}/departments/inbox",
                                                                  headers={"Authorization": f"Bearer {tok['market_regulation']}"}), n // 4, 1))
    return results


def pg_cluster(root: Path):
    sys.path.insert(0, str(ROOT))
    from tests.test_postgres import _as_db_user, _bin

    root.chmod(0o777)
    data, port = root / "data", free_port()
    subprocess.run(_as_db_user([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, capture_output=True)
    subprocess.run(_as_db_user([_bin("pg_ctl"), "-D", str(data), "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
                                "-l", str(data / "log"), "-w", "start"]), check=True, capture_output=True)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", lambda: subprocess.run(
        _as_db_user([_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL (throw-away cluster)")
    args = ap.parse_args()
    print(f"bench_office: n={args.n} per row, uvicorn 1 worker, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-office-") as tmp:
        port = free_port()
        proc = start(Path(tmp), port)
        try:
            print("SQLite (WAL, synchronous=FULL):")
            bench(f"http://127.0.0.1:{port}", args.n)
        finally:
            stop(proc)
        if args.pg:
            url, shutdown = pg_cluster(Path(tempfile.mkdtemp(prefix="bench-pg-")))
            port = free_port()
            proc = start(Path(tmp), port, url)
            try:
                print("PostgreSQL 15 (fsync on):")
                bench(f"http://127.0.0.1:{port}", args.n)
            finally:
                stop(proc)
                shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
