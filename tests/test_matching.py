"""Reciprocal matching (`facilitator.matching`, `comentor match`): people files, scores, pairs, circles, the CLI."""

from __future__ import annotations

import json
import random
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from facilitator.exceptions import InputError, MatchError, PeopleFileError
from facilitator.matching import (
    FIELDS,
    MatchOptions,
    Person,
    circle_people,
    circle_sizes,
    load_people,
    match_markdown,
    match_people,
    pair_people,
    score_people,
)
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples" / "people"
POOL = ["public speaking", "budgeting", "python", "design thinking", "negotiation", "sql", "hiring", "writing"]


class WordEmbedder:
    """A deterministic in-process double: each word has a fixed random unit vector (seeded by its CRC), a text is
    the normalised sum of its words. Equal texts score 1; different words are nearly orthogonal (64 dimensions)."""

    name = "test-words"

    def __init__(self) -> None:
        self.calls = 0

    def _word(self, word: str) -> np.ndarray:
        return np.random.default_rng(zlib.crc32(word.encode())).normal(size=64)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for text in texts:
            v = sum((self._word(w) for w in text.lower().split()), np.zeros(64))
            out.append((v / (np.linalg.norm(v) or 1.0)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def person(pid: str, offers: list[str], seeks: list[str], **extra: Any) -> Person:
    return Person(id=pid, name=f"{pid.capitalize()} Tester", offers=offers, seeks=seeks, **extra)


def planted_cohort(couples: int, seed: int = 7) -> tuple[list[Person], set[frozenset[str]]]:
    """`couples` complementary couples with unique topic words, plus common topics from POOL that many people share:
    in a planted couple each seeks exactly what the other offers (both directions 1.0); any other pair meets at most
    the common topics. So the best reciprocal matching is the planted one, and it is unique."""
    rng = random.Random(seed)
    people, planted = [], set()
    for i in range(couples):
        mine, theirs = f"craft{i:03d}alpha", f"craft{i:03d}beta"
        c1, c2 = rng.sample(POOL, 2)
        people.append(person(f"a{i:03d}", [mine, c1], [theirs, c2]))
        people.append(person(f"b{i:03d}", [theirs, c2], [mine, c1]))
        planted.add(frozenset({f"a{i:03d}", f"b{i:03d}"}))
    rng.shuffle(people)
    return people, planted


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------ pairs
def test_a_cohort_of_200_recovers_every_planted_couple() -> None:
    people, planted = planted_cohort(100)
    result = match_people(people, WordEmbedder())
    assert {frozenset(p.members) for p in result.pairs} == planted
    assert result.unmatched == []
    assert all(p.score == pytest.approx(1.0) for p in result.pairs)


def test_reciprocity_counts_both_directions_so_one_sided_pairs_score_low() -> None:
    both = [person("ana", ["budgeting"], ["sql"]), person("ben", ["sql"], ["budgeting"])]
    one_sided = [person("ana", ["budgeting"], ["sql"]), person("cy", ["sql"], ["gardening"])]
    embedder = WordEmbedder()
    assert match_people(both, embedder).pairs[0].score == pytest.approx(1.0)
    assert match_people(one_sided, embedder).pairs[0].score < 0.5
    scores = score_people(one_sided, embedder)
    assert scores.need[0, 1] == pytest.approx(1.0)  # cy offers what ana seeks ...
    assert scores.need[1, 0] < 0.5  # ... but not the other way round


def test_rationale_names_what_each_gives_the_other() -> None:
    people = [person("ana", ["budgeting"], ["sql"]), person("ben", ["sql"], ["budgeting"])]
    pair = match_people(people, WordEmbedder()).pairs[0]
    assert pair.members == ["ana", "ben"]
    assert pair.rationale == "Ana offers budgeting, which Ben seeks; Ben offers sql, which Ana seeks"


def test_a_bonus_for_a_different_seniority_or_department_breaks_a_tie() -> None:
    people = [
        person("ana", ["budgeting"], ["sql"], seniority="senior", department="finance"),
        person("ben", ["sql"], ["budgeting"], seniority="senior", department="finance"),
        person("cy", ["budgeting"], ["sql"], seniority="junior", department="it"),
        person("dee", ["sql"], ["budgeting"], seniority="junior", department="it"),
    ]
    pairs = {frozenset(p.members): p for p in match_people(people, WordEmbedder()).pairs}
    assert set(pairs) == {frozenset({"ana", "dee"}), frozenset({"ben", "cy"})}
    assert pairs[frozenset({"ana", "dee"})].score == pytest.approx(1.2)
    assert "different seniority (senior and junior)" in pairs[frozenset({"ana", "dee"})].rationale
    no_bonus = MatchOptions(seniority_bonus=0, department_bonus=0)
    assert all(p.score == pytest.approx(1.0) for p in match_people(people, WordEmbedder(), options=no_bonus).pairs)


def test_an_odd_count_leaves_one_person_unmatched_with_the_reason() -> None:
    people, _ = planted_cohort(2)
    people.append(person("zoe", ["knitting"], ["sailing"]))
    result = match_people(people, WordEmbedder())
    assert len(result.pairs) == 2
    assert [u.id for u in result.unmatched] == ["zoe"]
    assert "odd number of people (5)" in result.unmatched[0].reason
    assert result.contract()["unmatched"] == ["zoe"]


def test_avoid_keeps_two_people_apart_in_either_direction() -> None:
    people = [
        person("ana", ["budgeting"], ["sql"], avoid=["ben"]),
        person("ben", ["sql"], ["budgeting"]),
        person("cy", ["budgeting"], ["sql", "knitting"]),
        person("dee", ["sql", "knitting"], ["budgeting"]),
    ]
    pairs = {frozenset(p.members) for p in match_people(people, WordEmbedder()).pairs}
    assert pairs == {frozenset({"ana", "dee"}), frozenset({"ben", "cy"})}


def test_someone_everyone_is_ruled_out_for_is_unmatched_and_told_why() -> None:
    people = [
        person("ana", ["budgeting"], ["sql"], languages=["Spanish"]),
        person("ben", ["sql"], ["budgeting"], languages=["English"]),
        person("cy", ["budgeting"], ["sql"], languages=["english", "German"]),
    ]
    result = match_people(people, WordEmbedder())
    assert [p.members for p in result.pairs] == [["ben", "cy"]]  # languages compare case-blind
    assert [u.id for u in result.unmatched] == ["ana"]
    assert "avoid lists or languages rule out everyone" in result.unmatched[0].reason
    relaxed = match_people(people, WordEmbedder(), options=MatchOptions(shared_language=False))
    assert len(relaxed.pairs) == 1 and len(relaxed.unmatched) == 1


def test_a_sparse_candidate_graph_still_pairs_everyone_it_can() -> None:
    people, planted = planted_cohort(20)
    scores = score_people(people, WordEmbedder())
    result = pair_people(scores, MatchOptions(candidates=1))
    assert len(result.pairs) == 20 and not result.unmatched
    assert {frozenset(p.members) for p in result.pairs} == planted


def test_topics_are_matched_by_meaning_with_minilm(embedder: Any) -> None:
    """The real embedder: no topic string is shared, yet the pairs are the ones that fit."""
    people = [
        person("ana", ["budgeting"], ["writing SQL queries"]),
        person("ben", ["database design and SQL"], ["financial planning"]),
        person("cy", ["public speaking"], ["growing tomatoes"]),
        person("dee", ["vegetable gardening"], ["presentation skills"]),
    ]
    result = match_people(people, embedder)
    assert {frozenset(p.members) for p in result.pairs} == {frozenset({"ana", "ben"}), frozenset({"cy", "dee"})}
    ana_ben = next(p for p in result.pairs if "ana" in p.members)
    assert "Ana offers budgeting" in ana_ben.rationale and "Ben offers database design and SQL" in ana_ben.rationale


# ------------------------------------------------------------------------------------------------ circles
@pytest.mark.parametrize("size", [3, 4, 5])
@pytest.mark.parametrize("n", [4, 7, 10, 13, 26, 200])
def test_circles_cover_everyone_once_with_sizes_in_range(n: int, size: int) -> None:
    people, _ = planted_cohort(n // 2)
    if n % 2:
        people.append(person("odd", ["knitting"], ["sailing"]))
    try:
        result = match_people(people, WordEmbedder(), circles=size)
    except MatchError as e:
        assert n < 2 * (size - 1)  # only too few people for two circles and too many for one
        assert "--circles" in str(e) or "pairs" in str(e)
        return
    members = [m for c in result.circles for m in c.members]
    assert sorted(members) == sorted(p.id for p in people)
    assert all(max(2, size - 1) <= len(c.members) <= min(5, size + 1) for c in result.circles)
    assert result.pairs == [] and result.unmatched == []


def test_circle_sizes_split_the_count_as_evenly_as_the_range_allows() -> None:
    assert circle_sizes(12, 4) == [4, 4, 4]
    assert circle_sizes(10, 3) == [4, 3, 3]
    assert circle_sizes(7, 3) == [4, 3]
    for n in range(2, 80):
        for size in (3, 4, 5):
            try:
                sizes = circle_sizes(n, size)
            except MatchError:
                continue
            assert sum(sizes) == n and all(max(2, size - 1) <= s <= min(5, size + 1) for s in sizes)
    with pytest.raises(MatchError, match="use --circles 3, 4 or 5"):
        circle_sizes(10, 6)
    with pytest.raises(MatchError, match=r"7 people cannot form circles of 5 \(4-5 members each\); use --circles 3"):
        circle_sizes(7, 5)


def test_circles_recover_planted_rings_where_help_goes_round() -> None:
    """30 rings of three: each member offers what the next one seeks, so help goes A -> B -> C -> A."""
    people = []
    for r in range(30):
        words = [f"ring{r:02d}skill{k}" for k in range(3)]
        for k in range(3):
            people.append(person(f"r{r:02d}m{k}", [words[k]], [words[(k + 1) % 3]]))
    random.Random(3).shuffle(people)
    result = match_people(people, WordEmbedder(), circles=3)
    rings = {frozenset(c.members) for c in result.circles}
    assert rings == {frozenset(f"r{r:02d}m{k}" for k in range(3)) for r in range(30)}


def test_circles_keep_avoided_people_apart_and_explain_each_gift() -> None:
    people = [person(f"p{i}", [f"topic{i}"], [f"topic{(i + 1) % 6}"]) for i in range(6)]
    people[0] = person("p0", ["topic0"], ["topic1"], avoid=["p1"])
    result = circle_people(score_people(people, WordEmbedder()), 3)
    assert all({"p0", "p1"} - set(c.members) for c in result.circles)
    assert all(c.rationale.count(" offers ") == 3 for c in result.circles)


# ------------------------------------------------------------------------------------------------ files
def test_the_yaml_and_csv_examples_hold_the_same_people() -> None:
    from_yaml, from_csv = load_people(EXAMPLES / "cohort.yaml"), load_people(EXAMPLES / "cohort.csv")
    assert [p.model_dump(exclude={"availability"}) for p in from_yaml] == [
        p.model_dump(exclude={"availability"}) for p in from_csv
    ]
    assert from_csv[0].offers == ["campaign strategy", "budgeting"]  # `;` separates list cells
    assert from_csv[4].avoid == ["dana"]


def test_unknown_columns_are_named_with_the_accepted_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "id,name,offers,seeks,organization,colour\nana,Ana,a,b,Acme,red\n")
    with pytest.raises(PeopleFileError) as e:
        load_people(path)
    message = str(e.value)
    assert "unknown columns 'colour', 'organization' (did you mean 'organisation'?)" in message
    assert "the accepted columns are " + ", ".join(FIELDS) in message
    yaml_path = write(tmp_path, "people.yaml", "people:\n- {id: ana, name: Ana, offers: [a], seeks: [b], team: x}\n")
    with pytest.raises(PeopleFileError, match="unknown column 'team'"):
        load_people(yaml_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,name,offers,seeks\nana,Ana,a,b\nana,Ann,c,d\n", "the id 'ana' is used twice (line 2 and line 3)"),
        ("id,name,offers,seeks\nana,Ana,a,b\n", "has 1 person; matching needs at least two"),
        ("id,name,offers,seeks\n", "has 0 people; matching needs at least two"),
        ("id,name,offers\nana,Ana,a\nben,Ben,b\n", "the first line has no column 'seeks'"),
        ("id,name,offers,seeks\nana,Ana,a,\nben,Ben,b,c\n", "line 2 (ana) is missing 'seeks'"),
        ("id,name,offers,seeks,avoid\nana,Ana,a,b,zed\nben,Ben,b,a,\n", "avoids 'zed', who is not in the file"),
        ("id,name,offers,seeks\nAna Ruiz,Ana,a,b\nben,Ben,b,a\n", "field 'id': Value error, id must be"),
        ("id,name,offers\n", "the first line has no column 'seeks'"),
        ("id,name,offers,seeks,offers\nana,Ana,a,b,c\n", "the first line names 'offers' twice"),
    ],
)
def test_bad_people_files_say_what_to_fix(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PeopleFileError) as e:
        load_people(write(tmp_path, "people.csv", text))
    assert expected in str(e.value)
    assert isinstance(e.value, InputError) and e.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("people: [", "not valid YAML"),
        ("persons: []", "expected `people:` with a list of people"),
        ("people:\n- just a name\n", "people[0] is not a mapping"),
        (
            "people:\n- {id: ana, name: Ana, offers: [a]}\n- {id: ben, name: Ben, offers: [b], seeks: [a]}\n",
            "people[0] (ana) is missing 'seeks'",
        ),
    ],
)
def test_bad_yaml_people_files_say_what_to_fix(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PeopleFileError, match=re.escape(expected)):
        load_people(write(tmp_path, "people.yaml", text))


