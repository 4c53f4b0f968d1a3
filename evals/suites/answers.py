"""`@facilitator` answers in other registers: situational, terse, rambling and non-native questions (written 8 Dec by
a helper who read only the guidance, never the facilitator's code), replayed through the engine and scored as the
moves suite scores answers (`evals.suites.moves`: an in-scope answer passes when a cited quote holds a support
phrase; an out-of-scope question passes when it is declined).

Two sets: `answers_tune` (n01-n05, may be read and tuned on) and `answers_check` (k01-k05, held out: never tuned
on, and its cases show no words of it, like the blind set's).
"""

from __future__ import annotations

from typing import Any

from evals.data import DATASETS, info
from evals.runner import CaseResult, EvalContext, SuiteResult
from evals.suites.moves import _BLIND_FIELDS, load, replay

NAME = "answers"
DESCRIPTION = "@facilitator answers to situational, terse and non-native questions: support and declines"
TUNE = DATASETS / "answers_tune"
CHECK = DATASETS / "answers_check"


def _rate(rows: list[dict[str, Any]], kind: str) -> float:
    some = [r for r in rows if r.get("kind") == kind]
    return sum(bool(r["passed"]) for r in some) / len(some) if some else 1.0


def run(ctx: EvalContext) -> SuiteResult:
    metrics: dict[str, float] = {}
    cases: list[CaseResult] = []
    datasets = []
    for label, folder in (("tune", TUNE), ("check", CHECK)):
        sessions = load(folder)
        rows: list[dict[str, Any]] = []
        for session in sessions:
            if ctx.harness is not None:
                ctx.harness.set_case(session.id)
            rows += [r for r in replay(ctx.facilitator(), session)[0] if r["ask"] == "answer"]
        metrics[f"{label}_answer_support"] = _rate(rows, "in_scope")
        in_scope = [r for r in rows if r["kind"] == "in_scope"]
        metrics[f"{label}_answer_in_scope_cited"] = sum(r["cited"] > 0 for r in in_scope) / max(1, len(in_scope))
        metrics[f"{label}_answer_decline"] = _rate(rows, "out_of_scope")
        shown = (lambda k: k in _BLIND_FIELDS) if label == "check" else (lambda k: k != "id")
        cases += [
            CaseResult(
                id=f"{label}/{r['id']}", passed=bool(r["passed"]), detail={k: v for k, v in r.items() if shown(k)}
            )
            for r in rows
        ]
        datasets.append(info(folder.name, folder, len(sessions)))
    return SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=cases,
        datasets=datasets,
        notes=[
            "tune_* figures come from answers_tune (read and tuned on); check_* from answers_check (held out, its "
            "cases show no words of it)",
            "support: a cited quote of the answer holds one of the moment's support phrases (stem match); "
            "in_scope_cited: the in-scope question was answered with a citation at all (not declined)",
        ],
    )
