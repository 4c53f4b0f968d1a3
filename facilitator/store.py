"""The session store: SQLAlchemy 2 over SQLite (WAL, synchronous=FULL) by default, PostgreSQL by URL.

Every partner turn is committed in its own transaction before anything else happens to it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, cast

from pydantic import BaseModel, Field
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
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from facilitator.exceptions import InputError, NotFoundError, StoreError
from facilitator.models import Agenda, Commitment, CommitmentStatus, Move, Pair, Summary, Turn


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


class SessionInfo(BaseModel):
    id: str
    pair_id: str
    date: dt.date
    status: str
    agenda: Agenda | None = None
    state: dict[str, Any] = Field(default_factory=dict)
    summary: Summary | None = None


class CommitmentEvent(BaseModel):
    kind: str
    data: dict[str, Any]
    by: str | None
    session_id: str | None
    at: dt.datetime


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
    def save_pair(self, pair: Pair, access_code: str | None = None) -> str:
        """Create or update a pair. Returns its access code (kept when the pair exists)."""
        assert pair.id is not None
        with self._sessions.begin() as db:
            row = db.get(PairRow, pair.id)
            if row is None:
                code = access_code or secrets.token_urlsafe(9)
                db.add(PairRow(id=pair.id, data=pair.model_dump(mode="json"), access_code=code))
                return code
            row.data = pair.model_dump(mode="json")
            return row.access_code

    def create_pair(self, pair: Pair) -> str:
        """Create a new pair (never overwrites one) and return its fresh access code."""
        assert pair.id is not None
        with self._sessions.begin() as db:
            if db.get(PairRow, pair.id) is not None:
                raise InputError(
                    f"a pair '{pair.id}' already exists; open it with its access code, or choose another pair id"
                )
            code = secrets.token_urlsafe(9)
            db.add(PairRow(id=pair.id, data=pair.model_dump(mode="json"), access_code=code))
            return code

    def get_pair(self, pair_id: str) -> Pair:
        with self._sessions() as db:
            row = db.get(PairRow, pair_id)
            if row is None:
                raise NotFoundError(f"no pair '{pair_id}'; create it from a pair file first")
            return Pair.model_validate(row.data)

    def check_access(self, pair_id: str, access_code: str) -> bool:
        with self._sessions() as db:
            row = db.get(PairRow, pair_id)
            return row is not None and secrets.compare_digest(row.access_code, access_code or "")

    def access_code(self, pair_id: str) -> str | None:
        """A pair's access code, for the host's own terminal (the demo pair's link); never sent to a page."""
        with self._sessions() as db:
            row = db.get(PairRow, pair_id)
            return row.access_code if row else None

    def list_pairs(self) -> list[Pair]:
        with self._sessions() as db:
            return [Pair.model_validate(r.data) for r in db.scalars(select(PairRow).order_by(PairRow.created_at))]

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
        """The pair's latest session on `date`, created if there is none, in one step: partners who open the pair
        at the same moment (from one app process or several, on SQLite or PostgreSQL) get the same session.

        The transaction starts with a no-op write to the pair's row, which takes that row's lock (PostgreSQL) or the
        database's write lock (SQLite), so a second caller waits and then sees the session the first one made."""
        self.get_pair(pair_id)
        with self._sessions.begin() as db:
            db.execute(update(PairRow).where(PairRow.id == pair_id).values(access_code=PairRow.access_code))
            row = db.scalars(
                select(SessionRow)
                .where(SessionRow.pair_id == pair_id, SessionRow.date == date)
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

    def list_sessions(self, pair_id: str) -> list[SessionInfo]:
        with self._sessions() as db:
            rows = db.scalars(select(SessionRow).where(SessionRow.pair_id == pair_id).order_by(SessionRow.created_at))
            return [_session_info(r) for r in rows]

    def save_agenda(self, session_id: str, agenda: Agenda | None) -> None:
        with self._sessions.begin() as db:
            row = self._session_row(db, session_id)
            row.agenda = agenda.model_dump(mode="json", by_alias=True) if agenda else None

    def save_state(self, session_id: str, state: dict[str, Any]) -> None:
        with self._sessions.begin() as db:
            self._session_row(db, session_id).state = state

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

    # ------------------------------------------------------------------ turns
    def append_turn(self, session_id: str, speaker: str, text: str) -> Turn:
        """Commit one partner turn (its own transaction). Retries on an index race with another process."""
        for _attempt in range(5):
            try:
                with self._sessions.begin() as db:
                    self._session_row(db, session_id)
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
        """Store a session's items (new ids are created; existing ones are updated with history)."""
        info = self.get_session(session_id)
        saved: list[Commitment] = []
        with self._sessions.begin() as db:
            for item in items:
                cid = item.id or f"k{uuid.uuid4().hex[:12]}"
                row = db.get(CommitmentRow, cid)
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

    def session_items(self, session_id: str) -> list[tuple[Commitment, list[str], bool]]:
        """Every item of one session in conversation order, deleted ones included: (item, confirmed by, deleted)."""
        with self._sessions() as db:
            rows = list(db.scalars(select(CommitmentRow).where(CommitmentRow.session_id == session_id)))
            rows.sort(key=lambda r: (min(r.evidence or [10**9]), r.id))
            return [(_commitment(r), list(r.confirmed_by or []), r.status == "deleted") for r in rows]

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
        """Change one item and record what changed in its history. `delete` removes it (the history remains)."""
        with self._sessions.begin() as db:
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
            if status is not None and status != row.status:
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
            return [CommitmentEvent(kind=r.kind, data=r.data, by=r.by, session_id=r.session_id, at=r.at) for r in rows]

    def confirmed_by(self, commitment_id: str) -> list[str]:
        with self._sessions() as db:
            row = db.get(CommitmentRow, commitment_id)
            return list(row.confirmed_by) if row else []


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
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


def _commitment(row: CommitmentRow) -> Commitment:
    return Commitment(
        id=row.id,
        owner=row.owner,
        action=row.action,
        due=row.due,
        evidence=list(row.evidence or []),
        confirmed=len(row.confirmed_by or []) >= 2,
        status=cast(CommitmentStatus, row.status if row.status != "deleted" else "dropped"),
    )
