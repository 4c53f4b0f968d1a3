"""The Gradio app a pair opens during their meeting.

It maps engine calls and events to widgets and holds no facilitation logic: every decision (what to say, which items
were agreed, who may see what) is made in `facilitator/`. Per-visitor state is only a grant: a token the server signs
when the pair is opened with its access code (naming the pair and the session, expiring), held by the page in a hidden
field (and remembered in the browser for a refresh). The page sends it with every event and every handler verifies it
through `Facilitator.granted`: the Gradio API can be called without the page, and Gradio's server-side state is keyed
only by a session hash the client chooses.
"""

from __future__ import annotations

import atexit
import hashlib
import html
import os
import re
import secrets
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from facilitator import exportdir
from facilitator.engine import DEMO_PAIR_ID, AgendaStatus, Facilitator, ItemView, LiveSession, Opened
from facilitator.exceptions import ComentorError, InputError
from facilitator.knowledge.bank import QUESTION_BANK_SOURCE
from facilitator.models import (
    CADENCE_CHARS,
    NAME_CHARS,
    ROLE_CHARS,
    TOPIC_CHARS,
    TOPICS_MAX,
    Agenda,
    Balance,
    Move,
    Pair,
    Participant,
    Summary,
)
from facilitator.settings import Settings
from facilitator.textutil import clip, display_safe, safe_markdown

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


import gradio as gr

CSS = """
#banner { font-size: 0.92rem; }
#status p { margin: 0; }
#status .warn { color: #9a3412; }
#agenda { max-height: 460px; overflow-y: auto; }
footer { display: none !important; }
"""
_REF = re.compile(r"\s*\[(c[0-9a-f]{8,}|q\d{3,}|[a-z][a-z0-9-]{2,40})\]")
LIST_CHARS = TOPICS_MAX * (TOPIC_CHARS + 2)  # a comma-separated list of topics, as the form takes it
ITEM_HEADERS = ["#", "Owner", "Action", "Due", "From the conversation", "Confirmed"]
AGENDA_HEADERS = ["Item", "Minutes", "Lead"]


class Access(BaseModel):
    """A verified grant: the pair and session it names, and the token itself (sent back to the page)."""

    pair: str
    session: str
    token: str


def client_of(request: gr.Request | None) -> str:
    """Who is trying access codes, for the attempt limits: the connecting address (not a header a client sets)."""
    client = getattr(request, "client", None) if request is not None else None
    return str(getattr(client, "host", None) or "unknown")


# ----------------------------------------------------------------------------------------------- rendering
def _name(pair: Pair, pid: str) -> str:
    return pair.participant(pid).first_name if pid in pair.ids else pid


def move_messages(fac: Facilitator, pair: Pair, move: Move) -> list[dict[str, Any]]:
    """A facilitator move as chat messages: the text, then one collapsible message per cited passage."""
    numbers = {c.id: n for n, c in enumerate(move.citations, start=1)}
    text = _REF.sub(lambda m: f" [{numbers[m.group(1)]}]" if m.group(1) in numbers else m.group(), move.text)
    body = safe_markdown(text)
    if move.note:
        body += f"\n\n*Note: {safe_markdown(move.note)}*"
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": body}]
    for citation in move.citations:
        if citation.source == QUESTION_BANK_SOURCE:
            continue  # a bank question is already in the text; only passages and patterns open
        passage = fac.passage(citation)
        if not passage:
            continue
        label = citation.title or citation.source
        messages.append(
            {
                "role": "assistant",
                "content": safe_markdown(clip(passage, 900)) + f"\n\n*Source: {safe_markdown(citation.source)}*",
                "metadata": {"title": f"[{numbers[citation.id]}] {safe_markdown(clip(label, 80))}", "status": "done"},
            }
        )
    return messages


def turn_message(pair: Pair, speaker: str, text: str) -> dict[str, Any]:
    return {"role": "user", "content": f"**{safe_markdown(_name(pair, speaker))}:** {safe_markdown(text)}"}


def chat_messages(fac: Facilitator, live: LiveSession) -> list[dict[str, Any]]:
    """The whole conversation from the store: partners' turns, each followed by the moves made after it."""
    after: dict[int, list[Move]] = defaultdict(list)
    for index, move in live.moves():
        after[index].append(move)
    messages: list[dict[str, Any]] = []
    for move in after.get(-1, []):
        messages += move_messages(fac, live.pair, move)
    for turn in live.turns:
        messages.append(turn_message(live.pair, turn.speaker, turn.text))
        for move in after.get(turn.index, []):
            messages += move_messages(fac, live.pair, move)
    return messages


