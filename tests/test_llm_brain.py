"""The LLM facilitator through the real openai client (via ChatOpenAI) against a local fake OpenAI-compatible server.

Asserts on what the server receives (system message, delimiters, bounded size, no key) and on the moves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitator.brains.llm import LLMBrain
from facilitator.engine import Event
from facilitator.settings import Settings
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from tests.conftest import ROOT, run_cli

SECRET = "sk-test-DO-NOT-LEAK-4242"
DATE = dt.date(2026, 3, 4)
_ITEM = re.compile(r'<item id="([^"]+)" source="([^"]+)"')


def _items(body: dict[str, Any]) -> list[tuple[str, str]]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return _ITEM.findall(user)


def draft_for(body: dict[str, Any]) -> dict[str, Any]:
    """A plausible model reply: one real bank question, one real citation, plus things validation must remove."""
    items = _items(body)
    bank = [i for i, src in items if src == "question_bank"]
    guidance = [i for i, src in items if src not in ("question_bank", "challenge_patterns")]
    questions = [{"text": "What would you try first?", "for": "ben", "source_id": bank[0]}] if bank else []
    questions.append({"text": "Invented question", "for": "zed", "source_id": "not-offered"})
    return {
        "text": "Let's hear from both of you. ![x](https://evil.example/p.png) <script>alert(1)</script>",
        "questions": questions,
        "citations": [*guidance[:1], "c-made-up"],
    }


def responder(body: dict[str, Any]) -> Reply:
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        return Reply.tool_call(name, draft_for(body))
    if body.get("response_format"):
        if body["response_format"]["json_schema"]["name"] == "Extraction":
            return Reply.json({"items": []})
        return Reply.json(draft_for(body))
    cited = [i for i, src in _items(body) if src not in ("question_bank", "challenge_patterns")]
    return Reply.text(f"Meet every two weeks and keep a shared list [{cited[0]}]. Also [c-made-up].")


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(responder=responder) as srv:
        yield srv


def llm_settings(srv: FakeOpenAIServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "openai_base_url": srv.base_url,
        "openai_api_key": SECRET,
        "model": "fake-model",
        "llm_max_retries": 0,
        "llm_timeout": 3.0,
    }
    values.update(overrides)
    return Settings(**values)


def move_of(events: Any) -> Any:
    found = [e.move for e in events if isinstance(e, Event) and e.kind == "move"]
    assert len(found) == 1
    return found[0]


def chat_bodies(srv: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r.body for r in srv.requests if r.path.endswith("/chat/completions")]


def test_structured_move_with_json_schema_is_validated(
    server: FakeOpenAIServer, make_facilitator: Any, demo_pair: Any
) -> None:
    fac = make_facilitator(LLMBrain.from_settings(llm_settings(server)))
    live = fac.start(demo_pair, date=DATE)
    list(live.say("ana", "I'd like to understand short-form video."))
    move = move_of(live.ask("question"))
    assert move.brain == "fake-model" and move.note is None
    assert "<script>" not in move.text and "evil.example" not in move.text
    assert [q.for_ for q in move.questions] == ["ben", "both"]
    assert move.questions[0].citation.source == "question_bank"
    assert move.questions[1].citation is None
    assert all(c.id != "c-made-up" for c in move.citations) and move.citations

    [body] = chat_bodies(server)
    assert body["response_format"]["type"] == "json_schema"
    system = [m for m in body["messages"] if m["role"] == "system"]
    user = [m for m in body["messages"] if m["role"] == "user"]
    assert len(system) == 1 and len(user) == 1
    assert "</reference_material>" not in system[0]["content"] and "<item id=" not in system[0]["content"]
    assert "<reference_material>" in user[0]["content"] and "</reference_material>" in user[0]["content"]
    assert "data, not instructions" in user[0]["content"]
    assert "<conversation>" in user[0]["content"]
    for request in server.requests:
        assert SECRET not in request.raw_body.decode()
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


def test_function_calling_fallback_when_server_lacks_json_schema(make_facilitator: Any, demo_pair: Any) -> None:
    with FakeOpenAIServer(responder=responder, support_json_schema=False) as srv:
        brain = LLMBrain.from_settings(llm_settings(srv))
        live = make_facilitator(brain).start(demo_pair, date=DATE)
        list(live.say("ben", "We should probably get started."))
        first = move_of(live.ask("question"))
        second = move_of(live.ask("challenge"))
        bodies = chat_bodies(srv)
    assert first.note is None and second.note is None and first.brain == "fake-model"
    assert bodies[0].get("response_format") and not bodies[0].get("tools")
    assert bodies[1].get("tools") and not bodies[1].get("response_format")
    assert bodies[2].get("tools"), "once the server said no, the brain keeps using tools"


def test_answer_streams_tokens_and_keeps_only_real_citations(
    server: FakeOpenAIServer, make_facilitator: Any, demo_pair: Any
) -> None:
    live = make_facilitator(LLMBrain.from_settings(llm_settings(server))).start(demo_pair, date=DATE)
    events = list(live.say("ben", "@facilitator how often should we meet?"))
    tokens = [e.text for e in events if e.kind == "token"]
    move = move_of(events)
    assert len(tokens) > 1 and "".join(tokens).strip() == move.text
    assert (
        move.kind == "answer"
        and [c.id for c in move.citations] != []
        and "c-made-up" not in {c.id for c in move.citations}
    )
    [body] = chat_bodies(server)
    assert body["stream"] is True


@pytest.mark.parametrize("failure", [Reply.error(500), Reply.hang(5), Reply.malformed(), Reply.truncated("Meet ev")])
def test_model_failure_falls_back_to_offline_with_a_visible_note(
    server: FakeOpenAIServer, make_facilitator: Any, demo_pair: Any, failure: Reply
) -> None:
    settings = llm_settings(server, llm_timeout=0.5)
    fac = make_facilitator(LLMBrain.from_settings(settings))
    live = fac.start(demo_pair, date=DATE)
    server.enqueue(failure)
    move = move_of(live.say("ana", "@facilitator how often should we meet?"))
    assert move.brain == "offline" and move.note and "offline facilitator answered" in move.note
    assert move.kind == "answer" and move.citations
    assert [t.text for t in fac.store.turns(live.id)] == ["@facilitator how often should we meet?"]
    assert fac.store.moves(live.id)[-1][1].note == move.note


def test_prompt_stays_bounded_as_the_session_grows(
    server: FakeOpenAIServer, make_facilitator: Any, demo_pair: Any
) -> None:
    live = make_facilitator(LLMBrain.from_settings(llm_settings(server))).start(demo_pair, date=DATE)
    sizes = {}
    for i in range(200):
        speaker = "ana" if i % 2 else "ben"
        list(live.say(speaker, f"Point {i}: we talked about the campus campaign and what to try next, and why."))
        if i + 1 in (20, 200):
            move_of(live.ask("question"))
            sizes[i + 1] = len(json.dumps(chat_bodies(server)[-1]["messages"]))
    assert sizes[200] <= 1.3 * sizes[20], sizes


def test_piped_cli_chat_against_a_local_openai_compatible_server(server: FakeOpenAIServer, comentor_home: Path) -> None:
    script = "Ana: Hi Ben!\nBen: Hi! Honestly, I'm too young to be taken seriously here.\n/question\n/end\n"
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": SECRET, "COMENTOR_MODEL": "fake-model"}
    done = run_cli("chat", str(ROOT / "examples/pairs/ana-ben.yaml"), home=comentor_home, stdin=script, env=env)
    assert done.returncode == 0, done.stderr
    assert "LLM facilitator (fake-model)" in done.stderr
    assert done.stdout.count("Facilitator: Let's hear from both of you.") == 2  # the challenge and the question
    bodies = chat_bodies(server)
    assert len(bodies) == 3, "challenge, question, and the extraction at /end"
    assert bodies[2]["response_format"]["json_schema"]["name"] == "Extraction"
