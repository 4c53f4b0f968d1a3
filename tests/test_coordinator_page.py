"""The web app's Coordinator tab and check-in feedback form (issue 18), through `ui.handlers.Handlers` and the built
Blocks app: the coordinator code opens the report, a pair's code or grant never does, nothing a pair wrote is shown,
and no code configured says how to set one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from facilitator.access import hash_code
from facilitator.engine import Facilitator
from facilitator.settings import Settings
from facilitator.store import Store
from tests.test_program import _assert_no_secrets, _seed
from ui import views
from ui.handlers import Handlers

NOW = dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC)


def _handlers(tmp_path: Path, coordinator_code: str | None) -> Handlers:
    settings = Settings(coordinator_code=coordinator_code)
    fac = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'coord.db'}"), settings=settings)
    return Handlers(dataclasses.replace(fac, clock=lambda: NOW), exports_root=tmp_path / "exports")


@pytest.fixture
def h(tmp_path: Path) -> Handlers:
    handlers = _handlers(tmp_path, hash_code("coord-secret-1"))
    _seed(handlers.fac)
    return handlers


def test_the_coordinator_code_shows_the_report_without_what_pairs_wrote(h: Handlers) -> None:
    shown = h.coordinator("coord-secret-1", client="t")
    assert not shown.warn and shown.report is not None
    assert {p.pair_id for p in shown.report.pairs} == {"ana-ben", "cy-dee", "eve-fay"}
    from facilitator.program import report_html

    _assert_no_secrets(report_html(shown.report))
    figure = views.program_figure(shown.report)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts + ax.get_xticklabels() + ax.get_yticklabels()]
    _assert_no_secrets(" ".join(texts))


def test_a_pair_code_or_grant_does_not_open_the_coordinator_page(h: Handlers) -> None:
    code = h.fac.store.rotate_code("ana-ben")
    grant = h.open("ana-ben", code, client="t").token
    assert grant
    for wrong in (code, grant, "", None, "ana-ben"):
        refused = h.coordinator(wrong, client="t")
        expected = "wrong coordinator code" if wrong else "enter the coordinator code"
        assert refused.warn and refused.report is None and expected in refused.status
    assert h.open("ana-ben", "coord-secret-1", client="t").warn  # and the coordinator code opens no pair


def test_no_coordinator_code_configured_says_how_to_set_one(tmp_path: Path) -> None:
    h = _handlers(tmp_path, None)
    assert "set COMENTOR_COORDINATOR_CODE" in h.coordinator_hint()
    refused = h.coordinator("anything", client="t")
    assert refused.warn and refused.report is None and "COMENTOR_COORDINATOR_CODE" in refused.status


def test_the_feedback_form_saves_for_the_speaker_and_names_the_fix(h: Handlers) -> None:
    code = h.fac.store.rotate_code("ana-ben")
    grant = h.open("ana-ben", code, client="t").token
    session_id = h.fac.granted(grant).id
    assert h.summarize(grant).warn is False
    bad = h.feedback(grant, "ana", "", "", "9")
    assert bad.warn and "whole number from 1 to 5" in (bad.status or "")
    nobody = h.feedback(grant, None, "", "", "3")
    assert nobody.warn and "Who speaks" in (nobody.status or "")
    saved = h.feedback(grant, "ana", "the timeboxes", "", "4")
    assert not saved.warn and "Thanks, Ana" in (saved.status or "")
    assert [(f.member, f.balance) for f in h.fac.feedback_of(session_id)] == [("ana", 4)]
    assert h.feedback("forged.token", "ana", "", "", "4").warn


def _fn(demo: Any, api_name: str) -> Any:
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    return next(f.fn for f in fns if f.api_name == api_name)


def test_the_built_app_wires_the_coordinator_tab_and_the_feedback_form(h: Handlers) -> None:
    from ui.layout import build

    demo = build(h, banner="", secret=None, settings=h.fac.settings)
    on_coordinator = _fn(demo, "on_coordinator")
    request = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"))
    status, plot, report = on_coordinator("coord-secret-1", request)
    assert "cy-dee" in report and "has items but none done" in report
    assert plot["visible"] is True and plot["value"] is not None
    _assert_no_secrets(f"{status} {report}")
    denied_status, _plot, denied_report = on_coordinator(h.fac.store.rotate_code("ana-ben"), request)
    assert denied_report == "" and "wrong coordinator code" in denied_status
    assert _fn(demo, "on_feedback") is not None


def test_the_feedback_form_after_start_a_new_session_saves_on_the_ended_one(h: Handlers) -> None:
    code = h.fac.store.rotate_code("ana-ben")
    grant = h.open("ana-ben", code, client="t").token
    ended = h.fac.granted(grant).id
    h.summarize(grant)
    fresh = h.new(grant).token
    assert fresh and h.fac.granted(fresh).id != ended
    saved = h.feedback(fresh, "ben", "pace", "", "3")
    assert not saved.warn, saved.status
    assert [(f.member, f.balance) for f in h.fac.feedback_of(ended)] == [("ben", 3)]
    assert h.fac.feedback_of(h.fac.granted(fresh).id) == []
