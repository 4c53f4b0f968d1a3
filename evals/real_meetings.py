"""The offline summarizer on real meetings nobody on the team wrote: QMSum/AMI decisions, ELITR owners and deadlines.

    python -m evals.real_meetings [DATA_FOLDER]

prints a Markdown report. DATA_FOLDER defaults to `../shared/data` beside the checkout (see its README for the
sources and licences).

QMSum (3 AMI meetings). Each meeting is summarized with `summarize_transcript`; its `decisions` are compared with
the QMSum gold answers of the queries that ask about decisions (query text containing "decid" or "decision"):

- recall: the share of the gold answers' content words (lower-case, stop words and the decision cue words
  "decide/decision/agree" removed, simple suffix stemming) that occur in the concatenated decisions;
- sentence share: the share of gold answer sentences for which at least one extracted decision shares >= 3
  content words, or has a rapidfuzz `token_set_ratio` >= 60 over the two content-word strings;
- the same two numbers for equally many random sentences of the meeting (sentences of >= 4 words, cleaned as the
  extractor cleans them), averaged over `DRAWS` seeded draws, and the share of draws that reach the extractor's
  sentence share.

ELITR (3 meetings of the ELITR minuting corpus, 42 ELITR-Bench questions; the zip is password-protected and only
ever unpacked into a temporary folder). Questions are selected by their text ("who", "when", "deadline",
"by when", "responsible", "assigned") and classed as owner and/or deadline questions. A question counts as
answered by the extracted items when an item's action shares a content word with the question and
- owner questions: the item's owner is a person the gold answer names ([PERSONn] or a participant's name);
- deadline questions: the item's due date is a date the gold answer states, or its evidence turns contain the
  gold date/time expression (or a date phrase resolving to a gold date).
Otherwise the reason is "no item" (no item shares a content word with the question), "wrong owner" or "no date".
The session date of each ELITR meeting is read from its human minutes (the transcripts carry none).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from evals.data import load_jsonl_dicts, shared_data
from facilitator.dates import find_due_dates
from facilitator.knowledge.bank import ChallengePatterns
from facilitator.lexicon import FUNCTION_WORDS, SPEECH_WORDS
from facilitator.models import Summary, Transcript
from facilitator.signals import sentences
from facilitator.summary import clean_speech, summarize_transcript
from facilitator.textutil import clip
from facilitator.transcripts import parse_json_transcript

__all__ = [
    "ELITR_PASSWORD",
    "ElitrMeetingResult",
    "ElitrQuestion",
    "ElitrReport",
    "QmsumResult",
    "QuestionResult",
    "classify_question",
    "content_words",
    "elitr_session_date",
    "evaluate_elitr",
    "evaluate_qmsum",
    "load_elitr",
    "load_qmsum",
    "main",
    "parse_elitr_transcript",
    "qmsum_transcript",
    "render_markdown",
    "unzip_elitr",
]

ROOT = Path(__file__).resolve().parents[1]
QMSUM_FILE = Path("qmsum_ami") / "meetings.jsonl"
ELITR_ZIP = Path("elitr") / "elitr_sample.zip"
ELITR_PASSWORD = b"utter"  # published by the data's authors; they ask only that the plain text not be crawlable

# AMI meetings carry no date; decisions do not depend on it, but a fixed date keeps relative due dates reproducible.
# The same date stands in for an ELITR meeting whose minutes state none (all three state one).
FALLBACK_DATE = dt.date(2005, 1, 1)
DRAWS = 20
SEED = 20240601
MIN_SHARED_WORDS = 3
FUZZ_THRESHOLD = 60.0

# ----------------------------------------------------------------------------------------------------------------
# Content words

# The shared lexicon (facilitator/data/stopwords.txt): function words plus the words that carry no topic in speech.
_STOP = FUNCTION_WORDS | SPEECH_WORDS
# Words the decision extractor's own pattern requires: they would credit it for matching its cue, not content.
_CUE_STEMS = frozenset({"decid", "decis", "agre"})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SPELLED = re.compile(r"(?<![A-Za-z])((?:[A-Za-z]_){2,})")  # AMI spells acronyms "L_C_D_"
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ations", ""),
    ("ation", ""),
    ("ingly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ions", ""),
    ("ion", ""),
    ("ments", ""),
    ("ment", ""),
    ("ness", ""),
    ("edly", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("xes", "x"),
    ("ed", ""),
    ("ly", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    """A deliberately simple suffix stemmer: one suffix off (keeping >= 3 letters), then a final 'e'."""
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: -len(suffix)] + replacement
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """Stemmed content words of `text`: lower-case, no stop words, no numbers, no decision cue words."""
    text = _SPELLED.sub(lambda m: m.group(1).replace("_", ""), text).lower().replace("’", "'")
    out: set[str] = set()
    for token in _TOKEN.findall(text):
        if "'" in token:
            if not token.endswith("'s"):
                continue  # contractions are function words (we'll, don't)
            token = token[:-2]
        if len(token) < 3 or token.isdigit() or token in _STOP:
            continue
        stemmed = stem(token)
        if stemmed not in _CUE_STEMS:
            out.add(stemmed)
    return out


def _fuzzy(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(" ".join(sorted(a)), " ".join(sorted(b))))


def _split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


# ----------------------------------------------------------------------------------------------------------------
# QMSum


@dataclass(frozen=True)
class Overlap:
    """How well a list of sentences covers the gold decision answers."""

    recall: float
    sentence_share: float
    matched_sentences: int  # by >= 3 shared content words or the fuzzy ratio
    matched_by_words: int  # by >= 3 shared content words alone (the fuzzy ratio is lenient with short sentences)
    gold_sentences: int

    @property
    def word_share(self) -> float:
        return self.matched_by_words / self.gold_sentences if self.gold_sentences else 0.0


@dataclass
class QmsumResult:
    """One QMSum meeting."""

    meeting_id: str
    turns: int
    seconds: float
    decision_queries: list[str]
    decisions: list[str]
    overlap: Overlap | None
    baseline_recall: float | None
    baseline_share: float | None
    baseline_word_share: float | None
    baseline_reach: float | None  # share of random draws whose sentence share >= the extractor's
    error: str | None = None
    transcript: Transcript | None = field(default=None, repr=False)
    summary: Summary | None = field(default=None, repr=False)


class _QmsumTurn(BaseModel):
    speaker: str
    content: str


class _QmsumQuery(BaseModel):
    query: str
    answer: str


class _QmsumMeeting(BaseModel):
    """The keys of a QMSum meeting line that are read here (others are allowed)."""

    meeting_id: str
    meeting_transcripts: list[_QmsumTurn]
    general_query_list: list[_QmsumQuery] = Field(default_factory=list)
    specific_query_list: list[_QmsumQuery] = Field(default_factory=list)


def load_qmsum(path: Path) -> list[dict[str, Any]]:
    """The meetings of the QMSum JSONL file; a malformed line raises InputError naming file:line and the problem."""
    return load_jsonl_dicts(path, _QmsumMeeting)


def qmsum_transcript(meeting: dict[str, Any]) -> Transcript:
    """The meeting as a transcript: speakers ("Project Manager") become participants ("project-manager")."""
    turns = [{"speaker": t["speaker"], "text": t["content"]} for t in meeting["meeting_transcripts"]]
    return parse_json_transcript({"turns": turns}, origin=meeting["meeting_id"])


def decision_queries(meeting: dict[str, Any]) -> list[dict[str, str]]:
    queries = [*meeting.get("general_query_list", []), *meeting.get("specific_query_list", [])]
    return [q for q in queries if re.search(r"decid|decision", q["query"], re.IGNORECASE)]


def overlap(candidates: Sequence[str], gold_answers: Sequence[str]) -> Overlap:
    """Unigram recall of the gold content words by the candidates, and the share of gold sentences they match."""
    gold_words = set().union(*(content_words(a) for a in gold_answers)) if gold_answers else set()
    found = content_words(" ".join(candidates))
    recall = len(gold_words & found) / len(gold_words) if gold_words else 0.0
    gold_sentences = [s for a in gold_answers for s in _split_sentences(a)]
    cand_words = [content_words(c) for c in candidates]
    matched = by_words = 0
    for sentence in gold_sentences:
        words = content_words(sentence)
        if any(len(words & c) >= MIN_SHARED_WORDS for c in cand_words):
            by_words += 1
            matched += 1
        elif any(_fuzzy(words, c) >= FUZZ_THRESHOLD for c in cand_words):
            matched += 1
    share = matched / len(gold_sentences) if gold_sentences else 0.0
    return Overlap(recall, share, matched, by_words, len(gold_sentences))


def meeting_sentences(transcript: Transcript) -> list[str]:
    """Every sentence of >= 4 words, cleaned and clipped as `facilitator.summary.decisions` does."""
    out: list[str] = []
    for turn in transcript.turns:
        for sentence in sentences(turn.text):
            cleaned = clean_speech(sentence)
            if len(cleaned.split()) >= 4:
                out.append(clip(cleaned, 200))
    return out


def evaluate_qmsum(
    path: Path | None = None, patterns: ChallengePatterns | None = None, *, draws: int = DRAWS, seed: int = SEED
) -> list[QmsumResult]:
    patterns = patterns or ChallengePatterns.load()
    results: list[QmsumResult] = []
    for meeting in load_qmsum(path or shared_data() / QMSUM_FILE):
        mid = str(meeting.get("meeting_id", "?"))
        queries = decision_queries(meeting)
        golds = [q["answer"] for q in queries]
        try:
            transcript = qmsum_transcript(meeting)
            start = time.perf_counter()
            summary = summarize_transcript(transcript, patterns, date=FALLBACK_DATE)
            seconds = time.perf_counter() - start
        except Exception as e:  # a measurement: every failure is counted, none stops the run
            results.append(
                QmsumResult(mid, 0, 0.0, [q["query"] for q in queries], [], None, None, None, None, None, repr(e))
            )
            continue
        found = overlap(summary.decisions, golds)
        pool = meeting_sentences(transcript)
        k = min(len(summary.decisions), len(pool))
        recalls: list[float] = []
        shares: list[float] = []
        word_shares: list[float] = []
        for draw in range(draws):
            rng = random.Random(f"{seed}:{mid}:{draw}")
            sample = rng.sample(pool, k)
            base = overlap(sample, golds)
            recalls.append(base.recall)
            shares.append(base.sentence_share)
            word_shares.append(base.word_share)
        results.append(
            QmsumResult(
                meeting_id=mid,
                turns=len(transcript.turns),
                seconds=seconds,
                decision_queries=[q["query"] for q in queries],
                decisions=list(summary.decisions),
                overlap=found,
                baseline_recall=sum(recalls) / draws if draws else None,
                baseline_share=sum(shares) / draws if draws else None,
                baseline_word_share=sum(word_shares) / draws if draws else None,
                baseline_reach=sum(s >= found.sentence_share for s in shares) / draws if draws else None,
                transcript=transcript,
                summary=summary,
            )
        )
    return results


# ----------------------------------------------------------------------------------------------------------------
# ELITR

_LABEL = re.compile(r"^\s*\((PERSON\d+)\)\s*(.*)$")
_SELECT = re.compile(r"\b(?:who|when|deadline|by when|responsible|assigned)\b", re.IGNORECASE)
_OWNER_Q = re.compile(r"\b(?:who|responsible|assigned)\b", re.IGNORECASE)
_DEADLINE_Q = re.compile(r"\b(?:when|deadline|by when)\b", re.IGNORECASE)
_GOLD_PERSON = re.compile(r"\bPERSON(\d+)\b")
_MINUTES_DATE = re.compile(r"\b([0-3]?\d)\.\s?([01]?\d)\.\s?(20\d\d)\b")
_MONTH = re.compile(
    r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b",
    re.IGNORECASE,
)
_MONTH_NUMBERS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
UNLABELLED = "UNLABELLED"
# The selection keywords frame a question; they are not its topic ("the deadline for the demo paper").
_FRAME_STEMS = frozenset({"deadlin", "responsibl", "assign"})

Kind = Literal["owner", "deadline"]
Reason = Literal["no item", "wrong owner", "no date"]


@dataclass(frozen=True)
class ElitrQuestion:
    meeting_id: str
    id: str
    question: str
    question_type: str  # ELITR-Bench's own label (who/what/when/howmany), shown for comparison only
    answer: str


@dataclass
class ElitrMeetingResult:
    meeting_id: str
    session_date: dt.date | None
    turns: int
    speakers: list[str]
    labelled_turns: int
    seconds: float
    commitments: int
    error: str | None = None
    transcript: Transcript | None = field(default=None, repr=False)
    summary: Summary | None = field(default=None, repr=False)


@dataclass
class QuestionResult:
    question: ElitrQuestion
    kinds: tuple[Kind, ...]
    answered: bool
    reason: Reason | None
    detail: str


@dataclass
class ElitrReport:
    meetings: list[ElitrMeetingResult]
    questions: list[QuestionResult]
    total_questions: int

    @property
    def selected(self) -> int:
        return len(self.questions)

    @property
    def answered(self) -> int:
        return sum(q.answered for q in self.questions)

    @property
    def errors(self) -> int:
        return sum(m.error is not None for m in self.meetings)

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for q in self.questions:
            if q.reason is not None:
                counts[q.reason] = counts.get(q.reason, 0) + 1
        return counts


def unzip_elitr(zip_path: Path, dest: Path) -> Path:
    """Unpack the password-protected ELITR sample into `dest` (a temporary folder; never the repository)."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.setpassword(ELITR_PASSWORD)
        zf.extractall(dest)
    return dest


