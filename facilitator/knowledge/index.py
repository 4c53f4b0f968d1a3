"""The knowledge index: Chroma (embedded or server) for dense vectors, BM25 for keywords, fused by reciprocal rank.

Next to each chunk the index keeps the vectors of its sentences (a second collection, `<name>-sentences`: one record
per chunk, its sentence vectors stored with it; `facilitator.knowledge.passages`), embedded at ingest. A search
ranks pages by the fused score of their best chunk, then shows for each page the chunk of its best few that answers
the query best (`PassageVectors.fit`: its best sentence's cosine plus the query's words it holds), so that a how-to
question gets the section of the page that says how; an answer quotes those sentences without embedding them again.
"""

from __future__ import annotations

import json
import re
import threading
from collections import ChainMap, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from facilitator.exceptions import ConfigError, IngestError, KnowledgeError, NotFoundError
from facilitator.knowledge.chunking import CHUNKER_VERSION, Chunk, chunk_document, indexed_text
from facilitator.knowledge.embeddings import Embedder
from facilitator.knowledge.loaders import SUPPORTED_SUFFIXES, LoadedDocument, read_document
from facilitator.knowledge.passages import (
    SENTENCES_VERSION,
    PassageVectors,
    content_stems,
    contexts_of,
    decode_vectors,
    encode_vectors,
    passage_blocks,
    unit,
)
from facilitator.models import SearchHit
from facilitator.resources import knowledge_dir

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from facilitator.settings import Settings

RRF_K = 60
# Dense (MiniLM) ranks paraphrased questions better than BM25 does, so its ranking counts a little more in the fusion.
DENSE_WEIGHT = 1.5
KEYWORD_WEIGHT = 1.0
# Chunks taken from each ranking before fusion; fixed so that the top results do not depend on k.
CANDIDATE_POOL = 100
EMBED_BATCH_CHUNKS = 256
SCAN_PAGE = 5000  # chunks per `get` when reading the whole collection
PAGE_CANDIDATES = 4  # a page's best chunks (by fused rank) among which its shown chunk is chosen by fit
PASSAGES_KEPT = 8192  # chunks whose stored sentence vectors are kept in memory
EMPTY_MESSAGE = (
    "the knowledge base is empty; fill it with `comentor knowledge add --bundled` (the program guidance) "
    "or `comentor knowledge add PATH...`"
)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks: int = 0

    @property
    def indexed_nothing(self) -> bool:
        """True when files were asked for but none is in the index now (the CLI then exits 2)."""
        return bool(self.errors) and not (self.added or self.updated or self.unchanged)


@dataclass
class SourceInfo:
    source: str
    title: str
    chunks: int


