"""Pure renderers: from the engine's snapshots (`facilitator.snapshots`) to the values the page's widgets take.

No Gradio and no store here: every function takes a `SessionView` (or a part of one) and returns Markdown, chat
messages, table rows, choices or a figure. Every piece of partner or model text goes through `safe_markdown` (Markdown
widgets and the chat) or `display_safe` (plain-text cells and choices) on its way out, so the views are inert whatever
the text holds (tests/test_page_safety.py).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from facilitator.knowledge.bank import QUESTION_BANK_SOURCE
from facilitator.models import Agenda, Balance, Citation, Move, Pair
from facilitator.snapshots import AgendaSnapshot, CarriedItem, Conversation, ItemView, SessionView
from facilitator.textutil import clip, display_safe, safe_markdown

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from facilitator.brains.base import BrainProfile
    from facilitator.program import ProgramReport

Message = dict[str, Any]
_REF = re.compile(r"\s*\[(c[0-9a-f]{8,}|q\d{3,}|[a-z][a-z0-9-]{2,40})\]")
ITEM_HEADERS = ["#", "Owner", "Action", "Due", "From the conversation", "Confirmed"]
AGENDA_HEADERS = ["Item", "Minutes", "Lead"]
CARRIED_HEADERS = ["Id", "Owner", "Action", "Due", "Status", "History"]
NO_AGENDA = "### Agenda\nNo agenda yet. Generate one for today below, edit it if you like, and start it."
NO_SUMMARY = "*No summary yet. Press **Summarize commitments** when you are ready to close.*"
_ITEMS_TABLE = re.compile(r"^(## Accountability items\n\n?)((?:\|.*(?:\n|$))+)", re.MULTILINE)
QUOTE_CELL = 90  # of each quoted line in a commitments-table cell
QUOTE_CHARS = 240  # of a cited passage, in the footnote under the reply
BAR_COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2"]  # one per member of a circle of five


# ------------------------------------------------------------------------------------------------ the page
def name_of(pair: Pair, pid: str) -> str:
    """A partner's first name (unescaped: each caller escapes it for its widget); an unknown id as it is."""
    return pair.participant(pid).first_name if pid in pair.ids else pid


def speaker_choices(pair: Pair) -> list[tuple[str, str]]:
    """(label, value) choices naming each partner: the speaker radio and the new-owner list."""
    return [(p.first_name, p.id) for p in pair.participants]


def names(pair: Pair) -> str:
    return " & ".join(p.first_name for p in pair.participants)


def banner(profile: BrainProfile) -> str:
    """Which facilitator runs, and how to switch."""
    if profile.kind == "offline":
        return (
            "**comentor** · running the **offline facilitator** (no language model). "
            "To use a model, set `OPENAI_API_KEY` and/or `OPENAI_BASE_URL` (and `COMENTOR_MODEL`) and restart."
        )
    return (
        f"**comentor** · running the **LLM facilitator** with model `{profile.model}`. "
        "Set `COMENTOR_FACILITATOR=offline` and restart to run without a model."
    )


def status_markdown(text: str, warn: bool = False) -> str:
    """The status line: a notice, or a warning marked ⚠ (the page colours it)."""
    return f'<span class="warn">⚠ {safe_markdown(text)}</span>' if warn else safe_markdown(text)


def toast_text(text: str) -> str:
    """A warning as a toast shows it: plain text, not Markdown."""
    return html.escape(text).replace("`", "'")


# ------------------------------------------------------------------------------------------------ the chat
def move_messages(move: Move) -> list[Message]:
    """A facilitator move as one chat message: the text, its references numbered, and the cited passages as
    footnotes below it, each from the quote the engine stored with the citation (never looked up here)."""
    numbers = {c.id: n for n, c in enumerate(move.citations, start=1)}
    text = _REF.sub(lambda m: f" [{numbers[m.group(1)]}]" if m.group(1) in numbers else m.group(), move.text)
    body = safe_markdown(text)
    if move.note:
        body += f"\n\n*Note: {safe_markdown(move.note)}*"
    notes = [_footnote(numbers[c.id], c) for c in move.citations if c.source != QUESTION_BANK_SOURCE]
    if notes:  # a bank question is already in the text; passages and patterns are listed
        body += "\n\n**Sources**\n\n" + "\n".join(notes)
    return [{"role": "assistant", "content": body}]


