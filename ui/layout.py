"""The page: its widgets, and the wiring from each Gradio event to one `Handlers` method.

Every event goes through `apply`, the one adapter from a `PageUpdate` to the event's output widgets: a field left
None skips its widget (`gr.skip()`), and the session view is rendered by `ui.views` once per update. The api names,
the order of each event's inputs and outputs, the elem_ids and the hidden grant field are the app's API (tests,
reliability probes and benchmarks call them through gradio_client and Playwright): keep them as they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from facilitator.feedback import ANSWER_CHARS, QUESTIONS, SCORE_MAX, SCORE_MIN
from facilitator.models import (
    CADENCE_CHARS,
    MAX_MEMBERS,
    MIN_MEMBERS,
    NAME_CHARS,
    ROLE_CHARS,
    TOPIC_CHARS,
    TOPICS_MAX,
)
from facilitator.pairs import PAIR_ID_CHARS
from facilitator.program import report_html
from facilitator.session import ItemUpdate
from facilitator.settings import Settings
from ui import views
from ui.handlers import AskKind, ExportKind, Handlers, ItemAction, PageUpdate

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

CSS = """
#banner { font-size: 0.85rem; }
#banner p, #status p { margin: 0; }
#status .warn { color: #9a3412; }
#status:empty, #session-state:empty { display: none; }
/* the "Conversation" label sits above the messages, not floating over them: they scroll below it */
#chat [data-testid=block-label] { position: static; flex: none; margin: 6px 0 0 6px; }
#chat .bubble-wrap { height: auto; flex: 1 1 0; min-height: 0; padding-top: 0.5rem; }
#agenda { max-height: calc(100vh - 430px); min-height: 120px; overflow-y: auto; }
#actions { gap: 8px; }
#chat .message h1, #chat .message h2 { font-size: 1.15rem; margin: 0.4em 0 0.2em; }
#chat .message h3, #chat .message h4 { font-size: 1rem; margin: 0.4em 0 0.2em; }
#commitments table, #commitments td, #commitments th, #commitments .cell-wrap {
  font-family: var(--font); font-size: 0.82rem; line-height: 1.3;
}
#commitments td, #commitments th { padding: 4px 6px; }
#summary h3, #summary h4, #summary h5, #summary h6 { margin: 0.6em 0 0.2em; }
footer { display: none !important; }
"""
# the chat fills a laptop's screen (1366x768) with the message box and the actions still in view below it
CHAT_HEIGHT = "max(300px, calc(100vh - 335px))"
ACTION_WIDTH = 100  # px: the five actions share one row under the message box
ITEMS_HEIGHT = 4000  # px: far more rows than a session agrees (the table never scrolls inside itself)
LIST_CHARS = TOPICS_MAX * (TOPIC_CHARS + 2)  # a comma-separated list of topics, as the form takes it
NO_MD: dict[str, Any] = {"latex_delimiters": []}  # no KaTeX anywhere: $$...$$ would skip the sanitizer

# Each event's outputs, by the name of the PageUpdate part they show (see `Page.widget` and `apply`)
VIEW = (
    "chat",
    "speaker",
    "agenda",
    "balance",
    "items",
    "item_pick",
    "edit_owner",
    "summary",
    "export_md",
    "export_json",
    "export_ics",
    "history",
    "lifecycle",
    "new",
    "seen",
    "carried",
    "carried_pick",
    "carried_section",
)
EXPORTS: dict[str, ExportKind] = {"export_md": "md", "export_json": "json", "export_ics": "ics"}
OPENED = ("token", "remembered", "tab", "pair_info", "status", *VIEW, "follow")
CREATED = (*OPENED, "new_pair_id", "id_hint")
SUGGESTED = ("new_pair_id", "id_hint")
SESSION = ("token", "status", *VIEW)
SENT = (*SESSION, "message")
ITEM = (*SESSION, "edit_action", "edit_due")
CARRIED = (*SESSION, "carried_due")
MOVED = (*SESSION, "remembered", "follow")  # the page is now on another session of its pair (new, or followed)
# the live-sync poll: the view without the partner pickers (they never change for a pair; re-rendering them would
# clear the speaker chosen on this page while the other page talks)
SYNCED = tuple(name for name in MOVED if name not in ("speaker", "edit_owner"))
SYNC_SECONDS = 0.75  # "within 2 s": a poll interval, plus the sender's turn and the re-render
DRAFTED = ("status", "draft", "draft_rows")
CLOCK = ("agenda",)
STATUS = ("status",)


def client_of(request: gr.Request | None) -> str:
    """Who is trying access codes, for the attempt limits: the connecting address (not a header a client sets)."""
    client = getattr(request, "client", None) if request is not None else None
    return str(getattr(client, "host", None) or "unknown")


# ----------------------------------------------------------------------------------------------- widgets
@dataclass
class Page:
    """Every widget an event reads or writes, by name."""

    access: gr.Textbox
    draft: gr.State
    remembered: gr.BrowserState
    status: gr.Markdown
    tabs: gr.Tabs
    # the pair tab
    pair_id: gr.Textbox
    code: gr.Textbox
    open_btn: gr.Button
    pair_info: gr.Markdown
    partner_fields: list[gr.Textbox]
    goals: gr.Textbox
    cadence: gr.Textbox
    new_pair_id: gr.Textbox
    id_hint: gr.State
    create_btn: gr.Button
    # the session tab
    chat: gr.Chatbot
    speaker: gr.Radio
    message: gr.Textbox
    send: gr.Button
    asks: dict[AskKind, gr.Button]
    summarize: gr.Button
    agenda: gr.Markdown
    builder: gr.Accordion
    minutes: gr.Slider
    plan: gr.Button
    draft_rows: gr.Dataframe
    start: gr.Button
    balance: gr.Plot
    items: gr.Dataframe
    item_pick: gr.Dropdown
    confirm: gr.Button
    delete: gr.Button
    edit_action: gr.Textbox
    edit_due: gr.Textbox
    edit_owner: gr.Dropdown
    edit: gr.Button
    carried: gr.Dataframe
    carried_section: gr.Accordion
    carried_pick: gr.Dropdown
    carried_due: gr.Textbox
    carried_marks: dict[ItemUpdate, gr.Button]
    summary: gr.Markdown
    exports: dict[ExportKind, gr.DownloadButton]
    new: gr.Button
    feedback: dict[str, Any]
    coordinator: dict[str, Any]
    history: gr.Markdown
    timer: gr.Timer
    lifecycle: gr.Markdown
    seen: gr.Textbox
    follow: gr.Checkbox
    sync: gr.Timer

    def widget(self, name: str) -> Any:
        """The output widget that shows the PageUpdate part `name`."""
        if name in EXPORTS:
            return self.exports[EXPORTS[name]]
        special = {"token": self.access, "tab": self.tabs}
        return special[name] if name in special else getattr(self, name)

    def outputs(self, names: Sequence[str]) -> list[Any]:
        return [self.widget(name) for name in names]


def _pair_tab() -> dict[str, Any]:
    with gr.Tab("Pair", id="pair"), gr.Row():
        with gr.Column():
            gr.Markdown("### Open your pair", **NO_MD)
            pair_id = gr.Textbox(label="Pair id", elem_id="pair-id", max_lines=1)
            code = gr.Textbox(label="Access code", type="password", elem_id="access-code", max_lines=1)
            open_btn = gr.Button("Open", variant="primary", elem_id="open-pair")
            pair_info = gr.Markdown("", elem_id="pair-info", **NO_MD)
        with gr.Column():
            gr.Markdown("### New pair (or circle of 3-5)", **NO_MD)
            fields: list[gr.Textbox] = []
            for n in range(1, MIN_MEMBERS + 1):
                with gr.Group():
                    fields += _partner_fields(n)
            with gr.Accordion(
                f"A circle? Members {MIN_MEMBERS + 1} to {MAX_MEMBERS}", open=False, elem_id="more-members"
            ):
                for n in range(MIN_MEMBERS + 1, MAX_MEMBERS + 1):
                    with gr.Group():
                        fields += _partner_fields(n)
            goals = gr.Textbox(
                label="Shared goals (comma separated)", elem_id="goals", max_lines=1, max_length=LIST_CHARS
            )
            cadence = gr.Textbox(
                label="How often you meet", value="every two weeks", max_lines=1, max_length=CADENCE_CHARS
            )
            new_pair_id = gr.Textbox(
                label="Pair id (you open the pair with it)",
                info="Suggested from your names; change it if you like: lower-case letters, digits, - _ .",
                elem_id="new-pair-id",
                max_lines=1,
                max_length=PAIR_ID_CHARS,
            )
            id_hint = gr.State({})
            create_btn = gr.Button("Create pair", elem_id="create-pair")
    return {
        "pair_id": pair_id,
        "code": code,
        "open_btn": open_btn,
        "pair_info": pair_info,
        "partner_fields": fields,
        "goals": goals,
        "cadence": cadence,
        "new_pair_id": new_pair_id,
        "id_hint": id_hint,
        "create_btn": create_btn,
    }


def _partner_fields(n: int) -> list[gr.Textbox]:
    """Partner (member) n's name, role, offers and seeks."""
    who = "Partner" if n <= MIN_MEMBERS else "Member"
    return [
        gr.Textbox(label=f"{who} {n}: name", elem_id=f"p{n}-name", max_lines=1, max_length=NAME_CHARS),
        gr.Textbox(label="Role", elem_id=f"p{n}-role", max_lines=1, max_length=ROLE_CHARS),
        gr.Textbox(label="Offers (comma separated)", elem_id=f"p{n}-offers", max_lines=1, max_length=LIST_CHARS),
        gr.Textbox(label="Seeks (comma separated)", elem_id=f"p{n}-seeks", max_lines=1, max_length=LIST_CHARS),
    ]


