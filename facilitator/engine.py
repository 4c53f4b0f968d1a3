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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from facilitator.access import (
    BAD_LINK,
    COORDINATOR,
    COORDINATOR_EMPTY,
    COORDINATOR_UNSET,
    COORDINATOR_WRONG,
    EMPTY_CODE,
    EXPIRED,
    INCOMPLETE_LINK,
    OTHER_SESSION,
    WRONG,
    AttemptLimits,
    Grant,
    Signer,
    signing_key,
)
from facilitator.attempts import Guarded, client_key, guarded
from facilitator.brains.base import Brain, BrainProfile
from facilitator.brains.offline import OfflineBrain
from facilitator.exceptions import (
    AccessError,
    ConfigError,
    FeedbackError,
    InputError,
    KnowledgeError,
    NotFoundError,
    PairIdTaken,
    StoreError,
)
from facilitator.feedback import TOO_EARLY, Feedback
from facilitator.knowledge.bank import ChallengePatterns, QuestionBank
from facilitator.knowledge.embeddings import Embedder
from facilitator.knowledge.index import KnowledgeBase
from facilitator.lazystore import LazyStore
from facilitator.models import Agenda, Commitment, Pair, Summary, Transcript
from facilitator.pairs import PAIR_ID, PAIR_ID_RULE, PairDraft, is_suffix, new_suffix, suggested_pair_id
from facilitator.program import ProgramReport
from facilitator.records import ENDED, SessionInfo, SessionRevision
from facilitator.session import GUIDANCE_K, ExportFormat, LiveSession
from facilitator.settings import Settings
from facilitator.snapshots import (
    AgendaPlan,
    AgendaStatus,
    Enrolment,
    Event,
    History,
    ItemView,
    Outcome,
    PairListing,
    PairRecord,
    SessionBrief,
)