class _ElitrMeeting(BaseModel):
    meeting_id: str
    transcript: str
    minutes: dict[str, str] = Field(default_factory=dict)


class _ElitrQuestionLine(BaseModel):
    meeting_id: str
    id: str | int
    question: str
    question_type: str = Field(alias="question-type")
    groundtruth_answer: str = Field(alias="groundtruth-answer")


def load_elitr(folder: Path) -> tuple[list[dict[str, Any]], list[ElitrQuestion]]:
    """The unpacked ELITR sample; a malformed line raises InputError naming file:line and the problem."""
    meetings = load_jsonl_dicts(folder / "elitr_meetings.jsonl", _ElitrMeeting)
    questions = [
        ElitrQuestion(q["meeting_id"], str(q["id"]), q["question"], q["question-type"], q["groundtruth-answer"])
        for q in load_jsonl_dicts(folder / "elitr_bench_questions.jsonl", _ElitrQuestionLine)
    ]
    return meetings, questions


def parse_elitr_transcript(text: str, *, origin: str = "elitr") -> Transcript:
    """`(PERSONn) text` lines as turns of participant `personn`; an unlabelled line continues the current turn.

    Lines before any label (one ELITR meeting has no labels at all) become one turn each of an `UNLABELLED`
    speaker: the transcript does not say who spoke them.
    """
    turns: list[dict[str, str]] = []
    current: str | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LABEL.match(line)
        if match:
            current = match.group(1)
            turns.append({"speaker": current, "text": match.group(2).strip()})
        elif current is not None:
            turns[-1]["text"] = f"{turns[-1]['text']}\n{line.strip()}".strip()
        else:
            turns.append({"speaker": UNLABELLED, "text": line.strip()})
    names = dict.fromkeys(t["speaker"] for t in turns)
    participants = [{"id": name.lower(), "name": name} for name in names]
    return parse_json_transcript({"participants": participants, "turns": turns}, origin=origin)


