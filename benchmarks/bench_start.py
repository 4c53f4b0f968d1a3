"""Whole-process timings: `comentor summarize` of real 600-turn meetings, cold knowledge commands, `comentor ui`."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, meetings

HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "onnxruntime", "gradio", "langchain_openai")


def env_for(home: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE (set on some build machines) would make every process compile ~1,000 modules from
    # source (about 2 s): the install skips byte-compiling (Makefile), so a user's first run writes the .pyc files.
    skipped = ("OPENAI_", "COMENTOR_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env.update(
        COMENTOR_HOME=str(home),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


def comentor(home: Path, *args: str, importtime: bool = False) -> tuple[float, subprocess.CompletedProcess[str]]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "ui.cli", *args]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env_for(home), cwd=ROOT, timeout=900)
    return time.perf_counter() - start, done


def heavy_imports(stderr: str) -> list[str]:
    """Top-level heavy packages named in `-X importtime` output."""
    found = set()
    for line in stderr.splitlines():
        if line.startswith("import time:"):
            module = line.rsplit("|", 1)[-1].strip()
            if module.split(".")[0] in HEAVY:
                found.add(module.split(".")[0])
    return sorted(found)


def summarize(home: Path, work: Path, runs: int = 3) -> list[dict[str, Any]]:
    rows = []
    for meeting in meetings():
        path = work / f"{meeting['meeting_id']}.json"
        turns = [{"speaker": t["speaker"], "text": t["content"]} for t in meeting["meeting_transcripts"]]
        path.write_text(json.dumps({"date": "2026-03-04", "turns": turns}), encoding="utf-8")
        times = []
        for _ in range(runs):
            seconds, done = comentor(home, "summarize", str(path))
            if done.returncode != 0:
                raise RuntimeError(f"summarize failed: {done.stderr[-500:]}")
            times.append(seconds)
        _, traced = comentor(home, "summarize", str(path), importtime=True)
        rows.append(
            {
                "meeting": meeting["meeting_id"],
                "turns": len(turns),
                "median_s": statistics.median(times),
                "runs": times,
                "heavy_imports": heavy_imports(traced.stderr),
            }
        )
    return rows


def knowledge_commands(home: Path) -> dict[str, Any]:
    """First indexing of the bundled guidance, re-adding it unchanged, and one search, each as a new process."""
    first, done = comentor(home, "knowledge", "add", "--bundled")
    if done.returncode != 0:
        raise RuntimeError(f"knowledge add failed: {done.stderr[-500:]}")
    again, done = comentor(home, "knowledge", "add", "--bundled")
    search, found = comentor(home, "knowledge", "search", "how often should we meet?", "--format", "json")
    _, traced = comentor(home, "knowledge", "search", "how often should we meet?", importtime=True)
    return {
        "add_bundled_first_s": first,
        "add_bundled_unchanged_s": again,
        "unchanged_output": done.stdout.strip(),
        "search_process_s": search,
        "search_ok": found.returncode == 0,
        "search_heavy_imports": heavy_imports(traced.stderr),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ui_available() -> str | None:
    """None when `comentor ui` can be benchmarked, else why not."""
    if not (ROOT / "ui" / "app.py").exists():
        return "ui/app.py does not exist yet"
    from ui.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    return None if "ui" in names else "the `comentor ui` command does not exist yet"


def rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ui_start(home: Path, runs: int = 3) -> dict[str, Any]:
    """`comentor ui` with an existing index: seconds until its page answers 200, and its memory then."""
    starts, rss = [], []
    for _ in range(runs):
        port = _free_port()
        command = [sys.executable, "-m", "ui.cli", "ui", "--port", str(port)]
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=env_for(home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            ready = None
            while time.perf_counter() - start < 120 and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                        if response.status == 200:
                            ready = time.perf_counter() - start
                            break
                except OSError:
                    time.sleep(0.05)
            if ready is None:
                raise RuntimeError("comentor ui did not answer within 120 s")
            starts.append(ready)
            rss.append(rss_of(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=30)
    port = _free_port()
    worker = subprocess.run(
        [sys.executable, "-m", "benchmarks.workers", "ui", str(home), str(port)],
        capture_output=True,
        text=True,
        env=env_for(home),
        cwd=ROOT,
        timeout=600,
    )
    loaded = (
        json.loads(worker.stdout.strip().splitlines()[-1])
        if worker.returncode == 0
        else {"error": worker.stderr[-400:]}
    )
    return {
        "ready_s": starts,
        "ready_median_s": statistics.median(starts),
        "rss_ready_mb": rss,
        "with_embedder": loaded,
    }
