"""The engine: one live session's turn loop, shared by the CLI, the UI and the evals.

message ─► store (committed) ─► signals ─► policy ─► retrieval ─► brain (LLM or offline) ─► validate ─► store
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from facilitator.access import EXPIRED, WRONG, AttemptLimits, Signer, signing_key
from facilitator.brains.base import Brain, BrainInput
from facilitator.brains.offline import OfflineBrain
from facilitator.context import conversation_context, state_text
from facilitator.exceptions import AccessError, InputError, MessageError, ModelError, NotFoundError
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE, ChallengePatterns, QuestionBank
from facilitator.knowledge.index import KnowledgeBase
from facilitator.models import Agenda, AgendaItem, Balance, Citation, Commitment, Move, Pair, Summary, Turn
from facilitator.moves import choose_questions, retrieval_query, validate_move
from facilitator.policy import Plan, PolicyState, Request, RequestKind, apply, decide, record_assumptions, record_move
from facilitator.settings import Settings
from facilitator.signals import balance, detect_assumptions
from facilitator.store import SessionInfo, Store

Clock = Callable[[], dt.datetime]
_PAIR_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,139}$")
_PRINTABLE = re.compile(r"[^\x20-\x7e]")
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


def _cap_note(cap: int) -> str:
    return f"this session has used its {cap} model calls (COMENTOR_MAX_MODEL_CALLS); start a new session for more"


class Event(BaseModel):
    """What the engine tells a shell: a stored turn, a streamed token, a finished move, a notice, the summary."""

    kind: Literal["turn", "token", "move", "notice", "summary"]
    text: str = ""
    turn: Turn | None = None
    move: Move | None = None
    summary: Summary | None = None


class ItemView(BaseModel):
    """One accountability item as a shell shows it: the item, who confirmed it, and the line it came from."""

    item: Commitment
    confirmed_by: list[str]
    quotes: list[str]

    @property
    def confirmed_by_both(self) -> bool:
        return self.item.confirmed


class AgendaStatus(BaseModel):
    """Where the session is on its agenda: the current item and the minutes left in its timebox."""

    position: int
    count: int
    item: AgendaItem | None
    minutes_left: float | None
    over_time: bool = False


@dataclass(frozen=True)
class Opened:
    """A pair opened with its code (or a new session of it): the session and the grant the page sends back."""

    live: LiveSession
    token: str


class History(BaseModel):
    """A pair's past sessions and open items, for the history view."""

    sessions: list[SessionInfo]
    open_items: list[Commitment]


