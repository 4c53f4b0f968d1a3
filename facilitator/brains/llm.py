"""The LLM facilitator: any OpenAI-compatible chat model through langchain-openai's ChatOpenAI.

Moves with structure (questions, challenges, nudges), the review of accountability items and agenda wording use
structured output (json_schema, falling back to function calling for servers without it); answers stream plain text.
Every call goes through the circuit breaker, the retries and the budget, and its output is validated; any failure
raises ModelError so the engine can let the offline brain answer that turn (or keep the agenda as code built it, or
the offline extractor's items unreviewed).

The chat model is injected: `make_chat_model` for a real server, `facilitator.testing.function_model.FunctionModel`
in unit tests.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from facilitator.brains.base import (
    AgendaPhrasing,
    AgendaPhrasingInput,
    BrainInput,
    BrainProfile,
    CommitmentReview,
    CommitmentReviewInput,
    CommitmentVerdict,
    TokenSink,
)
from facilitator.brains.breaker import DEFAULT_COOLDOWN, CircuitBreaker
from facilitator.context import understanding_text
from facilitator.exceptions import ModelError
from facilitator.knowledge.bank import CHALLENGE_SOURCE, QUESTION_BANK_SOURCE
from facilitator.models import Agenda, Citation, Commitment, Move, Pair, SuggestedQuestion, Turn
from facilitator.prompts import Block, blocks, item, load_prompt
from facilitator.textutil import clip

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from facilitator.settings import Settings

S = TypeVar("S", bound=BaseModel)
T = TypeVar("T")
StructuredMethod = Literal["json_schema", "function_calling"]
_CITE = re.compile(r"\[([A-Za-z0-9_.:-]{2,64})\]")


class DraftQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str
    for_: str = Field(alias="for")
    source_id: str


class MoveDraft(BaseModel):
    """What the model returns for a structured move; code checks every field before it is shown."""

    model_config = ConfigDict(extra="forbid")

    text: str
    questions: list[DraftQuestion]
    citations: list[str]


REVIEW_TURNS = 80  # turns shown in one review call at most (candidates' evidence turns and their neighbours)
REVIEW_ITEMS = 20  # candidates in one review call at most
REVIEW_TURN_CHARS = 600  # of each turn shown to a review
PAIR_TEXT_BUDGET = 1500  # characters of the pair's description in every prompt
REFERENCE_CHARS = 1200  # of each guidance passage in the agenda prompt
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


class LLMBrain:
    """Words moves, items and agendas with a chat model. The model is injected: `make_chat_model(settings)` (what
    `from_settings` uses), or in tests a FunctionModel (facilitator.testing) or a ChatOpenAI aimed at a local fake
    server."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        model_name: str,
        *,
        settings: Settings | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._model = chat_model
        self._model_name = model_name
        server = settings.openai_base_url if settings else None
        self._server = _USERINFO.sub(r"\1", server) if server else None  # never a user:password@ in a banner
        # Failures the openai client does not retry (broken JSON, a stream cut short) are retried here, as many times
        # as the client retries the others; the whole move or summary is bounded by the budget (None: unbounded).
        self._attempts = settings.llm_max_retries + 1 if settings else 1
        self._budget = settings.model_budget if settings else None
        self._limits = f"{settings.llm_timeout:g} s timeout per call" if settings else ""
        # After an outage the next moves answer offline at once instead of each waiting out its budget again.
        self.breaker = breaker or CircuitBreaker(settings.llm_cooldown if settings else DEFAULT_COOLDOWN)
        self._method: StructuredMethod = "json_schema"
        self._system = load_prompt("system")
        self._move = load_prompt("move")
        self._answer = load_prompt("answer")
        self._extract = load_prompt("extract")
        self._agenda = load_prompt("agenda")

    @classmethod
    def from_settings(cls, settings: Settings, *, breaker: CircuitBreaker | None = None) -> LLMBrain:
        return cls(make_chat_model(settings), settings.model, settings=settings, breaker=breaker)

    @property
    def name(self) -> str:
        return self._model_name

    @property
    def profile(self) -> BrainProfile:
        return BrainProfile(kind="llm", model=self._model_name, server=self._server, streams=True)

    @property
    def prompt_refs(self) -> list[str]:
        return [p.ref for p in (self._system, self._move, self._answer, self._extract, self._agenda)]

    def review_commitments(self, data: CommitmentReviewInput) -> CommitmentReview:
        """The model's verdicts on the offline extractor's candidates, in batches of at most REVIEW_ITEMS candidates
        and REVIEW_TURNS turns (each candidate's evidence turns and their neighbours). Raises ModelError on any
        failure; no candidates, no call.

        Candidates are shown as `c1`, `c2`, ... (in order); the verdicts come back with the candidates' own ids
        (an id the model made up stays as it said it). Nothing here is trusted: the caller checks every verdict
        (facilitator.commitments.validation.apply_review).
        """
        if not data.candidates:
            return CommitmentReview(verdicts=[])
        return self._bounded("review the accountability items", lambda: self._review_items(data))

    def _review_items(self, data: CommitmentReviewInput) -> CommitmentReview:
        from facilitator.commitments.validation import context_turns

        turns = {t.index: t for t in data.turns}
        labels = {f"c{n}": str(c.id) for n, c in enumerate(data.candidates, start=1)}
        names = ", ".join(f"{p.id} ({p.name})" for p in data.participants)
        following = data.next_meeting.isoformat() if data.next_meeting else "not known"
        verdicts: list[CommitmentVerdict] = []
        try:
            for batch, shown in _review_batches(data.candidates, lambda c: context_turns(c.evidence, turns)):
                user = self._extract.render(
                    participants=names,
                    session_date=f"{data.session_date.isoformat()} ({data.session_date:%A})",
                    next_meeting=following,
                    conversation=_review_conversation([turns[i] for i in shown]),
                    candidates=blocks(_candidate_item(label, c) for label, c in batch),
                )
                result = self._retrying(partial(self._call_structured, user, CommitmentReview))
                verdicts += [_relabelled(v, labels) for v in result.verdicts]
        except ModelError:
            raise
        except Exception as e:  # any failure of the call or its output: the caller keeps the candidates unreviewed
            raise ModelError(
                f"the model failed to review the items{self._tried()} ({e.__class__.__name__}: {str(e)[:200]})"
            ) from e
        return CommitmentReview(verdicts=verdicts)

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing:
        """The model's wording of the agenda's titles, purposes and questions. Raises ModelError on any failure.

        Only its shape is checked here (the schema, and at least one item); the caller checks that it fits the
        agenda (facilitator.agenda.phrase) before using it.
        """
        return self._bounded("reword the agenda", lambda: self._phrase_agenda(data))

    def _phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing:
        user = self._agenda.render(
            pair=_agenda_pair_text(data.pair),
            minutes=str(data.agenda.total_minutes),
            agenda=_agenda_text(data.agenda, data.pair),
            references=blocks([item(clip(h.text, REFERENCE_CHARS), id=h.id, title=h.title) for h in data.references]),
        )
        try:
            phrasing = self._retrying(partial(self._call_structured, user, AgendaPhrasing))
        except ModelError:
            raise
        except Exception as e:  # any failure of the call or its output: the caller keeps the agenda as built
            raise ModelError(
                f"the model failed to reword the agenda{self._tried()} ({e.__class__.__name__}: {str(e)[:200]})"
            ) from e
        if data.agenda.items and not phrasing.items:
            raise ModelError(f"the model returned no items for the {len(data.agenda.items)}-item agenda")
        return phrasing

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        return self._bounded("answer", lambda: self._render(data, on_token))

    def _render(self, data: BrainInput, on_token: TokenSink | None) -> Move:
        try:
            if data.plan.kind == "answer":
                return self._retrying(lambda: self._stream_answer(data, on_token))
            return self._retrying(lambda: self._structured_move(data, on_token))
        except ModelError:
            raise
        except Exception as e:  # any failure of the model call or its output: the offline brain takes the turn
            raise ModelError(f"the model failed{self._tried()} ({e.__class__.__name__}: {str(e)[:200]})") from e

    # ------------------------------------------------------ retries and budget
    def _tried(self) -> str:
        return f" after {self._attempts - 1} retries ({self._limits})" if self._limits else ""

    def _retrying(self, call: Callable[[], T]) -> T:
        """`call`, tried again on the failures the openai client does not retry itself (see `_client_gave_up`)."""
        for attempt in range(1, self._attempts + 1):
            try:
                return call()
            except Exception as e:
                if attempt == self._attempts or _client_gave_up(e):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _bounded(self, what: str, call: Callable[[], T]) -> T:
        """`call` through the circuit breaker and within the budget. While the breaker is open, ModelError at once;
        past the budget, ModelError (the offline facilitator answers) while the call is left to finish."""
        self.breaker.admit(f"{self._limits}, {self._attempts - 1} retries" if self._limits else "")
        try:
            value = self._within_budget(what, call)
        except Exception as e:  # ModelError; anything else still ends a probe
            self.breaker.failed(e)
            raise
        self.breaker.succeeded()
        return value

    def _within_budget(self, what: str, call: Callable[[], T]) -> T:
        if self._budget is None:
            return call()
        outcome: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

        def run() -> None:
            try:
                outcome.put((True, call()))
            except Exception as e:  # handed to the caller's thread
                outcome.put((False, e))

        threading.Thread(target=run, daemon=True, name="comentor-model-call").start()
        started = time.monotonic()
        try:
            ok, value = outcome.get(timeout=self._budget)
        except queue.Empty:
            raise ModelError(
                f"the model did not {what} within the {self._budget:g} s budget ({self._limits}, "
                f"{self._attempts - 1} retries; waited {time.monotonic() - started:.1f} s)"
            ) from TimeoutError(f"no answer within the {self._budget:g} s budget")
        if not ok:
            if isinstance(value, ModelError):
                raise value
            raise ModelError(
                f"the model failed{self._tried()} ({value.__class__.__name__}: {str(value)[:200]})"
            ) from value
        return value

    # ----------------------------------------------------------------- calls
    def _messages(self, user: str) -> list[Any]:
        return system_and_user(user)

    def _stream_answer(self, data: BrainInput, on_token: TokenSink | None) -> Move:
        asker = (
            data.pair.participant(data.plan.addressee).first_name
            if data.plan.addressee in data.pair.ids
            else "A partner"
        )
        user = self._answer.render(
            question=data.plan.query,
            asker=asker,
            pair=_pair_text(data),
            conversation=data.context,
            references=_references(data) if data.covered else "(nothing relevant was found in the guidance)",
        )
        parts: list[str] = []
        for chunk in self._model.stream(self._messages(user)):
            token = chunk.content if isinstance(chunk.content, str) else ""
            if token:
                parts.append(token)
                if on_token:
                    on_token(token)
        text = "".join(parts).strip()
        if not text:
            raise ModelError("the model returned an empty answer")
        by_id = {h.id: h for h in data.guidance}
        cited = [c for c in dict.fromkeys(_CITE.findall(text)) if c in by_id]
        citations = [Citation(source=by_id[c].source, id=c, title=by_id[c].title) for c in cited]
        return Move(kind="answer", text=text, addressee=data.plan.addressee, citations=citations, brain=self.name)

    def _structured_move(self, data: BrainInput, on_token: TokenSink | None) -> Move:
        plan = data.plan
        describe = plan.kind if plan.addressee in (None, "both") else f"{plan.kind} for {plan.addressee}"
        if plan.assumption is not None:
            describe += f' about the assumption "{plan.assumption.text}" (turn {plan.assumption.turn})'
        if plan.kind == "transition" and not plan.overdue:
            describe += " (the partners asked to move on before its time ran out: do not say that time is up)"
        user = self._move.render(
            move=describe,
            instructions=self._move.instruction(plan.kind),
            pair=_pair_text(data),
            state=data.state_text or "(start of the session)",
            understanding=understanding_text(data.reading, data.pair),
            conversation=data.context,
            references=_references(data),
        )
        draft = self._call_structured(user, MoveDraft)
        if on_token:
            on_token(draft.text)
        by_id = _reference_index(data)
        questions = [
            SuggestedQuestion.model_validate({"text": q.text, "for": q.for_, "citation": by_id.get(q.source_id)})
            for q in draft.questions[:3]
        ]
        citations = [by_id[c] for c in dict.fromkeys(draft.citations) if c in by_id]
        return Move(
            kind=plan.kind,
            text=_inviting(draft.text, data) if plan.kind == "challenge" else draft.text,
            addressee=plan.addressee,
            questions=questions,
            citations=citations,
            brain=self.name,
        )

    def _call_structured(self, user: str, schema: type[S]) -> S:
        result, self._method = structured_call(self._model, self._messages(user), schema, self._method)
        return result


