"""One meeting in progress: its turn loop, commands, moves, agenda, items, summary and exports.

message ─► store (committed) ─► signals ─► policy ─► retrieval ─► brain (LLM or offline) ─► validate ─► store

Every shell drives a session through these methods and renders `LiveSession.view()` afterwards; nothing here knows
about a shell.
"""

from __future__ import annotations

import datetime as dt
import queue
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from facilitator.brains.base import BrainInput
from facilitator.context import conversation_context, state_text
from facilitator.exceptions import InputError, MessageError, ModelError, NotFoundError, SessionEnded
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE, ChallengePatterns
from facilitator.models import (
    Agenda,
    AgendaItem,
    Assumption,
    Balance,
    Citation,
    Commitment,
    Move,
    Pair,
    Summary,
    Turn,
)
from facilitator.moves import choose_questions, retrieval_query, validate_move
from facilitator.policy import Plan, PolicyState, Request, RequestKind, apply, decide, record_assumptions, record_move
from facilitator.records import ENDED, StoredItem
from facilitator.signals import balance, detect_assumptions
from facilitator.snapshots import (
    AgendaPlan,
    AgendaSnapshot,
    AgendaStatus,
    CarriedItem,
    Conversation,
    Event,
    ItemView,
    MoveAt,
    SessionView,
)
from facilitator.textutil import clip
from facilitator.understanding.read import read_conversation
from facilitator.understanding.reading import Reading

if TYPE_CHECKING:
    from facilitator.engine import Facilitator

GUIDANCE_K = 3
ASSUMPTION_CONFIDENCE = 0.4  # a sentence read as an assumption less surely than this is not challenged
GENERAL_PATTERN = "overgeneralisation"  # the challenge pattern for an assumption that no pattern's cues match
COVERED_SIMILARITY = 0.35  # below this dense similarity the guidance does not cover a question (moves_tune)
QUOTE_CHARS = 900
DEFAULT_MINUTES = 45
_STATE_COUNTERS = ("model_calls",)  # PolicyState's integer fields that count (merged by adding, see `save`)
ExportFormat = Literal["md", "json", "ics"]
ItemUpdate = Literal["done", "dropped", "slipped"]
_COMMANDS: dict[str, RequestKind] = {
    "/question": "question",
    "/challenge": "challenge",
    "/balance": "balance",
    "/recap": "recap",
    "/commitments": "commitments",
    "/next": "next",
}
_UPDATES: dict[str, ItemUpdate] = {"/done": "done", "/dropped": "dropped", "/slipped": "slipped"}
NEWER_SESSION = (
    "a newer session of this pair is open: open items are marked there (reload the page, or `comentor chat` "
    "without --session, to continue in it)"
)
SLIP_HINT = "type the new date, e.g. {example} or 'next Friday'"  # example: two weeks after the session date
COMMANDS = (*_COMMANDS, "/agenda", "/done", "/slipped", "/dropped", "/end")


def cap_note(cap: int) -> str:
    return f"this session has used its {cap} model calls (COMENTOR_MAX_MODEL_CALLS); start a new session for more"


