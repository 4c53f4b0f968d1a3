"""The engine: one live session's turn loop, shared by the CLI, the UI and the evals.

message ─► store (committed) ─► signals ─► policy ─► retrieval ─► brain (LLM or offline) ─► validate ─► store
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from facilitator.brains.base import Brain, BrainInput
from facilitator.brains.offline import OfflineBrain
from facilitator.context import conversation_context, state_text
from facilitator.exceptions import MessageError, ModelError, NotFoundError
from facilitator.knowledge.bank import ChallengePatterns, QuestionBank
from facilitator.knowledge.index import KnowledgeBase
from facilitator.models import Agenda, AgendaItem, Commitment, Move, Pair, Summary, Turn
from facilitator.moves import choose_questions, retrieval_query, validate_move
from facilitator.policy import Plan, PolicyState, Request, RequestKind, apply, decide, record_assumptions, record_move
from facilitator.settings import Settings
from facilitator.signals import balance, detect_assumptions
from facilitator.store import Store

Clock = Callable[[], dt.datetime]
GUIDANCE_K = 3
COVERED_SIMILARITY = 0.35  # below this dense similarity the guidance is taken not to cover a question
_COMMANDS: dict[str, RequestKind] = {
    "/question": "question",
    "/challenge": "challenge",
    "/balance": "balance",
    "/recap": "recap",
    "/commitments": "commitments",
    "/next": "next",
}


_UPDATES: dict[str, Literal["done", "dropped", "slipped"]] = {
    "/done": "done",
    "/dropped": "dropped",
    "/slipped": "slipped",
}


class Event(BaseModel):
    """What the engine tells a shell: a stored turn, a streamed token, a finished move, a notice, the summary."""

    kind: Literal["turn", "token", "move", "notice", "summary"]
    text: str = ""
    turn: Turn | None = None
    move: Move | None = None
    summary: Summary | None = None


@dataclass
class Facilitator:
    """Shared components for every session of this process. Everything is injected; nothing is built on import."""

    store: Store
    knowledge: KnowledgeBase | None
    brain: Brain
    bank: QuestionBank
    patterns: ChallengePatterns
    settings: Settings = field(default_factory=Settings)
    clock: Clock = field(default=lambda: dt.datetime.now(dt.UTC))
    fallback: OfflineBrain = field(default_factory=OfflineBrain)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, brain: Brain | None = None) -> Facilitator:
        settings = settings or Settings()
        if brain is None:
            if settings.use_llm:
                from facilitator.brains.llm import LLMBrain

                brain = LLMBrain.from_settings(settings)
            else:
                brain = OfflineBrain()
        return cls(
            store=Store(settings.resolved_database_url),
            knowledge=KnowledgeBase.from_settings(settings),
            brain=brain,
            bank=QuestionBank.load(),
            patterns=ChallengePatterns.load(),
            settings=settings,
        )

    @property
    def description(self) -> str:
        """Which facilitator runs, for banners: 'offline' or the model's name."""
        return "offline facilitator" if self.brain.name == "offline" else f"LLM facilitator ({self.brain.name})"

    def start(self, pair: Pair, *, date: dt.date | None = None, agenda: Agenda | None = None) -> LiveSession:
        self.store.save_pair(pair)
        assert pair.id is not None
        info = self.store.create_session(pair.id, date or self.clock().date(), agenda)
        session = LiveSession(self, info.id, pair, agenda, PolicyState(), [], info.date)
        if agenda is not None:
            session.state.item_started_at = self.clock()
            session.save()
        return session

    def resume(self, session_id: str) -> LiveSession:
        info = self.store.get_session(session_id)
        pair = self.store.get_pair(info.pair_id)
        state = PolicyState.model_validate(info.state) if info.state else PolicyState()
        return LiveSession(self, info.id, pair, info.agenda, state, self.store.turns(session_id), info.date)


