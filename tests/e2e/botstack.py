"""Start the three services on loopback (API 8000, action server 5055, Rasa 5005),
wait until they answer, and drive conversations over Rasa's REST channel.

Shared by tests/e2e/test_bot_e2e.py and benchmarks/bench_bot.py.  Ports can be
moved with DAOBAN_E2E_API_PORT / DAOBAN_E2E_ACTIONS_PORT / DAOBAN_E2E_RASA_PORT
(e.g. when a developer already runs the stack on the defaults)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
MAINTAINER_TOKEN = "e2e-maintainer-token"


@dataclass
class Ports:
    api: int = int(os.environ.get("DAOBAN_E2E_API_PORT", 8000))
    actions: int = int(os.environ.get("DAOBAN_E2E_ACTIONS_PORT", 5055))
    rasa: int = int(os.environ.get("DAOBAN_E2E_RASA_PORT", 5005))


@dataclass
class Stack:
    ports: Ports
    procs: list[subprocess.Popen] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)
    started_s: dict[str, float] = field(default_factory=dict)

    @property
    def webhook(self) -> str:
        return f"http://{HOST}:{self.ports.rasa}/webhooks/rest/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://{HOST}:{self.ports.rasa}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.ports.api}"

    def tail(self, name: str, n: int = 40) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def _wait(stack: Stack, name: str, url: str, ok, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    t0 = time.monotonic()
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{stack.tail(name)}")
        try:
            r = httpx.get(url, timeout=3)
            if r.status_code == 200 and ok(r):
                stack.started_s[name] = time.monotonic() - t0
                return
            last = f"HTTP {r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{name} not ready after {timeout:.0f}s ({last}):\n{stack.tail(name)}")


def prepare_model() -> None:
    """Install Rasa and train if bot/ or the catalog changed (instant otherwise)."""
    subprocess.run([str(ROOT / "scripts" / "train_bot.sh")], cwd=ROOT, check=True)


@contextmanager
def running_stack(ports: Ports | None = None, *, timeout: float = 240.0) -> Iterator[Stack]:
    ports = ports or Ports()
    busy = [p for p in (ports.api, ports.actions, ports.rasa) if not _port_free(p)]
    if busy:
        raise RuntimeError(
            f"ports {busy} are in use on {HOST}: stop the running services or set "
            "DAOBAN_E2E_API_PORT / DAOBAN_E2E_ACTIONS_PORT / DAOBAN_E2E_RASA_PORT"
        )
    log_dir = ROOT / "var" / "e2e"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "SANIC_HOST": HOST,  # rasa-sdk binds 0.0.0.0 unless told
        "DAOBAN_API_URL": f"http://{HOST}:{ports.api}",
        "DAOBAN_RASA_URL": f"http://{HOST}:{ports.rasa}",
        "DAOBAN_MAINTAINER_TOKEN": MAINTAINER_TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    stack = Stack(ports)
    commands = {
        "api": [str(ROOT / ".venv/bin/uvicorn"), "api.main:create_app", "--factory", "--host", HOST, "--port", str(ports.api), "--log-level", "warning"],
        "actions": [str(ROOT / ".venv/bin/python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(ports.actions)],
        "rasa": [
            str(ROOT / ".venv-rasa/bin/rasa"), "run", "--enable-api", "--cors", "*",
            "-m", "bot/models", "--endpoints", str(_endpoints(ports, log_dir)),
            "--credentials", "bot/credentials.yml", "-i", HOST, "--port", str(ports.rasa),
        ],
    }
    try:
        for name, cmd in commands.items():
            log = stack.logs[name] = log_dir / f"{name}.log"
            fh = open(log, "wb")
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
            fh.close()
            stack.procs.append(proc)
        api, actions, rasa = stack.procs
        _wait(stack, "api", f"{stack.api_url}/api/v1/health", lambda r: r.json().get("status") == "ok", timeout, api)
        _wait(stack, "actions", f"http://{HOST}:{ports.actions}/health", lambda r: True, timeout, actions)
        _wait(stack, "rasa", f"{stack.rasa_url}/status", lambda r: bool(r.json().get("model_file")), timeout, rasa)
        _wait_faq(stack, timeout)
        yield stack
    finally:
        for proc in reversed(stack.procs):
            _stop(proc)


def _wait_faq(stack: Stack, timeout: float) -> None:
    """The FAQ index may still be building after /health says ok."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            faq = httpx.get(f"{stack.api_url}/api/v1/health", timeout=3).json().get("faq")
        except httpx.HTTPError:
            faq = None
        if not isinstance(faq, dict) or faq.get("ready", True):
            return
        time.sleep(1)


