"""The LLM path against a REAL model server (issue 19): llama.cpp's llama-server with SmolLM2-135M-Instruct, built
and started by `comentor local-model` (`make local-model`). Not part of `make test`: `make test-local-model` runs
these (`pytest -m local_model`), with COMENTOR_LOCAL_MODEL_URL pointing at a running server or, unset, a server
started here from the cache `make local-model` filled.

They check mechanics, never content (a 135M model on a CPU writes poor text): replies stream, structured replies
parse and validation runs, whatever the model says the engine ends with a validated move or an offline fallback
that carries a note, and time stays bounded by the settings' timeout and budget.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitator.brains.base import AgendaPhrasingInput, CommitmentReviewInput
from facilitator.brains.llm import LLMBrain
from facilitator.commitments.validation import apply_review
from facilitator.engine import Event
from facilitator.exceptions import ModelError
from facilitator.models import Commitment, Move, Pair, Turn
from facilitator.moves import validate_move
from facilitator.settings import Settings
from tests.test_llm_brain import allowed, brain_input

pytestmark = [pytest.mark.local_model, pytest.mark.slow]
DATE = dt.date(2026, 3, 4)
OUTCOMES: dict[str, str] = {}  # what each path got from the model: written to test-artifacts/local_model.json


@pytest.fixture(scope="module", autouse=True)
def _record_outcomes() -> Iterator[None]:
    import json

    yield
    out = Path(__file__).resolve().parents[1] / "test-artifacts" / "local_model.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(OUTCOMES, indent=1) + "\n", encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    given = os.environ.get("COMENTOR_LOCAL_MODEL_URL")
    if given:
        yield given.rstrip("/")
        return
    from ui.local_model import cache_dir, find_server, server_command, wait_ready

    cache = cache_dir()
    server, models = find_server(cache), sorted((cache / "model").glob("**/*.gguf"))
    if server is None or not models:
        pytest.fail(f"no llama-server or model in {cache}: run `make local-model` first (it builds both once)")
    port = _free_port()
    log = (cache / "server-tests.log").open("ab")
    process = subprocess.Popen(
        server_command(server, models[0], port, threads=1, max_tokens=256), stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def local(url: str, **values: Any) -> Settings:
    base: dict[str, Any] = {"openai_base_url": url, "model": "smollm2-135m-instruct", "llm_profile": "local"}
    return Settings(**base, **values)


def test_the_server_speaks_the_openai_api(server_url: str) -> None:
    import openai

    client = openai.OpenAI(base_url=server_url, api_key="none", max_retries=0, timeout=120)
    names = [m.id for m in client.models.list().data]
    assert names, "the server lists its model"
    reply = client.chat.completions.create(
        model=names[0], messages=[{"role": "user", "content": "Say hello."}], max_tokens=8, seed=7
    )
    assert reply.usage is not None and reply.usage.completion_tokens <= 8, "the token cap is honoured"


def test_an_answer_streams_and_is_validated_or_falls_back(server_url: str, demo_pair: Pair) -> None:
    tokens: list[str] = []
    settings = local(server_url, llm_max_tokens=64)
    brain = LLMBrain.from_settings(settings)
    data = brain_input(demo_pair, "answer", plan={"query": "How often should we meet?"})
    started = time.monotonic()
    move = brain.render(data, tokens.append)
    assert time.monotonic() - started < settings.model_budget
    assert len(tokens) > 1 and "".join(tokens).strip() == move.text.strip()
    _, problems = validate_move(move, demo_pair, allowed(data))
    assert isinstance(problems, list)  # validation ran on what the model wrote
    OUTCOMES["streamed answer"] = f"{len(tokens)} tokens in {time.monotonic() - started:.1f} s; problems {problems}"


def test_a_structured_move_parses_with_json_schema(server_url: str, demo_pair: Pair) -> None:
    brain = LLMBrain.from_settings(local(server_url, llm_max_tokens=160))
    data = brain_input(demo_pair, "question")
    try:
        move = brain.render(data)
    except ModelError as e:  # an unusable reply is named, never passed on
        OUTCOMES["structured move"] = f"refused: {e}"
        assert "model" in str(e).lower()
        return
    OUTCOMES["structured move"] = "validated"
    assert isinstance(move, Move) and move.text
    assert brain._method == "json_schema", "llama-server honours json_schema; no fallback to tools was needed"


def test_the_review_of_items_is_validated_in_code(server_url: str, demo_pair: Pair) -> None:
    turns = [
        Turn(index=0, speaker="ana", text="I'll send Ben the reading list by Friday."),
        Turn(index=1, speaker="ben", text="Great, and I will draft the budget slide next week."),
    ]
    candidates = [
        Commitment(id="c1", owner="ana", action="send Ben the reading list", evidence=[0]),
        Commitment(id="c2", owner="ben", action="draft the budget slide", evidence=[1]),
    ]
    data = CommitmentReviewInput(
        candidates=candidates, turns=turns, participants=demo_pair.participants, session_date=DATE
    )
    brain = LLMBrain.from_settings(local(server_url, llm_max_tokens=200))
    try:
        review = brain.review_commitments(data)
    except ModelError as e:
        OUTCOMES["item review"] = f"refused: {e}"
        return
    outcome = apply_review(data, review)
    OUTCOMES["item review"] = f"kept {len(outcome.items)}, flagged {len(outcome.flagged)}, notes {len(outcome.notes)}"
    assert {c.id for c in outcome.items} | {c.id for c in outcome.flagged} <= {"c1", "c2"}, "the model adds none"


def test_agenda_phrasing_is_parsed_or_refused(server_url: str, demo_pair: Pair, tmp_path: Path) -> None:
    from facilitator.engine import Facilitator
    from facilitator.store import Store

    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'agenda.db'}"))
    plan = fac.draft_agenda(demo_pair, open_items=[], minutes=45, date=DATE)
    data = AgendaPhrasingInput(agenda=plan.agenda, pair=demo_pair)
    brain = LLMBrain.from_settings(local(server_url, llm_max_tokens=200))
    try:
        phrased = brain.phrase_agenda(data)
    except ModelError as e:
        OUTCOMES["agenda phrasing"] = f"refused: {e}"
        return
    OUTCOMES["agenda phrasing"] = "parsed"
    assert phrased is not None


def test_a_short_timeout_falls_back_within_its_bound_and_opens_the_breaker(server_url: str, demo_pair: Pair) -> None:
    brain = LLMBrain.from_settings(local(server_url, llm_timeout=0.3, llm_max_retries=0, llm_budget=2.0))
    started = time.monotonic()
    with pytest.raises(ModelError):
        brain.render(brain_input(demo_pair, "question"))
    assert time.monotonic() - started < 5.0
    started = time.monotonic()
    with pytest.raises(ModelError, match="unavailable"):
        brain.render(brain_input(demo_pair, "answer", plan={"query": "x"}))
    assert time.monotonic() - started < 0.5, "the open breaker answers at once, without calling the slow model"


def test_the_engine_ends_every_move_validated_or_with_a_note(
    server_url: str, make_facilitator: Any, demo_pair: Pair
) -> None:
    fac = make_facilitator(LLMBrain.from_settings(local(server_url, llm_max_tokens=96)))
    live = fac.start(demo_pair, date=DATE)
    moves: list[Move] = []
    for speaker, text in [
        ("ana", "Honestly, people my age never get taken seriously in budget meetings."),
        ("ben", "@facilitator how often should we meet?"),
        ("ana", "/question"),
    ]:
        events = list(live.say(speaker, text))
        moves += [e.move for e in events if isinstance(e, Event) and e.kind == "move" and e.move is not None]
    assert moves
    OUTCOMES["engine moves"] = ", ".join(f"{m.kind} by {m.brain}" for m in moves)
    for move in moves:
        assert move.text
        assert move.brain != "offline" or (move.note and "offline facilitator answered" in move.note)


def test_the_cli_summarizes_with_the_real_model(server_url: str, comentor_home: Path) -> None:
    from tests.conftest import ROOT, run_cli

    env = {"OPENAI_BASE_URL": server_url, "COMENTOR_MODEL": "smollm2-135m-instruct", "COMENTOR_LLM_PROFILE": "local"}
    script = "Ana: I'll send you the reading list by Friday.\nBen: Thanks, I will read it by Monday.\n/end\n"
    done = run_cli("chat", str(ROOT / "examples/pairs/ana-ben.yaml"), home=comentor_home, stdin=script, env=env)
    assert done.returncode == 0, done.stderr
    assert "LLM facilitator (smollm2-135m-instruct" in done.stderr
