"""Page-level retrieval evaluation of the knowledge base on `evals/datasets/retrieval.jsonl`.

Run `python -m evals.retrieval` to index the bundled guidance and the GSoC guides into a temporary Chroma and print
hits@1, hits@5, recall@5, MRR@10 and nDCG@10, overall and per corpus.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder
    from facilitator.knowledge.index import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT / "evals" / "datasets" / "retrieval.jsonl"
DEPTH = 10  # MRR and nDCG are computed over the top 10 pages


class RetrievalCase(BaseModel):
    id: str
    query: str
    relevant: list[str] = Field(min_length=1)
    corpus: str


class CaseResult(BaseModel):
    id: str
    query: str
    corpus: str
    relevant: list[str]
    retrieved: list[str]
    ranks: dict[str, int | None]  # relevant path -> 1-based rank in the top 10 pages, None when absent
    hit_at_1: bool
    hit_at_k: bool
    recall_at_k: float
    reciprocal_rank: float
    ndcg: float


class Metrics(BaseModel):
    cases: int
    hits_at_1: float
    hits_at_k: float
    recall_at_k: float
    mrr_at_10: float
    ndcg_at_10: float


class RetrievalReport(BaseModel):
    k: int
    overall: Metrics
    per_corpus: dict[str, Metrics]
    cases: list[CaseResult]
    latency_ms_mean: float
    latency_ms_p95: float


def load_queries(path: Path | str = DATASET) -> list[RetrievalCase]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [RetrievalCase.model_validate(json.loads(line)) for line in lines if line.strip()]


def matches(source: str, relevant: str) -> bool:
    """A hit matches a labelled page when its source is that path or ends with `/<path>`."""
    return source == relevant or source.endswith("/" + relevant.lstrip("/"))


def score_case(case: RetrievalCase, retrieved: list[str], k: int = 5) -> CaseResult:
    """Metrics for one query from the ranked, page-distinct list of sources."""
    pages = list(dict.fromkeys(retrieved))[: max(k, DEPTH)]
    ranks: dict[str, int | None] = {}
    for rel in case.relevant:
        ranks[rel] = next((i + 1 for i, src in enumerate(pages[:DEPTH]) if matches(src, rel)), None)
    found = [r for r in ranks.values() if r is not None]
    first = min(found) if found else None
    gains = [1.0 if any(matches(src, rel) for rel in case.relevant) else 0.0 for src in pages[:DEPTH]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(case.relevant), DEPTH)))
    return CaseResult(
        id=case.id,
        query=case.query,
        corpus=case.corpus,
        relevant=case.relevant,
        retrieved=pages,
        ranks=ranks,
        hit_at_1=first == 1,
        hit_at_k=first is not None and first <= k,
        recall_at_k=sum(1 for r in found if r <= k) / len(case.relevant),
        reciprocal_rank=1.0 / first if first is not None else 0.0,
        ndcg=dcg / ideal if ideal else 0.0,
    )


def aggregate(results: list[CaseResult]) -> Metrics:
    n = len(results)
    if n == 0:
        return Metrics(cases=0, hits_at_1=0.0, hits_at_k=0.0, recall_at_k=0.0, mrr_at_10=0.0, ndcg_at_10=0.0)
    return Metrics(
        cases=n,
        hits_at_1=sum(r.hit_at_1 for r in results) / n,
        hits_at_k=sum(r.hit_at_k for r in results) / n,
        recall_at_k=sum(r.recall_at_k for r in results) / n,
        mrr_at_10=sum(r.reciprocal_rank for r in results) / n,
        ndcg_at_10=sum(r.ndcg for r in results) / n,
    )


def evaluate(kb: KnowledgeBase, cases: list[RetrievalCase], k: int = 5) -> RetrievalReport:
    """Search every query (top max(k, 10) pages, one hit per page) and score the ranking."""
    kb.search(cases[0].query if cases else "warm-up", k=1)  # builds the keyword index, loads the model
    results: list[CaseResult] = []
    timings: list[float] = []
    for case in cases:
        start = time.perf_counter()
        hits = kb.search(case.query, k=max(k, DEPTH))
        timings.append((time.perf_counter() - start) * 1000)
        results.append(score_case(case, [h.source for h in hits], k))
    corpora = sorted({r.corpus for r in results})
    ordered = sorted(timings)
    return RetrievalReport(
        k=k,
        overall=aggregate(results),
        per_corpus={c: aggregate([r for r in results if r.corpus == c]) for c in corpora},
        cases=results,
        latency_ms_mean=statistics.fmean(timings) if timings else 0.0,
        latency_ms_p95=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0,
    )


def build_eval_kb(home: Path, embedder: Embedder, guides: Path | None = None) -> KnowledgeBase:
    """A fresh embedded Chroma under `home` holding the bundled guidance and the GSoC guides (`guides`, default
    `gsoc_guides` in the shared data folder) in one collection."""
    import chromadb

    from evals.data import shared_data
    from facilitator.exceptions import KnowledgeError
    from facilitator.knowledge.index import KnowledgeBase

    guides = guides or shared_data() / "gsoc_guides"
    if not guides.is_dir():
        raise KnowledgeError(f"{guides} is missing: set COMENTOR_DATA_DIR to the shared data folder")
    home.mkdir(parents=True, exist_ok=True)
    client = chromadb.PersistentClient(
        path=str(home / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    kb = KnowledgeBase(client, embedder, collection_prefix="retrieval-eval")
    for report in (kb.add_bundled(), kb.add([guides], relative_to=guides.parents[1])):
        if report.errors:
            raise KnowledgeError("; ".join(report.errors))
    return kb


def format_report(report: RetrievalReport) -> str:
    k = report.k
    header = f"{'corpus':<10}{'n':>4}{'hits@1':>9}{f'hits@{k}':>9}{f'recall@{k}':>11}{'MRR@10':>9}{'nDCG@10':>9}"
    rows = [header, "-" * len(header)]
    for name, m in [("all", report.overall), *report.per_corpus.items()]:
        rows.append(
            f"{name:<10}{m.cases:>4}{m.hits_at_1:>9.3f}{m.hits_at_k:>9.3f}{m.recall_at_k:>11.3f}"
            f"{m.mrr_at_10:>9.3f}{m.ndcg_at_10:>9.3f}"
        )
    rows.append(f"search latency: mean {report.latency_ms_mean:.1f} ms, p95 {report.latency_ms_p95:.1f} ms")
    return "\n".join(rows)


def format_misses(report: RetrievalReport) -> str:
    """The cases whose first relevant page is not at rank 1, with where each relevant page landed."""
    lines = []
    for r in report.cases:
        if not r.hit_at_1:
            got = ", ".join(f"{Path(p).name}@{rank}" for p, rank in r.ranks.items())
            top = ", ".join(Path(s).name for s in r.retrieved[:3])
            lines.append(f"{r.id} [{r.corpus}] {r.query[:70]!r}\n    relevant: {got}\n    top3: {top}")
    return "\n".join(lines)


def main() -> None:
    import argparse

    from facilitator.knowledge.embeddings import LocalEmbedder
    from facilitator.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="list the queries not answered at rank 1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="comentor-retrieval-") as tmp:
        start = time.perf_counter()
        kb = build_eval_kb(Path(tmp), LocalEmbedder(Settings().home_dir / "models"))
        ingest = time.perf_counter() - start
        report = evaluate(kb, load_queries(args.dataset), k=args.k)
        print(format_report(report))
        print(f"ingest: {ingest:.1f} s for {kb.count()} chunks")
        if args.misses:
            print(format_misses(report))


if __name__ == "__main__":
    main()
