"""The session store: SQLAlchemy 2 over SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL.

Every partner turn is committed in its own transaction before anything else happens to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, Session, mapped_column, sessionmaker

from facilitator.access import code_matches, dummy_hash, fingerprint, hash_code, is_hashed, new_code
from facilitator.exceptions import InputError, NotFoundError, SessionEnded, StoreError
from facilitator.feedback import Feedback, FeedbackAnswers
from facilitator.models import Agenda, Commitment, CommitmentStatus, Move, Pair, Summary, Turn
from facilitator.records import ENDED, CommitmentEvent, SessionInfo, SessionRevision, StoredItem


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class PairRow(Base):
    __tablename__ = "pairs"
    id: Mapped[str] = mapped_column(String(140), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    access_code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AccessFailureRow(Base):
    """One wrong access code (or an unknown pair id), for the attempt limits."""

    __tablename__ = "access_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(String(140), index=True)
    client: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class SessionRow(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    agenda: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("session_id", "index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class MoveRow(Base):
    __tablename__ = "moves"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    after_turn: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CommitmentRow(Base):
    __tablename__ = "commitments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    owner: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(Text)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    evidence: Mapped[list[int]] = mapped_column(JSON, default=list)
    confirmed_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CommitmentEventRow(Base):
    __tablename__ = "commitment_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    commitment_id: Mapped[str] = mapped_column(ForeignKey("commitments.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class FeedbackRow(Base):
    """One member's end-of-session feedback on one session (answered again: replaced)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("session_id", "member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    member: Mapped[str] = mapped_column(String(64))
    worked: Mapped[str] = mapped_column(Text, default="")
    change: Mapped[str] = mapped_column(Text, default="")
    balance: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """All persistence. Construct with a SQLAlchemy URL (or an Engine); tables are created on first use."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        try:
            if isinstance(url_or_engine, Engine):
                self.engine = url_or_engine
            else:
                self.engine = _make_engine(url_or_engine)
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as e:
            raise StoreError(
                f"cannot open the database ({e.__class__.__name__}: {str(e).splitlines()[0]}); "
                "check COMENTOR_DATABASE_URL or that COMENTOR_HOME is writable"
            ) from e
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # ------------------------------------------------------------------ pairs
    def save_pair(self, pair: Pair, access_code: str | None = None) -> str | None:
        """Create or update a pair. Returns the access code when the pair is new (shown once: only its hash is
        stored), None when the pair existed (its code is kept; `rotate_code` issues a new one)."""
        with self._sessions.begin() as db:
            row = db.get(PairRow, pair.id)
            if row is None:
                code = access_code or new_code()
                db.add(PairRow(id=pair.id, data=pair.model_dump(mode="json"), access_code=hash_code(code)))
                return code
            row.data = pair.model_dump(mode="json")
            return None

    def create_pair(self, pair: Pair) -> str:
        """Create a new pair (never overwrites one) and return its fresh access code (stored hashed)."""
        with self._sessions.begin() as db:
            if db.get(PairRow, pair.id) is not None:
                raise InputError(f"the pair id '{pair.id}' is taken; choose another pair id")
            code = new_code()
            db.add(PairRow(id=pair.id, data=pair.model_dump(mode="json"), access_code=hash_code(code)))
            return code

    def has_pair(self, pair_id: str) -> bool:
        with self._sessions() as db:
            return db.get(PairRow, pair_id) is not None

    def get_pair(self, pair_id: str) -> Pair:
        with self._sessions() as db:
            row = db.get(PairRow, pair_id)
            if row is None:
                raise NotFoundError(f"no pair '{pair_id}'; create it from a pair file first")
            return Pair.model_validate(row.data)

    def check_access(self, pair_id: str, access_code: str) -> str | None:
        """The fingerprint of the pair's code if `access_code` is right, else None (also for no such pair, after
        the same hashing work, so the answer and its timing do not tell which). A code stored in plaintext by an
        older version is hashed on its first successful use."""
        with self._sessions() as db:
            row = db.get(PairRow, pair_id)
            stored = row.access_code if row is not None else dummy_hash()
            if not code_matches(stored, access_code or "") or row is None:
                return None
        if not is_hashed(stored):
            with self._sessions.begin() as db:
                db.execute(
                    update(PairRow)
                    .where(PairRow.id == pair_id, PairRow.access_code == stored)
                    .values(access_code=hash_code(access_code))
                )
            return self.code_fingerprint(pair_id)
        return fingerprint(stored)

    def code_fingerprint(self, pair_id: str) -> str | None:
        """A tag of the pair's current code (grants carry it; a new code changes it), None for no such pair."""
        with self._sessions() as db:
            row = db.get(PairRow, pair_id)
            return fingerprint(row.access_code) if row is not None else None

    def rotate_code(self, pair_id: str) -> str:
        """Give the pair a new access code and return it (shown once); the old code and its grants stop working."""
        code = new_code()
        with self._sessions.begin() as db:
            row = db.get(PairRow, pair_id)
            if row is None:
                raise NotFoundError(f"no pair '{pair_id}'; `comentor pairs list` lists the pairs")
            row.access_code = hash_code(code)
        return code

    def record_failure(self, pair_id: str, client: str, now: dt.datetime, keep: dt.timedelta) -> int:
        """Note one wrong access attempt (rows older than `keep` are purged on the way); returns its row id."""
        with self._sessions.begin() as db:
            db.execute(delete(AccessFailureRow).where(AccessFailureRow.at < now - keep))
            row = AccessFailureRow(pair_id=pair_id[:140], client=client[:200], at=now)
            db.add(row)
            db.flush()
            return int(row.id)

    def forget_failure(self, row_id: int) -> None:
        """Take back an attempt noted in advance (`record_failure`) that turned out right or was never compared."""
        with self._sessions.begin() as db:
            db.execute(delete(AccessFailureRow).where(AccessFailureRow.id == row_id))

    def recent_failures(
        self, pair_id: str, client: str, since: dt.datetime, *, only_this_id: bool = False, ignore: str | None = None
    ) -> tuple[int, int]:
        """Wrong attempts since `since`: (by this client on any id but `ignore`, or only on `pair_id`; by anyone on
        `pair_id`)."""
        with self._sessions() as db:
            count = select(func.count()).select_from(AccessFailureRow).where(AccessFailureRow.at >= since)
            on_id = count.where(AccessFailureRow.pair_id == pair_id[:140])
            anywhere = count.where(AccessFailureRow.pair_id != ignore[:140]) if ignore else count
            by_client = db.scalar((on_id if only_this_id else anywhere).where(AccessFailureRow.client == client[:200]))
            by_pair = db.scalar(on_id) or 0
            return int(by_client or 0), int(by_pair)

    def list_pairs(self) -> list[Pair]:
        with self._sessions() as db:
            return [Pair.model_validate(r.data) for r in db.scalars(select(PairRow).order_by(PairRow.created_at))]

    def pair_activity(self) -> dict[str, tuple[int, dt.date | None]]:
        """Per pair id with sessions: (stored sessions, date of the latest session in which anyone spoke), in two
        grouped queries (a pair without sessions is absent)."""
        with self._sessions() as db:
            counts = db.execute(select(SessionRow.pair_id, func.count(SessionRow.id)).group_by(SessionRow.pair_id))
            spoken = db.execute(
                select(SessionRow.pair_id, func.max(SessionRow.date))
                .join(TurnRow, TurnRow.session_id == SessionRow.id)
                .group_by(SessionRow.pair_id)
            )
            last = {pid: day for pid, day in spoken}
            return {pid: (int(n), last.get(pid)) for pid, n in counts}

    def turn_counts(self, pair_id: str) -> dict[str, int]:
        """Turns per session of one pair (a session without turns is absent), in one query."""
        with self._sessions() as db:
            rows = db.execute(
                select(TurnRow.session_id, func.count(TurnRow.id))
                .join(SessionRow, SessionRow.id == TurnRow.session_id)
                .where(SessionRow.pair_id == pair_id)
                .group_by(TurnRow.session_id)
            )
            return {sid: int(n) for sid, n in rows}

    # --------------------------------------------------------------- sessions
    def create_session(self, pair_id: str, date: dt.date, agenda: Agenda | None = None) -> SessionInfo:
        self.get_pair(pair_id)
        sid = str(uuid.uuid4())
        with self._sessions.begin() as db:
            db.add(
                SessionRow(
                    id=sid,
                    pair_id=pair_id,
                    date=date,
                    agenda=agenda.model_dump(mode="json", by_alias=True) if agenda else None,
                    state={},
                )
            )
        return self.get_session(sid)

    def session_of_day(self, pair_id: str, date: dt.date) -> SessionInfo:
        """The pair's latest open session on `date` (an ended one is never reopened), created if there is none, in one
        step: partners who open the pair
        at the same moment (from one app process or several, on SQLite or PostgreSQL) get the same session.

        The transaction starts by taking the pair row's lock (`_lock`), so a second caller waits and then sees the
        session the first one made."""
        self.get_pair(pair_id)
        with self._sessions.begin() as db:
            _lock(db, PairRow.created_at, pair_id)
            row = db.scalars(
                select(SessionRow)
                .where(SessionRow.pair_id == pair_id, SessionRow.date == date, SessionRow.status == "open")
                .order_by(SessionRow.created_at.desc())
                .limit(1)
            ).first()
            if row is None:
                row = SessionRow(id=str(uuid.uuid4()), pair_id=pair_id, date=date, agenda=None, state={})
                db.add(row)
            sid = row.id
        return self.get_session(sid)

    def get_session(self, session_id: str) -> SessionInfo:
        with self._sessions() as db:
            row = db.get(SessionRow, session_id)
            if row is None:
                raise NotFoundError(f"no session '{session_id}'; `comentor sessions` lists them")
            return _session_info(row)

    def successor(self, session_id: str) -> str | None:
        """The id of the pair's newest open session started after `session_id` (None: there is none)."""
        with self._sessions() as db:
            return _successor(db, self._session_row(db, session_id))

    def revision(self, session_id: str) -> SessionRevision:
        """Where `session_id` and its pair's history are now (`SessionRevision`), in three indexed queries."""
        with self._sessions() as db:
            row = self._session_row(db, session_id)
            pair_items = select(CommitmentRow.id).where(CommitmentRow.pair_id == row.pair_id)
            newest = select(
                select(func.max(TurnRow.id)).where(TurnRow.session_id == row.id).scalar_subquery(),
                select(func.max(MoveRow.id)).where(MoveRow.session_id == row.id).scalar_subquery(),
                select(func.max(CommitmentEventRow.id))
                .where(CommitmentEventRow.commitment_id.in_(pair_items))
                .scalar_subquery(),
                select(func.count(SessionRow.id)).where(SessionRow.pair_id == row.pair_id).scalar_subquery(),
            )
            turns, moves, events, sessions = db.execute(newest).one()
            return SessionRevision(
                session_id=row.id,
                pair_id=row.pair_id,
                status=row.status,
                turns=turns or 0,
                moves=moves or 0,
                events=events or 0,
                sessions=sessions or 0,
                successor=_successor(db, row),
            )

    def list_sessions(self, pair_id: str) -> list[SessionInfo]:
        with self._sessions() as db:
            rows = db.scalars(select(SessionRow).where(SessionRow.pair_id == pair_id).order_by(SessionRow.created_at))
            return [_session_info(r) for r in rows]

    def save_agenda(self, session_id: str, agenda: Agenda | None) -> None:
        with self._sessions.begin() as db:
            row = self._session_row(db, session_id)
            row.agenda = agenda.model_dump(mode="json", by_alias=True) if agenda else None

    def save_state(
        self,
        session_id: str,
        state: dict[str, Any],
        *,
        base: dict[str, Any] | None = None,
        counters: Collection[str] = (),
    ) -> dict[str, Any]:
        """Store a session's policy state and return it as stored.

        With `base` (the state as the caller loaded it), what the caller changed since is merged into the state
        stored now (`merge_state`), under the session row's lock: concurrent events on one session lose nothing.
        Without it, `state` replaces what is stored."""
        with self._sessions.begin() as db:
            _lock(db, SessionRow.created_at, session_id)
            row = self._session_row(db, session_id)
            merged = state if base is None else merge_state(base, state, dict(row.state or {}), counters=counters)
            row.state = merged
            return merged

    def end_session(self, session_id: str, summary: Summary) -> None:
        with self._sessions.begin() as db:
            row = self._session_row(db, session_id)
            row.status = "ended"
            row.summary = summary.model_dump(mode="json")
            row.ended_at = _now()

    @staticmethod
    def _session_row(db: Any, session_id: str) -> SessionRow:
        row = db.get(SessionRow, session_id)
        if row is None:
            raise NotFoundError(f"no session '{session_id}'")
        return row

    # --------------------------------------------------------------- feedback
    def save_feedback(self, session_id: str, member: str, answers: FeedbackAnswers) -> Feedback:
        """Store (or replace) one member's feedback on a session (the member answering twice at once: one wins)."""
        for _attempt in range(3):
            try:
                return self._save_feedback(session_id, member, answers)
            except IntegrityError:  # the same member's other answer was stored first: replace it
                continue
        raise StoreError("the feedback could not be saved (concurrent writers); try again")

    def _save_feedback(self, session_id: str, member: str, answers: FeedbackAnswers) -> Feedback:
        with self._sessions.begin() as db:
            info = self._session_row(db, session_id)
            row = db.scalars(
                select(FeedbackRow).where(FeedbackRow.session_id == session_id, FeedbackRow.member == member)
            ).first()
            if row is None:
                row = FeedbackRow(session_id=session_id, pair_id=info.pair_id, member=member, balance=answers.balance)
                db.add(row)
            row.worked, row.change, row.balance, row.at = answers.worked, answers.change, answers.balance, _now()
            db.flush()
            return _feedback(row)

    def feedback(self, *, session_id: str | None = None, pair_id: str | None = None) -> list[Feedback]:
        """Stored feedback of one session or one pair, oldest first."""
        with self._sessions() as db:
            query = select(FeedbackRow).order_by(FeedbackRow.id)
            if session_id:
                query = query.where(FeedbackRow.session_id == session_id)
            if pair_id:
                query = query.where(FeedbackRow.pair_id == pair_id)
            return [_feedback(r) for r in db.scalars(query)]

    # ------------------------------------------------------------------ turns
    def append_turn(self, session_id: str, speaker: str, text: str) -> Turn:
        """Commit one partner turn (its own transaction). Retries on an index race with another process."""
        for _attempt in range(5):
            try:
                with self._sessions.begin() as db:
                    if self._session_row(db, session_id).status == "ended":
                        raise SessionEnded(ENDED)
                    count = db.scalar(select(func.count()).select_from(TurnRow).where(TurnRow.session_id == session_id))
                    row = TurnRow(session_id=session_id, index=int(count or 0), speaker=speaker, text=text, at=_now())
                    db.add(row)
                    db.flush()
                    return Turn(index=row.index, speaker=row.speaker, text=row.text, at=row.at)
            except IntegrityError:
                continue
            except OperationalError as e:
                raise StoreError(f"the turn could not be saved ({str(e).splitlines()[0]}); try again") from e
        raise StoreError("the turn could not be saved after 5 attempts (concurrent writers); try again")

    def turns(self, session_id: str) -> list[Turn]:
        with self._sessions() as db:
            rows = db.scalars(select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.index))
            return [Turn(index=r.index, speaker=r.speaker, text=r.text, at=r.at) for r in rows]

    def append_move(self, session_id: str, after_turn: int, move: Move) -> None:
        with self._sessions.begin() as db:
            data = move.model_dump(mode="json", by_alias=True)
            db.add(MoveRow(session_id=session_id, after_turn=after_turn, data=data))

    def moves(self, session_id: str) -> list[tuple[int, Move]]:
        with self._sessions() as db:
            rows = db.scalars(select(MoveRow).where(MoveRow.session_id == session_id).order_by(MoveRow.id))
            return [(r.after_turn, Move.model_validate(r.data)) for r in rows]

    # ------------------------------------------------------------ commitments
    def save_commitments(self, session_id: str, items: list[Commitment], *, by: str | None = None) -> list[Commitment]:
        """Store a session's new items; an item whose id this session already holds is left as it is (saving twice
        is harmless). Ids are per session: an id another session holds (the same words said by another pair, or in
        a later meeting) gets a session-scoped id instead, so every session keeps its own row. Returns the items as
        stored, with their stored ids."""
        info = self.get_session(session_id)
        for _attempt in range(5):
            try:
                return self._save_commitments(info, items, by)
            except IntegrityError:  # another session stored the same id at the same moment: look again
                continue
        raise StoreError("the items could not be saved after 5 attempts (concurrent writers); try again")

    def _save_commitments(self, info: SessionInfo, items: list[Commitment], by: str | None) -> list[Commitment]:
        session_id = info.id
        saved: list[Commitment] = []
        with self._sessions.begin() as db:
            _lock(db, SessionRow.created_at, session_id)  # one writer per session: no duplicate of a new item
            for item in items:
                cid = item.id or f"k{uuid.uuid4().hex[:12]}"
                row = db.get(CommitmentRow, cid)
                if row is not None and row.session_id != session_id:
                    cid = _session_scoped_id(session_id, cid)
                    row = db.get(CommitmentRow, cid)
                    if row is not None and row.session_id != session_id:  # a hash collision: any free id
                        cid, row = f"k{uuid.uuid4().hex[:12]}", None
                if row is None:
                    row = CommitmentRow(
                        id=cid,
                        session_id=session_id,
                        pair_id=info.pair_id,
                        owner=item.owner,
                        action=item.action,
                        due=item.due,
                        evidence=list(item.evidence),
                        confirmed_by=[],
                        status=item.status,
                    )
                    db.add(row)
                    db.flush()
                    db.add(CommitmentEventRow(commitment_id=cid, session_id=session_id, kind="created", by=by, data={}))
                saved.append(_commitment(row))
        return saved

    def commitments(self, *, session_id: str | None = None, pair_id: str | None = None) -> list[Commitment]:
        with self._sessions() as db:
            query = (
                select(CommitmentRow)
                .where(CommitmentRow.status != "deleted")
                .order_by(CommitmentRow.due.is_(None), CommitmentRow.due, CommitmentRow.id)
            )
            if session_id:
                query = query.where(CommitmentRow.session_id == session_id)
            if pair_id:
                query = query.where(CommitmentRow.pair_id == pair_id)
            return [_commitment(r) for r in db.scalars(query)]

    def session_items(self, session_id: str) -> list[StoredItem]:
        """Every item of one session in conversation order, deleted ones included."""
        with self._sessions() as db:
            rows = list(db.scalars(select(CommitmentRow).where(CommitmentRow.session_id == session_id)))
            rows.sort(key=lambda r: (min(r.evidence or [10**9]), r.id))
            return [_stored(r) for r in rows]

    def pair_items(self, pair_id: str) -> list[StoredItem]:
        """Every item of a pair, deleted ones left out, each with the session it was agreed in (one query)."""
        with self._sessions() as db:
            query = (
                select(CommitmentRow)
                .where(CommitmentRow.pair_id == pair_id, CommitmentRow.status != "deleted")
                .order_by(CommitmentRow.due.is_(None), CommitmentRow.due, CommitmentRow.id)
            )
            return [_stored(r) for r in db.scalars(query)]

    def pair_item_events(self, pair_id: str) -> dict[str, list[CommitmentEvent]]:
        """Every item event of a pair, by item id, oldest first (one query)."""
        with self._sessions() as db:
            query = (
                select(CommitmentEventRow)
                .join(CommitmentRow, CommitmentRow.id == CommitmentEventRow.commitment_id)
                .where(CommitmentRow.pair_id == pair_id)
                .order_by(CommitmentEventRow.id)
            )
            events: dict[str, list[CommitmentEvent]] = {}
            for r in db.scalars(query):
                events.setdefault(r.commitment_id, []).append(_event(r))
            return events

    def touched_items(self, session_id: str) -> set[str]:
        """Ids of this session's items that a partner changed (any history event with an author), in one query."""
        with self._sessions() as db:
            query = (
                select(CommitmentEventRow.commitment_id)
                .join(CommitmentRow, CommitmentRow.id == CommitmentEventRow.commitment_id)
                .where(CommitmentRow.session_id == session_id, CommitmentEventRow.by.is_not(None))
            )
            return set(db.scalars(query))

    def open_commitments(self, pair_id: str) -> list[Commitment]:
        return [c for c in self.commitments(pair_id=pair_id) if c.status in ("open", "slipped")]

    def update_commitment(
        self,
        commitment_id: str,
        *,
        by: str | None = None,
        session_id: str | None = None,
        status: CommitmentStatus | None = None,
        due: dt.date | None = None,
        action: str | None = None,
        owner: str | None = None,
        confirm: bool = False,
        delete: bool = False,
    ) -> Commitment | None:
        """Change one item and record what changed in its history. `delete` removes it (the history remains).

        The item's row is locked before it is read, so concurrent changes (both partners confirming at once) are
        applied one after the other and none is lost."""
        with self._sessions.begin() as db:
            _lock(db, CommitmentRow.updated_at, commitment_id)
            row = db.get(CommitmentRow, commitment_id)
            if row is None:
                raise NotFoundError(f"no commitment '{commitment_id}'; list them with /commitments")

            def log(kind: str, **data: Any) -> None:
                db.add(
                    CommitmentEventRow(
                        commitment_id=commitment_id, session_id=session_id, kind=kind, by=by, data=data, at=_now()
                    )
                )

            if delete:
                log("deleted", action=row.action)
                row.status = "deleted"
                return None
            if action is not None and action != row.action:
                log("edited", field="action", old=row.action, new=action)
                row.action = action
            if owner is not None and owner != row.owner:
                log("edited", field="owner", old=row.owner, new=owner)
                row.owner = owner
            if due is not None and due != row.due:
                log("due", old=row.due.isoformat() if row.due else None, new=due.isoformat())
                row.due = due
            if status is not None and (status != row.status or status == "slipped"):  # every slip is history
                log(status, old=row.status)
                row.status = status
            if confirm and by and by not in row.confirmed_by:
                row.confirmed_by = [*row.confirmed_by, by]
                log("confirmed")
            row.updated_at = _now()
            return _commitment(row)

    def commitment_history(self, commitment_id: str) -> list[CommitmentEvent]:
        with self._sessions() as db:
            rows = db.scalars(
                select(CommitmentEventRow)
                .where(CommitmentEventRow.commitment_id == commitment_id)
                .order_by(CommitmentEventRow.id)
            )
            return [_event(r) for r in rows]

    def confirmed_by(self, commitment_id: str) -> list[str]:
        with self._sessions() as db:
            row = db.get(CommitmentRow, commitment_id)
            return list(row.confirmed_by) if row else []