def _chat_column() -> dict[str, Any]:
    """The chat, and below it in one screen: who is typing, the message box with Send, and the actions."""
    chat = gr.Chatbot(
        elem_id="chat",
        label="Conversation",
        height=CHAT_HEIGHT,
        sanitize_html=True,
        allow_tags=False,
        latex_delimiters=[],  # no KaTeX; ```mermaid is disarmed by safe_markdown and the CSP
        feedback_options=None,
        placeholder="Say hello, or generate an agenda to begin.",
        buttons=["copy_all"],
        group_consecutive_messages=False,
    )
    with gr.Row(equal_height=True):
        speaker = gr.Radio(choices=[], label="Who is typing", elem_id="speaker", scale=0, min_width=210)
        message = gr.Textbox(
            label="Message",
            placeholder="What you say (@facilitator asks the facilitator a question)",
            elem_id="message",
            lines=1,
            max_lines=4,
            scale=4,
        )
        send = gr.Button("Send", variant="primary", elem_id="send", scale=0, min_width=96)
    with gr.Row(elem_id="actions"):
        asks: dict[AskKind, gr.Button] = {
            "question": gr.Button("Suggest a question", elem_id="suggest-question", size="sm", min_width=ACTION_WIDTH),
            "challenge": gr.Button("Challenge us", elem_id="challenge", size="sm", min_width=ACTION_WIDTH),
            "balance": gr.Button("Balance check", elem_id="balance-check", size="sm", min_width=ACTION_WIDTH),
            "next": gr.Button("Next agenda item", elem_id="next-item", size="sm", min_width=ACTION_WIDTH),
        }
        summarize = gr.Button("Summarize commitments", elem_id="summarize", size="sm", min_width=180)
    return {"chat": chat, "speaker": speaker, "message": message, "send": send, "asks": asks, "summarize": summarize}