def elitr_session_date(meeting: dict[str, Any]) -> dt.date | None:
    """The first dd.mm.yyyy date in the meeting's human minutes."""
    for name in sorted(meeting.get("minutes", {})):
        match = _MINUTES_DATE.search(meeting["minutes"][name])
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return None


def classify_question(question: str) -> tuple[Kind, ...]:
    """() when the question is not selected; else its kinds: "owner" (who/responsible/assigned), "deadline"."""
    if not _SELECT.search(question):
        return ()
    kinds: list[Kind] = []
    if _OWNER_Q.search(question):
        kinds.append("owner")
    if _DEADLINE_Q.search(question):
        kinds.append("deadline")
    return tuple(kinds)


def _gold_people(answer: str, transcript: Transcript) -> set[str]:
    people = {f"person{n}" for n in _GOLD_PERSON.findall(answer)}
    for p in transcript.participants:
        if p.name != UNLABELLED and re.search(rf"\b{re.escape(p.name)}\b", answer, re.IGNORECASE):
            people.add(p.id)
    return people


@dataclass(frozen=True)
class _GoldTime:
    dates: frozenset[dt.date]
    phrases: tuple[str, ...]  # lower-case expressions to look for in the evidence
    months: frozenset[int]  # month-only answers ("In March")


def _gold_time(answer: str, session: dt.date) -> _GoldTime:
    found = find_due_dates(answer, session)
    phrases = [m.text.lower() for m in found]
    rest = answer
    for m in reversed(found):
        rest = rest[: m.start] + " " + rest[m.end :]
    names = [m.lower() for m in _MONTH.findall(rest) if m.lower() != "may"]  # "may" is mostly the verb
    months = {_MONTH_NUMBERS[m[:3]] for m in names}
    phrases += names
    return _GoldTime(frozenset(m.date for m in found), tuple(phrases), frozenset(months))


