"""Validation of what a language model says about accountability items.

- `apply_review`: a brain's verdicts on the offline extractor's candidates (keep, reword, redate, reject), each
  checked against the candidate's evidence turns and their neighbours before it is applied;
- `validate_commitments`: items a model proposed on its own (owners, evidence turns, support, stated dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from facilitator.commitments import cues
from facilitator.commitments.ids import commitment_id
from facilitator.commitments.referents import find_pronoun
from facilitator.commitments.text import content_words, near_duplicate, plain
from facilitator.dates import find_due_dates, resolve_due
from facilitator.models import Commitment, Participant, Turn
from facilitator.textutil import clip, stemmer

if TYPE_CHECKING:  # the brain's boundary types (facilitator.brains.base imports much more than this module needs)
    from facilitator.brains.base import CommitmentReview, CommitmentReviewInput, CommitmentVerdict

__all__ = ["NEIGHBOURS", "ReviewOutcome", "apply_review", "context_turns", "validate_commitments"]

_SUPPORT_THRESHOLD = 50.0
NEIGHBOURS = 1  # turns either side of each evidence turn that a review shows and checks against
MAX_ACTION_CHARS = 200
NOTE_CHARS = 160


def _support(action: str, text: str, names: Iterable[str]) -> float:
    """How well a turn's text supports an action: token-set similarity of 5-letter stems of content words."""
    dropped = list(names)
    a = sorted({w[:5] for w in content_words(action, drop=dropped)})
    b = sorted({w[:5] for w in content_words(text, drop=dropped)})
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(" ".join(a), " ".join(b)))


def _answered_by(turns: Sequence[Turn], index: int, owner: str) -> bool:
    """Whether the turn at `index` is a request that `owner` accepts within the next two turns."""
    low = plain(turns[index].text)
    if not (
        cues.ASKED_REQUEST.search(low)
        or cues.STATED_REQUEST.search(low)
        or cues.OFFER.search(low)
        or cues.JOINT.search(low)
        or cues.IMPERATIVE.match(low)
    ):
        return False
    for later in turns[index + 1 : index + 3]:
        if later.speaker.strip().lower() == owner:
            return bool(cues.ACCEPT.search(plain(later.text)))
    return False


def _speaker(turn: Turn) -> str:
    return turn.speaker.strip().lower()


def evidence_flags(item: Commitment, turns: Sequence[Turn], owner: str, ids: set[str]) -> list[str]:
    """What is wrong with an item's owner and evidence turns (empty: nothing)."""
    flags: list[str] = []
    if owner not in ids:
        flags.append(f"owner '{item.owner}' is not a participant ({', '.join(sorted(ids))})")
    if not item.evidence:
        flags.append("no evidence turns")
    missing = [i for i in item.evidence if not 0 <= i < len(turns)]
    if missing:
        flags.append(f"evidence turn(s) {missing} do not exist (the transcript has {len(turns)} turns)")
    valid = [i for i in item.evidence if 0 <= i < len(turns)]
    if valid and owner in ids:
        by_owner = [i for i in valid if _speaker(turns[i]) == owner or _answered_by(turns, i, owner)]
        if not by_owner:
            flags.append(f"no evidence turn is by {owner} or a request {owner} accepted")
    return flags


def stated_dates(
    turns: Sequence[Turn], indices: Iterable[int], session_date: dt.date, next_meeting: dt.date | None = None
) -> list[dt.date]:
    """Every due date the given turns state ("before our next session" as `next_meeting`, when known)."""
    return [m.date for i in indices for m in find_due_dates(turns[i].text, session_date, next_meeting)]


def _due_fix(
    item: Commitment, turns: Sequence[Turn], valid: list[int], owner: str, session_date: dt.date
) -> tuple[dt.date | None, str | None]:
    """(due, note): the date the evidence states when the model's date is not one of them; None note = fine."""
    stated = stated_dates(turns, valid, session_date)
    own_turns = [i for i in valid if _speaker(turns[i]) == owner]
    if item.due is None:
        own = [d for i in own_turns for d in stated_dates(turns, [i], session_date)]
        if len(set(own)) == 1:
            return own[0], f"due added: {own[0].isoformat()} is stated in {owner}'s evidence turn"
        return None, None
    if not stated or item.due in stated:
        return item.due, None
    dated = [i for i in own_turns if stated_dates(turns, [i], session_date)]
    dated = dated or [i for i in valid if stated_dates(turns, [i], session_date)]
    stated_due = _committed_date(turns[dated[-1]].text, session_date)
    note = f"due corrected from {item.due.isoformat()} to {stated_due} (stated in turn {dated[-1]})"
    return stated_due, note


