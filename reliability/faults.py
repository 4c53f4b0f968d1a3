"""Faults of the model: the real engine and the real openai client against the local fake server's fault mode.

    python -m reliability.faults [--turns 300] [--seed 7] [--out reliability/results/faults.json]

Measures (1) at a 30% transient fault rate (HTTP 500, 429 with Retry-After, hangs past the timeout, malformed JSON,
truncated bodies and streams) the share of moves that still come from the model; (2) at 100% faults that every move,
`summarize` and `comentor summarize` answer from the offline facilitator within the time budget with a visible note;
(3) that no partner message is lost (the store holds exactly what was sent).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from facilitator.brains.llm import LLMBrain, make_chat_model
from facilitator.engine import Event, Facilitator
from facilitator.knowledge.bank import ChallengePatterns, QuestionBank
from facilitator.knowledge.index import KnowledgeBase
from facilitator.models import Pair
from facilitator.pairs import load_pair
from facilitator.settings import Settings
from facilitator.store import Store
from facilitator.summary import summarize_transcript
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply
from facilitator.transcripts import load_transcript

ROOT = Path(__file__).resolve().parents[1]
PAIR_FILE = ROOT / "examples" / "pairs" / "ana-ben.yaml"
TRANSCRIPT = ROOT / "evals" / "datasets" / "transcripts" / "t01_marketing_tiktok_formal.json"
DATE = dt.date(2026, 3, 4)
MODEL_TEXT = "Let's hear from both of you on this."
LINES = [
    ("ana", "I'd like to understand short-form video better; honestly I'm too old for TikTok."),
    ("ben", "I could show you how I plan the reels. How do you handle the dean's office?"),
    ("ana", "Mostly by listening first and writing things down, then following up the same week."),
    ("ben", "We should probably try that with the campus campaign before Friday."),
]
ASKS = ("question", "answer", "challenge", "balance", "recap")


def responder(body: dict[str, Any]) -> Reply:
    """A well-formed model answer for each kind of call the LLM brain makes."""
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        if name == "CommitmentReview":
            return Reply.tool_call(name, {"verdicts": []})
        return Reply.tool_call(name, {"text": MODEL_TEXT, "questions": [], "citations": []})
    if body.get("response_format"):
        if body["response_format"]["json_schema"]["name"] == "CommitmentReview":
            return Reply.json({"verdicts": []})
        return Reply.json({"text": MODEL_TEXT, "questions": [], "citations": []})
    return Reply.text("Meet every two weeks and keep a shared list of what each of you will try.")


class RunResult(BaseModel):
    """One run of the engine against the fault-injecting server."""

    fault_rate: float
    timeout_s: float
    retries: int
    budget_s: float
    moves: int = 0
    on_model: int = 0
    on_fallback: int = 0
    fallback_without_note: int = 0
    requests: int = 0
    faults_injected: dict[str, int] = Field(default_factory=dict)
    turns_sent: int = 0
    turns_stored: int = 0
    turns_lost: int = 0
    moves_stored: int = 0
    slowest_move_s: float = 0.0
    mean_move_s: float = 0.0
    over_budget: int = 0
    seconds: float = 0.0
    notes: list[str] = Field(default_factory=list, description="A few distinct fallback notes, as shown to the user.")

    @property
    def model_share(self) -> float:
        return self.on_model / self.moves if self.moves else 0.0


def llm_settings(
    server: FakeOpenAIServer, *, timeout: float, retries: int | None = None, budget: float | None = None
) -> Settings:
    """Settings aimed at the fake server; `retries` None keeps the shipped default (COMENTOR_LLM_MAX_RETRIES).

    The circuit breaker is off (cool-down 0): these runs fire moves back to back to measure retries, where a real
    meeting has minutes between moves; the breaker is measured in tests/test_breaker.py."""
    values: dict[str, Any] = {"llm_max_retries": retries} if retries is not None else {}
    values["llm_cooldown"] = 0.0
    return Settings(
        openai_base_url=server.base_url,
        openai_api_key="sk-fault-test",  # type: ignore[arg-type]
        model="fake-model",
        llm_timeout=timeout,
        llm_budget=budget,
        **values,
    )


def run_session(
    *,
    knowledge: KnowledgeBase | None,
    workdir: Path,
    fault_rate: float,
    moves: int,
    seed: int = 7,
    timeout: float = 0.5,
    retries: int | None = None,
    hang_seconds: float = 2.0,
    retry_after: float = 0.05,
    client_retries_only: bool = False,
) -> RunResult:
    """One live session: a partner line then one asked-for move, `moves` times, every move through the model.

    `client_retries_only` builds the brain as it was before the brain retried broken answers and kept a budget
    (only the openai client's own retries), for comparison.
    """
    pair: Pair = load_pair(PAIR_FILE)
    started = time.monotonic()
    with FakeOpenAIServer(
        responder=responder, fault_rate=fault_rate, seed=seed, hang_seconds=hang_seconds, retry_after=retry_after
    ) as server:
        settings = llm_settings(server, timeout=timeout, retries=retries)
        store = Store(f"sqlite:///{workdir / f'faults-{fault_rate:g}-{seed}.db'}")
        fac = Facilitator(
            store=store,
            knowledge=knowledge,
            brain=(
                LLMBrain(make_chat_model(settings), settings.model)
                if client_retries_only
                else LLMBrain.from_settings(settings)
            ),
            bank=QuestionBank.load(),
            patterns=ChallengePatterns.load(),
            settings=settings,
        )
        live = fac.start(pair, date=DATE)
        result = RunResult(
            fault_rate=fault_rate, timeout_s=timeout, retries=settings.llm_max_retries, budget_s=settings.model_budget
        )
        sent: list[str] = []
        durations: list[float] = []
        notes: set[str] = set()
        for i in range(moves):
            speaker, line = LINES[i % len(LINES)]
            kind = ASKS[i % len(ASKS)]
            text = f"{line} (turn {i})" if kind != "answer" else f"@facilitator how often should we meet? (turn {i})"
            sent.append(text)
            events: list[Event] = []
            calls: list[Iterator[Event]] = [live.say(speaker, text)]  # generators: nothing runs before list()
            if kind != "answer":
                calls.append(live.ask(kind, by=speaker))  # type: ignore[arg-type]
            for call in calls:  # each call makes at most one move: its time is that move's time
                t0 = time.monotonic()
                got = list(call)
                if any(e.kind == "move" for e in got):
                    durations.append(time.monotonic() - t0)
                events += got
            for event in events:
                if event.kind != "move" or event.move is None:
                    continue
                result.moves += 1
                if event.move.brain == "offline":
                    result.on_fallback += 1
                    if not (event.move.note and "offline facilitator answered" in event.move.note):
                        result.fallback_without_note += 1
                    elif len(notes) < 6:
                        notes.add(event.move.note)
                else:
                    result.on_model += 1
        stored = [t.text for t in store.turns(live.id)]
        result.turns_sent = len(sent)
        result.turns_stored = len(stored)
        result.turns_lost = sum(1 for text in sent if text not in stored) + max(0, len(sent) - len(stored))
        if stored != sent:
            result.notes.append("the stored turns differ from the sent ones")
        result.moves_stored = len(store.moves(live.id))
        result.requests = len(server.chat_requests)
        for fault in server.fault_log:
            result.faults_injected[fault.fault] = result.faults_injected.get(fault.fault, 0) + 1
        result.slowest_move_s = round(max(durations, default=0.0), 3)
        result.mean_move_s = round(sum(durations) / len(durations), 3) if durations else 0.0
        result.over_budget = sum(1 for d in durations if d > settings.model_budget + 1.0)
        result.notes.extend(sorted(notes))
    result.seconds = round(time.monotonic() - started, 2)
    return result


class SummaryResult(BaseModel):
    """`summarize` (in process and as the CLI) with every model call failing."""

    budget_s: float
    in_process_s: float
    in_process_items: int
    offline_items: int
    in_process_warning: str
    cli_exit: int
    cli_s: float
    cli_items: int
    cli_warning: str


def summarize_all_faults(*, timeout: float = 0.5, retries: int = 3, hang_seconds: float = 2.0) -> SummaryResult:
    """100% faults: `summarize` answers with the offline extractor's items and says why, within the budget."""
    transcript = load_transcript(TRANSCRIPT)
    patterns = ChallengePatterns.load()
    offline = summarize_transcript(transcript, patterns)
    with FakeOpenAIServer(responder=responder, fault_rate=1.0, seed=3, hang_seconds=hang_seconds) as server:
        settings = llm_settings(server, timeout=timeout, retries=retries)
        t0 = time.monotonic()
        summary = summarize_transcript(transcript, patterns, brain=LLMBrain.from_settings(settings))
        in_process = time.monotonic() - t0
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COMENTOR_"))},
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-fault-test",
            "COMENTOR_MODEL": "fake-model",
            "COMENTOR_LLM_TIMEOUT": str(timeout),
            "COMENTOR_LLM_MAX_RETRIES": str(retries),
            "COMENTOR_HOME": tempfile.mkdtemp(prefix="comentor-faults-"),
            "HF_HUB_OFFLINE": "1",
        }
        t0 = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "ui.cli", "summarize", str(TRANSCRIPT), "--format", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )
        cli_s = time.monotonic() - t0
    cli_items = len(json.loads(done.stdout)["commitments"]) if done.returncode == 0 else -1
    warning = next((line for line in done.stderr.splitlines() if "offline extractor" in line), "")
    return SummaryResult(
        budget_s=settings.model_budget,
        in_process_s=round(in_process, 2),
        in_process_items=len(summary.commitments),
        offline_items=len(offline.commitments),
        in_process_warning=next((w for w in summary.warnings if "offline extractor" in w), ""),
        cli_exit=done.returncode,
        cli_s=round(cli_s, 2),
        cli_items=cli_items,
        cli_warning=" ".join(warning.split()),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300, help="moves at the 30%% fault rate")
    parser.add_argument("--all-faults-turns", type=int, default=40, help="moves at the 100%% fault rate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", action="store_true", help="also run 30%% faults with the client's retries only")
    parser.add_argument("--retries", type=int, default=None, help="COMENTOR_LLM_MAX_RETRIES (default: the setting's)")
    parser.add_argument("--out", type=Path, default=ROOT / "reliability" / "results" / "faults.json")
    args = parser.parse_args(argv)
    from facilitator.knowledge.embeddings import LocalEmbedder

    with tempfile.TemporaryDirectory(prefix="comentor-faults-") as tmp:
        import chromadb

        client = chromadb.PersistentClient(
            path=str(Path(tmp) / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
        )
        kb = KnowledgeBase(client, LocalEmbedder(Settings().home_dir / "models"))
        kb.add_bundled()
        transient = run_session(
            knowledge=kb, workdir=Path(tmp), fault_rate=0.3, moves=args.turns, seed=args.seed, retries=args.retries
        )
        print(f"30% faults: {transient.on_model}/{transient.moves} moves on the model ({transient.model_share:.1%})")
        baseline = None
        if args.baseline:
            baseline = run_session(
                knowledge=kb,
                workdir=Path(tmp),
                fault_rate=0.3,
                moves=args.turns,
                seed=args.seed,
                retries=2,
                client_retries_only=True,
            )
            print(f"30% faults, client retries only: {baseline.on_model}/{baseline.moves} ({baseline.model_share:.1%})")
        total = run_session(
            knowledge=kb, workdir=Path(tmp), fault_rate=1.0, moves=args.all_faults_turns, seed=args.seed
        )
        print(f"100% faults: {total.on_fallback}/{total.moves} offline moves; slowest {total.slowest_move_s} s")
    summary = summarize_all_faults()
    print(f"summarize at 100% faults: {summary.in_process_s} s in process, {summary.cli_s} s as `comentor summarize`")
    report = {
        "transient_30": transient.model_dump() | {"model_share": round(transient.model_share, 4)},
        "transient_30_client_retries_only": (
            baseline.model_dump() | {"model_share": round(baseline.model_share, 4)} if baseline else None
        ),
        "all_faults": total.model_dump() | {"model_share": round(total.model_share, 4)},
        "summarize_all_faults": summary.model_dump(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    ok = transient.model_share >= 0.99 and total.on_model == 0 and total.over_budget == 0
    ok = ok and transient.turns_lost == 0 and total.turns_lost == 0 and summary.cli_exit == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
