"""`comentor`: the terminal is a user interface too. A thin shell over the engine (`facilitator.engine`): every command
calls one engine use case and prints its result (json or md where it has results)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from facilitator.access import link_to
from facilitator.exceptions import ComentorError, InputError
from facilitator.models import Move, Pair, Summary
from facilitator.settings import Settings
from facilitator.textutil import display_safe
from ui.local_model import local_model_command
from ui.match_cli import match_command

if TYPE_CHECKING:
    from facilitator.engine import Facilitator
    from facilitator.snapshots import Enrolment, Event

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="comentor", help="An AI facilitator for co-mentoring sessions.", no_args_is_help=True, add_completion=False
)
knowledge_app = typer.Typer(help="The program guidance the facilitator draws on.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")
pairs_app = typer.Typer(help="Pairs stored on this machine and their access codes.", no_args_is_help=True)
app.add_typer(pairs_app, name="pairs")
program_app = typer.Typer(help="The whole program, for its coordinator: counts and scores only.", no_args_is_help=True)
app.add_typer(program_app, name="program")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    json = "json"
    md = "md"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="json or md")]
AppUrlOption = Annotated[
    str | None,
    typer.Option(
        "--app-url",
        envvar="COMENTOR_APP_URL",
        help="The web app's address, for the link printed with a new code (default: http://127.0.0.1:COMENTOR_PORT/).",
    ),
]


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ComentorError into a one-line message and its exit code (2 for bad input), never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ComentorError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False)
            raise typer.Exit(e.exit_code) from None

    return wrapper


def _settings() -> Settings:
    return Settings()


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


# ------------------------------------------------------------------------------------------------ knowledge
@knowledge_app.command("add")
@handle_errors
def knowledge_add(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (.md, .txt, .pdf).")] = None,
    bundled: Annotated[
        bool, typer.Option("--bundled", help="Index the program guidance shipped with comentor.")
    ] = False,
    relative_to: Annotated[
        Path | None,
        typer.Option(
            "--relative-to",
            help="Name sources relative to this folder (portable citations) instead of by absolute path.",
        ),
    ] = None,
) -> None:
    """Index files and folders; unchanged files are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from facilitator.knowledge import KnowledgeBase

    if not paths and not bundled:
        err.print("[bold red]error:[/] name files or folders to add, or use --bundled for the program guidance")
        raise typer.Exit(2)
    kb = KnowledgeBase.from_settings(_settings())
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("indexing", total=None)

        def advance(source: str, n: int) -> None:
            progress.update(task, advance=n, description=f"indexing {Path(source).name}")

        reports = []
        if bundled:
            reports.append(kb.add_bundled(progress=advance))
        if paths:
            progress.update(task, total=None)
            reports.append(kb.add(paths, progress=advance, relative_to=relative_to))
    added = [s for r in reports for s in r.added]
    updated = [s for r in reports for s in r.updated]
    unchanged = [s for r in reports for s in r.unchanged]
    errors = [e for r in reports for e in r.errors]
    for message in errors:
        err.print(f"[red]skipped:[/] {message}", highlight=False)
    out.print(
        f"added {len(added)}, updated {len(updated)}, unchanged {len(unchanged)}, failed {len(errors)} "
        f"({sum(r.chunks for r in reports)} new chunks; {kb.count()} chunks in the index)",
        highlight=False,
    )
    if any(r.indexed_nothing for r in reports):
        raise typer.Exit(2)


@knowledge_app.command("search")
@handle_errors
def knowledge_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="How many results.")] = 5,
    fmt: FormatOption = Format.md,
) -> None:
    """Ranked chunks of guidance, best first."""
    from facilitator.knowledge import KnowledgeBase

    hits = KnowledgeBase.from_settings(_settings()).search(query, k)
    if fmt is Format.json:
        _print_json([h.model_dump() for h in hits])
        return
    for rank, hit in enumerate(hits, start=1):
        section = f" — {hit.section}" if hit.section else ""
        out.print(f"## {rank}. {hit.title}{section}", highlight=False, markup=False)
        out.print(f"`{hit.source}` · id `{hit.id}` · score {hit.score:.4f}\n", highlight=False, markup=False)
        out.print(hit.text + "\n", highlight=False, markup=False)