def _agenda_column() -> dict[str, Any]:
    agenda = gr.Markdown(elem_id="agenda", **NO_MD)
    with gr.Accordion("Build or edit today's agenda", open=False, elem_id="agenda-builder") as builder:
        minutes = gr.Slider(15, 120, value=45, step=5, label="Length (minutes)", elem_id="minutes")
        plan = gr.Button("Generate agenda", elem_id="plan-agenda", size="sm")
        draft_rows = gr.Dataframe(
            headers=views.AGENDA_HEADERS,
            datatype=["str", "number", "str"],
            interactive=True,
            elem_id="agenda-table",
            wrap=True,
            column_widths=["60%", "20%", "20%"],
        )
        start = gr.Button("Start this agenda", elem_id="start-agenda", size="sm")
    balance = gr.Plot(label="Balance", show_label=False, elem_id="balance")
    return {
        "agenda": agenda,
        "builder": builder,
        "minutes": minutes,
        "plan": plan,
        "draft_rows": draft_rows,
        "start": start,
        "balance": balance,
    }


def _items_section() -> dict[str, Any]:
    """The commitments: the table (every row, no inner scroll), then one row to pick and edit an item, and its
    buttons. (Room below the table for the pair's open items from earlier sessions.)"""
    gr.Markdown("### Commitments", elem_id="commitments-title", **NO_MD)
    items = gr.Dataframe(
        headers=views.ITEM_HEADERS,
        interactive=False,
        elem_id="commitments",
        wrap=True,
        max_height=ITEMS_HEIGHT,  # every row shown: the page scrolls, not the table
        buttons=[],
        column_widths=["5%", "8%", "29%", "13%", "33%", "12%"],
    )
    with gr.Row(equal_height=True, elem_id="item-edit"):
        item_pick = gr.Dropdown(choices=[], label="Item", elem_id="item-pick", scale=3)
        edit_action = gr.Textbox(label="New action", elem_id="edit-action", max_lines=1, scale=3)
        edit_due = gr.Textbox(label="New due date", elem_id="edit-due", max_lines=1, scale=1, min_width=150)
        edit_owner = gr.Dropdown(choices=[], label="New owner", elem_id="edit-owner", scale=1, min_width=130)
    with gr.Row(elem_id="item-buttons"):
        confirm = gr.Button("Confirm (as the speaker)", elem_id="confirm-item", size="sm")
        edit = gr.Button("Save edit", elem_id="edit-item", size="sm")
        delete = gr.Button("Delete", variant="stop", elem_id="delete-item", size="sm")
    return {
        "items": items,
        "item_pick": item_pick,
        "confirm": confirm,
        "delete": delete,
        "edit_action": edit_action,
        "edit_due": edit_due,
        "edit_owner": edit_owner,
        "edit": edit,
    }