def _footnote(number: int, citation: Citation) -> str:
    """One cited passage as a footnote line: its number, title, a short quote and where it is from."""
    title = safe_markdown(clip(citation.title or citation.source, 80))
    quote = f": “{safe_markdown(clip(' '.join(citation.quote.split()), QUOTE_CHARS))}”" if citation.quote else ""
    source = f" · *{safe_markdown(citation.source)}*" if citation.title else ""
    return f"- \\[{number}\\] **{title}**{quote}{source}"


def turn_message(pair: Pair, speaker: str, text: str) -> Message:
    return {"role": "user", "content": f"**{safe_markdown(name_of(pair, speaker))}:** {safe_markdown(text)}"}


def streaming_message(text: str) -> Message:
    """A reply still streaming: the whole text so far, escaped again each time (an unfinished fence or image shows
    as text)."""
    return {"role": "assistant", "content": safe_markdown(text)}


def chat_messages(view: Conversation | SessionView) -> list[Message]:
    """The whole conversation: partners' turns, each followed by the moves made after it."""
    after: dict[int, list[Move]] = defaultdict(list)
    for at in view.moves:
        after[at.after].append(at.move)
    messages: list[Message] = []
    for move in after.get(-1, []):
        messages += move_messages(move)
    for turn in view.turns:
        messages.append(turn_message(view.pair, turn.speaker, turn.text))
        for move in after.get(turn.index, []):
            messages += move_messages(move)
    return messages


# ---------------------------------------------------------------------------------------------- the agenda
def agenda_view(view: AgendaSnapshot | SessionView) -> str:
    """The agenda panel: every item, the current one with its purpose, questions and the minutes left."""
    agenda, status, pair = view.agenda, view.agenda_status, view.pair
    if agenda is None:
        return NO_AGENDA
    lines = [f"### Agenda · {agenda.total_minutes} minutes"]
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
    for n, item in enumerate(agenda.items):
        mark = "✓" if n < status.position else "▶" if n == status.position else "·"
        lead = f" · led by {safe_markdown(name_of(pair, item.lead))}" if item.lead else ""
        lines.append(f"{mark} **{safe_markdown(item.title)}** ({item.minutes} min{lead})")
        if n == status.position:
            if item.purpose:
                lines.append(f"  \n  {safe_markdown(item.purpose)}")
            for q in item.questions[:3]:
                who = (
                    ("everyone" if pair.is_group else "both")
                    if q.for_ == "both"
                    else safe_markdown(name_of(pair, q.for_))
                )
                lines.append(f"  \n  – *{who}:* {safe_markdown(q.text)}")
        lines.append("")
    return "\n".join(lines)


def agenda_rows(pair: Pair, agenda: Agenda | None) -> list[list[Any]]:
    """The editable agenda table: title, minutes, lead (a first name, or "both"; "all" in a circle)."""
    if agenda is None:
        return []
    everyone = "all" if pair.is_group else "both"
    return [[i.title, i.minutes, name_of(pair, i.lead) if i.lead else everyone] for i in agenda.items]


