"""Two app processes over one database: both append turns to the same session at the same time.

    python -m reliability.replicas [--turns 200] [--out reliability/results/replicas.json]

Runs on a throwaway PostgreSQL cluster (Debian's server, tests/pg.py) and, for comparison, on one SQLite file.
Each process is `python -m reliability.crash drive URL SESSION N --speaker WHO` (the real engine); it prints an ACK
with the stored index after each committed turn. Checked: indices 0..2N-1 with no gap or duplicate, every ACK's
index holds that process's turn, each process's turns in its own order, and both processes see the same items.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from facilitator.models import Pair, Participant
from facilitator.store import Store

ROOT = Path(__file__).resolve().parents[1]
PAIR = Pair(participants=[Participant(id="ana", name="Ana"), Participant(id="ben", name="Ben")])


class ReplicaResult(BaseModel):
    backend: str
    processes: int
    turns_each: int
    stored: int
    lost: int
    duplicate_indices: int
    misplaced_acks: int
    out_of_order: int
    interleavings: int
    seconds: float
    turns_per_second: float


def run(url: str, backend: str, turns: int) -> ReplicaResult:
    store = Store(url)
    store.save_pair(PAIR)
    session = store.create_session("ana-ben", dt.date(2026, 3, 4))
    started = time.monotonic()
    procs = {
        who: subprocess.Popen(
            [sys.executable, "-m", "reliability.crash", "drive", url, session.id, str(turns), "--speaker", who],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        for who in ("ana", "ben")
    }
    outputs = {who: proc.communicate(timeout=1200) for who, proc in procs.items()}
    seconds = time.monotonic() - started
    for who, proc in procs.items():
        if proc.returncode != 0:
            raise RuntimeError(f"{backend} driver {who} failed: {outputs[who][1][-1000:]}")
    stored = store.turns(session.id)
    indices = [t.index for t in stored]
    by_index = {t.index: t for t in stored}
    misplaced = out_of_order = lost = 0
    for who in procs:
        acked = [int(line.split()[1]) for line in outputs[who][0].splitlines() if line.startswith("ACK")]
        misplaced += sum(1 for i in acked if i not in by_index or by_index[i].speaker != who)
        mine = [t.text for t in stored if t.speaker == who]
        expected = [f"{who} {k}" for k in range(turns)]
        lost += sum(1 for text in expected if text not in mine)
        out_of_order += int(mine != expected)
    speakers = [t.speaker for t in stored]
    return ReplicaResult(
        backend=backend,
        processes=len(procs),
        turns_each=turns,
        stored=len(stored),
        lost=lost,
        duplicate_indices=len(indices) - len(set(indices)),
        misplaced_acks=misplaced,
        out_of_order=out_of_order,
        interleavings=sum(a != b for a, b in itertools.pairwise(speakers)),
        seconds=round(seconds, 2),
        turns_per_second=round(len(stored) / seconds, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="turns per process")
    parser.add_argument("--out", type=Path, default=ROOT / "reliability" / "results" / "replicas.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.pg import postgres_cluster

    results: list[dict[str, Any]] = []
    with postgres_cluster() as pg:
        results.append(run(pg.create_database(), "postgresql", args.turns).model_dump())
    with tempfile.TemporaryDirectory(prefix="comentor-replicas-") as tmp:
        results.append(run(f"sqlite:///{Path(tmp) / 'shared.db'}", "sqlite (one file)", args.turns).model_dump())
    for result in results:
        print(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    bad = any(r["lost"] or r["duplicate_indices"] or r["misplaced_acks"] or r["out_of_order"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