def agenda_view(live: LiveSession) -> str:
    if live.agenda is None:
        return "### Agenda\nNo agenda yet. Generate one for today below, edit it if you like, and start it."
    status: AgendaStatus = live.agenda_status()
    lines = [f"### Agenda · {live.agenda.total_minutes} minutes"]
    if status.item is not None and status.minutes_left is not None:
        left = (
            f"{abs(status.minutes_left):.0f} min over time"
            if status.over_time
            else f"{status.minutes_left:.0f} min left"
        )
        lines.append(f"**Now ({status.position + 1} of {status.count}): {safe_markdown(status.item.title)} · {left}**")
    elif status.item is None:
        lines.append("**All items covered.** Summarize your commitments to close.")
    lines.append("")
    for n, item in enumerate(live.agenda.items):
        mark = "✓" if n < status.position else "▶" if n == status.position else "·"
        lead = f" · led by {safe_markdown(_name(live.pair, item.lead))}" if item.lead else ""
        lines.append(f"{mark} **{safe_markdown(item.title)}** ({item.minutes} min{lead})")
        if n == status.position:
            if item.purpose:
                lines.append(f"  \n  {safe_markdown(item.purpose)}")
            for q in item.questions[:3]:
                who = "both" if q.for_ == "both" else safe_markdown(_name(live.pair, q.for_))
                lines.append(f"  \n  – *{who}:* {safe_markdown(q.text)}")
        lines.append("")
    return "\n".join(lines)


def agenda_rows(pair: Pair, agenda: Agenda | None) -> list[list[Any]]:
    if agenda is None:
        return []
    return [[i.title, i.minutes, _name(pair, i.lead) if i.lead else "both"] for i in agenda.items]


def balance_figure(pair: Pair, bal: Balance) -> Any:
    """Talk share and challenges per partner, side by side (matplotlib, drawn without pyplot's global state)."""
    from matplotlib.figure import Figure

    # a name is drawn as written: with `$` escaped, matplotlib never reads it as mathtext (`$\foo$` failed the chart)
    names = [clip(display_safe(_name(pair, pid)), 14).replace("$", "\\$") for pid in pair.ids]
    where = list(range(len(names)))  # positions, not categories: two partners may share a first name
    shares = [bal.participants[pid].word_share * 100 if pid in bal.participants else 0 for pid in pair.ids]
    challenges = [bal.participants[pid].challenges if pid in bal.participants else 0 for pid in pair.ids]
    colors = ["#2563eb", "#ea580c"]
    fig = Figure(figsize=(5.2, 2.3), dpi=100, layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    left.barh(where, shares, color=colors)
    left.set_yticks(where, labels=names)
    left.axvline(50, color="#6b7280", linestyle="--", linewidth=1)
    left.set_xlim(0, 100)
    left.set_title("Share of words (%)", fontsize=10)
    for y, value in enumerate(shares):
        left.text(min(value + 2, 88), y, f"{value:.0f}%", va="center", fontsize=9)
    left.invert_yaxis()
    right.bar(where, challenges, color=colors)
    right.set_xticks(where, labels=names)
    right.set_title("Own assumptions challenged", fontsize=10)
    right.set_ylim(0, max([*challenges, 2]) + 1)
    right.yaxis.get_major_locator().set_params(integer=True)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
    return fig


def _confirmation(pair: Pair, view: ItemView) -> str:
    if view.confirmed_by_both:
        return "✔ both"
    if view.confirmed_by:
        return "✔ " + ", ".join(display_safe(_name(pair, p)) for p in view.confirmed_by)
    return "not yet"


def item_rows(pair: Pair, views: list[ItemView]) -> list[list[Any]]:
    return [
        [
            n,
            display_safe(_name(pair, v.item.owner)),
            display_safe(v.item.action),
            v.item.due.isoformat() if v.item.due else "no date",
            " / ".join(f"“{display_safe(clip(q, 110))}”" for q in v.quotes) or "—",
            _confirmation(pair, v),
        ]
        for n, v in enumerate(views, start=1)
    ]


def item_choices(pair: Pair, views: list[ItemView]) -> list[tuple[str, str]]:
    return [
        (f"{n}. {display_safe(_name(pair, v.item.owner))}: {display_safe(clip(v.item.action, 60))}", v.item.id or "")
        for n, v in enumerate(views, start=1)
    ]


def history_view(fac: Facilitator, access: Access, pair: Pair) -> str:
    history = fac.history_of(access.pair)
    lines = ["### Past sessions", ""]
    for info in reversed(history.sessions):
        items = len(info.summary.commitments) if info.summary else 0
        current = " (this session)" if info.id == access.session else ""
        agreed = f"{items} item{'s' if items != 1 else ''} agreed"
        lines.append(f"- {info.date.isoformat()} · {info.status} · {agreed}{current}")
    lines += ["", "### Open commitments", ""]
    if not history.open_items:
        lines.append("None open.")
    for c in history.open_items:
        due = c.due.isoformat() if c.due else "no date"
        lines.append(f"- **{safe_markdown(_name(pair, c.owner))}**: {safe_markdown(c.action)} (due {due}, {c.status})")
    return "\n".join(lines)


def pair_view(pair: Pair, code: str | None = None, link: str | None = None) -> str:
    lines = [f"### {safe_markdown(' & '.join(p.name for p in pair.participants))}", ""]
    for p in pair.participants:
        role = f", {safe_markdown(p.role)}" if p.role else ""
        lines.append(
            f"- **{safe_markdown(p.name)}**{role} · offers: {safe_markdown(', '.join(p.offers) or '—')}"
            f" · seeks: {safe_markdown(', '.join(p.seeks) or '—')}"
        )
    if pair.shared_goals:
        lines.append(f"- Shared goals: {safe_markdown(', '.join(pair.shared_goals))}")
    if pair.cadence:
        lines.append(f"- Meets {safe_markdown(pair.cadence)}")
    if code:
        lines += [
            "",
            f"**Pair id `{pair.id}` · access code `{code}`.** Keep the code: you need it to open this pair again.",
        ]
        if link:
            lines.append(f"Direct link: `{link}`")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------- exports
def export_files(live: LiveSession, summary: Summary | None, root: Path) -> tuple[str | None, str | None, str | None]:
    """Write the session's exports under `root/<session>/<summary version>/`, readable by this user only;
    (None, None, None) before a summary.

    `root` is a private temporary folder of the app (see `build_app`): Gradio accepts files from the temp folder
    but never serves them from there; it serves a copy from its own cache (`use_private_gradio_cache`) under an
    unguessable link, given only to this pair's page, and deletes the copy within two hours (`delete_cache`)."""
    if summary is None:
        return None, None, None
    # one folder per version of the summary: every page event re-renders the view, but only a changed summary
    # is exported again
    version = hashlib.sha256(summary.model_dump_json().encode()).hexdigest()[:16]
    folder = root / live.id / version
    names = [f"comentor-{live.date.isoformat()}-{name}" for name in ("recap.md", "summary.json", "commitments.ics")]
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(dir=root))  # 0700; renamed into place whole, so never seen half-written
        for fmt, name in zip(("md", "json", "ics"), names, strict=True):
            try:
                data = live.export(fmt, summary)  # type: ignore[arg-type]
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


