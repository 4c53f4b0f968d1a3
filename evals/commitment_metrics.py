"""Commitment-extraction metrics over the labelled transcripts (`evals/datasets/transcripts/t*.json`).

    python -m evals.commitment_metrics [FOLDER]

prints precision, recall, F1, owner and due-date accuracy, recall per commitment rule, false positives per
distractor rule, and each case's misses and false positives.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator
from pydantic import Field as PField
from rapidfuzz import fuzz

from facilitator.commitments.text import LEX, content_words
from facilitator.exceptions import InputError
from facilitator.models import Commitment, Participant, Turn

__all__ = [
    "DEFAULT_FOLDER",
    "Case",
    "Distractor",
    "Expected",
    "Extractor",
    "load_cases",
    "main",
    "match",
    "score",
]

DEFAULT_FOLDER = Path(__file__).resolve().parent / "datasets" / "transcripts"
ACTION_THRESHOLD = 50.0
STEM = 5  # content words are compared singular, on their first five letters ("slides" ~ "slide")

# (turns, participants, session date, next meeting's date or None) -> items
Extractor = Callable[[list[Turn], list[Participant], dt.date, dt.date | None], list[Commitment]]


@dataclass(frozen=True)
class Expected:
    """One labelled commitment."""

    owner: str
    action: str
    due: dt.date | None
    evidence: tuple[int, ...]
    rule: str
    object: tuple[str, ...] = ()


@dataclass(frozen=True)
class Distractor:
    """A turn that looks like a commitment but is not one."""

    turn: int
    speaker: str
    rule: str
    hint: str = ""


@dataclass
class Case:
    """One labelled transcript."""

    id: str
    path: Path
    date: dt.date
    participants: list[Participant]
    turns: list[Turn]
    expected: list[Expected]
    distractors: list[Distractor] = field(default_factory=list)
    cadence: str | None = None

    @property
    def next_meeting(self) -> dt.date | None:
        """The next meeting's date from the file's `cadence` ("every two weeks"), for "before our next session"."""
        from facilitator.export import next_meeting

        return next_meeting(self.date, self.cadence)


class _FileParticipant(BaseModel):
    id: str
    name: str | None = None
    role: str = ""


class _FileTurn(BaseModel):
    speaker: str
    text: str


class _FileCommitment(BaseModel):
    owner: str
    action: str
    due: dt.date | None = None
    evidence: list[int] = PField(default_factory=list)
    rule: str = "unknown"
    object: list[str] = PField(default_factory=list)

    @field_validator("due", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return value or None


class _FileDistractor(BaseModel):
    turn: int
    speaker: str = ""
    rule: str = "unknown"
    text_hint: str = ""


class _FileLabels(BaseModel):
    commitments: list[_FileCommitment] = PField(default_factory=list)
    distractors: list[_FileDistractor] = PField(default_factory=list)


class _TranscriptFile(BaseModel):
    """The labelled transcript file's schema (extra keys such as `register` are allowed and ignored)."""

    id: str | None = None
    date: dt.date
    cadence: str | None = None
    participants: list[_FileParticipant]
    turns: list[_FileTurn]
    expected: _FileLabels = PField(default_factory=_FileLabels)


def _case(path: Path) -> Case:
    """One labelled transcript; a malformed file raises InputError naming the file and what is wrong."""
    from evals.data import _problem

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: not valid JSON ({e.msg} at column {e.colno}); fix that line") from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot be read ({e}); restore it from the repository") from e
    try:
        data = _TranscriptFile.model_validate(raw)
        participants = [Participant(id=p.id, name=p.name or p.id, role=p.role) for p in data.participants]
        turns = [Turn(index=i, speaker=t.speaker, text=t.text) for i, t in enumerate(data.turns)]
    except ValidationError as e:
        raise InputError(f"{path}: {_problem(e)}; fix that file (see the README in its folder)") from e
    labels = data.expected
    expected = [
        Expected(
            owner=c.owner,
            action=c.action,
            due=c.due,
            evidence=tuple(c.evidence),
            rule=c.rule,
            object=tuple(o.lower() for o in c.object),
        )
        for c in labels.commitments
    ]
    distractors = [
        Distractor(turn=d.turn, speaker=d.speaker, rule=d.rule, hint=d.text_hint) for d in labels.distractors
    ]
    return Case(
        id=data.id if data.id is not None else path.stem,
        path=path,
        date=data.date,
        participants=participants,
        turns=turns,
        expected=expected,
        distractors=distractors,
        cadence=data.cadence,
    )


