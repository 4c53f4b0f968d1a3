"""Agenda: pairs with and without open commitments — structure checks and citations that resolve.

Checks come from facilitator.agenda.check_agenda (timeboxes sum to the minutes, every open item reviewed with its
owner, an item led by each partner, questions for both, feedback both ways, commitments and the next date) plus:
every citation resolves to a real knowledge-base chunk, question-bank entry or challenge pattern. With the LLM
facilitator the agenda is reworded by the model (cassette replay) and must pass the same checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from evals.data import DATASETS, info, load_yaml, validate_cases
from evals.runner import CaseResult, EvalContext, SuiteResult
from facilitator.models import Commitment, Pair

NAME = "agenda"
DESCRIPTION = "pairs with/without open commitments: agenda structure checks and citations resolving"
DATASET = DATASETS / "agenda.yaml"


class AgendaCase(BaseModel):
    id: str
    date: dt.date
    minutes: int = Field(gt=0)
    pair: Pair
    open_items: list[Commitment] = Field(default_factory=list)


def load() -> list[AgendaCase]:
    return validate_cases(DATASET, load_yaml(DATASET).get("cases", []), AgendaCase)


def run(ctx: EvalContext) -> SuiteResult:
    from facilitator.agenda import build_agenda, check_agenda, phrase_agenda
    from facilitator.knowledge.bank import CHALLENGE_SOURCE, QUESTION_BANK_SOURCE

    cases = load()
    kb, notes = ctx.knowledge()
    checks = {
        "structure": 0,
        "timeboxes": 0,
        "reviews_open_items": 0,
        "led_by_each": 0,
        "questions_for_both": 0,
        "citations_resolve": 0,
    }
    phrased = 0
    brain = ctx.brain() if ctx.llm else None  # this run's LLM brain (through the cassettes' fake server)
    results: list[CaseResult] = []
    for n, case in enumerate(cases):
        agenda = build_agenda(
            case.pair, date=case.date, minutes=case.minutes, open_items=case.open_items, bank=ctx.bank, knowledge=kb
        )
        note = None
        if brain is not None:
            assert ctx.harness is not None
            ctx.harness.set_case(case.id)
            result = phrase_agenda(agenda, case.pair, brain, open_items=case.open_items, knowledge=kb)
            agenda, note = result.agenda, result.note
            phrased += int(result.note is None)
            if result.note is not None:  # the offline agenda stood in: counted in model_fallbacks
                ctx.fallback(f"agenda phrasing: {result.note}")
        problems = check_agenda(agenda, case.pair, case.open_items, case.minutes)
        unresolved = []
        for item in agenda.items:
            for c in item.citations:
                if c.source == QUESTION_BANK_SOURCE:
                    ok = ctx.bank.by_id(c.id) is not None
                elif c.source == CHALLENGE_SOURCE:
                    ok = ctx.patterns.by_id(c.id) is not None
                else:
                    ok = bool(kb.get([c.id]))
                if not ok:
                    unresolved.append(f"{c.source}#{c.id}")
        flags: dict[str, bool] = {
            "structure": not problems,
            "timeboxes": not any("timeboxes" in p or "minutes;" in p for p in problems),
            "reviews_open_items": not any("is not reviewed" in p for p in problems),
            "led_by_each": not any("no item is led" in p for p in problems),
            "questions_for_both": {q.for_ for i in agenda.items for q in i.questions} >= set(case.pair.ids),
            "citations_resolve": not unresolved,
        }
        for key, ok in flags.items():
            checks[key] += int(ok)
        detail: dict[str, Any] = {
            "problems": problems,
            "unresolved": unresolved,
            "items": len(agenda.items),
            "open_items": len(case.open_items),
        }
        if note:
            detail["note"] = note
        results.append(CaseResult(id=case.id, passed=all(flags.values()), detail=detail))
        ctx.progress(n + 1, len(cases))
    total = max(len(cases), 1)
    metrics = {f"{k}_rate": v / total for k, v in checks.items()}
    if ctx.llm:
        metrics["model_phrased_rate"] = phrased / total
    return SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=results,
        datasets=[info("agenda", DATASET, len(cases))],
        notes=list(notes),
    )
