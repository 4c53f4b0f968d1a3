"""Lost data (security issue, medium) on PostgreSQL: the scenarios of tests/test_integrity.py on a real server,
plus two processes confirming and recording state at a start gate.

The cluster is Debian's server in a temp folder (tests/pg.py). Without the server binaries the tests are skipped
locally and FAIL under CI=true (`make system-deps` installs postgresql).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from facilitator.models import Commitment
from facilitator.store import Store
from tests import test_integrity as scenarios
from tests.conftest import ROOT
from tests.pg import PostgresCluster, find_bindir, postgres_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    if find_bindir() is None:
        reason = "PostgreSQL server binaries (initdb) not found; `make system-deps` installs Debian's postgresql"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the PostgreSQL tests must run in CI)")
        pytest.skip(reason)
    with postgres_cluster() as pg:
        yield pg


@pytest.fixture
def pg_url(cluster: PostgresCluster) -> str:
    return cluster.create_database()


def test_identical_words_each_get_their_item_on_postgres(pg_url: str) -> None:
    scenarios.identical_words_each_get_their_item(pg_url)


def test_concurrent_confirmations_are_all_recorded_on_postgres(pg_url: str) -> None:
    scenarios.concurrent_confirmations_are_all_recorded(pg_url)


def test_concurrent_state_saves_lose_nothing_on_postgres(pg_url: str) -> None:
    scenarios.concurrent_state_saves_lose_nothing(pg_url)


def test_concurrent_challenges_are_both_recorded_on_postgres(pg_url: str) -> None:
    scenarios.concurrent_challenges_are_both_recorded(pg_url)


# ---------------------------------------------------------------------------------------------- two processes
_WRITER = """
import sys, time
from pathlib import Path
from facilitator.engine import Facilitator
from facilitator.store import Store

url, session_id, item_id, who, gate = sys.argv[1:6]
live = Facilitator.offline(Store(url)).resume(session_id)
live.state.challenges[who] = live.state.challenges.get(who, 0) + 1
live.state.model_calls += 1
Path(f"{gate}.{who}.ready").touch()
while not Path(gate).exists():
    time.sleep(0.001)
live.f.store.update_commitment(item_id, by=who, session_id=session_id, confirm=True)
live.save()
"""


def test_two_processes_confirming_and_saving_state_at_a_start_gate_lose_nothing(pg_url: str, tmp_path: Path) -> None:
    fac = scenarios._fac(pg_url)
    live = fac.start(scenarios.ANA_BEN, date=scenarios.DATE)
    [item] = fac.store.save_commitments(live.id, [Commitment(owner="ana", action="book the room", evidence=[0])])
    assert item.id is not None
    who = [f"p{i}" for i in range(scenarios.WRITERS)]
    gate = tmp_path / "go"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, pg_url, live.id, item.id, w, str(gate)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in who
    ]
    deadline = time.monotonic() + 300
    while not all(Path(f"{gate}.{w}.ready").exists() for w in who) and time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a writer died before the start gate"
        time.sleep(0.05)
    gate.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    store = Store(pg_url)
    recorded = store.confirmed_by(item.id)
    assert sorted(recorded) == sorted(who), f"lost {len(who) - len(recorded)} of {len(who)} confirmations"
    assert sorted(e.by or "" for e in store.commitment_history(item.id) if e.kind == "confirmed") == sorted(who)
    state = scenarios._fac(pg_url).resume(live.id).state
    assert state.challenges == dict.fromkeys(who, 1), state.challenges
    assert state.model_calls == len(who), f"model calls: {state.model_calls} of {len(who)} recorded"