@knowledge_app.command("list")
@handle_errors
def knowledge_list(fmt: FormatOption = Format.md) -> None:
    """The indexed sources."""
    from facilitator.knowledge import KnowledgeBase

    sources = KnowledgeBase.from_settings(_settings()).sources()
    if fmt is Format.json:
        _print_json([s.__dict__ for s in sources])
        return
    if not sources:
        out.print("the knowledge base is empty; run `comentor knowledge add --bundled` or `... add PATH`")
    for s in sources:
        out.print(f"- {s.source} ({s.title}; {s.chunks} chunks)", highlight=False, markup=False)


@knowledge_app.command("remove")
@handle_errors
def knowledge_remove(source: Annotated[str, typer.Argument(help="A source as `knowledge list` shows it.")]) -> None:
    """Remove one source's chunks."""
    from facilitator.knowledge import KnowledgeBase

    removed = KnowledgeBase.from_settings(_settings()).remove(source)
    out.print(f"removed {removed} chunks of {source}", highlight=False, markup=False)


# ------------------------------------------------------------------------------------------------ sessions
def _date_option(value: str | None) -> dt.date | None:
    if value is None:
        return None
    from facilitator.dates import resolve_due

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        resolved = resolve_due(value, dt.date.today())
        if resolved is None:
            raise InputError(f"--date {value!r} is not a date; use YYYY-MM-DD") from None
        return resolved


def _print_facilitator(text: str) -> None:
    for line in display_safe(text).splitlines() or [""]:
        sys.stdout.write(f"Facilitator: {line}\n")
    sys.stdout.flush()


def _print_move(move: Move) -> None:
    _print_facilitator(move.text)
    if move.citations:
        cited = "; ".join(f"{c.title or c.source} ({c.source}#{c.id})" for c in move.citations)
        _print_facilitator(f"sources: {cited}")
    if move.note:
        _print_facilitator(f"(note: {move.note})")


def _facilitator(*, guidance: bool = True) -> Facilitator:
    from facilitator.engine import Facilitator

    return Facilitator.from_settings(_settings(), guidance=guidance)


def _print_event(event: Event, pair: Pair) -> None:
    if event.kind == "move" and event.move is not None:
        _print_move(event.move)
    elif event.kind == "notice":
        err.print(f"[yellow]note:[/] {display_safe(event.text)}", highlight=False)
    elif event.kind == "summary" and event.summary is not None:
        _print_summary(event.summary, pair)


def _print_summary(summary: Summary, pair: Pair) -> None:
    _print_facilitator("Session ended. " + (summary.summary or ""))
    for c in summary.commitments:
        owner = pair.participant(c.owner).first_name if c.owner in pair.ids else c.owner
        due = c.due.isoformat() if c.due else "no date"
        _print_facilitator(f"- [{c.id}] {owner}: {c.action} (due {due}; turns {c.evidence})")
    for decision in summary.decisions:
        _print_facilitator(f"- decided: {decision}")


def _app_url(app_url: str | None) -> str:
    """Where the web app is: --app-url, else `comentor ui` on this machine at its port (COMENTOR_PORT)."""
    return app_url or f"http://127.0.0.1:{_settings().port}/"


def _print_new_code(pair_id: str, code: str, app_url: str | None, *, lead: str) -> None:
    """A new access code, printed once (it is stored hashed), with the web-app link that opens the pair."""
    err.print(f"{lead} {code} (shown once: only its hash is kept)", highlight=False, markup=False)
    link = link_to(_app_url(app_url), pair_id, code)
    err.print(f"open the pair in the web app (`comentor ui`): {link}", markup=False)


