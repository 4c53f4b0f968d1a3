"""The offline facilitator: deterministic wording from templates, the question bank and retrieved guidance."""

from __future__ import annotations

import re
from collections.abc import Sequence

from facilitator.brains.base import (
    AgendaPhrasing,
    AgendaPhrasingInput,
    BrainInput,
    BrainProfile,
    CommitmentReview,
    CommitmentReviewInput,
    CommitmentVerdict,
    TokenSink,
)
from facilitator.knowledge.bank import CHALLENGE_SOURCE, QUESTION_BANK_SOURCE
from facilitator.lexicon import STOP_WORDS
from facilitator.models import Citation, Move, Participant, SuggestedQuestion, Turn, join_names
from facilitator.signals import RECENT_TURNS, sentences, talk_shares
from facilitator.textutil import clip

_WORD = re.compile(r"[a-z]{3,}")
_CHALLENGE_OPENERS = (
    "{speaker}, I heard an assumption there: “{quote}”",
    "{speaker}, can we test something you said: “{quote}”?",
    "Let me push back gently, {speaker}. You said “{quote}”",
    "{speaker}, “{quote}”: is that something you know, or something you assume?",
)
_NOTHING_ASSUMED = (
    "I haven't heard an untested assumption yet. On {topic}: {a}, what do you take for granted that {b} might see "
    "differently? {b}, what would you question in that?",
    "Nothing stood out to me as an untested belief so far. {a}, about {topic}: what would have to be true for your "
    "current view to be wrong? {b}, what do you see from your side?",
    "No assumption to challenge yet, as far as I heard. {a} and {b}: on {topic}, where do your views differ, and "
    "what evidence would settle it?",
)
_NUDGE_OPENERS = (
    "{quiet}, we've heard mostly from {loud} for a while. Let's hear from you:",
    "{loud}, let's pause there. {quiet}, over to you:",
    "{quiet}, I'd like to bring you in here:",
    "Let's swap for a moment. {quiet}, you first this time:",
)
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

    def review_commitments(self, data: CommitmentReviewInput) -> CommitmentReview:
        """Every candidate kept as the rule-based extractor worded and dated it."""
        return CommitmentReview(verdicts=[CommitmentVerdict(id=str(c.id), verdict="keep") for c in data.candidates])

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
            return self._nothing_assumed(data, citations)
        names = _challenge_names(data, assumption.speaker)
        opener = _pick(_CHALLENGE_OPENERS, data.state.probes_used, "challenge:opener")
        probe = _pick(pattern.probes, data.state.probes_used, f"{pattern.id}:probe")
        text = (
            f"{opener.format(quote=clip(assumption.text, 200), **names)} "
            f"{probe.format(**names)} {invitation(data) or ''}"
        ).strip()
        speaker = data.pair.participant(assumption.speaker)
        citations = [Citation(source=CHALLENGE_SOURCE, id=pattern.id, title=pattern.name), *citations]
        return Move(kind="challenge", text=text, addressee=speaker.id, citations=citations)

    def _nothing_assumed(self, data: BrainInput, citations: list[Citation]) -> Move:
        """No untested assumption heard: say so, and ask both a question about what they are discussing."""
        people, turn = data.pair.participants, data.state.probes_used.count("challenge:none")
        a, b = people[turn % len(people)], people[(turn + 1) % len(people)]
        topics = data.reading.recent_topics(6, 3)
        topic = topics[0] if topics else (data.agenda_item.title if data.agenda_item else "what you are working on")
        template = _pick(_NOTHING_ASSUMED, data.state.probes_used, "challenge:none")
        text = template.format(topic=topic, a=a.first_name, b=b.first_name)
        return Move(kind="challenge", text=text, addressee="both", citations=citations)

    def _nudge(self, data: BrainInput) -> Move:
        if data.plan.addressee is None:
            names = join_names([p.first_name for p in data.pair.participants])
            return Move(
                kind="nudge",
                text=f"Talk is balanced so far: {names} are sharing the airtime well.",
                addressee="both",
            )
        quiet = data.pair.participant(data.plan.addressee)
        loud = loudest(data.turns, data.pair.others(quiet.id))
        questions = [q for q in self._questions(data) if q.for_ == quiet.id][:1]
        ask = questions[0].text if questions else "what would you like to take from today's conversation?"
        opener = _pick(_NUDGE_OPENERS, data.state.probes_used, "nudge:opener")
        text = f"{opener.format(quiet=quiet.first_name, loud=loud.first_name)} {_lower_first(ask)}"
        if "nudge:goal" not in data.state.probes_used and quiet.seeks:
            data.state.probes_used.append("nudge:goal")
            text += f" (You came wanting to work on {quiet.seeks[0]}.)"
        return Move(
            kind="nudge",
            text=text,
            addressee=quiet.id,
            questions=questions,
            citations=[q.citation for q in questions if q.citation] + self._guidance_citations(data, 1),
        )

    def _answer(self, data: BrainInput) -> Move:
        """The guidance sentence(s) that answer the question, quoted, or a decline (facilitator.brains.answering)."""
        from facilitator.brains.answering import answer_move

        return answer_move(data)

    def _transition(self, data: BrainInput) -> Move:
        current = data.agenda_item.title if data.agenda_item else "this item"
        # true either way: the clock ran out, or a partner moved on with time left on it
        done = f"Time is up for “{current}”." if data.plan.overdue else f"Moving on from “{current}”."
        nxt = data.next_item
        if nxt is None:
            return Move(kind="transition", text=f"{done} That was the last item.", addressee="both")
        lead = f", led by {data.pair.participant(nxt.lead).first_name}" if nxt.lead in data.pair.ids else ""
        first = f" To open it: {nxt.questions[0].text}" if nxt.questions else ""
        text = f"{done} Next: “{nxt.title}” ({nxt.minutes} min{lead}).{first}"
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
        lines = self._commitment_lines(data, "Agreed in this session:")
        text = lines or "No commitments in this session yet. Who will do what, by when?"
        return Move(kind="commitments", text=text, addressee="both")

    def _notice(self, data: BrainInput) -> Move:
        return Move(kind="notice", text=data.plan.reason, addressee=None)

    # ---------------------------------------------------------------- helpers
    def _commitment_lines(self, data: BrainInput, heading: str = "Agreed so far:") -> str:
        if not data.commitments:
            return ""
        lines = [heading]
        for c in data.commitments:
            owner = data.pair.participant(c.owner).first_name if c.owner in data.pair.ids else c.owner
            due = f" by {c.due.isoformat()}" if c.due else " (no date yet)"
            lines.append(f"- {owner}: {c.action}{due}")
        return "\n".join(lines)

    @staticmethod
    def _label(data: BrainInput, who: str) -> str:
        if who in data.pair.ids:
            return f"For {data.pair.participant(who).first_name}"
        return "For all of you" if data.pair.is_group else "For both of you"

    @staticmethod
    def _guidance_citations(data: BrainInput, n: int) -> list[Citation]:
        return [Citation(source=h.source, id=h.id, title=h.title) for h in data.guidance[:n]]


