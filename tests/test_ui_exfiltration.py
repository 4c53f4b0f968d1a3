"""Nothing a partner types or a model writes can make the real page fetch a URL (red-team finding "Exfiltration").

`comentor ui` runs as users start it (reliability.load.UIProcess) and Debian's chromium drives it. A local HTTP
listener counts every request it gets; every hostile shape in this file points at it: names, roles, offers, goals and
messages with Markdown images, raw HTML with `onerror`, ```mermaid diagrams (whose renderer turns `&lt;img&gt;` back
into a tag), KaTeX, reference images. The listener must get no request from any panel, and the page must carry the
Content-Security-Policy that would block one anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from facilitator.testing.fake_openai import FakeOpenAIServer, Reply

from .test_ui_browser import Page, UIServer, expect, playwright_api

pytestmark = pytest.mark.slow


class Listener:
    """An HTTP server on 127.0.0.1 that answers every request with a 1x1 GIF and remembers its path."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                hits.append(self.path)
                body = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Cache-Control", "no-store")  # a second fetch of the same URL is counted too
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_OPTIONS = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    listening = Listener()
    httpx.get(listening.url + "/self-check")  # the listener counts what reaches it...
    assert listening.hits == ["/self-check"]
    listening.hits.clear()  # ...and starts the test from zero
    yield listening
    listening.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from .test_ui_browser import CHROMIUM

    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def hostile(h: str, tag: str) -> str:
    """Every shape that fetched (or could fetch) a URL in a rendered page, each pointing at `h/<tag>-<shape>`."""
    return "\n".join(
        [
            f"{tag}-text ![md]({h}/{tag}-md-image) <img src={h}/{tag}-raw-img onerror=\"fetch('{h}/{tag}-onerror')\">",
            f"<img src={h}/{tag}-long-tag alt='{'x' * 260}'> [ref-img][{tag}r] ![r][{tag}r] <{h}/{tag}-autolink>",
            f"$$\\href{{{h}/{tag}-katex}}{{k}}\\includegraphics{{{h}/{tag}-katex-img}}$$ $\\foo$",
            "",
            f"[{tag}r]: {h}/{tag}-ref-image",
            "",
            "```mermaid",
            "graph TD",
            f'  A["&lt;img src={h}/{tag}-mermaid-escaped&gt;"] --> B["<img src={h}/{tag}-mermaid-raw>"]',
            "```",
            "",
            "~~~mermaid",
            f'graph TD\n  C["&lt;img src={h}/{tag}-mermaid-tilde&gt;"]',
            "~~~",
            "",
            "- ```mermaid",
            f'  graph TD\n  D["&lt;img src={h}/{tag}-mermaid-list&gt;"]',
            "  ```",
            "",
            "> ```mermaid",
            f'> graph TD\n> E["&lt;img src={h}/{tag}-mermaid-quote&gt;"]',
            "> ```",
            "",
            f"{tag}-end",
        ]
    )


def one_line(h: str, tag: str) -> str:
    """The shapes that fit a one-line field (a name, a role, an offer)."""
    return f"![{tag}]({h}/{tag}-md) <img/src={h}/{tag}-raw/onerror=fetch(1)> $\\foo$ $$\\href{{{h}/{tag}-katex}}{{k}}$$"


def leaked(page: Page, listener: Listener) -> dict[str, Any]:
    """What the page rendered that it must not: requests that reached the listener, images pointing at it, diagrams
    and formulas (rendered mermaid or KaTeX)."""
    p = page.page
    port = listener.url.rsplit(":", 1)[1]
    return {
        "requests": list(listener.hits),
        "images": p.locator(f"img[src*=':{port}']").count(),
        "diagrams": p.locator(".mermaid svg, .mermaid[data-processed]").count(),
        "formulas": p.locator(".katex").count(),
    }


