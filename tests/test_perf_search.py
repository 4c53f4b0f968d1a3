"""Search after the performance changes: sources from the keyword index, and chunks another process added meanwhile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import pytest

from facilitator.knowledge import KnowledgeBase


def _page(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(f"---\ntitle: {title}\n---\n\n{body}\n", encoding="utf-8")
    return path


def test_one_hit_per_page_when_another_process_swapped_a_page(tmp_path: Path, embedder: Any) -> None:
    """Replica A built its keyword index; replica B removes a page and adds another with as many chunks.

    A's index is stale but the chunk count is unchanged, so A must look the new chunks' sources up instead of taking
    each chunk for a page of its own (which would show the same page twice).
    """
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    first = KnowledgeBase(client, embedder)
    second = KnowledgeBase(client, embedder)
    docs = tmp_path / "docs"
    docs.mkdir()
    bread = _page(docs, "bread", "Bread", "Bake the bread at 220 degrees for forty minutes.")
    tools = _page(docs, "tools", "Tools", "Oil the garden shears after each use so they do not rust.")
    first.add([bread, tools, _page(docs, "garden", "Garden", "Water tomatoes in the morning, not at noon.")])
    assert first.search("when to water tomatoes", 1)[0].title == "Garden"  # A's keyword index is built now
    assert first.count() == 3

    cadence = _page(
        docs,
        "cadence",
        "Meeting cadence",
        "## How often\n\nHow often should mentors meet? Meet every two weeks.\n\n"
        "## Keeping the rhythm\n\nMentors who meet every two weeks keep the rhythm by booking the meetings ahead.",
    )
    second.remove(str(bread.resolve()))
    second.remove(str(tools.resolve()))
    assert second.add([cadence]).chunks == 2
    assert first.count() == 3  # same count: A does not rebuild its keyword index, which lacks the new chunks

    hits = first.search("how often should mentors meet", 3)
    titles = [h.title for h in hits]
    assert titles[0] == "Meeting cadence"
    assert titles.count("Meeting cadence") == 1, titles  # both new chunks are known to come from one page
    assert "Bread" not in titles and "Tools" not in titles


def test_whole_collection_is_read_in_pages(tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sources()` and the keyword index read every chunk, page by page (one `get` of all fails past ~30k chunks)."""
    monkeypatch.setattr("facilitator.knowledge.index.SCAN_PAGE", 4)  # 11 chunks: read as pages of 4, 4 and 3
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    kb = KnowledgeBase(client, embedder)
    docs = tmp_path / "docs"
    docs.mkdir()
    topics = ["bread", "tomatoes", "shears", "kites", "violins", "glaciers", "owls", "lanterns", "canoes", "saffron"]
    pages = [_page(docs, t, t.title(), f"A short note about {t} and how to care for {t}.") for t in topics]
    pages.append(_page(docs, "cadence", "Cadence", "Mentors who meet every two weeks keep the rhythm."))
    kb.add(pages)
    assert kb.count() == 11
    assert [s.title for s in kb.sources()] == sorted(t.title() for t in [*topics, "cadence"])
    # the last page's chunk is only found if the keyword index read past the first pages
    assert kb.search("saffron", 1)[0].title == "Saffron"
    assert len(kb._keyword_index(kb.count()).ids) == 11
