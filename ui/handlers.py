"""One method per page event, without Gradio: each calls the engine and returns a `PageUpdate` for the page.

The handlers hold no facilitation logic: what to say, which items were agreed, who may see what is decided in
`facilitator/`; a handler passes the page's values to one engine call, turns a refusal (`ComentorError`) into a
warning, and hands back what the engine returned with `LiveSession.view()` read once, after the call. Per-visitor state
is only the grant the page sends with every event (`access`), checked by `Facilitator.granted` each time: the Gradio API
can be called without the page, and Gradio's server-side state is keyed by a session hash the client chooses.

`ui.layout` maps a `PageUpdate` to the widgets; tests drive the handlers directly (tests/test_ui_handlers.py).
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facilitator import exportdir
from facilitator.engine import Facilitator, LiveSession
from facilitator.exceptions import ComentorError, InputError, PairIdTaken
from facilitator.models import Agenda
from facilitator.pairs import PairDraft, PartnerDraft
from facilitator.program import ProgramReport
from facilitator.session import ItemUpdate
from facilitator.settings import Settings
from facilitator.snapshots import AgendaSnapshot, Event, Outcome, SessionView
from ui import views

AskKind = Literal["question", "challenge", "balance", "next"]
ItemAction = Literal["confirm", "delete", "edit"]
ExportKind = Literal["md", "json", "ics"]
EXPORT_LABELS: dict[str, str] = {"md": "Markdown recap", "json": "JSON summary", "ics": "Calendar (.ics)"}
OPEN_PROMPT = "Open your pair with its id and access code, or create a new pair."
FORGOTTEN = (
    "This browser's access to the pair it last opened has expired or was revoked. " + OPEN_PROMPT
)  # a remembered grant that no longer works: said once, then the browser forgets it
NO_DRAFT = "generate an agenda first (the Generate agenda button)"
NO_CARRIED = "choose an item from earlier sessions first (the list under “Open items from earlier sessions”)"


class ExportFiles(BaseModel):
    """The session's export files for the download buttons (None: no file, before a summary or none to give)."""

    md: str | None = None
    json_: str | None = Field(default=None, alias="json")
    ics: str | None = None

    model_config = ConfigDict(populate_by_name=True)

    def of(self, kind: ExportKind) -> str | None:
        return {"md": self.md, "json": self.json_, "ics": self.ics}[kind]


class PageUpdate(BaseModel):
    """What one event changes on the page. None leaves a widget as it is; `view` is the session after the call, from
    which `ui.layout` renders every session widget once (chat, speakers, agenda, balance, items, summary, history)."""

    token: str | None = Field(default=None, description="The grant, for the hidden field the page sends back.")
    remembered: dict[str, str] | None = Field(default=None, description="What the browser remembers: the grant.")
    tab: str | None = Field(default=None, description="The tab to show ('session' once a pair is open).")
    pair_info: str | None = Field(default=None, description="The pair panel (Markdown).")
    status: str | None = Field(default=None, description="The status line as plain text ('' clears it).")
    warn: bool = Field(default=False, description="The status is a refusal: marked ⚠ and shown as a toast.")
    toast: str | None = Field(default=None, description="A notice shown as a toast (a new pair's id and code).")
    view: SessionView | None = None
    agenda: AgendaSnapshot | None = Field(default=None, description="The agenda alone (the clock's refresh).")
    files: ExportFiles | None = Field(default=None, description="The download buttons' files (with a view).")
    chat: list[dict[str, Any]] | None = Field(default=None, description="The chat while a reply streams.")
    message: str | None = Field(default=None, description="The message box ('' clears it).")
    draft: dict[str, Any] | None = Field(default=None, description="The drafted agenda, bound to its session.")
    draft_rows: list[list[Any]] | None = Field(default=None, description="The agenda table's rows.")
    edit_action: str | None = None
    edit_due: str | None = None
    new_pair_id: str | None = Field(default=None, description="The new-pair form's id field.")
    id_hint: dict[str, str] | None = Field(
        default=None, description="The id the form last suggested and its random ending (the page's state)."
    )
    follow: bool | None = Field(
        default=None,
        description="Whether the page follows the pair's newest open session (False: a link named this session).",
    )
    pick: str | None = Field(default=None, description="The item the page had chosen, kept while it is listed.")
    carried_pick: str | None = Field(
        default=None, description="The earlier item chosen ('' clears it; None keeps the page's choice)."
    )
    carried_due: str | None = Field(default=None, description="The new-date box for Slipped ('' clears it).")