def _successor(db: Session, row: SessionRow) -> str | None:
    """The pair's newest open session created after `row` (None: none)."""
    return db.scalar(
        select(SessionRow.id)
        .where(SessionRow.pair_id == row.pair_id, SessionRow.status == "open", SessionRow.created_at > row.created_at)
        .order_by(SessionRow.created_at.desc())
        .limit(1)
    )


def _lock(db: Session, column: InstrumentedAttribute[Any], key: str) -> None:
    """Begin `db`'s transaction by locking the row `key` of `column`'s table until it ends: a no-op write (the
    column set to itself) takes that row's lock on PostgreSQL and the database's write lock on SQLite. Call it
    before reading what the transaction will change, so that a concurrent read-modify-write waits for this one
    and then reads its result. A missing row locks nothing (the caller's read then finds nothing)."""
    table = column.class_
    db.execute(
        update(table).where(table.id == key).values({column.key: column}).execution_options(synchronize_session=False)
    )


def merge_state(
    base: dict[str, Any], mine: dict[str, Any], current: dict[str, Any], *, counters: Collection[str] = ()
) -> dict[str, Any]:
    """Three-way merge of a JSON state: `mine` was made from `base`; `current` is what is stored now (another writer
    may have changed it since `base`). Per top-level key, a key missing from one side counts as unchanged there:

    - counters (dicts of integers, and the integer fields named in `counters`) add up: current + mine - base;
    - lists are unioned in order: current's items, minus those mine removed from base, then those mine added
      (`_merge_list`);
    - anything else is mine if mine changed it from base, else current."""
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*current, *mine, *base]):
        b = base.get(key)
        m = mine.get(key, b)
        c = current.get(key, b)
        if _counts(b, m, c) or (key in counters and _all_of(int, b, m, c)):
            merged[key] = _add(b, m, c)
        elif _all_of(list, b, m, c):
            merged[key] = _merge_list(b or [], m or [], c or [])
        else:
            merged[key] = m if m != b else c
    return merged