class LiveSession:
    """One meeting in progress. Every turn is stored before anything else happens to it.

    Its lifecycle: open (turns, moves, items and agenda changes are taken), then ended by `end()` (summarized; from
    then on read-only: every write raises `SessionEnded`, naming the way on: the next session). Reloading a page,
    restarting the app or `comentor chat --session` resumes an open session where it was (`Facilitator.resume`)."""

    def __init__(
        self,
        facilitator: Facilitator,
        session_id: str,
        pair: Pair,
        agenda: Agenda | None,
        state: PolicyState,
        turns: list[Turn],
        date: dt.date | None = None,
        status: str = "open",
    ) -> None:
        self.f = facilitator
        self.id = session_id
        self.pair = pair
        self.agenda = agenda
        self.state = state
        self._base = state.model_dump(mode="json")  # the state as loaded: `save` stores what changed since
        self.turns = turns
        self.date = date or facilitator.clock().date()
        self.pair_id: str = pair.id
        self.status = status

    @property
    def ended(self) -> bool:
        """Whether the session has ended (as it was loaded, or ended by this object): it is then read-only."""
        return self.status == "ended"

    def _writable(self) -> None:
        """Refuse a write to an ended session, saying what to do instead."""
        if self.ended:
            raise SessionEnded(ENDED)

    # ------------------------------------------------------------------ input
    def handle(self, line: str, *, speaker: str | None = None) -> Iterator[Event]:
        """One input line: `Name: text`, a slash command, or `@facilitator question` (by `speaker` if given)."""
        stripped = line.strip()
        if not stripped:
            yield Event(kind="notice", text="empty message ignored; type something before sending")
            return
        if stripped.startswith("/"):
            yield from self.command(stripped, by=speaker)
            return
        if speaker is None:
            label, sep, text = stripped.partition(":")
            if not sep:
                raise MessageError(
                    f"start the line with who is speaking, e.g. '{self.pair.participants[0].first_name}: …'"
                )
            speaker, stripped = label, text
        yield from self.say(speaker, stripped)

    def command(self, line: str, *, by: str | None = None) -> Iterator[Event]:
        """A slash command, as typed in any shell (`/question`, `/agenda 30`, `/done ID`, `/end`, ...). An ended
        session takes only `/end` (its summary again)."""
        command, _, rest = line.strip().partition(" ")
        name = command.lower()
        if name != "/end":
            self._writable()
        if name in _COMMANDS:
            yield from self.ask(_COMMANDS[name], rest.strip(), by=by)
        elif name == "/agenda":
            minutes = int(rest) if rest.strip().isdigit() else DEFAULT_MINUTES
            yield self.start_agenda(minutes=minutes)
        elif name in _UPDATES:
            yield self.update_item(_UPDATES[name], rest, by=by)
        elif name == "/end":
            self.propose_items()
            summary = self.end()
            yield Event(kind="summary", summary=summary, text=_ended(summary))
        else:
            yield Event(kind="notice", text=f"unknown command {command}; try {', '.join(COMMANDS)}")

    def say(self, speaker: str, text: str) -> Iterator[Event]:
        """A partner's turn: stored first, then the facilitator may make a move; the items follow the conversation."""
        self._writable()
        pid = self.pair.resolve_speaker(speaker)
        if pid is None:
            names = " or ".join(f"{p.first_name} ({p.id})" for p in self.pair.participants)
            raise MessageError(f"unknown speaker '{speaker}'; this session's partners are {names}")
        text = valid_text(text).strip()
        if not text:
            yield Event(kind="notice", text="empty message ignored; type something before sending")
            return
        limit = self.f.settings.max_message_chars
        if len(text) > limit:
            raise MessageError(
                f"the message is {len(text)} characters, over the {limit}-character limit; split it into shorter "
                "messages"
            )
        turn = self.f.store.append_turn(self.id, pid, text)
        self.turns.append(turn)
        yield Event(kind="turn", turn=turn)
        reading = self.reading
        record_assumptions(self.state, voiced_assumptions(turn, reading, self.f.patterns))
        request = None
        if re.match(r"^@facilitator\b", text, re.IGNORECASE):
            request = Request(kind="answer", text=text[len("@facilitator") :].strip(" ,:") or "help", by=pid)
        plan = decide(
            self.state, self.pair, self.turns, request=request, agenda=self.agenda, now=self.f.clock(), reading=reading
        )
        if plan is not None:
            yield from self._perform(plan)
        else:
            self.save()
        self.propose_items()

    def ask(self, kind: RequestKind, text: str = "", *, by: str | None = None) -> Iterator[Event]:
        """A move asked for by a partner (buttons, slash commands)."""
        self._writable()
        pid = self.pair.resolve_speaker(by) if by else None
        request = Request(kind=kind, text=valid_text(text), by=pid)
        plan = decide(
            self.state, self.pair, self.turns, request=request, agenda=self.agenda, now=self.f.clock(), reading=None
        )
        if plan is not None:
            yield from self._perform(plan)

    # ------------------------------------------------------------------ moves
    def _perform(self, plan: Plan) -> Iterator[Event]:
        data, allowed = self._prepare(plan)
        tokens: queue.Queue[tuple[str, object]] = queue.Queue()

        def work() -> None:
            try:
                tokens.put(("done", self.f.brain.render(data, lambda t: tokens.put(("token", t)))))
            except ModelError as e:
                tokens.put(("failed", e))
            except Exception as e:  # a bug in a brain must not lose the turn: the offline brain answers
                tokens.put(("failed", ModelError(f"{e.__class__.__name__}: {e}")))

        streamed = self.f.brain.profile.streams
        move: Move | None = None
        note: str | None = None
        worker = threading.Thread(target=work, daemon=True)
        if streamed and self.state.model_calls >= self.f.settings.max_model_calls:  # consumption cap, OWASP LLM10
            note = cap_note(self.f.settings.max_model_calls)
        else:
            self.state.model_calls += int(streamed)
            worker.start()
        while move is None and note is None:
            kind, payload = tokens.get()
            if kind == "token" and streamed:
                yield Event(kind="token", text=str(payload))
            elif kind == "done" and isinstance(payload, Move):
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
        if plan.kind == "commitments":
            move = self._with_carried(move)
        record_move(self.state, move)
        apply(self.state, plan, self._last_index(), self.f.clock())
        self.f.store.append_move(self.id, self._last_index(), move)
        self.save()
        yield Event(kind="move", move=move, text=move.text)

    def _with_carried(self, move: Move) -> Move:
        """A commitments move with the pair's items from earlier sessions after this session's (with their ids, for
        /done, /slipped and /dropped), whichever brain worded it."""
        from facilitator.carryover import carried_markdown

        carried = carried_markdown(self.carried(), self.pair)
        if not carried:
            return move
        return move.model_copy(update={"text": f"{move.text.rstrip()}\n\n{carried}"})

    @property
    def reading(self) -> Reading:
        """The conversation so far as the facilitator understands it (speech acts, topics, who teaches whom)."""
        return read_conversation(self.turns, self.pair, embedder=self.f.embedder)

    def _last_index(self) -> int:
        return self.turns[-1].index if self.turns else -1

    def _prepare(self, plan: Plan) -> tuple[BrainInput, dict[str, str]]:
        """The brain's input for `plan`, and the citations its move may carry (id -> the text it quotes)."""
        item, nxt = self.current_item(), self.next_item()
        reading = self.reading
        patterns = self.f.patterns
        pattern = None
        if plan.assumption is not None:  # a generalisation no pattern names is probed as one
            pattern = patterns.by_id(plan.assumption.pattern or GENERAL_PATTERN) or patterns.by_id(GENERAL_PATTERN)
        guidance, covered = self._guidance(plan, item, pattern.name if pattern else None)
        candidates = []
        if plan.kind in ("question", "nudge"):
            only = plan.addressee if plan.kind == "nudge" and plan.addressee in self.pair.ids else None
            candidates = choose_questions(
                self.f.bank,
                self.pair,
                self.turns,
                item=item,
                asked=self.state.asked,
                only_for=only,
                reading=reading,
                embedder=self.f.embedder,
            )
        position = (
            f"item {self.state.agenda_item + 1} of {len(self.agenda.items)}: {item.title}"
            if item and self.agenda
            else None
        )
        bal = balance(self.turns, self.pair.ids, self.state.challenges)
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
            commitments=self.items_so_far() if plan.kind in ("recap", "commitments") else [],
            state_text=state_text(self.pair, bal, self.f.store.open_commitments(self.pair_id), position),
            reading=reading,
            embedder=self.f.embedder,
        )
        allowed = {g.id: g.text for g in guidance} | {c.entry.id: c.text for c in candidates}
        if pattern is not None:
            allowed[pattern.id] = pattern.description
        if nxt is not None:
            allowed |= {c.id: c.quote or "" for c in nxt.citations}
        return data, allowed

    def _guidance(self, plan: Plan, item: AgendaItem | None, pattern_name: str | None) -> tuple[list[Any], bool]:
        """The guidance passages retrieved for a move, and whether they cover what was asked."""
        knowledge = self.f.knowledge
        if knowledge is None or plan.kind not in ("question", "challenge", "nudge", "answer"):
            return [], True
        if plan.kind == "answer":  # the question alone: an agenda item's title would pull it towards that item
            query = plan.query.strip()
        else:
            query = retrieval_query(plan.kind, self.pair, self.turns, item, pattern_name or plan.query)
        if not query or not knowledge.count():
            return [], False
        scored = knowledge.search_scored(query, GUIDANCE_K)
        covered = bool(scored) and max(s for _, s in scored) >= COVERED_SIMILARITY
        return [hit for hit, _ in scored], covered

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
        """The items said so far (what `extract_commitments` finds in the turns, read turn by turn as they come)."""
        from facilitator.export import next_meeting

        following = next_meeting(self.date, self.pair.cadence)
        live = self.f.live_extraction(self.id)
        return live.items(self.turns, self.pair.participants, self.date, following, self.f.embedder)

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

    def balance(self) -> Balance:
        return balance(self.turns, self.pair.ids, self.state.challenges)

    def moves(self) -> list[MoveAt]:
        """The facilitator's stored moves, each with the turn index it followed (-1: before any turn)."""
        return [MoveAt(after=after, move=move) for after, move in self.f.store.moves(self.id)]

    def view(self) -> SessionView:
        """The session as a shell shows it, read once: turns, moves (citations quoted), agenda, balance, items,
        summary with its Markdown recap, and the pair's history."""
        revision = self.f.store.revision(self.id)  # first: a change made while the view is read shows next time
        info = self.f.store.get_session(self.id)
        items = self.items()
        summary = None
        if info.summary is not None:
            summary = info.summary.model_copy(update={"commitments": [v.item for v in items]})
        return SessionView(
            pair=self.pair,
            session_id=self.id,
            date=self.date,
            status=info.status,
            turns=list(self.turns),
            moves=[MoveAt(after=m.after, move=self._quoted(m.move)) for m in self.moves()],
            agenda=self.agenda,
            agenda_status=self.agenda_status(),
            balance=self.balance(),
            items=items,
            summary=summary,
            recap_markdown=self.export("md", summary).decode() if summary is not None else None,
            history=self.f.history_of(self.pair_id),
            carried=self.carried(),
            revision=revision.tag,
            successor=revision.successor,
        )

    def conversation(self) -> Conversation:
        """The turns and the quoted moves only (one read of the moves), e.g. before a reply streams."""
        moves = [MoveAt(after=m.after, move=self._quoted(m.move)) for m in self.moves()]
        return Conversation(pair=self.pair, turns=list(self.turns), moves=moves)

    def agenda_snapshot(self) -> AgendaSnapshot:
        """The agenda and where the session is on it (no store read): what the agenda clock shows."""
        return AgendaSnapshot(pair=self.pair, agenda=self.agenda, agenda_status=self.agenda_status())

    def _quoted(self, move: Move) -> Move:
        """`move` with every citation's quote filled (moves stored before quotes were kept are looked up once)."""
        if all(c.quote for c in move.citations):
            return move
        cited = [c if c.quote else c.model_copy(update={"quote": self._passage(c)}) for c in move.citations]
        return move.model_copy(update={"citations": cited})

    def _passage(self, citation: Citation) -> str | None:
        if citation.source == QUESTION_BANK_SOURCE:
            entry = self.f.bank.by_id(citation.id)
            return entry.text if entry else None
        pattern = self.f.patterns.by_id(citation.id)
        if pattern is not None:
            return pattern.description
        hits = self.f.knowledge.get([citation.id]) if self.f.knowledge is not None else []
        return hits[0].text[:QUOTE_CHARS] if hits else None

    # ------------------------------------------------------------------ agenda
    def plan_agenda(self, minutes: int = DEFAULT_MINUTES) -> AgendaPlan:
        """Today's agenda from both partners and the pair's open items (worded by the model when one runs).

        Not started yet: the pair may edit it first and then `start_agenda(agenda, rows)` (refused once the session
        has ended; drafting stores nothing)."""
        return self.f.draft_agenda(
            self.pair, open_items=self.f.store.open_commitments(self.pair_id), minutes=minutes, date=self.date
        )

    def use_agenda(self, agenda: Agenda) -> Event:
        """Store the agenda for this session and start its clock on the first item."""
        from facilitator.agenda import agenda_markdown

        self._writable()
        self.agenda = agenda
        self.state.agenda_item = 0
        self.state.item_started_at = self.f.clock()
        self.f.store.save_agenda(self.id, agenda)
        self.save()
        move = Move(kind="notice", text=agenda_markdown(agenda, self.pair), addressee="both", reason="agenda started")
        self.f.store.append_move(self.id, self._last_index(), move)
        return Event(kind="move", move=move, text=move.text)

    def start_agenda(
        self, agenda: Agenda | None = None, rows: list[list[Any]] | None = None, *, minutes: int = DEFAULT_MINUTES
    ) -> Event:
        """Start an agenda: a drafted one as the pair edited it (`rows` of title, minutes, lead), or, without one,
        today's agenda built now (the `/agenda` command)."""
        from facilitator.agenda import edit_agenda

        if agenda is None:
            agenda = self.plan_agenda(minutes).agenda
        elif rows is not None:
            agenda = edit_agenda(agenda, self.pair, rows)
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

    # ------------------------------------------------------- accountability
    def propose_items(self) -> list[ItemView]:
        """Items proposed so far, kept in the store so either partner can confirm, edit or delete them.

        New items found in the conversation are added; an item nobody has touched follows the conversation (a
        revised date replaces the earlier one; a retracted item goes); what a partner confirmed, edited or deleted is
        never overridden. An ended session's items are as its summary left them."""
        if self.ended:
            return self.items()
        stored = self.f.store.session_items(self.id)
        touched = self.f.store.touched_items(self.id)
        untouched = {s.id for s in stored if s.id and not s.deleted and not s.confirmed_by and s.id not in touched}
        seen: set[str] = set()
        new: list[Commitment] = []
        for item in self.items_so_far():
            match = next((s for s in stored if s.id not in seen and same_item(item, s.item)), None)
            if match is None:
                new.append(item)
                continue
            seen.add(match.id)
            if match.id in untouched and item.due != match.item.due and item.due is not None:
                self.f.store.update_commitment(match.id, session_id=self.id, due=item.due)
        for cid in untouched - seen:
            self.f.store.update_commitment(cid, session_id=self.id, delete=True)
        if new:
            self.f.store.save_commitments(self.id, new)
        return self.items()

    proposed_items = propose_items  # the name shells and tests used before

    def items(self) -> list[ItemView]:
        """This session's items as stored (deleted ones left out), with confirmations and quoted lines."""
        by_index = {t.index: t for t in self.turns}
        return [
            ItemView(
                item=s.item,
                confirmed_by=s.confirmed_by,
                quotes=[self._quote(by_index[i]) for i in s.item.evidence if i in by_index],
            )
            for s in self._live_items()
        ]

    def _quote(self, turn: Turn) -> str:
        return f"{self._name(turn.speaker)}: {turn.text}"

    def _live_items(self) -> list[StoredItem]:
        return [s for s in self.f.store.session_items(self.id) if not s.deleted]

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
        self._writable()
        pid = self.pair.resolve_speaker(by) if by else None
        if pid is None:
            raise InputError("choose who you are (the speaker) before confirming or editing an item")
        if item_id not in {s.id for s in self._live_items()}:
            raise InputError("choose an item of this session first; the list shows them")
        edit = action is not None or due is not None or owner is not None
        if edit and not confirm and not delete and not ((action or "").strip() or (due or "").strip() or owner):
            raise InputError("type a new action or due date, or choose a new owner, then save")
        self.f.store.update_commitment(
            item_id,
            by=pid,
            session_id=self.id,
            confirm=confirm,
            delete=delete,
            action=self._new_action(action),
            due=self._new_due(due),
            owner=self._new_owner(owner),
        )
        verb = "deleted" if delete else "confirmed" if confirm else "updated"
        return Event(kind="notice", text=f"{self._name(pid)} {verb} the item")

    def _new_owner(self, owner: str | None) -> str | None:
        if not owner:
            return None
        pid = self.pair.resolve_speaker(owner)
        if pid is None:
            names = ", ".join(self._name(i) for i in self.pair.ids)
            raise InputError(f"the owner must be one of the partners ({names})")
        return pid

    def _new_due(self, due: str | None) -> dt.date | None:
        from facilitator.dates import resolve_due

        if not due or not due.strip():
            return None
        resolved = resolve_due(due, self.date)
        if resolved is None:
            raise InputError(f"cannot read the date '{due}'; write e.g. 2026-12-01 or 'next Friday'")
        return resolved

    @staticmethod
    def _new_action(action: str | None) -> str | None:
        text = valid_text(action).strip() if action else None
        if text is not None and len(text) > 500:
            raise InputError("the action is too long; keep it under 500 characters")
        return text or None

    # ------------------------------------------------------------ continuity
    def carried(self) -> list[CarriedItem]:
        """The pair's items from earlier sessions: the open ones (to mark done, slipped or dropped) and those closed
        in this session, each with its history (two reads of the store)."""
        from facilitator.carryover import carried_items

        store = self.f.store
        sessions = store.list_sessions(self.pair_id)
        return carried_items(store.pair_items(self.pair_id), store.pair_item_events(self.pair_id), sessions, self.id)

    def mark_item(self, item_id: str, action: ItemUpdate, due: str | None = None, *, by: str | None = None) -> Event:
        """Mark one of the pair's open items done, slipped (to the new date `due`, as typed) or dropped.

        The pair's items belong to the pair, not to one session: they are marked from the pair's newest open session
        only (an ended session is read-only; an older open one sends the pair on to the newest). History is kept."""
        self._writable()
        if self.f.store.successor(self.id) is not None:
            raise InputError(NEWER_SESSION)
        item = next((c for c in self.f.store.commitments(pair_id=self.pair_id) if c.id == item_id.strip()), None)
        if item is None:
            raise InputError(f"no commitment '{clip(item_id, 40)}' for this pair; choose one of the listed items")
        if item.status not in ("open", "slipped"):
            raise InputError(f"commitment {item.id} is already {item.status}; only open items can be marked")
        new_due = self._slip_date(due) if action == "slipped" else None
        pid = self.pair.resolve_speaker(by) if by else None
        try:
            self.f.store.update_commitment(item.id or "", by=pid, session_id=self.id, status=action, due=new_due)
        except NotFoundError as e:
            raise InputError(str(e)) from None
        when = f" (new date {new_due.isoformat()})" if new_due else ""
        return Event(kind="notice", text=f"commitment {item.id} marked {action}{when}")

    def _slip_date(self, due: str | None) -> dt.date:
        from facilitator.dates import resolve_due

        text = (due or "").strip()
        resolved = resolve_due(text, self.date) if text else None
        if resolved is None:
            said = f"cannot read the date '{clip(text, 40)}'; " if text else "a slipped item needs its new date; "
            example = (self.date + dt.timedelta(days=14)).isoformat()
            raise InputError(said + SLIP_HINT.format(example=example))
        return resolved

    def update_item(self, action: ItemUpdate, rest: str, *, by: str | None = None) -> Event:
        """`/done ID`, `/dropped ID`, `/slipped ID DATE`: `mark_item` as a command; a refusal is said as a notice."""
        self._writable()
        parts = rest.split(maxsplit=1)
        if not parts:
            return Event(kind="notice", text=f"usage: /{action} ID" + (" NEW-DATE" if action == "slipped" else ""))
        try:
            return self.mark_item(parts[0], action, parts[1] if len(parts) > 1 else None, by=by)
        except SessionEnded:
            raise
        except InputError as e:
            usage = "; as a command: /slipped ID next Friday" if action == "slipped" else "; /commitments lists them"
            return Event(kind="notice", text=str(e) + usage)

    def end(self) -> Summary:
        """Close the session: summarize, store the accountability items, and return the summary. From then on the
        session is read-only; ending it again summarizes the same turns again."""
        from facilitator.export import next_meeting
        from facilitator.summary import summarize_turns

        capped = self.f.brain.profile.streams and self.state.model_calls >= self.f.settings.max_model_calls
        summary = summarize_turns(
            self.turns,
            self.pair.participants,
            self.date,
            self.f.patterns,
            self.state.challenges,
            warnings=[f"{cap_note(self.f.settings.max_model_calls)}; the offline extractor was used"] * capped,
            brain=None if capped else self.f.brain,
            next_meeting=next_meeting(self.date, self.pair.cadence),
            embedder=self.f.embedder,
        )
        summary = summary.model_copy(update={"next_meeting": next_meeting(self.date, self.pair.cadence)})
        stored = self.f.store.session_items(self.id)
        new = [c for c in summary.commitments if not any(same_item(c, s.item) for s in stored)]
        if new:
            self.f.store.save_commitments(self.id, new)
        summary = summary.model_copy(update={"commitments": [s.item for s in self._live_items()]})
        self.f.store.end_session(self.id, summary)
        self.status = "ended"
        return summary

    def summary(self) -> Summary | None:
        """The stored summary (with the items as they are now), or None before the session was summarized."""
        info = self.f.store.get_session(self.id)
        if info.summary is None:
            return None
        return info.summary.model_copy(update={"commitments": [s.item for s in self._live_items()]})

    def export(self, fmt: ExportFormat, summary: Summary | None = None) -> bytes:
        """The recap as Markdown, JSON or an .ics calendar; the session must have been summarized first. Items are
        in conversation order, as every shell shows them. Pass `summary` (from `summary()`) to export several formats
        without reading it again."""
        from facilitator.export import export_summary

        summary = summary or self.summary()
        if summary is None:
            raise InputError("nothing to export yet: summarize the session first (the Summarize button or /end)")
        return export_summary(summary, self.pair.participants, self.turns, fmt, uid_prefix=self.id)


