"""Reciprocal matching of a cohort (`comentor match PEOPLE_FILE`): pairs, or circles of 3-5, each with a rationale.

People come from a PEOPLE_FILE: YAML (`people:` a list) or CSV with the same columns (list cells separated by `;`).

Scoring, for every two people A and B (`score_people`):
- need[A, B] is how well B's offers meet A's seeks: for each topic A seeks, the best cosine (clipped at 0) between
  its embedding and those of B's offers, averaged over A's seeks. Topics are compared by meaning with the injected
  embedder (MiniLM in the product), so "financial planning" meets "budgeting", and equal strings score 1.
- reciprocity is the geometric mean of need[A, B] and need[B, A]: a pair where only one side gains scores low.
- the pair score is reciprocity × (1 + bonus), the bonus (`MatchOptions`) added for a different seniority and for
  a different department when both people state one; so a bonus never lifts a one-sided pair.
- a pair is excluded when either lists the other under `avoid`, and, with `shared_language` (default), when both
  list languages and share none. `availability` is read and kept, not scored yet.

Pairs (`pair_people`): a maximum-weight matching of everyone (networkx `max_weight_matching`, `maxcardinality=True`:
as many pairs as possible, then the highest total score). Co-mentoring pairs are not bipartite: anyone may pair with
anyone. The blossom algorithm is pure Python and slow on a complete graph, so the graph holds each person's
`candidates` best partners (default 8; the union over everyone); people the matching leaves over are then matched
among themselves over all their allowed pairs. Whoever is still left (an odd count, avoid lists, no shared
language) is listed in `unmatched` with the reason, never dropped.

Circles (`circle_people`): sizes are SIZE, or SIZE±1 where the count does not divide (at most 5 members, the most a
session holds). The grouping maximises the sum, over every two members, of the mean of need[A, B] and need[B, A]
(× 1 + bonus): in a circle help may go round (A helps B, B helps C, C helps A), so a one-way fit counts, and the
reciprocity is the circle's. The search is a greedy seed (the free person with the weakest options starts each
circle, which then takes whoever adds most to it), then local search by swaps of two people in different circles
while a swap raises the total (best swap per person, passes until none helps; a local optimum, not a proven best).
Excluded pairs weigh -PENALTY, so they are kept apart whenever a swap can do it; a circle that still holds one says
so in its rationale.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from facilitator.exceptions import MatchError, PeopleFileError
from facilitator.files import read_regular_file
from facilitator.models import NAME_CHARS, ROLE_CHARS, TOPICS_MAX, Model, Topic
from facilitator.textutil import display_safe

if TYPE_CHECKING:
    import numpy as np

    from facilitator.knowledge.embeddings import Embedder

__all__ = [
    "Circle",
    "MatchOptions",
    "MatchPair",
    "MatchResult",
    "Person",
    "Scores",
    "Unmatched",
    "circle_people",
    "circle_sizes",
    "load_people",
    "match_json",
    "match_markdown",
    "match_people",
    "pair_people",
    "parse_people",
    "score_people",
]

EXAMPLE = "examples/people/cohort.yaml"
MAX_PEOPLE_BYTES = 10_000_000
FIELDS = (
    "id",
    "name",
    "role",
    "offers",
    "seeks",
    "organisation",
    "department",
    "seniority",
    "languages",
    "availability",
    "avoid",
)
REQUIRED = ("id", "name", "offers", "seeks")
LIST_FIELDS = ("offers", "seeks", "languages", "availability", "avoid")
CIRCLE_SIZES = (3, 4, 5)
MAX_MEMBERS = 5  # the most people one session holds
PENALTY = 10.0  # the weight of an excluded pair inside a circle: far below any real score (at most 1 + bonuses)
STRONG = 0.5  # a gift at least this close to a sought topic is named in the rationale
WEAK = 0.3  # below this, the rationale says the closest gift is a weak fit
MAX_PASSES = 50  # local-search passes over everyone (each pass is O(n²) in numpy)
_CHUNK = 1024  # sought topics compared at once (bounds the similarity block's memory)
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SPLIT = re.compile(r"[;,]")


# ------------------------------------------------------------------------------------------------ the people
class Person(Model):
    """One person of the cohort: a participant (id, name, role, offers, seeks) plus what matching may weigh."""

    id: str
    name: str = Field(min_length=1, max_length=NAME_CHARS)
    role: str = Field(default="", max_length=ROLE_CHARS)
    offers: list[Topic] = Field(min_length=1, max_length=TOPICS_MAX)
    seeks: list[Topic] = Field(min_length=1, max_length=TOPICS_MAX)
    organisation: str = Field(default="", max_length=NAME_CHARS)
    department: str = Field(default="", max_length=NAME_CHARS)
    seniority: str = Field(default="", max_length=NAME_CHARS, description="A level or label; only 'different' counts.")
    languages: list[str] = Field(default_factory=list)
    availability: list[str] = Field(default_factory=list, description="Read and kept; not scored yet.")
    avoid: list[str] = Field(default_factory=list, description="Ids of people not to pair or group with.")

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        value = value.strip().lower()
        if not _ID.match(value):
            raise ValueError("id must be 1-64 characters of a-z, 0-9, '_', '.', '-' (e.g. 'ana')")
        return value

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        """'a; b' or ['a, b'] -> ['a', 'b']: topics are compared one by one."""
        items = [value] if isinstance(value, str | int | float) else value
        if not isinstance(items, list):
            return value
        return [part.strip() for item in items for part in _SPLIT.split(str(item)) if part.strip()]

    @field_validator("avoid")
    @classmethod
    def _lower_ids(cls, value: list[str]) -> list[str]:
        return [v.lower() for v in value]

    @field_validator("id", "seniority", "department", "organisation", "name", "role", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value).strip() if isinstance(value, str | int | float) else value

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.id


def load_people(path: Path | str) -> list[Person]:
    """Read and check a PEOPLE_FILE: `.csv` is CSV, anything else YAML (JSON is YAML too)."""
    path = Path(path)
    raw = read_regular_file(
        path,
        max_bytes=MAX_PEOPLE_BYTES,
        error=PeopleFileError,
        label="people file",
        missing_hint=f"start from {EXAMPLE}",
        limit_hint="split the cohort into several files",
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PeopleFileError(f"{path}: cannot be read as UTF-8 text ({e}); save it as UTF-8 YAML or CSV") from e
    rows = _csv_rows(text, str(path)) if path.suffix.lower() == ".csv" else _yaml_rows(text, str(path))
    return parse_people(rows, origin=str(path))


def parse_people(rows: list[tuple[str, dict[str, Any]]], *, origin: str = "people") -> list[Person]:
    """People from rows of (where the row is, its fields); every problem is a PeopleFileError naming the fix."""
    _check_columns(rows, origin)
    people = [_person(where, row, origin) for where, row in rows]
    _check_cohort(people, [where for where, _ in rows], origin)
    return people


def _yaml_rows(text: str, origin: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PeopleFileError(f"{origin}: not valid YAML ({first}); fix the file, starting from {EXAMPLE}") from e
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        raise PeopleFileError(f"{origin}: expected `people:` with a list of people (see {EXAMPLE})")
    rows: list[tuple[str, dict[str, Any]]] = []
    for i, row in enumerate(people):
        if not isinstance(row, dict):
            raise PeopleFileError(f"{origin}: people[{i}] is not a mapping of fields (id, name, offers, seeks, ...)")
        rows.append((f"people[{i}]", {str(k).strip().lower(): v for k, v in row.items() if v is not None}))
    return rows


def _csv_rows(text: str, origin: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        table = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as e:
        raise PeopleFileError(f"{origin}: not valid CSV ({e}); fix the file, starting from {EXAMPLE}") from e
    if not table:
        raise PeopleFileError(f"{origin}: is empty; the first line names the columns ({', '.join(REQUIRED)}, ...)")
    header = [cell.strip().lower() for cell in table[0][1]]
    _check_header(header, origin)
    rows: list[tuple[str, dict[str, Any]]] = []
    for line, cells in table[1:]:
        if len(cells) > len(header):
            raise PeopleFileError(f"{origin}: line {line} has more cells than the first line has columns; quote cells")
        rows.append(
            (f"line {line}", {col: cell.strip() for col, cell in zip(header, cells, strict=False) if cell.strip()})
        )
    return rows


def _check_header(header: list[str], origin: str) -> None:
    twice = sorted(column for column, count in Counter(header).items() if count > 1)
    if twice:
        raise PeopleFileError(f"{origin}: the first line names {', '.join(repr(c) for c in twice)} twice; keep one")
    _check_columns([("header", dict.fromkeys(header, ""))], origin)
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise PeopleFileError(
            f"{origin}: the first line has no column {', '.join(repr(m) for m in missing)}; it names the columns, "
            f"and every person needs {', '.join(REQUIRED)}"
        )


def _check_columns(rows: list[tuple[str, dict[str, Any]]], origin: str) -> None:
    unknown = sorted({key for _, row in rows for key in row if key not in FIELDS})
    if unknown:
        hints = [
            f"'{k}' (did you mean '{close[0]}'?)" if (close := difflib.get_close_matches(k, FIELDS, 1)) else f"'{k}'"
            for k in unknown
        ]
        raise PeopleFileError(
            f"{origin}: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
            f"the accepted columns are {', '.join(FIELDS)}"
        )


def _person(where: str, row: dict[str, Any], origin: str) -> Person:
    label = f"{where} ({row['id']})" if isinstance(row.get("id"), str) and row["id"].strip() else where
    missing = [field for field in REQUIRED if field not in row or row[field] in ("", [])]
    if missing:
        raise PeopleFileError(
            f"{origin}: {label} is missing {', '.join(repr(f) for f in missing)}; every person needs "
            f"{', '.join(REQUIRED)} (offers and seeks: at least one topic each)"
        )
    try:
        return Person.model_validate(row)
    except ValidationError as e:
        error = e.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise PeopleFileError(f"{origin}: {label}, field '{field}': {error['msg']}; fix it (see {EXAMPLE})") from e


def _check_cohort(people: list[Person], wheres: list[str], origin: str) -> None:
    if len(people) < 2:
        raise PeopleFileError(
            f"{origin}: has {len(people)} {'person' if len(people) == 1 else 'people'}; matching needs at least two"
        )
    seen: dict[str, str] = {}
    for person, where in zip(people, wheres, strict=True):
        if person.id in seen:
            raise PeopleFileError(
                f"{origin}: the id '{person.id}' is used twice ({seen[person.id]} and {where}); give each person "
                "their own id"
            )
        seen[person.id] = where
    for person, where in zip(people, wheres, strict=True):
        strangers = [other for other in person.avoid if other not in seen]
        if strangers:
            raise PeopleFileError(
                f"{origin}: {where} ({person.id}) avoids {', '.join(repr(s) for s in strangers)}, who "
                f"{'is' if len(strangers) == 1 else 'are'} not in the file; use the ids of people in the file"
            )


# ------------------------------------------------------------------------------------------------ results
class MatchOptions(BaseModel):
    """What the program wants weighed, besides reciprocity."""

    seniority_bonus: float = Field(default=0.1, ge=0, le=1, description="Added share for a different seniority.")
    department_bonus: float = Field(default=0.1, ge=0, le=1, description="Added share for a different department.")
    shared_language: bool = Field(default=True, description="Exclude pairs who both list languages and share none.")
    candidates: int = Field(default=8, ge=1, description="Best partners per person kept in the matching graph.")


class MatchPair(Model):
    """Two people proposed as co-mentors."""

    members: list[str] = Field(description="Their ids, in file order.")
    score: float = Field(description="Reciprocity (geometric mean of both directions) × (1 + bonuses).")
    rationale: str = Field(description="What each one gives the other.")


class Circle(Model):
    """A group of 3-5 (2-5 where the count forces it) proposed to meet together."""

    members: list[str]
    score: float = Field(description="The mean over every two members of both directions' fit × (1 + bonuses).")
    rationale: str = Field(description="What each member gives another member.")


class Unmatched(Model):
    """Someone the matching could not place, and why."""

    id: str
    reason: str


class MatchResult(Model):
    """Pairs or circles for a cohort; nobody is dropped: whoever has no place is in `unmatched`."""

    pairs: list[MatchPair] = Field(default_factory=list)
    circles: list[Circle] = Field(default_factory=list)
    unmatched: list[Unmatched] = Field(default_factory=list)

    def contract(self) -> dict[str, Any]:
        """The `comentor match --format json` contract: `unmatched` is a list of ids (reasons go to stderr)."""
        return {
            "pairs": [p.model_dump(mode="json") for p in self.pairs],
            "circles": [c.model_dump(mode="json") for c in self.circles],
            "unmatched": [u.id for u in self.unmatched],
        }


# ------------------------------------------------------------------------------------------------ scoring
@dataclass(frozen=True)
class Scores:
    """Every pair's figures for one cohort, as matrices indexed by position in `people`."""

    people: list[Person]
    need: np.ndarray  # need[a, b]: how well b's offers meet a's seeks (0-1)
    score: np.ndarray  # the pair score, symmetric; 0 on the diagonal and for excluded pairs
    allowed: np.ndarray  # bool, symmetric: may a and b be paired or grouped
    bonus: np.ndarray  # the bonus share of each pair (seniority, department)
    topics: dict[str, int]  # topic text -> row of `vectors`
    vectors: np.ndarray  # unit vectors of every topic


