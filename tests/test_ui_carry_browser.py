"""Carry-over (#17) in a real browser: an item agreed in session 1 shows in the next session under "Open items from
earlier sessions", is marked slipped (a bad date first) and done with its buttons, and `/commitments` agrees.

Same harness as tests/test_ui_browser.py (Debian's chromium, `comentor ui` as users start it); screenshots go to
test-artifacts/ui/carry-*.png.
"""

from __future__ import annotations

import re
from typing import Any

from .test_ui_browser import Page, UIServer, browser, expect, pytestmark, server  # noqa: F401 (fixtures, marks)

PARTNERS = {
    "p1-name": "Carla Mendes",
    "p1-role": "Head of finance",
    "p1-offers": "budgeting, negotiation",
    "p1-seeks": "data visualisation",
    "p2-name": "Dev Patel",
    "p2-role": "Junior analyst",
    "p2-offers": "data visualisation, Python",
    "p2-seeks": "negotiation",
}


def create_pair(page: Page, url: str) -> None:
    page.page.goto(url)
    expect(page.el("create-pair")).to_be_visible(timeout=30_000)
    expect(page.status()).to_contain_text("Open your pair", timeout=20_000)
    page.idle()
    for elem_id, value in PARTNERS.items():
        page.fill(elem_id, value)
    expect(page.el("new-pair-id").locator("input, textarea").first).to_have_value(re.compile(r"^carla-dev-"))
    page.el("create-pair").click()
    expect(page.status()).to_contain_text("your access code is", timeout=20_000)
    page.idle()


def row_of(page: Page, text: str) -> Any:
    return page.el("carried-items").get_by_role("row").filter(has_text=text).first


def test_carried_items_are_marked_in_the_next_session(server: UIServer, browser: Any) -> None:  # noqa: F811
    page = Page(browser, "carry")
    create_pair(page, server.url)

    # session 1: two commitments, summarized; nothing is carried into the first session
    page.say("Carla", "I'll send you the negotiation checklist by next Friday.")
    page.say("Dev", "And I'll share the chart template with you by next Monday.")
    expect(page.el("commitments")).to_contain_text("chart template", timeout=20_000)
    expect(page.el("carried-items")).not_to_contain_text("negotiation checklist")
    page.el("summarize").click()
    expect(page.status()).to_contain_text("Summarized", timeout=30_000)
    page.idle()

    # the next session: both items carried, with their ids, buttons and history
    page.el("new-session").click()
    expect(page.status()).to_contain_text("New session started", timeout=20_000)
    page.idle()
    carried = page.el("carried-items")
    expect(carried).to_contain_text("negotiation checklist", timeout=20_000)
    expect(carried).to_contain_text("chart template")
    expect(row_of(page, "negotiation checklist")).to_contain_text("agreed")
    for button in ("carried-done", "carried-slipped", "carried-dropped"):
        expect(page.el(button)).to_be_visible()
    page.el("carried-section").scroll_into_view_if_needed()
    page.shot("carried")
    checklist_id = row_of(page, "negotiation checklist").get_by_role("gridcell").first.inner_text().strip()
    template_id = row_of(page, "chart template").get_by_role("gridcell").first.inner_text().strip()
    assert re.fullmatch(r"[\w-]+", checklist_id) and re.fullmatch(r"[\w-]+", template_id), (checklist_id, template_id)

    # Slipped with a date the engine cannot read: it says what to type, and the choice and the date stay
    page.pick("carried-pick", "negotiation checklist")
    page.fill("carried-due", "sometime soonish")
    page.el("carried-slipped").click()
    expect(page.status()).to_contain_text("type the new date", timeout=20_000)
    page.idle()
    expect(page.el("carried-due").locator("input, textarea").first).to_have_value("sometime soonish")
    expect(page.el("carried-pick").locator("input").first).to_have_value(re.compile("negotiation checklist"))
    expect(row_of(page, "negotiation checklist")).not_to_contain_text("slipped")
    page.shot("bad-date")

    # Slipped to a new date, then Done on the other item
    page.fill("carried-due", "2027-01-08")
    page.el("carried-slipped").click()
    expect(page.status()).to_contain_text(f"commitment {checklist_id} marked slipped", timeout=20_000)
    page.idle()
    slipped = row_of(page, "negotiation checklist")
    expect(slipped).to_contain_text("2027-01-08")
    expect(slipped).to_contain_text(re.compile(r"slipped \d{4}-\d{2}-\d{2} → 2027-01-08"))
    expect(page.el("carried-due").locator("input, textarea").first).to_have_value("")
    page.pick("carried-pick", "chart template")
    page.el("carried-done").click()
    expect(page.status()).to_contain_text(f"commitment {template_id} marked done", timeout=20_000)
    page.idle()
    expect(row_of(page, "chart template")).to_contain_text("done")
    page.shot("marked")

    # /commitments lists this session's items and the carried ones apart, with their ids
    page.speaker("Carla")
    page.fill("message", "/commitments")  # a command: answered by the facilitator, not shown as a turn
    page.el("send").click()
    chat = page.el("chat")
    expect(chat).to_contain_text("No commitments in this session yet", timeout=20_000)
    page.idle()
    expect(chat).to_contain_text("Open from earlier sessions (1;")
    expect(chat).to_contain_text(f"{checklist_id} Carla: send Dev the negotiation checklist")
    expect(chat).to_contain_text("due 2027-01-08, slipped")
    expect(chat).to_contain_text("Closed in this session:")
    expect(chat).to_contain_text(f"{template_id} Dev:")
    page.shot("commitments")
    assert page.outside() == [], page.outside()
    page.close()
