"""Start the whole system the way `make run` does (scripts/run_all.sh: API, action
server, one or two Rasa processes, Redis for two, all supervised) on free loopback
ports with a database of its own, wait until it answers, and drive conversations
through the API's relay (POST /api/v1/chat/webhook), the only way into the bot.

Shared by tests/e2e/*.py and benchmarks/bench_bot.py."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
MAINTAINER_TOKEN = "e2e-maintainer-token"
BOT_TOKEN = "e2e-bot-token"
RASA_TOKEN = "e2e-rasa-token"
WIDGET_ORIGIN = "https://widget.e2e.test"  # the configured widget origin (DAOBAN_CHAT_ALLOWED_ORIGINS)


def free_port(taken: set[int] | None = None, span: int = 1) -> int:
    """A port p with p … p+span-1 free on loopback (and not in ``taken``)."""
    taken = taken or set()
    for _ in range(200):
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port + span < 65000 and all(_port_free(p) and p not in taken for p in range(port, port + span)):
            return port
    raise RuntimeError("no free port")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


@dataclass
class Ports:
    api: int
    actions: int
    rasa: int  # the first; Rasa i listens on rasa + i
    redis: int

    @classmethod
    def pick(cls, rasa_processes: int = 1) -> "Ports":
        taken: set[int] = set()
        out = []
        for span in (1, 1, rasa_processes, 1):
            p = free_port(taken, span)
            taken |= set(range(p, p + span))
            out.append(p)
        return cls(*out)


@dataclass
class Stack:
    ports: Ports
    rasa_processes: int = 1
    run_dir: Path = ROOT / "var" / "e2e"
    proc: subprocess.Popen | None = None
    started_s: dict[str, float] = field(default_factory=dict)
    rasa_token: str = RASA_TOKEN
    bot_token: str = BOT_TOKEN

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.ports.api}"

    @property
    def webhook(self) -> str:  # the public door (the relay)
        return f"{self.api_url}/api/v1/chat/webhook"

    def rasa_urls(self) -> list[str]:
        return [f"http://{HOST}:{self.ports.rasa + i}" for i in range(self.rasa_processes)]

    @property
    def rasa_url(self) -> str:
        return self.rasa_urls()[0]

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    def tail(self, name: str, n: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])

    def pid(self, name: str) -> int | None:
        try:
            return int((self.run_dir / f"{name}.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self, name: str) -> int:
        """SIGKILL one supervised service (e.g. "rasa-0", "actions"); returns its pid."""
        pid = self.pid(name)
        assert pid, f"no pid file for {name}"
        os.kill(pid, signal.SIGKILL)
        return pid

    def rasa_ready(self, i: int) -> bool:
        try:
            r = httpx.get(f"{self.rasa_urls()[i]}/status", params={"token": self.rasa_token}, timeout=3)
            return r.status_code == 200 and bool(r.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    def wait_rasa(self, i: int, old_pid: int | None = None, timeout: float = 240) -> float:
        """Wait until Rasa i answers again (a new process when old_pid is given)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if (old_pid is None or self.pid(f"rasa-{i}") not in (None, old_pid)) and self.rasa_ready(i):
                return time.monotonic() - t0
            time.sleep(0.5)
        raise RuntimeError(f"rasa-{i} not back after {timeout:.0f}s:\n{self.tail(f'rasa-{i}')}")


def prepare_model() -> None:
    """Install Rasa and train if bot/ or the catalog changed (instant otherwise)."""
    subprocess.run([str(ROOT / "scripts" / "train_bot.sh")], cwd=ROOT, check=True)


def attached(path: str | Path) -> Stack:
    """A stack someone else started (its run_dir/stack.json): DAOBAN_E2E_ATTACH=…/stack.json."""
    import json

    d = json.loads(Path(path).read_text())
    return Stack(Ports(d["api"], d["actions"], d["rasa"], d.get("redis", 0)), d["rasa_processes"], Path(d["run_dir"]),
                 rasa_token=d.get("rasa_token", RASA_TOKEN), bot_token=d.get("bot_token", BOT_TOKEN))