def score_people(people: list[Person], embedder: Embedder, options: MatchOptions | None = None) -> Scores:
    """Score every pair of `people` in both directions (see the module docstring)."""
    import numpy as np

    options = options or MatchOptions()
    topics, vectors = _embed_topics(people, embedder)
    need = _need(people, topics, vectors)
    allowed = _allowed(people, options)
    bonus = _bonus(people, options)
    score = np.sqrt(need * need.T) * (1.0 + bonus)
    score[~allowed] = 0.0
    return Scores(people, need, score, allowed, bonus, topics, vectors)


def _embed_topics(people: list[Person], embedder: Embedder) -> tuple[dict[str, int], np.ndarray]:
    import numpy as np

    texts = sorted({t for p in people for t in (*p.offers, *p.seeks)})
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32).reshape(len(texts), -1)
    vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return {t: i for i, t in enumerate(texts)}, vectors


def _need(people: list[Person], topics: dict[str, int], vectors: np.ndarray) -> np.ndarray:
    """need[a, b] = mean over a's seeks of the best cosine with b's offers (one matrix product, in row chunks)."""
    import numpy as np

    offers = vectors[[topics[t] for p in people for t in p.offers]]
    seeks = vectors[[topics[t] for p in people for t in p.seeks]]
    offer_starts = np.cumsum([0] + [len(p.offers) for p in people[:-1]])
    seek_counts = np.array([len(p.seeks) for p in people])
    best = np.empty((len(seeks), len(people)), dtype=np.float32)
    for start in range(0, len(seeks), _CHUNK):
        block = seeks[start : start + _CHUNK] @ offers.T
        best[start : start + _CHUNK] = np.maximum.reduceat(block, offer_starts, axis=1)
    np.clip(best, 0.0, 1.0, out=best)
    sums = np.add.reduceat(best, np.cumsum([0, *seek_counts[:-1]]), axis=0)
    result: np.ndarray = sums / seek_counts[:, None]
    return result