class CoordinatorUpdate(BaseModel):
    """What the coordinator tab shows: a status line and, once the coordinator code was right, the report."""

    status: str = ""
    warn: bool = False
    report: ProgramReport | None = None


def refused(e: ComentorError) -> PageUpdate:
    return PageUpdate(status=str(e), warn=True)


def _text(value: Any) -> str:
    """A text box's value: Gradio sends a string, an API caller anything."""
    return value if isinstance(value, str) else ""


class Handlers:
    """The page's events over one Facilitator. Exports are written under `exports_root` (owner-only)."""

    def __init__(self, fac: Facilitator, *, settings: Settings | None = None, exports_root: Path | None = None) -> None:
        self.fac = fac
        self.settings = settings or fac.settings
        if exports_root is None:  # 0700; removed at exit, or at the next start if this process is killed
            exports_root = exportdir.exports_root()
            atexit.register(shutil.rmtree, exports_root, True)
        exports_root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.exports_root = exports_root

    # ------------------------------------------------------------------------------ opening a pair
    def open(self, pair_id: Any, code: Any, *, client: str) -> PageUpdate:
        try:
            outcome = self.fac.open(_text(pair_id), _text(code), client=client)
        except ComentorError as e:
            return refused(e)
        return self._opened(outcome)

    def load(self, saved: Any, query: Mapping[str, str], *, client: str) -> PageUpdate:
        """Page load: a link `?pair=...&code=...[&session=...]` opens the pair; else the grant this browser
        remembers. A link that does not work says why on the page (and the remembered pair, if any, opens)."""
        link_refusal: str | None = None
        if any(query.get(key) for key in ("pair", "code", "session")):
            pair_id, code, session_id = query.get("pair"), query.get("code"), query.get("session")
            try:
                outcome = self.fac.open_link(pair_id, code, client=client, session_id=session_id)
                pinned = bool(session_id) and not outcome.warn  # the session the link named, as it is
                return self._opened(outcome).model_copy(update={"follow": not pinned})
            except ComentorError as e:
                link_refusal = str(e)
        remembered = saved.get("grant") if isinstance(saved, dict) else None
        forget = False
        if isinstance(remembered, str):
            try:
                opened = self._opened(self.fac.reopen(remembered))
            except ComentorError:
                forget = True
            else:
                if link_refusal is None:
                    return opened
                status = f"{link_refusal}. This browser's last pair is open instead: {opened.status}"
                return opened.model_copy(update={"status": status, "warn": True})
        cleared: dict[str, str] | None = {} if forget else None  # the browser forgets a grant that no longer works
        if link_refusal is not None:
            return PageUpdate(status=link_refusal, warn=True, remembered=cleared)
        return PageUpdate(status=FORGOTTEN if forget else OPEN_PROMPT, remembered=cleared)

    def suggest_id(self, names: list[Any], current: Any, hint: Any) -> PageUpdate:
        """The names in the new-pair form changed: suggest an id from them, unless the visitor typed their own
        (the field then differs from the last suggestion). The random ending stays the same while they type."""
        shown = hint.get("shown", "") if isinstance(hint, dict) else ""
        typed = _text(current).strip()
        if typed and typed != shown:
            return PageUpdate()
        suffix = hint.get("suffix") if isinstance(hint, dict) else None
        suggestion = self.fac.suggest_pair_id([_text(n) for n in names], suffix=suffix)
        hint = {"shown": suggestion, "suffix": suggestion.rsplit("-", 1)[-1]}
        return PageUpdate(new_pair_id=suggestion, id_hint=hint)

    def create(
        self,
        partners: list[tuple[Any, Any, Any, Any]],
        goals: Any,
        cadence: Any,
        *,
        client: str,
        pair_id: Any = "",
        hint: Any = None,
    ) -> PageUpdate:
        """The new-pair form: each partner's name, role, offers and seeks, the shared goals, the cadence and the pair
        id (as suggested, or typed). A taken id is refused with a free one, put in the field."""
        names = [_text(name) for name, _role, _offers, _seeks in partners]
        chosen = _text(pair_id).strip()
        if isinstance(hint, dict) and chosen and chosen == hint.get("shown"):
            # the suggestion, untouched: from the names as they are now (a suggestion still on its way is stale)
            chosen = self.fac.suggest_pair_id(names, suffix=hint.get("suffix"))
        draft = PairDraft(
            participants=[
                PartnerDraft(name=_text(name), role=_text(role), offers=_text(offers), seeks=_text(seeks))
                for name, role, offers, seeks in partners
            ],
            shared_goals=_text(goals),
            cadence=_text(cadence),
            pair_id=chosen,
        )
        try:
            outcome = self.fac.create(draft, client=client)
        except PairIdTaken as e:  # the free id goes in the field, as if typed: one more click creates the pair
            return refused(e).model_copy(update={"new_pair_id": e.free, "id_hint": {}})
        except ComentorError as e:
            return refused(e)
        pair = outcome.view.pair
        toast = f"Pair created. Pair id: {pair.id} · access code: {outcome.code} — keep both."
        made = {"pair_info": views.pair_view(pair, outcome.code), "toast": toast, "new_pair_id": "", "id_hint": {}}
        return self._opened(outcome).model_copy(update=made)

    def _opened(self, outcome: Outcome) -> PageUpdate:
        return PageUpdate(
            token=outcome.token,
            remembered={"grant": outcome.token} if outcome.token else None,
            tab="session",
            pair_info=views.pair_view(outcome.view.pair),
            status=outcome.notice,
            warn=outcome.warn,
            view=outcome.view,
            files=self._files(outcome.view),
            follow=True,
            carried_pick="",
        )

    # ------------------------------------------------------------------------------------ the chat
    def send(self, access: Any, speaker: Any, text: Any) -> Iterator[PageUpdate]:
        """A line typed in the chat, slash commands included: the stored turn, the reply as it streams, then the
        session as it is now. The box is cleared once the engine took the line; on a refusal it keeps the text."""
        try:
            live = self.fac.granted(access)
            if not speaker:
                raise InputError("choose who is typing (above the message box) before sending")
            if not _text(text).strip():
                raise InputError("the message is empty; type something before sending")
            events = live.handle(_text(text), speaker=_text(speaker))
            for n, update in enumerate(self._stream(access, live, events)):
                yield update.model_copy(update={"message": ""}) if n == 0 else update
        except ComentorError as e:
            yield refused(e)

    def ask(self, kind: AskKind, access: Any, speaker: Any) -> Iterator[PageUpdate]:
        """A button that asks the facilitator for a move (a question, a challenge, a balance check, the next item)."""
        try:
            live = self.fac.granted(access)
            yield from self._stream(access, live, live.ask(kind, by=speaker if isinstance(speaker, str) else None))
        except ComentorError as e:
            yield refused(e)

    def _stream(self, access: str, live: LiveSession, events: Iterator[Event]) -> Iterator[PageUpdate]:
        """Stream one engine call into the chat: the stored turn, tokens as they come, the finished move; then the
        session as it is now, read once."""
        notes: list[str] = []
        chat: list[dict[str, Any]] | None = None
        streaming = ""
        for event in events:
            if chat is None and event.kind in ("turn", "token", "move"):
                # the conversation so far, read once when the chat first changes: the engine stores a turn or a move
                # before it yields it, so this already holds the event's own turn or move
                chat = views.chat_messages(live.conversation())
            elif event.kind == "turn" and event.turn is not None and chat is not None:
                chat = [*chat, views.turn_message(live.pair, event.turn.speaker, event.turn.text)]
            elif event.kind == "move" and event.move is not None and chat is not None:
                chat = [*chat, *views.move_messages(event.move)]
            if event.kind == "token":
                streaming += event.text
                assert chat is not None
                yield PageUpdate(chat=[*chat, views.streaming_message(streaming)])
                continue
            if event.kind == "move":
                streaming = ""
            elif event.kind in ("notice", "summary") and event.text:
                notes.append(event.text)
            yield PageUpdate(status="; ".join(notes) if notes else None, chat=chat)
        yield self._refresh(access, live, "; ".join(notes))

    # ---------------------------------------------------------------------------------- the agenda
    def plan(self, access: Any, minutes: Any) -> PageUpdate:
        """Draft today's agenda (not started): the table to edit, and the draft bound to this session."""
        try:
            live = self.fac.granted(access)
            if not isinstance(minutes, int | float):
                raise InputError("choose the agenda's length in minutes")
            plan = live.plan_agenda(int(minutes))
        except ComentorError as e:
            return refused(e)
        note = "Agenda drafted: edit items, minutes or leads in the table, then start it."
        return PageUpdate(
            status="; ".join([note, *plan.notes]),
            # bound to the session: Gradio keys this state by a session hash a client can borrow
            draft={"session": live.id, "agenda": plan.agenda.model_dump(mode="json", by_alias=True)},
            draft_rows=views.agenda_rows(live.pair, plan.agenda),
        )

    def start(self, access: Any, draft: Any, table: Any) -> PageUpdate:
        """Start the drafted agenda as the table shows it (the engine applies the edits)."""
        try:
            live = self.fac.granted(access)
            if not isinstance(draft, dict) or draft.get("session") != live.id or not draft.get("agenda"):
                raise InputError(NO_DRAFT)
            try:
                agenda = Agenda.model_validate(draft["agenda"])
            except ValueError:
                raise InputError(NO_DRAFT) from None
            rows = table.values.tolist() if hasattr(table, "values") else list(table or [])
            live.start_agenda(agenda, rows)
        except ComentorError as e:
            return refused(e)
        return self._refresh(access, live, "Agenda started: the first item's clock is running.")

    def tick(self, access: Any) -> PageUpdate:
        """The agenda clock: the session as it is now, or nothing for a page without a (valid) grant."""
        if not access:
            return PageUpdate()
        try:
            return PageUpdate(agenda=self.fac.granted(access).agenda_snapshot())
        except ComentorError:
            return PageUpdate()

    # ----------------------------------------------------------------------------- commitments
    def item(
        self,
        action: ItemAction,
        access: Any,
        speaker: Any,
        item_id: Any,
        new_action: Any = "",
        new_due: Any = "",
        new_owner: Any = None,
    ) -> PageUpdate:
        """Confirm, delete or edit one of the session's items, as the partner chosen as the speaker."""
        edit = action == "edit"
        try:
            live = self.fac.granted(access)
            event = live.change_item(
                _text(item_id),
                by=_text(speaker),
                confirm=action == "confirm",
                delete=action == "delete",
                action=_text(new_action) if edit else None,
                due=_text(new_due) if edit else None,
                owner=(_text(new_owner) or None) if edit else None,
            )
        except ComentorError as e:
            return refused(e)
        return self._refresh(access, live, event.text).model_copy(update={"edit_action": "", "edit_due": ""})

    def carry(self, action: ItemUpdate, access: Any, speaker: Any, item_id: Any, new_due: Any = "") -> PageUpdate:
        """Mark an item from an earlier session done, slipped (to the date typed) or dropped, as the speaker if one
        is chosen. A refusal (a date it cannot read) leaves the page as it is: the choice and the date stay."""
        try:
            live = self.fac.granted(access)
            if not _text(item_id).strip():
                raise InputError(NO_CARRIED)
            due = _text(new_due) if action == "slipped" else None
            event = live.mark_item(_text(item_id), action, due, by=_text(speaker) or None)
        except ComentorError as e:
            return refused(e)
        return self._refresh(access, live, event.text).model_copy(update={"carried_pick": "", "carried_due": ""})

    def summarize(self, access: Any) -> PageUpdate:
        try:
            live = self.fac.granted(access)
            summary = live.end()
        except ComentorError as e:
            return refused(e)
        n = len(summary.commitments)
        note = f"Summarized: {n} accountability item{'s' if n != 1 else ''}. Download the recap or calendar below."
        return self._refresh(access, live, note)

    def feedback(self, access: Any, member: Any, worked: Any, change: Any, balance: Any) -> PageUpdate:
        """One member's check-in feedback on the session (the partner chosen as speaker), stored by the engine; the
        pair sees it in the next session's check-in."""
        if not isinstance(member, str) or not member:
            return PageUpdate(status="choose who is answering (Who speaks) first, then save the feedback", warn=True)
        try:
            live = self.fac.granted(access)
            text = {"worked": _text(worked), "change": _text(change)}
            saved = self.fac.record_feedback(live.id, member, balance=balance, **text)
        except ComentorError as e:
            return refused(e)
        name = views.name_of(live.pair, saved.member)
        which = "" if saved.session_id == live.id else " on the session that ended"
        note = f"Thanks, {name}: your feedback{which} is saved; it opens your next session's check-in."
        return PageUpdate(status=note)

    # ------------------------------------------------------------------------------ the coordinator
    def coordinator(self, code: Any, *, client: str) -> CoordinatorUpdate:
        """The coordinator tab: the program report (counts and scores) for the coordinator code, and only for it; a
        pair's code or grant is refused like any wrong code. No code configured: how to set one."""
        try:
            report = self.fac.coordinator_report(_text(code), client=client)
        except ComentorError as e:
            return CoordinatorUpdate(status=str(e), warn=True)
        return CoordinatorUpdate(status=f"Program report of {report.date.isoformat()}", report=report)

    def coordinator_hint(self) -> str:
        """What the coordinator tab says before a code is tried."""
        from facilitator.access import COORDINATOR_UNSET

        if self.fac.settings.coordinator_code is None:
            return COORDINATOR_UNSET
        return "Enter the coordinator code to see every pair's progress (counts and scores only)."

    def export(self, kind: ExportKind, access: Any) -> PageUpdate:
        """A download button was clicked: the file is already on it; this says so, or why there is none."""
        try:
            self.fac.granted(access).export(kind)
        except ComentorError as e:
            return refused(e)
        return PageUpdate(status=f"{EXPORT_LABELS[kind]} downloaded")

    def new(self, access: Any) -> PageUpdate:
        """The next session of the open pair (its open items carry over): remembered by the browser, followed."""
        try:
            outcome = self.fac.new_session(self.fac.granted(access))
        except ComentorError as e:
            return refused(e)
        return self._moved(outcome, outcome.notice)

    # ------------------------------------------------------------------------------------ live sync
    def sync(self, access: Any, seen: Any, follow: Any = True, pick: Any = None) -> PageUpdate:
        """The page's poll (every second): nothing while the session is as the page last showed it (`seen`, the
        view's revision), else the session as it is now; a page that follows the pair moves to the pair's newest
        open session once one is started. Reads only the session the grant names (and its pair)."""
        if not access:
            return PageUpdate()
        try:
            revision = self.fac.revision(access)
            if follow is True and revision.successor:
                return self._moved(self.fac.reopen(access), "The next session has started; this page is in it now.")
            if revision.tag == _text(seen):
                return PageUpdate()
            view = self.fac.granted(access).view()
        except ComentorError:
            return PageUpdate()
        return PageUpdate(token=access, view=view, files=self._files(view), pick=_text(pick) or None)

    def _moved(self, outcome: Outcome, note: str) -> PageUpdate:
        """The page is now on another session of its pair: its grant, remembered, and the session."""
        return PageUpdate(
            token=outcome.token,
            remembered={"grant": outcome.token} if outcome.token else None,
            status=note,
            view=outcome.view,
            files=self._files(outcome.view),
            follow=True,
        )

    # ------------------------------------------------------------------------------------ helpers
    def _refresh(self, access: str, live: LiveSession, note: str = "") -> PageUpdate:
        """The session after a call: read once, with its export files."""
        view = live.view()
        return PageUpdate(token=access, status=note, view=view, files=self._files(view))

    def _files(self, view: SessionView) -> ExportFiles:
        paths = export_files(self.fac, view, self.exports_root)
        return ExportFiles(md=paths[0], json=paths[1], ics=paths[2])


