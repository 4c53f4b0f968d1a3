"""Crashes (issue 7): `kill -9` of a process writing turns through the real engine, and of `comentor knowledge add`.

Reduced counts here; `python -m reliability.crash` runs the full 200 turn writes and 5 ingest kills.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.crash import crash_ingest, crash_turn_writes
from tests.conftest import GSOC


@pytest.mark.slow
def test_kill_9_during_turn_writes_loses_no_acknowledged_turn(tmp_path: Path) -> None:
    result = crash_turn_writes(tmp_path, turns=80, seed=3, max_delay=0.05)
    assert result.kills_mid_run >= 3, f"the driver must really be killed while writing: {result}"
    assert result.acked_lost == 0, result
    assert result.integrity_failures == 0 and result.index_gaps_or_duplicates == 0 and result.text_mismatches == 0
    assert result.final_turns == 80 and result.acked + result.unacked_committed == 80
    assert result.resumed_and_ended


@pytest.mark.slow
def test_kill_9_during_knowledge_ingest_leaves_the_previous_index_usable(tmp_path: Path) -> None:
    if not GSOC.is_dir():
        pytest.fail(f"{GSOC} is missing: the shared data folder must sit beside the project checkout")
    result = crash_ingest(tmp_path, kills=1, seed=4)
    assert result.kills == 1 and result.killed_while_running == 1, result
    assert result.searches_ok == 1 and result.searches_failed == 0, result.errors
    assert result.bundled_intact == 1, "the bundled pages are all there with the same chunks"
    assert result.final_add_exit == 0 and result.final_complete, result
    assert result.final_chunks > result.baseline_chunks