def _allowed(people: list[Person], options: MatchOptions) -> np.ndarray:
    import numpy as np

    n = len(people)
    ok = ~np.eye(n, dtype=bool)
    position = {p.id: i for i, p in enumerate(people)}
    for i, person in enumerate(people):
        for other in person.avoid:
            ok[i, position[other]] = ok[position[other], i] = False
    if options.shared_language:
        spoken = _one_hot([{lang.casefold() for lang in p.languages} for p in people])
        says = np.asarray(spoken.any(axis=1))
        ok &= (spoken.astype(np.int32) @ spoken.T.astype(np.int32) > 0) | ~says[:, None] | ~says[None, :]
    return ok


def _one_hot(sets: list[set[str]]) -> np.ndarray:
    import numpy as np

    columns = {v: j for j, v in enumerate(sorted(set().union(*sets)))}
    table = np.zeros((len(sets), len(columns)), dtype=bool)
    for i, values in enumerate(sets):
        table[i, [columns[v] for v in values]] = True
    return table


def _bonus(people: list[Person], options: MatchOptions) -> np.ndarray:
    import numpy as np

    total = np.zeros((len(people), len(people)))
    for attribute, bonus in (("seniority", options.seniority_bonus), ("department", options.department_bonus)):
        if bonus:
            total += bonus * _differ([getattr(p, attribute).casefold() for p in people])
    return total


