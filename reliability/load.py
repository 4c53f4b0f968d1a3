"""Many pairs at once through the web app's API: `comentor ui` as users start it, the fake model with 1-3 s latency.

    python -m reliability.load [--pairs 25] [--messages 3] [--out reliability/results/load.json]

Part 1 (capacity): `--pairs` pairs are created in a fresh COMENTOR_HOME; two `gradio_client` clients per pair (the
two partners' laptops) open the pair with its id and access code (which returns the grant every later event sends
first), each sends `--messages` messages as its partner and asks for a question, all at the same time. Counted:
errors (exceptions, timeouts, warnings in the status line), turns lost (sent but not in the store), turns stored
twice; p50/p95/max latency of each send and each question.

Part 2 (over capacity): the same app with COMENTOR_UI_CONCURRENCY and COMENTOR_UI_QUEUE_SIZE set small, and more
simultaneous questions than both allow. Counted: how many were served, how many were refused as busy, what each kind
of client was told (gradio_client's exception, the raw HTTP status, body and Retry-After), and any other error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

from facilitator.models import Pair, Participant
from facilitator.store import Store
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from reliability.faults import responder as model_answer

ROOT = Path(__file__).resolve().parents[1]
TEST_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
}
FIRST = ["Ana", "Ben", "Carla", "Dev", "Eva", "Farid", "Gita", "Hugo", "Ines", "Jon", "Kemi", "Luis", "Mara", "Nils"]
LINES = [
    "I'd like to get better at {topic}; could you show me how you approach it?",
    "Happy to. In return, could you walk me through how you handle {other}?",
    "Honestly I think I'm too old to learn {topic}, but let's try.",
    "I'll send you my notes on {other} by next Friday.",
    "What worked for me was writing down one small step after each meeting.",
]
TOPICS = ["short-form video", "budget negotiation", "data visualisation", "stakeholder updates", "public speaking"]
BUSY_WORDS = re.compile(r"busy|queue is full", re.IGNORECASE)
# Where the status line sits in what gradio_client returns: opening (/on_open, /on_load, /on_create) returns the
# grant, what the browser remembers, the pair view, then the status; every other event returns the grant, then it.
OPEN_STATUS = 3
STATUS = 1


# --------------------------------------------------------------------------------------------- the model
class LatencyModel:
    """The local fake OpenAI server answering every call well-formed after a seeded 1-3 s wait."""

    def __init__(self, low: float = 1.0, high: float = 3.0, seed: int = 7) -> None:
        self.low, self.high = low, high
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.delays: list[float] = []
        self.server = FakeOpenAIServer(responder=self.answer)

    def answer(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            delay = self.random.uniform(self.low, self.high)
            self.delays.append(delay)
        return Reply.hang(delay, then=model_answer(body))

    def env(self) -> dict[str, str]:
        return {
            "OPENAI_BASE_URL": self.server.base_url,
            "OPENAI_API_KEY": "sk-load-test",
            "COMENTOR_MODEL": "fake-model",
            "COMENTOR_FACILITATOR": "llm",
        }

    def __enter__(self) -> LatencyModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


# ------------------------------------------------------------------------------------------------ the app
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class UIProcess:
    """`python -m ui.cli ui` in a subprocess over its own COMENTOR_HOME, as users start it."""

    def __init__(self, home: Path, env: dict[str, str] | None = None, *, startup_timeout: float = 180.0) -> None:
        self.home = home
        self.port = free_port()
        self.env = {**os.environ, **TEST_ENV, "COMENTOR_HOME": str(home), **(env or {})}
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.log = home / "ui.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> UIProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log = self.home / f"ui-{time.time_ns()}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ui.cli", "ui", "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("comentor ui exited:\n" + self.log.read_text())
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "config", timeout=2).status_code == 200:
                    return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"comentor ui did not answer in {self.startup_timeout:.0f} s:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def store(self) -> Store:
        return Store(f"sqlite:///{self.home / 'comentor.db'}")

    def __enter__(self) -> UIProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_pairs(store: Store, n: int, prefix: str = "p") -> list[tuple[Pair, str]]:
    """`n` pairs with distinct ids, saved with fresh access codes: [(pair, code)]."""
    out = []
    for i in range(n):
        a, b = FIRST[(2 * i) % len(FIRST)], FIRST[(2 * i + 1) % len(FIRST)]
        pair = Pair(
            participants=[
                Participant(id=f"{prefix}{i}a", name=f"{a} {prefix.upper()}{i}", offers=[TOPICS[i % len(TOPICS)]]),
                Participant(id=f"{prefix}{i}b", name=f"{b} {prefix.upper()}{i}", offers=[TOPICS[(i + 1) % 5]]),
            ]
        )
        out.append((pair, store.create_pair(pair)))
    return out


# ------------------------------------------------------------------------------------------- the clients
HTTP_TIMEOUT = 60.0


def client(url: str) -> Any:
    """A gradio_client session. Its HTTP requests (the config, each POST to the queue) wait up to HTTP_TIMEOUT s, as
    a browser would, instead of httpx's default 5 s: on a loaded machine, 50 clients starting at once otherwise fail
    in the harness, not in the app (every event's whole wait is bounded separately, see `call`)."""
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": HTTP_TIMEOUT})


def status_of(result: Any, index: int) -> str:
    """The status line (Markdown) of an endpoint's result tuple."""
    value = result[index] if isinstance(result, (list, tuple)) else result
    return value if isinstance(value, str) else ""


def call(c: Any, api_name: str, *args: Any, timeout: float) -> tuple[Any, float]:
    """One event through the queue, bounded in time: (result, seconds)."""
    started = time.monotonic()
    job = c.submit(*args, api_name=api_name)
    return job.result(timeout=timeout), time.monotonic() - started


class Partner(BaseModel):
    pair: str
    speaker: str
    opened: bool = False
    sends: list[float] = Field(default_factory=list)
    questions: list[float] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    sent: list[str] = Field(default_factory=list)


def run_partner(url: str, pair: Pair, code: str, side: int, messages: int, timeout: float) -> Partner:
    """One partner's laptop: open the pair (its grant is the first output, the first input of every later event),
    send `messages` lines, ask for a question."""
    me = pair.participants[side]
    out = Partner(pair=pair.id, speaker=me.id)
    try:
        c = client(url)
        result, _ = call(c, "/on_open", pair.id, code, timeout=timeout)
        status = status_of(result, OPEN_STATUS)
        if "Opened" not in status:
            out.errors.append(f"open: {status[:160]}")
            return out
        out.opened = True
        grant = result[0]
        topic, other = TOPICS[side % 5], TOPICS[(side + 2) % 5]
        for k in range(messages):
            text = f"{LINES[(k + side) % len(LINES)].format(topic=topic, other=other)} [{me.id} #{k}]"
            result, seconds = call(c, "/on_send", grant, me.id, text, timeout=timeout)
            out.sends.append(seconds)
            out.sent.append(text)
            if "⚠" in status_of(result, STATUS):
                out.errors.append(f"send: {status_of(result, STATUS)[:160]}")
        result, seconds = call(c, "/on_ask", grant, me.id, timeout=timeout)
        out.questions.append(seconds)
        if "⚠" in status_of(result, STATUS):
            out.errors.append(f"question: {status_of(result, STATUS)[:160]}")
    except Exception as e:  # every failure of a client is counted
        out.errors.append(f"{type(e).__name__}: {str(e)[:200]}")
    return out


MARKER = re.compile(r"\[(\w+) #\d+\]$")


def foreign_marker(text: str, own: set[str]) -> bool:
    """Whether a stored turn carries the marker of a partner of another pair (a message stored in the wrong pair)."""
    found = MARKER.search(text)
    return bool(found and found.group(1) not in own)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 3)