def _has_gold_time(item_due: dt.date | None, evidence: str, gold: _GoldTime, session: dt.date) -> bool:
    if item_due is not None and (item_due in gold.dates or item_due.month in gold.months):
        return True
    low = evidence.lower()
    if any(re.search(rf"\b{re.escape(p)}\b", low) for p in gold.phrases):
        return True
    return any(m.date in gold.dates for m in find_due_dates(evidence, session))


def judge_question(
    question: ElitrQuestion, kinds: tuple[Kind, ...], transcript: Transcript, summary: Summary, session: dt.date
) -> QuestionResult:
    """Whether the extracted items answer the question; if not, the first condition that fails."""
    q_words = content_words(question.question) - _FRAME_STEMS
    items = [c for c in summary.commitments if q_words & content_words(c.action)]
    if not items:
        return QuestionResult(
            question, kinds, False, "no item", f"no item's action shares a word with {sorted(q_words)}"
        )
    shown = "; ".join(f"{c.owner}: {clip(c.action, 50)}" for c in items[:4])
    if "owner" in kinds:
        people = _gold_people(question.answer, transcript)
        owned = [c for c in items if c.owner in people]
        if not owned:
            who = ", ".join(sorted(people)) or "no person"
            return QuestionResult(question, kinds, False, "wrong owner", f"gold names {who}; items: {shown}")
        items = owned
    if "deadline" in kinds:
        gold = _gold_time(question.answer, session)
        if not (gold.dates or gold.months or gold.phrases):
            return QuestionResult(question, kinds, False, "no date", f"the gold answer states no date; items: {shown}")
        turns = {t.index: t.text for t in transcript.turns}
        dated = [
            c for c in items if _has_gold_time(c.due, " ".join(turns.get(i, "") for i in c.evidence), gold, session)
        ]
        if not dated:
            dues = ", ".join(str(c.due) for c in items)
            return QuestionResult(question, kinds, False, "no date", f"items' due: {dues}; items: {shown}")
        items = dated
    best = items[0]
    detail = f"{best.owner}: {clip(best.action, 60)} (due {best.due}, turns {best.evidence})"
    return QuestionResult(question, kinds, True, None, detail)


