"""The LLM facilitator (LLMBrain) on an in-process chat model (facilitator.testing.function_model).

The fake model is a LangChain chat model answered by a function, so these tests run the brain's real code path
(structured output, streaming, retries, the circuit breaker, the budget, output validation) and assert on what the
function received as LangChain messages and call options, never on a rendered prompt parsed back. A few tests at the
end go through the real openai client to a local OpenAI-compatible server (facilitator.testing.fake_openai): what
reaches the wire (the key, the request format) and the piped CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from facilitator.brains.base import BrainInput, CommitmentReviewInput
from facilitator.brains.llm import LLMBrain, MoveDraft
from facilitator.brains.offline import OfflineBrain
from facilitator.engine import Event
from facilitator.exceptions import ModelError
from facilitator.knowledge import ChallengePatterns, QuestionBank
from facilitator.models import Assumption, Commitment, Move, Pair, SearchHit, Turn
from facilitator.moves import QUOTE_CHARS, QuestionCandidate, validate_move
from facilitator.policy import Plan, PolicyState
from facilitator.prompts import load_prompt
from facilitator.settings import Settings
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from facilitator.testing.function_model import CallOptions, FunctionModel
from tests.conftest import ROOT, run_cli

SECRET = "sk-test-DO-NOT-LEAK-4242"
DATE = dt.date(2026, 3, 4)
GUIDANCE = [
    SearchHit(
        id="c-cadence",
        source="knowledge/guidance/meeting-cadence.md",
        title="Meeting cadence",
        section="",
        score=0.8,
        text="Meet every two weeks for an hour. Keep a shared list of what each of you will try before next time.",
    ),
    SearchHit(
        id="c-agenda",
        source="knowledge/guidance/session-structure.md",
        title="Session structure",
        section="",
        score=0.6,
        text="Each partner leads one item. " * 80,  # longer than a quote may be
    ),
]


# ------------------------------------------------------------------------------------------------ helpers
@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    return QuestionBank.load()


@pytest.fixture
def pair(demo_pair: Pair) -> Pair:
    return demo_pair


def candidates(bank: QuestionBank) -> list[QuestionCandidate]:
    first, second = bank.questions[:2]
    return [
        QuestionCandidate(entry=first, addressee="ben", text=first.render(topic="short-form video", partner="Ana")),
        QuestionCandidate(entry=second, addressee="both", text=second.render()),
    ]


def brain_input(pair: Pair, kind: str = "question", **fields: Any) -> BrainInput:
    plan = Plan(kind=fields.pop("plan_kind", kind), reason="test", **fields.pop("plan", {}))
    turns = [Turn(index=0, speaker="ana", text="I'd like to understand short-form video.")]
    values: dict[str, Any] = {"guidance": list(GUIDANCE)}
    values.update(fields)
    return BrainInput(plan=plan, pair=pair, turns=turns, context="[0] Ana: hello", state=PolicyState(), **values)


def allowed(data: BrainInput) -> dict[str, str]:
    """What the engine lets a move cite: id -> the passage it quotes."""
    found = {h.id: h.text for h in data.guidance} | {c.entry.id: c.text for c in data.candidates}
    if data.pattern is not None:
        found[data.pattern.id] = data.pattern.description
    return found


def json_answer(value: dict[str, Any]) -> Any:
    return lambda messages, options: json.dumps(value)


def draft(text: str = "Let's hear from both of you.", **fields: Any) -> dict[str, Any]:
    return {"text": text, "questions": fields.get("questions", []), "citations": fields.get("citations", [])}


# ------------------------------------------------------------------------------------------------ structured moves
def test_a_structured_move_is_asked_for_with_json_schema_and_validated(pair: Pair, bank: QuestionBank) -> None:
    offered = candidates(bank)
    answer = draft(
        "Let's hear from both of you. ![x](https://evil.example/p.png) <script>alert(1)</script>",
        questions=[
            {"text": "What would you try first?", "for": "ben", "source_id": offered[0].entry.id},
            {"text": "Invented question", "for": "zed", "source_id": "not-offered"},
        ],
        citations=["c-cadence", "c-agenda", "c-made-up"],
    )
    model = FunctionModel(json_answer(answer))
    data = brain_input(pair, "question", candidates=offered)
    move, problems = validate_move(LLMBrain(model, "fake-model").render(data), pair, allowed(data))

    assert move.brain == "fake-model" and move.kind == "question"
    assert "<script>" not in move.text and "evil.example" not in move.text
    assert [q.for_ for q in move.questions] == ["ben", "both"]
    first, invented = move.questions
    assert first.citation is not None and first.citation.source == "question_bank"
    assert first.citation.quote == offered[0].text  # the passage it quotes, so no shell looks it up again
    assert invented.citation is None
    assert [c.id for c in move.citations] == ["c-cadence", "c-agenda"]
    assert move.citations[0].quote == " ".join(GUIDANCE[0].text.split())
    long_quote = move.citations[1].quote or ""
    assert len(long_quote) == QUOTE_CHARS and long_quote.endswith("…")
    assert problems == ["question addressed to unknown 'zed'"]  # the brain already dropped c-made-up

    [call] = model.calls
    assert call.options.schema is MoveDraft and call.options.method == "json_schema" and not call.options.stream
    assert call.options.response_format is not None and call.options.response_format["type"] == "json_schema"
    assert [type(m) for m in call.messages] == [SystemMessage, HumanMessage]
    assert call.system == load_prompt("system").body  # the fixed system prompt: no data, no references
    assert "<item" not in call.system and "Ana" not in call.system
    user = call.user
    assert "<reference_material>" in user and "</reference_material>" in user and "data, not instructions" in user
    assert "<conversation>\n[0] Ana: hello\n</conversation>" in user
    for hit in GUIDANCE:
        assert f'<item id="{hit.id}" source="{hit.source}" title="{hit.title}">' in user
    for c in offered:
        assert f'<item id="{c.entry.id}" source="question_bank" for="{c.addressee}">\n{c.text}\n</item>' in user
    assert load_prompt("move").instruction("question") in user


@pytest.mark.parametrize("kind", ["question", "challenge", "nudge", "transition", "recap", "commitments", "notice"])
def test_each_move_kind_gets_its_instructions_from_the_versioned_prompt(pair: Pair, kind: str) -> None:
    model = FunctionModel(json_answer(draft()))
    LLMBrain(model, "fake-model").render(brain_input(pair, kind))
    prompt = load_prompt("move")
    expected = prompt.instruction(kind)
    assert expected in model.calls[0].user
    assert (kind in prompt.instructions) is (kind not in ("recap", "commitments"))  # those use the default
    assert prompt.ref.startswith("move@v4#")


def test_a_challenge_offers_the_pattern_and_names_the_assumption(pair: Pair) -> None:
    pattern = ChallengePatterns.load().patterns[0]
    assumption = Assumption(turn=0, speaker="ana", text="Juniors can't teach seniors", pattern=pattern.id)
    model = FunctionModel(json_answer(draft("Ana, what makes you sure?", citations=[pattern.id])))
    data = brain_input(pair, "challenge", pattern=pattern, plan={"addressee": "ana", "assumption": assumption})
    move, problems = validate_move(LLMBrain(model, "fake-model").render(data), pair, allowed(data))
    assert problems == []
    [citation] = move.citations
    assert (citation.source, citation.id, citation.title) == ("challenge_patterns", pattern.id, pattern.name)
    assert citation.quote == " ".join(pattern.description.split())
    user = model.calls[0].user
    assert 'challenge for ana about the assumption "Juniors can' in user
    assert f'<item id="{pattern.id}" source="challenge_patterns"' in user


def test_a_model_challenge_that_names_nobody_else_gets_the_invitation_to_the_other_partner(pair: Pair) -> None:
    pattern = ChallengePatterns.load().patterns[0]
    assumption = Assumption(turn=0, speaker="ana", text="Juniors can't teach seniors", pattern=pattern.id)
    plan = {"addressee": "ana", "assumption": assumption}
    other = pair.participant("ben").first_name
    silent = FunctionModel(json_answer(draft("Ana, what makes you sure?", citations=[pattern.id])))
    move = LLMBrain(silent, "fake-model").render(brain_input(pair, "challenge", pattern=pattern, plan=plan))
    assert move.text.startswith("Ana, what makes you sure? ")
    assert other in move.text.removeprefix("Ana, what makes you sure? ")  # the pattern's invitation, added in code
    inviting = FunctionModel(json_answer(draft(f"Ana, what makes you sure? {other}, do you agree?")))
    move = LLMBrain(inviting, "fake-model").render(brain_input(pair, "challenge", pattern=pattern, plan=plan))
    assert move.text == f"Ana, what makes you sure? {other}, do you agree?"  # already invites: left as the model said


def test_function_calling_fallback_when_the_model_lacks_json_schema(pair: Pair) -> None:
    model = FunctionModel(json_answer(draft()), json_schema=False)
    brain = LLMBrain(model, "fake-model")
    first = brain.render(brain_input(pair, "question"))
    second = brain.render(brain_input(pair, "challenge"))
    assert first.text == second.text == "Let's hear from both of you."
    methods = [c.options.method for c in model.calls]
    assert methods == ["json_schema", "function_calling", "function_calling"], "once refused, tools from then on"
    assert model.calls[1].options.tools[0]["function"]["name"] == "MoveDraft"
    assert model.calls[1].options.response_format is None


# ------------------------------------------------------------------------------------------------ streamed answers
def test_an_answer_streams_tokens_and_keeps_only_real_citations(pair: Pair) -> None:
    model = FunctionModel(lambda messages, options: "Meet every two weeks [c-cadence]. Also [c-made-up].")
    tokens: list[str] = []
    data = brain_input(pair, "answer", plan={"addressee": "ben", "query": "how often should we meet?"})
    move = LLMBrain(model, "fake-model").render(data, tokens.append)
    assert len(tokens) > 1 and "".join(tokens).strip() == move.text
    assert [c.id for c in move.citations] == ["c-cadence"] and move.addressee == "ben"
    [call] = model.calls
    assert call.options.stream and call.options.schema is None and call.options.purpose == "text"
    assert 'Ben asked you: "how often should we meet?"' in call.user


def test_an_uncovered_question_tells_the_model_nothing_was_found(pair: Pair) -> None:
    model = FunctionModel(lambda messages, options: "The guidance doesn't cover this.")
    LLMBrain(model, "fake-model").render(brain_input(pair, "answer", covered=False, plan={"query": "pay rises?"}))
    user = model.calls[0].user
    assert "(nothing relevant was found in the guidance)" in user and "c-cadence" not in user


def _cut_short(messages: list[BaseMessage], options: CallOptions) -> Iterator[str]:
    yield "Meet "
    raise ConnectionResetError("stream cut short")


@pytest.mark.parametrize(
    ("function", "why"),
    [
        (lambda messages, options: "", "empty answer"),
        (_cut_short, "ConnectionResetError"),
    ],
)
def test_a_failed_answer_raises_model_error(pair: Pair, function: Any, why: str) -> None:
    with pytest.raises(ModelError, match=why):
        LLMBrain(FunctionModel(function), "fake-model").render(brain_input(pair, "answer", plan={"query": "x"}))


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("{not json", "ValidationError"),
        (json.dumps({"text": "hi", "questions": []}), "ValidationError"),  # a required field missing
        (json.dumps({**draft(), "minutes": 3}), "ValidationError"),  # a field the schema forbids
    ],
)
def test_a_broken_structured_move_raises_model_error(pair: Pair, reply: str, why: str) -> None:
    with pytest.raises(ModelError, match=f"the model failed.*{why}"):
        LLMBrain(FunctionModel(lambda messages, options: reply), "fake-model").render(brain_input(pair))


# ------------------------------------------------------------------------------------------------ retries, breaker
def settings(**values: Any) -> Settings:
    return Settings(**{"llm_max_retries": 1, "llm_timeout": 5.0, **values})


def test_a_broken_answer_is_retried_an_outage_is_not(pair: Pair) -> None:
    import httpx2
    import openai

    answers = iter(["{not json", json.dumps(draft())])
    model = FunctionModel(lambda messages, options: next(answers))
    move = LLMBrain(model, "fake-model", settings=settings()).render(brain_input(pair))
    assert move.text == "Let's hear from both of you." and len(model.calls) == 2

    def timed_out(messages: list[BaseMessage], options: CallOptions) -> str:
        raise openai.APITimeoutError(request=httpx2.Request("POST", "http://model/v1/chat/completions"))

    model = FunctionModel(timed_out)
    with pytest.raises(ModelError, match="after 1 retries"):
        LLMBrain(model, "fake-model", settings=settings()).render(brain_input(pair))
    assert len(model.calls) == 1, "the openai client already retried a timeout; the brain does not again"


def test_an_outage_opens_the_breaker_for_every_kind_of_call(pair: Pair) -> None:
    def down(messages: list[BaseMessage], options: CallOptions) -> str:
        raise TimeoutError("no answer")

    model = FunctionModel(down)
    brain = LLMBrain(model, "fake-model")
    with pytest.raises(ModelError, match="TimeoutError"):
        brain.render(brain_input(pair))
    with pytest.raises(ModelError, match="the model is unavailable"):
        brain.render(brain_input(pair, "answer", plan={"query": "x"}))
    review = CommitmentReviewInput(
        candidates=[Commitment(id="x", owner="ana", action="call the dean", evidence=[0])],
        turns=[Turn(index=0, speaker="ana", text="I'll call the dean.")],
        participants=pair.participants,
        session_date=DATE,
    )
    with pytest.raises(ModelError, match="the model is unavailable"):
        brain.review_commitments(review)
    assert len(model.calls) == 1 and brain.breaker.state == "open"


def test_a_call_past_the_budget_raises_at_once(pair: Pair) -> None:
    release = threading.Event()

    def slow(messages: list[BaseMessage], options: CallOptions) -> str:
        release.wait(5)
        return json.dumps(draft())

    brain = LLMBrain(FunctionModel(slow), "fake-model", settings=settings(llm_budget=0.2, llm_timeout=0.1))
    try:
        with pytest.raises(ModelError, match=r"within the 0\.2 s budget"):
            brain.render(brain_input(pair))
    finally:
        release.set()


# ------------------------------------------------------------------------------------------------ profile
def test_profiles_say_what_kind_of_brain_runs() -> None:
    model = FunctionModel(lambda messages, options: "")
    values = {"openai_base_url": "https://user:pw@models.example/v1", "model": "m"}
    llm = LLMBrain(model, "fake-model", settings=Settings(**values))  # type: ignore[arg-type]
    assert llm.profile.model_dump() == {
        "kind": "llm",
        "model": "fake-model",
        "server": "https://models.example/v1",  # never the credentials
        "streams": True,
    }
    assert LLMBrain(model, "fake-model").profile.server is None
    assert OfflineBrain().profile.model_dump() == {
        "kind": "offline",
        "model": "offline",
        "server": None,
        "streams": False,
    }
    assert llm.name == "fake-model" and OfflineBrain().name == "offline"
    assert any(ref.startswith("agenda@v") for ref in llm.prompt_refs)


# ------------------------------------------------------------------------------------------------ through the engine
def move_of(events: Any) -> Move:
    found = [e.move for e in events if isinstance(e, Event) and e.kind == "move" and e.move is not None]
    assert len(found) == 1
    return found[0]


def test_the_engine_streams_a_model_answer_and_validates_it(make_facilitator: Any, demo_pair: Pair) -> None:
    model = FunctionModel(lambda messages, options: "From the guidance: meet every two weeks. [c-made-up]")
    live = make_facilitator(LLMBrain(model, "fake-model")).start(demo_pair, date=DATE)
    events = list(live.say("ben", "@facilitator how often should we meet?"))
    tokens = [e.text for e in events if e.kind == "token"]
    move = move_of(events)
    assert len(tokens) > 1 and "".join(tokens).strip() == move.text and move.brain == "fake-model"
    assert move.citations == [] and move.note is None


def test_the_engine_falls_back_to_offline_with_a_visible_note(make_facilitator: Any, demo_pair: Pair) -> None:
    def down(messages: list[BaseMessage], options: CallOptions) -> str:
        raise TimeoutError("no answer")

    fac = make_facilitator(LLMBrain(FunctionModel(down), "fake-model"))
    live = fac.start(demo_pair, date=DATE)
    move = move_of(live.say("ana", "@facilitator how often should we meet?"))
    assert move.brain == "offline" and move.note and "offline facilitator answered" in move.note
    assert move.kind == "answer" and move.citations and all(c.quote for c in move.citations)
    assert [t.text for t in fac.store.turns(live.id)] == ["@facilitator how often should we meet?"]


def test_the_prompt_stays_bounded_as_the_session_grows(make_facilitator: Any, demo_pair: Pair) -> None:
    model = FunctionModel(json_answer(draft()))
    live = make_facilitator(LLMBrain(model, "fake-model")).start(demo_pair, date=DATE)
    sizes = {}
    for i in range(200):
        speaker = "ana" if i % 2 else "ben"
        list(live.say(speaker, f"Point {i}: we talked about the campus campaign and what to try next, and why."))
        if i + 1 in (20, 200):
            move_of(live.ask("question"))
            sizes[i + 1] = sum(len(m.content) for m in model.calls[-1].messages)
    assert sizes[200] <= 1.3 * sizes[20], sizes


# ------------------------------------------------------------------------------------------------ over HTTP
def wire_responder(body: dict[str, Any]) -> Reply:
    """A local OpenAI-compatible server's answers: a fixed move, no verdicts (every item kept), a plain answer."""
    name = body["tools"][0]["function"]["name"] if body.get("tools") else None
    if body.get("response_format"):
        name = body["response_format"]["json_schema"]["name"]
    value: dict[str, Any] = {"verdicts": []} if name == "CommitmentReview" else draft()
    if body.get("tools"):
        return Reply.tool_call(str(name), value)
    if name:
        return Reply.json(value)
    return Reply.text("Meet every two weeks.")


