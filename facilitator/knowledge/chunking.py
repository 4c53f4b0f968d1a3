"""Header-aware chunking: each chunk keeps its page title and the headings above it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from facilitator.knowledge.loaders import LoadedDocument

# 900 characters plus the heading stay within MiniLM's 256 word pieces (longer input is silently truncated).
CHUNK_CHARS = 900
CHUNK_OVERLAP = 120
# Bump when what gets indexed for a file changes, so that unchanged files are re-chunked on the next ingest.
CHUNKER_VERSION = 3  # 3: sentence vectors stored with each chunk (facilitator.knowledge.passages)


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    section: str
    text: str
    position: int
    content_hash: str
    context: str = ""

    def embedding_text(self) -> str:
        return indexed_text(self.title, self.section, self.text, self.context)

    def metadata(self) -> dict[str, str | int]:
        return {
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "context": self.context,
            "position": self.position,
            "content_hash": self.content_hash,
            "chunker": CHUNKER_VERSION,
        }


def indexed_text(title: str, section: str, text: str, context: str = "") -> str:
    """What is embedded and keyword-indexed: the title, the page's topic words and the section give context."""
    heading = f"{title} ({context})" if context else title
    if section:
        heading = f"{heading} — {section}"
    return f"{heading}\n{text}"


def chunk_document(doc: LoadedDocument) -> list[Chunk]:
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP, separators=["\n\n", "\n", ". ", " ", ""]
    )
    pieces: list[tuple[str, str]] = []  # (section, text)
    if doc.kind == "markdown":
        header_splitter = MarkdownHeaderTextSplitter(
            headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=True
        )
        for part in header_splitter.split_text(doc.body):
            headings = [str(part.metadata[k]) for k in ("h1", "h2", "h3") if k in part.metadata]
            if headings and headings[0] == doc.title:
                headings = headings[1:]
            section = " > ".join(headings)
            pieces.extend((section, text) for text in splitter.split_text(part.page_content))
    elif doc.kind == "pdf":
        for number, page in enumerate(doc.pages, start=1):
            pieces.extend((f"page {number}", text) for text in splitter.split_text(page))
    else:
        pieces.extend(("", text) for text in splitter.split_text(doc.body))
    chunks = []
    for position, (section, text) in enumerate(p for p in pieces if p[1].strip()):
        digest = hashlib.sha1(f"{doc.source}\x00{doc.content_hash}\x00{position}".encode()).hexdigest()[:16]
        chunks.append(
            Chunk(
                id=f"c{digest}",
                source=doc.source,
                title=doc.title,
                section=section,
                text=text.strip(),
                position=position,
                content_hash=doc.content_hash,
                context=doc.context,
            )
        )
    return chunks
