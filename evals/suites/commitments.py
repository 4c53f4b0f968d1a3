"""Accountability items: P/R/F1 with strict one-to-one matching (same owner, the labelled object named), owner and
due-date accuracy, readable actions, per-rule breakdown.

Sets (see each folder's README): `tuned` (t01–t30), `tuned_u` (u01–u14) and `tuned_v` (v01–v16) were written to
develop the extractor; `tuned_h` (h01–h12) was blind until session 7 and has been tuned on since; `tuned_w` (w01–w14)
was written in session 8 from the issue's failure patterns, measured once before anyone read it (F1 0.90), then tuned
on; `tuned_x` (x01–x15) was written in session 10 by an author who read neither the extractor nor the blind set,
measured once before tuning, then tuned on; `tuned_y` (y01–y08) was written in session 13 the same way (F1 0.894
before tuning); `tuned_z` (z01–z10, F1 0.667 first run) and `tuned_p` (p01–p08, natural sessions, F1 0.781 first
run) were written in session 15 the same way; `blind_q` (q01–q08, natural sessions, session 15) is blind like
`blind`; `blind` (b01–b24)
was written before any tuning and never read by whoever tunes: its cases show no detail in the report, only whether
they passed. The extractor runs with the MiniLM embedder, as in a session. With the LLM facilitator the offline
extractor's items are reviewed by the model (cassette replay) and its verdicts pass the same code validation as in a
session. A blind set's prompts are never written to a cassette (only their hashes; see `_blind`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evals.commitment_metrics import Case, load_cases, score
from evals.data import DATASETS, info
from evals.runner import CaseResult, EvalContext, SuiteResult
from facilitator.models import Commitment, Participant, Turn

NAME = "commitments"
DESCRIPTION = "labelled co-mentoring transcripts: precision, recall, F1, owner and due-date accuracy, per rule"
SETS = {
    "tuned": DATASETS / "transcripts",
    "tuned_u": DATASETS / "commitments_tune",
    "tuned_v": DATASETS / "commitments_tune2",
    "tuned_h": DATASETS / "heldout",
    "tuned_w": DATASETS / "commitments_tune3",
    "tuned_x": DATASETS / "commitments_tune4",
    "tuned_y": DATASETS / "commitments_tune5",
    "tuned_z": DATASETS / "commitments_tune6",
    "tuned_p": DATASETS / "commitments_tune7",
    "blind": DATASETS / "commitments_blind",
    "blind_q": DATASETS / "commitments_blind2",
}
COMMITMENT_RULES = ("accepted_request", "joint", "revised", "simple", "no_date", "same_for_me")
DISTRACTOR_RULES = ("retracted", "hedged", "past", "third_party", "hypothetical", "declined_request")


def _blind(set_name: str, folder: Path) -> bool:
    """A set nobody may read (blind): its transcripts stay out of the committed cassettes and its cases' details
    out of the report. (The folder `heldout` is tuned on now, but its cassettes were recorded without text: kept so.)"""
    return any(word in name for word in ("heldout", "blind") for name in (set_name, folder.name))


def run(ctx: EvalContext) -> SuiteResult:
    from facilitator.summary import OFFLINE_ITEMS, accountability_items

    brain = ctx.brain() if ctx.llm else None
    metrics: dict[str, float] = {}
    cases: list[CaseResult] = []
    per_rule: list[dict[str, Any]] = []
    confusion: list[dict[str, Any]] = []
    datasets = []
    total = sum(len(load_cases(p)) for p in SETS.values())
    done = 0
    current: dict[str, Any] = {"id": "", "blind": False}
    review_notes: list[str] = []

    def extractor(
        turns: list[Turn], participants: list[Participant], date: dt.date, following: dt.date | None
    ) -> list[Commitment]:
        nonlocal done
        if ctx.harness is not None:
            ctx.harness.set_case(current["id"], private=current["blind"])
        items, _flagged, notes = accountability_items(turns, participants, date, brain, following, ctx.embedder)
        for note in notes:
            if note.endswith(OFFLINE_ITEMS):  # the review failed, the candidates stood: counted in model_fallbacks
                ctx.fallback(f"extraction: {note}")
            else:  # verdicts ignored as a whole (an unknown id, a second verdict) or missing
                review_notes.append(f"{current['id']}: {note}")
        done += 1
        ctx.progress(done, total)
        return items

    for set_name, folder in SETS.items():
        loaded: list[Case] = load_cases(folder)
        datasets.append(info(f"commitments/{set_name}", folder, len(loaded)))
        # the extractor is called in case order; the case id routes cassette calls
        order = iter(loaded)

        def routed(
            turns: list[Turn],
            participants: list[Participant],
            date: dt.date,
            following: dt.date | None,
            order: Iterator[Case] = order,
            set_name: str = set_name,
            folder: Path = folder,
        ) -> list[Commitment]:
            current["id"] = f"{set_name}/{next(order).id}"
            current["blind"] = _blind(set_name, folder)
            return extractor(turns, participants, date, following)

        result = score(loaded, routed)
        for key in ("precision", "recall", "f1", "owner_accuracy", "due_accuracy", "readable"):
            metrics[f"{set_name}_{key}"] = result[key]
        for rule, row in result["per_rule"].items():
            metrics[f"{set_name}_recall_{rule}"] = row["recall"]
            per_rule.append(
                {
                    "set": set_name,
                    "rule": rule,
                    "kind": "commitment",
                    "labelled": int(row["expected"]),
                    "extracted": int(row["found"]),
                    "recall": row["recall"],
                }
            )
        distractor_counts: dict[str, int] = {}
        for case in loaded:
            for d in case.distractors:
                distractor_counts[d.rule] = distractor_counts.get(d.rule, 0) + 1
        for rule, fps in result["distractor_fp"].items():
            metrics[f"{set_name}_fp_{rule}"] = float(fps)
            per_rule.append(
                {
                    "set": set_name,
                    "rule": rule,
                    "kind": "distractor",
                    "labelled": distractor_counts.get(rule, 0),
                    "extracted": fps,
                    "recall": None,
                }
            )
        confusion.append(
            {
                "set": set_name,
                "gold item / extracted": result["tp"],
                "gold item / missed": result["fn"],
                "no item / extracted": result["fp"],
                "distractor / ignored": sum(distractor_counts.values()) - sum(result["distractor_fp"].values()),
            }
        )
        for detail in result["cases"]:
            passed = not (detail["misses"] or detail["false_positives"] or detail["wrong_due"])
            shown: dict[str, Any] = {
                "misses": [f"{e.owner}: {e.action} ({e.rule})" for e in detail["misses"]],
                "extra": [f"{p.owner}: {p.action}" for p in detail["false_positives"]],
                "wrong_due": [f"{p.owner}: {p.action} {p.due} != {e.due}" for p, e in detail["wrong_due"]],
            }
            if _blind(set_name, folder) and set_name != "tuned_h":  # counts only: nobody tunes on a blind set
                shown = {key: len(value) for key, value in shown.items()}
            cases.append(CaseResult(id=f"{set_name}/{detail['id']}", passed=passed, detail=shown))
    notes = [
        "`tuned`, `tuned_u`, `tuned_v` and `tuned_h` were used to develop the extractor (in-sample figures); "
        "`blind` was written before tuning and never read by whoever tunes (its failures are shown as counts only)"
    ]
    if ctx.llm:
        metrics["review_notes"] = float(len(review_notes))
    if review_notes:
        notes.append(f"{len(review_notes)} note(s) on the model's review (e.g. {review_notes[0]})")
    return SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=cases,
        tables={"confusion": confusion, "per_rule": per_rule},
        datasets=datasets,
        notes=notes,
    )
