"""Faults of the model: the real engine and openai client against the fake server's fault mode (issue 7).

At 30% transient faults nearly every move still comes from the model; at 100% every move, `summarize` and the CLI
answer from the offline facilitator within the time budget, say so, and lose no message. The per-session cap on
model calls (OWASP LLM10) hands moves to the offline facilitator with a visible note.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import openai
import pytest

from facilitator.brains.llm import LLMBrain
from facilitator.engine import Event
from facilitator.exceptions import ConfigError
from facilitator.settings import Settings
from facilitator.store import Store
from facilitator.testing.fake_openai import DEFAULT_FAULTS, FakeOpenAIServer, Reply
from reliability.faults import MODEL_TEXT, llm_settings, responder, run_session, summarize_all_faults
from tests.conftest import ROOT, run_cli

DATE = dt.date(2026, 3, 4)


def _moves(events: Any) -> list[Any]:
    return [e.move for e in events if isinstance(e, Event) and e.kind == "move"]


def test_fault_mode_covers_every_kind_and_429_carries_retry_after() -> None:
    assert set(DEFAULT_FAULTS) == {"500", "429", "hang", "malformed", "truncated"}
    with FakeOpenAIServer(fault_rate=1.0, faults=("429",), retry_after=0.4, seed=1) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test", max_retries=1)
        started = time.monotonic()
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
        waited = time.monotonic() - started
    assert info.value.response.headers["retry-after"] == "0.4"
    assert len(srv.chat_requests) == 2, "the client retried once"
    assert waited >= 0.4, "the client waited as long as Retry-After said"
    with pytest.raises(ValueError, match="retry_after"):
        FakeOpenAIServer(retry_after=-1)


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
def test_a_broken_answer_is_retried_by_the_brain(fault: str, make_facilitator: Any, demo_pair: Any) -> None:
    """Malformed JSON and a stream cut short are not retried by the openai client; the brain retries them."""
    with FakeOpenAIServer(responder=responder) as srv:
        brain = LLMBrain.from_settings(llm_settings(srv, timeout=2, retries=1))
        live = make_facilitator(brain).start(demo_pair, date=DATE)
        broken = Reply.malformed() if fault == "malformed" else Reply.truncated("Meet ev")
        srv.enqueue(broken, broken)
        [answer] = _moves(live.say("ben", "@facilitator how often should we meet?"))
        srv.enqueue(broken)
        [second] = _moves(live.say("ana", "@facilitator and how long?"))
    # First move: two broken answers, one retry -> the offline facilitator says why. Second: one broken, then fine.
    assert answer.brain == "offline" and "after 1 retries" in answer.note
    assert second.brain == "fake-model" and second.note is None
    assert len(srv.chat_requests) == 4


@pytest.mark.slow
def test_30_percent_transient_faults_keep_99_percent_of_moves_on_the_model(guidance_kb: Any, tmp_path: Path) -> None:
    result = run_session(knowledge=guidance_kb, workdir=tmp_path, fault_rate=0.3, moves=120, seed=11)
    assert set(result.faults_injected) == {"500", "429", "hang", "malformed", "truncated"}, result.faults_injected
    assert sum(result.faults_injected.values()) >= 0.2 * result.requests
    assert result.moves >= 120 and result.model_share >= 0.99, result
    assert result.fallback_without_note == 0
    assert result.turns_lost == 0 and result.turns_stored == result.turns_sent == 120
    assert result.moves_stored == result.moves
    assert result.over_budget == 0


@pytest.mark.slow
def test_all_faults_every_move_answers_offline_within_the_budget_with_a_note(guidance_kb: Any, tmp_path: Path) -> None:
    result = run_session(knowledge=guidance_kb, workdir=tmp_path, fault_rate=1.0, moves=8, seed=5, retries=1)
    assert result.moves >= 8 and result.on_model == 0 and result.on_fallback == result.moves
    assert result.fallback_without_note == 0
    assert result.slowest_move_s <= result.budget_s + 1.0, result
    assert result.turns_lost == 0 and result.moves_stored == result.moves
    assert all("0.5 s timeout per call" in note for note in result.notes), result.notes


def test_a_hang_longer_than_the_budget_is_cut_at_the_budget(make_facilitator: Any, demo_pair: Any) -> None:
    with FakeOpenAIServer(responder=responder) as srv:
        settings = llm_settings(srv, timeout=20, retries=0, budget=1.0)
        live = make_facilitator(LLMBrain.from_settings(settings)).start(demo_pair, date=DATE)
        srv.enqueue(Reply.hang(10))
        started = time.monotonic()
        [move] = _moves(live.ask("question"))
        elapsed = time.monotonic() - started
        srv.stop()  # wakes the hanging handler
    assert elapsed < 3.0, elapsed
    assert move.brain == "offline" and move.questions
    assert "within the 1 s budget (20 s timeout per call, 0 retries" in move.note
    assert move.note.endswith("the offline facilitator answered this turn")


@pytest.mark.slow
def test_summarize_with_every_model_call_failing_uses_the_offline_extractor() -> None:
    result = summarize_all_faults(timeout=0.5, retries=1, hang_seconds=2)
    assert result.in_process_items == result.offline_items > 0
    assert "offline extractor was used instead" in result.in_process_warning
    assert "timeout per call" in result.in_process_warning
    assert result.in_process_s <= result.budget_s + 1.0
    assert result.cli_exit == 0 and result.cli_items == result.offline_items
    assert "offline extractor" in result.cli_warning and "timeout per call" in result.cli_warning
    assert result.cli_s <= result.budget_s + 60, "process start-up plus at most the budget"


@pytest.mark.slow
def test_piped_cli_chat_with_every_model_call_failing(comentor_home: Path) -> None:
    lines = ["Ana: Hi Ben!", "/question", "Ben: @facilitator how often should we meet?", "/challenge", "/end"]
    with FakeOpenAIServer(responder=responder, fault_rate=1.0, seed=2, hang_seconds=3) as srv:
        env = {
            "OPENAI_BASE_URL": srv.base_url,
            "OPENAI_API_KEY": "sk-test",
            "COMENTOR_MODEL": "fake-model",
            "COMENTOR_LLM_TIMEOUT": "0.5",
            "COMENTOR_LLM_MAX_RETRIES": "1",
        }
        done = run_cli(
            "chat", str(ROOT / "examples/pairs/ana-ben.yaml"), home=comentor_home, stdin="\n".join(lines), env=env
        )
        requests = len(srv.chat_requests)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("Facilitator: (note:")]
    assert len(notes) == 3, done.stdout  # /question, the @facilitator answer, /challenge
    assert all("the offline facilitator answered this turn" in n and "0.5 s timeout" in n for n in notes)
    assert all("the model is unavailable" in n for n in notes[1:]), notes  # the breaker answers offline at once
    assert "Session ended." in done.stdout
    assert requests == 2, "the first move asked the model (with a retry); the breaker then kept it from waiting again"
    store = Store(f"sqlite:///{comentor_home / 'comentor.db'}")
    [pair] = store.list_pairs()
    [info] = store.list_sessions(pair.id)
    assert [t.text for t in store.turns(info.id)] == ["Hi Ben!", "@facilitator how often should we meet?"]
    assert info.status == "ended"


def test_per_session_cap_on_model_calls(make_facilitator: Any, demo_pair: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMENTOR_MAX_MODEL_CALLS", "2")
    with FakeOpenAIServer(responder=responder) as srv:
        fac = make_facilitator(LLMBrain.from_settings(llm_settings(srv, timeout=2, retries=0)))
        assert fac.settings.max_model_calls == 2
        live = fac.start(demo_pair, date=DATE)
        list(live.say("ana", "Let's start."))
        moves = [m for kind in ("question", "recap", "question") for m in _moves(live.ask(kind))]
        resumed = fac.resume(live.id)
        moves += _moves(resumed.ask("question"))
        summary = resumed.end()
        requests = len(srv.chat_requests)
    assert [m.brain for m in moves] == ["fake-model", "fake-model", "offline", "offline"]
    assert moves[0].text == MODEL_TEXT
    for capped in moves[2:]:
        assert "COMENTOR_MAX_MODEL_CALLS" in capped.note and capped.note.endswith(
            "offline facilitator answered this turn"
        )
    assert requests == 2, "nothing reaches the model past the cap, the summary included"
    assert any("COMENTOR_MAX_MODEL_CALLS" in w for w in summary.warnings)


def test_model_call_cap_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMENTOR_MAX_MODEL_CALLS", "-1")
    with pytest.raises(ConfigError, match="COMENTOR_MAX_MODEL_CALLS=-1 is not valid: use a whole number 0 or more"):
        Settings()