def llm_settings(srv: FakeOpenAIServer) -> Settings:
    values: dict[str, Any] = {
        "openai_base_url": srv.base_url,
        "openai_api_key": SECRET,
        "model": "fake-model",
        "llm_max_retries": 0,
        "llm_timeout": 3.0,
    }
    return Settings(**values)


def test_the_key_goes_in_the_header_only_and_the_request_is_json_schema(pair: Pair) -> None:
    with FakeOpenAIServer(responder=wire_responder) as srv:
        brain = LLMBrain.from_settings(llm_settings(srv))
        move = brain.render(brain_input(pair))
        answer = brain.render(brain_input(pair, "answer", plan={"query": "x"}))
    assert move.text == "Let's hear from both of you." and answer.text == "Meet every two weeks."
    first, second = (r.body for r in srv.chat_requests)
    assert first["response_format"]["type"] == "json_schema" and first["model"] == "fake-model"
    assert second["stream"] is True
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    for request in srv.requests:
        assert SECRET not in request.raw_body.decode()
        assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert brain.profile.server == srv.base_url


def test_piped_cli_chat_against_a_local_openai_compatible_server(comentor_home: Path) -> None:
    script = (
        "Ana: Hi Ben!\nBen: Hi! Honestly, I'm too young to be taken seriously here.\n/question\n"
        "Ana: I'll send you the reading list by Friday.\n/end\n"
    )
    with FakeOpenAIServer(responder=wire_responder) as srv:
        env = {"OPENAI_BASE_URL": srv.base_url, "OPENAI_API_KEY": SECRET, "COMENTOR_MODEL": "fake-model"}
        done = run_cli("chat", str(ROOT / "examples/pairs/ana-ben.yaml"), home=comentor_home, stdin=script, env=env)
        bodies = [r.body for r in srv.chat_requests]
    assert done.returncode == 0, done.stderr
    assert "LLM facilitator (fake-model)" in done.stderr
    assert done.stdout.count("Facilitator: Let's hear from both of you.") == 2  # the challenge and the question
    assert len(bodies) == 3, "challenge, question, and the review of the items at /end"
    assert bodies[2]["response_format"]["json_schema"]["name"] == "CommitmentReview"


