"""The answer sets in other registers (`answers_tune`, `answers_check`) and the `answers` suite that scores them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evals.suites import answers
from evals.suites.moves import load

GUIDANCE = Path(__file__).resolve().parents[1] / "knowledge" / "guidance"


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\*\*|__|`", "", text)).lower()


@pytest.mark.parametrize("folder", [answers.TUNE, answers.CHECK], ids=["tune", "check"])
def test_each_set_has_enough_answer_moments_and_every_support_phrase_is_in_the_guidance(folder: Path) -> None:
    guidance = _plain(" ".join(p.read_text(encoding="utf-8") for p in GUIDANCE.glob("*.md")))
    moments = [m for s in load(folder) for m in s.moments if m.ask == "answer"]
    in_scope = [m for m in moments if m.expect.in_scope]
    assert len(in_scope) >= 30 and len(moments) - len(in_scope) >= 15
    missing = [(m.text, p) for m in in_scope for p in m.expect.support if _plain(p) not in guidance]
    assert not missing, f"support phrases not found verbatim in knowledge/guidance: {missing}"


def test_the_suite_is_registered_and_held_out_cases_show_no_words() -> None:
    from evals.runner import SUITES
    from evals.suites.moves import _BLIND_FIELDS

    assert "answers" in SUITES
    assert not {"support", "sources", "text"} & _BLIND_FIELDS