def _committed_date(text: str, session_date: dt.date) -> dt.date | None:
    """The date of a turn's first-person statement ("I will send it next Monday"), else its first date."""
    for _, sentence in cues.split_sentences(text):
        if cues.self_cued(plain(sentence)):
            due = resolve_due(sentence, session_date)
            if due is not None:
                return due
    return resolve_due(text, session_date)


def _check(
    item: Commitment, turns: Sequence[Turn], ids: set[str], names: list[str], session_date: dt.date
) -> tuple[Commitment, bool]:
    """The item with its flags (and a corrected due date), and whether it passed."""
    owner = item.owner.strip().lower()
    flags = evidence_flags(item, turns, owner, ids)
    valid = [i for i in item.evidence if 0 <= i < len(turns)]
    text = " ".join(turns[i].text for i in valid)
    stated = stated_dates(turns, valid, session_date)
    supported = _support(item.action, text, names) >= _SUPPORT_THRESHOLD or (
        item.due is not None and item.due in stated
    )
    if valid and not supported:
        flags.append(f"the evidence turns do not mention the action '{item.action}'")
    if item.due is not None and item.due < session_date and item.due not in stated:
        flags.append(f"due date {item.due.isoformat()} is before the session date {session_date.isoformat()}")
    update: dict[str, object] = {"owner": owner, "confirmed": False, "flags": [*item.flags, *flags]}
    if not flags:
        due, note = _due_fix(item, turns, valid, owner, session_date)
        if note is not None:
            update["due"] = due
            update["flags"] = [*item.flags, note]
    if item.id is None:
        update["id"] = commitment_id(owner, item.action, valid[0] if valid else None)
    return item.model_copy(update=update), not flags


def _merge(accepted: list[Commitment], checked: Commitment) -> None:
    """Add an accepted item, or merge it into a near-identical one of the same owner (evidence united)."""
    duplicate = next(
        (kept for kept in accepted if kept.owner == checked.owner and near_duplicate(kept.action, checked.action)),
        None,
    )
    if duplicate is None:
        accepted.append(checked)
        return
    merged = duplicate.model_copy(
        update={
            "evidence": sorted(set(duplicate.evidence) | set(checked.evidence)),
            "due": duplicate.due or checked.due,
        }
    )
    accepted[accepted.index(duplicate)] = merged


def validate_commitments(
    items: list[Commitment], turns: list[Turn], participants: list[Participant], session_date: dt.date
) -> tuple[list[Commitment], list[Commitment]]:
    """Check items proposed by a language model against the transcript.

    Returns (accepted, rejected). Rejected items carry `flags` saying why and must never be shown as fact: an
    owner who is not a participant, evidence turns that do not exist, no evidence turn by the owner (or a request
    the owner accepted), evidence that does not mention the action, a due date before the session.
    An accepted item whose due date is not among the dates its evidence states gets the stated date and a
    "due corrected ..." flag; a missing date stated in the owner's own evidence turn is added ("due added ...").
    Near-identical accepted items (same owner, fuzzy-equal action) are merged. `confirmed` is always False.
    """
    ids = {p.id for p in participants}
    names = [n for p in participants for n in (p.id, p.first_name, *p.name.split())]
    ordered = sorted(turns, key=lambda t: t.index)
    accepted: list[Commitment] = []
    rejected: list[Commitment] = []
    for item in items:
        checked, passed = _check(item, ordered, ids, names, session_date)
        if passed:
            _merge(accepted, checked)
        else:
            rejected.append(checked)
    return accepted, rejected


# ----------------------------------------------------------------------------------------------------------------
# A brain's review of the offline candidates


class ReviewOutcome(BaseModel):
    """The candidates after a review: `items` to show (in the candidates' order), `flagged` (rejected by the model,
    each with its reason in `flags`; never shown as fact) and `notes` (verdicts that were ignored as a whole)."""

    model_config = ConfigDict(frozen=True)

    items: list[Commitment]
    flagged: list[Commitment] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def context_turns(evidence: Iterable[int], indices: Iterable[int]) -> list[int]:
    """The evidence turns and their NEIGHBOURS either side, among the turn `indices` that exist, in order."""
    known = set(indices)
    return sorted({i + d for i in evidence for d in range(-NEIGHBOURS, NEIGHBOURS + 1)} & known)


def _stemmer() -> Callable[[str], str]:
    return cast(Callable[[str], str], stemmer().stemWord)  # Snowball (PyStemmer), lower-cased words in


