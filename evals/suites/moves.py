"""Facilitator moves on a blind set (`evals/datasets/moves_blind/`, written before any tuning): whole scripted
sessions replayed through the engine, and at labelled moments a challenge, a question, an answer or a balance check
asked for; every move is scored by its content (robust to wording), never by its exact text.

- challenge: a challenge addressed to who voiced the latest assumption that quotes or paraphrases it (rapidfuzz
  partial_ratio >= 70, or >= 2 of its keywords, stemmed); a `none` moment (nothing assumed yet) passes when the move
  quotes no 6-word span of any partner's turn;
- question: the proposed question text(s) contain >= 1 topic word of the last stretch (stem match); repeats: a
  question moment whose question(s) were already proposed earlier in the session;
- answer (`@facilitator …` from the senior partner): in scope, >= 1 citation whose quoted passage contains a support
  word; out of scope, an answer with no citation (a decline);
- balance: a nudge addressed to the quiet partner; after a partner's vulnerable turn, no proactive nudge.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evals.data import DATASETS, info, load_yaml
from evals.runner import CaseResult, EvalContext, SuiteResult
from evals.suites._sessions import moves, pair_of, say
from facilitator.exceptions import InputError
from facilitator.models import Move, Pair, Participant
from facilitator.textutil import clip

if TYPE_CHECKING:
    from facilitator.engine import Facilitator, LiveSession

NAME = "moves"
DESCRIPTION = "blind set of facilitator moves: challenge recall, question topicality, answer support, balance"
DATASET = DATASETS / "moves_blind"
FUZZ_MIN = 70  # rapidfuzz partial_ratio for "quotes or paraphrases the assumption"
KEYWORDS_MIN = 2
SPAN_WORDS = 6  # a `none` moment fails when the move quotes this many consecutive words of a partner's turn
Seniority = Literal["senior", "junior", "peer"]
AskKind = Literal["challenge", "question", "answer", "balance"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BlindParticipant(_Strict):
    id: str
    name: str
    role: str = ""
    seniority: Seniority
    offers: list[str] = Field(default_factory=list)
    seeks: list[str] = Field(default_factory=list)

    def participant(self) -> Participant:
        return Participant(id=self.id, name=self.name, role=self.role, offers=self.offers, seeks=self.seeks)


class BlindTurn(_Strict):
    speaker: str
    text: str = Field(min_length=1)


class Expect(_Strict):
    # challenge
    speaker: str | None = None
    assumption: str | None = None
    also: list[str] = Field(default_factory=list)  # another assumption voiced in the same turn, equally "latest"
    keywords: list[str] = Field(default_factory=list)
    none: bool = False
    # question
    topics: list[str] = Field(default_factory=list)
    # answer
    in_scope: bool | None = None
    support: list[str] = Field(default_factory=list)
    # balance
    addressee: str | None = None
    no_nudge_after_vulnerable: bool = False


class Moment(_Strict):
    after: int = Field(ge=0)
    ask: AskKind
    text: str | None = None  # the @facilitator question (answer moments)
    expect: Expect

    @model_validator(mode="after")
    def _expectation_fits_the_ask(self) -> Moment:
        e = self.expect
        if self.ask == "challenge":
            if e.none == bool(e.speaker and e.assumption):
                raise ValueError("a challenge moment expects either {none: true} or a speaker and an assumption")
            if not e.none and not 2 <= len(e.keywords) <= 4:
                raise ValueError("a challenge moment lists 2-4 keywords of the assumption")
        elif self.ask == "question":
            if not e.topics:
                raise ValueError("a question moment lists its topic words")
        elif self.ask == "answer":
            if not self.text or e.in_scope is None:
                raise ValueError("an answer moment has the @facilitator question as `text` and `in_scope`")
            if e.in_scope and not e.support:
                raise ValueError("an in-scope answer moment lists support words")
        elif e.addressee is None and not e.no_nudge_after_vulnerable:
            raise ValueError("a balance moment expects an addressee or no_nudge_after_vulnerable")
        return self


class BlindSession(_Strict):
    id: str
    setting: str = ""
    participants: list[BlindParticipant] = Field(min_length=2, max_length=2)
    turns: list[BlindTurn] = Field(min_length=14, max_length=30)
    moments: list[Moment] = Field(min_length=1)

    @model_validator(mode="after")
    def _moments_point_at_turns(self) -> BlindSession:
        ids = {p.id for p in self.participants}
        for i, t in enumerate(self.turns):
            if t.speaker not in ids:
                raise ValueError(f"turn {i}: speaker '{t.speaker}' is not one of {sorted(ids)}")
        last = -1
        for m in self.moments:
            if m.after >= len(self.turns):
                raise ValueError(f"a moment after turn {m.after}, but the session has {len(self.turns)} turns")
            if m.after < last:
                raise ValueError(f"moments must be in turn order (turn {m.after} after turn {last})")
            last = m.after
            e = m.expect
            for who in (e.speaker, e.addressee):
                if who is not None and who not in ids:
                    raise ValueError(f"moment after turn {m.after}: '{who}' is not one of {sorted(ids)}")
            if e.assumption is not None and self.assumption_turn(m) is None:
                raise ValueError(
                    f"moment after turn {m.after}: '{e.assumption}' is not in any turn of '{e.speaker}' up to there"
                )
            turn = self.assumption_turn(m)
            for other in e.also:
                if turn is None or _norm(other) not in _norm(self.turns[turn].text):
                    raise ValueError(f"moment after turn {m.after}: '{other}' is not in the assumption's turn")
        return self

    def assumption_turn(self, moment: Moment) -> int | None:
        """The latest turn (up to the moment) in which the expected speaker voiced the expected assumption."""
        wanted = _norm(moment.expect.assumption or "")
        for i in range(moment.after, -1, -1):
            t = self.turns[i]
            if t.speaker == moment.expect.speaker and wanted in _norm(t.text):
                return i
        return None

    def pair(self) -> Pair:
        return pair_of([p.participant() for p in self.participants])

    def seniority(self, pid: str) -> Seniority:
        return next(p.seniority for p in self.participants if p.id == pid)

    @property
    def asker(self) -> str:
        """Who asks the @facilitator questions: the senior partner (for peers, the first one listed)."""
        return next((p.id for p in self.participants if p.seniority == "senior"), self.participants[0].id)


def load(path: Path = DATASET) -> list[BlindSession]:
    """Every session file of the blind set, in name order; a bad file raises InputError naming it."""
    from pydantic import ValidationError

    files = sorted(path.glob("*.yaml"))
    if not files:
        raise InputError(f"{path} has no session files; restore them from the repository")
    sessions: list[BlindSession] = []
    for file in files:
        try:
            sessions.append(BlindSession.model_validate(load_yaml(file)))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(root)"
            raise InputError(f"{file}: {where}: {first['msg']}; fix that file") from e
    ids = Counter(s.id for s in sessions)
    if dupes := [i for i, n in ids.items() if n > 1]:
        raise InputError(f"{path}: session ids used twice: {', '.join(dupes)}")
    return sessions


def counts(sessions: list[BlindSession]) -> dict[str, int]:
    """How many moments of each kind the set holds (the README's table)."""
    out: Counter[str] = Counter()
    for s in sessions:
        out["sessions"] += 1
        out["turns"] += len(s.turns)
        for m in s.moments:
            e = m.expect
            if m.ask == "challenge":
                out["challenge"] += 1
                key = "challenge_none" if e.none else f"challenge_{s.seniority(e.speaker or '')}"
                out[key] += 1
            elif m.ask == "answer":
                out["answer"] += 1
                out["answer_in_scope" if e.in_scope else "answer_out_of_scope"] += 1
            elif m.ask == "balance":
                out["balance"] += 1
                out["balance_vulnerable" if e.no_nudge_after_vulnerable else "balance_addressee"] += 1
            else:
                out[m.ask] += 1
    return dict(out)


# ---------------------------------------------------------------------------------------------------- text matching


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.casefold().split())


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return _WORD.findall(_norm(text).replace("'", ""))