def _differ(values: list[str]) -> np.ndarray:
    """differ[a, b]: both state a value and the values differ."""
    import numpy as np

    codes = {v: i for i, v in enumerate(sorted(set(values) - {""}))}
    code = np.array([codes.get(v, -1) for v in values])
    known = code >= 0
    result: np.ndarray = (code[:, None] != code[None, :]) & known[:, None] & known[None, :]
    return result


# ------------------------------------------------------------------------------------------------ pairs
def pair_people(scores: Scores, options: MatchOptions | None = None) -> MatchResult:
    """A maximum-weight, maximum-cardinality matching of everyone; the rest listed with the reason."""
    options = options or MatchOptions()
    n = len(scores.people)
    matched = _matching(scores, _candidate_edges(scores, options.candidates))
    left = sorted(set(range(n)) - {i for pair in matched for i in pair})
    if len(left) >= 2:
        matched += _matching(scores, [(a, b) for a in left for b in left if a < b and scores.allowed[a, b]])
    matched.sort(key=lambda pair: (-scores.score[pair], pair))
    pairs = [_pair(scores, a, b) for a, b in matched]
    placed = {i for pair in matched for i in pair}
    unmatched = [
        Unmatched(id=scores.people[i].id, reason=_why_unpaired(scores, i, n - len(placed)))
        for i in range(n)
        if i not in placed
    ]
    return MatchResult(pairs=pairs, unmatched=unmatched)


