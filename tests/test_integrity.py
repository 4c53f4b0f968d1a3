"""Lost data (security issue, medium): items are per session, concurrent writers lose nothing, the store is private.

1. An item's id is derived from its words, so a second pair (or a later session of one pair) saying the same words
   used to find the other session's row and get no item. Every session now gets its own row.
2. Confirmations and the policy state were read-modify-write without a lock: concurrent writers lost updates. They
   now take the row's lock first, and the state is merged three ways (`merge_state`).
3. COMENTOR_HOME is 0700 and the database files 0600 whatever the umask; exports folders of dead processes are
   purged at start.

The scenarios take a database URL; tests/test_integrity_postgres.py runs them on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from facilitator.brains.base import BrainProfile
from facilitator.brains.offline import OfflineBrain
from facilitator.engine import Facilitator
from facilitator.models import Commitment, Pair, Participant
from facilitator.settings import Settings
from facilitator.store import Store, merge_state
from tests.conftest import ROOT

DATE = dt.date(2026, 3, 4)
ANA_BEN = Pair(participants=[Participant(id="ana", name="Ana"), Participant(id="ben", name="Ben")])
ANA_CY = Pair(participants=[Participant(id="ana", name="Ana"), Participant(id="cy", name="Cy")])
LINE = "I'll send you the budget template by Friday."
WRITERS = 8


class _Model(OfflineBrain):
    """The offline brain under a model's name: its moves count as model calls (`state.model_calls`)."""

    name = "fake-model"

    @property
    def profile(self) -> BrainProfile:
        return BrainProfile(kind="llm", model=self.name, streams=True)


def _fac(url: str, brain: Any = None) -> Facilitator:
    """One app process: its own Store (engine, connections) over `url`."""
    fac = Facilitator.offline(Store(url))
    if brain is not None:
        fac.brain = brain
    return fac


