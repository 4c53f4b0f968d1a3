"""The session page on a laptop (1366x768) and a desktop (1920x1080), in a real browser (Debian's chromium,
Playwright), against `comentor ui` as users start it (issue #17).

One session per size: open the pair, start an agenda, ten messages (six commitments), a question to the facilitator,
a suggested question, the next agenda item pressed early, the summary. At each step the message box, Send and the
action buttons are inside the viewport; the chat's label never covers a message; each facilitator reply is one
message (its citations as footnotes in it); the commitments table shows every row without scrolling inside itself;
the agenda builder is folded once the agenda runs; the page at the summary is under two screens long. Measured by
bounding boxes, not pixels. Viewport and full-page screenshots go to test-artifacts/ui/layout-*.png; the figures to
test-artifacts/ui/layout-<size>.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .test_ui_browser import ARTIFACTS, Page, UIServer, browser, expect, open_pair

__all__ = ["browser"]  # the module's browser fixture, shared

pytestmark = pytest.mark.slow
SIZES = [(1366, 768), (1920, 1080)]
IN_VIEW = ["message", "send", "suggest-question", "challenge", "balance-check", "next-item", "summarize"]
MESSAGES = [
    ("Ana", "Hi Ben, good to see you. I'd like to get better at short-form video this month."),
    ("Ben", "Happy to help. Could you show me how you plan a research interview?"),
    ("Ana", "I'll send you my interview guide by Friday."),
    ("Ben", "Great, thanks. I'll record a first 30-second video by next Tuesday."),
    ("Ana", "I'll review your video and send you notes by Thursday."),
    ("Ben", "I'll draft three interview questions for the pilot by Monday."),
    ("Ana", "I'll book a call with the research team by next Wednesday."),
    ("Ben", "I'll share the video analytics dashboard with you by Friday."),
    ("Ana", "I'll write up what we learned for the team by the end of the month."),
    ("Ben", "Sounds like a plan. Thanks Ana, this helps a lot."),
]
ACTIONS = ["interview guide", "30-second video", "send Ben notes", "interview questions", "research team", "dashboard"]
QUESTION = "@facilitator how can we give each other useful feedback on a first draft?"
# scroll boxes inside the commitments table: any element that scrolls and whose content is taller or wider than it
INNER_SCROLL = """(id) => [...document.getElementById(id).querySelectorAll('*')].filter(e => {
  const s = getComputedStyle(e), scrolls = (o) => o === 'auto' || o === 'scroll';
  return (scrolls(s.overflowY) && e.scrollHeight > e.clientHeight + 2)
    || (scrolls(s.overflowX) && e.scrollWidth > e.clientWidth + 2);
}).map(e => e.className + ' ' + e.scrollHeight + '/' + e.clientHeight + ' ' + e.scrollWidth + '/' + e.clientWidth)"""
BOT = "#chat .message-row.bot-row"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UIServer]:
    ui = UIServer(tmp_path_factory.mktemp("layout-home")).start()
    yield ui
    ui.stop()


class Measured:
    """A page at one size, and what was measured on it (kept in test-artifacts/ui/layout-<size>.json)."""

    def __init__(self, page: Page, width: int, height: int) -> None:
        self.page, self.width, self.height = page, width, height
        self.figures: dict[str, Any] = {"viewport": [width, height]}

    def box(self, selector: str) -> dict[str, float]:
        found = self.page.page.locator(selector).first.bounding_box()
        assert found is not None, f"{selector} is not shown"
        return found

    def assert_in_view(self, step: str) -> None:
        """The message box, Send and every action button lie wholly inside the viewport (the page not scrolled)."""
        self.page.page.evaluate("window.scrollTo(0, 0)")
        bottoms = {}
        for elem_id in IN_VIEW:
            b = self.box(f"#{elem_id}")
            bottoms[elem_id] = round(b["y"] + b["height"])
            assert b["y"] >= 0 and b["y"] + b["height"] <= self.height, (step, elem_id, b)
        self.figures[f"{step}: lowest control bottom (px)"] = max(bottoms.values())

    def assert_label_clear(self, step: str) -> None:
        """The chat's "Conversation" label ends above the box the messages scroll in (it never covers one, at any
        scroll position), and above the first message."""
        label = self.box("#chat [data-testid=block-label]")
        messages = self.box("#chat .bubble-wrap")
        first = self.page.page.locator("#chat .message-row").first
        first.scroll_into_view_if_needed()
        wrap = self.page.page.locator("#chat .bubble-wrap")
        wrap.evaluate("e => e.scrollTo(0, 0)")
        top = self.box("#chat .message-row")["y"]
        wrap.evaluate("e => e.scrollTo(0, e.scrollHeight)")  # back to the newest message, as the chat follows
        shown = [round(label["y"] + label["height"]), round(top)]
        self.figures[f"{step}: label bottom, first message top (px)"] = shown
        assert label["y"] + label["height"] <= top, (step, label, top)
        assert label["y"] + label["height"] <= messages["y"], (step, label, messages)

    def scroll_height(self) -> int:
        return int(self.page.page.evaluate("document.documentElement.scrollHeight"))

    def shots(self, label: str) -> None:
        name = f"layout-{self.width}x{self.height}-{label}"
        self.page.page.evaluate("window.scrollTo(0, 0)")
        self.page.page.screenshot(path=str(ARTIFACTS / f"{name}-viewport.png"))
        self.page.page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"), full_page=True)

    def save(self) -> None:
        path = ARTIFACTS / f"layout-{self.width}x{self.height}.json"
        path.write_text(json.dumps(self.figures, indent=2))


def pair_for(server: UIServer, width: int) -> tuple[str, str]:
    """The demo pair (Ana & Ben) under an id of its own for each size: each size gets its own first session."""
    from facilitator.pairs import load_pair
    from facilitator.resources import demo_pair_path

    pair = load_pair(demo_pair_path()).model_copy(update={"id": f"ana-ben-{width}"})
    return pair.id, server.store().create_pair(pair)


def start_agenda(page: Page) -> None:
    page.el("agenda-builder").get_by_text("Build or edit today's agenda").click()
    page.el("plan-agenda").click()
    expect(page.el("agenda-table")).to_contain_text("leads", timeout=30_000)
    page.idle()
    page.el("start-agenda").click()
    expect(page.el("agenda")).to_contain_text("Now (1 of", timeout=20_000)
    page.idle()
    expect(page.el("start-agenda")).to_be_hidden(timeout=10_000)  # the builder folded away


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_session_fits_the_screen(server: UIServer, browser: Any, width: int, height: int) -> None:
    page = Page(browser, f"layout-{width}", viewport=(width, height))
    m = Measured(page, width, height)
    pair_id, code = pair_for(server, width)
    open_pair(page, server.url, pair_id, code)
    m.shots("1-opened")
    m.assert_in_view("opened")
    m.figures["opened: page height (px)"] = m.scroll_height()

    start_agenda(page)
    m.assert_in_view("agenda started")
    for who, text in MESSAGES:
        page.say(who, text)
    m.shots("2-chatting")
    m.assert_in_view("after 10 messages")
    m.assert_label_clear("after 10 messages")

    # a question to the facilitator: its reply, with the passages it cites, is one message
    bots = page.page.locator(BOT).count()
    page.say("Ana", QUESTION)
    expect(page.el("chat")).to_contain_text("Sources", timeout=20_000)
    page.idle()
    assert page.page.locator(BOT).count() == bots + 1, "one reply, its citations inside it"
    reply = page.page.locator(BOT).last
    expect(reply).to_contain_text("Sources")
    assert re.search(r"\[\d\]", reply.inner_text()), reply.inner_text()
    page.speaker("Ben")
    page.el("suggest-question").click()
    expect(page.page.locator(BOT)).to_have_count(bots + 2, timeout=20_000)
    page.idle()
    page.el("next-item").click()  # pressed early: the facilitator moves on, and says so truly
    expect(page.page.locator(BOT)).to_have_count(bots + 3, timeout=20_000)
    page.idle()
    moved = page.page.locator(BOT).last.inner_text()
    assert "Moving on from" in moved and "Time is up" not in moved, moved
    expect(page.el("agenda")).to_contain_text("Now (2 of", timeout=20_000)
    m.shots("3-question")
    m.assert_in_view("after the question")
    m.assert_label_clear("after the question")

    # the commitments: every row, no scrolling inside the table
    items = page.el("commitments")
    expect(items).to_contain_text("analytics dashboard", timeout=20_000)
    assert page.page.evaluate(INNER_SCROLL, "commitments") == []
    shown = items.inner_text()  # the rendered text: what is drawn (no row hidden below an inner scroll)
    assert [action for action in ACTIONS if action not in shown] == [], shown
    m.figures["commitment rows"] = len(ACTIONS)

    page.el("summarize").click()
    expect(page.status()).to_contain_text("Summarized", timeout=30_000)
    expect(page.el("summary")).to_contain_text("Accountability items", timeout=20_000)
    page.idle()
    summary_height = m.scroll_height()
    m.figures["summary: page height (px)"] = summary_height
    assert page.page.evaluate(INNER_SCROLL, "commitments") == []
    m.shots("4-summary")
    m.assert_in_view("summary")
    m.save()
    print(f"layout at {width}x{height}: {m.figures}")
    assert summary_height < 2 * height, m.figures
    assert page.outside() == [], page.outside()
    page.close()
