"""Overhead per turn (everything but the model) and how it scales with knowledge-base size and session length.

Knowledge bases of 1k, 10k and 100k chunks are built from the real corpus (the bundled guidance plus the GSoC guides,
embedded for real): the real chunks first, then recombinations of them up to the size (text: the first half of one
real chunk's sentences and the second half of another's, one per line; vector: the two real vectors mixed, a little
noise, normalised; sentence vectors: those sentences' real ones; each copy its own source). Index sizes are real;
embedding 100k chunks for real would take the benchmark hours. Query embedding, Chroma, BM25 and the engine are the
real ones.

A session of real meeting turns runs through the engine with (a) the LLM brain against a fake server with no latency,
timing each input line minus the time spent inside the brain's render (the model's share), and (b) the offline brain,
timing each input line end to end. What a long-running process loads once (the BM25 index, the embedder, modules
the engine imports on first use) is loaded before the timing starts. Every 5th line a move is asked for (question,
challenge, balance, recap) and every 10th line a partner asks the facilitator a question, so that retrieval runs often.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import random
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.common import PAIR_FILE, conversation_lines, model_reply, stats
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
from facilitator.models import Move

MOVES = ("question", "challenge", "balance", "recap")
QUESTIONS = (
    "how often should we meet?",
    "what should we do when one of us misses a meeting?",
    "how do we give feedback to each other?",
    "what makes a good first session?",
)


class TimedBrain:
    """Wraps a brain and adds up the time spent inside it (the model's share of a turn)."""

    def __init__(self, inner: Brain) -> None:
        self._inner = inner
        self.spent = 0.0

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def profile(self) -> BrainProfile:
        return self._inner.profile

    def phrase_agenda(self, data: AgendaPhrasingInput) -> AgendaPhrasing:
        return self._inner.phrase_agenda(data)

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        start = time.perf_counter()
        try:
            return self._inner.render(data, on_token)
        finally:
            self.spent += time.perf_counter() - start

    def review_commitments(self, data: CommitmentReviewInput) -> CommitmentReview:
        return self._inner.review_commitments(data)


def real_corpus(client: Any, embedder: Any) -> dict[str, Any]:
    """Index the bundled guidance and the GSoC guides for real; return their chunks, vectors and metadata."""
    from benchmarks.common import GSOC
    from facilitator.knowledge import KnowledgeBase
    from facilitator.knowledge.passages import decode_vectors

    kb = KnowledgeBase(client, embedder, collection_prefix="bench-real")
    kb.add_bundled()
    kb.add([GSOC])
    got = kb.collection.get(include=["embeddings", "documents", "metadatas"])
    stored = kb.sentences.get(ids=got["ids"], include=["metadatas"])
    records = dict(zip(stored["ids"], stored["metadatas"] or [], strict=True))
    return {
        "ids": got["ids"],
        "embeddings": got["embeddings"],
        "documents": got["documents"],
        "metadatas": got["metadatas"],
        "blocks": [json.loads(str(records[cid]["blocks"])) for cid in got["ids"]],
        "sentences": [[s for block in json.loads(str(records[cid]["blocks"])) for s in block] for cid in got["ids"]],
        "sentence_vectors": [decode_vectors(str(records[cid]["vectors"])) for cid in got["ids"]],
    }


def build_kb(client: Any, embedder: Any, corpus: dict[str, Any], size: int, *, seed: int = 7) -> Any:
    """A knowledge base of `size` chunks: the real ones, then recombinations (see the module docstring)."""
    import numpy as np

    from facilitator.knowledge import KnowledgeBase
    from facilitator.knowledge.index import sentence_record
    from facilitator.knowledge.passages import encode_vectors

    kb = KnowledgeBase(client, embedder, collection_prefix=f"bench-{size}")
    collection, sentences = kb.collection, kb.sentences
    if collection.count() == size and sentences.count() == size:
        return kb
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    vectors = np.asarray(corpus["embeddings"], dtype=np.float32)
    docs, metas, ids = corpus["documents"], corpus["metadatas"], corpus["ids"]
    said, said_vectors, stored_blocks = corpus["sentences"], corpus["sentence_vectors"], corpus["blocks"]
    real = len(ids)
    batch: dict[str, list[Any]] = {"ids": [], "docs": [], "metas": [], "vecs": [], "sentences": []}
    for i in range(size):
        j = i % real
        if i < real:
            cid, doc, meta, vec = ids[j], docs[j], dict(metas[j]), vectors[j]
            lines, blocks = said_vectors[j], None
        else:
            k = rng.randrange(real)
            half_j, half_k = max(1, len(said[j]) // 2), len(said[k]) // 2
            block = said[j][:half_j] + said[k][half_k:]
            doc, blocks = ("\n".join(block), [block]) if said[j] else (docs[j], None)
            lines = np.concatenate([said_vectors[j][:half_j], said_vectors[k][half_k:]]) if said[j] else said_vectors[j]
            vec = 0.7 * vectors[j] + 0.3 * vectors[k] + np.asarray(noise.normal(0, 0.02, vectors.shape[1]), np.float32)
            vec = vec / np.linalg.norm(vec)
            meta = dict(metas[j])
            meta["source"] = f"{meta.get('source', '')}#copy{i // real}"
            cid = f"s{i}"
        batch["ids"].append(cid)
        batch["docs"].append(doc)
        batch["metas"].append(meta)
        batch["vecs"].append(vec.tolist())
        batch["sentences"].append(
            sentence_record(
                str(meta["source"]), blocks if blocks is not None else stored_blocks[j], encode_vectors(lines)
            )
        )
        if len(batch["ids"]) == 4000 or i == size - 1:
            collection.upsert(
                ids=batch["ids"], documents=batch["docs"], metadatas=batch["metas"], embeddings=batch["vecs"]
            )
            sentences.upsert(ids=batch["ids"], metadatas=batch["sentences"], embeddings=batch["vecs"])
            batch = {key: [] for key in batch}
    return kb


def run_session(kb: Any, home: Path, lines: list[str], *, brain: str, label: str) -> dict[str, Any]:
    """Per-line overhead (ms) of one session; for the LLM brain the time inside the brain is taken out."""
    from facilitator.brains.llm import LLMBrain
    from facilitator.brains.offline import OfflineBrain
    from facilitator.engine import Facilitator
    from facilitator.knowledge import ChallengePatterns, QuestionBank
    from facilitator.pairs import load_pair
    from facilitator.settings import Settings
    from facilitator.store import Store
    from facilitator.testing.fake_openai import FakeOpenAIServer
    from facilitator.understanding.read import DEFAULT_CACHE

    server = FakeOpenAIServer(responder=model_reply) if brain == "llm" else None
    try:
        if server is not None:
            settings = Settings(
                openai_base_url=server.base_url,
                openai_api_key=SecretStr("bench"),
                model="fake-model",
                llm_max_retries=0,
            )
            timed = TimedBrain(LLMBrain.from_settings(settings))
        else:
            settings = Settings(facilitator="offline")
            timed = TimedBrain(OfflineBrain())
        facilitator = Facilitator(
            store=Store(f"sqlite:///{home / f'overhead-{label}.db'}"),
            knowledge=kb,
            brain=timed,
            bank=QuestionBank.load(),
            patterns=ChallengePatterns.load(),
            settings=settings,
        )
        session = facilitator.start(load_pair(PAIR_FILE), date=dt.date(2026, 3, 4))
        # Every session reads its own turns: the process-wide reading cache would otherwise hand the second session
        # over the same lines the first one's readings, and its figures would leave out reading each new turn.
        DEFAULT_CACHE.clear()
        # Once per process, not per turn: the BM25 index, the embedder and the modules the engine imports on first use.
        kb.search("warm up the indexes", 3)
        for module in ("facilitator.agenda", "facilitator.commitments", "facilitator.export"):
            importlib.import_module(module)

        per_line: list[tuple[int, float, bool]] = []  # (turn number, ms, a move was made)
        for number, line in enumerate(lines, start=1):
            inputs = [line]
            if number % 10 == 0:
                inputs.append(f"{line.split(':')[0]}: @facilitator {QUESTIONS[(number // 10) % len(QUESTIONS)]}")
            if number % 5 == 0:
                inputs.append(f"/{MOVES[(number // 5) % len(MOVES)]}")
            for text in inputs:
                timed.spent = 0.0
                start = time.perf_counter()
                events = list(session.handle(text))
                elapsed = time.perf_counter() - start
                own = elapsed - (timed.spent if brain == "llm" else 0.0)
                per_line.append((len(session.turns), own * 1000, any(e.kind == "move" for e in events)))
    finally:
        if server is not None:
            server.stop()
    all_ms = [ms for _, ms, _ in per_line]
    move_ms = [ms for _, ms, moved in per_line if moved]
    return {
        "label": label,
        "brain": brain,
        "lines": len(per_line),
        "all": stats(all_ms).as_dict(),
        "with_move": stats(move_ms).as_dict(),
        "per_line": per_line,
    }


def by_session_length(per_line: list[tuple[int, float, bool]], bucket: int = 50) -> list[dict[str, Any]]:
    """Overhead statistics per block of `bucket` turns."""
    rows = []
    last = max((t for t, _, _ in per_line), default=0)
    for start in range(0, last, bucket):
        values = [ms for t, ms, _ in per_line if start < t <= start + bucket]
        if values:
            rows.append({"turns": f"{start + 1}-{start + bucket}", **stats(values).as_dict()})
    return rows


def plot(scale_rows: list[dict[str, Any]], long_session: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    sizes = [r["chunks"] for r in scale_rows]
    for key, label in (
        ("llm_p95", "overhead p95 (LLM brain)"),
        ("llm_p50", "overhead p50 (LLM brain)"),
        ("offline_p95", "offline end to end p95"),
    ):
        left.plot(sizes, [r[key] for r in scale_rows], "o-", label=label)
    left.set_xscale("log")
    left.set_xlabel("knowledge-base chunks")
    left.set_ylabel("ms per input line")
    left.set_title("Overhead vs knowledge-base size")
    left.grid(alpha=0.3)
    left.legend()
    points = long_session["per_line"]
    right.plot([t for t, _, _ in points], [ms for _, ms, _ in points], ".", markersize=3, alpha=0.6)
    right.set_xlabel("turn number")
    right.set_ylabel("overhead ms (LLM brain, model time excluded)")
    right.set_title(f"Overhead vs session length ({long_session['label']})")
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def quick_lines(n: int) -> list[str]:
    return conversation_lines(n)