def structured_call(
    chat_model: BaseChatModel, messages: list[Any], schema: type[S], method: StructuredMethod = "json_schema"
) -> tuple[S, StructuredMethod]:
    """The model's answer as `schema`: json_schema first, function calling when the server rejects json_schema.

    Returns the result and the method that worked (callers keep it, so a server is asked the unsupported way once).
    """
    import openai

    try:
        result = chat_model.with_structured_output(schema, method=method).invoke(messages)
    except (openai.BadRequestError, openai.UnprocessableEntityError, openai.InternalServerError) as e:
        # 400, 422 or (llama-cpp-python) 500 "Input should be 'text' or 'json_object'": no json_schema here
        unsupported = any(word in str(e) for word in ("response_format", "json_schema", "json_object"))
        if method != "json_schema" or not unsupported:
            raise
        method = "function_calling"
        result = chat_model.with_structured_output(schema, method=method).invoke(messages)
    if not isinstance(result, schema):
        raise ModelError("the model's structured output did not parse")
    return result, method


def _client_gave_up(error: Exception) -> bool:
    """True for failures the openai client already retried (timeouts, 408/409/429/5xx) or that retrying cannot fix
    (other 4xx); False for a broken answer (malformed JSON, a stream cut short, output that does not parse)."""
    import openai

    return isinstance(error, openai.APITimeoutError | openai.APIStatusError)


