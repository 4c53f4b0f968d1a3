"""Grounding: `@facilitator` questions in and out of the guidance's scope.

Every citation of an answer must be among the ids retrieved for it; in-scope questions should be answered with a
citation; out-of-scope ones should say that the guidance doesn't cover them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from evals.data import DATASETS, info, load_jsonl
from evals.runner import CaseResult, EvalContext, SuiteResult
from evals.suites._sessions import say
from facilitator.models import Pair, Participant

NAME = "grounding"
DESCRIPTION = "@facilitator questions in/out of scope: citations among retrieved ids, out-of-scope declined"
DATASET = DATASETS / "grounding.jsonl"
DECLINE = re.compile(r"doesn'?t cover|does not cover|not covered|isn'?t covered|nothing relevant", re.I)
PAIR = Pair(
    participants=[
        Participant(
            id="ana",
            name="Ana Ruiz",
            role="Senior marketing lead",
            offers=["campaign strategy"],
            seeks=["short-form video"],
        ),
        Participant(
            id="ben",
            name="Ben Carter",
            role="Marketing coordinator",
            offers=["short-form video"],
            seeks=["stakeholder management"],
        ),
    ]
)


class GroundingCase(BaseModel):
    id: str
    scope: Literal["in", "out"]
    question: str


def run(ctx: EvalContext) -> SuiteResult:
    from facilitator.engine import GUIDANCE_K
    from facilitator.moves import retrieval_query

    cases = load_jsonl(DATASET, GroundingCase)
    kb, notes = ctx.knowledge()
    grounded = answered_in = declined_out = n_in = n_out = 0
    results: list[CaseResult] = []
    for n, case in enumerate(cases):
        if ctx.harness is not None:
            ctx.harness.set_case(case.id)
        live = ctx.facilitator().start(PAIR)
        asker = "ana" if n % 2 == 0 else "ben"
        answer = next((m for m in say(live, asker, f"@facilitator {case.question}") if m.kind == "answer"), None)
        query = retrieval_query("answer", PAIR, live.turns, None, case.question)
        retrieved = {h.id for h, _ in kb.search_scored(query, GUIDANCE_K)}
        cited = [c.id for c in answer.citations] if answer else []
        ok_cites = answer is not None and set(cited) <= retrieved
        grounded += int(ok_cites)
        declines = answer is not None and bool(DECLINE.search(answer.text))
        if case.scope == "in":
            n_in += 1
            passed = ok_cites and not declines and bool(cited)
            answered_in += int(passed)
        else:
            n_out += 1
            passed = ok_cites and declines
            declined_out += int(passed)
        results.append(
            CaseResult(
                id=case.id,
                passed=passed,
                detail={
                    "scope": case.scope,
                    "question": case.question,
                    "cited": cited,
                    "answer": (answer.text[:300] if answer else None),
                    "note": answer.note if answer else None,
                },
            )
        )
        ctx.progress(n + 1, len(cases))
    metrics = {
        "citations_in_retrieved": grounded / len(cases) if cases else 1.0,
        "in_scope_answered_with_citation": answered_in / n_in if n_in else 1.0,
        "out_of_scope_declined": declined_out / n_out if n_out else 1.0,
    }
    return SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=results,
        datasets=[info("grounding", DATASET, len(cases))],
        notes=list(notes),
    )