def _ended(summary: Summary) -> str:
    n = len(summary.commitments)
    return f"Session ended: {n} accountability item{'s' if n != 1 else ''}."


def voiced_assumptions(turn: Turn, reading: Reading, patterns: ChallengePatterns) -> list[Assumption]:
    """The assumptions voiced in `turn`: sentences the understanding layer reads as assumptions, and those a
    challenge pattern matches; each with the first pattern it matches (None: a generalisation no pattern names).
    A request to the facilitator voices none."""
    read = next((t for t in reversed(reading.turns) if t.index == turn.index), None)
    if read is None or read.to_facilitator:
        return []
    found = {a.text: a for a in detect_assumptions(turn, patterns)}
    for sentence in read.sentences:
        heard = sentence.act == "assumption" and sentence.confidence >= ASSUMPTION_CONFIDENCE
        if heard and not any(sentence.text in t or t in sentence.text for t in found):
            pattern = next((p.id for p in patterns.patterns if p.match(sentence.text)), None)
            found[sentence.text] = Assumption(
                turn=turn.index, speaker=turn.speaker, text=sentence.text, pattern=pattern
            )
    return sorted(found.values(), key=lambda a: turn.text.find(a.text))


def valid_text(text: str) -> str:
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


def same_item(a: Commitment, b: Commitment) -> bool:
    """Two proposals of the same item: one owner, and a shared evidence line or nearly the same action."""
    from rapidfuzz import fuzz

    if a.owner != b.owner:
        return False
    return bool(set(a.evidence) & set(b.evidence)) or fuzz.token_set_ratio(a.action, b.action) >= 85
