"""What an eval report says its figures are: only a live model run measures a model."""

from __future__ import annotations

from evals.runner import EvalOptions, measures_of


def test_replayed_synthetic_cassettes_are_labelled_a_pipeline_check() -> None:
    text = measures_of(EvalOptions(facilitator="llm"))
    assert text.startswith("a pipeline check only") and "not a measurement of any model" in text


def test_offline_and_live_runs_say_what_they_measure() -> None:
    assert "offline facilitator" in measures_of(EvalOptions())
    assert "gpt-x" in measures_of(EvalOptions(facilitator="llm", live=True, model="gpt-x"))