def system_and_user(user: str) -> list[Any]:
    """The two messages of every call: the fixed system prompt, then the user message holding all data."""
    from langchain_core.messages import HumanMessage, SystemMessage

    return [SystemMessage(content=load_prompt("system").body), HumanMessage(content=user)]


def make_chat_model(settings: Settings) -> BaseChatModel:
    """ChatOpenAI aimed at OPENAI_BASE_URL (any OpenAI-compatible server); explicit timeout, the client's retries."""
    from langchain_openai import ChatOpenAI

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return ChatOpenAI(
        model=settings.model,
        base_url=settings.openai_base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        temperature=0.3,
        max_completion_tokens=settings.llm_max_tokens,
        seed=settings.llm_seed,
        use_responses_api=False,
        stream_usage=True,
    )


def _review_batches(
    candidates: list[Commitment], context: Callable[[Commitment], list[int]]
) -> list[tuple[list[tuple[str, Commitment]], list[int]]]:
    """The candidates (labelled c1, c2, ... in order) in consecutive batches of at most REVIEW_ITEMS, each with the
    turns it shows: its candidates' context turns, at most REVIEW_TURNS (one candidate alone is cut to that)."""
    batches: list[tuple[list[tuple[str, Commitment]], list[int]]] = []
    batch: list[tuple[str, Commitment]] = []
    shown: set[int] = set()
    for n, candidate in enumerate(candidates, start=1):
        wanted = set(context(candidate)[:REVIEW_TURNS])
        if batch and (len(batch) == REVIEW_ITEMS or len(shown | wanted) > REVIEW_TURNS):
            batches.append((batch, sorted(shown)))
            batch, shown = [], set()
        batch.append((f"c{n}", candidate))
        shown |= wanted
    if batch:
        batches.append((batch, sorted(shown)))
    return batches


