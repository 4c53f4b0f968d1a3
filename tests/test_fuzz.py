"""Bad input at scale (issue 7): property-based fuzzing of the transcript parser, the chat message path, pair files
and knowledge ingest. Every input either works or raises a ComentorError whose message says what to do; nothing else.

1,000 cases per target (the "issue7" hypothesis profile; COMENTOR_FUZZ_EXAMPLES lowers it for a quick local run).
Runs are derandomized, so CI sees the same cases every time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator.exceptions import ComentorError
from tests.conftest import ROOT
from tests.pdfgen import write_pdf

EXAMPLES = int(os.environ.get("COMENTOR_FUZZ_EXAMPLES", "1000"))
settings.register_profile(
    "issue7",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile("issue7")
# An error message names the fix or the expected shape: one of these words (or a limit) appears in every one.
_ADVICE = re.compile(
    r"\b(use|fix|check|save|add|split|start|expected|expects?|needs?|must|nothing|try|see|remove|run|raise|type|"
    r"known|name|say|re-export|convert|limit|should|look|choose|open|write|partners are)\b",
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------------- strategies
NAMES = st.sampled_from(["Ana", "Ben", "ana", "BEN", "Dr. Lee", "José", "Mary Ann Smith", "note", "The plan is", "x"])
WEIRD = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "\r\n",
        "\u2028",
        "\x00",
        "\ufeff",
        "#",
        ":",
        "::",
        "---",
        "```",
        "# date: 2026-02-30",
        "# date: 2026-03-04",
        "{%raw%}",
        "{{ x }}",
        "<!--",
        "-->",
        "<script>",
        "![x](http://evil/x.png)",
        "@facilitator",
        "/end",
        "/question",
        "/slipped k1 next friday",
        "/agenda 99999999999999999999",
        "🙂" * 3,
        "a" * 9000,
    ]
)
FREE_TEXT = st.text(max_size=300)
LINE = st.one_of(
    st.builds(lambda n, t: f"{n}: {t}", NAMES, FREE_TEXT),
    st.builds(lambda n, w: f"{n}:{w}", NAMES, WEIRD),
    WEIRD,
    FREE_TEXT,
)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40))
JSON_ANY = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=30,
)


def _participant() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries(
            {"id": st.one_of(st.text(max_size=12), JSON_SCALAR), "name": st.one_of(NAMES, WEIRD, JSON_SCALAR)},
            optional={
                "role": st.one_of(st.text(max_size=30), JSON_SCALAR),
                "offers": st.one_of(st.lists(st.text(max_size=20), max_size=3), JSON_ANY),
                "seeks": st.one_of(st.lists(st.text(max_size=20), max_size=3), JSON_ANY),
            },
        ),
        st.fixed_dictionaries({"name": st.one_of(NAMES, WEIRD, JSON_SCALAR)}),
        JSON_ANY,
    )


TRANSCRIPT_JSON = st.one_of(
    JSON_ANY,
    st.fixed_dictionaries(
        {"turns": st.lists(st.one_of(st.fixed_dictionaries({"speaker": NAMES, "text": FREE_TEXT}), JSON_ANY))},
        optional={
            "participants": st.one_of(st.lists(_participant(), max_size=3), JSON_ANY),
            "date": st.one_of(st.sampled_from(["2026-03-04", "2026-13-01", "yesterday", ""]), JSON_SCALAR),
        },
    ),
)
_PERSON = st.fixed_dictionaries(
    {"name": st.one_of(NAMES, WEIRD)},
    optional={
        "id": st.sampled_from(["ana", "ben", "x", "", " ", "ANA", "a b"]),
        "role": st.text(max_size=20),
        "offers": st.lists(st.text(max_size=20), max_size=3),
        "seeks": st.lists(st.text(max_size=20), max_size=3),
    },
)
PAIR_DATA = st.one_of(
    st.fixed_dictionaries(
        {"participants": st.lists(_PERSON, min_size=1, max_size=3)},
        optional={"shared_goals": st.lists(st.text(max_size=20), max_size=2), "cadence": st.text(max_size=12)},
    ),
    JSON_ANY,
    st.fixed_dictionaries(
        {"participants": st.one_of(st.lists(_participant(), max_size=4), JSON_ANY)},
        optional={
            "id": st.one_of(st.text(max_size=20), JSON_SCALAR),
            "shared_goals": st.one_of(st.lists(st.text(max_size=20), max_size=3), JSON_ANY),
            "cadence": st.one_of(st.sampled_from(["weekly", "biweekly", "monthly", "fortnightly"]), JSON_SCALAR),
        },
    ),
)
MD_FRAGMENT = st.one_of(
    st.sampled_from(
        [
            "---\ntitle: A page\ntags: [a, b]\n---\n",
            "---\ntitle: [unclosed\n---\n",
            "---\n- a list\n---\n",
            "---\ntitle: no end\n",
            "# Heading\n",
            "## Section\n",
            "{% include x.html %}",
            "{{ page.title }}",
            "<!-- hidden -->",
            "{: .class}\n",
            "\n\n",
            "\x00",
            "\r\n",
        ]
    ),
    st.text(max_size=200),
)


def _pdf_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return write_pdf(
            Path(tmp) / "seed.pdf", ["Meet every two weeks.", "Write the agenda together."], "Seed"
        ).read_bytes()


SEED_PDF = _pdf_bytes()


@st.composite
def pdf_mutations(draw: st.DrawFn) -> bytes:
    """The seed PDF with bytes flipped, cut or spliced."""
    data = bytearray(SEED_PDF)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "drop"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(max_size=40))
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


FILE_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.lists(MD_FRAGMENT, max_size=12).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
    st.lists(LINE, max_size=12).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
    pdf_mutations(),
)
SUFFIX = st.sampled_from([".md", ".markdown", ".txt", ".pdf", ".json", ".yaml", ".yml", "", ".exe"])


def _acceptable(error: BaseException) -> None:
    """Raise unless `error` is a ComentorError with an actionable one-paragraph message."""
    if not isinstance(error, ComentorError):
        raise error
    message = str(error)
    assert message.strip(), f"{type(error).__name__} with an empty message"
    assert _ADVICE.search(message), f"message does not say what to do: {message!r}"


@pytest.fixture
def scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="comentor-fuzz-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- transcripts
@pytest.mark.slow
def test_fuzz_transcript_parser(scratch: Path) -> None:
    from facilitator.transcripts import load_transcript, parse_json_transcript, parse_text_transcript

    seen = {"ok": 0, "error": 0}

    @FUZZ
    @given(
        kind=st.sampled_from(["text", "json", "file"]),
        lines=st.lists(LINE, max_size=20),
        data=TRANSCRIPT_JSON,
        raw=FILE_BYTES,
        suffix=SUFFIX,
    )
    def check(kind: str, lines: list[str], data: Any, raw: bytes, suffix: str) -> None:
        try:
            if kind == "text":
                parsed = parse_text_transcript("\n".join(lines))
            elif kind == "json":
                parsed = parse_json_transcript(data)
            else:
                path = scratch / f"t{suffix}"
                path.write_bytes(raw)
                parsed = load_transcript(path)
        except Exception as e:
            _acceptable(e)
            seen["error"] += 1
            return
        seen["ok"] += 1
        assert parsed.turns and [t.index for t in parsed.turns] == list(range(len(parsed.turns)))
        ids = {p.id for p in parsed.participants}
        assert all(t.speaker in ids for t in parsed.turns)

    check()
    assert seen["ok"] + seen["error"] >= EXAMPLES and seen["ok"] > 0 and seen["error"] > 0, seen


# ---------------------------------------------------------------------------------------------- pair files
@pytest.mark.slow
def test_fuzz_pair_files(scratch: Path) -> None:
    import yaml

    from facilitator.pairs import load_pair, parse_pair

    seen = {"ok": 0, "error": 0}

    @FUZZ
    @given(
        kind=st.sampled_from(["data", "json-file", "yaml-file", "raw-file"]),
        data=PAIR_DATA,
        raw=FILE_BYTES,
        suffix=SUFFIX,
    )
    def check(kind: str, data: Any, raw: bytes, suffix: str) -> None:
        try:
            if kind == "data":
                pair = parse_pair(json.loads(json.dumps(data)))
            elif kind == "raw-file":
                path = scratch / f"p{suffix}"
                path.write_bytes(raw)
                pair = load_pair(path)
            else:
                path = scratch / ("p.json" if kind == "json-file" else "p.yaml")
                text = json.dumps(data) if kind == "json-file" else yaml.safe_dump(data, allow_unicode=True)
                path.write_text(text, encoding="utf-8")
                pair = load_pair(path)
        except Exception as e:
            _acceptable(e)
            seen["error"] += 1
            return
        seen["ok"] += 1
        assert 2 <= len(pair.participants) <= 5 and len(set(pair.ids)) == len(pair.ids) and pair.id

    check()
    assert seen["ok"] + seen["error"] >= EXAMPLES and seen["ok"] > 0 and seen["error"] > 0, seen


# ---------------------------------------------------------------------------------------------- chat messages
@pytest.fixture(scope="module")
def chat_facilitator(guidance_kb: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from facilitator.engine import Facilitator
    from facilitator.store import Store

    db = tmp_path_factory.mktemp("fuzz-chat") / "chat.db"
    return Facilitator.offline(Store(f"sqlite:///{db}"), knowledge=guidance_kb)


@pytest.mark.slow
def test_fuzz_chat_message_path(chat_facilitator: Any) -> None:
    from facilitator.pairs import load_pair

    pair = load_pair(ROOT / "examples" / "pairs" / "ana-ben.yaml")
    seen = {"ok": 0, "error": 0, "turns": 0}

    @FUZZ
    @given(
        lines=st.lists(
            st.tuples(st.sampled_from(["handle", "say", "ask"]), st.one_of(NAMES, WEIRD, FREE_TEXT), LINE),
            min_size=1,
            max_size=4,
        )
    )
    def check(lines: list[tuple[str, str, str]]) -> None:
        live = chat_facilitator.start(pair, date=dt.date(2026, 3, 4))
        for how, speaker, text in lines:
            try:
                if how == "handle":
                    events = list(live.handle(text))
                elif how == "say":
                    events = list(live.say(speaker, text))
                else:
                    events = list(live.ask("answer", text or "help", by=speaker))
            except Exception as e:
                _acceptable(e)
                seen["error"] += 1
                continue
            seen["ok"] += 1
            stored = chat_facilitator.store.turns(live.id)
            for event in events:
                if event.kind == "turn":
                    seen["turns"] += 1
                    assert event.turn.text in [t.text for t in stored], "a turn announced is a turn stored"
                if event.kind == "move":
                    assert event.move.text.strip()
        assert [t.index for t in chat_facilitator.store.turns(live.id)] == list(range(len(live.turns)))

    check()
    assert seen["ok"] > 0 and seen["error"] > 0 and seen["turns"] > 0, seen


# ---------------------------------------------------------------------------------------------- knowledge ingest
@pytest.mark.slow
def test_fuzz_knowledge_ingest(embedder: Any, scratch: Path) -> None:
    import chromadb

    from facilitator.knowledge import KnowledgeBase
    from facilitator.knowledge.chunking import chunk_document
    from facilitator.knowledge.loaders import read_document

    client = chromadb.PersistentClient(
        path=str(scratch / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    kb = KnowledgeBase(client, embedder, max_file_mb=0.01)
    seen = {"read_ok": 0, "read_error": 0, "indexed": 0, "reported": 0}
    counter = iter(range(10**9))

    @FUZZ
    @given(raw=FILE_BYTES, suffix=SUFFIX)
    def check(raw: bytes, suffix: str) -> None:
        folder = scratch / f"f{next(counter)}"
        folder.mkdir()
        path = folder / f"doc{suffix}"
        path.write_bytes(raw)
        try:
            doc = read_document(path, source=str(path), max_bytes=10_000)
            chunk_document(doc)
            seen["read_ok"] += 1
        except Exception as e:
            _acceptable(e)
            seen["read_error"] += 1
        try:
            report = kb.add([folder if suffix in (".md", ".txt", ".pdf") else path])
        except Exception as e:  # the index reports per-file problems; it raises nothing for a bad file
            pytest.fail(f"KnowledgeBase.add raised {type(e).__name__}: {e}")
        for message in report.errors:
            assert _ADVICE.search(message), message
        seen["indexed"] += len(report.added) + len(report.updated) + len(report.unchanged)
        seen["reported"] += len(report.errors)

    check()
    assert seen["read_ok"] > 0 and seen["read_error"] > 0 and seen["indexed"] > 0 and seen["reported"] > 0, seen
    assert kb.search("meet every two weeks", k=3), "the index still answers after the fuzzing"


@pytest.mark.parametrize("how", ["say", "ask"])
def test_a_lone_surrogate_in_a_message_is_refused_with_a_message_error(chat_facilitator: Any, how: str) -> None:
    from facilitator.pairs import load_pair

    live = chat_facilitator.start(load_pair(ROOT / "examples" / "pairs" / "ana-ben.yaml"), date=dt.date(2026, 3, 4))
    from facilitator.exceptions import MessageError

    with pytest.raises(MessageError, match="not valid text") as caught:
        if how == "say":
            list(live.say("ana", "I will send it \ud800 by Friday"))
        else:
            list(live.ask("answer", "how often \ud800 should we meet?", by="ana"))
    _acceptable(caught.value)
    assert live.f.store.turns(live.id) == []
