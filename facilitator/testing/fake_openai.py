"""A local fake OpenAI-compatible HTTP server for tests (standard library only).

Usage::

    from openai import OpenAI
    from facilitator.testing.fake_openai import FakeOpenAIServer, Reply

    with FakeOpenAIServer() as srv:
        srv.enqueue(Reply.error(429, headers={"retry-after-ms": "1"}), Reply.text("hello"))
        client = OpenAI(base_url=srv.base_url, api_key="test", max_retries=1)
        out = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
        assert out.choices[0].message.content == "hello"
        assert len(srv.requests) == 2 and srv.requests[-1].body["messages"][0]["content"] == "hi"

Queued replies are consumed in order; when the queue is empty ``srv.responder(body)`` decides (default: "ok").
``FakeOpenAIServer(fault_rate=0.3, seed=1)`` injects random faults into chat requests (see ``srv.fault_log``):
HTTP 500, 429 (with a ``Retry-After`` of ``retry_after`` seconds), a hang of ``hang_seconds`` (set it past the
client's timeout), malformed JSON, and a truncated body or stream; ``faults=`` picks which.

Endpoints: ``POST /v1/chat/completions`` (plain and SSE streaming), ``POST /v1/embeddings``,
``GET /v1/models`` and ``GET /v1/models/<id>``. Anything else answers 404 with an OpenAI-style error body.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import random
import re
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, cast
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_FAULTS",
    "FakeOpenAIServer",
    "FaultEvent",
    "RecordedRequest",
    "Reply",
    "Responder",
    "ToolCall",
    "estimate_tokens",
    "fake_embedding",
]

ReplyKind = Literal["text", "tool_call", "error", "hang", "malformed", "truncated", "raw"]
Endpoint = Literal["chat", "embeddings"]
DEFAULT_FAULTS: tuple[str, ...] = ("500", "429", "hang", "malformed", "truncated")
_NAMED_FAULTS = frozenset({"hang", "malformed", "truncated"})
_ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout", None),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}
_MAX_PIECE = 12  # longest streamed content piece, in characters
_ARG_PIECE = 8  # streamed tool-call argument piece size, in characters


def estimate_tokens(chars: int) -> int:
    """Rough token estimate used for ``usage``: characters / 4, rounded up."""
    return (max(chars, 0) + 3) // 4


def fake_embedding(text: str, dim: int = 64) -> list[float]:
    """Deterministic unit vector seeded by the SHA-256 of ``text``."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    vec = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]


