"""`make bench`: run every benchmark, then write benchmarks/results/ (performance.md, results.json, PNG plots).

python -m benchmarks.run [--quick] [--skip tokens,overhead,indexing,start,ui,matching]

Timings depend on the machine and on what else runs on it; the ratios measured side by side in one run (prompt
tokens, ONNX vs sentence-transformers) depend on it much less. Everything runs under a temporary COMENTOR_HOME.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_matching, bench_overhead, bench_start, bench_streaming, bench_tokens
from benchmarks.common import RESULTS, ROOT, conversation_lines

TARGETS = {
    "growth": 1.3,
    "naive_ratio": 8.0,
    "overhead_p95_ms": 30.0,
    "offline_p95_ms": 50.0,
    "chunks_per_s": 300.0,
    "readd_s": 1.0,
    "summarize_s": 1.5,
    "ui_ready_s": 5.0,
    "ui_rss_mb": 1024.0,
    "first_token_ms": 100.0,
    "match_1000_s": 10.0,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def embed_worker(kind: str, models: Path, home: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.workers", "embed", kind, str(models)],
        capture_output=True,
        text=True,
        env=bench_start.env_for(home),
        cwd=ROOT,
        timeout=1800,
    )
    if done.returncode != 0:
        return {"kind": kind, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool, skip: set[str]) -> dict[str, Any]:
    import chromadb

    from facilitator.knowledge import KnowledgeBase
    from facilitator.knowledge.embeddings import OnnxMiniLMEmbedder, export_minilm_onnx, minilm_path

    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load_before": os.getloadavg(),
        "quick": quick,
        "targets": TARGETS,
    }
    home = Path(tempfile.mkdtemp(prefix="comentor-bench-"))
    os.environ["COMENTOR_HOME"] = str(home)
    models = home / "models"
    embedder = OnnxMiniLMEmbedder(models)

    log("exporting MiniLM to ONNX (first use)")
    start = time.perf_counter()
    export_minilm_onnx(minilm_path(), embedder.model_file)
    results["onnx_export_s"] = time.perf_counter() - start

    if "indexing" not in skip:
        log("embedders side by side (child processes)")
        # Alternating rounds, best of each: the machine's load changes from minute to minute.
        rounds = [embed_worker(kind, models, home) for _ in range(2) for kind in ("onnx", "sentence-transformers")]
        results["embedder_rounds"] = rounds
        results["embedders"] = {
            kind: max((r for r in rounds if r["kind"] == kind), key=lambda r: float(r.get("chunks_per_s", 0.0)))
            for kind in ("onnx", "sentence-transformers")
        }

    client = chromadb.PersistentClient(
        path=str(home / "bench-chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    log("indexing the real corpus (bundled guidance + GSoC guides) through KnowledgeBase.add")
    start = time.perf_counter()
    corpus = bench_overhead.real_corpus(client, embedder)
    index_s = time.perf_counter() - start
    start = time.perf_counter()
    again = KnowledgeBase(client, embedder, collection_prefix="bench-real")
    from benchmarks.common import GSOC

    unchanged = len(again.add_bundled().unchanged) + len(again.add([GSOC]).unchanged)
    results["indexing"] = {
        "chunks": len(corpus["ids"]),
        "seconds": index_s,
        "chunks_per_s": len(corpus["ids"]) / index_s,
        "readd_unchanged_s": time.perf_counter() - start,
        "readd_unchanged_files": unchanged,
    }

    if "tokens" not in skip:
        log("prompt tokens: bounded vs naive over a real session")
        guidance = KnowledgeBase(client, embedder, collection_prefix="bench-guidance")
        guidance.add_bundled()
        tokens = bench_tokens.run(guidance, home, turns=100 if quick else 200)
        bench_tokens.plot(tokens, RESULTS / "tokens_per_call.png")
        results["tokens"] = tokens

    if "overhead" not in skip:
        sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
        lines = conversation_lines(60 if quick else 120)
        rows, sessions = [], {}
        for size in sizes:
            log(f"knowledge base of {size} chunks")
            start = time.perf_counter()
            kb = bench_overhead.build_kb(client, embedder, corpus, size)
            build_s = time.perf_counter() - start
            log(f"sessions over {size} chunks")
            llm = bench_overhead.run_session(kb, home, lines, brain="llm", label=f"llm-{size}")
            offline = bench_overhead.run_session(kb, home, lines, brain="offline", label=f"offline-{size}")
            sessions[size] = {"llm": llm, "offline": offline}
            rows.append(
                {
                    "chunks": size,
                    "build_s": build_s,
                    "llm_p50": llm["all"]["p50"],
                    "llm_p95": llm["all"]["p95"],
                    "llm_move_p95": llm["with_move"]["p95"],
                    "offline_p50": offline["all"]["p50"],
                    "offline_p95": offline["all"]["p95"],
                    "offline_move_p95": offline["with_move"]["p95"],
                    "lines": llm["lines"],
                }
            )
        log("a long session over 10,000 chunks (overhead vs session length)")
        kb = bench_overhead.build_kb(client, embedder, corpus, 10_000)
        long_lines = conversation_lines(150 if quick else 400)
        long_session = bench_overhead.run_session(kb, home, long_lines, brain="llm", label="llm-10000-long")
        bench_overhead.plot(rows, long_session, RESULTS / "overhead_scale.png")
        results["overhead"] = {
            "scale": rows,
            "sessions": {
                str(k): {b: {x: v[x] for x in ("all", "with_move", "lines")} for b, v in s.items()}
                for k, s in sessions.items()
            },
            "by_session_length": bench_overhead.by_session_length(long_session["per_line"]),
            "long_session": {k: long_session[k] for k in ("all", "with_move", "lines")},
        }

    if "start" not in skip:
        log("whole processes: summarize, knowledge commands")
        cli_home = home / "cli"
        cli_home.mkdir()
        (cli_home / "models").mkdir()
        os.link(embedder.model_file, cli_home / "models" / embedder.model_file.name)  # no second export
        work = home / "transcripts"
        work.mkdir()
        results["summarize"] = bench_start.summarize(cli_home, work, runs=2 if quick else 3)
        results["knowledge_cli"] = bench_start.knowledge_commands(cli_home)
        if "ui" not in skip:
            why_not = bench_start.ui_available()
            if why_not:
                results["ui"] = {"skipped": why_not}
            else:
                log("comentor ui start and memory")
                try:
                    results["ui"] = bench_start.ui_start(cli_home, runs=2 if quick else 3)
                except Exception as e:  # report, do not lose the other figures
                    results["ui"] = {"error": f"{e.__class__.__name__}: {e}"}
    if "ui" in skip or "start" in skip:
        results["streaming"] = {"skipped": "skipped on request"}
    elif why_not := bench_streaming.available():
        results["streaming"] = {"skipped": why_not}
    else:
        log("streaming: first token in the browser")
        try:
            results["streaming"] = bench_streaming.run(home / "cli", questions=5 if quick else 10)
        except Exception as e:  # report, do not lose the other figures
            results["streaming"] = {"skipped": f"failed: {e.__class__.__name__}: {e}"}
    if "matching" not in skip:
        log("matching 1,000 people (comentor match)")
        results["matching"] = bench_matching.run(embedder, 1000)
    results["load_after"] = os.getloadavg()
    return results


def _fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**yes**" if ok else "**no**")


def report(r: dict[str, Any]) -> str:
    t = r["targets"]
    rows: list[tuple[str, str, str]] = []
    tok = r.get("tokens")
    if tok:
        rows.append(
            (
                f"prompt size at turn {tok['turns']} <= {t['growth']}x turn 20",
                f"{tok['growth_last_vs_20']:.2f}x ({_fmt(tok['tokens_per_call_last'], 0)} vs "
                f"{_fmt(tok['tokens_per_call_turn20'], 0)} tokens per call)",
                _met(tok["growth_last_vs_20"] <= t["growth"]),
            )
        )
        rows.append(
            (
                f">= {t['naive_ratio']:.0f}x fewer prompt tokens than naive full history over {tok['turns']} turns",
                f"naive chat memory: {tok['chat_over_bounded']:.1f}x; naive full transcript in our prompt: "
                f"{tok['transcript_over_bounded']:.1f}x",
                f"{_met(tok['chat_over_bounded'] >= t['naive_ratio'])} (chat memory) / "
                f"{_met(tok['transcript_over_bounded'] >= t['naive_ratio'])} (transcript)",
            )
        )
    ov = r.get("overhead")
    if ov:
        at10k = next(row for row in ov["scale"] if row["chunks"] == 10_000)
        rows.append(
            (
                f"overhead per turn p95 <= {t['overhead_p95_ms']:.0f} ms, 10,000 chunks",
                f"{_fmt(at10k['llm_p95'])} ms (p50 {_fmt(at10k['llm_p50'])}; turns with a move p95 "
                f"{_fmt(at10k['llm_move_p95'])})",
                _met(at10k["llm_p95"] <= t["overhead_p95_ms"]),
            )
        )
        rows.append(
            (
                f"offline facilitator end to end p95 <= {t['offline_p95_ms']:.0f} ms, 10,000 chunks",
                f"{_fmt(at10k['offline_p95'])} ms (p50 {_fmt(at10k['offline_p50'])}; turns with a move p95 "
                f"{_fmt(at10k['offline_move_p95'])})",
                _met(at10k["offline_p95"] <= t["offline_p95_ms"]),
            )
        )
    stream = r["streaming"]
    if "stats" in stream:
        rows.append(
            (
                f"first token in the browser <= {t['first_token_ms']:.0f} ms after the model's",
                f"p95 {_fmt(stream['stats']['p95'])} ms, max {_fmt(stream['stats']['max'])} ms over "
                f"{stream['stats']['n']} streamed answers (headless chromium; first-token delay "
                f"{stream['first_token_delay_s']} s)",
                _met(stream["stats"]["p95"] <= t["first_token_ms"]),
            )
        )
    else:
        rows.append(("first token in the browser <= 100 ms after the model's", stream["skipped"], _met(None)))
    ui = r.get("ui")
    if ui and "ready_median_s" in ui:
        rows.append(
            (
                f"`comentor ui` ready <= {t['ui_ready_s']:.0f} s with an existing index",
                f"{_fmt(ui['ready_median_s'], 2)} s (median of {len(ui['ready_s'])})",
                _met(ui["ready_median_s"] <= t["ui_ready_s"]),
            )
        )
        loaded = ui.get("with_embedder", {})
        if "rss_embedder_mb" in loaded:
            rows.append(
                (
                    "UI process with the local embedder loaded < 1 GB RSS",
                    f"{_fmt(loaded['rss_embedder_mb'], 0)} MB after a search loaded it "
                    f"({_fmt(loaded['rss_ready_mb'], 0)} MB before; peak {_fmt(loaded['peak_rss_mb'], 0)} MB); "
                    "`comentor ui` at ready: "
                    f"{_fmt(max(ui['rss_ready_mb']), 0)} MB",
                    _met(loaded["rss_embedder_mb"] < t["ui_rss_mb"]),
                )
            )
    elif ui:
        rows.append(("`comentor ui` ready, UI memory", ui.get("skipped") or ui.get("error", ""), _met(None)))
    summ = r.get("summarize")
    if summ:
        worst = max(row["median_s"] for row in summ)
        heavy = sorted({m for row in summ for m in row["heavy_imports"]})
        rows.append(
            (
                f"`comentor summarize` of a real 600-turn meeting <= {t['summarize_s']} s (whole process)",
                f"{_fmt(worst, 2)} s (slowest of {len(summ)} meetings, median of runs); heavy imports: "
                f"{', '.join(heavy) or 'none'}",
                _met(worst <= t["summarize_s"]),
            )
        )
    emb = r.get("embedders", {}).get("onnx", {})
    if "chunks_per_s" in emb:
        rows.append(
            (
                f"indexing >= {t['chunks_per_s']:.0f} chunks/s with the local embedder",
                f"{_fmt(emb['chunks_per_s'])} chunks/s embedding; {_fmt(r['indexing']['chunks_per_s'])} chunks/s "
                "through `KnowledgeBase.add`",
                _met(emb["chunks_per_s"] >= t["chunks_per_s"]),
            )
        )
    idx = r["indexing"]
    cli = r.get("knowledge_cli", {})
    readd = f"{_fmt(idx['readd_unchanged_s'], 2)} s in process"
    if cli:
        readd += f"; {_fmt(cli['add_bundled_unchanged_s'], 2)} s as a `comentor knowledge add --bundled` process"
    rows.append((f"re-adding an unchanged corpus < {t['readd_s']:.0f} s", readd, _met(idx["readd_unchanged_s"] < 1)))

    match = r.get("matching")
    if match:
        rows.append(
            (
                f"`comentor match` of {match['people']:,} people scored and paired <= {t['match_1000_s']:.0f} s",
                f"{_fmt(match['score_and_pair_s'], 2)} s (scoring {_fmt(match['score']['wall_s'], 2)} s, matching "
                f"{_fmt(match['pair']['wall_s'], 2)} s; circles of 4 {_fmt(match['circles_of_4']['wall_s'], 2)} s)",
                _met(match["score_and_pair_s"] <= t["match_1000_s"]),
            )
        )

    out = ["## Performance", ""]
    out.append(
        f"Measured by `make bench` on {r['when'][:10]} ({r['machine']['cpus']} cores, Python "
        f"{r['machine']['python']}; load average before {r['load_before'][0]:.1f}, after {r['load_after'][0]:.1f})."
        + (" Quick mode: smaller sizes." if r["quick"] else "")
    )
    out += ["", "| target | measured | met? |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if tok:
        out += [
            "",
            f"Prompt tokens ({tok['tokenizer']}), {tok['turns']} real AMI meeting turns through the engine with the "
            f"LLM brain against the fake server, a move asked every {tok['every']} turns "
            f"({tok['calls']['bounded']} model calls per session):",
            "",
            "| context | tokens per call near the last turn | total prompt tokens | vs bounded |",
            "|---|---:|---:|---:|",
        ]
        for style, label in (
            ("bounded", "bounded (comentor)"),
            ("transcript", "naive: full transcript"),
            ("chat", "naive: chat memory"),
        ):
            total = tok["totals"][style]
            out.append(
                f"| {label} | {_fmt(tok['tokens_per_call_last_by_style'][style], 0)} | {total:,} | "
                f"{total / tok['totals']['bounded']:.1f}x |"
            )
        out += ["", "![prompt tokens per call](tokens_per_call.png)"]
    if ov:
        out += [
            "",
            "Overhead per input line in ms (LLM brain: model time excluded; offline: end to end), "
            f"{ov['scale'][0]['lines']} input lines of a real meeting:",
            "",
            "| chunks | LLM p50 | LLM p95 | LLM p95, lines with a move | offline p50 | offline p95 | build s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in ov["scale"]:
            out.append(
                f"| {row['chunks']:,} | {_fmt(row['llm_p50'])} | {_fmt(row['llm_p95'])} | {_fmt(row['llm_move_p95'])} "
                f"| {_fmt(row['offline_p50'])} | {_fmt(row['offline_p95'])} | {_fmt(row['build_s'])} |"
            )
        out += [
            "",
            "By session length (10,000 chunks, LLM brain, model time excluded):",
            "",
            "| turns | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        out += [
            f"| {b['turns']} | {_fmt(b['p50'])} | {_fmt(b['p95'])} | {_fmt(b['max'])} |"
            for b in ov["by_session_length"]
        ]
        out += ["", "![overhead scale](overhead_scale.png)"]
    embs = r.get("embedders", {})
    if embs:
        out += [
            "",
            "Local embedders side by side (fresh processes, same real chunks; best of 2 alternating rounds):",
            "",
            "| embedder | load s | chunks/s | query ms | peak RSS MB | torch imported |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for kind, e in embs.items():
            if "chunks_per_s" in e:
                out.append(
                    f"| {kind} | {_fmt(e['load_s'], 2)} | {_fmt(e['chunks_per_s'])} | {_fmt(e['query_ms'], 1)} "
                    f"| {_fmt(e['rss_mb'], 0)} | {'yes' if e['torch_imported'] else 'no'} |"
                )
        out.append(f"\nThe ONNX model is exported once per installation ({_fmt(r['onnx_export_s'])} s) and cached.")
    if cli:
        out += [
            "",
            f"Cold processes: `comentor knowledge search` {_fmt(cli['search_process_s'], 2)} s (heavy imports: "
            f"{', '.join(cli['search_heavy_imports']) or 'none'}); first `knowledge add --bundled` "
            f"{_fmt(cli['add_bundled_first_s'], 2)} s.",
        ]
    out += [
        "",
        "Raw figures: `benchmarks/results/results.json`. Run: `make bench` (about 10 minutes on 2 cores; "
        "`python -m benchmarks.run --quick` for a shorter run).",
    ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick look")
    parser.add_argument("--skip", default="", help="comma-separated: tokens, overhead, indexing, start, ui, matching")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = run(args.quick, {s.strip() for s in args.skip.split(",") if s.strip()})
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    text = report(results)
    (RESULTS / "performance.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