def make_chroma_client(settings: Settings) -> ClientAPI:
    """An embedded PersistentClient under COMENTOR_HOME, or an HttpClient when COMENTOR_CHROMA_URL is set."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"COMENTOR_CHROMA_URL must look like http://host:8000, got {settings.chroma_url!r}")
        try:
            return chromadb.HttpClient(
                host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings
            )
        except (ValueError, OSError) as e:  # chromadb reports an unreachable server as ValueError
            raise KnowledgeError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({e}); start it (`chroma run`) "
                "or unset COMENTOR_CHROMA_URL to use the embedded store"
            ) from e
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class _KeywordIndex:
    """BM25 over chunk texts (with titles), stemmed, English stop words removed."""

    def __init__(self, ids: list[str], texts: list[str], sources: list[str]) -> None:
        import bm25s
        import Stemmer

        self.ids = ids
        self.source_of = dict(zip(ids, sources, strict=True))
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, n: int) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        n = min(n, len(self.ids))
        results, scores = self._bm25.retrieve(tokens, k=n, show_progress=False, n_threads=1)
        return [self.ids[int(i)] for i, s in zip(results[0], scores[0], strict=True) if s > 0]


class KnowledgeBase:
    """Ingest and search. The Chroma client and the embedder are injected; nothing is built at import time."""

    def __init__(
        self, client: ClientAPI, embedder: Embedder, *, collection_prefix: str = "guidance", max_file_mb: float = 20.0
    ) -> None:
        self._client = client
        self._embedder = embedder
        self._name = f"{collection_prefix}-{embedder.name}"
        self._max_bytes = int(max_file_mb * 1_000_000)
        self._collection: Collection | None = None
        self._sentences: Collection | None = None
        self._passages: OrderedDict[str, PassageVectors | None] = OrderedDict()  # chunk id -> stored vectors
        self._keyword: _KeywordIndex | None = None
        self._keyword_count = -1
        self._lock = threading.Lock()
        self._passages_lock = threading.Lock()
        self._index_embedder = IndexEmbedder(embedder, self)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> KnowledgeBase:
        from facilitator.knowledge.embeddings import make_embedder

        return cls(
            make_chroma_client(settings),
            embedder or make_embedder(settings),
            collection_prefix=settings.collection,
            max_file_mb=settings.max_file_mb,
        )

    @property
    def embedder(self) -> IndexEmbedder:
        """The embedder of this index (the understanding layer reads the conversation with the same model), which
        also serves the stored sentence vectors of the passages this index returned (`passages`)."""
        return self._index_embedder

    @property
    def embedder_name(self) -> str:
        return self._embedder.name

    @property
    def collection(self) -> Collection:
        if self._collection is None:
            try:
                self._collection = self._client.get_or_create_collection(
                    self._name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": self._embedder.name},
                )
            except Exception as e:  # chromadb raises several unrelated types for an unreachable server
                raise KnowledgeError(
                    f"cannot open the Chroma collection '{self._name}' ({e}); "
                    "check COMENTOR_CHROMA_URL or that COMENTOR_HOME is writable"
                ) from e
        return self._collection

    @property
    def sentences(self) -> Collection:
        """The collection of each chunk's sentence vectors (same ids as the chunks)."""
        if self._sentences is None:
            try:
                self._sentences = self._client.get_or_create_collection(
                    f"{self._name}-sentences",
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": self._embedder.name},
                )
            except Exception as e:  # chromadb raises several unrelated types for an unreachable server
                raise KnowledgeError(
                    f"cannot open the Chroma collection '{self._name}-sentences' ({e}); "
                    "check COMENTOR_CHROMA_URL or that COMENTOR_HOME is writable"
                ) from e
        return self._sentences

    def count(self) -> int:
        return self.collection.count()

    def warm(self) -> None:
        """Build what the first search would (the keyword index), so that no turn pays for it."""
        total = self.count()
        if total:
            self._keyword_index(total)

    # ---------------------------------------------------------------- ingest
    def add(
        self,
        paths: Sequence[Path | str],
        *,
        progress: Callable[[str, int], None] | None = None,
        relative_to: Path | None = None,
    ) -> IngestReport:
        """Index files and folders (recursively: .md, .markdown, .txt, .pdf). Unchanged files are skipped by hash.

        Sources are named by absolute path, or relative to `relative_to` when given, so that an index (and every
        prompt that quotes a source name or chunk id) is the same wherever the files happen to sit.
        """
        report = IngestReport()
        base = relative_to.expanduser().resolve() if relative_to is not None else None
        files: list[tuple[Path, str]] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if not path.exists():
                report.errors.append(f"{raw}: no such file or folder; check the path")
                continue
            found = _files_in(path) if path.is_dir() else [path]
            if path.is_dir() and not found:
                report.errors.append(f"{raw}: folder has no .md, .txt or .pdf files")
            for file in found:
                resolved = file.resolve()
                if base is None:
                    files.append((file, str(resolved)))
                elif resolved.is_relative_to(base):
                    files.append((file, resolved.relative_to(base).as_posix()))
                else:
                    report.errors.append(f"{raw}: {file} is outside {base}; add it without a base folder")
        self._ingest(files, report, progress)
        return report

    def add_bundled(self, *, progress: Callable[[str, int], None] | None = None) -> IngestReport:
        """Index the program guidance that ships with comentor (sources named `knowledge/guidance/...`)."""
        root = knowledge_dir()
        files = [(f, f.relative_to(root.parent).as_posix()) for f in _files_in(root / "guidance")]
        report = IngestReport()
        self._ingest(files, report, progress)
        return report

    def _ingest(
        self, files: list[tuple[Path, str]], report: IngestReport, progress: Callable[[str, int], None] | None
    ) -> None:
        pending: list[tuple[LoadedDocument, list[Chunk], bool]] = []
        for path, source in files:
            try:
                doc = read_document(path, source=source, max_bytes=self._max_bytes)
                previous, chunker = self._stored_state(source)
                if previous == doc.content_hash and chunker == CHUNKER_VERSION:
                    report.unchanged.append(source)
                else:
                    chunks = chunk_document(doc)
                    if not chunks:
                        raise IngestError(
                            f"{source}: no text to index after cleaning; check that the file has text outside its "
                            "front matter and template tags"
                        )
                    pending.append((doc, chunks, previous is not None))
                    if sum(len(c) for _, c, _ in pending) >= EMBED_BATCH_CHUNKS:
                        self._flush(pending, report)
                        pending = []
            except IngestError as e:
                report.errors.append(str(e))
            except (RecursionError, MemoryError) as e:  # a hostile file must cost itself, not the other files
                report.errors.append(
                    f"{source}: too deeply nested or too large to index ({e.__class__.__name__}); check the file"
                )
            if progress:
                progress(source, 1)
        if pending:
            self._flush(pending, report)

    def _flush(self, pending: list[tuple[LoadedDocument, list[Chunk], bool]], report: IngestReport) -> None:
        chunks = [c for _, cs, _ in pending for c in cs]
        vectors = self._embedder.embed_documents([c.embedding_text() for c in chunks])
        split = [_readable_blocks(c.text) for c in chunks]
        contexts = [contexts_of(c.title, c.section, blocks) for c, blocks in zip(chunks, split, strict=True)]
        flat = self._embedder.embed_documents([x for xs in contexts for x in xs])
        blobs: list[str] = []
        start = 0
        for xs in contexts:
            blobs.append(encode_vectors(flat[start : start + len(xs)]))
            start += len(xs)
        # New chunks go in first; old ones of the same source are removed only after that succeeded.
        self.collection.upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors,  # type: ignore[arg-type]
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
        )
        self.sentences.upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors,  # type: ignore[arg-type]
            metadatas=[
                sentence_record(c.source, blocks, blob) for c, blocks, blob in zip(chunks, split, blobs, strict=True)
            ],
        )
        for doc, doc_chunks, existed in pending:
            keep = {c.id for c in doc_chunks}
            old = self.collection.get(where={"source": doc.source}, include=[])["ids"]
            stale = [i for i in old if i not in keep]
            if stale:
                self.collection.delete(ids=stale)
                self.sentences.delete(ids=stale)
            (report.updated if existed else report.added).append(doc.source)
            report.chunks += len(doc_chunks)
        self._keyword = None
        self._forget_passages()

    def _stored_state(self, source: str) -> tuple[str | None, int | None]:
        """The content hash and chunker version stored for a source, (None, None) when it is not indexed."""
        got = self.collection.get(where={"source": source}, limit=1, include=["metadatas"])
        metas = got.get("metadatas") or []
        if not metas:
            return None, None
        chunker = metas[0].get("chunker")
        return str(metas[0].get("content_hash")), chunker if isinstance(chunker, int) else None

    # ---------------------------------------------------------------- read
    def _scan(self, *, documents: bool) -> Iterator[tuple[str, str, Any]]:
        """Every chunk as (id, document, metadata), read in pages: one `get` of everything fails past about 30k
        chunks in embedded Chroma ("too many SQL variables")."""
        include: Any = ["documents", "metadatas"] if documents else ["metadatas"]
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=SCAN_PAGE, offset=offset)
            ids = got["ids"]
            docs = got.get("documents") or [""] * len(ids)
            yield from zip(ids, docs, got.get("metadatas") or [], strict=True)
            if len(ids) < SCAN_PAGE:
                return
            offset += len(ids)

    def sources(self) -> list[SourceInfo]:
        info: dict[str, SourceInfo] = {}
        for _, _, meta in self._scan(documents=False):
            source = str(meta["source"])
            entry = info.setdefault(source, SourceInfo(source=source, title=str(meta.get("title", "")), chunks=0))
            entry.chunks += 1
        return sorted(info.values(), key=lambda s: s.source)

    def remove(self, source: str) -> int:
        candidates = [source]
        if Path(source).expanduser().exists():
            candidates.append(str(Path(source).expanduser().resolve()))
        for candidate in candidates:
            ids = self.collection.get(where={"source": candidate}, include=[])["ids"]
            if ids:
                self.collection.delete(ids=ids)
                self.sentences.delete(ids=ids)
                self._keyword = None
                self._forget_passages()
                return len(ids)
        raise NotFoundError(f"no source {source!r} in the knowledge base; `comentor knowledge list` shows the sources")

    def get(self, ids: Iterable[str]) -> list[SearchHit]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        got = self.collection.get(ids=wanted, include=["documents", "metadatas"])
        return [
            _hit(i, doc or "", meta, 0.0)
            for i, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False)
        ]

    def search(self, query: str, k: int = 5, *, per_source: int = 1) -> list[SearchHit]:
        """Hybrid search, best first: dense and BM25 rankings fused by reciprocal rank, `per_source` hits per page."""
        return [hit for hit, _ in self.search_scored(query, k, per_source=per_source)]

    def search_scored(self, query: str, k: int = 5, *, per_source: int = 1) -> list[tuple[SearchHit, float]]:
        """Like `search`, with each hit's dense cosine similarity to the query (0.0 when only BM25 found it).

        Pages are ranked by the fused score of their best chunk (each hit's `score`). With one hit per page, the
        chunk shown for a page is the one of its PAGE_CANDIDATES best that fits the query best (see the module doc;
        the fused best when sentence vectors are missing), and its similarity is the best of those candidates'."""
        query = query.strip()
        if not query:
            raise KnowledgeError("the search query is empty; type what you are looking for")
        if k < 1:
            raise KnowledgeError("k must be at least 1")
        total = self.count()
        if total == 0:
            raise KnowledgeError(EMPTY_MESSAGE)
        depth = min(total, max(CANDIDATE_POOL, k * 8))
        # Distances only: fetching 100 chunks' metadata made the query about 7x slower (6 ms vs 0.8 ms at 10k chunks).
        # Sources come from the keyword index, which holds every chunk's; the rare chunk it lacks is looked up.
        found = self.collection.query(
            query_embeddings=[self._embedder.embed_query(query)],  # type: ignore[arg-type]
            n_results=depth,
            include=["distances"],
        )
        dense = found["ids"][0]
        similarity = {cid: 1.0 - float(d) for cid, d in zip(dense, (found["distances"] or [[]])[0], strict=False)}
        keyword_index = self._keyword_index(total)
        keyword = keyword_index.search(query, depth)
        missing = [cid for cid in dense if cid not in keyword_index.source_of]
        extra: dict[str, str] = {}
        if missing:  # added by another process since the keyword index was built
            got = self.collection.get(ids=missing, include=["metadatas"])
            extra = {
                cid: str(meta.get("source", "")) for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False)
            }
        sources = ChainMap(extra, keyword_index.source_of)
        fused: dict[str, float] = {}
        for ranking, weight in ((dense, DENSE_WEIGHT), (keyword, KEYWORD_WEIGHT)):
            for rank, chunk_id in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
        ordered = sorted(fused, key=lambda cid: fused[cid], reverse=True)
        gone: set[str] = set()
        while True:  # fetch only the chunks shown; repeat if another process removed some of them meanwhile
            chosen = _pick(ordered, sources, gone, k, per_source)
            pages = _page_candidates(ordered, sources, gone, chosen) if per_source == 1 else {c: [c] for c in chosen}
            hits = {h.id: h for h in self.get([cid for cids in pages.values() for cid in cids])}
            gone.update(cid for cid in chosen if cid not in hits)
            if all(cid in hits for cid in chosen):
                break
        fits = self._fitted(query, [hits[c] for cids in pages.values() for c in cids if c in hits])
        out: list[tuple[SearchHit, float]] = []
        for cid in chosen:
            candidates = [c for c in pages[cid] if c in hits]
            shown = cid
            if candidates and all(c in fits for c in candidates):  # the page's chunk that answers the query best
                shown = max(candidates, key=lambda c: (fits[c], -candidates.index(c)))
            best_similarity = max(similarity.get(c, 0.0) for c in candidates or [cid])
            out.append((hits[shown].model_copy(update={"score": round(fused[cid], 6)}), best_similarity))
        return out

    def _fitted(self, query: str, hits: list[SearchHit]) -> dict[str, float]:
        """How well each hit with stored sentence vectors answers `query` (`PassageVectors.fit`), by chunk id."""
        stored = self.stored_passages(hits)
        if not stored:
            return {}
        vector = unit(self._embedder.embed_query(query))
        question = content_stems(query)
        return {cid: vectors.fit(vector, question) for cid, vectors in stored.items()}

    def stored_passages(self, hits: Sequence[SearchHit]) -> dict[str, PassageVectors]:
        """The sentence vectors stored at ingest for each hit that has them, by chunk id (kept in memory; never
        embedded here: an index built before they were stored has none until its files are added again)."""
        with self._passages_lock:
            need = list(dict.fromkeys(h.id for h in hits if h.id not in self._passages))
        found: dict[str, PassageVectors | None] = {}
        if need:
            got = self.sentences.get(ids=need, include=["metadatas"])
            metas = dict(zip(got["ids"], got.get("metadatas") or [], strict=False))
            by_id = {h.id: h for h in hits}
            for cid in need:
                found[cid] = _stored_vectors(by_id[cid], metas.get(cid))
        with self._passages_lock:
            self._passages.update(found)
            for cid in found:
                self._passages.move_to_end(cid)
            while len(self._passages) > PASSAGES_KEPT:
                self._passages.popitem(last=False)
            kept = {h.id: self._passages.get(h.id) for h in hits}
        return {cid: v for cid, v in kept.items() if v is not None}

    def _forget_passages(self) -> None:
        with self._passages_lock:
            self._passages.clear()

    def _keyword_index(self, total: int) -> _KeywordIndex:
        with self._lock:
            if self._keyword is None or self._keyword_count != total:
                ids: list[str] = []
                texts: list[str] = []
                sources: list[str] = []
                for chunk_id, doc, meta in self._scan(documents=True):
                    ids.append(chunk_id)
                    texts.append(
                        indexed_text(
                            str(meta.get("title", "")),
                            str(meta.get("section", "")),
                            doc or "",
                            str(meta.get("context", "")),
                        )
                    )
                    sources.append(str(meta.get("source", "")))
                self._keyword = _KeywordIndex(ids, texts, sources)
                self._keyword_count = total
            return self._keyword


