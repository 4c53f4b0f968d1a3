"""Security headers on every HTTP response of the app: a Content-Security-Policy that lets the page load nothing from
another origin, `nosniff`, and no Referer.

The policy is the second line of defence behind `safe_markdown`: should some text still render as an image, a
diagram or a formula that fetches a URL, the browser refuses the request. Gradio's page needs inline scripts (its
config is an inline <script>), `eval` (an event's `js=` is compiled from a string) and inline styles (component
styles); everything else comes from the app itself, and images also as data: and blob: URLs (the balance chart is a
data: PNG). Scripts are not what this policy is for (escaping keeps markup out); `img-src`, `connect-src`, `font-src`,
`media-src`, `frame-src` and `form-action` are: no request can leave for another origin.

`serve()` installs `SecurityHeaders` as a FastAPI middleware (`app_kwargs={"middleware": ...}`): it wraps the router,
so every route, file and error response below it carries the headers; `server_error` adds them to the 500 that
Starlette's outermost error middleware sends.
"""

from __future__ import annotations

import secrets
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = {
    "default-src": "'self'",
    # Gradio compiles an event's `js=` (build_app's page load has one) with the AsyncFunction constructor: eval
    "script-src": "'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "media-src": "'self' data: blob:",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in POLICY.items())
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_RAW = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]
_NAMES = {name for name, _value in _RAW}


class SecurityHeaders:
    """Pure ASGI middleware: sets `HEADERS` on every HTTP response (replacing any the app set), streams untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message = {**message, "headers": [*kept, *_RAW]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def server_error(request: Any, exc: Exception) -> Any:
    """The plain 500 Starlette sends for an unhandled error, with the headers (it is sent outside the middleware)."""
    from starlette.responses import PlainTextResponse

    return PlainTextResponse("Internal Server Error", status_code=500, headers=HEADERS)


def app_kwargs(exception_handlers: dict[Any, Any] | None = None) -> dict[str, Any]:
    """What `serve()` passes to Gradio's FastAPI app (`launch(app_kwargs=...)`): the middleware, the 500 handler and
    the app's other `exception_handlers`."""
    from starlette.middleware import Middleware

    handlers = {Exception: server_error, **(exception_handlers or {})}
    return {"middleware": [Middleware(SecurityHeaders), Middleware(StreamBinding)], "exception_handlers": handlers}


CLIENT_COOKIE = "comentor-client"
_MAX_BINDINGS = 100_000


class StreamBinding:
    """Binds Gradio's event stream to the browser that opened it.

    Gradio sends a session's event results (chat text, the access grant) to whoever reads
    `/gradio_api/queue/data?session_hash=H`, and H is chosen by the client. Every response here gives a browser an
    HttpOnly, SameSite=Strict cookie with a random id; the first reader of H binds H to its cookie, and a later reader
    with another cookie (or none) gets 403. A client that keeps no cookies binds H to "no cookie" and is no worse off
    than before; browsers keep it, so another visitor who learns a browser's H cannot read its events."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bindings: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = _cookie(scope)
        if scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/upload"):
            await _forbidden(send, b'{"detail": "this app takes no uploads"}')  # no form of the app needs one
            return
        if scope.get("path", "").endswith("/queue/data"):
            session_hash = _query(scope).get("session_hash", "")
            bound = self.bindings.setdefault(session_hash, cookie)
            if len(self.bindings) > _MAX_BINDINGS:
                self.bindings.pop(next(iter(self.bindings)))
            if bound != cookie:
                await _forbidden(send)
                return
        if cookie:
            await self.app(scope, receive, send)
            return
        fresh = secrets.token_urlsafe(24)
        header = f"{CLIENT_COOKIE}={fresh}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                return ""
            morsel = jar.get(CLIENT_COOKIE)
            return morsel.value if morsel is not None else ""
    return ""


def _query(scope: Scope) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}


async def _forbidden(
    send: Send, body: bytes = b'{"detail": "this event stream belongs to another browser; reload the page"}'
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *_RAW]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