def _challenge_names(data: BrainInput, speaker_id: str) -> dict[str, str]:
    other = quietest(data.turns, data.pair.others(speaker_id))
    return {"speaker": data.pair.participant(speaker_id).first_name, "other": other.first_name}


def invitation(data: BrainInput) -> str | None:
    """The sentence of a challenge that asks the other partner (the quieter one, in a group) for their view, or None
    when the plan challenges no assumption. The LLM brain adds it to a model's challenge that names nobody else."""
    assumption, pattern = data.plan.assumption, data.pattern
    if assumption is None or pattern is None:
        return None
    invite = _pick(pattern.invite_other, data.state.probes_used, f"{pattern.id}:invite")
    return invite.format(**_challenge_names(data, assumption.speaker))


def quietest(turns: list[Turn], people: list[Participant]) -> Participant:
    """Who of `people` said least over the recent turns (the first listed on a tie; for a pair, the partner)."""
    shares = talk_shares(turns[-RECENT_TURNS:], [p.id for p in people])
    return min(people, key=lambda p: shares[p.id])


def loudest(turns: list[Turn], people: list[Participant]) -> Participant:
    """Who of `people` said most over the recent turns (the first listed on a tie)."""
    shares = talk_shares(turns[-RECENT_TURNS:], [p.id for p in people])
    return max(people, key=lambda p: shares[p.id])


def _pick(options: Sequence[str], used: list[str], key: str) -> str:
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
