"""Crashes: `kill -9` of an app process at random moments while it writes turns, and during a knowledge ingest.

    python -m reliability.crash [--turns 200] [--ingest-kills 5] [--seed 1] [--out reliability/results/crash.json]

Turn writes: a driver process (`python -m reliability.crash drive ...`) resumes one session through the real engine
(Facilitator.resume, LiveSession.say, the offline facilitator) and prints `ACK <index>` after each turn is committed.
The parent kills it with SIGKILL after a random delay, checks the database (`PRAGMA integrity_check`, consecutive turn
indices, every acknowledged turn present with its text), and starts a new driver that resumes the session, until
`--turns` turns are stored. Then the session is resumed and ended once more.

Ingest: `comentor knowledge add --bundled` once, then `comentor knowledge add <GSoC guides>` killed with SIGKILL at
random moments; after each kill `comentor knowledge search` must still answer and the bundled pages must be intact.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[1]
PAIR_FILE = ROOT / "examples" / "pairs" / "ana-ben.yaml"
GSOC = ROOT.parent / "shared" / "data" / "gsoc_guides"
SPEAKERS = ("ana", "ben")
PHRASES = (
    "I will send you the draft by Friday.",
    "Honestly, I'm too old for TikTok.",
    "Could you walk me through how you plan the week?",
    "We agreed to meet every two weeks.",
    "That makes sense; let me try it on the campus campaign.",
)


def turn_text(index: int) -> str:
    """The text of turn `index` (the same in every process, so the parent can check it)."""
    return f"turn {index}: {PHRASES[index % len(PHRASES)]}"


# ------------------------------------------------------------------------------------------------ the driver
def drive(database_url: str, session_id: str, total: int, speaker: str | None = None, gate: Path | None = None) -> None:
    """Resume `session_id` and say turns until `total` are stored; `ACK <index>` once each is committed.

    With `speaker`, say `total` turns as that partner whatever else is stored (for two concurrent processes). With
    `gate`, touch `<gate>.<speaker>.ready` once resumed and wait for `gate` to exist before the first turn, so that
    two processes start writing together however long each took to import.
    """
    from facilitator.engine import Facilitator
    from facilitator.store import Store

    fac = Facilitator.offline(Store(database_url))
    live = fac.resume(session_id)
    print(f"RESUMED {len(live.turns)}", flush=True)
    if gate is not None:
        Path(f"{gate}.{speaker or 'any'}.ready").touch()
        deadline = time.monotonic() + 300
        while not gate.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"the start gate {gate} never opened")
            time.sleep(0.01)
    if speaker is not None:  # another process writes to the same session: `total` turns of this partner's own
        for k in range(total):
            for event in live.say(speaker, f"{speaker} {k}"):
                if event.kind == "turn" and event.turn is not None:
                    print(f"ACK {event.turn.index} {speaker}", flush=True)
        print("DONE", flush=True)
        return
    while len(live.turns) < total:
        index = len(live.turns)
        for event in live.say(SPEAKERS[index % 2], turn_text(index)):
            if event.kind == "turn" and event.turn is not None:
                print(f"ACK {event.turn.index}", flush=True)
    print("DONE", flush=True)


# ------------------------------------------------------------------------------------------------ turn writes
class TurnCrashResult(BaseModel):
    turns: int
    kills: int = 0
    kills_mid_run: int = 0
    acked: int = 0
    acked_lost: int = 0
    unacked_committed: int = Field(default=0, description="Turns committed whose ACK the killed process never printed.")
    integrity_failures: int = 0
    index_gaps_or_duplicates: int = 0
    text_mismatches: int = 0
    resumed_and_ended: bool = False
    final_turns: int = 0
    seconds: float = 0.0


def new_session(database_url: str) -> str:
    from facilitator.pairs import load_pair
    from facilitator.store import Store

    store = Store(database_url)
    pair = load_pair(PAIR_FILE)
    store.save_pair(pair)
    return store.create_session(pair.id, dt.date(2026, 3, 4)).id


def _driver_cmd(database_url: str, session_id: str, total: int, speaker: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "reliability.crash", "drive", database_url, session_id, str(total)]
    return [*cmd, "--speaker", speaker] if speaker else cmd


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}


def _run_until_killed(cmd: list[str], delay: float) -> tuple[list[int], bool]:
    """Start `cmd`, SIGKILL it `delay` seconds after it resumed; the ACKed indices and whether it was killed."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=_env())
    acked: list[int] = []
    timer: threading.Timer | None = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RESUMED"):
            timer = threading.Timer(delay, lambda: proc.send_signal(signal.SIGKILL))
            timer.start()
        elif line.startswith("ACK"):
            acked.append(int(line.split()[1]))
    code = proc.wait()
    if timer is not None:
        timer.cancel()
    return acked, code == -signal.SIGKILL