def _merge_list(base: list[Any], mine: list[Any], current: list[Any]) -> list[Any]:
    """Current's items in order, without those mine removed (that current still has), then mine's additions (that
    current does not have yet), in mine's order. Items are compared as JSON; repeats count (a multiset)."""
    if current == base and mine[: len(base)] == base:
        return list(mine)  # nobody else wrote and mine only added (what every turn does): mine, as the rule gives
    keys_b, keys_m, keys_c = ([json.dumps(x, sort_keys=True) for x in xs] for xs in (base, mine, current))
    b, m, c = Counter(keys_b), Counter(keys_m), Counter(keys_c)
    drop = {k: (b[k] - m[k]) - max(b[k] - c[k], 0) for k in b}
    add = {k: (m[k] - b[k]) - max(c[k] - b[k], 0) for k in m}
    merged: list[Any] = []
    for x, k in zip(current, keys_c, strict=True):
        if drop.get(k, 0) > 0:
            drop[k] -= 1
        else:
            merged.append(x)
    seen: Counter[str] = Counter()
    for x, k in zip(mine, keys_m, strict=True):
        seen[k] += 1
        if seen[k] > m[k] - add[k]:  # the last `add` occurrences are the new ones
            merged.append(x)
    return merged


def _all_of(kind: type, *values: Any) -> bool:
    """Whether every value is a `kind` or absent (None), and one is there."""
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, kind) and not isinstance(v, bool) for v in present)


