"""Gradio's event stream is read by session hash; `StreamBinding` ties a hash to the browser (cookie) that read it
first, so a visitor who learns another browser's session hash cannot read its events (chat text, the access grant).
Failed before the fix: the second reader got the stream."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.security import CLIENT_COOKIE, StreamBinding


async def stream(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"events of {request.query_params.get('session_hash')}")


def app() -> StreamBinding:
    return StreamBinding(Starlette(routes=[Route("/gradio_api/queue/data", stream), Route("/", stream)]))


def test_a_second_browser_cannot_read_the_first_ones_event_stream() -> None:
    shared = app()
    victim, eavesdropper = TestClient(shared), TestClient(shared)
    victim.get("/")
    eavesdropper.get("/")
    assert victim.cookies.get(CLIENT_COOKIE) and eavesdropper.cookies.get(CLIENT_COOKIE)
    assert victim.cookies.get(CLIENT_COOKIE) != eavesdropper.cookies.get(CLIENT_COOKIE)
    assert victim.get("/gradio_api/queue/data?session_hash=h1").text == "events of h1"
    refused = eavesdropper.get("/gradio_api/queue/data?session_hash=h1")
    assert refused.status_code == 403 and "another browser" in refused.text
    assert victim.get("/gradio_api/queue/data?session_hash=h1").status_code == 200  # the owner keeps reading
    assert TestClient(shared).get("/gradio_api/queue/data?session_hash=h1").status_code == 403
    assert eavesdropper.get("/gradio_api/queue/data?session_hash=h2").status_code == 200  # its own hash


def test_a_response_to_a_browser_without_the_cookie_sets_it_http_only_and_strict() -> None:
    response = TestClient(app()).get("/")
    header = response.headers["set-cookie"]
    assert header.startswith(f"{CLIENT_COOKIE}=") and "HttpOnly" in header and "SameSite=Strict" in header


def test_uploads_are_refused_because_no_form_needs_one() -> None:
    client = TestClient(app())
    for path in ("/gradio_api/upload", "/upload", "/gradio_api/upload/"):
        refused = client.post(path, files={"files": ("x.txt", b"anonymous content")})
        assert refused.status_code == 403 and "no uploads" in refused.text