def use_private_gradio_cache(settings: Settings) -> Path:
    """Point Gradio's cache at `settings.gradio_cache_dir` unless GRADIO_TEMP_DIR is set; call before building the
    app (Gradio reads it when the app is built and launched)."""
    if not os.environ.get("GRADIO_TEMP_DIR"):
        folder = settings.gradio_cache_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        os.environ["GRADIO_TEMP_DIR"] = str(folder)
    return Path(os.environ["GRADIO_TEMP_DIR"])


# ------------------------------------------------------------------------------------------------------ app
def build_app(fac: Facilitator, *, settings: Settings | None = None, secret: str | None = None) -> gr.Blocks:
    """The Blocks app over one Facilitator. `secret` is the key Gradio's BrowserState uses for what this browser
    remembers (pair id and access code, in its local storage); Gradio also sends it to the page, so it is no
    protection against someone who uses the same browser profile — only a stable key across restarts."""
    settings = settings or fac.settings
    exports_root = exportdir.exports_root()  # 0700; removed at exit, or at the next start if this process is killed
    atexit.register(shutil.rmtree, exports_root, True)
    if fac.brain.name == "offline":
        banner = (
            "**comentor** · running the **offline facilitator** (no language model). "
            "To use a model, set `OPENAI_API_KEY` and/or `OPENAI_BASE_URL` (and `COMENTOR_MODEL`) and restart."
        )
    else:
        banner = (
            f"**comentor** · running the **LLM facilitator** with model `{fac.brain.name}`. "
            "Set `COMENTOR_FACILITATOR=offline` and restart to run without a model."
        )

    def session(token: str | None) -> tuple[Access, LiveSession]:
        """The visitor's session, if the grant the page sent is genuine (AccessError otherwise)."""
        live = fac.granted(token if isinstance(token, str) else None)
        assert token is not None
        return Access(pair=live.pair_id, session=live.id, token=token), live

    def granted(opened: Opened) -> tuple[Access, LiveSession]:
        live = opened.live
        return Access(pair=live.pair_id, session=live.id, token=opened.token), live

    def view(live: LiveSession, access: Access) -> list[Any]:
        views = live.items()
        summary = live.summary()
        md, js, ics = export_files(live, summary, exports_root)
        return [
            chat_messages(fac, live),
            gr.update(choices=[(p.first_name, p.id) for p in live.pair.participants]),
            agenda_view(live),
            balance_figure(live.pair, live.balance()),
            item_rows(live.pair, views),
            gr.update(choices=item_choices(live.pair, views), value=None),
            gr.update(choices=[(p.first_name, p.id) for p in live.pair.participants], value=None),
            _summary_text(summary, live),
            md,
            js,
            ics,
            history_view(fac, access, live.pair),
        ]

    def _summary_text(summary: Summary | None, live: LiveSession) -> str:
        if summary is None:
            return "*No summary yet. Press **Summarize commitments** when you are ready to close.*"
        recap = safe_markdown(live.export("md", summary).decode())
        return re.sub(r"^(#{1,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", recap, flags=re.MULTILINE)

    def status(text: str, warn: bool = False) -> str:
        return f'<span class="warn">⚠ {safe_markdown(text)}</span>' if warn else safe_markdown(text)

    def failed(e: ComentorError) -> str:
        gr.Warning(html.escape(str(e)).replace("`", "'"))  # the toast shows plain text, not Markdown
        return status(str(e), warn=True)

    with gr.Blocks(
        title="comentor — co-mentoring facilitator",
        analytics_enabled=False,
        delete_cache=(3600, 3600),  # exported files leave Gradio's cache within two hours
    ) as demo:
        # the grant: sent by the page with every event (a client that only knows a session hash does not have it)
        access_state = gr.Textbox(value="", visible="hidden", elem_id="access-grant", max_lines=1)
        draft_state = gr.State(None)
        remembered = gr.BrowserState(None, storage_key="comentor-access", secret=secret)
        gr.Markdown(banner, elem_id="banner", latex_delimiters=[])
        status_md = gr.Markdown("", elem_id="status", latex_delimiters=[])
        with gr.Tabs(selected="pair") as tabs:
            with gr.Tab("Pair", id="pair"), gr.Row():
                with gr.Column():
                    gr.Markdown("### Open your pair", latex_delimiters=[])
                    pair_id_box = gr.Textbox(label="Pair id", elem_id="pair-id", max_lines=1)
                    code_box = gr.Textbox(label="Access code", type="password", elem_id="access-code", max_lines=1)
                    open_btn = gr.Button("Open", variant="primary", elem_id="open-pair")
                    pair_md = gr.Markdown("", elem_id="pair-info", latex_delimiters=[])
                with gr.Column():
                    gr.Markdown("### New pair", latex_delimiters=[])
                    fields: list[gr.Textbox] = []
                    for n in (1, 2):
                        with gr.Group():
                            fields += [
                                gr.Textbox(
                                    label=f"Partner {n}: name", elem_id=f"p{n}-name", max_lines=1, max_length=NAME_CHARS
                                ),
                                gr.Textbox(label="Role", elem_id=f"p{n}-role", max_lines=1, max_length=ROLE_CHARS),
                                gr.Textbox(
                                    label="Offers (comma separated)",
                                    elem_id=f"p{n}-offers",
                                    max_lines=1,
                                    max_length=LIST_CHARS,
                                ),
                                gr.Textbox(
                                    label="Seeks (comma separated)",
                                    elem_id=f"p{n}-seeks",
                                    max_lines=1,
                                    max_length=LIST_CHARS,
                                ),
                            ]
                    goals_box = gr.Textbox(
                        label="Shared goals (comma separated)", elem_id="goals", max_lines=1, max_length=LIST_CHARS
                    )
                    cadence_box = gr.Textbox(
                        label="How often you meet", value="every two weeks", max_lines=1, max_length=CADENCE_CHARS
                    )
                    create_btn = gr.Button("Create pair", elem_id="create-pair")
            with gr.Tab("Session", id="session"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            elem_id="chat",
                            label="Conversation",
                            height=470,
                            sanitize_html=True,
                            allow_tags=False,
                            latex_delimiters=[],  # no KaTeX; ```mermaid is disarmed by safe_markdown and the CSP
                            feedback_options=None,
                            placeholder="Say hello, or generate an agenda to begin.",
                            group_consecutive_messages=False,
                        )
                        with gr.Row():
                            speaker = gr.Radio(choices=[], label="Who is typing", elem_id="speaker", scale=1)
                            message = gr.Textbox(
                                label="Message",
                                placeholder="Type what you say; @facilitator asks the facilitator a question",
                                elem_id="message",
                                lines=2,
                                scale=3,
                            )
                        send = gr.Button("Send", variant="primary", elem_id="send")
                        with gr.Row():
                            suggest_btn = gr.Button("Suggest a question", elem_id="suggest-question", size="sm")
                            challenge_btn = gr.Button("Challenge us", elem_id="challenge", size="sm")
                            balance_btn = gr.Button("Balance check", elem_id="balance-check", size="sm")
                            next_btn = gr.Button("Next agenda item", elem_id="next-item", size="sm")
                            summarize_btn = gr.Button("Summarize commitments", elem_id="summarize", size="sm")
                    with gr.Column(scale=2):
                        agenda_md = gr.Markdown(elem_id="agenda", latex_delimiters=[])
                        with gr.Accordion("Build or edit today's agenda", open=False, elem_id="agenda-builder"):
                            minutes = gr.Slider(15, 120, value=45, step=5, label="Length (minutes)", elem_id="minutes")
                            plan_btn = gr.Button("Generate agenda", elem_id="plan-agenda", size="sm")
                            agenda_table = gr.Dataframe(
                                headers=AGENDA_HEADERS,
                                datatype=["str", "number", "str"],
                                interactive=True,
                                elem_id="agenda-table",
                                wrap=True,
                                column_widths=["60%", "20%", "20%"],
                            )
                            start_btn = gr.Button("Start this agenda", elem_id="start-agenda", size="sm")
                        balance_plot = gr.Plot(label="Balance", show_label=False, elem_id="balance")
                gr.Markdown("### Commitments", latex_delimiters=[])
                items_table = gr.Dataframe(
                    headers=ITEM_HEADERS,
                    interactive=False,
                    elem_id="commitments",
                    wrap=True,
                    column_widths=["4%", "10%", "30%", "11%", "35%", "10%"],
                )
                with gr.Row():
                    item_pick = gr.Dropdown(choices=[], label="Item", elem_id="item-pick", scale=3)
                    confirm_btn = gr.Button("Confirm (as the speaker)", elem_id="confirm-item", scale=1)
                    delete_btn = gr.Button("Delete", variant="stop", elem_id="delete-item", scale=1)
                with gr.Row():
                    edit_action = gr.Textbox(label="New action", elem_id="edit-action", max_lines=1, scale=3)
                    edit_due = gr.Textbox(label="New due date", elem_id="edit-due", max_lines=1, scale=1)
                    edit_owner = gr.Dropdown(choices=[], label="New owner", elem_id="edit-owner", scale=1)
                    edit_btn = gr.Button("Save edit", elem_id="edit-item", scale=1)
                gr.Markdown("### Summary and export", latex_delimiters=[])
                summary_md = gr.Markdown(elem_id="summary", latex_delimiters=[])
                with gr.Row():
                    export_md = gr.DownloadButton("Markdown recap", elem_id="export-md", size="sm")
                    export_json = gr.DownloadButton("JSON", elem_id="export-json", size="sm")
                    export_ics = gr.DownloadButton("Calendar (.ics)", elem_id="export-ics", size="sm")
                    new_btn = gr.Button("Start a new session", elem_id="new-session", size="sm")
            with gr.Tab("History", id="history"):
                history_md = gr.Markdown(elem_id="history", latex_delimiters=[])
        timer = gr.Timer(30)

        views = [
            chat,
            speaker,
            agenda_md,
            balance_plot,
            items_table,
            item_pick,
            edit_owner,
            summary_md,
            export_md,
            export_json,
            export_ics,
            history_md,
        ]
        skip_views = [gr.skip() for _ in views]

        # -------------------------------------------------------------- opening a pair
        def opened(access: Access, live: LiveSession, note: str, info: str) -> list[Any]:
            return [
                access.token,
                {"grant": access.token},
                gr.Tabs(selected="session"),
                info,
                status(note),
                *view(live, access),
            ]

        open_outputs = [access_state, remembered, tabs, pair_md, status_md, *views]

        def on_open(pair_id: str, code: str, request: gr.Request) -> list[Any]:
            try:
                who, live = granted(fac.grant(pair_id, code, client=client_of(request)))
            except ComentorError as e:
                return [gr.skip(), gr.skip(), gr.skip(), gr.skip(), failed(e), *skip_views]
            return opened(
                who, live, f"Opened {' & '.join(p.first_name for p in live.pair.participants)}.", pair_view(live.pair)
            )

        def on_load(saved: dict[str, Any] | None, request: gr.Request) -> list[Any]:
            params = dict(request.query_params) if request else {}
            attempts: list[Callable[[], tuple[Access, LiveSession]]] = []
            if params.get("pair") and params.get("code"):
                pair_id, code = str(params["pair"]), str(params["code"])
                attempts.append(lambda: granted(fac.grant(pair_id, code, client=client_of(request))))
            remembered_grant = saved.get("grant") if isinstance(saved, dict) else None
            if isinstance(remembered_grant, str):
                attempts.append(lambda: session(remembered_grant))
            for attempt in attempts:
                try:
                    who, live = attempt()
                except ComentorError:
                    continue
                names = " & ".join(p.first_name for p in live.pair.participants)
                return opened(who, live, f"{names}: today's session is open.", pair_view(live.pair))
            note = "Open your pair with its id and access code, or create a new pair."
            return [gr.skip(), gr.skip(), gr.skip(), gr.skip(), status(note), *skip_views]

        def on_create(
            name1: str,
            role1: str,
            offers1: str,
            seeks1: str,
            name2: str,
            role2: str,
            offers2: str,
            seeks2: str,
            goals: str,
            cadence: str,
            request: gr.Request,
        ) -> list[Any]:
            values = [name1, role1, offers1, seeks1, name2, role2, offers2, seeks2, goals, cadence]
            parts = [(v or "").strip() if isinstance(v, str) else "" for v in values]
            try:
                if any("\x00" in part for part in parts):
                    raise InputError("a field holds a NUL character (often pasted from another program); remove it")
                people = []
                for n in range(2):
                    name, role, offers, seeks = parts[n * 4 : n * 4 + 4]
                    if not name:
                        raise InputError(f"partner {n + 1} needs a name")
                    try:
                        people.append(
                            Participant(
                                id=_participant_id(name),
                                name=name,
                                role=role,
                                offers=_split(offers),
                                seeks=_split(seeks),
                            )
                        )
                    except ValueError as e:
                        raise InputError(f"partner {n + 1}: {_first_error(e)}; shorten it and try again") from None
                if people[0].id == people[1].id:
                    raise InputError("the two partners need different names (their first names become their ids)")
                try:
                    pair = Pair(participants=people, shared_goals=_split(parts[8]), cadence=parts[9] or None)
                except ValueError as e:
                    raise InputError(f"the pair is not valid: {_first_error(e)}; fix it and try again") from None
                pair, code = fac.register_pair(pair)
                assert pair.id is not None
                who, live = granted(fac.grant(pair.id, code, client=client_of(request)))
            except ComentorError as e:
                return [gr.skip(), gr.skip(), gr.skip(), gr.skip(), failed(e), *skip_views]
            gr.Info(f"Pair created. Pair id: {pair.id} · access code: {code} — keep both.", duration=8)
            note = f"Pair created with the id {pair.id}; your access code is {code}."
            return opened(who, live, note, pair_view(pair, code))

        open_btn.click(on_open, [pair_id_box, code_box], open_outputs, trigger_mode="once")
        code_box.submit(on_open, [pair_id_box, code_box], open_outputs, trigger_mode="once")
        create_btn.click(on_create, [*fields, goals_box, cadence_box], open_outputs, trigger_mode="once")
        # a link `?pair=...&code=...` opens the pair once; the code then leaves the address bar and the history
        demo.load(on_load, [remembered], open_outputs).then(
            None, js="() => { if (location.search) history.replaceState(null, '', location.pathname); }"
        )

        # -------------------------------------------------------------------- the chat
        session_outputs = [access_state, status_md, *views]

        def refreshed(who: Access, live: LiveSession, note: str = "", warn: bool = False) -> list[Any]:
            return [who.token, status(note, warn), *view(live, who)]

        def run_events(
            who: Access, live: LiveSession, events: Iterator[Any], history: list[dict[str, Any]]
        ) -> Iterator[list[Any]]:
            """Stream one engine call into the chat: stored turn, tokens as they come, the finished move."""
            notes: list[str] = []
            streaming = ""
            for event in events:
                if event.kind == "turn" and event.turn is not None:
                    history = [*history, turn_message(live.pair, event.turn.speaker, event.turn.text)]
                elif event.kind == "token":
                    streaming += event.text
                    # the whole reply so far, escaped again each time: an unfinished fence or image shows as text
                    yield [gr.skip(), gr.skip(), [*history, {"role": "assistant", "content": safe_markdown(streaming)}]]
                    continue
                elif event.kind == "move" and event.move is not None:
                    streaming = ""
                    history = [*history, *move_messages(fac, live.pair, event.move)]
                elif event.kind == "notice":
                    notes.append(event.text)
                yield [gr.skip(), status("; ".join(notes)) if notes else gr.skip(), history]
            live.proposed_items()
            yield refreshed(who, live, "; ".join(notes))

        def padded(update: list[Any], box: Any = None) -> list[Any]:
            """A short streaming update (state, status, chat) or a full refresh, plus the message box."""
            rest = [gr.skip()] * (len(views) - 1) if len(update) == 3 else []
            return [*update, *rest, gr.skip() if box is None else box]

        def on_send(access: str | None, who_speaks: str | None, text: str) -> Iterator[list[Any]]:
            try:
                who, live = session(access)
                if not who_speaks:
                    raise InputError("choose who is typing (above the message box) before sending")
                if not text or not text.strip():
                    raise InputError("the message is empty; type something before sending")
                limit = settings.max_message_chars
                if len(text.strip()) > limit:
                    raise InputError(
                        f"the message is {len(text.strip())} characters, over the {limit}-character limit; "
                        "split it into shorter messages (your text is still in the box)"
                    )
                history = chat_messages(fac, live)
                command = text.strip().startswith("/")
                events = live.handle(text, speaker=who_speaks) if command else live.say(who_speaks, text)
                for n, update in enumerate(run_events(who, live, events, history)):
                    # once the turn is stored the box is cleared, so a second click cannot send it twice
                    yield padded(update, "" if n == 0 else None)
            except ComentorError as e:
                yield [gr.skip(), failed(e), *skip_views, gr.skip()]

        send_outputs = [*session_outputs, message]
        send.click(on_send, [access_state, speaker, message], send_outputs, trigger_mode="once")
        message.submit(on_send, [access_state, speaker, message], send_outputs, trigger_mode="once")

        def asker(kind: str) -> Any:
            def on_ask(access: str | None, who_speaks: str | None) -> Iterator[list[Any]]:
                try:
                    who, live = session(access)
                    history = chat_messages(fac, live)
                    for update in run_events(who, live, live.ask(kind, by=who_speaks), history):  # type: ignore[arg-type]
                        yield padded(update)[:-1]
                except ComentorError as e:
                    yield [gr.skip(), failed(e), *skip_views]

            return on_ask

        for button, kind in (
            (suggest_btn, "question"),
            (challenge_btn, "challenge"),
            (balance_btn, "balance"),
            (next_btn, "next"),
        ):
            button.click(asker(kind), [access_state, speaker], session_outputs, trigger_mode="once")

        # ------------------------------------------------------------------ agenda
        def on_plan(access: str | None, length: float) -> list[Any]:
            try:
                _who, live = session(access)
                agenda, notes = live.plan_agenda(int(length))
            except ComentorError as e:
                return [failed(e), gr.skip(), gr.skip()]
            note = "Agenda drafted: edit items, minutes or leads in the table, then start it."
            return [
                status("; ".join([note, *notes])),
                # bound to the session: Gradio keys this state by a session hash a client can borrow
                {"session": live.id, "agenda": agenda.model_dump(mode="json", by_alias=True)},
                agenda_rows(live.pair, agenda),
            ]

        plan_btn.click(on_plan, [access_state, minutes], [status_md, draft_state, agenda_table], trigger_mode="once")

        def on_start(access: str | None, draft: dict[str, Any] | None, table: Any) -> list[Any]:
            from facilitator.agenda import edit_agenda

            try:
                who, live = session(access)
                if not isinstance(draft, dict) or draft.get("session") != live.id or not draft.get("agenda"):
                    raise InputError("generate an agenda first (the Generate agenda button)")
                rows = table.values.tolist() if hasattr(table, "values") else list(table or [])
                agenda = edit_agenda(Agenda.model_validate(draft["agenda"]), live.pair, rows)
                live.use_agenda(agenda)
            except ComentorError as e:
                return [gr.skip(), failed(e), *skip_views]
            return refreshed(who, live, "Agenda started: the first item's clock is running.")

        start_btn.click(on_start, [access_state, draft_state, agenda_table], session_outputs, trigger_mode="once")

        def on_tick(access: str | None) -> Any:
            if not access:
                return gr.skip()
            try:
                _who, live = session(access)
            except ComentorError:
                return gr.skip()
            return agenda_view(live)

        timer.tick(on_tick, [access_state], [agenda_md], show_progress="hidden")

        # ------------------------------------------------------------- commitments
        def on_item(action: str) -> Any:
            def handler(
                access: str | None,
                who_speaks: str | None,
                item_id: str | None,
                new_action: str = "",
                new_due: str = "",
                new_owner: str | None = None,
            ) -> list[Any]:
                try:
                    who, live = session(access)
                    if not who_speaks:
                        raise InputError("choose who you are (Who is typing) first: each partner confirms for themself")
                    if not item_id:
                        raise InputError("choose an item in the list first")
                    if action == "edit" and not (new_action.strip() or new_due.strip() or new_owner):
                        raise InputError("type a new action or due date, or choose a new owner, then save")
                    event = live.change_item(
                        item_id,
                        by=who_speaks,
                        confirm=action == "confirm",
                        delete=action == "delete",
                        action=new_action if action == "edit" else None,
                        due=new_due if action == "edit" else None,
                        owner=new_owner if action == "edit" else None,
                    )
                except ComentorError as e:
                    return [gr.skip(), failed(e), *skip_views, gr.skip(), gr.skip()]
                return [*refreshed(who, live, event.text), "", ""]

            return handler

        item_outputs = [*session_outputs, edit_action, edit_due]
        confirm_btn.click(on_item("confirm"), [access_state, speaker, item_pick], item_outputs, trigger_mode="once")
        delete_btn.click(on_item("delete"), [access_state, speaker, item_pick], item_outputs, trigger_mode="once")
        edit_btn.click(
            on_item("edit"),
            [access_state, speaker, item_pick, edit_action, edit_due, edit_owner],
            item_outputs,
            trigger_mode="once",
        )

        def on_summarize(access: str | None) -> list[Any]:
            try:
                who, live = session(access)
                live.proposed_items()
                summary = live.end()
            except ComentorError as e:
                return [gr.skip(), failed(e), *skip_views]
            n = len(summary.commitments)
            note = f"Summarized: {n} accountability item{'s' if n != 1 else ''}. Download the recap or calendar below."
            return refreshed(who, live, note)

        summarize_btn.click(on_summarize, [access_state], session_outputs, trigger_mode="once")

        def on_export(kind: str) -> Any:
            def handler(access: str | None) -> str:
                try:
                    _who, live = session(access)
                    live.export(kind)  # type: ignore[arg-type]
                except ComentorError as e:
                    return failed(e)
                label = {"md": "Markdown recap", "json": "JSON summary", "ics": "Calendar (.ics)"}[kind]
                return status(f"{label} downloaded")

            return handler

        for download, kind in ((export_md, "md"), (export_json, "json"), (export_ics, "ics")):
            download.click(on_export(kind), [access_state], [status_md])

        def on_new(access: str | None) -> list[Any]:
            try:
                who, live = granted(fac.new_session_for(session(access)[1]))
            except ComentorError as e:
                return [gr.skip(), failed(e), *skip_views]
            return refreshed(who, live, "New session started; open items from before are on its agenda.")

        new_btn.click(on_new, [access_state], session_outputs, trigger_mode="once")

    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=settings.ui_queue_size)
    return demo


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _participant_id(name: str) -> str:
    from facilitator.models import slug

    return slug(name.split()[0]) if name.split() else "partner"


