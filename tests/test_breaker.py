"""Model outages: a circuit breaker in front of the model (facilitator/brains/breaker.py).

With a model that always fails (500, 429) or hangs, a session of three moves costs about one budget in all: the first
move waits and fails, the next ones answer offline at once with a note that says the model is unavailable and when it
is tried again. After the cool-down one probe goes through; once the model answers again, so do the moves. Asserted on
the calls the fake server received and on the notes, never on wall-clock time; the clock is injected.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import openai
import pytest

from facilitator.brains.breaker import CircuitBreaker, is_outage
from facilitator.brains.llm import LLMBrain
from facilitator.engine import Event
from facilitator.exceptions import ModelError
from facilitator.settings import Settings
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from reliability.faults import MODEL_TEXT, llm_settings, responder
from tests.conftest import ROOT, run_cli

DATE = dt.date(2026, 3, 4)
COOLDOWN = 30.0


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _moves(events: Any) -> list[Any]:
    return [e.move for e in events if isinstance(e, Event) and e.kind == "move"]


def _status(code: int) -> openai.APIStatusError:
    import httpx

    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response: Any = httpx.Response(code, request=request)  # openai reads only its status code
    return openai.APIStatusError("boom", response=response, body=None)


def _outage() -> ModelError:
    try:
        raise ModelError("the model failed after 1 retries") from _status(500)
    except ModelError as e:
        return e


# ---------------------------------------------------------------------------------------------- the breaker alone
def test_breaker_opens_on_an_outage_fails_fast_then_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(COOLDOWN, clock=clock)
    breaker.admit()
    breaker.failed(_outage())
    assert breaker.state == "open"
    clock.advance(10)
    with pytest.raises(ModelError) as info:
        breaker.admit("0.5 s timeout per call, 1 retries")
    message = str(info.value)
    assert "the model is unavailable" in message and "HTTP 500" in message
    assert "0.5 s timeout per call" in message and "tried again in 20 s" in message
    clock.advance(20)
    breaker.admit()  # the probe
    assert breaker.state == "half-open"
    with pytest.raises(ModelError, match="once the call now testing it answers"):
        breaker.admit()  # only one probe at a time
    breaker.failed(_outage())  # the probe failed: the wait doubles
    clock.advance(COOLDOWN)
    with pytest.raises(ModelError, match="tried again in 30 s"):
        breaker.admit()
    clock.advance(COOLDOWN)
    breaker.admit()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.retry_in() == 0.0
    breaker.failed(_outage())
    assert breaker.retry_in() == COOLDOWN, "a success resets the cool-down"


def test_a_broken_answer_or_a_client_error_is_not_an_outage() -> None:
    assert is_outage(_outage()) and is_outage(_status(429)) and is_outage(_status(503))
    try:
        raise ModelError("the model did not answer within the 1 s budget") from TimeoutError("1 s budget")
    except ModelError as over_budget:
        assert is_outage(over_budget)
    for code in (400, 401, 404, 422):
        assert not is_outage(_status(code))
    assert not is_outage(ModelError("the model's structured output did not parse"))
    assert not is_outage(ValueError("Expecting value: line 1 column 68"))
    breaker = CircuitBreaker(COOLDOWN, clock=FakeClock())
    breaker.failed(ValueError("malformed JSON"))
    assert breaker.state == "closed"
    with pytest.raises(ValueError, match="cooldown"):
        CircuitBreaker(-1)


def test_cooldown_zero_turns_the_breaker_off() -> None:
    breaker = CircuitBreaker(0, clock=FakeClock())
    breaker.failed(_outage())
    breaker.admit()
    breaker.admit()


def test_a_lost_probe_does_not_close_the_model_off_forever() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(COOLDOWN, max_cooldown=120, clock=clock)
    breaker.failed(_outage())
    clock.advance(COOLDOWN)
    breaker.admit()  # a probe whose outcome never comes back
    clock.advance(119)
    with pytest.raises(ModelError):
        breaker.admit()
    clock.advance(1)
    breaker.admit()


def test_the_breaker_is_thread_safe() -> None:
    breaker = CircuitBreaker(COOLDOWN, clock=FakeClock())
    admitted: list[bool] = []

    def call() -> None:
        try:
            breaker.admit()
            admitted.append(True)
        except ModelError:
            admitted.append(False)

    breaker.failed(_outage())
    breaker._clock = lambda: 10_000.0  # the cool-down has long passed
    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert admitted.count(True) == 1, "exactly one probe"


# ---------------------------------------------------------------------- the engine, the openai client, the fake server
def _brain(srv: FakeOpenAIServer, clock: FakeClock, **settings: Any) -> LLMBrain:
    values: dict[str, Any] = {"timeout": 2.0, "retries": 1}
    values.update(settings)
    return LLMBrain.from_settings(llm_settings(srv, **values), breaker=CircuitBreaker(COOLDOWN, clock=clock))


@pytest.mark.parametrize("fault", ["500", "429"])
def test_three_moves_against_an_always_failing_model_cost_one_attempt_then_a_probe_recovers(
    fault: str, make_facilitator: Any, demo_pair: Any
) -> None:
    clock = FakeClock()
    with FakeOpenAIServer(responder=responder, fault_rate=1.0, faults=(fault,), retry_after=0) as srv:
        live = make_facilitator(_brain(srv, clock)).start(demo_pair, date=DATE)
        moves = [m for _ in range(3) for m in _moves(live.ask("question"))]
        failing_calls = len(srv.chat_requests)
        clock.advance(COOLDOWN)
        srv.fault_rate = 0.0  # the model is back
        [probe] = _moves(live.ask("question"))
        [after] = _moves(live.ask("question"))
        total_calls = len(srv.chat_requests)
    assert [m.brain for m in moves] == ["offline"] * 3
    assert failing_calls == 2, "one call and its one retry, for the first move only (was 6: 2 per move)"
    assert "after 1 retries" in moves[0].note
    for fast in moves[1:]:
        assert "the model is unavailable" in fast.note and f"HTTP {fault}" in fast.note
        assert "tried again in 30 s" in fast.note and "2 s timeout per call" in fast.note
        assert fast.note.endswith("the offline facilitator answered this turn")
    assert probe.brain == after.brain == "fake-model" and probe.text == MODEL_TEXT and probe.note is None
    assert total_calls == failing_calls + 2


def test_a_hanging_model_costs_one_budget_not_one_per_move(make_facilitator: Any, demo_pair: Any) -> None:
    clock = FakeClock()
    with FakeOpenAIServer(responder=responder, fault_rate=1.0, faults=("hang",), hang_seconds=30) as srv:
        brain = _brain(srv, clock, timeout=20, retries=0, budget=1.0)
        live = make_facilitator(brain).start(demo_pair, date=DATE)
        moves = [m for _ in range(3) for m in _moves(live.ask("question"))]
        list(live.say("ana", "I'll send Ben the reading list by Friday."))  # an item for the summary to review
        hung_calls = len(srv.chat_requests)
        summary = live.end()
        after_summary = len(srv.chat_requests)
        srv.stop()  # wakes the hanging handler
    assert [m.brain for m in moves] == ["offline"] * 3
    assert hung_calls == 1, "only the first move waited for the hanging model (was 3)"
    assert "within the 1 s budget" in moves[0].note
    assert all("the model is unavailable" in m.note and "1 s budget" in m.note for m in moves[1:])
    assert after_summary == hung_calls, "the summary skipped the model at once"
    [warning] = [w for w in summary.warnings if "offline extractor" in w]
    assert "the model is unavailable" in warning and "tried again in" in warning
    assert [c.owner for c in summary.commitments] == ["ana"], "the offline items stand"


def test_summary_skips_the_model_while_the_breaker_is_open_then_probes_after_the_cooldown(
    make_facilitator: Any, demo_pair: Any
) -> None:
    clock = FakeClock()
    with FakeOpenAIServer(responder=responder) as srv:
        live = make_facilitator(_brain(srv, clock, retries=0)).start(demo_pair, date=DATE)
        list(live.say("ana", "I'll send you the deck by Friday."))
        srv.enqueue(Reply.error(503))
        [failed] = _moves(live.ask("recap"))
        before = len(srv.chat_requests)
        skipped = live.end()
        skipped_calls = len(srv.chat_requests) - before
        clock.advance(COOLDOWN)
        probed = live.end()
        probe_calls = len(srv.chat_requests) - before - skipped_calls
    assert failed.brain == "offline" and before == 1
    assert skipped_calls == 0 and any("the model is unavailable" in w for w in skipped.warnings)
    assert probe_calls == 1 and not any("offline extractor" in w for w in probed.warnings)


@pytest.mark.parametrize("broken", [Reply.malformed(), Reply.truncated("Meet ev")], ids=["malformed", "truncated"])
def test_a_broken_answer_does_not_open_the_breaker(broken: Reply, make_facilitator: Any, demo_pair: Any) -> None:
    clock = FakeClock()
    with FakeOpenAIServer(responder=responder) as srv:
        live = make_facilitator(_brain(srv, clock, retries=0)).start(demo_pair, date=DATE)
        srv.enqueue(broken)
        [failed] = _moves(live.say("ana", "@facilitator how often should we meet?"))  # a streamed answer
        [next_move] = _moves(live.ask("question"))
    assert failed.brain == "offline" and "unavailable" not in failed.note
    assert next_move.brain == "fake-model", "a broken answer means the server is up"
    assert len(srv.chat_requests) == 2


def test_an_unreachable_server_opens_the_breaker(make_facilitator: Any, demo_pair: Any) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        openai_base_url=f"http://127.0.0.1:{port}/v1",
        openai_api_key="sk-test",  # type: ignore[arg-type]
        model="fake-model",
        llm_timeout=2.0,
        llm_max_retries=0,
    )
    brain = LLMBrain.from_settings(settings, breaker=CircuitBreaker(COOLDOWN, clock=FakeClock()))
    live = make_facilitator(brain).start(demo_pair, date=DATE)
    first, second = (m for _ in range(2) for m in _moves(live.ask("question")))
    assert first.brain == second.brain == "offline"
    assert "unavailable" not in first.note and "the model is unavailable (last call: unreachable" in second.note


@pytest.mark.slow
def test_piped_cli_session_against_an_always_failing_model_asks_it_once(comentor_home: Any) -> None:
    """`comentor chat` with two moves and /end: only the first move asks the (failing) model."""
    lines = ["Ana: Hi Ben!", "/question", "Ben: @facilitator how often should we meet?", "/end"]
    with FakeOpenAIServer(responder=responder, fault_rate=1.0, faults=("500",)) as srv:
        env = {
            "OPENAI_BASE_URL": srv.base_url,
            "OPENAI_API_KEY": "sk-test",
            "COMENTOR_MODEL": "fake-model",
            "COMENTOR_LLM_TIMEOUT": "2",
            "COMENTOR_LLM_MAX_RETRIES": "1",
        }
        done = run_cli(
            "chat", str(ROOT / "examples/pairs/ana-ben.yaml"), home=comentor_home, stdin="\n".join(lines), env=env
        )
        calls = len(srv.chat_requests)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("Facilitator: (note:")]
    assert len(notes) == 2 and "the model is unavailable" in notes[1], done.stdout
    assert "Session ended." in done.stdout
    assert calls == 2, "the first move and its retry; the second move and the summary skipped the model (was 6)"