def _at_once(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(0..n-1)` in `n` threads released together by a start gate; re-raise the first failure."""
    gate = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            gate.wait(timeout=60)
            results[i] = work(i)
        except BaseException as e:  # reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------------------------------------- scenarios
def identical_words_each_get_their_item(url: str) -> None:
    """Two pairs, and two sessions of one pair, say the same words at the same turn: each session gets its item."""
    fac = _fac(url)
    summaries = {}
    for key, pair, date in (("ana-ben 1", ANA_BEN, DATE), ("ana-cy", ANA_CY, DATE), ("ana-ben 2", ANA_BEN, DATE)):
        live = fac.start(pair, date=date if key != "ana-ben 2" else date + dt.timedelta(days=14))
        list(live.say("ana", LINE))
        if key == "ana-ben 2":
            assert [v.item.owner for v in live.proposed_items()] == ["ana"], "the page lists the item"
        summaries[key] = live.end()
    for key, summary in summaries.items():
        assert [(c.owner, "budget template" in c.action) for c in summary.commitments] == [("ana", True)], key
    ids = [s.commitments[0].id for s in summaries.values()]
    assert len(set(ids)) == 3, ids
    assert len(fac.store.open_commitments("ana-ben")) == 2 and len(fac.store.open_commitments("ana-cy")) == 1
    first, other = summaries["ana-ben 1"].commitments[0], summaries["ana-cy"].commitments[0]
    assert first.id and other.id
    fac.store.update_commitment(other.id, by="cy", confirm=True)
    assert fac.store.confirmed_by(first.id) == [], "a change to one pair's item leaves the other's alone"
    assert [e.kind for e in fac.store.commitment_history(first.id)] == ["created"]


def concurrent_confirmations_are_all_recorded(url: str, rounds: int = 3) -> None:
    """`WRITERS` partners confirm one item at the same moment, through two Stores: every confirmation stays."""
    setup = Store(url)
    setup.save_pair(ANA_BEN)
    session = setup.create_session("ana-ben", DATE)
    stores = [Store(url), Store(url)]
    who = [f"p{i}" for i in range(WRITERS)]
    for r in range(rounds):
        [item] = setup.save_commitments(session.id, [Commitment(owner="ana", action=f"task {r}", evidence=[r])])
        assert item.id is not None
        cid = item.id

        def confirm(i: int, cid: str = cid) -> None:
            stores[i % 2].update_commitment(cid, by=who[i], session_id=session.id, confirm=True)

        _at_once(WRITERS, confirm)
        recorded = setup.confirmed_by(cid)
        history = [e.by for e in setup.commitment_history(cid) if e.kind == "confirmed"]
        assert sorted(recorded) == sorted(who), f"round {r}: lost {WRITERS - len(recorded)} of {WRITERS} confirmations"
        assert sorted(history) == sorted(who) and len(history) == WRITERS, "history matches the confirmations"


def concurrent_state_saves_lose_nothing(url: str) -> None:
    """`WRITERS` events on one session, each loaded fresh and saved at the same moment: every counter and list
    entry each one recorded is in the stored state."""
    fac = _fac(url)
    live = fac.start(ANA_BEN, date=DATE)
    sid = live.id
    lives = [_fac(url).resume(sid) for _ in range(WRITERS)]
    for i, mine in enumerate(lives):
        pid = ANA_BEN.ids[i % 2]
        mine.state.challenges[pid] = mine.state.challenges.get(pid, 0) + 1
        mine.state.model_calls += 1
        mine.state.asked.append(f"q{i}")
    _at_once(WRITERS, lambda i: lives[i].save())
    state = fac.resume(sid).state
    assert state.challenges == {"ana": WRITERS // 2, "ben": WRITERS // 2}, state.challenges
    assert state.model_calls == WRITERS, f"model calls: {state.model_calls} of {WRITERS} recorded"
    assert sorted(state.asked) == sorted(f"q{i}" for i in range(WRITERS))


def concurrent_challenges_are_both_recorded(url: str) -> None:
    """Two partners' turns arrive at the same moment (two web events, each resumes the session): both challenges and
    both model calls are recorded."""
    live = _fac(url, _Model()).start(ANA_BEN, date=DATE)
    lines = {
        "ben": "I'm too young to be taken seriously in the board room.",
        "ana": "I'm too old to learn a new stack now.",
    }
    events = [_fac(url, _Model()).resume(live.id) for _ in lines]
    speakers = list(lines)

    def say(i: int) -> list[str]:
        return [e.move.kind for e in events[i].say(speakers[i], lines[speakers[i]]) if e.move is not None]

    moves = _at_once(2, say)
    assert moves == [["challenge"], ["challenge"]], moves
    state = _fac(url).resume(live.id).state
    assert state.challenges == {"ana": 1, "ben": 1}, state.challenges
    assert state.model_calls == 2, state.model_calls
    assert state.voiced == {"ana": 1, "ben": 1}


# ---------------------------------------------------------------------------------------------- on SQLite
@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'comentor.db'}"


def test_identical_words_in_two_pairs_and_two_sessions_each_get_their_item(url: str) -> None:
    identical_words_each_get_their_item(url)


def test_the_store_keeps_one_row_per_session_for_one_id(url: str) -> None:
    store = Store(url)
    store.save_pair(ANA_BEN)
    a, b = store.create_session("ana-ben", DATE), store.create_session("ana-ben", DATE)
    item = Commitment(id="same-id", owner="ana", action="book the room", evidence=[0])
    [in_a] = store.save_commitments(a.id, [item])
    [in_b] = store.save_commitments(b.id, [item])
    assert in_a.id == "same-id" and in_b.id not in (None, "same-id")
    assert store.save_commitments(b.id, [item]) == [in_b], "saving again in the same session is idempotent"
    assert [c.id for c in store.commitments(session_id=a.id)] == ["same-id"]
    assert [c.id for c in store.commitments(session_id=b.id)] == [in_b.id]


def test_concurrent_confirmations_are_all_recorded_on_sqlite(url: str) -> None:
    concurrent_confirmations_are_all_recorded(url)


def test_concurrent_state_saves_lose_nothing_on_sqlite(url: str) -> None:
    concurrent_state_saves_lose_nothing(url)


def test_concurrent_challenges_are_both_recorded_on_sqlite(url: str) -> None:
    concurrent_challenges_are_both_recorded(url)


def test_a_live_session_sees_the_merged_state_after_saving(url: str) -> None:
    first = _fac(url).start(ANA_BEN, date=DATE)
    other = _fac(url).resume(first.id)
    other.state.model_calls += 3
    other.save()
    first.state.model_calls += 1
    first.save()
    assert first.state.model_calls == 4, "the cap counts the other event's calls too"
    first.state.model_calls += 1
    first.save()
    assert _fac(url).resume(first.id).state.model_calls == 5, "a second save adds only what changed since"


# ---------------------------------------------------------------------------------------------- merge_state
def test_merge_state_adds_counters() -> None:
    base = {"challenges": {"ana": 1}, "model_calls": 2}
    mine = {"challenges": {"ana": 2, "ben": 1}, "model_calls": 3}
    current = {"challenges": {"ana": 3}, "model_calls": 5}
    merged = merge_state(base, mine, current, counters={"model_calls"})
    assert merged == {"challenges": {"ana": 4, "ben": 1}, "model_calls": 6}


def test_merge_state_unions_lists_in_order_and_keeps_removals() -> None:
    base = {"asked": ["a"], "pending": [{"t": 1}, {"t": 2}]}
    mine = {"asked": ["a", "b"], "pending": [{"t": 2}, {"t": 4}]}  # mine probed t=1 and heard t=4
    current = {"asked": ["a", "c"], "pending": [{"t": 1}, {"t": 2}, {"t": 3}]}
    merged = merge_state(base, mine, current)
    assert merged == {"asked": ["a", "c", "b"], "pending": [{"t": 2}, {"t": 3}, {"t": 4}]}
    both = merge_state({"asked": []}, {"asked": ["q"]}, {"asked": ["q"]})
    assert both == {"asked": ["q"]}, "the same item added on both sides is there once"
    probes = merge_state({"used": ["p"]}, {"used": ["p", "p"]}, {"used": ["p", "i"]})
    assert probes == {"used": ["p", "i", "p"]}, "repeats count (how often a probe was used)"
    assert merge_state({"x": [1]}, {"x": []}, {"x": []}) == {"x": []}, "removed on both sides: gone once"


def test_merge_state_other_fields_take_mine_only_when_changed() -> None:
    base = {"agenda_item": 0, "last_move_turn": 3, "item_started_at": None}
    mine = {"agenda_item": 1, "last_move_turn": 3, "item_started_at": "2026-03-04T10:00:00Z"}
    current = {"agenda_item": 0, "last_move_turn": 7, "item_started_at": None}
    assert merge_state(base, mine, current) == {
        "agenda_item": 1,
        "last_move_turn": 7,
        "item_started_at": "2026-03-04T10:00:00Z",
    }


def test_merge_state_with_missing_keys_and_an_empty_store() -> None:
    mine = {"model_calls": 1, "challenges": {"ben": 1}, "asked": ["q"], "agenda_item": 0}
    assert merge_state({}, mine, {}, counters={"model_calls"}) == mine, "nothing stored yet: mine"
    base = {"model_calls": 1, "agenda_item": 0}
    assert merge_state(base, {"model_calls": 2, "agenda_item": 0}, {}, counters={"model_calls"}) == {
        "model_calls": 2,
        "agenda_item": 0,
    }, "a key missing from the stored state counts as unchanged there"
    assert merge_state({"a": 1}, {"a": 1}, {"a": 1}) == {"a": 1}
    assert merge_state(base, base, base, counters={"model_calls"}) == base, "no change, no drift"


# ---------------------------------------------------------------------------------------------- permissions
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_a_fresh_home_is_owner_only_with_private_database_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "fresh" / "home"
    monkeypatch.setenv("COMENTOR_HOME", str(home))
    settings = Settings()
    fac = Facilitator.offline(Store(settings.resolved_database_url), settings=settings)
    live = fac.start(ANA_BEN, date=DATE)
    list(live.say("ana", "my access code and my worries"))
    assert oct(_mode(home)) == "0o700"
    for name in ("comentor.db", "comentor.db-wal", "comentor.db-shm"):
        assert (home / name).exists(), name
        assert oct(_mode(home / name)) == "0o600", name


@pytest.mark.usefixtures("umask_022")
def test_an_existing_readable_home_and_database_are_tightened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("COMENTOR_HOME", str(home))
    settings = Settings()
    first = Store(settings.resolved_database_url)
    first.save_pair(ANA_BEN)
    first.engine.dispose()
    home.chmod(0o755)
    for path in home.iterdir():
        path.chmod(0o644)
    store = Store(Settings().resolved_database_url)
    store.append_turn(store.create_session("ana-ben", DATE).id, "ana", "hello")
    assert oct(_mode(home)) == "0o700"
    assert {p.name: oct(_mode(p)) for p in home.iterdir()} == {
        name: "0o600" for name in ("comentor.db", "comentor.db-wal", "comentor.db-shm")
    }


@pytest.mark.usefixtures("umask_022")
def test_every_writer_under_home_gets_an_owner_only_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("COMENTOR_HOME", str(home))
    (Settings().chroma_path).mkdir(parents=True, exist_ok=True)  # e.g. the knowledge index, the first to write
    assert oct(_mode(home)) == "0o700"


@pytest.mark.usefixtures("umask_022")
def test_a_custom_database_path_gets_private_files_but_its_folder_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    store = Store(f"sqlite:///{shared / 'team.db'}")
    store.save_pair(ANA_BEN)
    assert oct(_mode(shared)) == "0o755", "a folder the host chose keeps its mode"
    assert oct(_mode(shared / "team.db")) == "0o600"


# ---------------------------------------------------------------------------------------------- exports folders
_HOLD = """
import sys, time
from pathlib import Path
from facilitator.exportdir import exports_root
root = exports_root(Path(sys.argv[1]))
(root / "recap.md").write_text("a transcript")
print(root, flush=True)
time.sleep(600)
"""


def _holder(base: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(base)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ)
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line, "the holder process printed its exports folder"
    return proc, Path(line)


def test_exports_of_a_killed_process_are_purged_at_start_and_a_live_ones_kept(tmp_path: Path) -> None:
    from facilitator.exportdir import exports_root

    killed, stale = _holder(tmp_path)
    alive, kept = _holder(tmp_path)
    try:
        killed.send_signal(signal.SIGKILL)  # no atexit, no cleanup
        killed.wait(timeout=30)
        assert (stale / "recap.md").is_file()
        mine = exports_root(tmp_path)
        assert not stale.exists(), "the killed process's exports were purged"
        assert (kept / "recap.md").is_file(), "a running process's exports are kept"
        assert mine.is_dir() and mine.parent == stale.parent == kept.parent == tmp_path, "one known place"
        assert mine.name.startswith(f"comentor-exports-{os.getuid()}-{os.getpid()}-")
        assert oct(_mode(mine)) == "0o700"
        assert exports_root(tmp_path) != mine, "each call gets its own folder"
        assert mine.is_dir(), "this process's own folder is kept"
    finally:
        alive.kill()
        alive.wait(timeout=30)


def test_the_purge_leaves_alone_what_it_did_not_make(tmp_path: Path) -> None:
    from facilitator.exportdir import exports_root

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    name = f"comentor-exports-{os.getuid()}-{int(dead.stdout)}-0-"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not the app's")
    (tmp_path / f"{name}link").symlink_to(elsewhere)  # a planted symlink that looks like a stale folder
    other_names = [tmp_path / "comentor-exports-other", tmp_path / f"comentor-exports-{os.getuid() + 1}-1-0-x"]
    for path in other_names:
        path.mkdir()
    (tmp_path / f"{name}stale").mkdir()
    exports_root(tmp_path)
    assert not (tmp_path / f"{name}stale").exists()
    assert (elsewhere / "keep.txt").is_file() and (tmp_path / f"{name}link").is_symlink()
    assert all(path.is_dir() for path in other_names)