def _first_error(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(x) for x in first.get('loc', ()))}: {first.get('msg', '')}"
    return str(e)


# ---------------------------------------------------------------------------------------------------- serve
def theme() -> gr.themes.Base:
    """A theme with system fonts only: the page must not fetch fonts (or anything) from outside."""
    system = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Soft(primary_hue="blue", secondary_hue="orange", font=system, font_mono=mono)


def ui_secret(settings: Settings) -> str:
    """The BrowserState key, kept under COMENTOR_HOME so that what browsers remember survives a restart."""
    path = settings.home_dir / "ui-secret"
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return value
    except OSError:
        return secrets.token_urlsafe(32)


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """COMENTOR_AUTH `user:password[,user:password]` as Gradio's launch auth."""
    if not value:
        return None
    pairs = []
    for entry in value.split(","):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user or not password:
            from facilitator.exceptions import ConfigError

            raise ConfigError("COMENTOR_AUTH must be user:password[,user:password] (e.g. pair:s3cret)")
        pairs.append((user, password))
    return pairs


def prepare(settings: Settings, fac: Facilitator | None = None) -> tuple[Facilitator, str | None]:
    """The facilitator for the app, the bundled guidance indexed on first start, and the demo pair's code (on the
    first start only, when the demo pair is created)."""
    from facilitator.pairs import load_pair
    from facilitator.resources import demo_pair_path

    fac = fac or Facilitator.from_settings(settings)
    if fac.knowledge is not None and fac.knowledge.count() == 0:
        fac.knowledge.add_bundled()
    demo = load_pair(demo_pair_path())
    return fac, fac.ensure_demo_pair(demo)  # the code exists only now: it is stored hashed


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 7860, fac: Facilitator | None = None) -> None:
    """`comentor ui`: build and launch the app (blocking)."""
    auth = parse_auth(settings.auth)
    fac, demo_code = prepare(settings, fac)
    use_private_gradio_cache(settings)
    app = build_app(fac, settings=settings, secret=ui_secret(settings))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if demo_code:
        print(
            f"comentor: demo pair 'ana-ben' (Ana & Ben), access code {demo_code} — "
            f"open http://{shown}:{port}/?pair=ana-ben&code={demo_code}",
            flush=True,
        )
    elif fac.store.has_pair(DEMO_PAIR_ID):
        print(
            f"comentor: demo pair '{DEMO_PAIR_ID}': `comentor pairs code {DEMO_PAIR_ID} --rotate` "
            "gives it a new access code",
            flush=True,
        )
    print(f"comentor: {fac.description} at http://{shown}:{port}/", flush=True)
    from fastapi import Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    from ui import security

    async def busy(request: Request, exc: HTTPException) -> Any:
        """Gradio answers a full queue with 503 'Queue is full. Max size is N...': say so, and when to retry."""
        if exc.status_code == 503 and "queue is full" in str(exc.detail).lower():
            message = "comentor is busy: too many requests are waiting. Try again in a moment."
            return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "5"})
        return await http_exception_handler(request, exc)

    app.launch(
        server_name=host,
        server_port=port,
        app_kwargs=security.app_kwargs({HTTPException: busy}),  # CSP, nosniff, no Referer on every response
        max_file_size=int(settings.max_file_mb * 1024 * 1024),  # the app takes no uploads; Gradio's route still does
        auth=auth,
        auth_message="Sign in with the user and password set in COMENTOR_AUTH." if auth else None,
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        share=False,
        show_error=False,
        quiet=True,
        footer_links=[],
        pwa=False,
        mcp_server=False,
    )