DEMO_PAIR_ID = "ana-ben"
_STATE_COUNTERS = ("model_calls",)  # PolicyState's integer fields that count (merged by adding, see `save`)


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
    signer: Signer = field(default_factory=Signer.random)
    limits: AttemptLimits = field(default_factory=AttemptLimits)

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
            signer=Signer(signing_key(settings), lifetime=dt.timedelta(hours=settings.access_hours)),
            limits=AttemptLimits(
                window=dt.timedelta(minutes=settings.access_window_minutes),
                per_client=settings.access_attempts,
                per_pair=settings.access_attempts_per_pair,
            ),
        )

    @classmethod
    def offline(
        cls, store: Store, *, knowledge: KnowledgeBase | None = None, settings: Settings | None = None
    ) -> Facilitator:
        """The offline facilitator over `store` (and `knowledge`, if any), with the shipped question bank and
        challenge patterns: what scripts and tests that drive the engine directly need."""
        return cls(
            store=store,
            knowledge=knowledge,
            brain=OfflineBrain(),
            bank=QuestionBank.load(),
            patterns=ChallengePatterns.load(),
            settings=settings or Settings(),
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

    # ---------------------------------------------------------- access (UI, API)
    def create_pair(self, pair: Pair) -> str:
        """Save a new pair and return its access code; an existing pair is never overwritten."""
        return self.store.create_pair(pair)

    def register_pair(self, pair: Pair) -> tuple[Pair, str]:
        """A pair created by an anonymous visitor (the web form): its id gets a random suffix, so a second pair with
        the same first names gets its own id and no id can be guessed or confirmed to exist. Returns the pair as
        stored and its access code (shown once)."""
        base = pair.id or "pair"
        for _attempt in range(5):
            candidate = pair.model_copy(update={"id": f"{base[:120]}-{secrets.token_hex(3)}"})
            if not self.store.has_pair(candidate.id or ""):
                return candidate, self.store.create_pair(candidate)
        raise InputError("could not find a free pair id; try again")

    def open_pair(self, pair_id: str, access_code: str, *, client: str = "local") -> Pair:
        """The pair, if the caller shows its access code. Every shell call that touches a pair goes through here.

        The same answer for an unknown pair and a wrong code; after too many wrong attempts from one client (or on
        one pair) every attempt is refused for a while, the right code included."""
        return self.store.get_pair(self._check_code(pair_id, access_code, client)[0])

    def _check_code(self, pair_id: str, access_code: str, client: str) -> tuple[str, str]:
        """(pair id, code fingerprint) for a right code within the attempt limits; AccessError otherwise."""
        pair_id = (pair_id or "").strip().lower() if isinstance(pair_id, str) else ""
        valid = bool(_PAIR_ID.match(pair_id))
        pair_id = pair_id if valid else "(not a pair id)"  # never sent to the database as given (NUL, any length)
        client = _PRINTABLE.sub("?", client)[:200] or "unknown"
        now = self.clock()
        limits = self.limits
        by_client, by_pair = self.store.recent_failures(pair_id, client, now - limits.window)
        if by_client >= limits.per_client or by_pair >= limits.per_pair:
            raise AccessError(limits.locked_message())
        code = access_code.strip() if isinstance(access_code, str) else ""
        found = self.store.check_access(pair_id, code) if valid else None
        if found is None:
            self.store.record_failure(pair_id, client, now, keep=limits.window)
            raise AccessError(WRONG)
        return pair_id, found

    def grant(self, pair_id: str, access_code: str, *, client: str, session_id: str | None = None) -> Opened:
        """Open a pair with its code (within the attempt limits): its session and a signed, expiring grant for it."""
        pid, tag = self._check_code(pair_id, access_code, client)
        live = self._session_of(pid, session_id)
        return Opened(live=live, token=self.signer.issue(pid, live.id, tag, self.clock()))

    def granted(self, token: str | None) -> LiveSession:
        """The live session a grant names, if the grant is genuine, unexpired and the pair's code unchanged."""
        grant = self.signer.read(token, self.clock())
        if self.store.code_fingerprint(grant.pair_id) != grant.fingerprint:
            raise AccessError(EXPIRED)
        return self._session_of(grant.pair_id, grant.session_id)

    def regrant(self, live: LiveSession) -> str:
        """A fresh grant for `live` (after a new session was started, or to extend a remembered one)."""
        tag = self.store.code_fingerprint(live.pair_id)
        if tag is None:
            raise AccessError(EXPIRED)
        return self.signer.issue(live.pair_id, live.id, tag, self.clock())

    def new_session_for(self, live: LiveSession) -> Opened:
        """Start a new session of an open (already authorised) pair and grant it."""
        fresh = self.start(live.pair, date=self.clock().date())
        return Opened(live=fresh, token=self.regrant(fresh))

    def session_for(self, pair_id: str, access_code: str, session_id: str | None = None) -> LiveSession:
        """The caller's live session: `session_id` if it is this pair's, else today's latest, else a new one."""
        pair = self.open_pair(pair_id, access_code)
        assert pair.id is not None
        return self._session_of(pair.id, session_id)

    def _session_of(self, pair_id: str, session_id: str | None) -> LiveSession:
        if session_id:
            try:
                info = self.store.get_session(session_id)
            except NotFoundError:
                info = None
            if info is None or info.pair_id != pair_id:
                raise AccessError("that session does not belong to this pair; open the pair again")
            return self.resume(session_id)
        return self.resume(self.store.session_of_day(pair_id, self.clock().date()).id)

    def new_session(self, pair_id: str, access_code: str) -> LiveSession:
        pair = self.open_pair(pair_id, access_code)
        return self.start(pair, date=self.clock().date())

    def history(self, pair_id: str, access_code: str) -> History:
        pair = self.open_pair(pair_id, access_code)
        assert pair.id is not None
        return self.history_of(pair.id)

    def history_of(self, pair_id: str) -> History:
        """A pair's sessions and open items; the caller has checked access (a grant or the code)."""
        return History(sessions=self.store.list_sessions(pair_id), open_items=self.store.open_commitments(pair_id))

    def passage(self, citation: Citation) -> str | None:
        """The text a citation points to: a guidance passage, a challenge pattern, or a bank question."""
        if citation.source == QUESTION_BANK_SOURCE:
            entry = self.bank.by_id(citation.id)
            return entry.text if entry else None
        pattern = self.patterns.by_id(citation.id)
        if pattern is not None:
            return pattern.description
        if self.knowledge is None:
            return citation.quote
        hits = self.knowledge.get([citation.id])
        return hits[0].text if hits else citation.quote

    def ensure_demo_pair(self, pair: Pair) -> str | None:
        """On first start (no pairs stored), save the demo pair and return its access code; otherwise None."""
        if self.store.list_pairs():
            return None
        return self.store.create_pair(pair)


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
        self._base = state.model_dump(mode="json")  # the state as loaded: `save` stores what changed since
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
        text = _valid_text(text).strip()
        if not text:
            yield Event(kind="notice", text="empty message ignored; type something before sending")
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
        request = Request(kind=kind, text=_valid_text(text), by=pid)
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
        move: Move | None = None
        note: str | None = None
        if streamed and self.state.model_calls >= self.f.settings.max_model_calls:  # consumption cap, OWASP LLM10
            note = _cap_note(self.f.settings.max_model_calls)
        else:
            self.state.model_calls += int(streamed)
            worker.start()
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
        if worker.is_alive():
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
        """Store the policy state. What this session changed since it was loaded (or last saved) is merged into the
        stored state, so a concurrent event on the same session loses nothing (counters add up, lists union), and
        this session then holds the merged state (the model-call cap counts the other events' calls too)."""
        stored = self.f.store.save_state(
            self.id, self.state.model_dump(mode="json"), base=self._base, counters=_STATE_COUNTERS
        )
        merged = PolicyState.model_validate(stored)
        for name in PolicyState.model_fields:
            setattr(self.state, name, getattr(merged, name))
        self._base = merged.model_dump(mode="json")

    def plan_agenda(self, minutes: int = 45) -> tuple[Agenda, list[str]]:
        """Today's agenda from both partners and the pair's open items (worded by the model when one runs).

        Not started yet: the pair may edit it first (`edit_agenda`) and then `use_agenda`."""
        from facilitator.agenda import build_agenda, phrase_agenda

        open_items = self.f.store.open_commitments(self.pair_id)
        agenda = build_agenda(
            self.pair,
            date=self.date,
            minutes=minutes,
            open_items=open_items,
            bank=self.f.bank,
            knowledge=self.f.knowledge,
        )
        notes: list[str] = []
        chat_model = getattr(self.f.brain, "chat_model", None)
        if chat_model is not None:
            phrased = phrase_agenda(
                agenda,
                self.pair,
                chat_model,
                open_items=open_items,
                knowledge=self.f.knowledge,
                model_name=self.f.brain.name,
            )
            agenda = phrased.agenda
            notes += [phrased.note] if phrased.note else []
        return agenda, notes

    def use_agenda(self, agenda: Agenda) -> Event:
        """Store the agenda for this session and start its clock on the first item."""
        from facilitator.agenda import agenda_markdown

        self.agenda = agenda
        self.state.agenda_item = 0
        self.state.item_started_at = self.f.clock()
        self.f.store.save_agenda(self.id, agenda)
        self.save()
        move = Move(kind="notice", text=agenda_markdown(agenda, self.pair), addressee="both", reason="agenda started")
        self.f.store.append_move(self.id, self.turns[-1].index if self.turns else -1, move)
        return Event(kind="move", move=move, text=move.text)

    def start_agenda(self, minutes: int = 45) -> Event:
        """Build today's agenda and start it at once (the `/agenda` command)."""
        agenda, _notes = self.plan_agenda(minutes)
        return self.use_agenda(agenda)

    def agenda_status(self) -> AgendaStatus:
        count = len(self.agenda.items) if self.agenda else 0
        item = self.current_item()
        left: float | None = None
        if item is not None and self.state.item_started_at is not None:
            elapsed = (self.f.clock() - self.state.item_started_at).total_seconds() / 60
            left = round(item.minutes - elapsed, 1)
        return AgendaStatus(
            position=self.state.agenda_item,
            count=count,
            item=item,
            minutes_left=left,
            over_time=left is not None and left < 0,
        )

    def balance(self) -> Balance:
        return balance(self.turns, self.pair.ids, self.state.challenges)

    def moves(self) -> list[tuple[int, Move]]:
        """The facilitator's stored moves, each with the turn index it followed (-1: before any turn)."""
        return self.f.store.moves(self.id)

    # ------------------------------------------------------- accountability
    def proposed_items(self) -> list[ItemView]:
        """Items proposed so far, kept in the store so either partner can confirm, edit or delete them.

        New items found in the conversation are added; an item nobody has touched follows the conversation (a
        revised date replaces the earlier one; a retracted item goes); what a partner confirmed, edited or deleted is
        never overridden."""
        extracted = self.items_so_far()
        stored = self.f.store.session_items(self.id)
        touched = self.f.store.touched_items(self.id)
        untouched = {c.id for c, by, deleted in stored if c.id and not deleted and not by and c.id not in touched}
        seen: set[str] = set()
        new: list[Commitment] = []
        for item in extracted:
            match = next((c for c, _, _ in stored if c.id not in seen and _same_item(item, c)), None)
            if match is None:
                new.append(item)
                continue
            assert match.id is not None
            seen.add(match.id)
            if match.id in untouched and item.due != match.due and item.due is not None:
                self.f.store.update_commitment(match.id, session_id=self.id, due=item.due)
        for cid in untouched - seen:
            self.f.store.update_commitment(cid, session_id=self.id, delete=True)
        if new:
            self.f.store.save_commitments(self.id, new)
        return self.items()

    def items(self) -> list[ItemView]:
        """This session's items as stored (deleted ones left out), with confirmations and quoted lines."""
        by_index = {t.index: t for t in self.turns}
        return [
            ItemView(
                item=c,
                confirmed_by=confirmed,
                quotes=[f"{self._name(by_index[i].speaker)}: {by_index[i].text}" for i in c.evidence if i in by_index],
            )
            for c, confirmed, deleted in self.f.store.session_items(self.id)
            if not deleted
        ]

    def _name(self, pid: str) -> str:
        return self.pair.participant(pid).first_name if pid in self.pair.ids else pid

    def change_item(
        self,
        item_id: str,
        *,
        by: str,
        confirm: bool = False,
        delete: bool = False,
        action: str | None = None,
        due: str | None = None,
        owner: str | None = None,
    ) -> Event:
        """A partner confirms, edits or deletes one of this session's items (history kept)."""
        from facilitator.dates import resolve_due

        pid = self.pair.resolve_speaker(by)
        if pid is None:
            raise InputError("choose who you are (the speaker) before confirming or editing an item")
        mine = {c.id for c, _, deleted in self.f.store.session_items(self.id) if not deleted}
        if item_id not in mine:
            raise InputError("choose an item of this session first; the list shows them")
        new_owner = None
        if owner:
            new_owner = self.pair.resolve_speaker(owner)
            if new_owner is None:
                raise InputError(
                    f"the owner must be one of the partners ({', '.join(self._name(i) for i in self.pair.ids)})"
                )
        new_due = None
        if due and due.strip():
            new_due = resolve_due(due, self.date)
            if new_due is None:
                raise InputError(f"cannot read the date '{due}'; write e.g. 2026-12-01 or 'next Friday'")
        action = _valid_text(action).strip() if action else None
        if action is not None and len(action) > 500:
            raise InputError("the action is too long; keep it under 500 characters")
        self.f.store.update_commitment(
            item_id,
            by=pid,
            session_id=self.id,
            confirm=confirm,
            delete=delete,
            action=action or None,
            due=new_due,
            owner=new_owner,
        )
        verb = "deleted" if delete else "confirmed" if confirm else "updated"
        return Event(kind="notice", text=f"{self._name(pid)} {verb} the item")

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

        capped = self.f.brain.name != "offline" and self.state.model_calls >= self.f.settings.max_model_calls
        summary = summarize_turns(
            self.turns,
            self.pair.participants,
            self.date,
            self.f.patterns,
            self.state.challenges,
            warnings=[f"{_cap_note(self.f.settings.max_model_calls)}; the offline extractor was used"] * capped,
            brain=None if capped else self.f.brain,
        )
        summary = summary.model_copy(update={"next_meeting": next_meeting(self.date, self.pair.cadence)})
        stored = self.f.store.session_items(self.id)
        new = [c for c in summary.commitments if not any(_same_item(c, s) for s, _, _ in stored)]
        if new:
            self.f.store.save_commitments(self.id, new)
        kept = [c for c, _, deleted in self.f.store.session_items(self.id) if not deleted]
        summary = summary.model_copy(update={"commitments": kept})
        self.f.store.end_session(self.id, summary)
        return summary

    def summary(self) -> Summary | None:
        """The stored summary (with the items as they are now), or None before the session was summarized."""
        info = self.f.store.get_session(self.id)
        if info.summary is None:
            return None
        return info.summary.model_copy(update={"commitments": [v.item for v in self.items()]})

    def export(self, fmt: Literal["md", "json", "ics"], summary: Summary | None = None) -> bytes:
        """The recap as Markdown, JSON or an .ics calendar; the session must have been summarized first.
        Pass `summary` (from `summary()`) to export several formats without reading it again."""
        from facilitator.export import export_summary

        summary = summary or self.summary()
        if summary is None:
            raise InputError("nothing to export yet: summarize the session first (the Summarize button or /end)")
        return export_summary(summary, self.pair.participants, self.turns, fmt, uid_prefix=self.id)


def _valid_text(text: str) -> str:
    """`text` if it can be stored and shown; a lone surrogate (broken JSON escapes, undecodable bytes) is refused, and
    so is a NUL character (PostgreSQL's text columns cannot hold one: refused here, on every database alike)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MessageError("the message has characters that are not valid text; type it again without them") from None
    if "\x00" in text:
        raise MessageError(
            "the message contains a NUL character (\\x00), which cannot be stored; remove it (it often comes with "
            "text pasted from a binary file) and send the message again"
        )
    return text


def _same_item(a: Commitment, b: Commitment) -> bool:
    """Two proposals of the same item: one owner, and a shared evidence line or nearly the same action."""
    from rapidfuzz import fuzz

    if a.owner != b.owner:
        return False
    return bool(set(a.evidence) & set(b.evidence)) or fuzz.token_set_ratio(a.action, b.action) >= 85