def _endpoints(ports: Ports, log_dir: Path) -> Path:
    """bot/endpoints.yml names port 5055; a moved action server needs its own file."""
    if ports.actions == 5055:
        return ROOT / "bot" / "endpoints.yml"
    path = log_dir / "endpoints.yml"
    path.write_text(f'action_endpoint:\n  url: "http://{HOST}:{ports.actions}/webhook"\n', encoding="utf-8")
    return path


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # our own session: the server and its workers
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# -- conversations ---------------------------------------------------------------
def say(client: httpx.Client, stack: Stack, sender: str, message: str, metadata: dict | None = None) -> list[dict]:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    r = client.post(stack.webhook, json=body, timeout=60)
    r.raise_for_status()
    return r.json()


def customs(messages: list[dict], kind: str | None = None) -> list[dict]:
    out = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    return [c for c in out if kind is None or c.get("type") == kind]


def last_question(messages: list[dict]) -> dict | None:
    qs = customs(messages, "question")
    return qs[-1] if qs else None


def answer_message(question: dict, answer: Any) -> str:
    """An answer from the scenario: free text, or {option: <value>} = click that quick reply."""
    if isinstance(answer, dict) and "option" in answer:
        for opt in question.get("options") or []:
            if opt.get("value") == answer["option"]:
                return opt["payload"]
        raise AssertionError(f"no option with value {answer['option']!r} in {question}")
    if isinstance(answer, dict) and "option_index" in answer:
        return question["options"][answer["option_index"]]["payload"]
    return str(answer)


@dataclass
class Transcript:
    turns: list[tuple[str, list[dict]]] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # question keys, in order, without re-asks
    latencies: list[float] = field(default_factory=list)
    bundle: dict | None = None

    def last(self, kind: str) -> dict | None:
        for _, msgs in reversed(self.turns):
            found = customs(msgs, kind)
            if found:
                return found[-1]
        return None


def run_scenario(client: httpx.Client, stack: Stack, sc: dict, sender: str, max_turns: int = 15) -> Transcript:
    """Drive one scenario: the first message, then answer each question the bot asks
    from ``answers`` (asking ``interrupt`` first when its question comes up), then the
    scripted ``then`` turns.  Records questions asked and turn latencies."""
    tr = Transcript()
    answers = dict(sc.get("answers") or {})
    interrupt = dict(sc.get("interrupt") or {})

    def turn(message: str) -> list[dict]:
        t0 = time.perf_counter()
        msgs = say(client, stack, sender, message, sc.get("metadata"))
        tr.latencies.append(time.perf_counter() - t0)
        tr.turns.append((message, msgs))
        b = customs(msgs, "bundle")
        if b:
            tr.bundle = b[-1]
        return msgs

    msgs = turn(sc["say"])
    pending = None
    for _ in range(max_turns):
        q = last_question(msgs)
        if q is None:
            break
        if q["key"] != pending:
            tr.asked.append(q["key"])
            pending = q["key"]
        if "say" in interrupt and interrupt.get("before") == q["key"]:
            msgs = turn(interrupt.pop("say"))  # the bot answers, then re-asks q
            continue
        if q["key"] not in answers:
            raise AssertionError(f"{sc['id']}: bot asked {q['key']!r} ({q.get('text')}) with no scripted answer")
        msgs = turn(answer_message(q, answers[q["key"]]))
    for extra in sc.get("then") or []:
        msgs = turn(extra["say"] if isinstance(extra, dict) else extra)
        q = last_question(msgs)
        guard = 0
        while q is not None and guard < 5:  # a correction may open a new question
            guard += 1
            if q["key"] != pending:
                tr.asked.append(q["key"])
                pending = q["key"]
            msgs = turn(answer_message(q, answers[q["key"]]))
            q = last_question(msgs)
    return tr