def _review_conversation(turns: list[Turn]) -> str:
    """`[index] speaker: text` per turn (each clipped), with "..." where turns are left out."""
    lines: list[str] = []
    for at, turn in enumerate(turns):
        if at and turn.index != turns[at - 1].index + 1:
            lines.append("...")
        lines.append(f"[{turn.index}] {turn.speaker}: {clip(' '.join(turn.text.split()), REVIEW_TURN_CHARS)}")
    return "\n".join(lines)


def _candidate_item(label: str, candidate: Commitment) -> Block:
    due = candidate.due.isoformat() if candidate.due else "none"
    evidence = ", ".join(str(i) for i in candidate.evidence)
    return item(candidate.action, id=label, owner=candidate.owner, due=due, evidence=evidence)


def _relabelled(verdict: CommitmentVerdict, labels: dict[str, str]) -> CommitmentVerdict:
    """The verdict with the prompt's labels (c1, c2, ...) turned back into the candidates' ids."""
    update = {"id": labels.get(verdict.id.strip(), verdict.id)}
    if verdict.duplicate_of is not None:
        update["duplicate_of"] = labels.get(verdict.duplicate_of.strip(), verdict.duplicate_of)
    return verdict.model_copy(update=update)


def _inviting(text: str, data: BrainInput) -> str:
    """A model's challenge that names none of the others is given the offline brain's invitation to the other
    partner: a challenge asks the speaker AND invites the other view (checked in code, not left to the model)."""
    from facilitator.brains.offline import invitation

    assumption = data.plan.assumption
    others = data.pair.others(assumption.speaker) if assumption is not None else []
    if not others or any(re.search(rf"\b{re.escape(p.first_name)}\b", text) for p in others):
        return text
    invite = invitation(data)
    return f"{text.rstrip()} {invite}" if invite else text