def _report_enrolment(enrolled: Enrolment, app_url: str | None) -> None:
    pid = enrolled.pair.id
    if enrolled.code is not None:
        _print_new_code(pid, enrolled.code, app_url, lead=f"new pair '{pid}': access code")
        err.print(f"a lost code is replaced with `comentor pairs code {pid} --rotate`", markup=False)
    else:
        err.print(
            f"pair '{pid}' is stored; it opens in the web app with its access code "
            f"(`comentor pairs code {pid} --rotate` issues a new one)",
            style="dim",
            highlight=False,
            markup=False,
        )


@app.command()
@handle_errors
def chat(
    pair_file: Annotated[Path, typer.Argument(help="The pair file (JSON or YAML).")],
    session: Annotated[str | None, typer.Option("--session", help="Resume this session id.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Session date (YYYY-MM-DD); default today.")] = None,
    app_url: AppUrlOption = None,
) -> None:
    """A terminal session: `Name: text` lines are turns; /question /challenge /balance /recap /commitments /end.
    A pair new to this machine is saved and its access code printed once (with the web-app link that opens it)."""
    from facilitator.pairs import load_pair

    pair = load_pair(pair_file)
    fac = _facilitator()
    for warning in fac.ensure_guidance():
        err.print(f"[yellow]warning:[/] {display_safe(warning)}", highlight=False)
    if session:
        live = fac.resume(session)
    else:
        enrolled = fac.enrol(pair)
        _report_enrolment(enrolled, app_url)
        live = fac.start(enrolled.pair, date=_date_option(date))
    interactive = sys.stdin.isatty()
    err.print(
        f"[dim]{fac.description} · session {live.id} · partners: "
        + ", ".join(p.first_name for p in live.pair.participants)
        + " · type `Name: message`, /question, /challenge, /balance, /recap, /commitments, /end[/]",
        highlight=False,
    )
    while True:
        if interactive:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            err.print(f"[dim]session kept open; resume with `comentor chat {pair_file} --session {live.id}`[/]")
            return
        try:
            for event in live.handle(line):
                _print_event(event, live.pair)
                if event.kind == "summary":
                    _ask_feedback(fac, live.id, live.pair, interactive=interactive)
                    return
        except ComentorError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False)


def _prompt(question: str, *, interactive: bool) -> str | None:
    """One answer line from stdin (None at the end of input)."""
    if interactive:
        sys.stdout.write(f"  {question} ")
        sys.stdout.flush()
    line = sys.stdin.readline()
    return None if not line else line.strip()


def _ask_feedback(fac: Facilitator, session_id: str, pair: Pair, *, interactive: bool) -> None:
    """The end-of-session check-in: three short questions to each member (a blank score skips that member)."""
    from facilitator.feedback import QUESTIONS

    err.print("[dim]check-in feedback: three short questions each (leave the score blank to skip)[/]")
    for member in pair.participants:
        _print_facilitator(f"{member.first_name}, your check-in:")
        worked = _prompt(QUESTIONS["worked"], interactive=interactive)
        change = _prompt(QUESTIONS["change"], interactive=interactive) if worked is not None else None
        while change is not None:
            score = _prompt(QUESTIONS["balance"], interactive=interactive)
            if not score:
                err.print(f"[dim]no feedback from {display_safe(member.first_name)}[/]", highlight=False)
                break
            try:
                fac.record_feedback(session_id, member.id, worked=worked, change=change, balance=score)
                _print_facilitator(f"Thanks, {member.first_name}: feedback saved.")
                break
            except ComentorError as e:
                err.print(f"[bold red]error:[/] {e}", highlight=False)
        if change is None:
            err.print(f"[dim]feedback skipped; later: `comentor feedback {session_id} MEMBER --balance N`[/]")
            return


@app.command()
@handle_errors
def feedback(
    session_id: Annotated[str, typer.Argument(help="A session id (see `comentor sessions`).")],
    member: Annotated[str, typer.Argument(help="The member's name or id.")],
    balance: Annotated[str, typer.Option("--balance", "-b", help="How balanced it felt, 1 (not) to 5 (well).")],
    worked: Annotated[str, typer.Option("--worked", help="What worked well.")] = "",
    change: Annotated[str, typer.Option("--change", help="What to change next time.")] = "",
) -> None:
    """One member's end-of-session check-in feedback (answering again replaces it); the pair sees it in the next
    session's check-in, a coordinator only the score."""
    fac = _facilitator(guidance=False)
    saved = fac.record_feedback(session_id, member, worked=worked, change=change, balance=balance)
    out.print(f"feedback from {saved.member} on session {saved.session_id} saved", highlight=False, markup=False)


