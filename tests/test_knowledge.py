"""Knowledge base: ingest (md/txt/pdf), chunk metadata, hash skipping, bad input, hybrid search, CLI contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facilitator.exceptions import IngestError, KnowledgeError, NotFoundError
from facilitator.knowledge.chunking import chunk_document
from facilitator.knowledge.loaders import read_document
from tests.conftest import GSOC, run_cli
from tests.pdfgen import write_pdf
from ui.cli import app

MB = 1_000_000


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_title_liquid_and_headings(tmp_path: Path) -> None:
    md = _write(
        tmp_path / "guide.md",
        "---\ntitle: Meeting Rhythm\npermalink: x.html\n---\n{% include note.html %}\nIntro text {{ site.name }}.\n\n"
        "## How often\nMeet every two weeks.\n\n### When it slips\nReschedule within the week.\n",
    )
    doc = read_document(md, source=str(md), max_bytes=MB)
    assert doc.title == "Meeting Rhythm"
    assert "{%" not in doc.body and "{{" not in doc.body and "include" not in doc.body
    chunks = chunk_document(doc)
    sections = {c.section: c.text for c in chunks}
    assert sections["How often"] == "Meet every two weeks."
    assert sections["How often > When it slips"] == "Reschedule within the week."
    assert all(c.title == "Meeting Rhythm" for c in chunks)
    assert chunks[0].embedding_text().startswith("Meeting Rhythm")


def test_real_gsoc_page_loads_with_front_matter_title() -> None:
    page = GSOC / "mentor__08-warning_signs.md"
    doc = read_document(page, source=str(page), max_bytes=MB)
    assert doc.title == "Warning Signs"
    assert not doc.body.startswith("---")
    chunks = chunk_document(doc)
    assert len(chunks) > 3
    assert any(c.section == '"Actions Speak Louder Than Words"' for c in chunks)


def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    pages = ["Check in every fortnight.", "Celebrate progress together."]
    pdf = write_pdf(tmp_path / "handbook.pdf", pages, "Handbook")
    doc = read_document(pdf, source=str(pdf), max_bytes=MB)
    assert doc.title == "Handbook"
    chunks = chunk_document(doc)
    assert [(c.section, c.text) for c in chunks] == [
        ("page 1", "Check in every fortnight."),
        ("page 2", "Celebrate progress together."),
    ]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.md", b"   \n", "empty"),
        ("binary.txt", b"abc\x00\x01\x02", "binary"),
        ("broken.md", b"---\ntitle: [unclosed\n---\nbody", "front matter"),
        ("open.md", b"---\ntitle: x\nbody without end", "never closed"),
        ("notes.docx", b"PK\x03\x04", "unsupported"),
        ("bad.pdf", b"%PDF-1.4 garbage", "PDF"),
    ],
)
def test_bad_files_get_a_clear_message(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=fragment):
        read_document(path, source=name, max_bytes=MB)


def test_oversized_file_names_the_limit_and_the_setting(tmp_path: Path) -> None:
    big = _write(tmp_path / "big.txt", "word " * 1000)
    with pytest.raises(IngestError, match="COMENTOR_MAX_FILE_MB"):
        read_document(big, source="big.txt", max_bytes=1000)


def test_ingest_skips_unchanged_reindexes_changed_and_keeps_others_on_failure(kb: Any, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.md", "# Cadence\n\nMeet every two weeks for an hour.\n")
    _write(tmp_path / "b.txt", "Gratitude closes every session.")
    first = kb.add([tmp_path])
    assert sorted(Path(s).name for s in first.added) == ["a.md", "b.txt"]
    assert kb.add([tmp_path]).unchanged == first.added

    _write(a, "# Cadence\n\nMeet weekly during a shared project.\n")
    (tmp_path / "c.md").write_bytes(b"\x00\x00binary")
    second = kb.add([tmp_path])
    assert [Path(s).name for s in second.updated] == ["a.md"]
    assert len(second.errors) == 1 and "c.md" in second.errors[0]
    texts = [h.text for h in kb.search("how often do we meet", k=5, per_source=5)]
    assert any("weekly" in t for t in texts) and not any("two weeks" in t for t in texts)
    assert any(Path(h.source).name == "b.txt" for h in kb.search("gratitude", k=5))


def test_failed_ingest_loses_nothing_and_reports_nothing_indexed(kb: Any, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.md", "# Feedback\n\nGive feedback both ways.\n")
    kb.add([good])
    before = kb.count()
    report = kb.add([tmp_path / "missing.md", tmp_path])  # folder holds only good.md, unchanged
    assert report.errors and not report.indexed_nothing
    only_bad = kb.add([tmp_path / "missing.md"])
    assert only_bad.indexed_nothing and "no such file" in only_bad.errors[0]
    assert kb.count() == before


def test_search_on_empty_base_says_how_to_fill_it(kb: Any) -> None:
    with pytest.raises(KnowledgeError, match="knowledge add"):
        kb.search("anything")


def test_remove_and_list(kb: Any, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.md", "# A\n\ntext a\n")
    kb.add([a])
    assert [Path(s.source).name for s in kb.sources()] == ["a.md"]
    assert kb.remove(str(a)) >= 1
    assert kb.sources() == []
    with pytest.raises(NotFoundError, match="knowledge list"):
        kb.remove(str(a))


def test_sources_named_relative_to_a_base_folder(kb: Any, tmp_path: Path) -> None:
    inside = tmp_path / "base" / "guides"
    inside.mkdir(parents=True)
    _write(inside / "a.md", "# A\n\nMeet every two weeks and book the dates ahead.\n")
    outside = _write(tmp_path / "b.md", "# B\n\ntext b\n")
    report = kb.add([inside, outside], relative_to=tmp_path / "base")
    assert report.added == ["guides/a.md"]
    assert len(report.errors) == 1 and "outside" in report.errors[0] and "without a base folder" in report.errors[0]
    assert [s.source for s in kb.sources()] == ["guides/a.md"]
    assert kb.search("how often should we meet", k=1)[0].source == "guides/a.md"


def test_hybrid_search_on_real_guides_returns_contract_fields_best_first(kb: Any, shared_data: Path) -> None:
    report = kb.add([shared_data / "gsoc_guides"])
    assert len(report.added) == 54 and not report.errors
    hits = kb.search("my contributor stopped showing up to our meetings, what are the red flags?", k=5)
    assert len(hits) == 5
    assert len({h.source for h in hits}) == 5  # one chunk per page
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert any(h.source.endswith("mentor__08-warning_signs.md") for h in hits[:3])
    assert all(Path(h.source).is_absolute() and h.title and h.text and h.id for h in hits)


def test_cli_add_search_json_in_new_processes(tmp_path: Path, comentor_home: Path) -> None:
    """The index written by one process is read by another (nothing process-local, no absolute venv paths)."""
    added = run_cli("knowledge", "add", str(GSOC), "--relative-to", str(GSOC.parent), home=comentor_home)
    assert added.returncode == 0, added.stderr
    assert "added 54" in added.stdout
    query = "how to write a good project proposal"
    found = run_cli("knowledge", "search", query, "-k", "5", "--format", "json", home=comentor_home)
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert len(results) == 5
    assert set(results[0]) == {"source", "title", "section", "score", "text", "id"}
    assert any("writing_a_proposal" in r["source"] for r in results)
    assert all(r["source"].startswith("gsoc_guides/") for r in results)  # named relative to --relative-to


def test_cli_bad_usage_exits_2_with_message(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["knowledge", "add", str(tmp_path / "nope.md")])
    assert result.exit_code == 2
    assert "no such file" in result.output
    empty = runner.invoke(app, ["knowledge", "search", "cadence"])
    assert empty.exit_code == 1 and "knowledge add" in empty.output
