"""The engine: the one application API every shell (web app, CLI, evals) drives.

`Facilitator` holds the injected parts (store, knowledge, brain, bank, patterns, settings, clock, signer) and owns the
use cases that are not one session's: pairs and their access, sessions, history, agendas for a pair file,
summaries of a transcript, exports, and the guidance indexed on first use. A session's own use cases (turns,
commands, moves, agenda, items, summary) are `facilitator.session.LiveSession`'s. Every call returns typed values
(`facilitator.snapshots`); shells render them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facilitator.access import EXPIRED, WRONG, AttemptLimits, Signer, signing_key
from facilitator.brains.base import Brain, BrainProfile
from facilitator.brains.offline import OfflineBrain
from facilitator.exceptions import AccessError, InputError, KnowledgeError, NotFoundError, StoreError
from facilitator.knowledge.bank import ChallengePatterns, QuestionBank
from facilitator.knowledge.embeddings import Embedder
from facilitator.knowledge.index import KnowledgeBase
from facilitator.models import Agenda, Commitment, Pair, Summary, Transcript
from facilitator.pairs import PairDraft
from facilitator.session import GUIDANCE_K, ExportFormat, LiveSession
from facilitator.settings import Settings
from facilitator.snapshots import AgendaPlan, AgendaStatus, Event, History, ItemView, Outcome
from facilitator.store import Store

__all__ = [
    "DEMO_PAIR_ID",
    "GUIDANCE_K",
    "AgendaStatus",
    "Event",
    "Facilitator",
    "History",
    "ItemView",
    "LiveSession",
    "Opened",
    "choose_brain",
]

Clock = Callable[[], dt.datetime]
_PAIR_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,139}$")
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True)
class Opened:
    """A pair opened with its code (or a new session of it): the session and the grant the page sends back."""

    live: LiveSession
    token: str


DEMO_PAIR_ID = "ana-ben"


def choose_brain(settings: Settings) -> Brain:
    """The brain the settings ask for: the LLM facilitator when a model is configured, else the offline one."""
    if settings.use_llm:
        from facilitator.brains.llm import LLMBrain

        return LLMBrain.from_settings(settings)
    return OfflineBrain()


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
    def from_settings(
        cls, settings: Settings | None = None, *, brain: Brain | None = None, guidance: bool = True
    ) -> Facilitator:
        """The facilitator the settings describe. `guidance=False` leaves the knowledge base out (and Chroma and the
        embedder unloaded): for use cases that cite nothing, such as summarizing a transcript."""
        settings = settings or Settings()
        return cls(
            store=Store(settings.resolved_database_url),
            knowledge=KnowledgeBase.from_settings(settings) if guidance else None,
            brain=brain or choose_brain(settings),
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
    def profile(self) -> BrainProfile:
        """Which brain runs (offline or a model, and on which server), for banners."""
        return self.brain.profile

    @property
    def embedder(self) -> Embedder | None:
        """The guidance's embedder, which the understanding layer reads the conversation with (None: no guidance,
        and the speech acts come from cues alone)."""
        return self.knowledge.embedder if self.knowledge is not None else None

    def asked_in_pair(self, pair_id: str) -> list[str]:
        """The question-bank ids proposed in any of the pair's sessions: none is proposed twice to a pair."""
        asked: list[str] = []
        for info in self.store.list_sessions(pair_id):
            for qid in (info.state or {}).get("asked", []):
                if qid not in asked:
                    asked.append(qid)
        return asked

    @property
    def description(self) -> str:
        """Which facilitator runs, for banners: 'offline' or the model's name."""
        profile = self.profile
        return "offline facilitator" if profile.kind == "offline" else f"LLM facilitator ({profile.model})"

    def ensure_guidance(self) -> list[str]:
        """Index the bundled program guidance when the knowledge base is empty (first use); warnings, if it can't."""
        if self.knowledge is None:
            return []
        try:
            if self.knowledge.count() == 0:
                self.knowledge.add_bundled()
        except KnowledgeError as e:
            return [f"guidance citations are left out: {e}"]
        return []

    # ---------------------------------------------------------------- sessions
    def start(self, pair: Pair, *, date: dt.date | None = None, agenda: Agenda | None = None) -> LiveSession:
        from facilitator.policy import PolicyState

        self.store.save_pair(pair)
        info = self.store.create_session(pair.id, date or self.clock().date(), agenda)
        asked = self.asked_in_pair(pair.id)  # no bank question twice to a pair, across its sessions
        session = LiveSession(self, info.id, pair, agenda, PolicyState(asked=asked), [], info.date)
        if agenda is not None:
            session.state.item_started_at = self.clock()
            session.save()
        return session

    def resume(self, session_id: str) -> LiveSession:
        """A stored session, to continue it (`comentor chat --session`, a page's grant)."""
        from facilitator.policy import PolicyState

        info = self.store.get_session(session_id)
        pair = self.store.get_pair(info.pair_id)
        state = PolicyState.model_validate(info.state) if info.state else PolicyState()
        state.asked = self.asked_in_pair(pair.id)  # this session's and the pair's earlier ones
        return LiveSession(self, info.id, pair, info.agenda, state, self.store.turns(session_id), info.date)

    def history_of(self, pair_id: str) -> History:
        """A pair's sessions and open items; the caller has checked access (a grant or the code)."""
        return History(sessions=self.store.list_sessions(pair_id), open_items=self.store.open_commitments(pair_id))

    def pairs(self) -> list[Pair]:
        return self.store.list_pairs()

    def pair(self, pair_id: str) -> Pair:
        return self.store.get_pair(pair_id.strip().lower())

    def export_session(self, session_id: str, fmt: ExportFormat) -> bytes:
        """An ended session's recap, summary or calendar (the same bytes the web app's download gives)."""
        live = self.resume(session_id)
        if live.summary() is None:
            raise InputError(f"session {session_id} has not ended yet; end it with /end (or Summarize) first")
        return live.export(fmt)

    # ------------------------------------------------------------------- agenda
    def draft_agenda(
        self, pair: Pair, *, open_items: list[Commitment], minutes: int, date: dt.date | None = None
    ) -> AgendaPlan:
        """An agenda from both partners and their open items, worded by the brain when it can (not started)."""
        from facilitator.agenda import build_agenda, check_minutes, phrase_agenda

        check_minutes(minutes)
        agenda = build_agenda(
            pair,
            date=date or self.clock().date(),
            minutes=minutes,
            open_items=open_items,
            bank=self.bank,
            knowledge=self.knowledge,
        )
        phrased = phrase_agenda(agenda, pair, self.brain, open_items=open_items, knowledge=self.knowledge)
        return AgendaPlan(agenda=phrased.agenda, notes=[phrased.note] if phrased.note else [])

    def agenda_for(
        self, pair: Pair, *, previous: Path | None = None, minutes: int = 45, date: dt.date | None = None
    ) -> AgendaPlan:
        """`comentor agenda PAIRFILE`: the open items from last session's summary file, or else the pair's open
        items in the store; the guidance indexed on first use."""
        from facilitator.agenda import check_minutes, previous_items

        check_minutes(minutes)
        notes = self.ensure_guidance()
        if previous is not None:
            open_items = previous_items(previous)
        else:
            try:
                open_items = self.store.open_commitments(pair.id) if self.store.has_pair(pair.id) else []
            except StoreError as e:
                notes.append(f"open items from the store are left out: {e}")
                open_items = []
        plan = self.draft_agenda(pair, open_items=open_items, minutes=minutes, date=date)
        return plan.model_copy(update={"notes": [*notes, *plan.notes]})

    # ----------------------------------------------------------------- summaries
    def summarize(self, transcript: Transcript, *, date: dt.date | None = None) -> Summary:
        """`comentor summarize`: items, decisions, assumptions and balance of a finished conversation."""
        from facilitator.summary import summarize_transcript

        brain = self.brain if self.profile.kind != "offline" else None
        return summarize_transcript(transcript, self.patterns, date=date, today=self.clock().date(), brain=brain)

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
            if not self.store.has_pair(candidate.id):
                return candidate, self.store.create_pair(candidate)
        raise InputError("could not find a free pair id; try again")

    def create(self, draft: PairDraft, *, client: str) -> Outcome:
        """The web form's new pair: built like a pair file, given a random id suffix, opened, its code shown once."""
        pair, code = self.register_pair(draft.to_pair())
        outcome = self.open(pair.id, code, client=client)
        note = f"Pair created with the id {pair.id}; your access code is {code}."
        return outcome.model_copy(update={"code": code, "notice": note})

    def open(self, pair_id: str, access_code: str, *, client: str, session_id: str | None = None) -> Outcome:
        """Open a pair with its code: today's session (or `session_id`), its view and a grant for the page."""
        opened = self.grant(pair_id, access_code, client=client, session_id=session_id)
        return self._outcome(opened, f"Opened {_names(opened.live.pair)}.")

    def reopen(self, token: str | None) -> Outcome:
        """The session a remembered grant names (a page reload), with a fresh grant."""
        live = self.granted(token)
        return self._outcome(Opened(live=live, token=self.regrant(live)), f"{_names(live.pair)}: today's session.")

    def new_session(self, live: LiveSession) -> Outcome:
        """Start a new session of an open (already authorised) pair, granted."""
        note = "New session started; open items from before are on its agenda."
        return self._outcome(self.new_session_for(live), note)

    def _outcome(self, opened: Opened, notice: str) -> Outcome:
        return Outcome(view=opened.live.view(), notice=notice, token=opened.token)

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
        grant = self.signer.read(token if isinstance(token, str) else None, self.clock())
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
        return self._session_of(self.open_pair(pair_id, access_code).id, session_id)

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

    def history(self, pair_id: str, access_code: str) -> History:
        return self.history_of(self.open_pair(pair_id, access_code).id)

    def rotate_code(self, pair_id: str) -> str:
        """A new access code for a pair (shown once); the old code and every grant made with it stop working."""
        return self.store.rotate_code(pair_id.strip().lower())

    def ensure_demo_pair(self, pair: Pair) -> str | None:
        """On first start (no pairs stored), save the demo pair and return its access code; otherwise None."""
        if self.store.list_pairs():
            return None
        return self.store.create_pair(pair)


def _names(pair: Pair) -> str:
    return " & ".join(p.first_name for p in pair.participants)