def _stems(text: str) -> set[str]:
    """Snowball stems and 5-letter prefixes of the content words ("follow-up" is "follow" and "up")."""
    stem = _stemmer()
    out: set[str] = set()
    for word in content_words(text):
        for part in word.split("-"):
            if part:
                out.add(stem(part))
                if len(part) >= 5:
                    out.add(part[:5])
    return out


def _new_words(action: str, allowed: set[str], names: Iterable[str]) -> list[str]:
    """The content words of `action` that are neither names nor (by stem or 5-letter prefix) in `allowed`."""
    stem = _stemmer()
    new: list[str] = []
    for word in content_words(action, drop=names):
        parts = [p for p in word.split("-") if p]
        if any(stem(p) not in allowed and (len(p) < 5 or p[:5] not in allowed) for p in parts):
            new.append(word)
    return list(dict.fromkeys(new))


def _note(verdict: CommitmentVerdict) -> str:
    """The model's few words on a rejection, " (...)" on one line, or ""."""
    text = " ".join((verdict.note or "").split())
    return f" ({clip(text, NOTE_CHARS)})" if text else ""


def _same_owner(given: str, owner: str, participants: Sequence[Participant]) -> bool:
    """Whether `given` (an id or a name, any case) names the participant with id `owner`."""
    low = given.strip().lower()
    for p in participants:
        if p.id == owner:
            return low in {p.id.lower(), p.name.lower(), p.first_name.lower()}
    return low == owner.lower()


class _Review:
    """One review applied: verdicts checked in order, duplicates merged last."""

    def __init__(self, data: CommitmentReviewInput) -> None:
        self.data = data
        self.turns = {t.index: t for t in data.turns}
        self.items: dict[str, Commitment] = {str(c.id): c for c in data.candidates}
        self.rejected: dict[str, Commitment] = {}
        self.applied: dict[str, set[str]] = {}
        self.notes: list[str] = []
        self.names = [n for p in data.participants for n in (p.id, p.first_name, *p.name.split())]

    def context(self, item: Commitment) -> list[int]:
        return context_turns(item.evidence, self.turns)

    def context_text(self, item: Commitment) -> str:
        return " ".join(self.turns[i].text for i in self.context(item))

    def flag(self, key: str, verdict: CommitmentVerdict, why: str) -> None:
        item = self.items[key]
        note = f"the model's {verdict.verdict} was not applied: {why}"
        self.items[key] = item.model_copy(update={"flags": [*item.flags, note]})

    def admit(self, verdict: CommitmentVerdict) -> bool:
        """Whether a verdict names a candidate and does not contradict an earlier verdict on it (a reword and a
        redate may both apply; anything else is one verdict per candidate)."""
        key = verdict.id
        if key not in self.items:
            self.notes.append(
                f"the model's {verdict.verdict} verdict on an unknown item id '{clip(key, 40)}' was ignored "
                "(it may only review the listed items)"
            )
            return False
        done = self.applied.setdefault(key, set())
        if done and (verdict.verdict in done or not (done | {verdict.verdict}) <= {"reword", "redate"}):
            self.notes.append(f"a second verdict ({verdict.verdict}) on item {key} was ignored")
            return False
        done.add(verdict.verdict)
        return True

    def reword(self, key: str, verdict: CommitmentVerdict) -> None:
        item = self.items[key]
        action = " ".join((verdict.action or "").split())
        why = self.reword_problem(item, action, verdict.owner)
        if why:
            self.flag(key, verdict, why)
        elif action != item.action:
            self.items[key] = item.model_copy(
                update={"action": action, "flags": [*item.flags, "reworded by the model"]}
            )

    def reword_problem(self, item: Commitment, action: str, owner: str | None) -> str | None:
        if not action:
            return "no action was given"
        if len(action) > MAX_ACTION_CHARS:
            return f"the action is longer than {MAX_ACTION_CHARS} characters"
        if owner and not _same_owner(owner, item.owner, self.data.participants):
            return f"it changes the owner from '{item.owner}' to '{clip(owner, 40)}'"
        pronoun = find_pronoun(action)
        if pronoun is not None:
            return f"'{clip(action, 80)}' leaves the pronoun '{pronoun.word}' unresolved"
        allowed = _stems(self.context_text(item)) | _stems(item.action)
        new = _new_words(action, allowed, self.names)
        if new:
            shown = ", ".join(f"'{w}'" for w in new[:5])
            return f"'{clip(action, 80)}' uses words the turns {self.context(item)} do not: {shown}"
        return None

    def redate(self, key: str, verdict: CommitmentVerdict) -> None:
        item = self.items[key]
        if not verdict.due:
            self.flag(key, verdict, "no date was given")
            return
        try:
            due = dt.date.fromisoformat(verdict.due.strip())
        except ValueError:
            self.flag(key, verdict, f"'{clip(verdict.due, 40)}' is not a date (YYYY-MM-DD)")
            return
        shown = self.context(item)
        ordered = [self.turns[i] for i in shown]
        stated = stated_dates(ordered, range(len(ordered)), self.data.session_date, self.data.next_meeting)
        if due not in stated:
            self.flag(key, verdict, f"{due.isoformat()} is not a date the turns {shown} state")
        elif due != item.due:
            was = item.due.isoformat() if item.due else "none"
            note = f"due changed by the model from {was} to {due.isoformat()}"
            self.items[key] = item.model_copy(update={"due": due, "flags": [*item.flags, note]})

    def reject(self, key: str, verdict: CommitmentVerdict) -> None:
        if verdict.reason is None:
            self.flag(key, verdict, "no reason was given")
            return
        reason = verdict.reason.replace("_", " ")
        note = _note(verdict)
        item = self.items[key]
        self.rejected[key] = item.model_copy(update={"flags": [*item.flags, f"rejected by the model: {reason}{note}"]})

    def merge(self, key: str, verdict: CommitmentVerdict, duplicates: set[str]) -> None:
        """A duplicate: its evidence (and date, when the kept item has none) joins the item it repeats, which must be
        another candidate of the same owner that is kept (not rejected, not a duplicate itself)."""
        target = verdict.duplicate_of or ""
        item = self.items[key]
        why = None
        if target not in self.items:
            why = f"it names no listed item as the one it repeats ('{clip(target, 40)}')"
        elif target == key:
            why = "it names itself as the item it repeats"
        elif target in self.rejected or target in duplicates:
            why = f"the item it repeats ({target}) was rejected too"
        elif self.items[target].owner != item.owner:
            why = f"the item it repeats ({target}) belongs to {self.items[target].owner}, not {item.owner}"
        if why:
            self.flag(key, verdict, why)
            return
        kept = self.items[target]
        merged_into = clip(kept.action, 80)
        self.items[target] = kept.model_copy(
            update={
                "evidence": sorted(set(kept.evidence) | set(item.evidence)),
                "due": kept.due or item.due,
                "flags": [*kept.flags, f"merged with its duplicate in turn(s) {item.evidence}"],
            }
        )
        note = _note(verdict)
        flag = f"rejected by the model: duplicate of '{merged_into}', its evidence merged into it{note}"
        self.rejected[key] = item.model_copy(update={"flags": [*item.flags, flag]})


