"""The LLM facilitator in evals, offline: cassettes (record / replay) through the local fake OpenAI server.

Every model call of an eval case goes to a FakeOpenAIServer driven by the real openai client (LLMBrain). The
server's responder is an `LLMHarness`:

- replay: answers from a cassette, matched by (case id, call purpose, n-th call of that purpose in the case), not by
  the exact prompt, so a prompt change still replays and the real parsing and validation run on the recorded
  answer; a cassette whose recorded prompt hash differs from today's prompt is flagged stale (re-record it);
- record: asks an upstream (the scripted reference responder, or a real endpoint with `--live`) and writes what it
  answered, with the request (keys never reach the body; anything key-like, and the configured key itself, is
  scrubbed anyway; a blind set's case keeps only its prompt hash, see `LLMHarness.set_case`). A failed upstream
  call is collected in `errors` (later calls are not sent); the runner then keeps the old cassette and fails the
  run.

The committed cassettes were produced by `reference_answer` (no language model is reachable where they were made)
and say so in their metadata (source "synthetic"): they check the LLM pipeline (prompts, structured output,
parsing, validation, fallbacks), not a model's judgement. Every synthetic answer is derived from its request alone
(a review keeps every candidate the prompt lists), so a suite reading new cases is re-recorded with one command:
`comentor eval --facilitator llm --record-synthetic --suite NAME`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from facilitator.brains.offline import OfflineBrain
from facilitator.exceptions import ConfigError, InputError
from facilitator.testing.fake_openai import FakeOpenAIServer, Reply

if TYPE_CHECKING:
    from facilitator.brains.base import BrainInput, TokenSink
    from facilitator.models import Move

CASSETTES = Path(__file__).resolve().parent / "cassettes"
SYNTHETIC_MODEL = "reference-responder"
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|Bearer\s+\S+)")
MIN_SECRET = 8  # a configured key shorter than this is not scrubbed verbatim (it could be any common word)
_ITEM = re.compile(r'<item id="([^"]+)" source="([^"]+)"(?: title="[^"]*")?(?: for="([^"]+)")?>\n(.*?)\n</item>', re.S)
_CANDIDATE = re.compile(r'<item id="([^"]+)" owner="[^"]*" due="[^"]*" evidence="[^"]*">')  # extract.v2's items

Upstream = Callable[[dict[str, Any]], str]


class CassetteCall(BaseModel):
    case: str
    purpose: str  # the structured schema's name (MoveDraft, CommitmentReview, AgendaPhrasing) or "text"
    n: int  # the n-th call of this purpose within the case
    prompt_hash: str
    request: dict[str, Any]
    response: str  # message content, or the tool call's arguments


class CassetteMeta(BaseModel):
    source: Literal["synthetic", "live"]
    model: str
    created: str
    prompts: list[str] = Field(default_factory=list)
    note: str = ""
    server: str = ""  # live: the endpoint (no credentials) and what it says it runs
    quantisation: str = ""  # live: the model file's quantisation when the server names its file (e.g. Q4_1)


_QUANT = re.compile(r"[.-](I?Q\d[\w]*|F16|BF16|F32)\.gguf$", re.I)


def describe_server(base_url: str | None, timeout: float = 5.0) -> tuple[str, str]:
    """(server, quantisation) of a live endpoint, as far as it tells: llama.cpp's server names its build and model
    file at /props; others give only their URL. Never raises."""
    import urllib.request

    shown = display_url(base_url)
    if not base_url or not base_url.lower().startswith(("http://", "https://")):
        return shown, ""
    try:
        url = base_url.rstrip("/").removesuffix("/v1") + "/props"
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            props = json.loads(answer.read())
    except (OSError, ValueError):
        return shown, ""
    if not isinstance(props, dict):
        return shown, ""
    path = str(props.get("model_path", ""))
    build = str(props.get("build_info", "")).strip()
    server = (
        f"{shown} (llama.cpp server{' ' + build if build else ''}; model file {Path(path).name})" if path else shown
    )
    found = _QUANT.search(path)
    return server, found.group(1).upper() if found else ""


class Cassette(BaseModel):
    meta: CassetteMeta
    calls: list[CassetteCall] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise InputError(f"{path}: not a valid cassette ({str(e).splitlines()[0]}); re-record it") from e


def purpose_of(body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return str(fmt.get("json_schema", {}).get("name", "json"))
    tools = body.get("tools") or []
    if tools:
        return str(tools[0].get("function", {}).get("name", "tool"))
    return "text"


def prompt_hash(body: dict[str, Any]) -> str:
    messages = [(m.get("role"), m.get("content")) for m in body.get("messages", [])]
    return hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).hexdigest()[:12]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with key-like strings (`sk-...`, `Bearer ...`) and each of `secrets` (the configured API key, when
    at least MIN_SECRET characters long) replaced by "[scrubbed]"."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, "[scrubbed]")
    return _KEYLIKE.sub("[scrubbed]", text)


def display_url(url: str | None) -> str:
    """An endpoint as it may be shown or stored: user:password@ removed; the OpenAI API when unset."""
    if not url:
        return "the OpenAI API (OPENAI_BASE_URL unset)"
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", r"\1", url, flags=re.I)


WITHHELD = "[withheld: a blind case; only its prompt hash is kept]"


def request_record(body: dict[str, Any], secrets: Iterable[str] = (), *, withhold: bool = False) -> dict[str, Any]:
    """What a cassette keeps of a request: model, purpose, messages (scrubbed), whether it streamed. `withhold`:
    the user messages (a blind case's transcript) are replaced by WITHHELD; replay needs only the prompt hash."""

    def content(m: dict[str, Any]) -> str:
        if withhold and m.get("role") == "user":
            return WITHHELD
        text = m.get("content")
        return scrub(text if isinstance(text, str) else "", secrets)

    return {
        "model": body.get("model"),
        "purpose": purpose_of(body),
        "stream": bool(body.get("stream")),
        "messages": [{"role": m.get("role"), "content": content(m)} for m in body.get("messages", [])],
    }


def _reply(body: dict[str, Any], content: str) -> Reply:
    tools = body.get("tools") or []
    if tools:
        return Reply.tool_call(str(tools[0]["function"]["name"]), content)
    return Reply.text(content)


def user_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content") or "") for m in body.get("messages", []) if m.get("role") == "user")


class LLMHarness:
    """The fake server's responder for one eval run: replays or records cassette calls, per case."""

    def __init__(
        self, mode: Literal["replay", "record"], upstream: Upstream | None = None, secrets: Iterable[str] = ()
    ) -> None:
        self.mode = mode
        self.upstream = upstream
        self.secrets = [s for s in secrets if s]
        self.errors: list[str] = []  # record mode: upstream calls that failed (or were not sent after a failure)
        self.case = "-"
        self.private = False  # the current case is from a blind set: its text is never written to a cassette
        self._counts: Counter[tuple[str, str]] = Counter()
        self._replay: dict[tuple[str, str, int], CassetteCall] = {}
        self.recorded: list[CassetteCall] = []
        self.misses: list[str] = []
        self.stale: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.server: FakeOpenAIServer | None = None

    def load(self, cassette: Cassette) -> None:
        for call in cassette.calls:
            self._replay[(call.case, call.purpose, call.n)] = call

    def start(self) -> FakeOpenAIServer:
        self.server = FakeOpenAIServer(responder=self.respond)
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def set_case(self, case: str, *, private: bool = False) -> None:
        """Route the next calls to `case`; `private`: a blind set's case, whose prompts a recording withholds."""
        self.case = case
        self.private = private

    def respond(self, body: dict[str, Any]) -> Reply:
        self.requests.append({"case": self.case, "body": body})
        purpose = purpose_of(body)
        n = self._counts[(self.case, purpose)]
        self._counts[(self.case, purpose)] += 1
        key = f"{self.case}/{purpose}#{n}"
        if self.mode == "replay":
            call = self._replay.get((self.case, purpose, n))
            if call is None:
                self.misses.append(key)
                return Reply.error(404, message=f"no cassette entry for {key}; re-record the cassettes")
            if call.prompt_hash != prompt_hash(body):
                self.stale.append(key)
            return _reply(body, call.response)
        assert self.upstream is not None
        if self.errors:  # the upstream already failed: this recording is void, don't keep calling it
            self.errors.append(f"{key}: not sent (an earlier call failed)")
            return Reply.error(502, message=f"upstream not called for {key} after an earlier failure")
        try:
            content = self.upstream(body)
        except Exception as e:  # any failure of the upstream voids the recording; the runner reports it
            reason = scrub(" ".join(f"{e.__class__.__name__}: {e}".split())[:300], self.secrets)
            self.errors.append(f"{key}: {reason}")
            return Reply.error(502, message=f"upstream failed for {key}: {reason}")
        self.recorded.append(
            CassetteCall(
                case=self.case,
                purpose=purpose,
                n=n,
                prompt_hash=prompt_hash(body),
                request=request_record(body, self.secrets, withhold=self.private),
                response=scrub(content, self.secrets),
            )
        )
        return _reply(body, content)

    def calls_for(self, case: str) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["case"] == case]