def test_every_call_sends_a_token_cap_and_a_seed(pair: Pair) -> None:
    with FakeOpenAIServer(responder=wire_responder) as srv:
        brain = LLMBrain.from_settings(llm_settings(srv).model_copy(update={"llm_max_tokens": 300, "llm_seed": 11}))
        brain.render(brain_input(pair))
        brain.render(brain_input(pair, "answer", plan={"query": "x"}))
    for request in srv.chat_requests:
        assert request.body["max_completion_tokens"] == 300 and request.body["seed"] == 11


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "1 validation error: response_format.type Input should be 'text' or 'json_object'"),
        (422, "json_schema is not supported"),
    ],
)
def test_a_server_without_json_schema_is_asked_with_tools_instead(pair: Pair, status: int, message: str) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        if body.get("response_format"):
            return Reply.error(status, message=message)
        return wire_responder(body)

    with FakeOpenAIServer(responder=responder) as srv:
        brain = LLMBrain.from_settings(llm_settings(srv))
        move = brain.render(brain_input(pair))
    assert move.text == "Let's hear from both of you."
    assert [bool(r.body.get("tools")) for r in srv.chat_requests] == [False, True]


def test_the_local_profile_gives_a_cpu_model_time_and_a_short_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    local = Settings(llm_profile="local")
    assert (local.llm_timeout, local.llm_max_retries, local.llm_max_tokens, local.model_budget) == (180, 1, 384, 240)
    monkeypatch.setenv("COMENTOR_LLM_PROFILE", "local")
    monkeypatch.setenv("COMENTOR_LLM_TIMEOUT", "99")
    assert Settings().llm_timeout == 99 and Settings().llm_max_retries == 1  # what you set wins
    assert Settings(llm_profile="server").llm_timeout == 99 and Settings(llm_profile="server").llm_max_retries == 3


def test_the_local_server_is_started_on_loopback_with_one_thread_and_a_cap(tmp_path: Path) -> None:
    from ui.local_model import server_command, variables

    command = server_command(tmp_path / "llama-server", tmp_path / "m.gguf", 8091, threads=1, max_tokens=256)
    flags = {flag: command[command.index(flag) + 1] for flag in ("--host", "-t", "-n")}
    assert flags["--host"] == "127.0.0.1" and flags["-t"] == "1" and flags["-n"] == "256" and "--jinja" in command
    assert "export COMENTOR_LLM_PROFILE=local" in variables("http://127.0.0.1:8091/v1")