class LiveSession:
    """One meeting in progress. Every turn is stored before anything else happens to it."""

    def __init__(
        self,
        facilitator: Facilitator,
        session_id: str,
        pair: Pair,
        agenda: Agenda | None,
        state: PolicyState,
        turns: list[Turn],
        date: dt.date | None = None,
    ) -> None:
        self.f = facilitator
        self.id = session_id
        self.pair = pair
        self.agenda = agenda
        self.state = state
        self.turns = turns
        self.date = date or facilitator.clock().date()
        assert pair.id is not None
        self.pair_id: str = pair.id

    # ------------------------------------------------------------------ input
    def handle(self, line: str, *, speaker: str | None = None) -> Iterator[Event]:
        """One input line: `Name: text`, a slash command, or `@facilitator question` (by `speaker` if given)."""
        stripped = line.strip()
        if not stripped:
            yield Event(kind="notice", text="empty message ignored")
            return
        command, _, rest = stripped.partition(" ")
        if command.lower() in _COMMANDS:
            yield from self.ask(_COMMANDS[command.lower()], rest.strip(), by=speaker)
            return
        if command.lower() == "/agenda":
            minutes = int(rest) if rest.strip().isdigit() else 45
            yield self.start_agenda(minutes)
            return
        if command.lower() in _UPDATES:
            yield self.update_item(_UPDATES[command.lower()], rest, by=speaker)
            return
        if command.startswith("/"):
            known = ", ".join([*_COMMANDS, "/agenda", "/done", "/slipped", "/dropped", "/end"])
            yield Event(kind="notice", text=f"unknown command {command}; try {known}")
            return
        if speaker is None:
            label, sep, text = stripped.partition(":")
            if not sep:
                raise MessageError(
                    f"start the line with who is speaking, e.g. '{self.pair.participants[0].first_name}: …'"
                )
            speaker, stripped = label, text
        yield from self.say(speaker, stripped)

    def say(self, speaker: str, text: str) -> Iterator[Event]:
        pid = self.pair.resolve_speaker(speaker)
        if pid is None:
            names = " or ".join(f"{p.first_name} ({p.id})" for p in self.pair.participants)
            raise MessageError(f"unknown speaker '{speaker}'; this session's partners are {names}")
        text = text.strip()
        if not text:
            yield Event(kind="notice", text="empty message ignored")
            return
        limit = self.f.settings.max_message_chars
        if len(text) > limit:
            raise MessageError(f"message is {len(text)} characters, over the {limit}-character limit; split it")
        turn = self.f.store.append_turn(self.id, pid, text)
        self.turns.append(turn)
        yield Event(kind="turn", turn=turn)
        record_assumptions(self.state, detect_assumptions(turn, self.f.patterns))
        request = None
        if re.match(r"^@facilitator\b", text, re.IGNORECASE):
            request = Request(kind="answer", text=text[len("@facilitator") :].strip(" ,:") or "help", by=pid)
        plan = decide(self.state, self.pair, self.turns, request=request, agenda=self.agenda, now=self.f.clock())
        if plan is not None:
            yield from self._perform(plan)
        else:
            self.save()

    def ask(self, kind: RequestKind, text: str = "", *, by: str | None = None) -> Iterator[Event]:
        """A move asked for by a partner (buttons, slash commands)."""
        pid = self.pair.resolve_speaker(by) if by else None
        request = Request(kind=kind, text=text, by=pid)
        plan = decide(self.state, self.pair, self.turns, request=request, agenda=self.agenda, now=self.f.clock())
        if plan is not None:
            yield from self._perform(plan)

    # ------------------------------------------------------------------ moves
    def _perform(self, plan: Plan) -> Iterator[Event]:
        data, allowed = self._prepare(plan)
        tokens: queue.Queue[tuple[str, object]] = queue.Queue()

        def work() -> None:
            try:
                move = self.f.brain.render(data, lambda t: tokens.put(("token", t)))
                tokens.put(("done", move))
            except ModelError as e:
                tokens.put(("failed", e))
            except Exception as e:  # a bug in a brain must not lose the turn: the offline brain answers
                tokens.put(("failed", ModelError(f"{e.__class__.__name__}: {e}")))

        streamed = self.f.brain.name != "offline"
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        move: Move | None = None
        note: str | None = None
        while move is None and note is None:
            kind, payload = tokens.get()
            if kind == "token" and streamed:
                yield Event(kind="token", text=str(payload))
            elif kind == "done":
                assert isinstance(payload, Move)
                move, problems = validate_move(payload, self.pair, allowed)
                if not move.text:
                    move, note = None, f"the model's move was unusable ({'; '.join(problems)})"
            elif kind == "failed":
                note = str(payload)
        worker.join(timeout=1)
        if move is None:
            fallback, _ = validate_move(self.f.fallback.render(data), self.pair, allowed)
            move = fallback.model_copy(update={"note": f"{note}; the offline facilitator answered this turn"})
        record_move(self.state, move)
        apply(self.state, plan, self.turns[-1].index if self.turns else -1, self.f.clock())
        self.f.store.append_move(self.id, self.turns[-1].index if self.turns else -1, move)
        self.save()
        yield Event(kind="move", move=move, text=move.text)

    def _prepare(self, plan: Plan) -> tuple[BrainInput, set[str]]:
        item, nxt = self.current_item(), self.next_item()
        pattern = (
            self.f.patterns.by_id(plan.assumption.pattern) if plan.assumption and plan.assumption.pattern else None
        )
        guidance: list[tuple[str, str, str, str]] = []
        covered = True
        if self.f.knowledge is not None and plan.kind in ("question", "challenge", "nudge", "answer"):
            hint = plan.query if plan.kind == "answer" else (pattern.name if pattern else plan.query)
            query = retrieval_query(plan.kind, self.pair, self.turns, item, hint)
            if query and self.f.knowledge.count():
                scored = self.f.knowledge.search_scored(query, GUIDANCE_K)
                guidance = [(h.id, h.source, h.title, h.text) for h, _ in scored]
                covered = bool(scored) and max(s for _, s in scored) >= COVERED_SIMILARITY
            else:
                covered = False
        candidates = []
        if plan.kind in ("question", "nudge"):
            only = plan.addressee if plan.kind == "nudge" and plan.addressee in self.pair.ids else None
            candidates = choose_questions(
                self.f.bank, self.pair, self.turns, item=item, asked=self.state.asked, only_for=only
            )
        commitments = self.items_so_far() if plan.kind in ("recap", "commitments") else []
        bal = balance(self.turns, self.pair.ids, self.state.challenges)
        position = (
            f"item {self.state.agenda_item + 1} of {len(self.agenda.items)}: {item.title}"
            if item and self.agenda
            else None
        )
        data = BrainInput(
            plan=plan,
            pair=self.pair,
            turns=self.turns,
            context=conversation_context(self.turns, self.pair),
            state=self.state,
            guidance=guidance,
            covered=covered,
            candidates=candidates,
            pattern=pattern,
            agenda_item=item,
            next_item=nxt if plan.kind == "transition" else None,
            commitments=commitments,
            state_text=state_text(self.pair, bal, self.f.store.open_commitments(self.pair_id), position),
        )
        allowed = {g[0] for g in guidance} | {c[0].id for c in candidates}
        if pattern is not None:
            allowed.add(pattern.id)
        if nxt is not None:
            allowed |= {c.id for c in nxt.citations}
        return data, allowed

    # --------------------------------------------------------------- queries
    def current_item(self) -> AgendaItem | None:
        if self.agenda is None or self.state.agenda_item >= len(self.agenda.items):
            return None
        return self.agenda.items[self.state.agenda_item]

    def next_item(self) -> AgendaItem | None:
        if self.agenda is None or self.state.agenda_item + 1 >= len(self.agenda.items):
            return None
        return self.agenda.items[self.state.agenda_item + 1]

    def items_so_far(self) -> list[Commitment]:
        from facilitator.commitments import extract_commitments

        return extract_commitments(self.turns, self.pair.participants, self.date)

    def save(self) -> None:
        self.f.store.save_state(self.id, self.state.model_dump(mode="json"))

    def start_agenda(self, minutes: int = 45) -> Event:
        """Build today's agenda from both partners and the pair's open items, store it, and start its clock."""
        from facilitator.agenda import agenda_markdown, build_agenda

        agenda = build_agenda(
            self.pair,
            date=self.date,
            minutes=minutes,
            open_items=self.f.store.open_commitments(self.pair_id),
            bank=self.f.bank,
            knowledge=self.f.knowledge,
        )
        self.agenda = agenda
        self.state.agenda_item = 0
        self.state.item_started_at = self.f.clock()
        self.f.store.save_agenda(self.id, agenda)
        self.save()
        move = Move(kind="notice", text=agenda_markdown(agenda, self.pair), addressee="both", reason="agenda requested")
        self.f.store.append_move(self.id, self.turns[-1].index if self.turns else -1, move)
        return Event(kind="move", move=move, text=move.text)

    # ------------------------------------------------------------ continuity
    def update_item(self, action: Literal["done", "dropped", "slipped"], rest: str, *, by: str | None = None) -> Event:
        """`/done ID`, `/dropped ID`, `/slipped ID DATE`: update an open commitment of this pair (history kept)."""
        from facilitator.dates import resolve_due

        parts = rest.split(maxsplit=1)
        if not parts:
            return Event(kind="notice", text=f"usage: /{action} ID" + (" NEW-DATE" if action == "slipped" else ""))
        item_id = parts[0]
        mine = {c.id for c in self.f.store.commitments(pair_id=self.pair_id)}
        if item_id not in mine:
            return Event(kind="notice", text=f"no commitment '{item_id}' for this pair; /commitments lists them")
        due = None
        if action == "slipped":
            due = resolve_due(parts[1], self.date) if len(parts) > 1 else None
            if due is None:
                return Event(kind="notice", text="say the new date, e.g. /slipped ID next Friday")
        pid = self.pair.resolve_speaker(by) if by else None
        try:
            self.f.store.update_commitment(item_id, by=pid, session_id=self.id, status=action, due=due)
        except NotFoundError as e:
            return Event(kind="notice", text=str(e))
        when = f" (new date {due.isoformat()})" if due else ""
        return Event(kind="notice", text=f"commitment {item_id} marked {action}{when}")

    def end(self) -> Summary:
        """Close the session: summarize, store the accountability items, and return the summary."""
        from facilitator.export import next_meeting
        from facilitator.summary import summarize_turns

        summary = summarize_turns(
            self.turns, self.pair.participants, self.date, self.f.patterns, self.state.challenges, brain=self.f.brain
        )
        summary = summary.model_copy(update={"next_meeting": next_meeting(self.date, self.pair.cadence)})
        if summary.commitments:
            summary = summary.model_copy(
                update={"commitments": self.f.store.save_commitments(self.id, summary.commitments)}
            )
        self.f.store.end_session(self.id, summary)
        return summary