# --------------------------------------------------------------------------------------------- the balance
def balance_figure(pair: Pair, bal: Balance) -> Figure:
    """Talk share and challenges per member, one bar each (2-5), side by side; the dashed line is an even share
    (matplotlib, drawn without pyplot's global state)."""
    from matplotlib.figure import Figure

    # a name is drawn as written: with `$` escaped, matplotlib never reads it as mathtext (`$\foo$` failed the chart)
    labels = [clip(display_safe(name_of(pair, pid)), 14).replace("$", "\\$") for pid in pair.ids]
    where = list(range(len(labels)))  # positions, not categories: two partners may share a first name
    shares = [bal.participants[pid].word_share * 100 if pid in bal.participants else 0 for pid in pair.ids]
    challenges = [bal.participants[pid].challenges if pid in bal.participants else 0 for pid in pair.ids]
    colors = BAR_COLORS[: len(labels)]
    fig = Figure(figsize=(5.2, 2.3 + 0.35 * max(len(labels) - 2, 0)), dpi=100, layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    left.barh(where, shares, color=colors)
    left.set_yticks(where, labels=labels)
    left.axvline(100 / max(len(labels), 1), color="#6b7280", linestyle="--", linewidth=1)  # an even share
    left.set_xlim(0, 100)
    left.set_title("Share of words (%)", fontsize=10)
    for y, value in enumerate(shares):
        left.text(min(value + 2, 88), y, f"{value:.0f}%", va="center", fontsize=9)
    left.invert_yaxis()
    right.bar(where, challenges, color=colors)
    right.set_xticks(where, labels=labels)
    right.set_title("Assumptions challenged", fontsize=10)
    right.set_ylim(0, max([*challenges, 2]) + 1)
    right.yaxis.get_major_locator().set_params(integer=True)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
    return fig


# ------------------------------------------------------------------------------------ the program report
PLOTTED_PAIRS = 12  # lines on the balance chart; the table lists every pair


def program_figure(report: ProgramReport) -> Figure:
    """For the coordinator: each pair's talk balance over time (the largest member's share of the words, per
    session; 1/N is even) and its sessions held against those its cadence asked for. Only ids and figures."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3), dpi=100, layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    pairs = report.pairs[:PLOTTED_PAIRS]
    for p in pairs:
        points = [(s.date, max(s.shares.values()) * 100) for s in p.sessions if s.shares]
        if points:
            left.plot([d for d, _ in points], [v for _, v in points], marker="o", label=p.pair_id)
    left.axhline(50, color="#6b7280", linestyle="--", linewidth=1)
    left.set_ylim(0, 100)
    left.set_title("Largest share of words per session (%)", fontsize=10)
    if left.get_legend_handles_labels()[0]:
        left.legend(fontsize=8, loc="lower left")
    fig.autofmt_xdate()
    where = list(range(len(pairs)))
    right.bar([x - 0.2 for x in where], [p.sessions_held for p in pairs], width=0.4, label="held")
    right.bar([x + 0.2 for x in where], [p.sessions_expected or 0 for p in pairs], width=0.4, label="expected")
    right.set_xticks(where, labels=[clip(p.pair_id, 14) for p in pairs], rotation=30, fontsize=8)
    right.set_title("Sessions: held vs cadence", fontsize=10)
    right.yaxis.get_major_locator().set_params(integer=True)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
    return fig


# ------------------------------------------------------------------------------------------- the items
def _confirmation(pair: Pair, view: ItemView) -> str:
    if view.confirmed_by_both and not pair.is_group:
        return "✔ both"
    if view.confirmed_by:
        return "✔ " + ", ".join(display_safe(name_of(pair, p)) for p in view.confirmed_by)
    return "not yet"


def item_rows(pair: Pair, items: list[ItemView]) -> list[list[Any]]:
    """The commitments table (plain-text cells): number, owner, action, due, the quoted lines, confirmations."""
    return [
        [
            n,
            display_safe(name_of(pair, v.item.owner)),
            display_safe(v.item.action),
            v.item.due.isoformat() if v.item.due else "no date",
            " / ".join(f"“{display_safe(clip(q, QUOTE_CELL))}”" for q in v.quotes) or "—",
            _confirmation(pair, v),
        ]
        for n, v in enumerate(items, start=1)
    ]


def item_choices(pair: Pair, items: list[ItemView]) -> list[tuple[str, str]]:
    """The item list (plain text): "n. Owner: action", valued by the item's id."""
    return [
        (f"{n}. {display_safe(name_of(pair, v.item.owner))}: {display_safe(clip(v.item.action, 60))}", v.item.id or "")
        for n, v in enumerate(items, start=1)
    ]


# ------------------------------------------------------------------------ items from earlier sessions
def carried_rows(pair: Pair, carried: list[CarriedItem]) -> list[list[Any]]:
    """The earlier sessions' items (plain-text cells): id, owner, action, due, status, history ("; " between)."""
    return [
        [
            display_safe(c.item.id or ""),
            display_safe(name_of(pair, c.item.owner)),
            display_safe(c.item.action),
            c.item.due.isoformat() if c.item.due else "no date",
            c.item.status,
            display_safe("; ".join(c.history)),
        ]
        for c in carried
    ]


def carried_choices(pair: Pair, carried: list[CarriedItem]) -> list[tuple[str, str]]:
    """The open ones to mark (plain text): "id · Owner: action", valued by the item's id."""
    return [
        (
            f"{c.item.id} · {display_safe(name_of(pair, c.item.owner))}: {display_safe(clip(c.item.action, 60))}",
            c.item.id,
        )
        for c in carried
        if c.open and c.item.id
    ]


# ------------------------------------------------------------------------------- summary, history, pair
def summary_view(view: SessionView) -> str:
    """The recap in the summary panel, its headings two levels down (the panel sits under the page's own), its
    accountability table left to the Commitments table beside it (the downloads keep it)."""
    if view.recap_markdown is None:
        return NO_SUMMARY
    recap = safe_markdown(_ITEMS_TABLE.sub(_items_pointer, view.recap_markdown))
    return re.sub(r"^(#{1,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", recap, flags=re.MULTILINE)


def _items_pointer(m: re.Match[str]) -> str:
    rows = len(m.group(2).strip().splitlines()) - 2  # the header and the rule
    agreed = f"{rows} item{'s' if rows != 1 else ''}"
    return f"{m.group(1)}{agreed}, in the Commitments table (the Markdown recap has them too).\n"


def history_view(view: SessionView) -> str:
    """The pair's past sessions (newest first, this one marked) and its open commitments."""
    history, pair = view.history, view.pair
    lines = ["### Past sessions", ""]
    for info in reversed(history.sessions):
        items = len(info.summary.commitments) if info.summary else 0
        current = " (this session)" if info.id == view.session_id else ""
        agreed = f"{items} item{'s' if items != 1 else ''} agreed"
        lines.append(f"- {info.date.isoformat()} · {info.status} · {agreed}{current}")
    lines += ["", "### Open commitments", ""]
    if not history.open_items:
        lines.append("None open.")
    for c in history.open_items:
        due = c.due.isoformat() if c.due else "no date"
        owner = safe_markdown(name_of(pair, c.owner))
        lines.append(f"- **{owner}**: {safe_markdown(c.action)} (due {due}, {c.status})")
    return "\n".join(lines)


def lifecycle_view(view: SessionView) -> str:
    """Above the chat: nothing for an open session; for an ended one, that it is read-only and the way on."""
    if not view.ended:
        return ""
    way = (
        "Your partner has started the next session: press **Join the next session** below."
        if view.successor
        else "Press **Start the next session** below to continue; open items carry over to its agenda."
    )
    return f"**This session ({view.date.isoformat()}) has ended and is read-only.** {way}"


def next_session_label(view: SessionView) -> str:
    """The new-session button: what pressing it does for this session."""
    if not view.ended:
        return "Start a new session"
    return "Join the next session" if view.successor else "Start the next session"


def pair_view(pair: Pair, code: str | None = None, link: str | None = None) -> str:
    """Who the pair is; with a new pair's access code (shown once) and, if given, its direct link."""
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