def sqlite_integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def crash_turn_writes(workdir: Path, *, turns: int = 200, seed: int = 1, max_delay: float = 0.05) -> TurnCrashResult:
    """Kill the driver at random moments until `turns` turns are stored; check nothing acknowledged was lost."""
    from facilitator.store import Store

    rng = random.Random(seed)
    db_path = workdir / "crash.db"
    url = f"sqlite:///{db_path}"
    session_id = new_session(url)
    result = TurnCrashResult(turns=turns)
    acked_all: set[int] = set()
    started = time.monotonic()
    for _round in range(turns * 4):
        acked, killed = _run_until_killed(_driver_cmd(url, session_id, turns), rng.uniform(0.0, max_delay))
        acked_all.update(acked)
        result.kills += int(killed)
        stored = Store(url).turns(session_id)
        if sqlite_integrity(db_path) != "ok":
            result.integrity_failures += 1
        indices = [t.index for t in stored]
        if indices != list(range(len(stored))):
            result.index_gaps_or_duplicates += 1
        by_index = {t.index: t.text for t in stored}
        result.acked_lost = sum(1 for i in acked_all if i not in by_index)
        result.text_mismatches = sum(1 for i, text in by_index.items() if text != turn_text(i))
        if killed and len(stored) < turns:
            result.kills_mid_run += 1
        if not killed and len(stored) >= turns:
            break
    result.acked = len(acked_all)
    final = Store(url).turns(session_id)
    result.final_turns = len(final)
    result.unacked_committed = sum(1 for t in final if t.index not in acked_all)
    result.resumed_and_ended = _resume_and_end(url, session_id, turns)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _resume_and_end(url: str, session_id: str, turns: int) -> bool:
    from facilitator.engine import Facilitator
    from facilitator.store import Store

    fac = Facilitator.offline(Store(url))
    live = fac.resume(session_id)
    events = list(live.say("ana", "After the crashes: I will send the summary by Monday."))
    summary = live.end()
    return (
        len(live.turns) == turns + 1
        and bool(events)
        and fac.store.get_session(session_id).status == "ended"
        and (any(c.owner == "ana" for c in summary.commitments))
    )


# ------------------------------------------------------------------------------------------------ ingest
class IngestCrashResult(BaseModel):
    kills: int = 0
    killed_while_running: int = 0
    searches_ok: int = 0
    searches_failed: int = 0
    bundled_intact: int = 0
    final_add_exit: int | None = None
    final_sources: int = 0
    final_complete: bool = False
    baseline_chunks: int = 0
    final_chunks: int = 0
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0


def _cli(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**_env(), "COMENTOR_HOME": str(home)}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COMENTOR_CHROMA_URL", "COMENTOR_DATABASE_URL"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


def _sources(home: Path) -> dict[str, int]:
    done = _cli(home, "knowledge", "list", "--format", "json")
    if done.returncode != 0:
        raise RuntimeError(f"knowledge list failed: {done.stderr.strip()[-300:]}")
    return {s["source"]: int(s["chunks"]) for s in json.loads(done.stdout)}


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for f in folder.rglob("*"):
        try:
            stat = f.stat()
        except OSError:
            continue
        out[str(f)] = (stat.st_mtime_ns, stat.st_size)
    return out