def stems(text: str) -> list[str]:
    return [str(s) for s in _stemmer().stemWords(words(text))]


def contains(text_stems: list[str], phrase: str) -> bool:
    """Whether the stems of `phrase` occur, in order and next to each other, in `text_stems`."""
    wanted = stems(phrase)
    if not wanted:
        return False
    n = len(wanted)
    return any(text_stems[i : i + n] == wanted for i in range(len(text_stems) - n + 1))


def matched(text: str, phrases: list[str]) -> list[str]:
    text_stems = stems(text)
    return [p for p in phrases if contains(text_stems, p)]


# Words any facilitation question may use whatever the conversation was about ("before we next meet", "would you
# like to", "by our three-month review"): a topic made only of these never counts as a hit.
GENERIC = frozenset(
    "meet meeting session time next share like week work practice practise try learn question goal step first help "
    "talk feedback check plan draft today last month day thing idea want need know use ask review skill part people "
    "way".split()
)


@cache
def _generic_stems() -> frozenset[str]:
    return frozenset(stems(" ".join(GENERIC)))


def topical(phrases: list[str]) -> list[str]:
    """The topic words of a moment that can count: those with a stem that is not a generic facilitation word."""
    generic = _generic_stems()
    return [p for p in phrases if any(s not in generic for s in stems(p))]


