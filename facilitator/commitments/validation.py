"""Validation of items a language model proposes: owners, evidence turns, support for the action, stated dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz

from facilitator.commitments import cues
from facilitator.commitments.ids import commitment_id
from facilitator.commitments.text import content_words, near_duplicate, plain
from facilitator.dates import find_due_dates, resolve_due
from facilitator.models import Commitment, Participant, Turn

__all__ = ["validate_commitments"]

_SUPPORT_THRESHOLD = 50.0


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


def stated_dates(turns: Sequence[Turn], indices: Iterable[int], session_date: dt.date) -> list[dt.date]:
    """Every due date the given turns state."""
    return [m.date for i in indices for m in find_due_dates(turns[i].text, session_date)]


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