def _carried_section() -> dict[str, Any]:
    """Open items from earlier sessions of the pair, each marked done, slipped (to a new date) or dropped."""
    # shown only while the pair has items from earlier sessions (an empty block would push the page past two screens)
    with gr.Accordion(
        "Open items from earlier sessions", open=True, visible="hidden", elem_id="carried-section"
    ) as section:
        carried = gr.Dataframe(
            headers=views.CARRIED_HEADERS,
            interactive=False,
            elem_id="carried-items",
            wrap=True,
            column_widths=["12%", "9%", "31%", "10%", "8%", "30%"],
        )
        with gr.Row():
            carried_pick = gr.Dropdown(
                choices=[], label="Earlier item", elem_id="carried-pick", scale=3, allow_custom_value=True
            )
            carried_due = gr.Textbox(
                label="New date (for Slipped)",
                placeholder="e.g. YYYY-MM-DD or next Friday",
                elem_id="carried-due",
                max_lines=1,
                scale=2,
            )
        with gr.Row():
            marks: dict[ItemUpdate, gr.Button] = {
                "done": gr.Button("Done", elem_id="carried-done", size="sm"),
                "slipped": gr.Button("Slipped (new date)", elem_id="carried-slipped", size="sm"),
                "dropped": gr.Button("Dropped", variant="stop", elem_id="carried-dropped", size="sm"),
            }
    return {
        "carried": carried,
        "carried_section": section,
        "carried_pick": carried_pick,
        "carried_due": carried_due,
        "carried_marks": marks,
    }


def _summary_section() -> dict[str, Any]:
    gr.Markdown("### Summary and export", **NO_MD)
    summary = gr.Markdown(elem_id="summary", **NO_MD)
    with gr.Row():
        exports: dict[ExportKind, gr.DownloadButton] = {
            "md": gr.DownloadButton("Markdown recap", elem_id="export-md", size="sm"),
            "json": gr.DownloadButton("JSON", elem_id="export-json", size="sm"),
            "ics": gr.DownloadButton("Calendar (.ics)", elem_id="export-ics", size="sm"),
        }
        new = gr.Button("Start a new session", elem_id="new-session", size="sm")
    return {"summary": summary, "exports": exports, "new": new}


def _feedback_section() -> dict[str, Any]:
    """Each member's three check-in answers, saved for the partner chosen as speaker (under the items: the summary
    column is the taller one)."""
    with gr.Accordion("Check-in feedback (after Summarize, each of you as the speaker)", open=False):
        with gr.Row():
            fb_worked = gr.Textbox(label=QUESTIONS["worked"], elem_id="fb-worked", max_lines=2, max_length=ANSWER_CHARS)
            fb_change = gr.Textbox(label=QUESTIONS["change"], elem_id="fb-change", max_lines=2, max_length=ANSWER_CHARS)
        with gr.Row():
            fb_balance = gr.Radio(
                choices=[str(n) for n in range(SCORE_MIN, SCORE_MAX + 1)],
                label=QUESTIONS["balance"],
                elem_id="fb-balance",
                scale=3,
            )
            fb_save = gr.Button("Save my feedback", elem_id="fb-save", scale=1)
    feedback = {"worked": fb_worked, "change": fb_change, "balance": fb_balance, "save": fb_save}
    return {"feedback": feedback}


