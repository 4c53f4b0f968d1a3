"""Commands that do not embed never import the heavy stacks; the local embedder runs without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, ROOT

HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "onnxruntime", "gradio", "langchain_openai")


def _imported(code_or_args: list[str], home: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run python with `-X importtime`; return the result and the top-level packages it imported."""
    env = {**os.environ, "COMENTOR_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COMENTOR_FACILITATOR"):
        env.pop(var, None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *code_or_args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    modules = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return done, modules


@pytest.fixture
def ami_transcript(tmp_path: Path, shared_data: Path) -> Path:
    """A real 600-turn AMI meeting (QMSum) as a comentor JSON transcript."""
    meeting = json.loads((DATA / "qmsum_ami" / "meetings.jsonl").read_text(encoding="utf-8").splitlines()[0])
    turns = [{"speaker": t["speaker"], "text": t["content"]} for t in meeting["meeting_transcripts"]]
    path = tmp_path / "meeting.json"
    path.write_text(json.dumps({"date": "2026-03-04", "turns": turns}), encoding="utf-8")
    return path


def test_summarize_of_a_real_meeting_imports_no_heavy_package(ami_transcript: Path, comentor_home: Path) -> None:
    done, modules = _imported(["-m", "ui.cli", "summarize", str(ami_transcript)], comentor_home)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["balance"]["participants"]  # it really summarized the meeting
    assert summary["summary"]  # and ranked a recap (TextRank)
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert "nltk" not in modules  # importing sumy's summarizers imports all of nltk: 1.7-2.4 s of a 1.5 s budget
    assert "sqlalchemy" not in modules  # summarize needs no store: the engine's store opens on first use


@pytest.mark.parametrize("args", [["--help"], ["agenda", "--help"], ["export", "--help"]])
def test_cli_help_imports_no_heavy_package(args: list[str], comentor_home: Path) -> None:
    done, modules = _imported(["-m", "ui.cli", *args], comentor_home)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_engine_and_knowledge_modules_import_lightly(comentor_home: Path) -> None:
    code = "import facilitator.engine, facilitator.knowledge, facilitator.summary, facilitator.commitments"
    done, modules = _imported(["-c", code], comentor_home)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


@pytest.mark.slow
def test_search_command_embeds_without_torch(embedder: Any, comentor_home: Path) -> None:
    """`knowledge add` and `knowledge search` load the ONNX embedder: onnxruntime and chromadb, never torch."""
    embedder.embed_query("load the model")  # exported once into the session's cache; reuse it instead of exporting
    models = comentor_home / "models"
    models.mkdir(parents=True, exist_ok=True)
    if embedder.model_file.parent != models:
        shutil.copyfile(embedder.model_file, models / embedder.model_file.name)
    added, _ = _imported(["-m", "ui.cli", "knowledge", "add", "--bundled"], comentor_home)
    assert added.returncode == 0, added.stderr[-2000:]
    done, modules = _imported(
        ["-m", "ui.cli", "knowledge", "search", "how often should we meet?", "--format", "json"], comentor_home
    )
    assert done.returncode == 0, done.stderr[-2000:]
    hits = json.loads(done.stdout)
    assert hits and all(h["source"].startswith("knowledge/guidance/") for h in hits)
    assert {"onnxruntime", "chromadb"} <= modules
    assert not modules & {"torch", "sentence_transformers", "transformers"}, modules
