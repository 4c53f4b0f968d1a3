"""A first `make run` on this machine, timed: `make install` into a new virtual environment, then the first
`comentor knowledge add --bundled` (which exports the ONNX embedder) and `comentor ui` until it answers.

    python -m benchmarks.bench_setup                 # make install + first run, in a temporary folder
    python -m benchmarks.bench_setup --target dev    # make dev (also the test tools) instead of make install
    python -m benchmarks.bench_setup --no-first-run --json benchmarks/results/setup.json
    git show HEAD~3:Makefile > /tmp/old.mk && python -m benchmarks.bench_setup --makefile /tmp/old.mk  # compare

Not part of `make bench` or CI: it downloads every dependency (several hundred MB) and takes minutes. It uses pip as
configured on this machine (its cache, any find-links or mirror), which it records, with the machine's load: on a
busy machine the wall times grow while the CPU times stay close. Nothing outside the temporary folder is touched
(the venv is `-e` installed from this checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STEP = re.compile(r"^comentor: (\[\d+/\d+\].*|installing the dev tools.*)$")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pip_setup() -> dict[str, Any]:
    """What this machine's pip brings to a 'fresh' install: its HTTP cache, find-links, extra indexes, constraints."""
    pip = [sys.executable, "-m", "pip"]
    info = subprocess.run([*pip, "cache", "info"], capture_output=True, text=True, check=False).stdout
    config = subprocess.run([*pip, "config", "list"], capture_output=True, text=True, check=False).stdout
    cache = re.search(r"Package index page cache size: (.+)", info)
    wheels = re.search(r"Locally built wheels size: (.+)", info)
    return {
        "http_cache": cache.group(1).strip() if cache else "unknown",
        "built_wheels_cache": wheels.group(1).strip() if wheels else "unknown",
        "config": [line for line in config.splitlines() if "cert" not in line],
        "env": {k: v for k, v in os.environ.items() if k.startswith("PIP_") and "CERT" not in k},
    }


def _timed_make(target: str, venv: Path, makefile: Path | None = None) -> dict[str, Any]:
    """`make TARGET VENV=venv`, each progress line timestamped: the seconds from one step's line to the next."""
    command = ["make", "--no-print-directory", *(["-f", str(makefile)] if makefile else []), target, f"VENV={venv}"]
    start, cpu = time.perf_counter(), _cpu()
    steps: list[dict[str, Any]] = []
    output: list[str] = []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            output.append(line)
            match = STEP.match(line)
            if match:
                now = time.perf_counter() - start
                steps.append({"step": match.group(1), "start_s": round(now, 1)})
                print(f"  {now:6.1f} s  {line}", flush=True)
        code = proc.wait()
    total = time.perf_counter() - start
    ends = [step["start_s"] for step in steps[1:]] + ([total] if steps else [])
    for step, end in zip(steps, ends, strict=True):
        step["seconds"] = round(end - step["start_s"], 1)
    noise = [line for line in output if not STEP.match(line)]
    return {
        "command": " ".join(command),
        "returncode": code,
        "seconds": round(total, 1),
        "cpu_seconds": round(_cpu() - cpu, 1),
        "steps": steps,
        "other_output_lines": len(noise),
        "other_output_sample": noise[:10],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_run(venv: Path, home: Path, timeout: float = 900.0) -> dict[str, Any]:
    """The rest of a first `make run`: index the bundled guidance (exports the embedder), then the web app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COMENTOR_"))}
    env.update(COMENTOR_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False", ANONYMIZED_TELEMETRY="False")
    comentor = str(venv / "bin" / "comentor")
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [comentor, "knowledge", "add", "--bundled"], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    index_s = time.perf_counter() - start
    result: dict[str, Any] = {
        "knowledge_add_s": round(index_s, 1),
        "knowledge_add_cpu_s": round(_cpu() - cpu, 1),
        "knowledge_add_returncode": done.returncode,
        "onnx_exported": any((home / "models").glob("*.onnx")),
    }
    port = _free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [comentor, "ui", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while time.perf_counter() - start < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        result["ui_ready_s"] = round(time.perf_counter() - start, 1)
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        if "ui_ready_s" not in result:
            result["ui_error"] = proc.stderr.read().decode()[-500:] if proc.poll() is not None and proc.stderr else ""
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return result


def _size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["install", "dev"], default="install", help="the make target to time")
    parser.add_argument("--no-first-run", action="store_true", help="time the install only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--makefile", type=Path, help="another Makefile (e.g. an older one, to compare)")
    args = parser.parse_args(argv)
    if shutil.which("make") is None:
        print("bench_setup: needs make", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="comentor-setup-"))
    venv, home = folder / "venv", folder / "home"
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "load_before": os.getloadavg()},
        "pip": _pip_setup(),
    }
    print(f"bench_setup: make {args.target} into {venv}", flush=True)
    try:
        results["install"] = install = _timed_make(args.target, venv, args.makefile)
        if install["returncode"] == 0:
            packages = subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            names = {p["name"].lower() for p in json.loads(packages or "[]")}
            results["venv"] = {"packages": len(names), "size_mb": _size_mb(venv), "torch": "torch" in names}
            if not args.no_first_run:
                print("bench_setup: first run (knowledge add --bundled, then comentor ui until it answers)", flush=True)
                results["first_run"] = _first_run(venv, home)
        results["machine"]["load_after"] = os.getloadavg()
    finally:
        if args.keep:
            print(f"bench_setup: kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    first = results.get("first_run", {})
    total = results["install"]["seconds"] + first.get("knowledge_add_s", 0) + first.get("ui_ready_s", 0)
    results["first_make_run_s"] = round(total, 1)
    print(json.dumps(results, indent=1))
    print(f"bench_setup: first `make run` ready after {total:.0f} s (install {results['install']['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0 if results["install"]["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
