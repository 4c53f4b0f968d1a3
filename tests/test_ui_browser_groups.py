"""A circle of three in a real browser (#18): created in the new-pair form, each member leads an agenda item, all
three speak and the balance shows three bars. Screenshots go to test-artifacts/ui/ (circle-*)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_ui_browser import Page, UIServer, browser, expect  # noqa: F401 (the browser fixture)

pytestmark = pytest.mark.slow

MEMBERS = {
    "p1-name": "Carla Mendes",
    "p1-offers": "budgeting, negotiation",
    "p1-seeks": "data visualisation",
    "p2-name": "Dev Patel",
    "p2-offers": "data visualisation, Python",
    "p2-seeks": "public speaking",
    "p3-name": "Eve Stone",
    "p3-offers": "public speaking",
    "p3-seeks": "negotiation",
    "goals": "a clearer monthly report",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UIServer]:
    """`comentor ui` on a fresh home (its first start indexes the guidance: minutes on a busy machine)."""
    ui = UIServer(tmp_path_factory.mktemp("ui-home"), startup_timeout=600).start()
    yield ui
    ui.stop()


def test_a_circle_of_three_in_a_real_browser(server: UIServer, browser: Any) -> None:  # noqa: F811
    page = Page(browser, "circle")
    p = page.page
    p.goto(server.url)
    expect(page.el("create-pair")).to_be_visible(timeout=30_000)
    page.idle()
    page.el("more-members").get_by_text("A circle? Members 3 to 5").click()
    for elem_id, value in MEMBERS.items():
        page.fill(elem_id, value)
    field = page.el("new-pair-id").locator("input, textarea").first
    expect(field).to_have_value(re.compile(r"^carla-dev-eve-[0-9a-f]{6}$"), timeout=20_000)
    page.shot("form")
    page.el("create-pair").click()
    expect(page.status()).to_contain_text("your access code is", timeout=20_000)
    found = re.search(r"with the id (carla-dev-eve-[0-9a-f]{6});", page.status().inner_text())
    assert found, page.status().inner_text()
    page.idle()
    assert server.store().get_pair(found.group(1)).ids == ["carla", "dev", "eve"]

    page.el("agenda-builder").get_by_text("Build or edit today's agenda").click()
    page.el("minutes").locator("input[type=number]").fill("45")
    page.el("plan-agenda").click()
    table = page.el("agenda-table")
    expect(table).to_contain_text("Eve leads: negotiation (with Carla's experience)", timeout=30_000)
    for lead in ("Carla leads", "Dev leads"):
        expect(table).to_contain_text(lead)
    page.idle()
    page.shot("agenda")

    for name, text in (
        ("Carla", "Hi both, I'd like to get better at charts this month."),
        ("Dev", "Happy to help with charts. I want to practise presenting to the board."),
        ("Eve", "I can help with presenting. I'd love Carla's tips on negotiating."),
    ):
        page.say(name, text)
    for name in ("Carla", "Dev", "Eve"):
        expect(page.el("speaker")).to_contain_text(name)
        expect(page.el("chat")).to_contain_text(f"{name}:")
    expect(page.el("balance")).to_be_visible()
    page.shot("chatting")
    assert not page.outside(), page.outside()
    page.close()