@app.command()
@handle_errors
def summarize(
    transcript: Annotated[Path, typer.Argument(help="A JSON or plain-text transcript.")],
    date: Annotated[str | None, typer.Option("--date", help="Session date for relative due dates.")] = None,
    fmt: FormatOption = Format.json,
    ics: Annotated[Path | None, typer.Option("--ics", help="Also write the dated items as an .ics calendar.")] = None,
) -> None:
    """Accountability items, decisions, assumptions and balance of a finished conversation."""
    from facilitator.transcripts import load_transcript

    parsed = load_transcript(transcript)
    result = _facilitator(guidance=False).summarize(parsed, date=_date_option(date))
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for item in result.flagged:
        err.print(f"[yellow]not shown:[/] {item.owner}: {item.action} — {'; '.join(item.flags)}")
    if ics is not None:
        from facilitator.export import summary_ics

        ics.write_bytes(summary_ics(result, parsed.participants))
    if fmt is Format.json:
        _print_json(result.model_dump(mode="json", exclude={"date"} if result.date is None else set()))
        return
    from facilitator.export import summary_markdown

    sys.stdout.write(summary_markdown(result, parsed.participants, parsed.turns))


@app.command()
@handle_errors
def agenda(
    pair_file: Annotated[Path, typer.Argument(help="The pair file (JSON or YAML).")],
    previous: Annotated[
        Path | None, typer.Option("--previous", help="Last session's `comentor summarize` JSON (its open items).")
    ] = None,
    minutes: Annotated[int, typer.Option("--minutes", help="Session length in minutes (15-240).")] = 45,
    date: Annotated[str | None, typer.Option("--date", help="Session date (YYYY-MM-DD); default today.")] = None,
    fmt: FormatOption = Format.md,
) -> None:
    """A session agenda: check-in, open commitments by owner, an item led by each partner, feedback, commitments."""
    from rich.markup import escape

    from facilitator.agenda import agenda_json, agenda_markdown, check_minutes
    from facilitator.pairs import load_pair

    check_minutes(minutes, name="--minutes")
    session_date = _date_option(date)
    pair = load_pair(pair_file)
    result = _facilitator().agenda_for(pair, date=session_date, minutes=minutes, previous=previous)
    for warning in result.notes:
        err.print(f"[yellow]warning:[/] {escape(display_safe(warning))}", highlight=False)
    if fmt is Format.json:
        _print_json(agenda_json(result.agenda))
        return
    sys.stdout.write(agenda_markdown(result.agenda, pair))


app.command("match")(handle_errors(match_command))  # `comentor match` lives in ui/match_cli.py
app.command("local-model")(handle_errors(local_model_command))  # ui/local_model.py


@app.command()
@handle_errors
def ui(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on (default: COMENTOR_PORT, else 7860).")
    ] = None,
) -> None:
    """The web app a pair opens during their meeting (Gradio). A demo pair is ready on first start."""
    if port is not None and not 1 <= port <= 65535:
        raise InputError(f"--port must be between 1 and 65535 (got {port}); e.g. `comentor ui --port 7861`")
    settings = _settings()  # a bad COMENTOR_* value or a busy port: one line, before Gradio is even imported
    from ui.ports import check_port

    check_port(host, settings.port if port is None else port)
    from ui.app import serve

    serve(settings, host=host, port=port)


class ExportFormat(StrEnum):
    json = "json"
    md = "md"
    ics = "ics"