def test_a_missing_people_file_points_at_the_example(tmp_path: Path) -> None:
    with pytest.raises(PeopleFileError, match=re.escape("no such people file; start from examples/people/cohort.yaml")):
        load_people(tmp_path / "nobody.yaml")


# ------------------------------------------------------------------------------------------------ CLI
@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("facilitator.knowledge.embeddings.make_embedder", lambda settings: WordEmbedder())
    return CliRunner()


def test_cli_json_has_exactly_the_contract_shape(cli: CliRunner, tmp_path: Path) -> None:
    from ui.cli import app

    people, planted = planted_cohort(3)
    people.append(person("zoe", ["knitting"], ["sailing"]))
    rows = [p.model_dump(include={"id", "name", "offers", "seeks"}) for p in people]
    path = write(tmp_path, "people.yaml", json.dumps({"people": rows}))
    done = cli.invoke(app, ["match", str(path), "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert set(data) == {"pairs", "circles", "unmatched"}
    assert data["circles"] == [] and data["unmatched"] == ["zoe"]
    assert {frozenset(p["members"]) for p in data["pairs"]} == planted
    for pair in data["pairs"]:
        assert set(pair) == {"members", "score", "rationale"}
        assert isinstance(pair["score"], float) and isinstance(pair["rationale"], str) and len(pair["members"]) == 2
    assert "zoe" in done.stderr and "odd number" in done.stderr


def test_cli_circles_json_and_markdown(cli: CliRunner) -> None:
    from ui.cli import app

    done = cli.invoke(app, ["match", str(EXAMPLES / "cohort.csv"), "--circles", "3", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["pairs"] == [] and len(data["circles"]) == 2
    assert all(set(c) == {"members", "score", "rationale"} for c in data["circles"])
    md = cli.invoke(app, ["match", str(EXAMPLES / "cohort.yaml")])
    assert md.exit_code == 0, md.output
    assert "| # | members | score | rationale |" in md.stdout and "Ana Ruiz (ana)" in md.stdout


def test_cli_bad_input_is_one_line_and_exit_code_2(cli: CliRunner, tmp_path: Path) -> None:
    from ui.cli import app

    path = write(tmp_path, "people.csv", "id,name,offers,seeks,team\nana,Ana,a,b,x\nben,Ben,b,a,y\n")
    done = cli.invoke(app, ["match", str(path)])
    assert done.exit_code == 2
    assert "unknown column 'team'" in done.stderr and "Traceback" not in done.output
    too_few = cli.invoke(app, ["match", str(EXAMPLES / "cohort.yaml"), "--circles", "5"])
    assert too_few.exit_code == 2 and "6 people cannot form circles of 5" in too_few.stderr


def test_markdown_escapes_table_cells() -> None:
    people = [person("ana", ["a|b"], ["c"]), person("ben", ["c"], ["a|b"])]
    text = match_markdown(match_people(people, WordEmbedder()), people)
    assert "a\\|b" in text and "| 1 |" in text


def test_cli_create_stores_each_pair_or_circle_and_prints_its_code_once(cli: CliRunner) -> None:
    from facilitator.engine import Facilitator
    from facilitator.settings import Settings
    from ui.cli import app

    done = cli.invoke(app, ["match", str(EXAMPLES / "cohort.yaml"), "--create", "--format", "json"])
    assert done.exit_code == 0, done.output
    pairs = json.loads(done.stdout)["pairs"]
    codes = dict(re.findall(r"new pair '([^']+)': access code (\S+)", done.stderr))
    assert set(codes) == {"-".join(p["members"]) for p in pairs} and len(codes) == 3
    fac = Facilitator.from_settings(Settings(), guidance=False)
    for pair_id, code in codes.items():
        assert fac.store.check_access(pair_id, code) is not None
        assert sum(code in line for line in done.stderr.splitlines()) == 1  # one line: the code and its link
    again = cli.invoke(app, ["match", str(EXAMPLES / "cohort.yaml"), "--create"])
    assert (
        again.exit_code == 0
        and "not created: a stored pair has that id" in again.stderr
        and "access code" not in again.stderr
    )
    circles = cli.invoke(
        app, ["match", str(EXAMPLES / "cohort.yaml"), "--create", "--circles", "3", "--format", "json"]
    )
    assert circles.exit_code == 0, circles.output
    proposed = json.loads(circles.stdout)["circles"]
    made = dict(re.findall(r"new circle '([^']+)': access code (\S+)", circles.stderr))
    assert proposed and set(made) == {"-".join(c["members"]) for c in proposed if len(c["members"]) > 2}
    for circle_id, code in made.items():
        stored = fac.open_pair(circle_id, code)
        assert len(stored.participants) >= 3  # a circle opens like a pair, with all its members