def load_cases(folder: str | Path = DEFAULT_FOLDER) -> list[Case]:
    """Every labelled case (`*.json`) in `folder`, sorted by file name."""
    return [_case(path) for path in sorted(Path(folder).glob("*.json"))]


def _stem(word: str) -> str:
    """A word's comparison stem: singular ("plans" ~ "plan", "boxes" ~ "box"), then its first five letters."""
    word = word.rstrip("'")
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "xes", "sses")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    return word[:STEM]


def _stems(text: str) -> set[str]:
    return {_stem(w) for w in content_words(text)}


def names_object(predicted: str, expected: Expected, names: Collection[str] = ()) -> bool:
    """Whether a predicted action names the labelled item's object (content words, compared on a 5-letter stem).

    With an `object` label, one of its words or phrases must appear; otherwise the labelled action's content words
    after its verb (and not a participant's name) are the object, and one of them must appear. So "send it to
    Ben" never matches "send Ben the deck", and "have that" matches nothing.
    """
    said = _stems(predicted)
    if expected.object:
        return any(_stems(phrase) and _stems(phrase) <= said for phrase in expected.object)
    wanted = _stems(" ".join(expected.action.split()[1:])) - {_stem(n) for n in names}
    return not wanted or bool(wanted & said)


def _pair_score(predicted: Commitment, expected: Expected, require_owner: bool, names: Collection[str]) -> float | None:
    if require_owner and predicted.owner != expected.owner:
        return None
    if not names_object(predicted.action, expected, names):
        return None
    similarity = float(fuzz.token_set_ratio(predicted.action.lower(), expected.action.lower()))
    overlap = bool(set(predicted.evidence) & set(expected.evidence))
    if similarity < ACTION_THRESHOLD and not overlap:
        return None
    return similarity + (100.0 if overlap else 0.0)


_BARE = frozenset({"it", "them", "ours", "theirs", "yours", "mine", "hers"})
_DEMONSTRATIVE = frozenset({"that", "this", "those", "these"})


def bare_pronoun(action: str) -> bool:
    """Whether an action leans on a pronoun for its object ("send that to Ben", "share ours"): not readable alone.

    A pronoun after the action has named its object ("write one assumption down and bring them") is readable."""
    tokens = [w.strip(".,;:!?'\"()") for w in action.lower().split()]
    for i, word in enumerate(tokens):
        demonstrative = word in _DEMONSTRATIVE and (i + 1 == len(tokens) or tokens[i + 1] in LEX.stop_words)
        if word in _BARE or demonstrative:
            return not content_words(" ".join(tokens[1:i]))
    return False


def match(
    predicted: Sequence[Commitment],
    expected: Sequence[Expected],
    require_owner: bool = True,
    names: Collection[str] = (),
) -> list[tuple[int, int]]:
    """One-to-one matching, greedy by score: pairs of (predicted index, expected index).

    A pair needs the same owner (unless `require_owner` is False), an action that names the labelled object
    (`names_object`; `names` are the participants' names, which are not an object) and either a similar action
    (`token_set_ratio` >= 50) or at least one shared evidence turn; shared evidence ranks above similarity.
    """
    scored = []
    for i, p in enumerate(predicted):
        for j, e in enumerate(expected):
            value = _pair_score(p, e, require_owner, names)
            if value is not None:
                scored.append((value, i, j))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    used_p: set[int] = set()
    used_e: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in scored:
        if i in used_p or j in used_e:
            continue
        used_p.add(i)
        used_e.add(j)
        pairs.append((i, j))
    return sorted(pairs)


