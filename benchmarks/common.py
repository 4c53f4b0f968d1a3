"""Shared pieces of the benchmarks: real input text, the token counter, timing statistics, the fake model's replies."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
QMSUM = DATA / "qmsum_ami" / "meetings.jsonl"
GSOC = DATA / "gsoc_guides"
RESULTS = ROOT / "benchmarks" / "results"
PAIR_FILE = ROOT / "examples" / "pairs" / "ana-ben.yaml"
_MARKUP = re.compile(r"\{\w+\}")
_ITEM = re.compile(r'<item id="([^"]+)" source="([^"]+)"')


def meetings() -> list[dict[str, Any]]:
    """The three real AMI meetings (QMSum), as stored in the shared data folder."""
    return [json.loads(line) for line in QMSUM.read_text(encoding="utf-8").splitlines() if line.strip()]


def conversation_lines(n: int) -> list[str]:
    """`n` real meeting turns (AMI, nobody here wrote them) as `Ana: ...` / `Ben: ...` lines for the demo pair.

    The project manager speaks as Ana, everyone else as Ben; vocal-sound markup and turns under four words are
    dropped. The three meetings are used one after another when one is not long enough.
    """
    lines: list[str] = []
    for meeting in meetings():
        for turn in meeting["meeting_transcripts"]:
            text = " ".join(_MARKUP.sub(" ", turn["content"]).split())
            if len(text.split()) < 4:
                continue
            speaker = "Ana" if turn["speaker"] == "Project Manager" else "Ben"
            lines.append(f"{speaker}: {text}")
            if len(lines) == n:
                return lines
    return lines


class TokenCounter:
    """tiktoken's o200k_base when its encoding file can be loaded (it is fetched once from the internet and cached);
    otherwise the MiniLM WordPiece tokenizer shipped with the model (a real subword tokenizer, offline). Ratios
    between the two prompt styles hardly depend on which one counts."""

    def __init__(self) -> None:
        self.name = "tiktoken o200k_base"
        self._encode: Callable[[str], Any]
        try:
            import tiktoken

            encoding = tiktoken.get_encoding("o200k_base")
            self._encode = lambda text: encoding.encode(text, disallowed_special=())
        except Exception:  # no cached encoding and no internet: fall back to a local tokenizer
            from tokenizers import Tokenizer

            from facilitator.knowledge.embeddings import minilm_path

            tokenizer = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self.name = "MiniLM WordPiece (tiktoken's encoding not available offline)"
            self._encode = lambda text: tokenizer.encode(text, add_special_tokens=False).ids

    def count(self, text: str) -> int:
        return len(self._encode(text))

    def prompt_tokens(self, body: dict[str, Any]) -> int:
        """Tokens of every message's content in one chat request, plus 4 per message for the chat format."""
        total = 0
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            total += 4 + self.count(str(content or ""))
        return total


@dataclass
class Stats:
    n: int
    p50: float
    p95: float
    max: float
    mean: float

    def as_dict(self) -> dict[str, float]:
        return {"n": self.n, "p50": self.p50, "p95": self.p95, "max": self.max, "mean": self.mean}


def stats(values: list[float]) -> Stats:
    if not values:
        return Stats(0, float("nan"), float("nan"), float("nan"), float("nan"))
    ordered = sorted(values)
    return Stats(
        n=len(ordered),
        p50=percentile(ordered, 50),
        p95=percentile(ordered, 95),
        max=ordered[-1],
        mean=statistics.fmean(ordered),
    )


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@contextmanager
def timer() -> Iterator[list[float]]:
    """`with timer() as t: ...` then t[0] is the elapsed seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def model_reply(body: dict[str, Any]) -> Any:
    """A plausible reply of the fake model to any request of the LLM brain (schema-valid, citing what it was given)."""
    from facilitator.testing.fake_openai import Reply

    user = next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")
    items = _ITEM.findall(str(user))
    bank = [i for i, src in items if src == "question_bank"]
    guidance = [i for i, src in items if src not in ("question_bank", "challenge_patterns")]
    draft = {
        "text": "Let's hear from both of you on this before moving on.",
        "questions": [{"text": "What would you try first?", "for": "ben", "source_id": bank[0]}] if bank else [],
        "citations": guidance[:1],
    }
    if body.get("tools"):
        return Reply.tool_call(body["tools"][0]["function"]["name"], draft)
    if body.get("response_format"):
        if body["response_format"].get("json_schema", {}).get("name") == "CommitmentReview":
            return Reply.json({"verdicts": []})
        return Reply.json(draft)
    cite = f" [{guidance[0]}]" if guidance else ""
    return Reply.text(f"Meet every two weeks and keep a shared list of what each of you will try{cite}.")


def rss_mb() -> float:
    """Peak resident memory of this process so far (VmHWM), in MB.

    Not getrusage's ru_maxrss: on Linux a child started by a large parent inherits the parent's figure."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