def _candidate_edges(scores: Scores, k: int) -> list[tuple[int, int]]:
    """Each person's k best allowed partners, as undirected edges (a < b)."""
    import numpy as np

    n = len(scores.people)
    ranked = np.where(scores.allowed, scores.score, -1.0)
    k = min(k, n - 1)
    best = np.argpartition(-ranked, k - 1, axis=1)[:, :k] if k < n - 1 else np.tile(np.arange(n), (n, 1))
    edges = {(min(a, int(b)), max(a, int(b))) for a in range(n) for b in best[a] if scores.allowed[a, b]}
    return sorted(edges)


def _matching(scores: Scores, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """networkx's blossom algorithm on integer weights (exact); +1 so that a zero score is still an edge."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_weighted_edges_from((a, b, 1 + round(float(scores.score[a, b]) * 1_000_000)) for a, b in edges)
    return [(min(a, b), max(a, b)) for a, b in nx.max_weight_matching(graph, maxcardinality=True)]


def _why_unpaired(scores: Scores, i: int, left: int) -> str:
    n = len(scores.people)
    if not scores.allowed[i].any():
        return (
            "nobody else may be paired with them: avoid lists or languages rule out everyone; edit `avoid` or "
            "`languages`, or pair them by hand"
        )
    if n % 2 and left == 1:
        return f"an odd number of people ({n}): one is left over; add a person, pair them by hand, or use --circles"
    return "every partner allowed for them was paired with someone else; check `avoid` and `languages`"


def _pair(scores: Scores, a: int, b: int) -> MatchPair:
    names = _names(scores.people, [a, b])
    clauses = [_gift(scores, a, b, names), _gift(scores, b, a, names), *_bonus_notes(scores, a, b)]
    return MatchPair(
        members=[scores.people[a].id, scores.people[b].id],
        score=round(float(scores.score[a, b]), 3),
        rationale="; ".join(clauses),
    )


# ------------------------------------------------------------------------------------------------ circles
def circle_sizes(n: int, size: int) -> list[int]:
    """Circle sizes for n people: SIZE, or SIZE±1 (2-5) where n does not divide; MatchError when none fit."""
    if size not in CIRCLE_SIZES:
        raise MatchError(f"--circles {size}: a circle has 3, 4 or 5 members; use --circles 3, 4 or 5")
    sizes = _split(n, size)
    if sizes is None:
        fits = [s for s in CIRCLE_SIZES if _split(n, s) is not None]
        hint = f"use --circles {' or '.join(map(str, fits))}" if fits else "match them in pairs (no --circles)"
        low, high = max(2, size - 1), min(MAX_MEMBERS, size + 1)
        raise MatchError(f"{n} people cannot form circles of {size} ({low}-{high} members each); {hint}")
    return sizes


def _split(n: int, size: int) -> list[int] | None:
    low, high = max(2, size - 1), min(MAX_MEMBERS, size + 1)
    options = []
    for groups in range(1, n + 1):
        q, r = divmod(n, groups)
        if q >= low and q + (1 if r else 0) <= high:
            options.append((abs(n / groups - size), groups))
    if not options:
        return None
    groups = min(options)[1]
    q, r = divmod(n, groups)
    return [q + 1] * r + [q] * (groups - r)


def circle_people(scores: Scores, size: int) -> MatchResult:
    """Everyone in a circle of `size` (or size±1), grouped to maximise the reciprocity within circles."""
    sizes = circle_sizes(len(scores.people), size)
    weights = circle_weights(scores)
    groups = _improve(weights, _seed(weights, sizes))
    circles = [_circle(scores, weights, sorted(group)) for group in groups]
    circles.sort(key=lambda c: -c.score)
    return MatchResult(circles=circles)


def circle_weights(scores: Scores) -> np.ndarray:
    """What two people add to a circle: the mean of both directions × (1 + bonus), -PENALTY if excluded. Not the
    pair score's geometric mean: in a circle, help may go round (A helps B, B helps C, C helps A)."""
    import numpy as np

    weights = (scores.need + scores.need.T) / 2 * (1.0 + scores.bonus)
    weights[~scores.allowed] = -PENALTY
    np.fill_diagonal(weights, 0.0)
    result: np.ndarray = weights
    return result


def _seed(weights: np.ndarray, sizes: list[int]) -> list[list[int]]:
    """Greedy: each circle starts with the free person with the weakest options, then takes the best fit in turn."""
    import numpy as np

    free = np.ones(len(weights), dtype=bool)
    strength = np.clip(weights, 0, None).sum(axis=1)
    groups: list[list[int]] = []
    for size in sizes:
        group = [int(np.argmin(np.where(free, strength, np.inf)))]
        free[group[0]] = False
        while len(group) < size:
            fit = weights[:, group].sum(axis=1)
            group.append(int(np.argmax(np.where(free, fit, -np.inf))))
            free[group[-1]] = False
        groups.append(group)
    return groups


def _improve(weights: np.ndarray, groups: list[list[int]]) -> list[list[int]]:
    """Swap two people of different circles while it raises the total within-circle score (sizes stay)."""
    import numpy as np

    n = len(weights)
    label = np.empty(n, dtype=int)
    for g, group in enumerate(groups):
        label[group] = g
    sums = weights @ np.eye(len(groups))[label]  # sums[p, g]: p's total score with the members of circle g
    everyone = np.arange(n)
    for _ in range(MAX_PASSES):
        swapped = False
        for x in range(n):
            a = label[x]
            gain = sums[:, a] - sums[x, a] + sums[x, label] - sums[everyone, label] - 2 * weights[x]
            gain[label == a] = -np.inf
            y = int(np.argmax(gain))
            if gain[y] > 1e-9:
                b = label[y]
                label[x], label[y] = b, a
                sums[:, a] += weights[:, y] - weights[:, x]
                sums[:, b] += weights[:, x] - weights[:, y]
                swapped = True
        if not swapped:
            break
    return [[int(i) for i in np.flatnonzero(label == g)] for g in range(len(groups))]


def _circle(scores: Scores, weights: np.ndarray, members: list[int]) -> Circle:
    names = _names(scores.people, members)
    pairs = [(a, b) for a in members for b in members if a < b]
    clauses = [_gift(scores, giver, _best_receiver(scores, giver, members), names) for giver in members]
    clauses += [
        f"note: {names[a]} and {names[b]} may not be grouped (avoid or languages); move one by hand"
        for a, b in pairs
        if not scores.allowed[a, b]
    ]
    return Circle(
        members=[scores.people[i].id for i in members],
        score=round(sum(max(0.0, float(weights[p])) for p in pairs) / len(pairs), 3),
        rationale="; ".join(clauses),
    )


def _best_receiver(scores: Scores, giver: int, members: list[int]) -> int:
    others = [m for m in members if m != giver]
    return max(others, key=lambda m: float(scores.need[m, giver]))


# ------------------------------------------------------------------------------------------------ rationale
def _gifts(scores: Scores, giver: int, receiver: int) -> list[tuple[str, str, float]]:
    """(offer of giver, seek of receiver, cosine) for each of the receiver's seeks, closest first."""
    offers, seeks = scores.people[giver].offers, scores.people[receiver].seeks
    similarity = (
        scores.vectors[[scores.topics[s] for s in seeks]] @ scores.vectors[[scores.topics[o] for o in offers]].T
    )
    best = similarity.argmax(axis=1)
    gifts = [
        (offers[int(j)], seek, float(similarity[k, j])) for k, (seek, j) in enumerate(zip(seeks, best, strict=True))
    ]
    return sorted(gifts, key=lambda g: -g[2])


def _gift(scores: Scores, giver: int, receiver: int, names: dict[int, str]) -> str:
    """'Ana offers budgeting, which Ben seeks' (up to two gifts; or how weak the best fit is)."""
    gifts = _gifts(scores, giver, receiver)
    who, whom = names[giver], names[receiver]
    offer, seek, closeness = gifts[0]
    if closeness < WEAK:
        return f'{who} offers little of what {whom} seeks (closest: {offer}, for "{seek}")'
    named = [g for g in gifts if g[2] >= STRONG][:2] or gifts[:1]
    items = {o: _item(o, s, c, whom) for o, s, c in reversed(named)}  # one clause per offer, the closest kept
    return f"{who} offers " + ", and ".join(reversed(items.values()))


def _item(offer: str, seek: str, closeness: float, whom: str) -> str:
    if offer.casefold() == seek.casefold():
        return f"{offer}, which {whom} seeks"
    how = "which meets" if closeness >= STRONG else "partly meeting"
    return f'{offer}, {how} {whom}\'s "{seek}"'


def _bonus_notes(scores: Scores, a: int, b: int) -> list[str]:
    first, second = scores.people[a], scores.people[b]
    notes = []
    for attribute, label in (("seniority", "seniority"), ("department", "departments")):
        x, y = getattr(first, attribute), getattr(second, attribute)
        if x and y and x.casefold() != y.casefold():
            notes.append(f"different {label} ({x} and {y})")
    return notes


def _names(people: list[Person], members: list[int]) -> dict[int, str]:
    """First names, or full names (then ids) where two members would read alike."""
    first = Counter(people[i].first_name for i in members)
    full = Counter(people[i].name for i in members)
    names = {}
    for i in members:
        p = people[i]
        names[i] = p.first_name if first[p.first_name] == 1 else p.name if full[p.name] == 1 else f"{p.name} ({p.id})"
    return names


# ------------------------------------------------------------------------------------------------ use case
def match_people(
    people: list[Person], embedder: Embedder, *, circles: int | None = None, options: MatchOptions | None = None
) -> MatchResult:
    """Pairs for everyone (or circles of `circles` members), each with its score and rationale."""
    if len(people) < 2:
        raise MatchError(f"matching needs at least two people, got {len(people)}")
    if circles is not None:
        circle_sizes(len(people), circles)  # a bad size fails before anything is embedded
    scores = score_people(people, embedder, options)
    return circle_people(scores, circles) if circles is not None else pair_people(scores, options)


def match_markdown(result: MatchResult, people: list[Person]) -> str:
    """A readable report: a table of pairs or circles (names and ids), then who is unmatched and why."""
    by_id = {p.id: p for p in people}
    groups: list[MatchPair | Circle] = [*result.circles] or [*result.pairs]
    kind = "Circles" if result.circles else "Pairs"
    lines = [f"# {kind} ({len(groups)})", "", "| # | members | score | rationale |", "|---:|---|---:|---|"]
    for number, group in enumerate(groups, start=1):
        members = ", ".join(f"{by_id[m].name} ({m})" for m in group.members)
        lines.append(f"| {number} | {_cell(members)} | {group.score:.3f} | {_cell(group.rationale)} |")
    if result.unmatched:
        lines += ["", f"## Unmatched ({len(result.unmatched)})", ""]
        lines += [f"- {_cell(by_id[u.id].name)} ({u.id}): {u.reason}" for u in result.unmatched]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return display_safe(" ".join(text.split())).replace("|", "\\|")


def match_json(result: MatchResult) -> str:
    """The JSON contract as text."""
    return json.dumps(result.contract(), indent=2, ensure_ascii=False) + "\n"
