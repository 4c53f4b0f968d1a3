"""Balance: scripted sessions with a dominating partner — does the nudge come, to the quieter partner, in time?
Balanced sessions are controls (no nudge expected)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from evals.data import DATASETS, info, load_yaml, validate_cases
from evals.runner import CaseResult, EvalContext, SuiteResult
from evals.suites._sessions import ScriptedTurn, pair_of, say
from facilitator.models import Participant, Turn

NAME = "balance"
DESCRIPTION = "sessions with a dominating partner: nudge rate, to the quieter partner, within N turns; false nudges"
DATASET = DATASETS / "balance.yaml"


class Expect(BaseModel):
    nudge_to: str | None
    within: int = Field(ge=0)


class BalanceCase(BaseModel):
    id: str
    pair: list[Participant] = Field(min_length=2, max_length=2)
    expect: Expect
    turns: list[ScriptedTurn]

    @field_validator("turns", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if isinstance(value, list):
            out = []
            for line in value:
                if isinstance(line, str):
                    speaker, sep, text = line.partition(":")
                    if not sep:
                        raise ValueError(f"turn {line[:40]!r} should read 'speaker: text'")
                    out.append({"speaker": speaker.strip(), "text": text.strip()})
                else:
                    out.append(line)
            return out
        return value


def load() -> list[BalanceCase]:
    return validate_cases(DATASET, load_yaml(DATASET).get("cases", []), BalanceCase)


def onset(case: BalanceCase, loud: str) -> int | None:
    """The first turn at which `loud` holds more than the nudge share of the recent words (both having spoken)."""
    from facilitator.policy import NUDGE_SHARE
    from facilitator.signals import RECENT_TURNS, talk_shares

    ids = [p.id for p in case.pair]
    turns = [Turn(index=i, speaker=t.speaker, text=t.text) for i, t in enumerate(case.turns)]
    for i in range(1, len(turns)):
        recent = turns[max(0, i + 1 - RECENT_TURNS) : i + 1]
        if len({t.speaker for t in recent}) < 2:
            continue
        if talk_shares(recent, ids)[loud] > NUDGE_SHARE:
            return i
    return None


def run(ctx: EvalContext) -> SuiteResult:
    cases = load()
    results: list[CaseResult] = []
    dominated = nudged = right = in_time = 0
    controls = false_nudges = 0
    latencies: list[int] = []
    chart: list[dict[str, Any]] = []
    for n, case in enumerate(cases):
        if ctx.harness is not None:
            ctx.harness.set_case(case.id)
        live = ctx.facilitator().start(pair_of(case.pair))
        first: tuple[int, str | None] | None = None
        for i, t in enumerate(case.turns):
            for move in say(live, t.speaker, t.text):
                if move.kind == "nudge" and first is None:
                    first = (i, move.addressee)
        expected = case.expect.nudge_to
        detail: dict[str, Any] = {"nudge_at_turn": first[0] if first else None, "to": first[1] if first else None}
        if expected is None:
            controls += 1
            false_nudges += int(first is not None)
            passed = first is None
        else:
            dominated += 1
            loud = next(p.id for p in case.pair if p.id != expected)
            start = onset(case, loud)
            detail["dominance_onset_turn"] = start
            passed = False
            if first is not None:
                nudged += 1
                right += int(first[1] == expected)
                latency = first[0] - (start if start is not None else 0)
                latencies.append(latency)
                detail["latency_turns"] = latency
                ok = first[1] == expected and latency <= case.expect.within
                in_time += int(ok)
                passed = ok
            chart.append(
                {"session": case.id, "latency_turns": detail.get("latency_turns"), "within": case.expect.within}
            )
        results.append(CaseResult(id=case.id, passed=passed, detail=detail))
        ctx.progress(n + 1, len(cases))
    metrics = {
        "nudge_rate": nudged / dominated if dominated else 1.0,
        "right_person_rate": right / nudged if nudged else 0.0,
        "in_time_rate": in_time / dominated if dominated else 1.0,
        "mean_latency_turns": sum(latencies) / len(latencies) if latencies else 0.0,
        "false_nudge_rate": false_nudges / controls if controls else 0.0,
    }
    return SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=results,
        tables={"latency": chart},
        datasets=[info("balance", DATASET, len(cases))],
        notes=["the right person is the quieter partner (facilitator/policy.py invites the quieter one in by name)"],
    )