def quoted_span(text: str, sources: list[str], n: int = SPAN_WORDS) -> str | None:
    """The first run of `n` consecutive words of any of `sources` that `text` repeats, if any."""
    have = words(text)
    grams = {" ".join(have[i : i + n]) for i in range(len(have) - n + 1)}
    for source in sources:
        ws = words(source)
        for i in range(len(ws) - n + 1):
            gram = " ".join(ws[i : i + n])
            if gram in grams:
                return gram
    return None


def names_first(text: str, pid: str, pair: Pair) -> bool:
    """Whether `text` names partner `pid` (first name) before the other partner (or names only them)."""
    low = _norm(text)

    def at(p: Participant) -> int:
        m = re.search(rf"(?<!\w){re.escape(_norm(p.first_name))}(?!\w)", low)
        return m.start() if m else -1

    mine, theirs = at(pair.participant(pid)), at(pair.other(pid))
    return mine >= 0 and (theirs < 0 or mine < theirs)


def addressed_to(move: Move, pid: str, pair: Pair) -> bool:
    return move.addressee == pid or names_first(move.text, pid, pair)


def only_to(move: Move, pid: str, pair: Pair) -> bool:
    """A move for `pid` alone: addressed to them, or (to both/nobody) naming them and not the other partner."""
    if move.addressee in pair.ids:
        return move.addressee == pid
    other = pair.other(pid)
    return names_first(move.text, pid, pair) and not re.search(
        rf"(?<!\w){re.escape(_norm(other.first_name))}(?!\w)", _norm(move.text)
    )


def question_texts(move: Move) -> list[str]:
    return [move.text, *(q.text for q in move.questions)]


def proposed(move: Move) -> set[str]:
    """The normalised question texts a move proposes (its listed questions, else its text for a question move)."""
    texts = [q.text for q in move.questions] or ([move.text] if move.kind == "question" else [])
    return {" ".join(words(t)) for t in texts if words(t)}


# ------------------------------------------------------------------------------------------------------- scoring


