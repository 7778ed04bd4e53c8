"""Start the balanced layout (deploy/balanced.sh: nginx, 2 API, 2 Rasa, 2 action servers,
PostgreSQL, Redis) on free loopback ports with a state directory of its own, wait until it
answers, stop it.  Shared by tests/e2e/test_balanced.py and benchmarks/bench_load.py."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from botstack import BOT_TOKEN, MAINTAINER_TOKEN, RASA_TOKEN, WIDGET_ORIGIN, free_port  # tests/e2e on sys.path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Balanced:
    dir: Path
    layout: dict
    proc: subprocess.Popen
    maintainer_token: str = MAINTAINER_TOKEN
    rasa_token: str = RASA_TOKEN

    @property
    def url(self) -> str:  # nginx, public
        return f"http://127.0.0.1:{self.layout['public']}"

    @property
    def webhook(self) -> str:
        return f"{self.url}/api/v1/chat/webhook"

    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.layout["api"]]

    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.layout["rasa"]]

    def pid(self, name: str) -> int | None:
        try:
            return int((Path(self.layout["run_dir"]) / f"{name}.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def postgres_pid(self) -> int | None:
        try:
            return int((self.dir / "pg" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log(self, name: str) -> str:
        path = Path(self.layout["log_dir"]) / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str) -> int:
        pid = self.pid(name)
        assert pid, f"no pid for {name}"
        os.kill(pid, signal.SIGKILL)
        return pid


@contextmanager
def running_balanced(*, timeout: float = 900.0, extra_env: dict | None = None, keep: bool = False) -> Iterator[Balanced]:
    public = free_port(span=2)
    base = free_port({public, public + 1}, span=32)
    d = ROOT / "var" / "e2e" / f"balanced-{uuid.uuid4().hex[:8]}"
    d.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAOBAN_SKIP_PREPARE": "1", "DAOBAN_BAL_DIR": str(d), "DAOBAN_BAL_PORT": str(public),
           "DAOBAN_BAL_BASE": str(base), "DAOBAN_MAINTAINER_TOKEN": MAINTAINER_TOKEN, "DAOBAN_BOT_TOKEN": BOT_TOKEN,
           "DAOBAN_RASA_TOKEN": RASA_TOKEN, "DAOBAN_CHAT_ALLOWED_ORIGINS": WIDGET_ORIGIN, **(extra_env or {})}
    for k in ("DAOBAN_DATABASE_URL", "DAOBAN_REDIS_URL", "DAOBAN_VAR_DIR"):
        env.pop(k, None)
    out = open(d / "balanced.out", "wb")
    proc = subprocess.Popen([str(ROOT / "deploy" / "balanced.sh")], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    ready = d / "run" / "ready"
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"balanced.sh exited {proc.returncode}:\n"
                                   + (d / "balanced.out").read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError("balanced layout not ready:\n" + (d / "balanced.out").read_text(errors="replace")[-3000:])
            time.sleep(1)
        layout = json.loads((d / "run" / "layout.json").read_text())
        stack = Balanced(d, layout, proc)
        _wait_faq(stack, deadline)
        yield stack
    finally:
        _stop(proc)
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


def _wait_faq(stack: Balanced, deadline: float) -> None:
    for url in stack.replica_urls():
        while time.monotonic() < deadline:
            try:
                faq = httpx.get(f"{url}/api/v1/health", timeout=5).json().get("faq") or {}
            except (httpx.HTTPError, ValueError):
                faq = {}
            if faq.get("ready", True):
                break
            time.sleep(1)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the script stops its services and PostgreSQL
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