def apply_review(data: CommitmentReviewInput, review: CommitmentReview) -> ReviewOutcome:
    """The candidates with a brain's verdicts applied, each one checked first; an invalid verdict leaves its
    candidate as extracted, with a flag saying why.

    - keep: unchanged.
    - reword: the owner stays (a given `owner` must be the candidate's); no bare pronoun (`referents.find_pronoun`);
      every content word is in the evidence turns, their NEIGHBOURS or the candidate's own action (compared by stem),
      or a participant's name; at most MAX_ACTION_CHARS.
    - redate: a YYYY-MM-DD date that those turns state (`stated_dates`, "before our next session" as the next
      meeting).
    - reject: needs a reason; the item leaves `items` for `flagged`, the model's reason in its flags. A duplicate
      (`duplicate_of`: another kept item of the same owner) also merges its evidence into that item.

    A verdict on an unknown id, or one contradicting an earlier verdict on the same item, is ignored with a note;
    candidates without a verdict are kept (with a note). The model cannot add items.
    """
    run = _Review(data)
    duplicates: list[CommitmentVerdict] = []
    for verdict in review.verdicts:
        if not run.admit(verdict):
            continue
        if verdict.verdict == "reword":
            run.reword(verdict.id, verdict)
        elif verdict.verdict == "redate":
            run.redate(verdict.id, verdict)
        elif verdict.verdict == "reject" and verdict.reason == "duplicate":
            duplicates.append(verdict)
        elif verdict.verdict == "reject":
            run.reject(verdict.id, verdict)
    for verdict in duplicates:
        run.merge(verdict.id, verdict, {v.id for v in duplicates})
    missing = [key for key in run.items if key not in run.applied]
    if missing:
        run.notes.append(
            f"the model gave no verdict on {len(missing)} of {len(run.items)} item(s); they were kept as extracted"
        )
    order = [str(c.id) for c in data.candidates]
    return ReviewOutcome(
        items=[run.items[key] for key in order if key not in run.rejected],
        flagged=[run.rejected[key] for key in order if key in run.rejected],
        notes=run.notes,
    )