def _pick(ordered: list[str], sources: Mapping[str, str], gone: set[str], k: int, per_source: int) -> list[str]:
    """The best `k` chunk ids, at most `per_source` from each page."""
    chosen: list[str] = []
    per: dict[str, int] = {}
    for chunk_id in ordered:
        source = sources.get(chunk_id, chunk_id)
        if chunk_id in gone or per.get(source, 0) >= per_source:
            continue
        per[source] = per.get(source, 0) + 1
        chosen.append(chunk_id)
        if len(chosen) == k:
            break
    return chosen


def _readable_blocks(text: str) -> list[list[str]]:
    """A chunk's sentences by block; none for a text the sentence splitter cannot read (the chunk is still indexed,
    and searched and quoted as a whole)."""
    try:
        return passage_blocks(text)
    except (RecursionError, MemoryError, ValueError, IndexError, re.error):
        return []


def sentence_record(source: str, blocks: list[list[str]], vectors: str) -> dict[str, str | int]:
    """What the sentences collection stores for a chunk: its sentences by block (JSON, so that a lookup never splits
    again) and their vectors (`encode_vectors`)."""
    return {
        "source": source,
        "n": sum(len(b) for b in blocks),
        "version": SENTENCES_VERSION,
        "blocks": json.dumps(blocks),
        "vectors": vectors,
    }


