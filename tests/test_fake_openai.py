"""Drive facilitator.testing.fake_openai with the real openai client (and langchain_openai), no mocking."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pydantic
import pytest

from facilitator.testing.fake_openai import FakeOpenAIServer, Reply, fake_embedding

MESSAGES: list[Any] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say something please"},
]
MODEL = "fake-model"


def make_client(srv: FakeOpenAIServer, **kwargs: Any) -> openai.OpenAI:
    options: dict[str, Any] = {"max_retries": 0, "timeout": 5}
    options.update(kwargs)
    return openai.OpenAI(base_url=srv.base_url, api_key="test", **options)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv
        assert srv.server_errors == []


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    with make_client(server) as c:
        yield c


WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["city", "unit"],
        },
    },
}


class Verdict(pydantic.BaseModel):
    answer: str
    confidence: float


# -- basics -------------------------------------------------------------------------------------------------------
def test_non_streaming_text(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert out.object == "chat.completion"
    assert out.model == MODEL
    assert out.choices[0].message.content == "ok"
    assert out.choices[0].message.role == "assistant"
    assert out.choices[0].finish_reason == "stop"
    chars = len("You are terse.") + len("Say something please")
    assert out.usage is not None
    assert out.usage.prompt_tokens == (chars + 3) // 4
    assert out.usage.completion_tokens == 1
    assert out.usage.total_tokens == out.usage.prompt_tokens + 1

    [req] = server.requests
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == "Bearer test"
    assert req.body["messages"] == MESSAGES
    assert req["body"]["model"] == MODEL


def test_queue_then_responder(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue("first", Reply.text("second"))
    server.responder = lambda body: f"echo: {body['messages'][-1]['content']}"
    answers = [client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content for _ in "abc"]
    assert answers == ["first", "second", "echo: Say something please"]
    assert server.pending() == 0


def test_streaming_text_with_usage(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    text = "The quick brown fox jumps over the lazy dog"
    server.enqueue(Reply.text(text))
    stream = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 5
    assert "".join(pieces) == text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == (len(text) + 3) // 4
    assert all(c.usage is None for c in chunks[:-1])
    assert server.requests[0].body["stream"] is True


def test_streaming_without_usage_option(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_first_token_delay_and_latency() -> None:
    with FakeOpenAIServer(latency=0.2) as srv, make_client(srv) as c:
        srv.enqueue(Reply.text("slow start here", first_token_delay=0.3, chunk_delay=0.01))
        t0 = time.monotonic()
        stream = c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        first_content_at = None
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and first_content_at is None:
                first_content_at = time.monotonic() - t0
        assert first_content_at is not None
        assert first_content_at >= 0.45


# -- structured output and tools ----------------------------------------------------------------------------------
def test_json_schema_parse(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(Reply.json({"answer": "yes", "confidence": 0.9}))
    out = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)
    assert out.choices[0].message.parsed == Verdict(answer="yes", confidence=0.9)
    rf = server.requests[0].body["response_format"]
    assert rf["type"] == "json_schema"
    assert rf["json_schema"]["name"] == "Verdict"


def test_json_schema_with_non_json_reply(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue("not json at all", "not json at all")
    schema = {"name": "Verdict", "schema": Verdict.model_json_schema()}
    response_format: Any = {"type": "json_schema", "json_schema": schema}
    raw = client.chat.completions.create(model=MODEL, messages=MESSAGES, response_format=response_format)
    assert raw.choices[0].message.content == "not json at all"
    # The client's own parse helper rejects the non-JSON content.
    with pytest.raises(pydantic.ValidationError):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)


def test_json_schema_unsupported() -> None:
    with FakeOpenAIServer(support_json_schema=False) as srv, make_client(srv) as c:
        with pytest.raises(openai.BadRequestError) as info:
            c.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Verdict)
        assert info.value.status_code == 400
        assert isinstance(info.value.body, dict)
        assert info.value.body["message"] == "response_format json_schema is not supported"
        assert info.value.body["type"] == "invalid_request_error"
        # Function calling still works: the fallback path a client would take.
        srv.enqueue(Reply.tool_call("Verdict", {"answer": "no", "confidence": 0.1}))
        out = c.chat.completions.create(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL])
        assert out.choices[0].message.tool_calls is not None


def test_tool_call(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(Reply.tool_call("get_weather", {"city": "Paris", "unit": "celsius"}, call_id="call_1"))
    out = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL])
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.id == "call_1"
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert server.requests[0].body["tools"][0]["function"]["name"] == "get_weather"


def test_tool_call_streamed(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    reply = Reply.tool_call("get_weather", {"city": "Paris", "unit": "celsius"}).with_tool_call(
        "get_weather", {"city": "Oslo", "unit": "kelvin"}
    )
    server.enqueue(reply)
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], stream=True)
    names: dict[int, str] = {}
    args: dict[int, str] = {}
    arg_pieces = 0
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            if delta.function and delta.function.name:
                names[delta.index] = delta.function.name
            if delta.function and delta.function.arguments:
                args[delta.index] = args.get(delta.index, "") + delta.function.arguments
                arg_pieces += 1
    assert finish == "tool_calls"
    assert names == {0: "get_weather", 1: "get_weather"}
    assert json.loads(args[0]) == {"city": "Paris", "unit": "celsius"}
    assert json.loads(args[1]) == {"city": "Oslo", "unit": "kelvin"}
    assert arg_pieces >= 6


# -- errors and faults --------------------------------------------------------------------------------------------
def test_429_then_success_with_client_retry(server: FakeOpenAIServer) -> None:
    server.enqueue(Reply.error(429, headers={"retry-after-ms": "10"}), Reply.text("after retry"))
    with make_client(server, max_retries=1) as c:
        out = c.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert out.choices[0].message.content == "after retry"
    assert len(server.requests) == 2


def test_429_without_retry_raises_rate_limit(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(Reply.error(429, headers={"retry-after": "0"}))
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "0"
    assert info.value.code == "rate_limit_exceeded"


def test_500_raises_internal_server_error(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(Reply.error(500, message="boom"))
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert info.value.status_code == 500
    assert "boom" in str(info.value)
    assert len(server.requests) == 1


def test_hang_times_out(server: FakeOpenAIServer) -> None:
    server.enqueue(Reply.hang(5))
    t0 = time.monotonic()
    with make_client(server, timeout=0.5) as c, pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert time.monotonic() - t0 < 3


def test_hang_then_answers(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(Reply.hang(0.1, then=Reply.text("late")))
    assert client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content == "late"


def test_malformed_body_raises_json_error(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    # Observed: the openai client does not wrap a bad 200 JSON body; json.JSONDecodeError escapes.
    server.enqueue(Reply.malformed(), Reply.malformed())
    with pytest.raises(json.JSONDecodeError):
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    with pytest.raises(json.JSONDecodeError):
        list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))


def test_truncated_stream_abrupt_raises_connection_error(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    # Observed: an incomplete chunked body surfaces as APIConnectionError mid-iteration, after the partial chunks.
    server.enqueue(Reply.truncated("partial text here"))
    pieces: list[str] = []
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            pieces.append(chunk.choices[0].delta.content or "")
    assert "".join(pieces) == "partial text here"


def test_truncated_stream_clean_close_ends_without_finish_reason(
    server: FakeOpenAIServer, client: openai.OpenAI
) -> None:
    # Observed: with the HTTP body ended cleanly but no [DONE], iteration just stops; finish_reason never arrives.
    server.enqueue(Reply.truncated("partial text", abrupt=False))
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "partial text"
    assert all(c.choices[0].finish_reason is None for c in chunks)


def test_truncated_non_streaming_raises_connection_error(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    server.enqueue(Reply.truncated())
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=MESSAGES)


def _fault_run(seed: int) -> tuple[list[tuple[int, str]], int]:
    successes = 0
    with (
        FakeOpenAIServer(fault_rate=0.3, seed=seed, hang_seconds=0.05) as srv,
        make_client(srv, timeout=2) as c,
    ):
        for _ in range(50):
            try:
                out = c.chat.completions.create(model=MODEL, messages=MESSAGES)
            except (openai.APIError, json.JSONDecodeError):
                continue
            assert out.choices[0].message.content == "ok"
            successes += 1
        assert len(srv.requests) == 50
        assert srv.server_errors == []
        log = [(e.request_index, e.fault) for e in srv.fault_log]
    return log, successes


def test_fault_injection_rate_and_determinism() -> None:
    log, successes = _fault_run(seed=3)  # seed 3 happens to exercise all five fault kinds
    assert 5 <= len(log) <= 25
    assert {fault for _, fault in log} == {"500", "429", "hang", "malformed", "truncated"}
    # Every fault except a hang (which answers normally after hang_seconds) makes the call fail.
    hangs = sum(1 for _, fault in log if fault == "hang")
    assert successes == 50 - len(log) + hangs
    again, _ = _fault_run(seed=3)
    assert again == log


def test_fault_options_validated() -> None:
    with pytest.raises(ValueError):
        FakeOpenAIServer(faults=("explode",), fault_rate=0.5)
    with pytest.raises(ValueError):
        FakeOpenAIServer(fault_rate=1.5)


# -- other endpoints ----------------------------------------------------------------------------------------------
def test_embeddings_dims_and_determinism(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    first = client.embeddings.create(model="fake-embed", input=["alpha", "beta"])
    again = client.embeddings.create(model="fake-embed", input="alpha", encoding_format="float")
    assert [d.index for d in first.data] == [0, 1]
    assert all(len(d.embedding) == 64 for d in first.data)
    assert first.data[0].embedding != first.data[1].embedding
    assert again.data[0].embedding == pytest.approx(first.data[0].embedding, abs=1e-6)
    assert again.data[0].embedding == pytest.approx(fake_embedding("alpha"), abs=1e-12)
    assert sum(x * x for x in again.data[0].embedding) == pytest.approx(1.0)
    assert first.usage.prompt_tokens == (len("alpha") + len("beta") + 3) // 4
    small = client.embeddings.create(model="fake-embed", input="alpha", dimensions=16)
    assert len(small.data[0].embedding) == 16


def test_embeddings_base64_raw_http(server: FakeOpenAIServer) -> None:
    body = {"model": "fake-embed", "input": "alpha", "encoding_format": "base64"}
    resp = httpx.post(f"{server.base_url}/embeddings", json=body, timeout=5)
    encoded = resp.json()["data"][0]["embedding"]
    values = struct.unpack("<64f", base64.b64decode(encoded))
    assert list(values) == pytest.approx(fake_embedding("alpha"), abs=1e-6)


def test_embedding_dim_option_and_error_queue() -> None:
    with FakeOpenAIServer(embedding_dim=8) as srv, make_client(srv) as c:
        assert len(c.embeddings.create(model="e", input="x").data[0].embedding) == 8
        srv.enqueue(Reply.error(503), endpoint="embeddings")
        with pytest.raises(openai.InternalServerError):
            c.embeddings.create(model="e", input="x")


def test_models_and_unknown_path(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as info:
        client.completions.create(model=MODEL, prompt="hi")
    assert isinstance(info.value.body, dict)
    assert info.value.body["type"] == "invalid_request_error"
    resp = httpx.get(f"{server.url}/nothing", timeout=5)
    assert resp.status_code == 404
    assert "error" in resp.json()


def test_stop_is_idempotent_and_frees_hanging_handler() -> None:
    srv = FakeOpenAIServer()
    srv.enqueue(Reply.hang(30))
    with make_client(srv, timeout=0.3) as c, pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model=MODEL, messages=MESSAGES)
    t0 = time.monotonic()
    srv.stop()
    srv.stop()
    assert time.monotonic() - t0 < 2
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{srv.base_url}/models", timeout=1)


# -- langchain ----------------------------------------------------------------------------------------------------
def test_langchain_chat_openai_invoke_and_stream(server: FakeOpenAIServer) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        base_url=server.base_url,
        api_key="test",  # type: ignore[arg-type]
        model="fake-model",
        max_retries=0,
        timeout=5,
        use_responses_api=False,
    )
    server.enqueue(Reply.text("hello from fake"), Reply.text("streamed reply in pieces"))
    msg = llm.invoke("hi")
    assert msg.content == "hello from fake"
    chunks = list(llm.stream("hi"))
    assert "".join(str(c.content) for c in chunks) == "streamed reply in pieces"
    assert len([c for c in chunks if c.content]) >= 3

    invoke_req, stream_req = server.chat_requests
    assert invoke_req.body["messages"] == [{"role": "user", "content": "hi"}]
    assert invoke_req.body["model"] == "fake-model"
    assert not invoke_req.body.get("stream")
    assert stream_req.body["messages"] == [{"role": "user", "content": "hi"}]
    assert stream_req.body["stream"] is True