def _coordinator_tab(hint: str) -> dict[str, Any]:
    """The coordinator's page: the program report behind the coordinator code (a pair's code does not open it)."""
    with gr.Tab("Coordinator", id="coordinator"):
        gr.Markdown(views.status_markdown(hint), elem_id="coord-hint", **NO_MD)
        with gr.Row():
            code = gr.Textbox(label="Coordinator code", type="password", elem_id="coord-code", max_lines=1, scale=3)
            show = gr.Button("Show the program report", elem_id="coord-show", scale=1)
        status = gr.Markdown("", elem_id="coord-status", **NO_MD)
        plot = gr.Plot(elem_id="coord-plot", show_label=False, visible=False)
        report = gr.HTML("", elem_id="coord-report")
    return {"code": code, "show": show, "status": status, "plot": plot, "report": report}


def widgets(banner: str, secret: str | None, coordinator_hint: str = "") -> Page:
    """Build the page's widgets (inside a `gr.Blocks` context)."""
    # the grant: sent by the page with every event (a client that only knows a session hash does not have it)
    access = gr.Textbox(value="", visible="hidden", elem_id="access-grant", max_lines=1)
    draft = gr.State(None)
    remembered = gr.BrowserState(None, storage_key="comentor-access", secret=secret)
    gr.Markdown(banner, elem_id="banner", **NO_MD)
    status = gr.Markdown("", elem_id="status", **NO_MD)
    with gr.Tabs(selected="pair") as tabs:
        pair = _pair_tab()
        with gr.Tab("Session", id="session"):
            lifecycle = gr.Markdown("", elem_id="session-state", **NO_MD)
            with gr.Row(equal_height=False):
                with gr.Column(scale=2):
                    chat = _chat_column()
                with gr.Column(scale=1, min_width=360):
                    agenda = _agenda_column()
            with gr.Row(equal_height=False):  # the items beside the summary: the page ends within two screens
                with gr.Column(scale=2):
                    items = _items_section()
                    carried = _carried_section()
                    feedback = _feedback_section()
                with gr.Column(scale=1, min_width=360):
                    summary = _summary_section()
            session = {**chat, **agenda, **items, **carried, **feedback, **summary}
        with gr.Tab("History", id="history"):
            history = gr.Markdown(elem_id="history", **NO_MD)
        coordinator = _coordinator_tab(coordinator_hint)
    timer = gr.Timer(30)
    # live sync: the revision this page shows, whether it follows the pair's newest session, and the poll
    seen = gr.Textbox(value="", visible="hidden", elem_id="seen-revision", max_lines=1)
    follow = gr.Checkbox(value=True, visible="hidden", elem_id="follow-newest")
    sync = gr.Timer(SYNC_SECONDS)
    return Page(
        access=access,
        draft=draft,
        remembered=remembered,
        status=status,
        tabs=tabs,
        history=history,
        timer=timer,
        lifecycle=lifecycle,
        seen=seen,
        follow=follow,
        sync=sync,
        coordinator=coordinator,
        **pair,
        **session,
    )