def evaluate_elitr(folder: Path, patterns: ChallengePatterns | None = None) -> ElitrReport:
    """Run the extractor on every ELITR meeting in the unpacked `folder` and judge the selected questions."""
    patterns = patterns or ChallengePatterns.load()
    meetings, questions = load_elitr(folder)
    results: list[ElitrMeetingResult] = []
    by_id: dict[str, ElitrMeetingResult] = {}
    for meeting in meetings:
        mid = str(meeting.get("meeting_id", "?"))
        session = elitr_session_date(meeting)
        try:
            transcript = parse_elitr_transcript(meeting["transcript"], origin=mid)
            start = time.perf_counter()
            summary = summarize_transcript(transcript, patterns, date=session, today=FALLBACK_DATE)
            seconds = time.perf_counter() - start
        except Exception as e:  # a measurement: every failure is counted, none stops the run
            result = ElitrMeetingResult(mid, session, 0, [], 0, 0.0, 0, repr(e))
        else:
            result = ElitrMeetingResult(
                meeting_id=mid,
                session_date=session,
                turns=len(transcript.turns),
                speakers=[p.id for p in transcript.participants],
                labelled_turns=sum(t.speaker != UNLABELLED.lower() for t in transcript.turns),
                seconds=seconds,
                commitments=len(summary.commitments),
                transcript=transcript,
                summary=summary,
            )
        results.append(result)
        by_id[mid] = result
    judged: list[QuestionResult] = []
    for question in questions:
        kinds = classify_question(question.question)
        if not kinds:
            continue
        meeting_result = by_id.get(question.meeting_id)
        if meeting_result is None or meeting_result.summary is None or meeting_result.transcript is None:
            judged.append(QuestionResult(question, kinds, False, "no item", "the meeting did not summarize"))
            continue
        session = meeting_result.summary.date or FALLBACK_DATE
        judged.append(judge_question(question, kinds, meeting_result.transcript, meeting_result.summary, session))
    return ElitrReport(results, judged, len(questions))