@pairs_app.command("list")
@handle_errors
def pairs_list(fmt: FormatOption = Format.md) -> None:
    """Stored pairs, oldest first: id, names, sessions and last meeting (the latest session in which anyone spoke).
    Never their access codes."""
    listings = _facilitator(guidance=False).pair_listings()
    if fmt is Format.json:
        _print_json([p.model_dump(mode="json") for p in listings])
        return
    if not listings:
        out.print("no pairs stored yet; `comentor chat PAIRFILE` or the web app's New pair form creates one")
        return
    from rich import box
    from rich.table import Table

    table = Table("id", "names", "sessions", "last meeting", box=box.MARKDOWN, show_edge=True)
    for p in listings:
        met = p.last_meeting.isoformat() if p.last_meeting else "never"
        table.add_row(*(_plain(v) for v in (p.id, " & ".join(p.names), str(p.sessions), met)))
    out.print(table)


@pairs_app.command("show")
@handle_errors
def pairs_show(
    pair_id: Annotated[str, typer.Argument(help="The pair id (`comentor pairs list` lists them).")],
    fmt: FormatOption = Format.md,
) -> None:
    """One pair: the partners, goals and cadence, its sessions and open items. Never its access code."""
    record = _facilitator(guidance=False).pair_record(pair_id)
    if fmt is Format.json:
        _print_json(record.model_dump(mode="json"))
        return
    pair = record.pair
    lines = [f"# {pair.id}: " + " & ".join(p.name for p in pair.participants), ""]
    for p in pair.participants:
        role = f", {p.role}" if p.role else ""
        lines.append(
            f"- {p.name} ({p.id}){role} · offers: {', '.join(p.offers) or '-'} · seeks: {', '.join(p.seeks) or '-'}"
        )
    if pair.shared_goals:
        lines.append(f"- shared goals: {', '.join(pair.shared_goals)}")
    if pair.cadence:
        lines.append(f"- meets {pair.cadence}")
    met = record.last_meeting.isoformat() if record.last_meeting else "never"
    lines += [f"- last meeting: {met}", f"- access code: stored hashed; `comentor pairs code {pair.id} --rotate`"]
    lines += ["", f"## Sessions ({len(record.sessions)})", ""]
    lines += [f"- {s.id}  {s.date}  {s.status} · {s.turns} turns · {s.items} items" for s in record.sessions]
    lines += ["", f"## Open items ({len(record.open_items)})", ""]
    for item in record.open_items:
        due = item.due.isoformat() if item.due else "no date"
        lines.append(f"- [{item.id}] {item.owner}: {item.action} (due {due}, {item.status})")
    for line in lines:
        out.print(_plain(line), highlight=False, markup=False)


@pairs_app.command("code")
@handle_errors
def pairs_code(
    pair_id: Annotated[str, typer.Argument(help="The pair id (`comentor pairs list` lists them).")],
    rotate: Annotated[bool, typer.Option("--rotate", help="Issue a new code; the old one stops working.")] = False,
    app_url: AppUrlOption = None,
) -> None:
    """A pair's access code. Codes are stored hashed, so the only way to get one is a new one: `--rotate` prints it
    once, with the web-app link that opens the pair, and the old code, and every browser that opened the pair with
    it, lose access."""
    fac = _facilitator(guidance=False)
    if not rotate:
        fac.pair(pair_id)  # says so when there is no such pair
        raise InputError(
            "access codes are stored hashed and cannot be shown again; "
            f"`comentor pairs code {pair_id} --rotate` issues a new one (the old one stops working)"
        )
    code = fac.rotate_code(pair_id)
    pid = pair_id.strip().lower()
    out.print(f"{pid}: new access code {code} (shown once; the old code no longer works)", markup=False)
    out.print(f"open the pair in the web app (`comentor ui`): {link_to(_app_url(app_url), pid, code)}", markup=False)


class ReportFormat(StrEnum):
    md = "md"
    json = "json"
    html = "html"


