"""Assumptions and challenges: detection P/R of voiced assumptions (by turn and speaker), and over whole scripted
sessions through the engine, how two-sided the challenge ledger is."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from evals.data import DATASETS, info, load_yaml, validate_cases
from evals.runner import CaseResult, EvalContext, SuiteResult
from evals.suites._sessions import Labelled, ScriptedTurn, pair_of, say
from facilitator.models import Move, Participant, Turn

NAME = "assumptions"
DESCRIPTION = "voiced assumptions by turn and speaker: detection precision/recall; challenge ledger two-sidedness"
DATASET = DATASETS / "assumptions.yaml"


class AssumptionCase(BaseModel):
    id: str
    pair: list[Participant] = Field(min_length=2, max_length=2)
    turns: list[ScriptedTurn] = Field(min_length=1)
    assumptions: list[Labelled] = Field(default_factory=list)

    @model_validator(mode="after")
    def _labels_point_at_turns(self) -> AssumptionCase:
        ids = {p.id for p in self.pair}
        for t in self.turns:
            if t.speaker not in ids:
                raise ValueError(f"turn speaker '{t.speaker}' is not one of {sorted(ids)}")
        for a in self.assumptions:
            if a.turn >= len(self.turns) or self.turns[a.turn].speaker != a.speaker:
                raise ValueError(f"assumption label (turn {a.turn}, {a.speaker}) does not match that turn's speaker")
        return self


def load() -> list[AssumptionCase]:
    return validate_cases(DATASET, load_yaml(DATASET).get("cases", []), AssumptionCase)


def run(ctx: EvalContext) -> SuiteResult:
    from facilitator.signals import detect_assumptions

    cases = load()
    tp = fp = fn = 0
    results: list[CaseResult] = []
    ledger: list[dict[str, Any]] = []
    both_voiced = both_challenged = ratio_ok = 0
    balance_sum = 0.0
    challenge_moves = addressed_ok = invites_other = 0
    for n, case in enumerate(cases):
        gold = {(a.turn, a.speaker) for a in case.assumptions}
        found = {
            (i, t.speaker)
            for i, t in enumerate(case.turns)
            if detect_assumptions(Turn(index=i, speaker=t.speaker, text=t.text), ctx.patterns)
        }
        tp += len(gold & found)
        fp += len(found - gold)
        fn += len(gold - found)

        # the whole session through the engine: proactive challenges, then one asked-for challenge at the end
        if ctx.harness is not None:
            ctx.harness.set_case(case.id)
        fac = ctx.facilitator()
        pair = pair_of(case.pair)
        live = fac.start(pair)
        made: list[Move] = []
        for t in case.turns:
            made += say(live, t.speaker, t.text)
        from evals.suites._sessions import moves

        made += moves(live.ask("challenge"))
        challenges = [m for m in made if m.kind == "challenge"]
        for m in challenges:
            if m.addressee in pair.ids:
                challenge_moves += 1
                addressed_ok += int(m.addressee in live.state.voiced)
                invites_other += int(pair.other(m.addressee).first_name in m.text)
        counts = {p.id: live.state.challenges.get(p.id, 0) for p in case.pair}
        voiced = {p.id: live.state.voiced.get(p.id, 0) for p in case.pair}
        if all(voiced.values()):
            both_voiced += 1
            both_challenged += int(all(counts.values()))
            low, high = min(counts.values()), max(counts.values())
            balance_sum += low / high if high else 1.0
        high, low = max(counts.values()), min(counts.values())
        ratio_ok += int(high <= 2 * max(low, 1) or high <= low + 1)
        ledger.append(
            {
                "session": case.id,
                **{f"{p.first_name} ({p.role})": counts[p.id] for p in case.pair},
                "voiced": dict(voiced),
            }
        )
        results.append(
            CaseResult(
                id=case.id,
                passed=gold == found,
                detail={
                    "missed": sorted(gold - found),
                    "extra": sorted(found - gold),
                    "challenges": counts,
                    "voiced_detected": voiced,
                },
            )
        )
        ctx.progress(n + 1, len(cases))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    metrics = {
        "detection_precision": precision,
        "detection_recall": recall,
        "detection_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "two_sided_rate": both_challenged / both_voiced if both_voiced else 1.0,
        "ledger_balance": balance_sum / both_voiced if both_voiced else 1.0,
        "ledger_within_ratio": ratio_ok / len(cases) if cases else 1.0,
        "challenge_to_speaker": addressed_ok / challenge_moves if challenge_moves else 1.0,
        "challenge_invites_other": invites_other / challenge_moves if challenge_moves else 1.0,
        "n_challenges": float(challenge_moves),
    }
    return SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=results,
        tables={"ledger": [{k: v for k, v in row.items() if k != "voiced"} for row in ledger]},
        datasets=[info("assumptions", DATASET, len(cases))],
        notes=[
            f"two-sidedness is measured over the {both_voiced} sessions in which both partners voiced an assumption "
            "the detector found"
        ],
    )