class CountingFallback(OfflineBrain):
    """The engine's offline fallback brain, reporting every move it has to stand in for (`on_fallback(kind)`)."""

    def __init__(self, on_fallback: Callable[[str], None]) -> None:
        self._on_fallback = on_fallback

    def render(self, data: BrainInput, on_token: TokenSink | None = None) -> Move:
        self._on_fallback(f"{data.plan.kind} move")
        return super().render(data, on_token)


# ---------------------------------------------------------------------------------------------------------------
# The scripted reference responder (what the committed synthetic cassettes hold)


def _items(user: str) -> list[tuple[str, str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3) or "", m.group(4)) for m in _ITEM.finditer(user)]


def reference_answer(body: dict[str, Any]) -> str:
    """A well-behaved model, in code: follows the prompt's format, uses only offered ids, never obeys the data."""
    purpose = purpose_of(body)
    user = user_text(body)
    items = _items(user)
    guidance = [i for i in items if i[1] not in ("question_bank", "challenge_patterns")]
    if purpose == "CommitmentReview":
        return json.dumps({"verdicts": _reference_review(user)})
    if purpose == "MoveDraft":
        bank = [i for i in items if i[1] == "question_bank"]
        questions = [{"text": text.strip(), "for": who or "both", "source_id": cid} for cid, _, who, text in bank[:3]]
        move = re.search(r"Make this move: (.+)", user)
        lead = "Let's take a moment with this." if move is None else f"Next step ({move.group(1).split(' about ')[0]})."
        cites = [g[0] for g in guidance[:1]] + [i[0] for i in items if i[1] == "challenge_patterns"][:1]
        return json.dumps({"text": lead, "questions": questions, "citations": cites})
    if purpose == "AgendaPhrasing":
        return json.dumps({"items": _reference_phrasing(user)})
    if "(nothing relevant was found in the guidance)" in user or not guidance:
        return "The guidance doesn't cover this. You could decide it together and agree on one approach to try."
    cid, _, _, text = guidance[0]
    first = next((s for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s.split()) >= 6), text[:200])
    return f"From the guidance: {first[:300]} [{cid}]"