@program_app.command("report")
@handle_errors
def program_report(
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="md, json or html")] = ReportFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Every pair's progress: sessions held against the cadence, last meeting, items done / slipped / dropped / open,
    talk balance and feedback scores per session, and the pairs that need a nudge. Counts and scores only: never
    what anyone said, an item's wording or a feedback comment."""
    from facilitator.program import report_document, report_json, report_markdown

    report = _facilitator(guidance=False).program_report()
    render = {ReportFormat.md: report_markdown, ReportFormat.json: report_json, ReportFormat.html: report_document}[fmt]
    text = render(report)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        err.print(f"wrote {output}", highlight=False)
    else:
        sys.stdout.write(text + "\n")


@program_app.command("code")
@handle_errors
def program_code() -> None:
    """A new coordinator code for the web app's Coordinator tab, and the hash to set as COMENTOR_COORDINATOR_CODE
    (keep the code; only the hash needs to be in the environment)."""
    from facilitator.access import hash_code, new_code

    code = new_code()
    out.print(f"coordinator code: {code} (shown once)", markup=False, highlight=False)
    out.print(f"set it with: export COMENTOR_COORDINATOR_CODE='{hash_code(code)}'", markup=False, highlight=False)


def _plain(text: str) -> str:
    return display_safe(text)


@app.command()
@handle_errors
def sessions(pair_id: Annotated[str | None, typer.Argument(help="Only this pair's sessions.")] = None) -> None:
    """Stored sessions (id, pair, date, status) and the pair's open commitments."""
    fac = _facilitator(guidance=False)
    for pair in [fac.pair(pair_id)] if pair_id else fac.pairs():
        out.print(f"{pair.id}: " + " & ".join(p.name for p in pair.participants), highlight=False, markup=False)
        history = fac.history_of(pair.id)
        for info in history.sessions:
            out.print(f"  {info.id}  {info.date}  {info.status}", highlight=False, markup=False)
        for item in history.open_items:
            due = item.due.isoformat() if item.due else "no date"
            out.print(f"  open [{item.id}] {item.owner}: {item.action} ({due})", highlight=False, markup=False)


