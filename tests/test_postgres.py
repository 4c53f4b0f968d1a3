"""Beyond one machine (issue 7): the store, engine sessions, commitments and access codes on a real PostgreSQL;
two app processes over the same PostgreSQL; PostgreSQL and a real `chroma run` server together.

The cluster is Debian's server started in a temp folder on a free loopback port (tests/pg.py). Without the server
binaries the tests are skipped locally and FAIL under CI=true (`make system-deps` installs postgresql).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitator.engine import Event
from facilitator.exceptions import AccessError, InputError, NotFoundError
from facilitator.models import Commitment, Pair, Participant
from facilitator.store import Store
from tests.conftest import ROOT, facilitator_on, open_at_once, run_cli
from tests.pg import PostgresCluster, find_bindir, postgres_cluster
from tests.test_deploy import chroma_server  # noqa: F401  (the real `chroma run` fixture)

DATE = dt.date(2026, 3, 4)
PAIR = Pair(participants=[Participant(id="ana", name="Ana"), Participant(id="ben", name="Ben")])
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
    """A fresh, empty database in the module's cluster."""
    return cluster.create_database()


def _moves(events: Any) -> list[Any]:
    return [e.move for e in events if isinstance(e, Event) and e.kind == "move"]


# ---------------------------------------------------------------------------------------------- the store
def test_store_on_postgres_access_codes_turns_and_item_history(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://")
    store = Store(pg_url)
    code = store.save_pair(PAIR)
    assert code is not None
    assert store.save_pair(PAIR.model_copy(update={"cadence": "weekly"})) is None
    assert store.check_access("ana-ben", code) and not store.check_access("ana-ben", "wrong")
    assert not store.check_access("someone-else", code) and not store.check_access("ana-ben", "")
    assert not store.check_access("ana-ben", "ünïcødé-😀")
    with pytest.raises(InputError, match="is taken"):
        store.create_pair(PAIR)
    a = store.create_session("ana-ben", DATE)
    b = store.create_session("ana-ben", DATE + dt.timedelta(days=14))
    for i in range(3):
        store.append_turn(a.id, "ana", f"a{i} — ünïcode ✓")
    store.append_turn(b.id, "ben", "b0")
    assert [(t.index, t.text) for t in store.turns(a.id)] == [(i, f"a{i} — ünïcode ✓") for i in range(3)]
    assert [t.index for t in store.turns(b.id)] == [0]
    with pytest.raises(NotFoundError):
        store.append_turn("missing", "ana", "x")
    [item] = store.save_commitments(a.id, [Commitment(owner="ben", action="send the deck", evidence=[1])])
    assert item.id
    store.update_commitment(item.id, by="ben", confirm=True)
    both = store.update_commitment(item.id, by="ana", confirm=True, action="send Ana the deck")
    assert both is not None and both.confirmed
    dated = store.save_commitments(a.id, [Commitment(owner="ana", action="book", due=DATE, evidence=[0])])
    assert [c.owner for c in store.commitments(pair_id="ana-ben")] == ["ana", "ben"], "dated items first"
    assert store.update_commitment(item.id, by="ana", delete=True) is None
    assert [c.id for c in store.commitments(session_id=a.id)] == [dated[0].id]
    kinds = [e.kind for e in store.commitment_history(item.id)]
    assert kinds == ["created", "confirmed", "edited", "confirmed", "deleted"]
    assert [s.deleted for s in store.session_items(a.id)].count(True) == 1


# ---------------------------------------------------------------------------------------------- the engine
def test_engine_session_on_postgres_resumes_in_another_replica_and_carries_items_over(
    pg_url: str, guidance_kb: Any
) -> None:
    first = facilitator_on(pg_url, guidance_kb)
    live = first.start(PAIR, date=DATE)
    [challenge] = _moves(live.say("ben", "I'm too young to be taken seriously in the board room."))
    assert challenge.kind == "challenge"
    [answer] = _moves(live.say("ana", "@facilitator how often should we meet?"))
    assert answer.kind == "answer" and answer.citations
    second = facilitator_on(pg_url, guidance_kb)  # another app replica over the same database
    resumed = second.resume(live.id)
    assert [t.text for t in resumed.turns] == [t.text for t in live.turns]
    assert resumed.state.challenges == {"ben": 1}
    list(resumed.say("ana", "I'll draft the stakeholder map by Friday."))
    list(resumed.say("ben", "Same for me, I'll draft mine too."))
    summary = resumed.end()
    assert sorted(c.owner for c in summary.commitments) == ["ana", "ben"]
    assert first.store.get_session(live.id).status == "ended"
    nxt = first.start(PAIR, date=DATE + dt.timedelta(days=14))
    ana_item = next(c for c in summary.commitments if c.owner == "ana")
    ben_item = next(c for c in summary.commitments if c.owner == "ben")
    assert ana_item.id and ben_item.id
    assert "slipped" in next(iter(nxt.handle(f"/slipped {ana_item.id} next Friday", speaker="ana"))).text
    assert "done" in next(iter(nxt.handle(f"/done {ben_item.id}", speaker="ben"))).text
    assert [(c.owner, c.status) for c in second.store.open_commitments("ana-ben")] == [("ana", "slipped")]
    assert [e.kind for e in second.store.commitment_history(ana_item.id)] == ["created", "due", "slipped"]
    [agenda] = _moves(nxt.handle("/agenda 45", speaker="ana"))
    assert "stakeholder map" in agenda.text, "the agenda reviews the open item"


def test_access_codes_on_postgres(pg_url: str) -> None:
    fac = facilitator_on(pg_url)
    code = fac.create_pair(PAIR)
    assert fac.open_pair("ana-ben", code).id == "ana-ben"
    with pytest.raises(AccessError):
        fac.open_pair("ana-ben", "wrong")
    other = Pair(participants=[Participant(id="cy", name="Cy"), Participant(id="di", name="Di")])
    other_code = fac.create_pair(other)
    with pytest.raises(AccessError):
        fac.open_pair("ana-ben", other_code)
    live = fac.session_for("ana-ben", code)
    with pytest.raises(AccessError):
        fac.session_for("cy-di", other_code, live.id)
    # grants, rotation and the attempt limits on PostgreSQL too
    opened = fac.grant("ana-ben", code, client="pg-client")
    assert fac.granted(opened.token).id == opened.live.id
    for _ in range(fac.limits.per_client):
        with pytest.raises(AccessError, match="wrong pair id"):
            fac.open_pair("cy-di", "guess", client="pg-attacker")
    with pytest.raises(AccessError, match="too many"):
        fac.open_pair("cy-di", other_code, client="pg-attacker")
    new = fac.store.rotate_code("ana-ben")
    with pytest.raises(AccessError):
        fac.granted(opened.token)
    assert fac.open_pair("ana-ben", new).id == "ana-ben"


# ---------------------------------------------------------------------------------------------- two processes
def _driver(url: str, session_id: str, speaker: str, turns: int, gate: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "reliability.crash", "drive", url, session_id, str(turns)),
            *("--speaker", speaker, "--gate", str(gate)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_two_app_processes_write_the_same_session_concurrently(pg_url: str, tmp_path: Path) -> None:
    store = Store(pg_url)
    store.save_pair(PAIR)
    session = store.create_session("ana-ben", DATE)
    turns = 60
    gate = tmp_path / "go"
    procs = {who: _driver(pg_url, session.id, who, turns, gate) for who in ("ana", "ben")}
    deadline = time.monotonic() + 300  # both imported and resumed, then both start at once (not one after the other)
    while not all(Path(f"{gate}.{who}.ready").exists() for who in procs) and time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs.values()), "a driver died before the start gate"
        time.sleep(0.05)
    gate.touch()
    outputs: dict[str, tuple[str, str]] = {}

    def collect(who: str) -> None:
        outputs[who] = procs[who].communicate(timeout=300)

    threads = [threading.Thread(target=collect, args=(who,)) for who in procs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for who, proc in procs.items():
        assert proc.returncode == 0, outputs[who][1][-2000:]
    stored = store.turns(session.id)
    assert [t.index for t in stored] == list(range(2 * turns)), "no lost or duplicate index"
    for who in ("ana", "ben"):
        acked = [int(line.split()[1]) for line in outputs[who][0].splitlines() if line.startswith("ACK")]
        assert len(acked) == turns
        mine = [t for t in stored if t.speaker == who]
        assert [t.text for t in mine] == [f"{who} {k}" for k in range(turns)], "each process's turns, in order"
        assert sorted(acked) == [t.index for t in mine], "each acknowledged index holds that process's turn"
    speakers = [t.speaker for t in stored]
    switches = sum(a != b for a, b in itertools.pairwise(speakers))
    assert switches > 2, f"the writes really interleaved ({switches} switches)"


def test_another_process_sees_the_same_commitments(pg_url: str, comentor_home: Path) -> None:
    fac = facilitator_on(pg_url)
    live = fac.start(PAIR, date=DATE)
    list(live.say("ana", "I'll send you the budget template by Friday."))
    list(live.say("ben", "I will book the room for next Tuesday."))
    items = live.end().commitments
    assert len(items) == 2
    done = run_cli("sessions", "ana-ben", home=comentor_home, env={"COMENTOR_DATABASE_URL": pg_url})
    assert done.returncode == 0, done.stderr
    shown = {line.split("[", 1)[1].split("]", 1)[0] for line in done.stdout.splitlines() if "open [" in line}
    assert shown == {c.id for c in items}
    assert live.id in done.stdout
    assert not (comentor_home / "comentor.db").exists(), "nothing went to the SQLite default"
    exported = run_cli("export", live.id, "-f", "json", home=comentor_home, env={"COMENTOR_DATABASE_URL": pg_url})
    assert exported.returncode == 0, exported.stderr
    assert {c["id"] for c in json.loads(exported.stdout)["commitments"]} == {c.id for c in items}


# ---------------------------------------------------------------------------------------------- with a Chroma server
def test_cli_on_postgres_and_a_chroma_server_together(pg_url: str, chroma_server: str, comentor_home: Path) -> None:  # noqa: F811
    env = {"COMENTOR_DATABASE_URL": pg_url, "COMENTOR_CHROMA_URL": chroma_server}
    added = run_cli("knowledge", "add", "--bundled", home=comentor_home, env=env)
    assert added.returncode == 0, added.stderr
    script = "\n".join(
        [
            "Ana: Welcome back Ben!",
            "Ben: @facilitator how often should we meet, and for how long?",
            "Ana: I'll send you the reel analytics by Thursday.",
            "/end",
        ]
    )
    pair_file = str(ROOT / "examples/pairs/ana-ben.yaml")
    chat = run_cli("chat", pair_file, "--date", "2026-03-04", home=comentor_home, stdin=script, env=env)
    assert chat.returncode == 0, chat.stderr
    assert "sources:" in chat.stdout and "meeting" in chat.stdout.lower()
    assert "reel analytics" in chat.stdout
    assert not (comentor_home / "chroma").exists() and not (comentor_home / "comentor.db").exists()
    store = Store(pg_url)
    [pair] = store.list_pairs()
    [info] = store.list_sessions(pair.id)
    assert info.status == "ended" and len(store.turns(info.id)) == 3
    assert [c.owner for c in store.open_commitments(pair.id)] == ["ana"]


def test_partners_opening_a_pair_at_the_same_moment_share_one_session(pg_url: str) -> None:
    sessions = open_at_once(lambda: facilitator_on(pg_url), pairs=12)
    assert all(len(ids) == 1 for ids in sessions), sessions