def export_files(fac: Facilitator, view: SessionView, root: Path) -> tuple[str | None, str | None, str | None]:
    """Write the session's exports under `root/<session>/<summary version>/`, readable by this user only;
    (None, None, None) before a summary.

    `root` is a private temporary folder of the app (see `Handlers`): Gradio accepts files from the temp folder
    but never serves them from there; it serves a copy from its own cache (`ui.app.use_private_gradio_cache`) under an
    unguessable link, given only to this pair's page, and deletes the copy within two hours (`delete_cache`)."""
    summary = view.summary
    if summary is None:
        return None, None, None
    # one folder per version of the summary: every page event re-renders the view, but only a changed summary
    # is exported again (the only time the engine is asked for the files)
    version = hashlib.sha256(summary.model_dump_json().encode()).hexdigest()[:16]
    folder = root / view.session_id / version
    names = [f"comentor-{view.date.isoformat()}-{name}" for name in ("recap.md", "summary.json", "commitments.ics")]
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(dir=root))  # 0700; renamed into place whole, so never seen half-written
        for fmt, name in zip(("md", "json", "ics"), names, strict=True):
            try:
                data = fac.export_session(view.session_id, fmt)  # type: ignore[arg-type]
            except InputError:  # e.g. a calendar needs at least one dated item
                continue
            (staging / name).write_bytes(data)
            (staging / name).chmod(0o600)
        folder.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            staging.rename(folder)
        except OSError:  # another event exported the same version first
            shutil.rmtree(staging, ignore_errors=True)
    paths = [str(folder / name) if (folder / name).is_file() else None for name in names]
    return paths[0], paths[1], paths[2]