def challenge_hit(move: Move, session: BlindSession, moment: Moment, pair: Pair) -> dict[str, Any]:
    from rapidfuzz import fuzz

    e = moment.expect
    assert e.speaker is not None and e.assumption is not None
    ratio = max(fuzz.partial_ratio(_norm(a), _norm(move.text)) for a in [e.assumption, *e.also])
    keys = matched(move.text, e.keywords)
    content = ratio >= FUZZ_MIN or len(keys) >= KEYWORDS_MIN
    addressed = addressed_to(move, e.speaker, pair)
    return {
        "passed": move.kind == "challenge" and addressed and content,
        "addressed": addressed,
        "fuzz": round(ratio, 1),
        "keywords": keys,
    }


class _Replay:
    """One session replayed turn by turn through a fresh engine session, with the moves it made."""

    def __init__(self, fac: Facilitator, session: BlindSession) -> None:
        self.session = session
        self.pair = session.pair()
        self.live: LiveSession = fac.start(self.pair)
        self.next = 0
        self.proactive: dict[int, list[Move]] = {}  # dataset turn index -> moves `say` made right after it
        self.seen: set[str] = set()  # every question text proposed so far in this session

    def until(self, index: int) -> None:
        while self.next <= index:
            turn = self.session.turns[self.next]
            made = say(self.live, turn.speaker, turn.text)
            self.proactive[self.next] = made
            for m in made:
                self.seen |= proposed(m)
            self.next += 1

    def ask(self, kind: Literal["challenge", "question", "balance"]) -> Move | None:
        made = moves(self.live.ask(kind))
        return made[-1] if made else None

    def answer(self, question: str) -> Move | None:
        made = say(self.live, self.session.asker, "@facilitator " + question)
        answer = next((m for m in made if m.kind == "answer"), made[-1] if made else None)
        if answer is None or all(c.quote for c in answer.citations):
            return answer
        stored = self.live.conversation().moves  # the stored moves, each citation's quote filled in
        return next((m.move for m in reversed(stored) if m.move.text == answer.text), answer)


