"""Pair files: JSON and YAML load; a missing field or a single participant gets an error that names the field.

Pairs and codes (issue 17): a new pair's id typed or suggested and checked free, a pair from a file gets its code
once, `comentor pairs list|show|code --rotate`."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from facilitator.access import AttemptLimits, link_to
from facilitator.engine import Facilitator
from facilitator.exceptions import AccessError, NotFoundError, PairFileError, PairIdTaken
from facilitator.models import Pair, Participant
from facilitator.pairs import PairDraft, PartnerDraft, check_pair_id, load_pair
from facilitator.store import Store
from tests.conftest import ROOT, run_cli
from tests.test_access import stored_code
from ui.cli import app


def test_example_pairs_load_in_both_formats() -> None:
    yaml_pair = load_pair(ROOT / "examples/pairs/ana-ben.yaml")
    json_pair = load_pair(ROOT / "examples/pairs/directors.json")
    assert yaml_pair.ids == ["ana", "ben"] and yaml_pair.id == "ana-ben"
    assert json_pair.participant("tomas").offer_topics == ["financial management", "joint events"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shared_goals: [x]\n", "missing field 'participants'"),
        ("participants:\n  - {id: ana, name: Ana}\n", "this one has 1; add a second participant"),
        ("participants:\n  - {id: ana}\n  - {id: ben, name: Ben}\n", "participants[0] is missing field 'name'"),
        ("participants:\n  - {id: ana, name: Ana}\n  - {id: ana, name: Ann}\n", "both partners have the id 'ana'"),
        ("participants:\n  - {id: 'A B!', name: Ana}\n  - {id: ben, name: Ben}\n", "participants.0.id"),
        ("participants: [\n", "not valid YAML"),
        ("- just a list\n", "expected an object"),
    ],
)
def test_bad_pair_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PairFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_pair(path)


def test_cli_chat_with_a_bad_pair_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["chat", str(tmp_path / "missing.yaml")], input="/end\n")
    assert result.exit_code == 2 and "no such pair file" in result.output


# ------------------------------------------------------------------------------ pairs and codes (issue 17)
PAIR_FILE = ROOT / "examples/pairs/ana-ben.yaml"


@pytest.fixture
def fac(tmp_path: Path) -> Facilitator:
    f = Facilitator.offline(Store(f"sqlite:///{tmp_path / 'pairs.db'}"))
    f.clock = lambda: dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
    f.limits = AttemptLimits(window=dt.timedelta(minutes=15), per_client=3, per_pair=30)
    return f


def _draft(names: tuple[str, str], pair_id: str = "") -> PairDraft:
    return PairDraft(participants=[PartnerDraft(name=n) for n in names], pair_id=pair_id)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Carla & Dev", "(e.g. 'carla-dev')"),
        ("-carla", "starting with a letter or digit"),
        ("x" * 141, "at most 140 characters"),
        ("carla\ndev", "lower-case letters, digits"),
    ],
)
def test_a_typed_pair_id_that_is_not_one_is_refused_with_the_rule(typed: str, message: str) -> None:
    with pytest.raises(PairFileError, match=re.escape(message)):
        check_pair_id(typed)
    assert check_pair_id("  Carla-Dev.2 ") == "carla-dev.2"  # ids are case-insensitive: stored in lower case


def test_the_suggested_id_comes_from_the_names_and_a_random_ending_never_from_the_store(fac: Facilitator) -> None:
    one = fac.suggest_pair_id(["José Mendes", "Dev Patel"])
    assert re.fullmatch(r"jose-dev-[0-9a-f]{6}", one)
    assert fac.suggest_pair_id(["José Mendes", "Dev Patel"], suffix=one[-6:]) == one  # kept while typing
    assert fac.suggest_pair_id(["", ""]).startswith("pair-")
    assert fac.suggest_pair_id(["Carla", "Dev"], suffix="not-hex") != "carla-dev-not-hex"


def test_a_chosen_id_is_used_and_a_second_pair_with_the_same_names_gets_a_free_one(fac: Facilitator) -> None:
    first = fac.create(_draft(("Carla Mendes", "Dev Patel"), "Carla-Dev"), client="a")
    assert first.view.pair.id == "carla-dev" and first.code
    with pytest.raises(PairIdTaken) as taken:
        fac.create(_draft(("Carla Souza", "Dev Rao"), "carla-dev"), client="b")
    assert "the pair id 'carla-dev' is taken; use 'carla-dev-" in str(taken.value)
    assert re.fullmatch(r"carla-dev-[0-9a-f]{6}", taken.value.free) and not fac.store.has_pair(taken.value.free)
    second = fac.create(_draft(("Carla Souza", "Dev Rao"), taken.value.free), client="b")
    assert second.view.pair.id == taken.value.free and second.code != first.code
    assert fac.pair("carla-dev").participants[0].name == "Carla Mendes"  # nothing saved was touched
    assert fac.open_pair("carla-dev", first.code or "").id == "carla-dev"
    unnamed = fac.create(_draft(("Carla Lima", "Dev Kim")), client="c")  # no id typed: names and a random ending
    assert re.fullmatch(r"carla-dev-[0-9a-f]{6}", unnamed.view.pair.id)


def test_taken_ids_count_against_the_visitors_attempt_limits_not_the_pairs(fac: Facilitator) -> None:
    code = fac.create_pair(Pair(participants=[Participant(id="ana", name="Ana"), Participant(id="ben", name="Ben")]))
    for _ in range(3):  # per_client=3: a visitor cannot list ids with the form
        with pytest.raises(PairIdTaken):
            fac.create(_draft(("Ana X", "Ben Y"), "ana-ben"), client="prober")
    with pytest.raises(AccessError, match="too many wrong access codes"):
        fac.create(_draft(("Ana X", "Ben Y"), "free-id-1"), client="prober")
    with pytest.raises(AccessError, match="too many"):
        fac.open_pair("ana-ben", code, client="prober")  # one budget for ids and codes
    assert fac.open_pair("ana-ben", code, client="partner").id == "ana-ben"  # the pair itself is not locked
    assert fac.create(_draft(("Ana X", "Ben Y")), client="prober").code  # a suggested id needs no check


def test_a_pair_from_a_file_gets_its_code_once_and_keeps_it(fac: Facilitator, demo_pair: Pair) -> None:
    first = fac.enrol(demo_pair)
    assert first.created and first.code and first.pair.id == "ana-ben"
    again = fac.enrol(demo_pair)
    assert not again.created and again.code is None
    assert fac.open_pair("ana-ben", first.code).id == "ana-ben"  # the code printed once still works
    assert first.code not in stored_code(fac.store, "ana-ben")
    link = link_to("http://127.0.0.1:7860", "ana-ben", first.code)
    assert link == f"http://127.0.0.1:7860/?pair=ana-ben&code={quote(first.code)}"


def test_a_pair_file_with_an_id_that_cannot_be_opened_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pair.yaml"
    path.write_text("id: Ana Ben\nparticipants:\n  - {name: Ana}\n  - {name: Ben}\n", encoding="utf-8")
    with pytest.raises(PairFileError, match=r"field 'id'.*is not a pair id.*or leave it out"):
        load_pair(path)


def test_rotating_a_code_replaces_it_and_the_old_one_stops_working(fac: Facilitator, demo_pair: Pair) -> None:
    old = fac.enrol(demo_pair).code or ""
    new = fac.rotate_code("Ana-Ben")
    assert new != old and fac.open_pair("ana-ben", new).id == "ana-ben"
    with pytest.raises(AccessError):
        fac.open_pair("ana-ben", old, client="other")
    with pytest.raises(NotFoundError, match="`comentor pairs list`"):
        fac.rotate_code("nobody")


def test_listing_and_showing_pairs_gives_sessions_and_last_meeting_never_codes(
    fac: Facilitator, demo_pair: Pair
) -> None:
    code = fac.enrol(demo_pair).code or ""
    quiet = fac.start(demo_pair, date=dt.date(2026, 3, 18))  # opened, nobody spoke: not a meeting
    met = fac.start(demo_pair, date=dt.date(2026, 3, 4))
    list(met.say("ana", "I'll send the stakeholder map by Friday."))
    [listing] = fac.pair_listings()
    assert listing.id == "ana-ben" and listing.names == ["Ana Ruiz", "Ben Carter"]
    assert listing.sessions == 2 and listing.last_meeting == dt.date(2026, 3, 4)
    record = fac.pair_record("ana-ben")
    assert [(s.id, s.turns) for s in record.sessions] == [(quiet.id, 0), (met.id, 1)]
    assert record.last_meeting == dt.date(2026, 3, 4)
    assert code not in record.model_dump_json() + listing.model_dump_json()
    with pytest.raises(NotFoundError):
        fac.pair_record("nobody")


def test_cli_chat_prints_a_new_pairs_code_once_with_its_link(
    tmp_path: Path, fac: Facilitator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.cli

    monkeypatch.setattr(ui.cli, "_facilitator", lambda guidance=True: fac)
    first = CliRunner().invoke(app, ["chat", str(PAIR_FILE), "--date", "2026-03-04"], input="Ana: Hello Ben.\n")
    assert first.exit_code == 0, first.output
    found = re.search(r"new pair 'ana-ben': access code (\S+) \(shown once", first.stderr)
    assert found, first.stderr
    code = found.group(1)
    assert f"http://127.0.0.1:7860/?pair=ana-ben&code={quote(code)}" in first.stderr
    assert code not in first.stdout  # the transcript stays the conversation
    assert fac.open_pair("ana-ben", code).id == "ana-ben"
    again = CliRunner().invoke(app, ["chat", str(PAIR_FILE), "--app-url", "https://x.example/app"], input="")
    assert again.exit_code == 0 and code not in again.output and "access code" not in again.stdout
    assert "`comentor pairs code ana-ben --rotate` issues a new one" in again.stderr


def test_cli_pairs_list_show_and_rotate(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(f"sqlite:///{home / 'comentor.db'}")
    old = store.save_pair(load_pair(PAIR_FILE))
    assert old is not None
    listed = run_cli("pairs", "list", "--format", "json", home=home)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"id": "ana-ben", "names": ["Ana Ruiz", "Ben Carter"], "sessions": 0, "last_meeting": None}
    ]
    table = run_cli("pairs", "list", home=home)
    assert "| ana-ben" in table.stdout and "Ana Ruiz & Ben Carter" in table.stdout and "never" in table.stdout
    shown = run_cli("pairs", "show", "ANA-BEN", home=home)
    assert shown.returncode == 0 and "# ana-ben: Ana Ruiz & Ben Carter" in shown.stdout
    assert "--rotate" in shown.stdout and old not in shown.stdout + listed.stdout + table.stdout
    missing = run_cli("pairs", "show", "nobody", home=home)
    assert missing.returncode == 2 and "no pair 'nobody'" in missing.stderr
    rotated = run_cli("pairs", "code", "ana-ben", "--rotate", "--app-url", "http://10.0.0.5:8080", home=home)
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.split("new access code ")[1].split()[0]
    assert f"http://10.0.0.5:8080/?pair=ana-ben&code={quote(new)}" in rotated.stdout
    assert store.check_access("ana-ben", new) and not store.check_access("ana-ben", old)
    empty = run_cli("pairs", "list", home=tmp_path / "empty")
    assert empty.returncode == 0 and "no pairs stored yet" in empty.stdout
