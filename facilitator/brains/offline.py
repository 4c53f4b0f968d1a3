"""The offline facilitator: deterministic wording from templates, the question bank and retrieved guidance."""

from __future__ import annotations

import datetime as dt
import re

from facilitator.brains.base import AgendaPhrasing, AgendaPhrasingInput, BrainInput, BrainProfile, TokenSink
from facilitator.knowledge.bank import CHALLENGE_SOURCE, QUESTION_BANK_SOURCE
from facilitator.lexicon import STOP_WORDS
from facilitator.models import Citation, Commitment, Move, Participant, SuggestedQuestion, Turn
from facilitator.signals import sentences
from facilitator.textutil import clip

_WORD = re.compile(r"[a-z]{3,}")
_STOP = STOP_WORDS  # the shared lexicon's core (facilitator/data/stopwords.txt)


class OfflineBrain:
    """A real facilitator without a model: same moves, same citations, predictable words."""

    name = "offline"

    @property
    def profile(self) -> BrainProfile:
        return BrainProfile(kind="offline", model="offline", streams=False)

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        kind = data.plan.kind
        render = {
            "question": self._question,
            "challenge": self._challenge,
            "nudge": self._nudge,
            "answer": self._answer,
            "transition": self._transition,
            "recap": self._recap,
            "commitments": self._commitments,
        }.get(kind, self._notice)
        move = render(data)
        move = move.model_copy(update={"reason": data.plan.reason, "brain": self.name})
        if on_token:
            on_token(move.text)
        return move

    def extract_commitments(
        self, turns: list[Turn], participants: list[Participant], session_date: dt.date
    ) -> list[Commitment]:
        """The rule-based extractor (deterministic; see facilitator.commitments)."""
        from facilitator.commitments import extract_commitments

        return extract_commitments(turns, participants, session_date)

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing:
        """No rewording: the agenda stays as code built it."""
        return AgendaPhrasing(items=[])

    # ------------------------------------------------------------------ moves
    def _questions(self, data: BrainInput) -> list[SuggestedQuestion]:
        return [
            SuggestedQuestion.model_validate(
                {"text": c.text, "for": c.addressee, "citation": Citation(source=QUESTION_BANK_SOURCE, id=c.entry.id)}
            )
            for c in data.candidates[:3]
        ]

    def _question(self, data: BrainInput) -> Move:
        questions = self._questions(data)
        item = f" for “{data.agenda_item.title}”" if data.agenda_item else ""
        lines = [f"Some questions{item}:"]
        lines += [f"- {self._label(data, q.for_)}: {q.text}" for q in questions]
        if not questions:
            lines = ["What has each of you learned from the other since you last met?"]
        return Move(
            kind="question",
            text="\n".join(lines),
            addressee="both",
            questions=questions,
            citations=[q.citation for q in questions if q.citation],
        )

    def _challenge(self, data: BrainInput) -> Move:
        assumption = data.plan.assumption
        pattern = data.pattern
        citations = self._guidance_citations(data, 1)
        if assumption is None or pattern is None:
            a, b = data.pair.participants
            text = (
                f"A challenge for both of you: what is one belief each of you holds about this topic that you have "
                f"not tested? {a.first_name}, name one of yours; {b.first_name}, then name one of yours, and ask "
                "each other what evidence would change your mind."
            )
            return Move(kind="challenge", text=text, addressee="both", citations=citations)
        speaker = data.pair.participant(assumption.speaker)
        other = data.pair.other(assumption.speaker)
        probe = _pick(pattern.probes, data.state.probes_used, f"{pattern.id}:probe")
        invite = _pick(pattern.invite_other, data.state.probes_used, f"{pattern.id}:invite")
        quote = clip(assumption.text, 160)
        text = (
            f"{speaker.first_name}, I heard an assumption there: “{quote}” — {pattern.name.lower()}. "
            f"{probe.format(speaker=speaker.first_name, other=other.first_name)} "
            f"{invite.format(speaker=speaker.first_name, other=other.first_name)}"
        )
        citations = [Citation(source=CHALLENGE_SOURCE, id=pattern.id, title=pattern.name), *citations]
        return Move(kind="challenge", text=text, addressee=speaker.id, citations=citations)

    def _nudge(self, data: BrainInput) -> Move:
        if data.plan.addressee is None:
            a, b = data.pair.participants
            return Move(
                kind="nudge",
                text=f"Talk is balanced so far: {a.first_name} and {b.first_name} are sharing the airtime well.",
                addressee="both",
            )
        quiet = data.pair.participant(data.plan.addressee)
        loud = data.pair.other(quiet.id)
        goal = quiet.seeks[0] if quiet.seeks else (data.pair.shared_goals[0] if data.pair.shared_goals else None)
        questions = [q for q in self._questions(data) if q.for_ == quiet.id][:1]
        ask = questions[0].text if questions else "what would you like to take from today's conversation?"
        tie = f" You came wanting to work on {goal}, so" if goal else ""
        text = (
            f"{quiet.first_name}, we've heard mostly from {loud.first_name} for a while.{tie} "
            f"let's hear from you: {_lower_first(ask)}"
        )
        return Move(
            kind="nudge",
            text=text,
            addressee=quiet.id,
            questions=questions,
            citations=[q.citation for q in questions if q.citation] + self._guidance_citations(data, 1),
        )

    def _answer(self, data: BrainInput) -> Move:
        question = data.plan.query
        if not data.covered or not data.guidance:
            return Move(
                kind="answer",
                text=(
                    "The guidance doesn't cover this. You could decide it together: each of you say what you "
                    "would prefer and why, then agree on one approach to try until your next meeting."
                ),
                addressee=data.plan.addressee,
            )
        query_stems = _stems(question)
        scored: list[tuple[int, int, int, str, str]] = []  # (overlap, chunk rank, position, id, sentence)
        for rank, hit in enumerate(data.guidance[:3]):
            title_bonus = len(_stems(hit.title) & query_stems)
            for position, sentence in enumerate(sentences(_plain_markdown(hit.text))):
                if len(sentence.split()) >= 6:
                    overlap = len(_stems(sentence) & query_stems) + title_bonus
                    scored.append((overlap, rank, position, hit.id, sentence))
        best = sorted(scored, key=lambda x: (-x[0], x[1], x[2]))[:2]
        best.sort(key=lambda x: (x[1], x[2]))
        lines = ["From the guidance:"] + [f"- {clip(s, 260)} [{cid}]" for _, _, _, cid, s in best]
        used = {cid for _, _, _, cid, _ in best}
        citations = [Citation(source=h.source, id=h.id, title=h.title) for h in data.guidance if h.id in used]
        return Move(kind="answer", text="\n".join(lines), addressee=data.plan.addressee, citations=citations)

    def _transition(self, data: BrainInput) -> Move:
        current = data.agenda_item.title if data.agenda_item else "this item"
        nxt = data.next_item
        if nxt is None:
            text = f"Time is up for “{current}”. That was the last item."
            return Move(kind="transition", text=text, addressee="both")
        lead = f", led by {data.pair.participant(nxt.lead).first_name}" if nxt.lead in data.pair.ids else ""
        first = f" To open it: {nxt.questions[0].text}" if nxt.questions else ""
        text = f"Time is up for “{current}”. Next: “{nxt.title}” ({nxt.minutes} min{lead}).{first}"
        return Move(kind="transition", text=text, addressee="both", citations=list(nxt.citations[:1]))

    def _recap(self, data: BrainInput) -> Move:
        lines = [f"Recap after {len(data.turns)} turns:"]
        for person in data.pair.participants:
            said = [t for t in data.turns if t.speaker == person.id]
            points = _key_points(said, 2)
            summary = "; ".join(points) if points else "has not spoken yet"
            lines.append(f"- {person.first_name}: {summary}")
        lines.append(self._commitment_lines(data) or "- No commitments yet.")
        return Move(kind="recap", text="\n".join(lines), addressee="both")

    def _commitments(self, data: BrainInput) -> Move:
        text = self._commitment_lines(data) or "No commitments so far. Who will do what, by when?"
        return Move(kind="commitments", text=text, addressee="both")

    def _notice(self, data: BrainInput) -> Move:
        return Move(kind="notice", text=data.plan.reason, addressee=None)

    # ---------------------------------------------------------------- helpers
    def _commitment_lines(self, data: BrainInput) -> str:
        if not data.commitments:
            return ""
        lines = ["Agreed so far:"]
        for c in data.commitments:
            owner = data.pair.participant(c.owner).first_name if c.owner in data.pair.ids else c.owner
            due = f" by {c.due.isoformat()}" if c.due else " (no date yet)"
            lines.append(f"- {owner}: {c.action}{due}")
        return "\n".join(lines)

    @staticmethod
    def _label(data: BrainInput, who: str) -> str:
        if who in data.pair.ids:
            return f"For {data.pair.participant(who).first_name}"
        return "For both of you"

    @staticmethod
    def _guidance_citations(data: BrainInput, n: int) -> list[Citation]:
        return [Citation(source=h.source, id=h.id, title=h.title) for h in data.guidance[:n]]


def _pick(options: list[str], used: list[str], key: str) -> str:
    """Rotate through options so the same probe is not repeated in a session (deterministic)."""
    count = sum(1 for u in used if u == key)
    used.append(key)
    return options[count % len(options)]


def _keywords(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _plain_markdown(text: str) -> str:
    """Guidance text without list markers, emphasis and heading marks, for quoting inside a sentence."""
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", text, flags=re.MULTILINE)
    return re.sub(r"(\*\*|__|`)", "", text)


def _stems(text: str) -> set[str]:
    """Crude stems (first five letters) so 'meet', 'meeting' and 'meetings' count as one word."""
    return {w[:5] for w in _keywords(text)}


def _key_points(turns: list[Turn], n: int) -> list[str]:
    scored: list[tuple[int, int, str]] = []
    for turn in turns:
        for s in sentences(turn.text):
            if len(s.split()) >= 5:
                scored.append((len(_keywords(s)), turn.index, s))
    best = sorted(scored, key=lambda x: (-x[0], -x[1]))[:n]
    return [clip(s, 120) for _, _, s in sorted(best, key=lambda x: x[1])]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