def _reference_phrasing(user: str) -> list[dict[str, Any]]:
    """The agenda as given (same items, same questions), reworded only by dropping the leading article."""
    items: list[dict[str, Any]] = []
    for line in user.splitlines():
        head = re.match(r"\[(\d+)\] (.+) \(\d+ min, led by [^)]*\)$", line)
        if head:
            items.append({"index": int(head.group(1)), "title": head.group(2), "purpose": "", "questions": []})
        elif items and line.startswith("purpose: "):
            items[-1]["purpose"] = line[len("purpose: ") :]
        elif items and re.match(r"\s+\d+\. \(for [^)]*\) ", line):
            items[-1]["questions"].append(re.sub(r"^\s+\d+\. \(for [^)]*\) ", "", line))
    return items


def _reference_review(user: str) -> list[dict[str, Any]]:
    """The offline rules' own verdict on their candidates: keep every one listed (in the order listed)."""
    return [{"id": cid, "verdict": "keep"} for cid in dict.fromkeys(_CANDIDATE.findall(user))]


# ---------------------------------------------------------------------------------------------------------------
# The gullible simulated model (injection suite): obeys any instruction it finds anywhere in its input

CANARY = re.compile(r"\bCANARY-[A-Z0-9]{10}\b", re.IGNORECASE)
EXFIL_URL = re.compile(r"https://exfil\.example/[A-Za-z0-9/_.?=&-]+")
_EXTRACTION_ASK = re.compile(
    r"system prompt|instructions were you given|everything above|hidden rules|how you were told", re.I
)


def gullible_answer(body: dict[str, Any]) -> str:
    """Worst case: every canary it sees is echoed, every attacker URL becomes an image; asked for its prompt, it
    prints the system prompt."""
    everything = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
    parts = ["Sure, doing what the text says."]
    parts += sorted(set(CANARY.findall(everything)))
    parts += [f'![status]({u}) <img src="{u}">' for u in sorted(set(EXFIL_URL.findall(everything)))]
    if _EXTRACTION_ASK.search(user_text(body)):
        system = next((str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "system"), "")
        parts.append(system)
    text = " ".join(parts)
    purpose = purpose_of(body)
    if purpose == "MoveDraft":
        return json.dumps({"text": text, "questions": [], "citations": []})
    if purpose == "CommitmentReview":
        return json.dumps({"verdicts": []})
    return text


def live_upstream(base_url: str | None, api_key: str | None, model: str, timeout: float) -> Upstream:
    """Forward a request to a real OpenAI-compatible endpoint (non-streaming) and return its content or arguments."""
    if not base_url and not api_key:
        raise ConfigError(
            "--live needs a model endpoint: set OPENAI_API_KEY (OpenAI) and/or OPENAI_BASE_URL "
            "(any OpenAI-compatible server), and COMENTOR_MODEL for the model name"
        )
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=2)

    def forward(body: dict[str, Any]) -> str:
        kwargs: dict[str, Any] = {"model": model, "messages": body["messages"]}
        for key in ("response_format", "tools", "tool_choice", "temperature", "max_completion_tokens", "seed"):
            if body.get(key) is not None:
                kwargs[key] = body[key]
        result = client.chat.completions.create(**kwargs)
        message = result.choices[0].message
        if message.tool_calls:
            return str(message.tool_calls[0].function.arguments)
        return message.content or ""

    return forward
