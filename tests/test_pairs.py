"""Pair files: JSON and YAML load; a missing field or a single participant gets an error that names the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from facilitator.exceptions import PairFileError
from facilitator.pairs import load_pair
from tests.conftest import ROOT
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
        ("participants:\n  - {id: ana, name: Ana}\n", "exactly 2 participants, this one has 1"),
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