def test_no_panel_fetches_what_partners_or_the_model_wrote(
    listener: Listener, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    h = listener.url
    server = UIServer(tmp_path_factory.mktemp("exfil-home")).start()
    page = Page(browser, "exfil")
    violations: list[str] = []
    page.page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    found: dict[str, dict[str, Any]] = {}
    clean = {"requests": [], "images": 0, "diagrams": 0, "formulas": 0, "blocked": []}

    def check(panel: str) -> None:
        page.idle()
        page.page.wait_for_timeout(1500)  # mermaid and images load asynchronously
        found[panel] = {**leaked(page, listener), "blocked": list(violations)}  # what the policy stopped
        violations.clear()
        listener.hits.clear()
        page.shot(panel)

    try:
        p = page.page
        p.goto(server.url)
        expect(page.el("create-pair")).to_be_visible(timeout=30_000)
        page.idle()
        fields = {
            "p1-name": f"![n]({h}/leak-name1)$\\foo$ Ana",
            "p1-role": one_line(h, "role1"),
            "p1-offers": one_line(h, "offers1") + ", budgeting",
            "p1-seeks": "negotiation, " + one_line(h, "seeks1"),
            "p2-name": f"<img/src={h}/leak-name2/onerror=fetch(1)> Bea",
            "p2-role": one_line(h, "role2"),
            "p2-offers": "negotiation, " + one_line(h, "offers2"),
            "p2-seeks": "budgeting",
            "goals": one_line(h, "goals"),
        }
        for elem_id, value in fields.items():
            page.fill(elem_id, value)
        page.el("create-pair").click()
        expect(page.status()).to_contain_text("your access code is", timeout=20_000)
        check("pair-created")
        speakers = page.el("speaker").locator("input[type=radio]")
        expect(speakers).to_have_count(2)

        # the agenda: items and leads carry the names ("led by")
        page.el("agenda-builder").get_by_text("Build or edit today's agenda").click()
        page.el("minutes").locator("input[type=number]").fill("30")
        page.el("plan-agenda").click()
        expect(page.el("agenda-table")).to_contain_text("leads", timeout=30_000)
        check("agenda-draft")
        page.el("start-agenda").click()
        expect(page.el("agenda")).to_contain_text("Now (1 of", timeout=20_000)
        expect(page.el("agenda")).to_contain_text("led by")
        check("agenda")

        # the chat: every hostile shape, from both partners
        chat = page.el("chat")
        for n, tag in enumerate(("chat1", "chat2")):
            speakers.nth(n).check()
            page.fill("message", hostile(h, tag))
            page.el("send").click()
            expect(chat).to_contain_text(f"{tag}-end", timeout=20_000)
            check(f"chat-{tag}")
        page.el("suggest-question").click()
        page.page.wait_for_timeout(500)
        check("chat-question")

        # a commitment with hostile text, proposed live, then edited to more hostile text
        speakers.nth(1).check()
        page.fill("message", f"Could you send me the ![i]({h}/item-md) checklist <img src={h}/item-raw> by Friday?")
        page.el("send").click()
        page.page.wait_for_timeout(500)
        page.idle()
        speakers.nth(0).check()
        page.fill("message", f"Yes, I'll send you the ![i]({h}/item-md) checklist <img src={h}/item-raw> by Friday.")
        page.el("send").click()
        items = page.el("commitments")
        expect(items).to_contain_text("not yet", timeout=20_000)
        check("commitments")
        page.el("item-pick").locator("input").first.click()
        p.get_by_role("option").first.click()
        page.fill("edit-action", one_line(h, "edited") + " edited-marker")
        page.el("edit-item").click()
        expect(items).to_contain_text("edited-marker", timeout=20_000)
        check("commitments-edited")

        # a date that cannot be read: the warning toast repeats it
        page.el("item-pick").locator("input").first.click()
        p.get_by_role("option").first.click()
        page.fill("edit-due", one_line(h, "due"))
        page.el("edit-item").click()
        expect(p.get_by_test_id("toast-body").first).to_contain_text("cannot read the date", timeout=20_000)
        check("warning-toast")
        p.get_by_test_id("toast-close").first.click()

        # the chart's labels are the names (one of them with mathtext in it): it is drawn
        expect(page.el("balance").locator("img")).to_be_visible()

        # the summary panel (the Markdown recap, names and quotes in it)
        page.el("summarize").click()
        expect(page.status()).to_contain_text("Summarized", timeout=30_000)
        expect(page.el("summary")).to_contain_text("Accountability items")
        check("summary")

        # History: sessions and open items with their owners' names
        p.get_by_role("tab", name="History").click()
        expect(page.el("history")).to_contain_text("this session", timeout=10_000)
        expect(page.el("history")).to_contain_text("edited-marker")
        check("history")

        # the pair panel: names, roles, offers, seeks, goals
        p.get_by_role("tab", name="Pair").click()
        expect(page.el("pair-info")).to_contain_text("Shared goals", timeout=10_000)
        check("pair-info")
    finally:
        page.close()
        server.stop()
    toast = found.pop("warning-toast")
    assert toast["requests"] == [], toast
    unsafe = {panel: what for panel, what in found.items() if what != clean}  # "blocked": nothing had to be
    assert not unsafe, "\n".join(f"{panel}: {what}" for panel, what in unsafe.items())
    assert toast == clean, toast  # the warning toast shows the text, it builds no element


def test_a_streamed_reply_fetches_nothing_while_it_streams(listener: Listener, browser: Any, tmp_path: Path) -> None:
    h = listener.url
    reply = (
        "Here is a diagram:\n\n```mermaid\ngraph TD\n"
        f'  A["&lt;img src={h}/stream-mermaid&gt;"] --> B["<img src={h}/stream-raw>"]\n```\n\n'
        f"and ![s]({h}/stream-md) an image, <img src={h}/stream-html onerror=alert(1)> and "
        "`` ```mermaid `` more words that keep the stream going for a while, stream-end"
    )
    with FakeOpenAIServer(responder=lambda _body: Reply.text(reply, first_token_delay=0.3, chunk_delay=0.2)) as fake:
        server = UIServer(
            tmp_path / "home",
            env={"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key", "COMENTOR_MODEL": "fake-model"},
        ).start()
        page = Page(browser, "exfil-stream")
        try:
            page.page.goto(server.demo_link)
            expect(page.el("speaker")).to_be_visible(timeout=30_000)
            page.idle()
            page.speaker("Ana")
            page.fill("message", "@facilitator draw us a diagram")
            page.el("send").click()
            seen: list[dict[str, Any]] = []
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                seen.append(leaked(page, listener))
                if "stream-end" in page.el("chat").inner_text():
                    break
                page.page.wait_for_timeout(100)
            page.idle()
            page.page.wait_for_timeout(1500)
            seen.append(leaked(page, listener))
            page.shot("streamed")
        finally:
            page.close()
            server.stop()
    assert len(seen) > 3, "the reply was not streamed"
    assert [s for s in seen if s != {"requests": [], "images": 0, "diagrams": 0, "formulas": 0}] == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UIServer]:
    ui = UIServer(tmp_path_factory.mktemp("headers-home")).start()
    yield ui
    ui.stop()


@pytest.mark.parametrize("path", ["", "gradio_api/info", "config", "gradio_api/no-such-route"])
def test_every_response_carries_the_content_security_policy(server: UIServer, path: str) -> None:
    response = httpx.get(server.url + path, timeout=10)
    csp = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("img-src") == ["'self'", "data:", "blob:"], csp
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("default-src") == ["'self'"], csp
    assert "http" not in csp and "*" not in csp  # no remote host anywhere
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"