def _wait_for_writes(folder: Path, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Return once a file under `folder` changes (the ingest started writing), the process ends, or the deadline."""
    before = _snapshot(folder)
    while time.monotonic() < deadline and proc.poll() is None:
        if _snapshot(folder) != before:
            return
        time.sleep(0.02)


def crash_ingest(workdir: Path, *, kills: int = 5, seed: int = 1, folder: Path = GSOC) -> IngestCrashResult:
    """`knowledge add FOLDER` killed `kills` times at random moments; the previous index must keep answering."""
    rng = random.Random(seed)
    home = workdir / "home"
    result = IngestCrashResult()
    started = time.monotonic()
    first = _cli(home, "knowledge", "add", "--bundled")
    if first.returncode != 0:
        raise RuntimeError(f"knowledge add --bundled failed: {first.stderr.strip()[-300:]}")
    baseline = _sources(home)
    result.baseline_chunks = sum(baseline.values())
    t0 = time.monotonic()
    timing = _cli(workdir / "timing-home", "knowledge", "add", str(folder))  # how long one full ingest takes here
    full = time.monotonic() - t0
    if timing.returncode != 0:
        raise RuntimeError(f"knowledge add {folder} failed: {timing.stderr.strip()[-300:]}")
    for k in range(kills):
        copy = workdir / f"copy-{k}"  # a fresh copy each time: new sources, so every run is a full ingest
        shutil.copytree(folder, copy)
        env = {**_env(), "COMENTOR_HOME": str(home)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "knowledge", "add", str(copy)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
        )
        _wait_for_writes(home / "chroma", proc, deadline=time.monotonic() + 2 * full + 30)
        time.sleep(rng.uniform(0.0, 0.6 * full))  # a random moment after the index folder was first written
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        result.kills += 1
        result.killed_while_running += int(running)
        search = _cli(home, "knowledge", "search", "how often should the pair meet", "-k", "3", "--format", "json")
        hits = json.loads(search.stdout) if search.returncode == 0 else []
        if search.returncode == 0 and len(hits) == 3:
            result.searches_ok += 1
        else:
            result.searches_failed += 1
            result.errors.append(search.stderr.strip()[-300:])
        try:
            now = _sources(home)
            result.bundled_intact += int(all(now.get(s) == n for s, n in baseline.items()))
        except RuntimeError as e:
            result.errors.append(str(e))
    final = _cli(home, "knowledge", "add", str(workdir / f"copy-{kills - 1}") if kills else str(folder))
    result.final_add_exit = final.returncode
    after = _sources(home)
    result.final_sources = len(after)
    expected = {f.name for f in folder.iterdir() if f.suffix in (".md", ".txt", ".pdf")}
    last = workdir / f"copy-{kills - 1}" if kills else folder
    result.final_complete = expected <= {Path(s).name for s in after if Path(s).parent == last.resolve()}
    result.final_chunks = sum(after.values())
    result.seconds = round(time.monotonic() - started, 1)
    return result


# ------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    driver = sub.add_parser("drive", help="(internal) the process that is killed")
    driver.add_argument("database_url")
    driver.add_argument("session_id")
    driver.add_argument("total", type=int)
    driver.add_argument("--speaker", default=None, help="say every turn as this partner, text '<speaker> <index>'")
    driver.add_argument("--gate", type=Path, default=None, help="wait for this file before the first turn")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--ingest-kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "reliability" / "results" / "crash.json")
    args = parser.parse_args(argv)
    if args.command == "drive":
        drive(args.database_url, args.session_id, args.total, args.speaker, args.gate)
        return 0
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="comentor-crash-") as tmp:
        turns = crash_turn_writes(Path(tmp), turns=args.turns, seed=args.seed)
        print(f"turn writes: {turns.model_dump()}")
        report["turn_writes"] = turns.model_dump()
        ingest = crash_ingest(Path(tmp), kills=args.ingest_kills, seed=args.seed) if args.ingest_kills else None
        print(f"ingest: {ingest.model_dump() if ingest else 'skipped'}")
        report["ingest"] = ingest.model_dump() if ingest else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists() and ingest is None:  # keep the last ingest figures when only the turn writes were re-run
        report["ingest"] = json.loads(args.out.read_text()).get("ingest")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    ok = turns.acked_lost == 0 and turns.integrity_failures == 0 and turns.resumed_and_ended
    ok = ok and (ingest is None or (ingest.searches_failed == 0 and ingest.bundled_intact == ingest.kills))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
