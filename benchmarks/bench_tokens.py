"""Cost as sessions grow: prompt tokens per model call against turn number, bounded context vs full history.

Three sessions take the same real meeting turns through the engine with the LLM brain, each against its own fake
OpenAI-compatible server that records every request:

- bounded: the engine as it is (a rolling summary of older turns, the last turns verbatim, the state);
- full transcript (naive): the same brain given the whole transcript instead of the bounded context;
- chat memory (naive): the common chatbot pattern, one growing message list: every turn is appended as a message and
  every call's prompt and the model's reply stay in the history.

Prompt tokens are counted on the requests the servers received.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.common import PAIR_FILE, TokenCounter, conversation_lines, model_reply
from facilitator.brains.base import (
    AgendaPhrasing,
    AgendaPhrasingInput,
    Brain,
    BrainInput,
    BrainProfile,
    CommitmentReview,
    CommitmentReviewInput,
    TokenSink,
)
from facilitator.context import name_of
from facilitator.models import Move, Pair, Turn

MOVES = ("question", "challenge", "balance", "recap")


def full_history(turns: list[Turn], pair: Pair) -> str:
    """The naive context: every turn verbatim, in the same line format as the bounded context."""
    return "\n".join(f"[{t.index}] {name_of(pair, t.speaker)}: {t.text}" for t in turns) or "(no turns yet)"


class FullHistoryBrain:
    """The baseline: the same LLM brain, handed the whole conversation instead of the bounded context."""

    def __init__(self, inner: Brain) -> None:
        self._inner = inner

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def profile(self) -> BrainProfile:
        return self._inner.profile

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing:
        return self._inner.phrase_agenda(data)

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        return self._inner.render(dataclasses.replace(data, context=full_history(data.turns, data.pair)), on_token)

    def review_commitments(self, data: CommitmentReviewInput) -> CommitmentReview:
        return self._inner.review_commitments(data)


class ChatMemoryBrain:
    """The chat-memory baseline: the LLM brain's prompts, sent after the whole message history so far."""

    def __init__(self, settings: Any) -> None:
        from langchain_core.messages import AIMessage, HumanMessage

        from facilitator.brains.llm import LLMBrain

        self._human, self._ai = HumanMessage, AIMessage
        self._history: list[Any] = []
        self._seen = 0
        brain = LLMBrain.from_settings(settings)
        base = brain._messages

        def messages(user: str) -> list[Any]:
            system, prompt = base(user)
            sent = [system, *self._history, prompt]
            self._history.append(prompt)
            return sent

        brain._messages = messages  # type: ignore[method-assign]
        self._inner = brain

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def profile(self) -> BrainProfile:
        return self._inner.profile

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing:
        return self._inner.phrase_agenda(data)

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        for turn in data.turns[self._seen :]:
            self._history.append(self._human(content=f"[{turn.index}] {name_of(data.pair, turn.speaker)}: {turn.text}"))
        self._seen = len(data.turns)
        move = self._inner.render(dataclasses.replace(data, context="(the conversation is in the messages above)"))
        self._history.append(self._ai(content=move.text))
        return move

    def review_commitments(self, data: CommitmentReviewInput) -> CommitmentReview:
        return self._inner.review_commitments(data)


def _drive(knowledge: Any, home: Path, lines: list[str], every: int, style: str) -> list[tuple[int, dict[str, Any]]]:
    from facilitator.brains.llm import LLMBrain
    from facilitator.engine import Facilitator
    from facilitator.knowledge import ChallengePatterns, QuestionBank
    from facilitator.pairs import load_pair
    from facilitator.settings import Settings
    from facilitator.store import Store
    from facilitator.testing.fake_openai import FakeOpenAIServer

    calls: list[tuple[int, dict[str, Any]]] = []
    with FakeOpenAIServer(responder=model_reply) as server:
        settings = Settings(
            openai_base_url=server.base_url, openai_api_key=SecretStr("bench"), model="fake-model", llm_max_retries=0
        )
        brain: Brain = LLMBrain.from_settings(settings)
        if style == "transcript":
            brain = FullHistoryBrain(brain)
        elif style == "chat":
            brain = ChatMemoryBrain(settings)
        db = home / f"tokens-{style}.db"
        facilitator = Facilitator(
            store=Store(f"sqlite:///{db}"),
            knowledge=knowledge,
            brain=brain,
            bank=QuestionBank.load(),
            patterns=ChallengePatterns.load(),
            settings=settings,
        )
        session = facilitator.start(load_pair(PAIR_FILE), date=dt.date(2026, 3, 4))
        seen = 0
        for number, line in enumerate(lines, start=1):
            list(session.handle(line))
            if number % every == 0:
                list(session.ask(MOVES[(number // every) % len(MOVES)]))  # type: ignore[arg-type]
            for request in server.chat_requests[seen:]:
                calls.append((len(session.turns), request.body))
            seen = len(server.chat_requests)
    return calls


def run(knowledge: Any, home: Path, *, turns: int = 200, every: int = 5) -> dict[str, Any]:
    counter = TokenCounter()
    lines = conversation_lines(turns)
    points = {
        style: [(turn, counter.prompt_tokens(body)) for turn, body in _drive(knowledge, home, lines, every, style)]
        for style in ("bounded", "transcript", "chat")
    }
    bounded_points = points["bounded"]

    def near(points: list[tuple[int, int]], turn: int) -> float:
        """Mean tokens per call of the calls made within 10 turns before `turn` (inclusive)."""
        window = [tokens for t, tokens in points if turn - 10 < t <= turn]
        return sum(window) / len(window) if window else float("nan")

    totals = {style: sum(t for _, t in pts) for style, pts in points.items()}
    at_20, at_last = near(bounded_points, 20), near(bounded_points, len(lines))
    return {
        "tokenizer": counter.name,
        "turns": len(lines),
        "every": every,
        "calls": {style: len(pts) for style, pts in points.items()},
        "points": points,
        "tokens_per_call_turn20": at_20,
        "tokens_per_call_last": at_last,
        "growth_last_vs_20": at_last / at_20,
        "tokens_per_call_last_by_style": {style: near(pts, len(lines)) for style, pts in points.items()},
        "totals": totals,
        "transcript_over_bounded": totals["transcript"] / totals["bounded"],
        "chat_over_bounded": totals["chat"] / totals["bounded"],
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    styles = (
        ("chat", "naive: chat memory", "^"),
        ("transcript", "naive: full transcript", "o"),
        ("bounded", "bounded context (comentor)", "s"),
    )
    for key, label, style in styles:
        points = result["points"][key]
        ax.plot([t for t, _ in points], [n for _, n in points], style, markersize=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("turn number")
    ax.set_ylabel("prompt tokens per model call (log scale)")
    ax.set_title(f"Prompt size as the session grows ({result['turns']} real turns)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
