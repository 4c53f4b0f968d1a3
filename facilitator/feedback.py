"""End-of-session check-in feedback: each member answers three short questions (what worked, what to change, how
balanced the session felt from 1 to 5). Stored per member and session; the pair sees it in the next session's
check-in; a coordinator sees only the scores (`facilitator.program`).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facilitator.exceptions import FeedbackError
from facilitator.textutil import clip

ANSWER_CHARS = 280
SCORE_MIN, SCORE_MAX = 1, 5
QUESTIONS = {
    "worked": "What worked well in this session?",
    "change": "What would you change next time?",
    "balance": f"How balanced did it feel ({SCORE_MIN} = one of us did all the talking, {SCORE_MAX} = well balanced)?",
}
_FIX = {
    "worked": f"answer 'what worked' in at most {ANSWER_CHARS} characters",
    "change": f"answer 'what to change' in at most {ANSWER_CHARS} characters",
    "balance": f"give the balance as a whole number from {SCORE_MIN} to {SCORE_MAX}",
    "member": "name one of the session's members",
}


class FeedbackAnswers(BaseModel):
    """One member's three answers, as typed (validated on the way in)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    worked: str = Field(default="", max_length=ANSWER_CHARS)
    change: str = Field(default="", max_length=ANSWER_CHARS)
    balance: int = Field(ge=SCORE_MIN, le=SCORE_MAX, strict=False)


class Feedback(FeedbackAnswers):
    """One member's stored feedback on one session."""

    session_id: str
    member: str = Field(description="The member's participant id.")
    at: dt.datetime | None = None


def parse_answers(worked: object, change: object, balance: object) -> FeedbackAnswers:
    """The answers validated, or FeedbackError naming the first bad field and its fix."""
    if isinstance(balance, str):
        balance = balance.strip()
        if not balance.isdigit():
            raise FeedbackError(f"the balance score {clip(balance, 20)!r} is not a number; {_FIX['balance']}")
    if isinstance(balance, float) and balance.is_integer():
        balance = int(balance)
    try:
        return FeedbackAnswers.model_validate({"worked": worked or "", "change": change or "", "balance": balance})
    except ValidationError as e:
        field = str(e.errors()[0]["loc"][0]) if e.errors()[0]["loc"] else "balance"
        raise FeedbackError(f"the feedback's '{field}' is not valid; {_FIX.get(field, _FIX['balance'])}") from None


TOO_EARLY = (
    "feedback is about a session that has ended: press Summarize (or `/end` in `comentor chat`) first, then each "
    "of you answers the three questions"
)


def unknown_member(member: str, names: list[str]) -> FeedbackError:
    return FeedbackError(f"'{clip(member, 40)}' is not a member of this session; use one of: {', '.join(names)}")


def checkin_note(feedback: list[Feedback], names: dict[str, str]) -> str:
    """What the members said at the end of their last session, for this session's check-in ('' when nothing)."""
    parts = []
    for f in feedback:
        said = [f"balance {f.balance}/{SCORE_MAX}"]
        if f.worked:
            said.append(f"worked: {clip(f.worked, 120)}")
        if f.change:
            said.append(f"change: {clip(f.change, 120)}")
        parts.append(f"{names.get(f.member, f.member)} ({'; '.join(said)})")
    if not parts:
        return ""
    return " Last session's feedback: " + " · ".join(parts) + ". Take a minute on what you would keep and change."