@contextmanager
def running_stack(rasa_processes: int = 1, *, timeout: float = 600.0, extra_env: dict | None = None) -> Iterator[Stack]:
    if os.environ.get("DAOBAN_E2E_ATTACH"):
        yield attached(os.environ["DAOBAN_E2E_ATTACH"])
        return
    ports = Ports.pick(rasa_processes)
    run_dir = ROOT / "var" / "e2e" / f"stack-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DAOBAN_SKIP_PREPARE": "1",
        "DAOBAN_API_PORT": str(ports.api),
        "DAOBAN_ACTIONS_PORT": str(ports.actions),
        "DAOBAN_RASA_PORT": str(ports.rasa),
        "DAOBAN_RASA_PROCESSES": str(rasa_processes),
        "DAOBAN_REDIS_PORT": str(ports.redis),
        "DAOBAN_RUN_DIR": str(run_dir),
        "DAOBAN_LOG_DIR": str(run_dir / "log"),
        "DAOBAN_DATABASE_URL": f"sqlite:///{run_dir / 'daoban.sqlite3'}",
        "DAOBAN_MAINTAINER_TOKEN": MAINTAINER_TOKEN,
        "DAOBAN_BOT_TOKEN": BOT_TOKEN,
        "DAOBAN_RASA_TOKEN": RASA_TOKEN,
        "DAOBAN_CHAT_ALLOWED_ORIGINS": WIDGET_ORIGIN,
        **(extra_env or {}),
    }
    env.pop("DAOBAN_REDIS_URL", None)
    stack = Stack(ports, rasa_processes, run_dir)
    out = open(run_dir / "run_all.out", "wb")
    t0 = time.monotonic()
    stack.proc = subprocess.Popen([str(ROOT / "scripts" / "run_all.sh")], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    try:
        deadline = time.monotonic() + timeout
        while not (run_dir / "ready").exists():
            if stack.proc.poll() is not None:
                raise RuntimeError(f"run_all.sh exited with {stack.proc.returncode}:\n"
                                   + (run_dir / "run_all.out").read_text(errors="replace")[-3000:]
                                   + "\n" + stack.tail("rasa-0") + "\n" + stack.tail("api"))
            if time.monotonic() > deadline:
                raise RuntimeError(f"stack not ready after {timeout:.0f}s:\n" + stack.tail("rasa-0") + stack.tail("api"))
            time.sleep(0.5)
        stack.started_s["stack"] = time.monotonic() - t0
        import json

        (run_dir / "stack.json").write_text(json.dumps({
            "api": ports.api, "actions": ports.actions, "rasa": ports.rasa, "redis": ports.redis,
            "rasa_processes": rasa_processes, "run_dir": str(run_dir)}))
        _wait_faq(stack, timeout)
        yield stack
    finally:
        _stop(stack.proc)


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


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # run_all.sh, its supervisors and the services: one session
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    try:  # stragglers in the group (a service the supervisor was restarting)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- conversations ---------------------------------------------------------------
class BotDown(Exception):
    """The relay answered 503: no Rasa is up."""


def say(client: httpx.Client, stack: Stack, sender: str, message: str, metadata: dict | None = None,
        origin: str | None = None) -> list[dict]:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    headers = {"Origin": origin} if origin else None
    r = client.post(stack.webhook, json=body, headers=headers, timeout=90)
    if r.status_code == 503:
        raise BotDown(r.json()["error"]["message"])
    r.raise_for_status()
    return r.json()


def customs(messages: list[dict], kind: str | None = None) -> list[dict]:
    out = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    return [c for c in out if kind is None or c.get("type") == kind]


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages if m.get("text"))


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
class Turn:
    message: str
    replies: list[dict]
    kind: str = "answer"  # answer | info | question | dont_know | chitchat | correction | human | first | then
    ack: list[str] = field(default_factory=list)  # words the reply must acknowledge
    latency: float = 0.0