class CapacityResult(BaseModel):
    pairs: int
    clients: int
    messages_per_client: int
    ui_concurrency: int
    model_latency_s: list[float]
    model_calls: int
    opened: int
    errors: int
    error_samples: list[str]
    turns_sent: int
    turns_stored: int
    turns_lost: int
    turns_duplicated: int
    moves_stored: int
    cross_pair_turns: int = Field(description="Stored turns whose text names a partner of another pair.")
    send_p50_s: float
    send_p95_s: float
    send_max_s: float
    question_p50_s: float
    question_p95_s: float
    question_max_s: float
    turn_p50_s: float
    turn_p95_s: float
    seconds: float
    time_limit_s: float
    within_time: bool


def run_capacity(
    workdir: Path,
    *,
    pairs: int = 25,
    messages: int = 3,
    concurrency: int = 8,
    timeout: float = 120.0,
    time_limit: float = 600.0,
    latency: tuple[float, float] = (1.0, 3.0),
) -> CapacityResult:
    with LatencyModel(*latency) as model:
        env = {**model.env(), "COMENTOR_UI_CONCURRENCY": str(concurrency), "COMENTOR_UI_QUEUE_SIZE": "1000"}
        with UIProcess(workdir / "capacity-home", env) as ui:
            store = ui.store()
            made = make_pairs(store, pairs)
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=2 * pairs) as pool:
                futures = [
                    pool.submit(run_partner, ui.url, pair, code, side, messages, timeout)
                    for pair, code in made
                    for side in (0, 1)
                ]
                partners = [f.result(timeout=time_limit) for f in futures]
            seconds = time.monotonic() - started
            sent: dict[str, list[str]] = {}
            for p in partners:
                sent.setdefault(p.pair, []).extend(p.sent)
            stored_total = lost = duplicated = moves = cross = 0
            for pair, _code in made:
                own = set(pair.ids)
                for info in store.list_sessions(pair.id):
                    turns = store.turns(info.id)
                    texts = [t.text for t in turns]
                    stored_total += len(turns)
                    moves += len(store.moves(info.id))
                    duplicated += len(texts) - len(set(texts))
                    cross += sum(1 for t in turns if t.speaker not in own or foreign_marker(t.text, own))
                stored = {t.text for s in store.list_sessions(pair.id) for t in store.turns(s.id)}
                lost += sum(1 for text in sent.get(pair.id, []) if text not in stored)
            sends = [s for p in partners for s in p.sends]
            questions = [s for p in partners for s in p.questions]
            errors = [e for p in partners for e in p.errors]
            return CapacityResult(
                pairs=pairs,
                clients=len(partners),
                messages_per_client=messages,
                ui_concurrency=concurrency,
                model_latency_s=list(latency),
                model_calls=len(model.server.chat_requests),
                opened=sum(p.opened for p in partners),
                errors=len(errors),
                error_samples=errors[:5],
                turns_sent=sum(len(v) for v in sent.values()),
                turns_stored=stored_total,
                turns_lost=lost,
                turns_duplicated=duplicated,
                moves_stored=moves,
                cross_pair_turns=cross,
                send_p50_s=percentile(sends, 50),
                send_p95_s=percentile(sends, 95),
                send_max_s=round(max(sends, default=0.0), 3),
                question_p50_s=percentile(questions, 50),
                question_p95_s=percentile(questions, 95),
                question_max_s=round(max(questions, default=0.0), 3),
                turn_p50_s=percentile(sends + questions, 50),
                turn_p95_s=percentile(sends + questions, 95),
                seconds=round(seconds, 2),
                time_limit_s=time_limit,
                within_time=seconds <= time_limit,
            )


