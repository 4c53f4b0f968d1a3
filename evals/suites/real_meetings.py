"""Real meetings nobody here wrote: QMSum decisions (AMI) and ELITR who/when questions — coverage figures."""

from __future__ import annotations

import tempfile
from pathlib import Path

from evals.data import info
from evals.real_meetings import ELITR_ZIP, QMSUM_FILE, evaluate_elitr, evaluate_qmsum, unzip_elitr
from evals.runner import CaseResult, EvalContext, SuiteResult

NAME = "real_meetings"
DESCRIPTION = "3 AMI meetings (QMSum decision queries) and 3 ELITR meetings (ELITR-Bench owner/deadline questions)"
LLM_CASSETTE = False
QMSUM_METRICS = ("qmsum_errors", "qmsum_sentence_share", "qmsum_word_recall", "qmsum_random_sentence_share")
ELITR_METRICS = ("elitr_selected", "elitr_answered", "elitr_errors")


def run(ctx: EvalContext) -> SuiteResult:
    qmsum_path, elitr_zip = ctx.data / QMSUM_FILE, ctx.data / ELITR_ZIP
    result = SuiteResult(name=NAME, description=DESCRIPTION)
    if ctx.llm:
        result.notes.append("the offline summarizer is measured (real meetings are not replayed through a model)")
    if not qmsum_path.is_file() and not elitr_zip.is_file():
        result.skipped = True
        result.notes.append(f"skipped: {ctx.data} has neither {QMSUM_FILE} nor {ELITR_ZIP}")
        result.skip_metrics(QMSUM_METRICS + ELITR_METRICS, f"{ctx.data} has neither {QMSUM_FILE} nor {ELITR_ZIP}")
        return result
    ctx.progress(0, 2)
    if qmsum_path.is_file():
        meetings = evaluate_qmsum(qmsum_path, ctx.patterns)
        result.datasets.append(info("qmsum_ami", qmsum_path, len(meetings)))
        ok = [m for m in meetings if m.overlap is not None]
        n = max(len(ok), 1)
        result.metrics["qmsum_errors"] = float(sum(m.error is not None for m in meetings))
        result.metrics["qmsum_sentence_share"] = sum(m.overlap.sentence_share for m in ok if m.overlap) / n
        result.metrics["qmsum_word_recall"] = sum(m.overlap.recall for m in ok if m.overlap) / n
        result.metrics["qmsum_random_sentence_share"] = sum(m.baseline_share or 0.0 for m in ok) / n
        for m in meetings:
            result.cases.append(
                CaseResult(
                    id=f"qmsum/{m.meeting_id}",
                    passed=m.error is None
                    and m.overlap is not None
                    and m.overlap.sentence_share > (m.baseline_share or 0),
                    detail={
                        "turns": m.turns,
                        "decisions": len(m.decisions),
                        "error": m.error,
                        "sentence_share": m.overlap.sentence_share if m.overlap else None,
                        "random_share": m.baseline_share,
                    },
                )
            )
    else:
        result.notes.append(f"QMSum skipped: {qmsum_path} is missing")
        result.skip_metrics(QMSUM_METRICS, f"{qmsum_path} is missing")
    ctx.progress(1, 2)
    if elitr_zip.is_file():
        with tempfile.TemporaryDirectory(prefix="comentor-elitr-") as tmp:
            folder = unzip_elitr(elitr_zip, Path(tmp) / "elitr")
            elitr = evaluate_elitr(folder, ctx.patterns)
        result.datasets.append(info("elitr", elitr_zip, elitr.total_questions))
        result.metrics["elitr_selected"] = float(elitr.selected)
        result.metrics["elitr_answered"] = float(elitr.answered)
        result.metrics["elitr_errors"] = float(elitr.errors)
        for q in elitr.questions:
            result.cases.append(
                CaseResult(
                    id=f"elitr/{q.question.meeting_id}/{q.question.id}",
                    passed=q.answered,
                    detail={"question": q.question.question, "reason": q.reason},
                )
            )
        result.tables["elitr_reasons"] = [{"reason": k, "questions": v} for k, v in elitr.reasons().items()]
    else:
        result.notes.append(f"ELITR skipped: {elitr_zip} is missing")
        result.skip_metrics(ELITR_METRICS, f"{elitr_zip} is missing")
    ctx.progress(2, 2)
    return result