def _stored_vectors(hit: SearchHit, meta: Any) -> PassageVectors | None:
    """A chunk's stored sentence vectors, or None when it has none of this version (or they are unreadable)."""
    if not meta or meta.get("version") != SENTENCES_VERSION:
        return None
    try:
        blocks = json.loads(str(meta["blocks"]))
        vectors = decode_vectors(str(meta["vectors"]))
    except (KeyError, ValueError, TypeError):
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, list) for b in blocks):
        return None
    return PassageVectors.build(hit, vectors, [[str(s) for s in b] for b in blocks])


def _page_candidates(
    ordered: list[str], sources: Mapping[str, str], gone: set[str], chosen: list[str]
) -> dict[str, list[str]]:
    """For each chosen chunk, the best PAGE_CANDIDATES chunks of its page by fused rank (itself first)."""
    wanted = {sources.get(cid, cid): cid for cid in chosen}
    pages: dict[str, list[str]] = {cid: [] for cid in chosen}
    for chunk_id in ordered:
        page = wanted.get(sources.get(chunk_id, chunk_id))
        if page is not None and chunk_id not in gone and len(pages[page]) < PAGE_CANDIDATES:
            pages[page].append(chunk_id)
    return pages


class IndexEmbedder:
    """The embedder of an index: it embeds as the model it wraps does (same name, same vectors) and also serves the
    sentence vectors the index stored for its passages (`facilitator.knowledge.passages.PassageSource`)."""

    def __init__(self, inner: Embedder, index: KnowledgeBase) -> None:
        self._inner = inner
        self._index = index

    @property
    def name(self) -> str:
        return self._inner.name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)

    def passages(self, hits: Sequence[SearchHit]) -> dict[str, PassageVectors]:
        return self._index.stored_passages(hits)


def _hit(chunk_id: str, text: str, meta: Any, score: float) -> SearchHit:
    return SearchHit(
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        section=str(meta.get("section", "")),
        score=score,
        text=text,
        id=chunk_id,
    )


def _files_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not any(s.startswith(".") for s in p.parts[-3:])
    )
