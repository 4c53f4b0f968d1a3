"""`comentor`: the command line. A thin shell over the engine; every command prints json or md where it has results."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from facilitator.exceptions import ComentorError
from facilitator.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="comentor", help="An AI facilitator for co-mentoring sessions.", no_args_is_help=True, add_completion=False
)
knowledge_app = typer.Typer(help="The program guidance the facilitator draws on.", no_args_is_help=True)
app.add_typer(knowledge_app, name="knowledge")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Format(StrEnum):
    json = "json"
    md = "md"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="json or md")]


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
            reports.append(kb.add(paths, progress=advance))
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


def main() -> None:
    """Entry point of the `comentor` script."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    app()


if __name__ == "__main__":
    main()