def replay(fac: Facilitator, session: BlindSession) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Replay `session` once, in order, and score every moment: one row per moment, and what the facilitator did
    unasked (its proactive moves by kind)."""
    r = _Replay(fac, session)
    rows: list[dict[str, Any]] = []
    for number, moment in enumerate(session.moments):
        r.until(moment.after)
        row: dict[str, Any] = {"id": f"{session.id}#{number}", "after": moment.after, "ask": moment.ask}
        move: Move | None
        e = moment.expect
        if moment.ask == "answer":
            assert moment.text is not None
            move = r.answer(moment.text)
            row |= _score_answer(move, moment)
        elif moment.ask == "balance" and e.no_nudge_after_vulnerable:
            after = r.proactive.get(moment.after, [])
            move = after[-1] if after else None
            nudges = [m for m in after if m.kind == "nudge"]
            row |= {"kind": "vulnerable", "passed": not nudges, "proactive": [m.kind for m in after]}
            if nudges:
                move = nudges[0]
        else:
            move = r.ask("balance" if moment.ask == "balance" else moment.ask)
            if moment.ask == "challenge":
                row |= _score_challenge(move, r, moment)
            elif moment.ask == "question":
                row |= _score_question(move, r, moment)
            else:
                assert e.addressee is not None
                ok = move is not None and move.kind == "nudge" and only_to(move, e.addressee, r.pair)
                row |= {"kind": "addressee", "passed": ok, "expected": e.addressee}
        if move is not None:
            row |= {
                "move_kind": move.kind,
                "addressee": move.addressee,
                "move": clip(move.text, 400),
                "reason": move.reason,
            }
            r.seen |= proposed(move)  # (a proactive move's questions are in already)
        else:
            row["move"] = None
        rows.append(row)
    made = Counter(m.kind for ms in r.proactive.values() for m in ms)
    return rows, {"session": session.id, "turns replayed": r.next, **{f"proactive {k}": n for k, n in made.items()}}


def _score_challenge(move: Move | None, r: _Replay, moment: Moment) -> dict[str, Any]:
    e = moment.expect
    pair, session = r.pair, r.session
    seniority: str | None = None  # whom the challenge is for: a partner's seniority, or "both"
    if move is not None and move.kind == "challenge":
        seniority = session.seniority(move.addressee) if move.addressee in pair.ids else "both"
    if e.none:
        spoken = [t.text for t in session.turns[: moment.after + 1]]
        span = quoted_span(move.text, spoken) if move is not None else None
        return {"kind": "none", "passed": span is None, "quoted": span, "challenged": seniority}
    assert e.speaker is not None
    asked = challenge_hit(move, session, moment, pair) if move is not None else {"passed": False}
    row: dict[str, Any] = {
        "kind": "assumption",
        "expected": e.speaker,
        "expected_seniority": session.seniority(e.speaker),
        "assumption": e.assumption,
        "passed_asked": asked["passed"],
        "via": "asked" if asked["passed"] else None,
        "challenged": seniority,
        **{k: v for k, v in asked.items() if k != "passed"},
    }
    if not asked["passed"]:
        # challenged already: a proactive challenge since the assumption was voiced counts too
        start = session.assumption_turn(moment) or 0
        for i in range(start, moment.after + 1):
            for m in r.proactive.get(i, []):
                if m.kind == "challenge" and challenge_hit(m, session, moment, pair)["passed"]:
                    row["via"] = f"proactive after turn {i}"
                    row["proactive_move"] = clip(m.text, 300)
    row["passed"] = row["via"] is not None
    return row


def _score_question(move: Move | None, r: _Replay, moment: Moment) -> dict[str, Any]:
    if move is None:
        return {"kind": "question", "passed": False, "topics": [], "repeat": False}
    topics = topical(moment.expect.topics)
    hits = sorted({t for text in question_texts(move) for t in matched(text, topics)})
    again = proposed(move) & r.seen
    return {"kind": "question", "passed": bool(hits), "topics": hits, "repeat": bool(again), "repeated": sorted(again)}


def _score_answer(move: Move | None, moment: Moment) -> dict[str, Any]:
    e = moment.expect
    cited = move.citations if move is not None and move.kind == "answer" else []
    if not e.in_scope:
        return {"kind": "out_of_scope", "passed": move is not None and move.kind == "answer" and not cited}
    support = sorted({w for c in cited for w in matched(c.quote or "", e.support)})
    return {
        "kind": "in_scope",
        "passed": bool(support),
        "cited": len(cited),
        "support": support,
        "sources": sorted({c.source for c in cited}),
    }


# ---------------------------------------------------------------------------------------------------------- suite


def _rate(rows: list[dict[str, Any]]) -> float:
    return sum(bool(r["passed"]) for r in rows) / len(rows) if rows else 1.0


def metrics_of(rows: list[dict[str, Any]]) -> dict[str, float]:
    def of(ask: str, kind: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["ask"] == ask and r.get("kind") == kind]

    assumed = of("challenge", "assumption")
    questions = of("question", "question")
    challenged = Counter(r.get("challenged") for r in rows if r["ask"] == "challenge" and r.get("challenged"))
    expected = Counter(r["expected_seniority"] for r in assumed)
    return {
        "challenge_recall": _rate(assumed),
        "challenge_recall_asked": sum(r["passed_asked"] for r in assumed) / len(assumed) if assumed else 1.0,
        "challenge_recall_senior": _rate([r for r in assumed if r["expected_seniority"] == "senior"]),
        "challenge_recall_junior": _rate([r for r in assumed if r["expected_seniority"] == "junior"]),
        "challenge_none_ok": _rate(of("challenge", "none")),
        "question_topicality": _rate(questions),
        "question_repeats": sum(r["repeat"] for r in questions) / len(questions) if questions else 0.0,
        "answer_support": _rate(of("answer", "in_scope")),
        "answer_in_scope_cited": _rate([{"passed": r["cited"] > 0} for r in of("answer", "in_scope")]),
        "answer_decline": _rate(of("answer", "out_of_scope")),
        "balance_addressee": _rate(of("balance", "addressee")),
        "no_nudge_after_vulnerable": _rate(of("balance", "vulnerable")),
        "challenges_senior": float(challenged["senior"]),
        "challenges_junior": float(challenged["junior"]),
        "challenges_both": float(challenged["both"]),
        "n_expected_senior": float(expected["senior"]),
        "n_expected_junior": float(expected["junior"]),
        "n_moments": float(len(rows)),
        "n_proactive_after_vulnerable": float(sum(len(r["proactive"]) for r in of("balance", "vulnerable"))),
    }


def run(ctx: EvalContext, sessions: list[BlindSession] | None = None) -> SuiteResult:
    sessions = load() if sessions is None else sessions
    return replay_all(ctx, sessions)


# What a blind case's detail may show: where the moment is and how it was scored, never what was said.
_BLIND_FIELDS = frozenset(
    {"after", "ask", "kind", "expected_seniority", "passed_asked", "via", "challenged", "addressed", "fuzz", "passed",
     "move_kind", "cited", "repeat", "proactive"}
)  # fmt: skip


def replay_all(
    ctx: EvalContext, sessions: list[BlindSession], *, name: str = NAME, dataset: Path = DATASET
) -> SuiteResult:
    """Replay and score `sessions` (the blind set, or the tuning set under another suite name)."""
    rows: list[dict[str, Any]] = []
    proactive: list[dict[str, Any]] = []
    for n, session in enumerate(sessions):
        if ctx.harness is not None:
            ctx.harness.set_case(session.id)
        scored, made = replay(ctx.facilitator(), session)
        rows += scored
        proactive.append(made)
        ctx.progress(n + 1, len(sessions))
    return result_of(rows, sessions, proactive, name=name, dataset=dataset)


def result_of(
    rows: list[dict[str, Any]],
    sessions: list[BlindSession],
    proactive: list[dict[str, Any]] | None = None,
    *,
    name: str = NAME,
    dataset: Path = DATASET,
) -> SuiteResult:
    shown = (lambda k: k in _BLIND_FIELDS) if name == NAME else (lambda k: k != "id")
    # the blind set's report shows no words of it (no assumption, quote or move text): whoever tunes reads reports
    cases = [
        CaseResult(id=r["id"], passed=bool(r["passed"]), detail={k: v for k, v in r.items() if shown(k)}) for r in rows
    ]
    table = []
    for ask in ("challenge", "question", "answer", "balance"):
        for kind in sorted({r["kind"] for r in rows if r["ask"] == ask}):
            some = [r for r in rows if r["ask"] == ask and r["kind"] == kind]
            table.append(
                {"ask": ask, "kind": kind, "moments": len(some), "passed": sum(bool(r["passed"]) for r in some)}
            )
    return SuiteResult(
        name=name,
        description=DESCRIPTION if name == NAME else f"{DESCRIPTION} (the tuning set, {dataset.name})",
        metrics=metrics_of(rows),
        cases=cases,
        tables={"moments": table, "proactive": proactive or []},
        datasets=[info(dataset.name, dataset, len(sessions))],
        notes=[
            "challenge_recall counts a moment as passed when the asked-for challenge, or a proactive challenge made "
            "since the assumption was voiced, is addressed to its speaker and quotes or paraphrases it; "
            "challenge_recall_asked counts the asked-for challenge only",
            "question_repeats is the share of question moments whose question(s) were already proposed in the session "
            "(lower is better); challenges_senior/junior/both count the asked-for challenges by the seniority of "
            "the partner they address (move.addressee), n_expected_senior/junior the assumption moments by who "
            "voiced them",
            "no_nudge_after_vulnerable is vacuous when the facilitator made no proactive move after those turns "
            "(n_proactive_after_vulnerable counts the moves it did make there)",
        ],
    )
