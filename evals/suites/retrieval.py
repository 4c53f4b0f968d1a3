"""Retrieval: paraphrased queries over the bundled guidance and the GSoC guides (hits@k, recall@k, MRR, nDCG)."""

from __future__ import annotations

from evals.data import info, load_jsonl
from evals.retrieval import DATASET, RetrievalCase, evaluate
from evals.runner import CaseResult, EvalContext, SuiteResult

NAME = "retrieval"
DESCRIPTION = "70 paraphrased queries with labelled relevant pages; page-level hits@1/5, recall@5, MRR@10, nDCG@10"
LLM_CASSETTE = False
K = 5
OVERALL_METRICS = ("hits_at_1", "hits_at_5", "recall_at_5", "mrr_at_10", "ndcg_at_10")
GSOC_METRICS = ("gsoc_hits_at_5", "gsoc_mrr_at_10")


def run(ctx: EvalContext) -> SuiteResult:
    cases = load_jsonl(DATASET, RetrievalCase)
    kb, notes = ctx.knowledge()
    notes = list(notes)
    gsoc_missing = not (ctx.data / "gsoc_guides").is_dir()
    if gsoc_missing:
        cases = [c for c in cases if c.corpus != "gsoc"]
        notes.append("GSoC queries skipped (the shared data folder is missing)")
    ctx.progress(0, len(cases))
    report = evaluate(kb, cases, k=K)
    ctx.progress(len(cases), len(cases))
    o = report.overall
    metrics = {
        "hits_at_1": o.hits_at_1,
        "hits_at_5": o.hits_at_k,
        "recall_at_5": o.recall_at_k,
        "mrr_at_10": o.mrr_at_10,
        "ndcg_at_10": o.ndcg_at_10,
        "latency_ms_mean": report.latency_ms_mean,
    }
    for corpus, m in report.per_corpus.items():
        metrics[f"{corpus}_hits_at_5"] = m.hits_at_k
        metrics[f"{corpus}_mrr_at_10"] = m.mrr_at_10
    rows = [
        {
            "corpus": name,
            "n": m.cases,
            "hits@1": m.hits_at_1,
            "hits@5": m.hits_at_k,
            "recall@5": m.recall_at_k,
            "MRR@10": m.mrr_at_10,
            "nDCG@10": m.ndcg_at_10,
        }
        for name, m in [("all", o), *report.per_corpus.items()]
    ]
    result = SuiteResult(
        name=NAME,
        description=DESCRIPTION,
        metrics=metrics,
        cases=[
            CaseResult(
                id=r.id,
                passed=r.hit_at_k,
                detail={
                    "query": r.query,
                    "corpus": r.corpus,
                    "rr": round(r.reciprocal_rank, 3),
                    "top": r.retrieved[:3],
                },
            )
            for r in report.cases
        ],
        tables={"per_corpus": rows},
        datasets=[info("retrieval", DATASET, len(cases))],
        notes=notes,
    )
    if gsoc_missing:
        why = f"{ctx.data / 'gsoc_guides'} is missing"
        result.skip_metrics(GSOC_METRICS, why)
        result.skip_metrics(OVERALL_METRICS, f"{why}; measured on the bundled-guidance queries only")
    return result