@dataclass
class Transcript:
    turns: list[Turn] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # question keys, in order, without re-asks
    bundle: dict | None = None
    down: list[str] = field(default_factory=list)  # 503 messages met (a restart)

    @property
    def latencies(self) -> list[float]:
        return [t.latency for t in self.turns]

    def last(self, kind: str) -> dict | None:
        for t in reversed(self.turns):
            found = customs(t.replies, kind)
            if found:
                return found[-1]
        return None

    def questions_shown(self) -> list[dict]:
        return [q for t in self.turns for q in customs(t.replies, "question")]

    def render(self) -> str:
        lines = []
        for t in self.turns:
            lines.append(f"> {t.message}   [{t.kind}]")
            for m in t.replies:
                if m.get("text"):
                    lines.append("  " + m["text"].replace("\n", "\n  "))
                c = m.get("custom")
                if isinstance(c, dict):
                    if c.get("type") == "question":
                        opts = " / ".join(o.get("title", "") for o in c.get("options") or [])
                        lines.append(f"  [问 {c.get('key')}] {c.get('text')}" + (f"  〔{opts}〕" if opts else ""))
                    elif c.get("type") == "bundle":
                        lines.append(f"  [bundle final={c.get('final')}] " + ", ".join(i["code"] for i in c.get("items") or []))
                    elif c.get("type") == "handoff":
                        lines.append(f"  [handoff {c.get('reason')}]")
                    elif c.get("type") == "faq":
                        lines.append(f"  [faq answered={c.get('answered')}]")
                    else:
                        lines.append(f"  [{c.get('type')}]")
        return "\n".join(lines)


def _as_list(x) -> list:
    return x if isinstance(x, list) else [x]


def run_scenario(client: httpx.Client, stack: Stack, sc: dict, sender: str | None = None, max_turns: int = 25,
                 on_restart=None) -> Transcript:
    """Drive one scenario through the relay.

    ``say`` first; then, each time a question comes up, first the ``interrupts`` scheduled
    before that key (out-of-turn info, a question, 「不知道」, chit-chat …), then the
    scripted answer for the key (``answers[key]``: one answer, or a list used in turn when
    the bot asks again); then the ``then`` turns.  ``restart: {before: key}`` calls
    ``on_restart()`` when that key first comes up (the caller kills and restarts Rasa)."""
    sender = sender or f"e2e-{sc['id']}-{uuid.uuid4().hex[:6]}"
    tr = Transcript()
    answers = {k: list(_as_list(v)) for k, v in (sc.get("answers") or {}).items()}
    interrupts = [dict(i) for i in sc.get("interrupts") or []]
    if sc.get("interrupt"):  # scenarios.yaml: one mid-intake FAQ
        interrupts.append({**sc["interrupt"], "kind": "question"})
    restart = dict(sc.get("restart") or {})

    def turn(message: str, kind: str, ack=None) -> list[dict]:
        t0 = time.perf_counter()
        for attempt in range(150):
            try:
                msgs = say(client, stack, sender, message, sc.get("metadata"))
                break
            except BotDown as exc:  # Rasa restarting: the widget would say so; try again shortly
                tr.down.append(str(exc))
                time.sleep(2)
        else:
            raise AssertionError(f"{sc['id']}: the bot did not come back")
        tr.turns.append(Turn(message, msgs, kind, list(ack or []), time.perf_counter() - t0))
        b = customs(msgs, "bundle")
        if b:
            tr.bundle = b[-1]
        return msgs

    msgs = turn(sc["say"], "first")
    pending = None
    for _ in range(max_turns):
        q = last_question(msgs)
        if q is None:
            break
        if q["key"] != pending:
            tr.asked.append(q["key"])
            pending = q["key"]
        if restart and restart.get("before") == q["key"] and on_restart:
            restart.clear()
            on_restart()
        due = next((i for i in interrupts if i.get("before") == q["key"]), None)
        if due:
            interrupts.remove(due)
            msgs = turn(due["say"], due.get("kind", "info"), due.get("ack"))
            continue
        queue = answers.get(q["key"])
        if not queue:
            raise AssertionError(f"{sc['id']}: bot asked {q['key']!r} ({q.get('text')}) with no scripted answer\n{tr.render()}")
        ans = queue.pop(0) if len(queue) > 1 else queue[0]
        msgs = turn(answer_message(q, ans), "answer")
    for extra in sc.get("then") or []:
        extra = extra if isinstance(extra, dict) else {"say": extra}
        msgs = turn(extra["say"], extra.get("kind", "then"), extra.get("ack"))
        q = last_question(msgs)
        guard = 0
        while q is not None and guard < 6:  # a correction may open a new question
            guard += 1
            if q["key"] != pending:
                tr.asked.append(q["key"])
                pending = q["key"]
            queue = answers.get(q["key"]) or []
            if not queue:
                raise AssertionError(f"{sc['id']}: bot asked {q['key']!r} after «{extra['say']}» with no answer\n{tr.render()}")
            ans = queue.pop(0) if len(queue) > 1 else queue[0]
            msgs = turn(answer_message(q, ans), "answer")
            q = last_question(msgs)
    return tr