def _counts(*values: Any) -> bool:
    """Whether every value is a dict of integers (or absent), and one is there."""
    return _all_of(dict, *values) and all(_all_of(int, *v.values()) or not v for v in values if v is not None)


def _add(base: Any, mine: Any, current: Any) -> Any:
    if isinstance(base, dict) or isinstance(mine, dict) or isinstance(current, dict):
        b, m, c = base or {}, mine or {}, current or {}
        return {k: c.get(k, 0) + m.get(k, 0) - b.get(k, 0) for k in [*c, *(k for k in m if k not in c)]}
    return (current or 0) + (mine or 0) - (base or 0)


def _session_scoped_id(session_id: str, item_id: str) -> str:
    """The id an item gets in `session_id` when another session holds `item_id`; always the same for the same
    session and id, so saving the item twice still finds it."""
    return hashlib.sha1(f"{session_id}|{item_id}".encode()).hexdigest()[:12]


def _private_file(path: Path) -> None:
    """Make the database file `path` (created if missing) and its -wal and -shm files readable by this user only:
    they hold every transcript. SQLite creates -wal and -shm with the database file's mode."""
    with contextlib.suppress(OSError):  # e.g. a read-only folder: SQLite's own error, at connect, names it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            info = name.stat()
            if info.st_mode & 0o077 and info.st_uid == os.getuid():
                name.chmod(0o600)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            db_file = Path(path).expanduser()
            db_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private_file(db_file)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _session_info(row: SessionRow) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        pair_id=row.pair_id,
        date=row.date,
        status=row.status,
        agenda=Agenda.model_validate(row.agenda) if row.agenda else None,
        state=dict(row.state or {}),
        summary=Summary.model_validate(row.summary) if row.summary else None,
    )


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        session_id=row.session_id,
        member=row.member,
        worked=row.worked,
        change=row.change,
        balance=row.balance,
        at=row.at,
    )


def _stored(row: CommitmentRow) -> StoredItem:
    return StoredItem(item=_commitment(row), confirmed_by=list(row.confirmed_by or []), session_id=row.session_id)


def _event(row: CommitmentEventRow) -> CommitmentEvent:
    return CommitmentEvent(kind=row.kind, data=row.data, by=row.by, session_id=row.session_id, at=row.at)


def _commitment(row: CommitmentRow) -> Commitment:
    return Commitment(
        id=row.id,
        owner=row.owner,
        action=row.action,
        due=row.due,
        evidence=list(row.evidence or []),
        confirmed=len(row.confirmed_by or []) >= 2,
        status=cast(CommitmentStatus, row.status),
    )
