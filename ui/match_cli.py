"""`comentor match PEOPLE_FILE`: reciprocal pairs or circles for a cohort (the engine: `facilitator.matching`).

Registered on the `comentor` app in `ui/cli.py` (wrapped in its `handle_errors`); nothing heavy is imported until
the command runs.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from facilitator.exceptions import InputError
from facilitator.textutil import display_safe

if TYPE_CHECKING:
    from facilitator.matching import Circle, MatchPair, MatchResult, Person

err = Console(stderr=True, soft_wrap=True)


class MatchFormat(StrEnum):
    json = "json"
    md = "md"


def match_command(
    people_file: Annotated[
        Path, typer.Argument(help="The cohort: YAML (`people:` list) or CSV with the same columns.")
    ],
    circles: Annotated[
        int | None, typer.Option("--circles", help="Circles of this size (3-5) instead of pairs.")
    ] = None,
    fmt: Annotated[MatchFormat, typer.Option("--format", "-f", help="md or json")] = MatchFormat.md,
    seniority_bonus: Annotated[
        float, typer.Option("--seniority-bonus", min=0, max=1, help="Added share for a different seniority.")
    ] = 0.1,
    department_bonus: Annotated[
        float, typer.Option("--department-bonus", min=0, max=1, help="Added share for a different department.")
    ] = 0.1,
    create: Annotated[
        bool,
        typer.Option("--create", help="Store each proposed pair or circle; its code is printed once (stderr)."),
    ] = False,
    app_url: Annotated[
        str | None, typer.Option("--app-url", envvar="COMENTOR_APP_URL", help="The web app's address, for links.")
    ] = None,
) -> None:
    """Propose reciprocal pairs (or circles of 3-5): what each one seeks that the other offers, by meaning, both
    ways; unmatched people are listed with the reason. With --create the pairs (or circles) are stored and open in
    the web app."""
    from facilitator.knowledge.embeddings import make_embedder
    from facilitator.matching import MatchOptions, load_people, match_json, match_markdown, match_people
    from facilitator.settings import Settings

    people = load_people(people_file)
    options = MatchOptions(seniority_bonus=seniority_bonus, department_bonus=department_bonus)
    result = match_people(people, make_embedder(Settings()), circles=circles, options=options)
    if create:
        _create_pairs(result, people, app_url)
    if fmt is MatchFormat.json:
        _report_unmatched(result, people)
        sys.stdout.write(match_json(result))
        return
    sys.stdout.write(match_markdown(result, people))


def _create_pairs(result: MatchResult, people: list[Person], app_url: str | None) -> None:
    """Each proposed pair or circle stored through the engine; a new one's code is printed once, with its web-app
    link."""
    from facilitator.access import link_to
    from facilitator.engine import Facilitator
    from facilitator.models import Pair, Participant
    from facilitator.settings import Settings

    settings = Settings()
    fac = Facilitator.from_settings(settings, guidance=False)
    by_id = {p.id: p for p in people}
    proposals: list[MatchPair | Circle] = [*result.pairs, *result.circles]
    for proposed in proposals:
        kind = "pair" if len(proposed.members) == 2 else "circle"
        members = [by_id[m].model_dump(include={"id", "name", "role", "offers", "seeks"}) for m in proposed.members]
        try:
            pair = Pair(participants=[Participant.model_validate(m) for m in members])
        except ValueError as e:  # e.g. a circle whose joined ids are too long for a pair id
            _not_created(
                kind, "-".join(proposed.members), f"{_first_line(e)}; write it as a pair file with a short 'id'"
            )
            continue
        try:
            code = fac.create_pair(pair)
        except InputError:
            _not_created(
                kind,
                pair.id,
                f"a stored pair has that id (`comentor pairs show {pair.id}`); create this one "
                "from a pair file with another id",
            )
            continue
        link = link_to(app_url or f"http://127.0.0.1:{settings.port}/", pair.id, code)
        err.print(f"new {kind} '{pair.id}': access code {code} (shown once) {link}", highlight=False, markup=False)


def _not_created(kind: str, named: str, why: str) -> None:
    err.print(f"note: {kind} '{named}' not created: {why}", highlight=False, markup=False)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _report_unmatched(result: MatchResult, people: list[Person]) -> None:
    """The reasons the JSON contract has no room for (it lists ids only)."""
    names = {p.id: p.name for p in people}
    for u in result.unmatched:
        err.print(f"note: {display_safe(names[u.id])} ({u.id}) is unmatched: {u.reason}", highlight=False, markup=False)