if TYPE_CHECKING:
    from facilitator.commitments.live import LiveExtraction
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
_SESSION_ID = re.compile(r"^[0-9a-f-]{36}$")
NEW_PAIR = "(new pair)"  # the pair id a taken-id refusal is counted under: it counts against the client only


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
    _warmed: bool = field(default=False, init=False, repr=False)
    _live_items: Any = field(default=None, init=False, repr=False)  # LiveExtractions, made on first use

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, brain: Brain | None = None, guidance: bool = True
    ) -> Facilitator:
        """The facilitator the settings describe. `guidance=False` leaves the knowledge base out (and Chroma and the
        embedder unloaded): for use cases that cite nothing, such as summarizing a transcript."""
        settings = settings or Settings()
        return cls(
            store=cast("Store", LazyStore(settings.resolved_database_url)),  # opened by the first use case needing it
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

    def warm(self) -> None:
        """Load now, once, what the first turns would otherwise pay for: the question bank's vectors, the keyword
        index, the speech-act weights and the sentence and topic readers. Called when a session is started or resumed;
        never at import."""
        if self._warmed:
            return
        from facilitator.moves import warm_questions
        from facilitator.understanding.acts import load_model
        from facilitator.understanding.sentences import split_sentences
        from facilitator.understanding.topics import extract_topics

        load_model()
        self.patterns.warm()
        split_sentences("Warm up the reader. It reads sentences.")
        extract_topics("warming up the topic reader of the conversation")
        warm_index = getattr(self.knowledge, "warm", None)  # test doubles of the knowledge base may lack it
        try:
            if callable(warm_index):
                warm_index()
            warm_questions(self.bank, self.embedder)
        except KnowledgeError:  # an unreachable index: the first search reports it
            return
        self._warmed = True

    def live_extraction(self, session_id: str) -> LiveExtraction:
        """The running item extraction of a session under way (kept between its turns; see
        `facilitator.commitments.live`)."""
        from facilitator.commitments.live import LiveExtractions

        if self._live_items is None:
            self._live_items = LiveExtractions()
        live: LiveExtraction = self._live_items.of(session_id)
        return live

    # ---------------------------------------------------------------- sessions
    def start(self, pair: Pair, *, date: dt.date | None = None, agenda: Agenda | None = None) -> LiveSession:
        from facilitator.policy import PolicyState

        self.store.save_pair(pair)
        info = self.store.create_session(pair.id, date or self.clock().date(), agenda)
        asked = self.asked_in_pair(pair.id)  # no bank question twice to a pair, across its sessions
        session = LiveSession(self, info.id, pair, agenda, PolicyState(asked=asked), [], info.date)
        self.warm()
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
        self.warm()
        turns = self.store.turns(session_id)
        return LiveSession(self, info.id, pair, info.agenda, state, turns, info.date, status=info.status)

    def history_of(self, pair_id: str) -> History:
        """A pair's sessions and open items; the caller has checked access (a grant or the code)."""
        return History(sessions=self.store.list_sessions(pair_id), open_items=self.store.open_commitments(pair_id))

    def pairs(self) -> list[Pair]:
        return self.store.list_pairs()

    def pair(self, pair_id: str) -> Pair:
        return self.store.get_pair(pair_id.strip().lower())

    def pair_listings(self) -> list[PairListing]:
        """`comentor pairs list`: every stored pair, oldest first, with its sessions and last meeting (no codes)."""
        activity = self.store.pair_activity()
        return [
            PairListing(
                id=pair.id,
                names=[p.name for p in pair.participants],
                sessions=activity.get(pair.id, (0, None))[0],
                last_meeting=activity.get(pair.id, (0, None))[1],
            )
            for pair in self.store.list_pairs()
        ]

    def pair_record(self, pair_id: str) -> PairRecord:
        """`comentor pairs show ID`: the pair, its sessions in a few figures and its open items (no code)."""
        pair = self.pair(pair_id)
        history = self.history_of(pair.id)
        turns = self.store.turn_counts(pair.id)
        sessions = [
            SessionBrief(
                id=info.id,
                date=info.date,
                status=info.status,
                turns=turns.get(info.id, 0),
                items=len(info.summary.commitments) if info.summary else 0,
            )
            for info in history.sessions
        ]
        met = [s.date for s in sessions if s.turns]
        last = max(met, default=None)
        return PairRecord(pair=pair, sessions=sessions, open_items=history.open_items, last_meeting=last)

    def enrol(self, pair: Pair) -> Enrolment:
        """A pair from a pair file (`comentor chat PAIRFILE`): saved, or its stored details updated from the file.
        A new pair gets an access code, returned here only (it is stored hashed), so that it can also be opened in
        the web app; a pair that existed keeps its code (`rotate_code` issues a new one)."""
        if not PAIR_ID.match(pair.id):
            raise InputError(f"the pair id {pair.id[:40]!r} is not one: use {PAIR_ID_RULE} (e.g. 'ana-ben')")
        return Enrolment(pair=pair, code=self.store.save_pair(pair))

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
        day = date or self.clock().date()
        feedback = self._last_feedback(pair, day)
        agenda = build_agenda(
            pair,
            date=day,
            minutes=minutes,
            open_items=open_items,
            bank=self.bank,
            knowledge=self.knowledge,
            previous=self._earlier_agendas(pair, day),
            feedback=feedback,
        )
        phrased = phrase_agenda(agenda, pair, self.brain, open_items=open_items, knowledge=self.knowledge)
        return AgendaPlan(
            agenda=_with_feedback(phrased.agenda, pair, feedback), notes=[phrased.note] if phrased.note else []
        )

    def _last_feedback(self, pair: Pair, day: dt.date) -> list[Feedback]:
        """The members' feedback on the pair's latest earlier session that has any (none: an empty list)."""
        try:
            if not self.store.has_pair(pair.id):
                return []
            earlier = {s.id for s in self.store.list_sessions(pair.id) if s.status == "ended" or s.date < day}
            stored = [f for f in self.store.feedback(pair_id=pair.id) if f.session_id in earlier]
        except StoreError:
            return []
        latest = stored[-1].session_id if stored else None
        return [f for f in stored if f.session_id == latest]

    def _earlier_agendas(self, pair: Pair, day: dt.date) -> list[Agenda]:
        """The pair's agendas of earlier sessions, oldest first (their questions are not asked again next time); the
        session being planned is left out. A pair not in the store, or a store that cannot be read: none."""
        try:
            if not self.store.has_pair(pair.id):
                return []
            sessions = self.store.list_sessions(pair.id)
        except StoreError:
            return []
        return [s.agenda for s in sessions if s.agenda is not None and (s.status == "ended" or s.date < day)]

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

    # ----------------------------------------------------------------- feedback
    def record_feedback(
        self, session_id: str, member: str, *, worked: object, change: object, balance: object
    ) -> Feedback:
        """One member's end-of-session check-in: what worked, what to change and how balanced it felt (1-5),
        validated (FeedbackError naming the fix) and stored per member (answering again replaces it). Shown to the
        pair in the next session's check-in; a coordinator sees only the score."""
        from facilitator.feedback import parse_answers, unknown_member

        answers = parse_answers(worked, change, balance)
        info = self.store.get_session(session_id)
        pair = self.store.get_pair(info.pair_id)
        pid = pair.resolve_speaker(member) if isinstance(member, str) else None
        if pid is None:
            raise unknown_member(str(member), [p.first_name for p in pair.participants])
        return self.store.save_feedback(self._feedback_session(info), pid, answers)

    def _feedback_session(self, info: SessionInfo) -> str:
        """The session feedback is about: this one once ended; while it is open and nobody has spoken in it yet (the
        next session, started after Summarize), the pair's latest ended session before it. A session under way, or
        none ended yet: FeedbackError saying to summarize first (never written onto another session)."""
        if info.status == "ended":
            return info.id
        if self.store.turn_counts(info.pair_id).get(info.id):  # under way: its feedback comes once it has ended
            raise FeedbackError(TOO_EARLY)
        sessions = self.store.list_sessions(info.pair_id)
        before = sessions[: next(i for i, s in enumerate(sessions) if s.id == info.id)]
        ended = [s for s in before if s.status == "ended"]
        if not ended:
            raise FeedbackError(TOO_EARLY)
        return ended[-1].id

    def feedback_of(self, session_id: str) -> list[Feedback]:
        """The feedback stored on one session, per member; the caller has checked access."""
        return self.store.feedback(session_id=session_id)

    # ------------------------------------------------------------------ program
    def program_report(self) -> ProgramReport:
        """`comentor program report`: every pair's progress in counts and scores (never what anyone said)."""
        from facilitator.program import build_report

        return build_report(self.store, self.clock().date())

    def coordinator_report(self, code: object, *, client: str) -> ProgramReport:
        """The program report for the coordinator page, if `code` is the coordinator code (COMENTOR_COORDINATOR_CODE,
        a code or its hash), within the attempt limits. No code set: ConfigError saying how to set one. A pair's
        code never opens it (it is compared only with the coordinator code)."""
        self.check_coordinator(code, client=client)
        return self.program_report()

    def check_coordinator(self, code: object, *, client: str) -> None:
        """Whether `code` is the coordinator code, within the attempt limits: counted per visitor and apart from
        pair codes (a pair code mistyped at the same desk locks nothing here), and never locked for everyone (the
        code is long or random, see `coordinator_code_problem`, so guessing from many machines is hopeless)."""
        from facilitator.access import code_matches

        secret = self.settings.coordinator_code
        if secret is None:
            raise ConfigError(COORDINATOR_UNSET)
        given = code.strip() if isinstance(code, str) else ""
        if not given:
            raise AccessError(COORDINATOR_EMPTY)
        stored = secret.get_secret_value().strip()
        key = Guarded(
            target=COORDINATOR,
            client=client_key(client),
            per_target=False,
            only_this_target=True,
            locked=self.limits.coordinator_locked(),
        )
        check = lambda: True if code_matches(stored, given) else None  # noqa: E731
        guarded(self.store, self.limits, key, self.clock(), check, lambda: AccessError(COORDINATOR_WRONG))

    # ----------------------------------------------------------------- summaries
    def summarize(self, transcript: Transcript, *, date: dt.date | None = None) -> Summary:
        """`comentor summarize`: items, decisions, assumptions and balance of a finished conversation."""
        from facilitator.summary import summarize_transcript

        brain = self.brain if self.profile.kind != "offline" else None
        return summarize_transcript(
            transcript, self.patterns, date=date, today=self.clock().date(), brain=brain, embedder=self.embedder
        )

    # ---------------------------------------------------------- access (UI, API)
    def create_pair(self, pair: Pair) -> str:
        """Save a new pair and return its access code; an existing pair is never overwritten."""
        return self.store.create_pair(pair)

    def register_pair(self, pair: Pair) -> tuple[Pair, str]:
        """A pair created by an anonymous visitor who chose no id: its id gets a random suffix, so a second pair with
        the same first names gets its own id and no id can be guessed or confirmed to exist. Returns the pair as
        stored and its access code (shown once)."""
        base = pair.id or "pair"
        for _attempt in range(5):
            candidate = pair.model_copy(update={"id": f"{base[:120]}-{new_suffix()}"})
            if not self.store.has_pair(candidate.id):
                return candidate, self.store.create_pair(candidate)
        raise InputError("could not find a free pair id; try again")

    def suggest_pair_id(self, names: list[str], *, suffix: object = None) -> str:
        """The id the new-pair form suggests for these names: their first names and a random ending (`suffix`, if it
        is one, keeps the ending the page showed), e.g. 'carla-dev-3f9a1c'. Never looks at the store, so what it
        suggests tells nothing about the pairs stored."""
        return suggested_pair_id(names, suffix if isinstance(suffix, str) and is_suffix(suffix) else new_suffix())

    def free_pair_id(self, taken: str) -> str:
        """A free id close to `taken` (it with a random ending): random, so finding it free reveals nothing."""
        for _attempt in range(5):
            candidate = f"{taken[:132]}-{new_suffix()}"
            if not self.store.has_pair(candidate):
                return candidate
        raise InputError("could not find a free pair id; try again")

    def claim_pair(self, pair: Pair, *, client: str) -> str:
        """Save a new pair under the id a visitor chose and return its access code; the id must be free.

        A taken id has to be refused, which tells the visitor that the id exists (never anything about its pair):
        each refusal counts against the visitor's attempt limits (as a wrong code does, not against the pair's), so
        the form cannot list ids faster than the Open form can guess codes. The refusal suggests a free id."""
        key = Guarded(
            target=NEW_PAIR,
            client=client_key(client),
            per_target=False,
            ignore=COORDINATOR,
            locked=self.limits.locked_message(),
        )

        def create() -> str | None:
            try:
                return self.store.create_pair(pair)  # never overwrites: a taken id (even a moment ago) is refused
            except InputError:
                return None

        taken = lambda: PairIdTaken(pair.id, self.free_pair_id(pair.id))  # noqa: E731
        return guarded(self.store, self.limits, key, self.clock(), create, taken)

    def create(self, draft: PairDraft, *, client: str) -> Outcome:
        """The web form's new pair: built like a pair file, under the id typed in the form (checked free) or, with
        none, the names and a random suffix; opened, its code shown once."""
        pair = draft.to_pair()
        if draft.pair_id.strip():
            code = self.claim_pair(pair, client=client)
        else:
            pair, code = self.register_pair(pair)
        live = self._session_of(pair.id, None)  # its creator holds the code already: no attempt to count
        outcome = self._outcome(Opened(live=live, token=self.regrant(live)), "")
        note = f"Pair created with the id {pair.id}; your access code is {code}."
        return outcome.model_copy(update={"code": code, "notice": note})

    def open(self, pair_id: str, access_code: str, *, client: str, session_id: str | None = None) -> Outcome:
        """Open a pair with its code: today's session (or `session_id`), its view and a grant for the page."""
        opened = self.grant(pair_id, access_code, client=client, session_id=session_id)
        return self._outcome(opened, f"Opened {_names(opened.live.pair)}.")

    def open_link(self, pair_id: object, code: object, *, client: str, session_id: object = None) -> Outcome:
        """A link `/?pair=ID&code=CODE[&session=S]` (`comentor chat` and `pairs code --rotate` print one): the pair
        opened like the Open form does, within the same attempt limits.

        A refusal says why the link did not work and what to do; a wrong pair id and a wrong code get the one
        answer `BAD_LINK`, so a link tells nobody whether a pair exists. The session is looked at only once the code
        is right: one that is not this pair's (or no session at all) opens today's session, with a warning."""
        if not (isinstance(pair_id, str) and pair_id.strip() and isinstance(code, str) and code.strip()):
            raise AccessError(INCOMPLETE_LINK)
        pid, tag = self._check_code(pair_id, code, client, wrong=BAD_LINK)
        notice, warn = "", False
        live: LiveSession | None = None
        if session_id:
            try:
                if not (isinstance(session_id, str) and _SESSION_ID.match(session_id)):
                    raise AccessError(OTHER_SESSION)
                live = self._session_of(pid, session_id)
            except AccessError:
                notice, warn = OTHER_SESSION, True
        live = live or self._session_of(pid, None)
        opened = Opened(live=live, token=self.signer.issue(pid, live.id, tag, self.clock()))
        outcome = self._outcome(opened, notice or _opened_note(live, f"Opened {_names(live.pair)}."))
        return outcome.model_copy(update={"warn": warn})

    def reopen(self, token: str | None) -> Outcome:
        """The session a remembered grant names (a page reload), with a fresh grant; or, when the pair has started a
        session since (after Summarize, the next one), that newest open session: a remembered session follows the
        newest open one."""
        live = self.granted(token)
        successor = self.store.successor(live.id)
        if successor is not None:
            live = self.resume(successor)
        return self._outcome(Opened(live=live, token=self.regrant(live)), _opened_note(live))

    def new_session(self, live: LiveSession) -> Outcome:
        """The next session of an open (already authorised) pair, granted: the one a partner started after `live` if
        there is one (both partners pressing the button meet in one session), else a new one."""
        successor = self.store.successor(live.id)
        if successor is not None:
            fresh = self.resume(successor)
            return self._outcome(Opened(live=fresh, token=self.regrant(fresh)), "Joined the next session.")
        note = "New session started; open items from before are on its agenda."
        return self._outcome(self.new_session_for(live), note)

    def session_revision(self, pair_id: str, session_id: str) -> SessionRevision:
        """Where one of the pair's sessions is now (cheap: no session is loaded); the caller has checked access."""
        revision = self.store.revision(session_id)
        if revision.pair_id != pair_id:
            raise AccessError("that session does not belong to this pair; open the pair again")
        return revision

    def revision(self, token: str | None) -> SessionRevision:
        """Where the session a grant names is now: what a page polls to know whether it is current. Checks the grant
        (signature, expiry, the pair's current code) and reads only that session and its pair."""
        grant = self._grant(token)
        try:
            return self.session_revision(grant.pair_id, grant.session_id)
        except NotFoundError:
            raise AccessError(EXPIRED) from None

    def _outcome(self, opened: Opened, notice: str) -> Outcome:
        return Outcome(view=opened.live.view(), notice=notice, token=opened.token)

    def open_pair(self, pair_id: str, access_code: str, *, client: str = "local") -> Pair:
        """The pair, if the caller shows its access code. Every shell call that touches a pair goes through here.

        The same answer for an unknown pair and a wrong code; after too many wrong attempts from one client (or on
        one pair) every attempt is refused for a while, the right code included."""
        return self.store.get_pair(self._check_code(pair_id, access_code, client)[0])

    def _check_code(self, pair_id: str, access_code: str, client: str, *, wrong: str = WRONG) -> tuple[str, str]:
        """(pair id, code fingerprint) for a right code within the attempt limits; AccessError otherwise (`wrong`
        for a wrong id or code alike)."""
        pair_id = (pair_id or "").strip().lower() if isinstance(pair_id, str) else ""
        valid = bool(PAIR_ID.match(pair_id))
        pair_id = pair_id if valid else "(not a pair id)"  # never sent to the database as given (NUL, any length)
        code = access_code.strip() if isinstance(access_code, str) else ""
        if not code:  # nothing was guessed: not an attempt
            raise AccessError(EMPTY_CODE)
        key = Guarded(
            target=pair_id, client=client_key(client), ignore=COORDINATOR, locked=self.limits.locked_message()
        )
        check = lambda: self.store.check_access(pair_id, code) if valid else None  # noqa: E731
        return pair_id, guarded(self.store, self.limits, key, self.clock(), check, lambda: AccessError(wrong))

    def grant(self, pair_id: str, access_code: str, *, client: str, session_id: str | None = None) -> Opened:
        """Open a pair with its code (within the attempt limits): its session and a signed, expiring grant for it."""
        pid, tag = self._check_code(pair_id, access_code, client)
        live = self._session_of(pid, session_id)
        return Opened(live=live, token=self.signer.issue(pid, live.id, tag, self.clock()))

    def granted(self, token: str | None) -> LiveSession:
        """The live session a grant names, if the grant is genuine, unexpired and the pair's code unchanged."""
        grant = self._grant(token)
        return self._session_of(grant.pair_id, grant.session_id)

    def _grant(self, token: str | None) -> Grant:
        """The grant in `token` if it is genuine, unexpired and the pair's code unchanged; AccessError otherwise."""
        grant = self.signer.read(token if isinstance(token, str) else None, self.clock())
        if self.store.code_fingerprint(grant.pair_id) != grant.fingerprint:
            raise AccessError(EXPIRED)
        return grant

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


def _opened_note(live: LiveSession, opened: str | None = None) -> str:
    """What a page says on opening `live`: that it is open, or that it has ended and what to do."""
    if live.ended:
        return f"{_names(live.pair)}: the session of {live.date.isoformat()}. {ENDED}."
    return opened or f"{_names(live.pair)}: today's session."


def _with_feedback(agenda: Agenda, pair: Pair, feedback: list[Feedback]) -> Agenda:
    """The agenda with last session's feedback on its check-in, also when the brain reworded the check-in."""
    from facilitator.feedback import checkin_note

    note = checkin_note(feedback, {p.id: p.first_name for p in pair.participants})
    if not note or not agenda.items or note.strip() in agenda.items[0].purpose:
        return agenda
    first = agenda.items[0].model_copy(update={"purpose": agenda.items[0].purpose + note})
    return agenda.model_copy(update={"items": [first, *agenda.items[1:]]})


def _names(pair: Pair) -> str:
    return " & ".join(p.first_name for p in pair.participants)