def _pair_lines(pair: Pair) -> list[str]:
    """The partners and their shared goals, one line each, within PAIR_TEXT_BUDGET characters in all whatever the
    pair file holds (every field is bounded, but ten 200-character offers per partner would still crowd out the
    conversation)."""
    share = PAIR_TEXT_BUDGET // (len(pair.participants) + 1)
    lines = []
    for p in pair.participants:
        line = (
            f"- {p.first_name} (id {p.id}, {p.role or 'no role given'}): "
            f"offers {', '.join(p.offers) or 'nothing listed'}; seeks {', '.join(p.seeks) or 'nothing listed'}"
        )
        lines.append(clip(line, share))
    if pair.shared_goals:
        lines.append(clip(f"- shared goals: {', '.join(pair.shared_goals)}", share))
    return lines


def _pair_text(data: BrainInput) -> str:
    """The pair as the move and answer prompts describe it: the partners, and the current agenda item."""
    lines = _pair_lines(data.pair)
    if data.agenda_item:
        lines.append(f"- current agenda item: {data.agenda_item.title}")
    return "\n".join(lines)


def _agenda_pair_text(pair: Pair) -> str:
    """The pair as the agenda prompt describes it: the partners, and how often they meet."""
    lines = _pair_lines(pair)
    if pair.cadence:
        lines.append(f"- they meet {pair.cadence}")
    return "\n".join(lines)


def _agenda_text(agenda: Agenda, pair: Pair) -> str:
    """The agenda item by item: `[index] title (minutes, lead)`, its purpose, its questions and whom each is for."""
    names = {p.id: p.first_name for p in pair.participants}
    parts = []
    for n, entry in enumerate(agenda.items):
        lead = f"led by {names.get(entry.lead, entry.lead)}" if entry.lead else "led by both"
        lines = [f"[{n}] {entry.title} ({entry.minutes} min, {lead})", f"purpose: {entry.purpose}", "questions:"]
        for k, q in enumerate(entry.questions, start=1):
            lines.append(f"  {k}. (for {'both' if q.for_ == 'both' else names.get(q.for_, q.for_)}) {q.text}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _references(data: BrainInput) -> Block:
    """The reference material as item blocks, built by the one helper that escapes them (facilitator.prompts)."""
    found = [item(h.text, id=h.id, source=h.source, title=h.title) for h in data.guidance]
    found += [item(c.text, id=c.entry.id, source=QUESTION_BANK_SOURCE, for_=c.addressee) for c in data.candidates]
    if data.pattern is not None:
        probes = " / ".join(data.pattern.probes[:3])
        found.append(
            item(
                f"{data.pattern.description} Example probes: {probes}",
                id=data.pattern.id,
                source=CHALLENGE_SOURCE,
                title=data.pattern.name,
            )
        )
    return blocks(found)


def _reference_index(data: BrainInput) -> dict[str, Citation]:
    index = {h.id: Citation(source=h.source, id=h.id, title=h.title) for h in data.guidance}
    index.update({c.entry.id: Citation(source=QUESTION_BANK_SOURCE, id=c.entry.id) for c in data.candidates})
    if data.pattern is not None:
        index[data.pattern.id] = Citation(source=CHALLENGE_SOURCE, id=data.pattern.id, title=data.pattern.name)
    return index
