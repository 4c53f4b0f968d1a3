"""The program report (issue 18): per pair, sessions against the cadence, items by status, balance and feedback
scores and nudges, in counts and scores only. Never turn text, item wording or feedback comments, in md, json or
html (engine and CLI alike); the coordinator code, and only it, opens the report (a pair's code never does)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facilitator.access import AttemptLimits, hash_code
from facilitator.engine import Facilitator
from facilitator.exceptions import AccessError, ConfigError
from facilitator.models import Commitment, Pair, Participant
from facilitator.program import ProgramReport, report_html, report_json, report_markdown
from facilitator.settings import Settings
from facilitator.store import Store
from ui.cli import app

TODAY = dt.date(2026, 4, 20)
SECRETS = ["Quokkaflute", "zebraplinth", "Marmalade comet", "Velvetanchor", "nimbusgrape", "Tangerinequill"]


def _pair(pid: str, a: str, b: str, cadence: str | None = "every two weeks") -> Pair:
    return Pair(
        id=pid,
        participants=[Participant(id=a, name=a.title()), Participant(id=b, name=b.title())],
        cadence=cadence,
    )


def _seed(fac: Facilitator) -> dict[str, str]:
    """Two pairs: ana-ben meet on time and finish items; cy-dee met once long ago and did nothing."""
    ana = _pair("ana-ben", "ana", "ben")
    first = fac.start(ana, date=dt.date(2026, 3, 23))
    list(first.handle(f"Ana: I keep thinking about the {SECRETS[0]} launch and the {SECRETS[1]} budget."))
    list(first.handle(f"Ben: Then talk to the {SECRETS[2]} team this week, it worked for me."))
    done, _ = fac.store.save_commitments(
        first.id,
        [
            Commitment(owner="ana", action=f"send the {SECRETS[3]} deck"),
            Commitment(owner="ben", action=f"call {SECRETS[4]}"),
        ],
    )
    first.end()
    fac.store.update_commitment(done.id, status="done", by="ana")
    fac.record_feedback(first.id, "ana", worked=f"the {SECRETS[5]} exercise", change=f"less {SECRETS[0]}", balance=4)
    fac.record_feedback(first.id, "ben", worked="", change=f"more {SECRETS[2]}", balance=2)
    second = fac.start(ana, date=dt.date(2026, 4, 6))
    list(second.handle(f"Ben: The {SECRETS[1]} numbers look better now, honestly."))
    second.end()

    dee = _pair("cy-dee", "cy", "dee", cadence="weekly")
    only = fac.start(dee, date=dt.date(2026, 2, 2))
    list(only.handle(f"Cy: I will write the {SECRETS[3]} plan by Friday."))
    fac.store.save_commitments(only.id, [Commitment(owner="cy", action=f"write the {SECRETS[3]} plan")])
    only.end()
    fac.start(_pair("eve-fay", "eve", "fay"), date=TODAY)  # created, never spoke
    return {"first": first.id, "second": second.id}


@pytest.fixture
def fac(comentor_home: Path, monkeypatch: pytest.MonkeyPatch) -> Facilitator:
    monkeypatch.setenv("COMENTOR_COORDINATOR_CODE", hash_code("coord-secret-1"))
    settings = Settings()
    f = Facilitator.offline(Store(settings.resolved_database_url), settings=settings)
    f.clock = lambda: dt.datetime(2026, 4, 20, 12, tzinfo=dt.UTC)
    return f


def _free_strings(schema: object, path: str = "") -> list[str]:
    """Where a JSON schema allows a string that is not a date, a fixed word or of a pattern (free text)."""
    found: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not ({"pattern", "format", "enum", "const"} & set(schema)):
            found.append(path or "(root)")
        if schema.get("type") == "object" and not ({"properties", "patternProperties"} & set(schema)):
            found.append(f"{path} (free keys)")
        for key, value in schema.items():
            if key == "propertyNames" and isinstance(value, dict) and "pattern" not in value:
                found.append(f"{path}.{key}")
            found += _free_strings(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            found += _free_strings(value, f"{path}[{n}]")
    return found


def test_the_report_model_has_no_free_text_field() -> None:
    assert _free_strings(ProgramReport.model_json_schema()) == []


def test_the_report_counts_sessions_items_balance_feedback_and_nudges(fac: Facilitator) -> None:
    _seed(fac)
    report = fac.program_report()
    pairs = {p.pair_id: p for p in report.pairs}
    ana = pairs["ana-ben"]
    assert (ana.cadence_days, ana.sessions_held, ana.sessions_expected) == (14, 2, 2)
    assert ana.last_meeting == dt.date(2026, 4, 6) and ana.next_due == dt.date(2026, 4, 20)
    assert (ana.items.done, ana.items.open) == (1, 1)
    assert ana.sessions[0].feedback_score == 3.0 and ana.sessions[0].feedback_responses == 2
    assert set(ana.sessions[0].shares) == {"ana", "ben"} and ana.sessions[1].shares["ben"] == 1.0
    assert ana.feedback_score == 3.0 and ana.nudges == []
    cy = pairs["cy-dee"]
    assert cy.sessions_held == 1 and cy.sessions_expected == 11
    assert cy.nudges == ["missed-cadence", "nothing-done"]
    assert pairs["eve-fay"].nudges == ["never-met"]
    assert report.needs_nudge == ["cy-dee", "eve-fay"]


def _assert_no_secrets(text: str) -> None:
    lowered = text.lower()
    leaked = [s for s in SECRETS if s.lower() in lowered]
    assert not leaked, f"the report shows what a pair wrote: {leaked}"


def test_no_turn_text_item_wording_or_feedback_comment_reaches_any_format(fac: Facilitator) -> None:
    ids = _seed(fac)
    assert any(SECRETS[0] in t.text for t in fac.store.turns(ids["first"]))  # the secrets are in the store
    assert any(SECRETS[5] in f.worked for f in fac.feedback_of(ids["first"]))
    report = fac.program_report()
    for text in (report_markdown(report), report_json(report), report_html(report)):
        _assert_no_secrets(text)
    assert json.loads(report_json(report))["needs_nudge"] == ["cy-dee", "eve-fay"]


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_cli_program_report_never_shows_what_a_pair_wrote(fac: Facilitator, fmt: str) -> None:
    _seed(fac)
    result = CliRunner().invoke(app, ["program", "report", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "cy-dee" in result.output
    assert fmt != "html" or result.output.startswith("<!doctype html>")
    _assert_no_secrets(result.output)


def test_cli_program_code_prints_a_code_and_its_hash(comentor_home: Path) -> None:
    from facilitator.access import code_matches

    result = CliRunner().invoke(app, ["program", "code"])
    assert result.exit_code == 0, result.output
    code = result.output.split("coordinator code: ", 1)[1].split()[0]
    stored = result.output.split("COMENTOR_COORDINATOR_CODE='", 1)[1].split("'")[0]
    assert code_matches(stored, code) and code not in stored


# ------------------------------------------------------------------------------------------ coordinator access
def test_the_coordinator_code_opens_the_report_and_a_pair_code_does_not(fac: Facilitator) -> None:
    _seed(fac)
    pair_code = fac.store.rotate_code("ana-ben")
    assert fac.coordinator_report("coord-secret-1", client="c1").pairs
    for wrong in (pair_code, "coord-secret-2", hash_code("coord-secret-1")):
        with pytest.raises(AccessError, match="wrong coordinator code"):
            fac.coordinator_report(wrong, client="c1")
    for empty in ("", None):
        with pytest.raises(AccessError, match="enter the coordinator code"):
            fac.coordinator_report(empty, client="c1")
    with pytest.raises(AccessError):  # and the coordinator code opens no pair
        fac.open_pair("ana-ben", "coord-secret-1", client="c1")


def test_a_plain_coordinator_code_works_too(fac: Facilitator, monkeypatch: pytest.MonkeyPatch) -> None:
    fac.settings = Settings(coordinator_code="plain-code-77")
    assert fac.coordinator_report("plain-code-77", client="c").date == TODAY
    with pytest.raises(AccessError):
        fac.coordinator_report("plain-code-7", client="c")


def test_no_coordinator_code_set_says_how_to_set_one(fac: Facilitator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMENTOR_COORDINATOR_CODE")
    fac.settings = Settings()
    with pytest.raises(ConfigError, match="set COMENTOR_COORDINATOR_CODE"):
        fac.coordinator_report("anything", client="c")


def test_wrong_coordinator_codes_are_limited(fac: Facilitator) -> None:
    fac.limits = AttemptLimits(per_client=3, per_pair=30)
    for _ in range(3):
        with pytest.raises(AccessError, match="wrong coordinator code"):
            fac.coordinator_report("guess", client="c9")
    with pytest.raises(AccessError, match="too many wrong"):
        fac.coordinator_report("coord-secret-1", client="c9")


def test_an_odd_stored_id_gets_a_stand_in_never_its_text() -> None:
    from facilitator.program import safe_id

    assert safe_id("ana-ben") == "ana-ben"
    odd = safe_id("Ana & Ben <b>Quokkaflute</b>")
    assert odd.startswith("id-") and "quokka" not in odd.lower() and odd == safe_id("Ana & Ben <b>Quokkaflute</b>")