# ------------------------------------------------------------------------------------------ over capacity
class BusyResult(BaseModel):
    ui_concurrency: int
    ui_queue_size: int
    simultaneous: int
    served: int
    busy: int
    other_errors: int
    other_error_samples: list[str]
    client_message: str = Field(description="What gradio_client raised for a refused event.")
    http_status: int = Field(description="What a raw POST to /gradio_api/queue/join got when the queue was full.")
    http_detail: str
    http_retry_after: str | None
    browser_message: str = Field(description="The busy text in the app's own frontend bundle, shown for a 503.")
    served_after: bool = Field(description="A question asked once the queue drained was answered.")
    seconds: float


def join_raw(url: str, fn_index: int, data: list[Any], session_hash: str) -> httpx.Response:
    """What the page does to queue an event: POST /gradio_api/queue/join (no streaming read)."""
    body = {"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None, "trigger_id": None}
    return httpx.post(url + "gradio_api/queue/join", json=body, timeout=30)


def fn_index(url: str, api_name: str) -> int:
    """The dependency index of a named endpoint, from the app's config (what the page uses)."""
    config = httpx.get(url + "config", timeout=10).json()
    for i, dep in enumerate(config["dependencies"]):
        if dep.get("api_name") == api_name.lstrip("/"):
            return int(dep.get("id", i))
    raise KeyError(api_name)


def browser_busy_text(url: str) -> str:
    """The message the app's page shows when queue/join answers 503, read from the JS bundle the app serves."""
    page = httpx.get(url, timeout=10).text
    for asset in re.findall(r'(?:src|href)="([^"]+\.js)"', page):
        text = httpx.get(asset if asset.startswith("http") else url + asset.lstrip("/"), timeout=10).text
        found = re.search(r"This application is currently busy[^`\"']*", text)
        if found:
            return found.group().strip()
    return ""


def run_busy(
    workdir: Path,
    *,
    concurrency: int = 2,
    queue_size: int = 3,
    simultaneous: int = 14,
    timeout: float = 90.0,
    latency: tuple[float, float] = (1.0, 3.0),
) -> BusyResult:
    """More simultaneous questions than concurrency + queue size allow: the surplus is refused as busy."""
    with LatencyModel(*latency) as model:
        env = {
            **model.env(),
            "COMENTOR_UI_CONCURRENCY": str(concurrency),
            "COMENTOR_UI_QUEUE_SIZE": str(queue_size),
        }
        with UIProcess(workdir / "busy-home", env) as ui:
            made = make_pairs(ui.store(), simultaneous, prefix="b")
            clients: list[tuple[Any, Pair, str]] = []
            for pair, code in made:  # open one after another: opening is not what is measured here
                c = client(ui.url)
                opened, _ = call(c, "/on_open", pair.id, code, timeout=timeout)
                clients.append((c, pair, opened[0]))
            index = fn_index(ui.url, "/on_ask")
            barrier = threading.Barrier(len(clients) + 1)
            started = time.monotonic()

            def ask(c: Any, pair: Pair, grant: str) -> str:
                barrier.wait(timeout=30)
                try:
                    result, _ = call(c, "/on_ask", grant, pair.ids[0], timeout=timeout)
                except Exception as e:  # classified below
                    return f"{type(e).__name__}: {e}"
                status = status_of(result, STATUS)
                return "served" if "⚠" not in status else f"warning: {status[:160]}"

            def raw() -> httpx.Response | None:
                """While the clients fill the queue, what the page's own POST /queue/join gets."""
                barrier.wait(timeout=30)
                for attempt in range(40):
                    time.sleep(0.05)
                    response = join_raw(ui.url, index, [None, None], f"raw-{attempt}")
                    if response.status_code != 200:
                        return response
                return None

            with ThreadPoolExecutor(max_workers=len(clients) + 1) as pool:
                refused_future = pool.submit(raw)
                outcomes = list(pool.map(lambda cp: ask(*cp), clients))
                refused = refused_future.result(timeout=timeout)
            seconds = time.monotonic() - started
            busy = [o for o in outcomes if o != "served" and BUSY_WORDS.search(o)]
            other = [o for o in outcomes if o != "served" and not BUSY_WORDS.search(o)]
            detail = ""
            if refused is not None:
                with contextlib.suppress(ValueError):
                    detail = str(refused.json().get("detail", ""))
            c, pair, grant = clients[0]  # the queue has drained: the next question is served
            try:
                result, _ = call(c, "/on_ask", grant, pair.ids[0], timeout=timeout)
                served_after = "⚠" not in status_of(result, STATUS)
            except Exception:
                served_after = False
            return BusyResult(
                ui_concurrency=concurrency,
                ui_queue_size=queue_size,
                simultaneous=simultaneous,
                served=outcomes.count("served"),
                busy=len(busy),
                other_errors=len(other),
                other_error_samples=other[:5],
                client_message=busy[0] if busy else "",
                http_status=refused.status_code if refused is not None else 200,
                http_detail=detail,
                http_retry_after=refused.headers.get("retry-after") if refused is not None else None,
                browser_message=browser_busy_text(ui.url),
                served_after=served_after,
                seconds=round(seconds, 2),
            )


# ------------------------------------------------------------------------------------------------- main
def _timed(label: str, fn: Callable[[], BaseModel]) -> dict[str, Any]:
    print(f"{label} ...", flush=True)
    result = fn().model_dump()
    print(json.dumps(result, indent=2), flush=True)
    return result


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="comentor-load-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=25)
    parser.add_argument("--messages", type=int, default=3, help="messages each partner sends before the question")
    parser.add_argument("--concurrency", type=int, default=8, help="COMENTOR_UI_CONCURRENCY for the capacity run")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds the capacity run may take")
    parser.add_argument("--out", type=Path, default=ROOT / "reliability" / "results" / "load.json")
    args = parser.parse_args(argv)
    with workspace() as work:
        baseline = _timed(
            "baseline (one pair, two clients)",
            lambda: run_capacity(work / "one", pairs=1, messages=args.messages, concurrency=args.concurrency),
        )
        capacity = _timed(
            "capacity",
            lambda: run_capacity(
                work, pairs=args.pairs, messages=args.messages, concurrency=args.concurrency, time_limit=args.time_limit
            ),
        )
        busy = _timed("over capacity", lambda: run_busy(work))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"baseline": baseline, "capacity": capacity, "over_capacity": busy}, indent=2) + "\n"
    )
    print(f"wrote {args.out}")
    bad = capacity["errors"] or capacity["turns_lost"] or not capacity["within_time"] or busy["other_errors"]
    return 1 if bad or not busy["busy"] else 0


if __name__ == "__main__":
    sys.exit(main())