@app.command()
@handle_errors
def export(
    session_id: Annotated[str, typer.Argument(help="A session id (see `comentor sessions`).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="md, json or ics")] = ExportFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Export an ended session: Markdown recap, JSON summary, or an .ics calendar of its dated items."""
    data = _facilitator(guidance=False).export_session(session_id, fmt.value)
    if output:
        output.write_bytes(data)
        err.print(f"wrote {output}", highlight=False)
    else:
        sys.stdout.buffer.write(data)


class EvalFacilitator(StrEnum):
    offline = "offline"
    llm = "llm"


@app.command("eval")
@handle_errors
def eval_(
    facilitator: Annotated[
        EvalFacilitator, typer.Option("--facilitator", help="offline, or llm (replays evals/cassettes offline)")
    ] = EvalFacilitator.offline,
    suite: Annotated[
        list[str] | None, typer.Option("--suite", "-s", help="A suite to run (repeatable); default all.")
    ] = None,
    report: Annotated[Path, typer.Option("--report", help="Folder for report.json, report.md, report.html.")] = Path(
        "reports/eval"
    ),
    live: Annotated[
        bool,
        typer.Option("--live", help="Run the LLM facilitator on OPENAI_BASE_URL/OPENAI_API_KEY; record cassettes."),
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Compare with evals/baseline.json; exit 1 on a regression.")
    ] = False,
    data: Annotated[
        Path | None, typer.Option("--data", help="The shared data folder (default ../shared/data).")
    ] = None,
    write_baseline: Annotated[
        bool, typer.Option("--write-baseline", help="Store these scores as the baseline for this facilitator.")
    ] = False,
    baseline_file: Annotated[
        Path | None, typer.Option("--baseline", help="Baseline file for --check (default evals/baseline.json).")
    ] = None,
    record_synthetic: Annotated[
        bool, typer.Option("--record-synthetic", hidden=True, help="Re-record cassettes with the reference responder.")
    ] = False,
    cassettes: Annotated[
        Path | None,
        typer.Option(
            "--cassettes",
            help="Cassette folder to replay or record (default evals/cassettes; --live: evals/cassettes/live/MODEL).",
        ),
    ] = None,
) -> None:
    """Run the offline evals (retrieval, commitments, assumptions, balance, agenda, grounding, injection, real
    meetings) and write a JSON, Markdown and HTML report."""
    try:
        from evals.runner import SUITES, run, suite_module
    except ImportError:
        raise InputError("`comentor eval` runs from a source checkout (the evals are not installed)") from None
    for name in suite or []:
        suite_module(name)  # an unknown name fails before anything runs
    options = _eval_options(facilitator, list(suite or []), live, record_synthetic)
    if data is not None:
        options.data = data
    if cassettes is not None:
        if not live and not record_synthetic and not cassettes.is_dir():
            raise InputError(f"--cassettes {cassettes}: no such folder; give the folder `--live` recorded into")
        options.cassettes = cassettes
    with _suite_progress(options.suites or SUITES) as progress:
        result = run(options, progress)
    _report_eval(result, report, baseline_file, check=check, write_baseline=write_baseline)


def _eval_options(facilitator: EvalFacilitator, suites: list[str], live: bool, record: bool) -> Any:
    from evals.runner import EvalOptions

    settings = _settings()
    if live and facilitator is not EvalFacilitator.llm:
        raise InputError("--live runs the LLM facilitator; add --facilitator llm")
    if live and not (settings.openai_api_key or settings.openai_base_url):
        from facilitator.exceptions import ConfigError

        raise ConfigError(
            "--live needs a model endpoint: set OPENAI_API_KEY (OpenAI) and/or OPENAI_BASE_URL (any "
            "OpenAI-compatible server), and COMENTOR_MODEL for the model name"
        )
    return EvalOptions(
        facilitator=facilitator.value,
        suites=suites,
        live=live,
        model=settings.model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        timeout=settings.llm_timeout,
        record=record,
    )


@contextmanager
def _suite_progress(names: list[str]) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per suite, updated by the runner's progress callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as bar:
        tasks = {name: bar.add_task(name, total=None) for name in names}

        def progress(name: str, done: int, total: int) -> None:
            bar.update(tasks[name], completed=done, total=total)

        yield progress


def _report_eval(result: Any, report: Path, baseline_file: Path | None, *, check: bool, write_baseline: bool) -> None:
    """Write the report, print each suite's line, and compare with (or store) the baseline."""
    from evals.report import write_report
    from evals.runner import BASELINE, Baseline, baseline_from, check_report, unchecked

    baseline_path = baseline_file or BASELINE
    baseline = Baseline.load(baseline_path) if (check or write_baseline) and baseline_path.is_file() else None
    if check:
        baseline = baseline or Baseline.load(baseline_path)
        result.regressions = check_report(result, baseline)
        result.check_notes = unchecked(result, baseline)
    paths = write_report(result, report)
    for s in result.suites:
        if s.skipped:
            err.print(f"{s.name}: skipped", highlight=False)
        for note in s.notes:
            err.print(f"{s.name}: note: {note}", highlight=False)
        shown = ", ".join(f"{k} {v:.3f}" for k, v in list(s.metrics.items())[:6])
        out.print(f"{s.name:<14} {s.seconds:6.1f}s  {shown}", highlight=False, markup=False)
    err.print(f"these figures are {result.measures}", highlight=False)
    err.print(f"wrote {', '.join(str(p) for p in paths)} ({result.seconds:.1f} s)", highlight=False)
    if write_baseline:
        baseline_path.write_text(
            baseline_from(result, 0.02, baseline).model_dump_json(indent=1) + "\n", encoding="utf-8"
        )
        err.print(f"wrote {baseline_path}", highlight=False)
    if check:
        for note in result.check_notes:
            err.print(f"note: {note}", highlight=False)
        if result.regressions:
            for r in result.regressions:
                err.print(f"[bold red]regression:[/] {r.describe()}", highlight=False)
            raise typer.Exit(1)
        err.print("no regression against the baseline", highlight=False)


def main() -> None:
    """Entry point of the `comentor` script."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    app()


if __name__ == "__main__":
    main()