# ----------------------------------------------------------------------------------------- the adapter
class _Rendered:
    """One PageUpdate as widget values, each rendered at most once (the session view fans out to many widgets)."""

    def __init__(self, update: PageUpdate) -> None:
        self.update = update
        self._cache: dict[str, Any] = {}

    def value(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self._render(name)
        return self._cache[name]

    def _render(self, name: str) -> Any:
        u = self.update
        simple: dict[str, Callable[[], Any]] = {
            "token": lambda: u.token,
            "remembered": lambda: u.remembered,
            "tab": lambda: gr.Tabs(selected=u.tab) if u.tab else None,
            "pair_info": lambda: u.pair_info,
            "status": lambda: None if u.status is None else views.status_markdown(u.status, u.warn),
            "message": lambda: u.message,
            "draft": lambda: u.draft,
            "draft_rows": lambda: u.draft_rows,
            "edit_action": lambda: u.edit_action,
            "edit_due": lambda: u.edit_due,
            "new_pair_id": lambda: u.new_pair_id,
            "id_hint": lambda: u.id_hint,
            "follow": lambda: u.follow,
            "carried_due": lambda: u.carried_due,
        }
        if name in simple:
            value = simple[name]()
            return gr.skip() if value is None else value
        if name == "chat" and u.chat is not None:
            return u.chat
        if name == "agenda" and u.agenda is not None:
            return views.agenda_view(u.agenda)
        if name in EXPORTS:
            return gr.skip() if u.files is None else u.files.of(EXPORTS[name])
        return gr.skip() if u.view is None else self._view(name)

    def _view(self, name: str) -> Any:
        view = self.update.view
        assert view is not None
        pair = view.pair
        match name:
            case "chat":
                return views.chat_messages(view)
            case "speaker":
                return gr.update(choices=views.speaker_choices(pair))
            case "agenda":
                return views.agenda_view(view)
            case "balance":
                return views.balance_figure(pair, view.balance)
            case "items":
                return views.item_rows(pair, view.items)
            case "item_pick":
                choices = views.item_choices(pair, view.items)
                kept = self.update.pick if self.update.pick in {value for _label, value in choices} else None
                return gr.update(choices=choices, value=kept)
            case "edit_owner":
                return gr.update(choices=views.speaker_choices(pair), value=None)
            case "summary":
                return views.summary_view(view)
            case "history":
                return views.history_view(view)
            case "lifecycle":
                return views.lifecycle_view(view)
            case "new":
                return gr.update(value=views.next_session_label(view), variant="primary" if view.ended else "secondary")
            case "seen":
                return view.revision
            case "carried":
                return views.carried_rows(pair, view.carried)
            case "carried_section":
                return gr.update(visible=True if view.carried else "hidden")
            case "carried_pick":
                choices = views.carried_choices(pair, view.carried)
                if self.update.carried_pick is None:  # the page's choice stays (a stale one is refused by the engine)
                    return gr.update(choices=choices)
                return gr.update(choices=choices, value=self.update.carried_pick or None)
        raise KeyError(name)


def apply(update: PageUpdate, names: Sequence[str]) -> Any:
    """The adapter: `update` as the values of the outputs `names` (one value for a single output, as Gradio takes
    it); a refusal is also shown as a toast."""
    if update.warn and update.status:
        gr.Warning(views.toast_text(update.status))
    if update.toast:
        gr.Info(update.toast, duration=8)
    rendered = _Rendered(update)
    values = [rendered.value(name) for name in names]
    return values[0] if len(values) == 1 else values


# ------------------------------------------------------------------------------------------- the wiring
ONCE: dict[str, Any] = {"trigger_mode": "once"}


def _padded(values: tuple[Any, ...], size: int) -> tuple[Any, ...]:
    """`values` cut or filled with None to `size` (the form's fields, whatever an API client sent)."""
    return (*values[:size], *([None] * max(0, size - len(values))))


def wire_pair(demo: gr.Blocks, page: Page, h: Handlers) -> None:
    """Opening a pair: the Open button and the code box, the new-pair form, and the page load."""
    opened = page.outputs(OPENED)

    def on_open(pair_id: str, code: str, request: gr.Request) -> Any:
        return apply(h.open(pair_id, code, client=client_of(request)), OPENED)

    def on_create(request: gr.Request, *values: Any) -> Any:
        """Partners 1-2 (name, role, offers, seeks each), goals, cadence, pair id, hint, then members 3-5 (the
        order of the API before circles, extended at the end)."""
        values = _padded(values, 12 + 4 * (MAX_MEMBERS - MIN_MEMBERS))  # a client may send fewer fields
        first, (goals, cadence, pair_id, hint), more = values[:8], values[8:12], values[12:]
        fields = [*first, *more]
        partners = [tuple(fields[i : i + 4]) for i in range(0, len(fields), 4)]
        made = h.create(partners, goals, cadence, client=client_of(request), pair_id=pair_id, hint=hint)
        return apply(made, CREATED)

    def on_names(*values: Any) -> Any:
        """Names 1-2, pair id, hint, then names 3-5."""
        values = _padded(values, 4 + MAX_MEMBERS - MIN_MEMBERS)
        (name1, name2, pair_id, hint), more = values[:4], values[4:]
        return apply(h.suggest_id([name1, name2, *more], pair_id, hint), SUGGESTED)

    def on_load(saved: dict[str, Any] | None, request: gr.Request) -> Any:
        query = {k: str(v) for k, v in dict(request.query_params).items()} if request else {}
        return apply(h.load(saved, query, client=client_of(request)), OPENED)

    inputs = [page.pair_id, page.code]
    page.open_btn.click(on_open, inputs, opened, api_name="on_open", **ONCE)
    page.code.submit(on_open, inputs, opened, api_name="on_open_1", **ONCE)
    pairs_part, more_part = page.partner_fields[: 4 * MIN_MEMBERS], page.partner_fields[4 * MIN_MEMBERS :]
    form = [*pairs_part, page.goals, page.cadence, page.new_pair_id, page.id_hint, *more_part]
    page.create_btn.click(on_create, form, page.outputs(CREATED), api_name="on_create", **ONCE)
    names = page.partner_fields[::4]
    gr.on(
        [field.change for field in names],  # `input` misses a paste (Gradio sends it on key presses)
        on_names,
        [*names[:MIN_MEMBERS], page.new_pair_id, page.id_hint, *names[MIN_MEMBERS:]],
        page.outputs(SUGGESTED),
        api_name="on_names",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    # a link `?pair=...&code=...` opens the pair once; the code then leaves the address bar and the history
    demo.load(on_load, [page.remembered], opened, api_name="on_load").then(
        None, js="() => { if (location.search) history.replaceState(null, '', location.pathname); }"
    )


def wire_chat(page: Page, h: Handlers) -> None:
    """The message box and Send, and the buttons that ask the facilitator for a move."""

    def on_send(access: str | None, who_speaks: str | None, text: str) -> Iterator[Any]:
        for update in h.send(access, who_speaks, text):
            yield apply(update, SENT)

    def asker(kind: AskKind) -> Callable[..., Iterator[Any]]:
        def on_ask(access: str | None, who_speaks: str | None) -> Iterator[Any]:
            for update in h.ask(kind, access, who_speaks):
                yield apply(update, SESSION)

        return on_ask

    inputs = [page.access, page.speaker, page.message]
    page.send.click(on_send, inputs, page.outputs(SENT), api_name="on_send", **ONCE)
    page.message.submit(on_send, inputs, page.outputs(SENT), api_name="on_send_1", **ONCE)
    for n, (kind, button) in enumerate(page.asks.items()):
        name = "on_ask" if n == 0 else f"on_ask_{n}"
        button.click(asker(kind), [page.access, page.speaker], page.outputs(SESSION), api_name=name, **ONCE)


def wire_agenda(page: Page, h: Handlers) -> None:
    """Drafting and starting the agenda, and its clock."""

    def on_plan(access: str | None, length: float) -> Any:
        return apply(h.plan(access, length), DRAFTED)

    def on_start(access: str | None, draft: dict[str, Any] | None, table: Any) -> Any:
        return apply(h.start(access, draft, table), SESSION)

    def on_tick(access: str | None) -> Any:
        return apply(h.tick(access), CLOCK)

    def on_started(access: str | None) -> Any:
        """The builder folds away once the agenda runs (the panel above it shows the agenda)."""
        shown = h.tick(access).agenda
        return gr.Accordion(open=False) if shown is not None and shown.agenda is not None else gr.skip()

    page.plan.click(on_plan, [page.access, page.minutes], page.outputs(DRAFTED), api_name="on_plan", **ONCE)
    inputs = [page.access, page.draft, page.draft_rows]
    started = page.start.click(on_start, inputs, page.outputs(SESSION), api_name="on_start", **ONCE)
    started.then(on_started, [page.access], [page.builder], api_visibility="private", show_progress="hidden")
    page.timer.tick(on_tick, [page.access], page.outputs(CLOCK), api_name="on_tick", show_progress="hidden")


def wire_items(page: Page, h: Handlers) -> None:
    """Confirming, deleting and editing items; summarizing, the downloads and a new session."""

    def on_item(action: ItemAction) -> Callable[..., Any]:
        def handler(
            access: str | None,
            who_speaks: str | None,
            item_id: str | None,
            new_action: str = "",
            new_due: str = "",
            new_owner: str | None = None,
        ) -> Any:
            return apply(h.item(action, access, who_speaks, item_id, new_action, new_due, new_owner), ITEM)

        return handler

    def on_summarize(access: str | None) -> Any:
        return apply(h.summarize(access), SESSION)

    def on_export(kind: ExportKind) -> Callable[..., Any]:
        def handler(access: str | None) -> Any:
            return apply(h.export(kind, access), STATUS)

        return handler

    def on_new(access: str | None) -> Any:
        return apply(h.new(access), MOVED)

    who = [page.access, page.speaker, page.item_pick]
    edits = [*who, page.edit_action, page.edit_due, page.edit_owner]
    changes: list[tuple[str, gr.Button, ItemAction, list[Any]]] = [
        ("handler", page.confirm, "confirm", who),
        ("handler_1", page.delete, "delete", who),
        ("handler_2", page.edit, "edit", edits),
    ]
    for name, button, action, inputs in changes:
        button.click(on_item(action), inputs, page.outputs(ITEM), api_name=name, **ONCE)
    page.summarize.click(on_summarize, [page.access], page.outputs(SESSION), api_name="on_summarize", **ONCE)
    for n, (kind, download) in enumerate(page.exports.items(), start=3):
        download.click(on_export(kind), [page.access], page.outputs(STATUS), api_name=f"handler_{n}")
    page.new.click(on_new, [page.access], page.outputs(MOVED), api_name="on_new", **ONCE)


def wire_feedback(page: Page, h: Handlers) -> None:
    """A member's check-in feedback: saved for the partner chosen as speaker."""
    form = page.feedback

    def on_feedback(access: str | None, who: str | None, worked: str, change: str, balance: str | None) -> Any:
        return apply(h.feedback(access, who, worked, change, balance), STATUS)

    inputs = [page.access, page.speaker, form["worked"], form["change"], form["balance"]]
    form["save"].click(on_feedback, inputs, page.outputs(STATUS), api_name="on_feedback", **ONCE)


def wire_coordinator(page: Page, h: Handlers) -> None:
    """The coordinator tab: the code is checked by the engine on every click (no grant, nothing remembered)."""
    tab = page.coordinator

    def on_coordinator(code: str, request: gr.Request) -> Any:
        update = h.coordinator(code, client=client_of(request))
        status = views.status_markdown(update.status, update.warn)
        if update.report is None:
            return status, gr.update(value=None, visible=False), ""
        return status, gr.update(value=views.program_figure(update.report), visible=True), report_html(update.report)

    outputs = [tab["status"], tab["plot"], tab["report"]]
    tab["show"].click(on_coordinator, [tab["code"]], outputs, api_name="on_coordinator", **ONCE)


def wire_carried(page: Page, h: Handlers) -> None:
    """Marking an item from an earlier session done, slipped (to the date typed) or dropped."""

    def on_carry(action: ItemUpdate) -> Callable[..., Any]:
        def handler(access: str | None, who_speaks: str | None, item_id: str | None, new_due: str = "") -> Any:
            return apply(h.carry(action, access, who_speaks, item_id, new_due), CARRIED)

        return handler

    inputs = [page.access, page.speaker, page.carried_pick, page.carried_due]
    for n, (action, button) in enumerate(page.carried_marks.items()):
        name = "on_carry" if n == 0 else f"on_carry_{n}"
        button.click(on_carry(action), inputs, page.outputs(CARRIED), api_name=name, **ONCE)


def wire_sync(page: Page, h: Handlers) -> None:
    """Live sync: every second the page asks whether its session changed (a cheap read of the store, so it holds
    across replicas) and re-renders only when it did."""

    def on_sync(access: str | None, seen: str | None, follow: bool | None, pick: str | None) -> Any:
        return apply(h.sync(access, seen, follow, pick), SYNCED)

    inputs = [page.access, page.seen, page.follow, page.item_pick]
    page.sync.tick(
        on_sync, inputs, page.outputs(SYNCED), api_name="on_sync", show_progress="hidden", show_progress_on=[page.seen]
    )


def build(h: Handlers, *, banner: str, secret: str | None, settings: Settings) -> gr.Blocks:
    """The Blocks app over `h`, its events wired and its queue sized from `settings`."""
    with gr.Blocks(
        title="comentor — co-mentoring facilitator",
        analytics_enabled=False,
        delete_cache=(3600, 3600),  # exported files leave Gradio's cache within two hours
    ) as demo:
        page = widgets(banner, secret, h.coordinator_hint())
        wire_pair(demo, page, h)
        wire_chat(page, h)
        wire_agenda(page, h)
        wire_items(page, h)
        wire_feedback(page, h)
        wire_coordinator(page, h)
        wire_carried(page, h)
        wire_sync(page, h)
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    return demo