# ----------------------------------------------------------------------------------------------------------------
# Report


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(qmsum: Sequence[QmsumResult], elitr: ElitrReport | None) -> str:
    lines = [
        "## QMSum (AMI): decisions vs the gold answers of decision queries",
        "",
        f"Random baseline: as many random meeting sentences (>= 4 words) as decisions, mean of {DRAWS} seeded draws; "
        "'reach' = share of draws whose sentence share is >= the extractor's.",
        "",
        "| meeting | turns | seconds | decisions | recall | sentence share | of which >= 3 words | random recall "
        "| random share | random >= 3 words | reach | error |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in qmsum:
        o = r.overlap
        share = "-" if o is None else f"{_pct(o.sentence_share)} ({o.matched_sentences}/{o.gold_sentences})"
        words = "-" if o is None else f"{_pct(o.word_share)} ({o.matched_by_words}/{o.gold_sentences})"
        lines.append(
            f"| {r.meeting_id} | {r.turns} | {r.seconds:.2f} | {len(r.decisions)} "
            f"| {_pct(None if o is None else o.recall)} | {share} | {words} | {_pct(r.baseline_recall)} "
            f"| {_pct(r.baseline_share)} | {_pct(r.baseline_word_share)} | {_pct(r.baseline_reach)} "
            f"| {_cell(r.error or '')} |"
        )
    errors = sum(r.error is not None for r in qmsum)
    lines += ["", f"Errors: {errors}.", "", "Decision queries used:", ""]
    for r in qmsum:
        lines += [f"- {r.meeting_id}: " + "; ".join(f'"{q}"' for q in r.decision_queries)]
    if elitr is None:
        return "\n".join(lines)
    lines += [
        "",
        "## ELITR: owner and deadline questions answered by the extracted items",
        "",
        "| meeting | date (minutes) | turns | labelled turns | speakers | items | seconds | error |",
        "|---|---|---:|---:|---|---:|---:|---|",
    ]
    for m in elitr.meetings:
        lines.append(
            f"| {m.meeting_id} | {m.session_date} | {m.turns} | {m.labelled_turns} | {', '.join(m.speakers)} "
            f"| {m.commitments} | {m.seconds:.2f} | {_cell(m.error or '')} |"
        )
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(elitr.reasons().items())) or "none"
    lines += [
        "",
        f"Selected {elitr.selected} of {elitr.total_questions} questions; answered {elitr.answered}; "
        f"not answered: {reasons}; errors: {elitr.errors}.",
        "",
        "| meeting | q | question | bench type | our class | gold | answered | reason | detail |",
        "|---|---:|---|---|---|---|---|---|---|",
    ]
    for q in elitr.questions:
        lines.append(
            f"| {q.question.meeting_id} | {q.question.id} | {_cell(q.question.question)} | {q.question.question_type} "
            f"| {'+'.join(q.kinds)} | {_cell(q.question.answer)} | {'yes' if q.answered else 'no'} "
            f"| {q.reason or ''} | {_cell(q.detail)} |"
        )
    return "\n".join(lines)


def run(data: Path | None = None) -> str:
    data = data or shared_data()
    qmsum = evaluate_qmsum(data / QMSUM_FILE)
    with tempfile.TemporaryDirectory(prefix="elitr-") as tmp:
        elitr = evaluate_elitr(unzip_elitr(data / ELITR_ZIP, Path(tmp)))
    return render_markdown(qmsum, elitr)


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    data = Path(args[0]) if args else shared_data()
    if not (data / QMSUM_FILE).is_file() or not (data / ELITR_ZIP).is_file():
        print(f"{data}: expected {QMSUM_FILE} and {ELITR_ZIP} (the shared data folder)", file=sys.stderr)
        return 1
    print(run(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
