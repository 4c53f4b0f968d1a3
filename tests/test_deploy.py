"""Install and deployment shapes: the wheel carries prompts/ and knowledge/; the Chroma server path works."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GSOC, ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("comentor-*.whl")
    return built


def test_wheel_ships_prompts_knowledge_and_ui_not_the_evals(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "facilitator/_bundled/prompts/system.v2.md" in names
    assert "facilitator/_bundled/knowledge/question_bank.yaml" in names
    assert "facilitator/_bundled/knowledge/challenge_patterns.yaml" in names
    assert sum(n.startswith("facilitator/_bundled/knowledge/guidance/") for n in names) >= 15
    assert "ui/__init__.py" in names and "ui/cli.py" in names
    assert not any(n.startswith("evals/") for n in names)  # the evals run from a source checkout
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_finds_its_bundled_files_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "from facilitator.resources import prompts_dir, guidance_dir\n"
        "from facilitator.knowledge import QuestionBank, ChallengePatterns\n"
        "from facilitator.prompts import load_prompt\n"
        "print(prompts_dir()); print(len(QuestionBank.load().questions)); print(load_prompt('system').ref)\n"
        "print(len(list(guidance_dir().glob('*.md'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder, questions, ref, pages = done.stdout.split()
    assert folder.startswith(str(target)), "the installed copy is used, not the checkout"
    assert int(questions) >= 150 and ref.startswith("system@v2#") and int(pages) >= 15


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    chroma = Path(sys.executable).parent / "chroma"
    port = _free_port()
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("chroma run exited at start")
                time.sleep(0.2)
        else:
            pytest.fail("chroma run did not listen within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_knowledge_base_on_a_real_chroma_server(
    chroma_server: str, monkeypatch: pytest.MonkeyPatch, embedder: Any, tmp_path: Path
) -> None:
    from facilitator.knowledge import KnowledgeBase
    from facilitator.settings import Settings

    monkeypatch.setenv("COMENTOR_CHROMA_URL", chroma_server)
    settings = Settings()
    first = KnowledgeBase.from_settings(settings, embedder=embedder)
    report = first.add([GSOC / "mentor__08-warning_signs.md", GSOC / "student__06-writing_a_proposal.md"])
    assert len(report.added) == 2 and not report.errors
    assert not (settings.chroma_path).exists(), "nothing is written to the embedded store"
    second = KnowledgeBase.from_settings(Settings(), embedder=embedder)  # a new client, as another replica would
    hits = second.search("my student vanished after being accepted", k=2)
    assert hits[0].source.endswith("mentor__08-warning_signs.md")
    assert second.add([GSOC / "mentor__08-warning_signs.md"]).unchanged


def test_unreachable_chroma_server_names_the_setting(monkeypatch: pytest.MonkeyPatch, embedder: Any) -> None:
    from facilitator.exceptions import ComentorError
    from facilitator.knowledge import KnowledgeBase
    from facilitator.settings import Settings

    monkeypatch.setenv("COMENTOR_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(ComentorError, match="COMENTOR_CHROMA_URL"):
        KnowledgeBase.from_settings(Settings(), embedder=embedder).count()
