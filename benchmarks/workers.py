"""Child processes of the benchmarks (fresh interpreters, so load times and memory are those of one process).

python -m benchmarks.workers embed onnx|sentence-transformers MODELS_DIR
python -m benchmarks.workers ui HOME PORT
Each prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

START = time.perf_counter()


def corpus_texts() -> list[str]:
    from benchmarks.common import GSOC, ROOT
    from facilitator.knowledge.chunking import chunk_document
    from facilitator.knowledge.loaders import read_document

    files = sorted(GSOC.glob("*.md")) + sorted((ROOT / "knowledge" / "guidance").rglob("*.md"))
    return [
        c.embedding_text() for f in files for c in chunk_document(read_document(f, source=f.name, max_bytes=20_000_000))
    ]


def embed(kind: str, models: Path) -> dict[str, Any]:
    from benchmarks.common import rss_mb
    from facilitator.knowledge.embeddings import Embedder, OnnxMiniLMEmbedder, SentenceTransformerEmbedder

    texts = corpus_texts()
    started = time.perf_counter()
    embedder: Embedder = OnnxMiniLMEmbedder(models) if kind == "onnx" else SentenceTransformerEmbedder()
    embedder.embed_documents(["warm up"])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    embedder.embed_documents(texts)
    seconds = time.perf_counter() - started
    queries = [f"how often should we meet, question {i}?" for i in range(30)]  # distinct: no query cache hits
    started = time.perf_counter()
    for query in queries:
        embedder.embed_query(query)
    query_ms = (time.perf_counter() - started) / len(queries) * 1000
    return {
        "kind": kind,
        "load_s": load_s,
        "chunks": len(texts),
        "chunks_per_s": len(texts) / seconds,
        "query_ms": query_ms,
        "rss_mb": rss_mb(),
        "torch_imported": "torch" in sys.modules,
    }


def current_rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ui(home: str, port: int) -> dict[str, Any]:
    """The UI app as `comentor ui` builds it, launched without blocking; then one search loads the embedder."""
    import os
    import urllib.request

    os.environ["COMENTOR_HOME"] = home
    from benchmarks.common import rss_mb
    from facilitator.settings import Settings
    from ui.app import CSS, build_app, prepare, theme, ui_secret

    settings = Settings()
    fac, _ = prepare(settings)
    app = build_app(fac, settings=settings, secret=ui_secret(settings))
    app.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        theme=theme(),
        css=CSS,
        ssr_mode=False,
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
        status = response.status
    ready_s = time.perf_counter() - START
    rss_ready = current_rss_mb()
    assert fac.knowledge is not None
    fac.knowledge.search("how often should we meet?", 3)
    result = {
        "status": status,
        "ready_in_process_s": ready_s,
        "rss_ready_mb": rss_ready,
        "rss_embedder_mb": current_rss_mb(),
        "peak_rss_mb": rss_mb(),
    }
    app.close()
    return result


if __name__ == "__main__":
    if sys.argv[1] == "embed":
        print(json.dumps(embed(sys.argv[2], Path(sys.argv[3]))))
    elif sys.argv[1] == "ui":
        print(json.dumps(ui(sys.argv[2], int(sys.argv[3]))))
    else:
        raise SystemExit(f"unknown worker {sys.argv[1]!r}")