def _names(participants: Sequence[Participant]) -> set[str]:
    return {w.lower() for p in participants for w in [p.id, *p.name.split()]}


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def score(cases: Sequence[Case], extractor: Extractor) -> dict[str, Any]:
    """Run `extractor` on every case and compare with the labels.

    Keys: precision, recall, f1, owner_accuracy (over items matched ignoring the owner), due_accuracy (over
    matched items: same date or both null), readable (share of predicted actions with no bare pronoun), tp, fp,
    fn, per_rule (recall per commitment rule), distractor_fp (predictions whose evidence includes a distractor
    turn, per distractor rule), cases (per-case misses and false positives).
    """
    tp = fp = fn = 0
    due_ok = 0
    unreadable = total_predicted = 0
    owner_ok = owner_total = 0
    per_rule: dict[str, dict[str, float]] = {}
    distractor_fp: Counter[str] = Counter()
    details: list[dict[str, Any]] = []
    for case in cases:
        predicted = extractor(case.turns, case.participants, case.date, case.next_meeting)
        names = _names(case.participants)
        pairs = match(predicted, case.expected, names=names)
        matched_p = {i for i, _ in pairs}
        matched_e = {j for _, j in pairs}
        tp += len(pairs)
        fp += len(predicted) - len(pairs)
        fn += len(case.expected) - len(pairs)
        wrong_due = []
        for i, j in pairs:
            if predicted[i].due == case.expected[j].due:
                due_ok += 1
            else:
                wrong_due.append((predicted[i], case.expected[j]))
        loose = match(predicted, case.expected, require_owner=False, names=names)
        unreadable += sum(1 for p in predicted if bare_pronoun(p.action))
        total_predicted += len(predicted)
        owner_total += len(loose)
        owner_ok += sum(1 for i, j in loose if predicted[i].owner == case.expected[j].owner)
        for j, item in enumerate(case.expected):
            row = per_rule.setdefault(item.rule, {"expected": 0, "found": 0})
            row["expected"] += 1
            row["found"] += int(j in matched_e)
        distractor_turns = {d.turn: d.rule for d in case.distractors}
        for rule in distractor_turns.values():
            distractor_fp[rule] += 0  # list every distractor rule, also those with no false positive
        false_positives = [p for i, p in enumerate(predicted) if i not in matched_p]
        for p in false_positives:
            hit = next((distractor_turns[t] for t in p.evidence if t in distractor_turns), None)
            if hit is not None:
                distractor_fp[hit] += 1
        details.append(
            {
                "id": case.id,
                "misses": [e for j, e in enumerate(case.expected) if j not in matched_e],
                "false_positives": false_positives,
                "wrong_due": wrong_due,
            }
        )
    for row in per_rule.values():
        row["recall"] = _ratio(int(row["found"]), int(row["expected"]))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "owner_accuracy": _ratio(owner_ok, owner_total),
        "due_accuracy": _ratio(due_ok, tp),
        "readable": _ratio(total_predicted - unreadable, total_predicted),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "per_rule": dict(sorted(per_rule.items())),
        "distractor_fp": dict(sorted(distractor_fp.items())),
        "cases": details,
    }


def _item(c: Commitment | Expected) -> str:
    due = c.due.isoformat() if c.due else "-"
    return f"{c.owner}: {c.action} (due {due}, evidence {list(c.evidence)})"


def report(result: dict[str, Any]) -> str:
    """The result of `score` as a plain-text table plus the per-case misses and false positives."""
    lines = [
        f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}  "
        f"(tp {result['tp']}, fp {result['fp']}, fn {result['fn']})",
        f"owner accuracy {result['owner_accuracy']:.3f}  due-date accuracy {result['due_accuracy']:.3f}  "
        f"readable actions {result['readable']:.3f}",
        "",
        f"{'rule':<18}{'expected':>9}{'found':>7}{'recall':>8}",
    ]
    for rule, row in result["per_rule"].items():
        lines.append(f"{rule:<18}{int(row['expected']):>9}{int(row['found']):>7}{row['recall']:>8.2f}")
    lines += ["", f"{'distractor rule':<18}{'false positives':>16}"]
    for rule, count in result["distractor_fp"].items():
        lines.append(f"{rule:<18}{count:>16}")
    for case in result["cases"]:
        if not (case["misses"] or case["false_positives"] or case["wrong_due"]):
            continue
        lines += ["", f"[{case['id']}]"]
        lines += [f"  miss  {_item(e)}" for e in case["misses"]]
        lines += [f"  extra {_item(p)}" for p in case["false_positives"]]
        lines += [f"  due   {_item(p)}  expected {e.due}" for p, e in case["wrong_due"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from facilitator.commitments import extract_commitments

    args = list(sys.argv[1:] if argv is None else argv)
    folder = Path(args[0]) if args else DEFAULT_FOLDER
    try:
        cases = load_cases(folder)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not cases:
        print(f"no labelled .json cases in {folder}", file=sys.stderr)
        return 1
    print(report(score(cases, extract_commitments)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
