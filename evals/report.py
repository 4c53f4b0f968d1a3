"""The eval report in three files: report.json (machine-readable), report.md, and one self-contained report.html
(plots as inline base64 PNG made with matplotlib; no external requests)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from evals.runner import EvalReport, SuiteResult


def write_report(report: EvalReport, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "report.json", folder / "report.md", folder / "report.html"]
    paths[0].write_text(
        json.dumps(report.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    paths[1].write_text(markdown(report), encoding="utf-8")
    paths[2].write_text(html_page(report), encoding="utf-8")
    return paths


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if value is None:
        return "-"
    return str(value)


def _md_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(_fmt(r.get(k)).replace("|", "/") for k in keys) + " |" for r in rows]
    return lines


def header_lines(report: EvalReport) -> list[str]:
    return [
        f"- created {report.created}, commit {report.git_commit or 'unknown'}, {report.seconds:.1f} s in all",
        f"- facilitator: {report.facilitator}; model: {report.model}; embedder: {report.embedder}",
        f"- prompts: {', '.join(report.prompts)}",
        f"- what these figures are: {report.measures}",
    ]


def markdown(report: EvalReport) -> str:
    lines = ["# comentor eval", "", *header_lines(report), ""]
    if report.regressions:
        lines += ["## Regressions", ""] + [f"- {r.describe()}" for r in report.regressions] + [""]
    if report.check_notes:
        lines += ["## Not checked against the baseline", ""] + [f"- {n}" for n in report.check_notes] + [""]
    lines += ["## Scores", "", "| suite | metric | value |", "|---|---|---|"]
    for s in report.suites:
        if s.skipped:
            lines.append(f"| {s.name} | skipped | - |")
        for k, v in s.metrics.items():
            lines.append(f"| {s.name} | {k} | {v:.3f} |")
    for s in report.suites:
        lines += ["", f"## {s.name}", "", s.description, ""]
        lines += [f"- note: {n}" for n in s.notes]
        lines += [f"- not comparable: {k} ({why})" for k, why in s.skipped_metrics.items()]
        lines += [f"- dataset {d.name}: {d.path} version {d.version} ({d.cases} cases)" for d in s.datasets]
        lines.append(f"- {s.seconds:.1f} s")
        for name, rows in s.tables.items():
            lines += ["", f"### {name}", "", *_md_table(rows)]
        failed = [c for c in s.cases if c.passed is False]
        lines += ["", f"{len(s.cases) - len(failed)} of {len(s.cases)} cases passed."]
        for c in failed[:40]:
            lines.append(f"- `{c.id}`: {json.dumps(c.detail, ensure_ascii=False, default=str)[:300]}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# HTML


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return f'<img alt="chart" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def score_chart(report: EvalReport) -> str:
    """Rates (metrics within 0..1, excluding counts) per suite, as horizontal bars."""
    items = [
        (f"{s.name}.{k}", v)
        for s in report.suites
        for k, v in s.metrics.items()
        if 0.0 <= v <= 1.0
        and not k.startswith("n_")
        and "misses" not in k
        and "stale" not in k
        and "fallbacks" not in k
        and not k.endswith(("_fp", "_errors"))
        and "_fp_" not in k
        and "_recall_" not in k
    ]
    if not items:
        return ""
    fig, ax = _figure(8.0, max(2.5, 0.22 * len(items)))
    ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("scores (0-1)")
    return _png(fig)


def suite_chart(s: SuiteResult) -> str:
    if s.name == "balance" and s.tables.get("latency"):
        rows = s.tables["latency"]
        fig, ax = _figure()
        values = [r["latency_turns"] if r["latency_turns"] is not None else 0 for r in rows]
        colors = [
            "#55a868" if r["latency_turns"] is not None and r["latency_turns"] <= r["within"] else "#c44e52"
            for r in rows
        ]
        ax.bar([r["session"] for r in rows], values, color=colors)
        ax.axhline(rows[0]["within"], color="grey", linestyle="--", label="allowed")
        ax.set_ylabel("turns from dominance to nudge")
        ax.tick_params(axis="x", labelsize=7, rotation=20)
        ax.legend()
        return _png(fig)
    if s.name == "assumptions" and s.tables.get("ledger"):
        rows = s.tables["ledger"]
        fig, ax = _figure()
        firsts = [list(r.values())[1] for r in rows]
        seconds = [list(r.values())[2] for r in rows]
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], firsts, width=0.4, label="first partner")
        ax.bar([x + 0.2 for x in xs], seconds, width=0.4, label="second partner")
        ax.set_xticks(list(xs), [r["session"] for r in rows], rotation=20, fontsize=7)
        ax.set_ylabel("challenges received")
        ax.set_title("challenge ledger per session")
        ax.legend()
        return _png(fig)
    if s.name == "injection" and s.tables.get("per_family"):
        rows = s.tables["per_family"]
        families = list(dict.fromkeys(r["family"] for r in rows))
        fig, ax = _figure()
        for shift, kind in ((-0.2, "offline"), (0.2, "llm")):
            rate = {r["family"]: r["ASR"] for r in rows if r["facilitator"] == kind}
            ax.bar([i + shift for i in range(len(families))], [rate.get(f, 0) for f in families], width=0.4, label=kind)
        ax.set_xticks(range(len(families)), families, fontsize=7, rotation=15)
        ax.set_ylim(0, 1)
        ax.set_ylabel("attack success rate")
        ax.set_title("attack success by family (LLM: gullible simulated model)")
        ax.legend()
        return _png(fig) + category_chart(s.tables.get("per_bipia_category", []))
    if s.name == "commitments" and s.tables.get("per_rule"):
        rows = [r for r in s.tables["per_rule"] if r["kind"] == "commitment"]
        fig, ax = _figure()
        labels = [f"{r['set']}:{r['rule']}" for r in rows]
        ax.bar(labels, [r["recall"] for r in rows], color="#8172b2")
        ax.set_ylim(0, 1)
        ax.set_ylabel("recall")
        ax.tick_params(axis="x", labelsize=6, rotation=45)
        ax.set_title("recall per commitment rule")
        return _png(fig)
    return ""


def category_chart(rows: list[dict[str, Any]]) -> str:
    """Planted-attack success per BIPIA category, for both facilitators (horizontal bars)."""
    if not rows:
        return ""
    fig, ax = _figure(7.0, max(2.5, 0.3 * len(rows)))
    ys = range(len(rows))
    for shift, key, label in ((-0.2, "offline ASR", "offline"), (0.2, "gullible LLM ASR", "llm")):
        ax.barh([y + shift for y in ys], [r.get(key) or 0 for r in rows], height=0.4, label=label)
    ax.set_yticks(list(ys), [r["category"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("attack success rate (planted, all positions)")
    ax.set_title("planted attack success by BIPIA category")
    ax.legend()
    return _png(fig)


def _html_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_page(report: EvalReport) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>comentor eval</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}table{border-collapse:collapse;"
        "margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}.bad{color:#b00}"
        "details{margin:.5em 0}</style></head><body><h1>comentor eval</h1><ul>",
        *[f"<li>{html.escape(line[2:])}</li>" for line in header_lines(report)],
        "</ul>",
    ]
    if report.regressions:
        parts.append("<h2 class='bad'>Regressions</h2><ul>")
        parts += [f"<li class='bad'>{html.escape(r.describe())}</li>" for r in report.regressions]
        parts.append("</ul>")
    if report.check_notes:
        parts.append("<h2>Not checked against the baseline</h2><ul>")
        parts += [f"<li>{html.escape(n)}</li>" for n in report.check_notes]
        parts.append("</ul>")
    parts.append("<h2>Scores</h2>" + score_chart(report))
    for s in report.suites:
        parts.append(f"<h2>{html.escape(s.name)}</h2><p>{html.escape(s.description)}</p>")
        if s.skipped:
            parts.append("<p><b>skipped</b></p>")
        parts += [f"<p>note: {html.escape(n)}</p>" for n in s.notes]
        parts += [
            f"<p>not comparable: {html.escape(k)} ({html.escape(why)})</p>" for k, why in s.skipped_metrics.items()
        ]
        parts.append(
            "<ul>"
            + "".join(
                f"<li>dataset {html.escape(d.name)}: {html.escape(d.path)} version {d.version} ({d.cases} cases)</li>"
                for d in s.datasets
            )
            + f"<li>{s.seconds:.1f} s</li></ul>"
        )
        parts.append(_html_table([{"metric": k, "value": v} for k, v in s.metrics.items()]))
        parts.append(suite_chart(s))
        for name, rows in s.tables.items():
            parts.append(f"<h3>{html.escape(name)}</h3>{_html_table(rows)}")
        rows = [
            {"case": c.id, "passed": c.passed, "detail": json.dumps(c.detail, ensure_ascii=False, default=str)[:400]}
            for c in s.cases
        ]
        passed = sum(1 for c in s.cases if c.passed)
        parts.append(
            f"<details><summary>per-case results ({passed} of {len(s.cases)} passed)</summary>"
            f"{_html_table(rows)}</details>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