@dataclass(frozen=True)
class ToolCall:
    """One function call returned by the fake model."""

    name: str
    arguments: str
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")

    def as_message_part(self) -> dict[str, Any]:
        """The ``message.tool_calls[i]`` form."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def _make_call(name: str, arguments: Mapping[str, Any] | str | None, call_id: str | None) -> ToolCall:
    text = "{}" if arguments is None else arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(name, text) if call_id is None else ToolCall(name, text, call_id)


@dataclass(frozen=True)
class Reply:
    """A scripted answer; build it with the class-method constructors."""

    kind: ReplyKind = "text"
    content: str | None = "ok"
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    then: Reply | None = None
    abrupt: bool = True
    first_token_delay: float | None = None
    chunk_delay: float | None = None

    @classmethod
    def text(
        cls,
        content: str,
        *,
        finish_reason: str = "stop",
        first_token_delay: float | None = None,
        chunk_delay: float | None = None,
    ) -> Reply:
        """Plain assistant text."""
        return cls(
            "text",
            content=content,
            finish_reason=finish_reason,
            first_token_delay=first_token_delay,
            chunk_delay=chunk_delay,
        )

    @classmethod
    def json(
        cls,
        obj: Any,
        *,
        first_token_delay: float | None = None,
        chunk_delay: float | None = None,
    ) -> Reply:
        """A JSON value serialised as the message content (for ``response_format``)."""
        return cls.text(json.dumps(obj), first_token_delay=first_token_delay, chunk_delay=chunk_delay)

    @classmethod
    def tool_call(
        cls,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str | None = None,
        content: str | None = None,
        first_token_delay: float | None = None,
        chunk_delay: float | None = None,
    ) -> Reply:
        """A single function call (``arguments`` as a dict, or a raw string to fake bad JSON)."""
        return cls(
            "tool_call",
            content=content,
            tool_calls=(_make_call(name, arguments, call_id),),
            finish_reason="tool_calls",
            first_token_delay=first_token_delay,
            chunk_delay=chunk_delay,
        )

    def with_tool_call(
        self, name: str, arguments: Mapping[str, Any] | str | None = None, *, call_id: str | None = None
    ) -> Reply:
        """A copy with one more (parallel) tool call."""
        calls = (*self.tool_calls, _make_call(name, arguments, call_id))
        return replace(self, kind="tool_call", tool_calls=calls, finish_reason="tool_calls")

    @classmethod
    def error(
        cls,
        status: int,
        *,
        message: str | None = None,
        error_type: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Reply:
        """An HTTP error; ``body`` (any JSON value) overrides the OpenAI-style error object."""
        if body is None:
            fallback = ("server_error" if status >= 500 else "api_error", None)
            default_type, default_code = _ERROR_TYPES.get(status, fallback)
            body = {
                "error": {
                    "message": message or f"Fake error {status}",
                    "type": error_type or default_type,
                    "param": None,
                    "code": code if code is not None else default_code,
                }
            }
        return cls("error", content=None, status=status, headers=dict(headers or {}), body=body)

    @classmethod
    def hang(cls, seconds: float, then: Reply | None = None) -> Reply:
        """Sleep ``seconds`` before answering with ``then`` (default: the responder's reply)."""
        return cls("hang", content=None, seconds=seconds, then=then)

    @classmethod
    def malformed(cls, body: str = '{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [') -> Reply:
        """HTTP 200 whose JSON body (or SSE data line when streaming) does not parse."""
        return cls("malformed", content=None, body=body)

    @classmethod
    def truncated(cls, content: str = "partial text", *, abrupt: bool = True) -> Reply:
        """Stream ``content`` then stop with no finish_reason and no ``[DONE]``.

        ``abrupt=True`` drops the connection mid-body (incomplete chunked encoding); ``abrupt=False`` ends the
        HTTP body cleanly. For a non-streaming request, half of the JSON body is sent before the connection drops.
        """
        return cls("truncated", content=content, abrupt=abrupt)

    @classmethod
    def raw(
        cls,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Exact bytes with the given status and content type."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        return cls("raw", content=None, status=status, headers=all_headers, body=body)


Responder = Callable[[dict[str, Any]], "Reply | str"]


def _coerce(reply: Reply | str) -> Reply:
    return Reply.text(reply) if isinstance(reply, str) else reply


@dataclass
class RecordedRequest:
    """One request as received (``body`` is the parsed JSON, or None)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: str = ""
    raw_body: bytes = b""
    received_at: float = 0.0

    def __getitem__(self, key: str) -> Any:
        """Dict-style access to the fields (``req["body"]``)."""
        return getattr(self, key)


@dataclass(frozen=True)
class FaultEvent:
    """A fault injected by ``fault_rate``: the index into ``srv.requests`` and the fault name."""

    request_index: int
    path: str
    fault: str


def _wants_json_schema(body: Mapping[str, Any]) -> bool:
    rf = body.get("response_format")
    return isinstance(rf, Mapping) and rf.get("type") == "json_schema"


def _content_chars(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                total += len(part["text"])
            else:
                total += len(json.dumps(part))
        return total
    return len(json.dumps(content))


def _prompt_chars(body: Mapping[str, Any]) -> int:
    total = 0
    messages = body.get("messages")
    for msg in messages if isinstance(messages, list) else []:
        if not isinstance(msg, Mapping):
            continue
        total += _content_chars(msg.get("content"))
        for call in msg.get("tool_calls") or []:
            if isinstance(call, Mapping) and isinstance(call.get("function"), Mapping):
                total += len(str(call["function"].get("arguments", "")))
    return total


def _split_content(content: str) -> list[str]:
    """Word-ish pieces (whitespace kept) no longer than ``_MAX_PIECE``; joining them restores ``content``."""
    pieces: list[str] = []
    for word in re.findall(r"\s*\S+|\s+", content):
        pieces.extend(word[i : i + _MAX_PIECE] for i in range(0, len(word), _MAX_PIECE))
    return pieces


def _fault_reply(fault: str, hang_seconds: float, retry_after: float = 0.0) -> Reply:
    if fault == "hang":
        return Reply.hang(hang_seconds)
    if fault == "malformed":
        return Reply.malformed()
    if fault == "truncated":
        return Reply.truncated("partial ans")
    status = int(fault)
    headers = {"retry-after": f"{retry_after:g}"} if status == 429 else {}
    return Reply.error(status, message=f"Injected fault {status}", headers=headers)


class FakeOpenAIServer:
    """OpenAI-compatible HTTP server on 127.0.0.1 in a background thread; starts on construction."""

    def __init__(
        self,
        *,
        model: str = "fake-model",
        models: Sequence[str] | None = None,
        responder: Responder | None = None,
        default_text: str = "ok",
        support_json_schema: bool = True,
        latency: float = 0.0,
        first_token_delay: float = 0.0,
        chunk_delay: float = 0.0,
        fault_rate: float = 0.0,
        faults: Sequence[str] = DEFAULT_FAULTS,
        seed: int | None = None,
        hang_seconds: float = 30.0,
        retry_after: float = 0.0,
        embedding_dim: int = 64,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError("fault_rate must be within [0, 1]")
        if retry_after < 0:
            raise ValueError("retry_after must be >= 0 seconds")
        for fault in faults:
            if fault not in _NAMED_FAULTS and not (fault.isdigit() and 400 <= int(fault) <= 599):
                raise ValueError(f"unknown fault {fault!r}: use an HTTP status 400-599, hang, malformed or truncated")
        if fault_rate > 0 and not faults:
            raise ValueError("fault_rate > 0 needs at least one fault")
        self.model = model
        self.models: list[str] = list(models) if models is not None else [model]
        self.default_text = default_text
        self.responder: Responder = responder or (lambda _body: Reply.text(self.default_text))
        self.support_json_schema = support_json_schema
        self.latency = latency
        self.first_token_delay = first_token_delay
        self.chunk_delay = chunk_delay
        self.fault_rate = fault_rate
        self.faults: tuple[str, ...] = tuple(faults)
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.embedding_dim = embedding_dim
        self.requests: list[RecordedRequest] = []
        self.fault_log: list[FaultEvent] = []
        self.server_errors: list[str] = []
        self._rng = random.Random(seed)
        self._queues: dict[Endpoint, deque[Reply]] = {"chat": deque(), "embeddings": deque()}
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._connections: set[socket.socket] = set()
        self._stopped = False
        self._host = host
        self._httpd = _HTTPServer((host, port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )
        self._thread.start()

    # -- public API -------------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound TCP port."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give an OpenAI client."""
        return f"{self.url}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """Recorded ``POST /v1/chat/completions`` requests."""
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/chat/completions"]

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request (IndexError if none)."""
        with self._lock:
            return self.requests[-1]

    def enqueue(self, *replies: Reply | str, endpoint: Endpoint = "chat") -> None:
        """Queue replies (strings become ``Reply.text``) for ``chat`` or ``embeddings`` requests.

        For embeddings only error, hang, malformed, truncated and raw replies matter; others mean "answer normally".
        """
        with self._lock:
            self._queues[endpoint].extend(_coerce(r) for r in replies)

    def pending(self, endpoint: Endpoint = "chat") -> int:
        """Number of queued replies not consumed yet."""
        with self._lock:
            return len(self._queues[endpoint])

    def clear(self) -> None:
        """Forget recorded requests, faults, server errors and queued replies."""
        with self._lock:
            self.requests.clear()
            self.fault_log.clear()
            self.server_errors.clear()
            for queue in self._queues.values():
                queue.clear()

    def stop(self) -> None:
        """Stop serving, wake hanging handlers and drop open connections (idempotent)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop_event.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals used by the handler -----------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; False when the server is stopping."""
        if seconds <= 0:
            return not self._stop_event.is_set()
        return not self._stop_event.wait(seconds)

    def _record(self, req: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(req)
            return len(self.requests) - 1

    def _next_reply(self, endpoint: Endpoint, index: int, path: str, body: dict[str, Any]) -> Reply | None:
        """Injected fault, else queued reply, else (chat) the responder's reply; None means "answer normally"."""
        with self._lock:
            if endpoint == "chat" and self.fault_rate > 0 and self._rng.random() < self.fault_rate:
                fault = self._rng.choice(self.faults)
                self.fault_log.append(FaultEvent(index, path, fault))
                return _fault_reply(fault, self.hang_seconds, self.retry_after)
            queue = self._queues[endpoint]
            if queue:
                return queue.popleft()
        return _coerce(self.responder(body)) if endpoint == "chat" else None

    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeOpenAIServer) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Swallow disconnects; keep other tracebacks in ``fake.server_errors``."""
        if not isinstance(sys.exc_info()[1], OSError):
            self.fake.server_errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid the 40 ms delayed-ACK stall
    server_version = "FakeOpenAI/1.0"
    sys_version = ""

    @property
    def fake(self) -> FakeOpenAIServer:
        return cast(_HTTPServer, self.server).fake

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced."""

    def setup(self) -> None:
        super().setup()
        self.fake._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.fake._unregister(self.connection)

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # client went away (reset, broken pipe, timeout, server stopping)
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _send_bytes(
        self, status: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        extra = dict(headers or {})
        self.send_response(status)
        if not any(k.lower() == "content-type" for k in extra):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode("utf-8"), "application/json", headers)

    def _send_error_json(self, status: int, message: str, type_: str = "invalid_request_error", **extra: Any) -> None:
        self._send_json(status, {"error": {"message": message, "type": type_, "param": None, "code": None, **extra}})

    def _drop_connection(self) -> None:
        """Close the socket without finishing the response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routing ------------------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        req = RecordedRequest(
            method=self.command,
            path=path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            query=parts.query,
            raw_body=raw,
            received_at=time.time(),
        )
        index = self.fake._record(req)
        try:
            self._route(index, path, body, bad_json)
        except OSError:
            raise
        except Exception as exc:
            self.fake.server_errors.append(traceback.format_exc())
            self._send_error_json(500, f"fake server failure: {exc!r}", "server_error")

    def _route(self, index: int, path: str, body: Any, bad_json: bool) -> None:
        method = self.command
        if method == "POST" and path in ("/v1/chat/completions", "/v1/embeddings"):
            if bad_json or not isinstance(body, dict):
                self._send_error_json(400, "We could not parse the JSON body of your request.")
            elif path == "/v1/chat/completions":
                self._chat(index, path, body)
            else:
                self._embeddings(index, path, body)
        elif method == "GET" and path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [self._model_obj(m) for m in self.fake.models]})
        elif method == "GET" and path.startswith("/v1/models/") and path[len("/v1/models/") :] in self.fake.models:
            self._send_json(200, self._model_obj(path[len("/v1/models/") :]))
        else:
            self._send_error_json(404, f"Unknown request URL: {method} {path}.", code="unknown_url")

    @staticmethod
    def _model_obj(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "fake-openai"}

    # -- chat ---------------------------------------------------------------------------------------------------
    def _chat(self, index: int, path: str, body: dict[str, Any]) -> None:
        fake = self.fake
        if not isinstance(body.get("messages"), list):
            self._send_error_json(400, "'messages' is a required property and must be an array.")
            return
        if _wants_json_schema(body) and not fake.support_json_schema:
            self._send_error_json(400, "response_format json_schema is not supported", param="response_format")
            return
        reply = fake._next_reply("chat", index, path, body)
        if not fake._sleep(fake.latency):
            self._drop_connection()
            return
        self._send_chat_reply(reply or Reply.text(fake.default_text), body)

    def _send_chat_reply(self, reply: Reply, body: dict[str, Any]) -> None:
        fake = self.fake
        stream = bool(body.get("stream"))
        while reply.kind == "hang":
            if not fake._sleep(reply.seconds):
                self._drop_connection()
                return
            reply = reply.then or _coerce(fake.responder(body))
        if reply.kind == "error":
            self._send_json(reply.status, reply.body, reply.headers)
        elif reply.kind == "raw":
            data = reply.body if isinstance(reply.body, bytes) else str(reply.body).encode("utf-8")
            self._send_bytes(reply.status, data, "application/json", reply.headers)
        elif stream:
            self._stream(reply, body)
        elif reply.kind == "malformed":
            self._send_bytes(200, str(reply.body).encode("utf-8"), "application/json", reply.headers)
        else:
            self._complete(reply, body)

    def _usage(self, body: Mapping[str, Any], reply: Reply) -> dict[str, int]:
        prompt = estimate_tokens(_prompt_chars(body))
        completion = estimate_tokens(len(reply.content or "") + sum(len(c.arguments) for c in reply.tool_calls))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _complete(self, reply: Reply, body: dict[str, Any]) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [c.as_message_part() for c in reply.tool_calls]
        finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
        obj = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.fake.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self._usage(body, reply),
        }
        data = json.dumps(obj).encode("utf-8")
        if reply.kind != "truncated":
            self._send_bytes(200, data, "application/json", reply.headers)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self._drop_connection()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
        fake = self.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()

        options = body.get("stream_options")
        include_usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
        base: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or fake.model,
            "system_fingerprint": "fp_fake",
        }

        def emit(obj: Mapping[str, Any]) -> None:
            self._write_chunk(b"data: " + json.dumps(obj).encode("utf-8") + b"\n\n")

        def chunk(delta: Mapping[str, Any], finish: str | None = None) -> dict[str, Any]:
            out = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            if include_usage:
                out["usage"] = None
            return out

        first_delay = reply.first_token_delay if reply.first_token_delay is not None else fake.first_token_delay
        piece_delay = reply.chunk_delay if reply.chunk_delay is not None else fake.chunk_delay
        started = False

        def pause() -> bool:
            nonlocal started
            delay = piece_delay if started else first_delay
            started = True
            return fake._sleep(delay)

        text_reply = reply.kind != "tool_call" or reply.content is not None
        emit(chunk({"role": "assistant", "content": "" if text_reply else None, "refusal": None}))
        if reply.kind == "malformed":
            if not pause():
                self._drop_connection()
                return
            self._write_chunk(b"data: " + str(reply.body).encode("utf-8") + b"\n\n")
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")
            return
        for piece in _split_content(reply.content or ""):
            if not pause():
                self._drop_connection()
                return
            emit(chunk({"content": piece}))
        for idx, call in enumerate(reply.tool_calls):
            if not pause():
                self._drop_connection()
                return
            head = {"index": idx, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            emit(chunk({"tool_calls": [head]}))
            for start in range(0, len(call.arguments), _ARG_PIECE):
                if not pause():
                    self._drop_connection()
                    return
                piece = call.arguments[start : start + _ARG_PIECE]
                emit(chunk({"tool_calls": [{"index": idx, "function": {"arguments": piece}}]}))
        if reply.kind == "truncated":
            if reply.abrupt:
                self._drop_connection()
            else:
                self._write_chunk(b"")
            return
        emit(chunk({}, reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")))
        if include_usage:
            emit({**base, "choices": [], "usage": self._usage(body, reply)})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")

    # -- embeddings ---------------------------------------------------------------------------------------------
    def _embeddings(self, index: int, path: str, body: dict[str, Any]) -> None:
        fake = self.fake
        reply = fake._next_reply("embeddings", index, path, body)
        if not fake._sleep(fake.latency):
            self._drop_connection()
            return
        while reply is not None and reply.kind == "hang":
            if not fake._sleep(reply.seconds):
                self._drop_connection()
                return
            reply = reply.then
        if reply is not None and reply.kind in ("error", "raw", "malformed"):
            self._send_chat_reply(reply, {})
            return
        raw_input = body.get("input")
        items: list[Any]
        token_array = isinstance(raw_input, list) and bool(raw_input) and all(isinstance(x, int) for x in raw_input)
        if isinstance(raw_input, str) or token_array:
            items = [raw_input]
        elif isinstance(raw_input, list) and raw_input:
            items = list(raw_input)
        else:
            self._send_error_json(400, "'input' must be a non-empty string or array.", param="input")
            return
        dim = body.get("dimensions") or fake.embedding_dim
        if not isinstance(dim, int) or dim <= 0:
            self._send_error_json(400, "'dimensions' must be a positive integer.", param="dimensions")
            return
        b64 = body.get("encoding_format") == "base64"
        data: list[dict[str, Any]] = []
        chars = 0
        for i, item in enumerate(items):
            key = item if isinstance(item, str) else json.dumps(item)
            chars += len(key)
            vec = fake_embedding(key, dim)
            embedding: Any = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode("ascii") if b64 else vec
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        tokens = estimate_tokens(chars)
        obj = {
            "object": "list",
            "data": data,
            "model": body.get("model") or fake.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        payload = json.dumps(obj).encode("utf-8")
        if reply is not None and reply.kind == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self._drop_connection()
            return
        self._send_bytes(200, payload, "application/json")
