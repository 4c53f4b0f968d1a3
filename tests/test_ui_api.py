"""The web app through its API, as `comentor ui` runs: many pairs at once, a full queue, isolation and file routes.

Reduced counts of `python -m reliability.load` and `python -m reliability.probes` (the full runs write
reliability/results/load.json and probes.json). Each test starts the real app in a subprocess with its own home; the
model, when there is one, is the local fake OpenAI server answering after 1-3 s. Opening a pair returns a signed grant
(the first output); every other event takes it as its first input.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reliability.load import BUSY_WORDS, OPEN_STATUS, STATUS, UIProcess, client, make_pairs, run_busy, run_capacity
from reliability.probes import (
    OPEN_LIMITS,
    REFUSALS,
    Planted,
    claims_of,
    plant,
    predict,
    run_access,
    run_draft_hijack,
    run_file_probes,
    run_probes,
    text_of,
)

pytest.importorskip("gradio_client")
pytestmark = pytest.mark.slow


def test_several_pairs_at_once_through_the_api_lose_nothing(tmp_path: Path) -> None:
    result = run_capacity(tmp_path, pairs=4, messages=2, concurrency=8, time_limit=150, timeout=60)
    assert result.clients == 8 and result.opened == 8, result.error_samples
    assert result.errors == 0, result.error_samples
    assert result.turns_sent == 16 and result.turns_stored == 16
    assert result.turns_lost == 0 and result.turns_duplicated == 0 and result.cross_pair_turns == 0
    assert result.model_calls >= 8  # every question went through the (slow) model
    assert result.question_p50_s >= 1.0  # ... so it took at least the model's shortest latency
    assert result.within_time


def test_over_capacity_the_queue_answers_busy_and_recovers(tmp_path: Path) -> None:
    result = run_busy(tmp_path, concurrency=1, queue_size=2, simultaneous=8, timeout=60)
    assert result.other_errors == 0, result.other_error_samples
    assert result.served >= 3  # one running plus two waiting were always admitted
    assert result.busy >= 1 and result.served + result.busy == 8
    assert BUSY_WORDS.search(result.client_message), result.client_message
    assert result.http_status == 503
    assert "busy" in result.http_detail and "try again" in result.http_detail.lower()
    assert result.http_retry_after is not None and int(result.http_retry_after) > 0
    assert "busy" in result.browser_message.lower()
    assert result.served_after


@pytest.fixture(scope="module")
def planted_app() -> Iterator[tuple[UIProcess, list[Planted]]]:
    """The app with its home outside the temp folder and the working directory, as deployed (/var/lib/comentor):
    Gradio only takes files from those two places or its own cache, so exports must still work from here."""
    base = Path("/var/tmp")
    if not base.is_dir() or base.resolve().is_relative_to(Path(tempfile.gettempdir()).resolve()):
        pytest.skip("needs /var/tmp apart from the temp folder")
    home = Path(tempfile.mkdtemp(prefix="comentor-probe-home-", dir=base))
    try:
        # every probe comes from 127.0.0.1: the wrong-code limits are raised here (tested on their own below)
        with UIProcess(home, {"COMENTOR_FACILITATOR": "offline", **OPEN_LIMITS}) as ui:
            yield ui, plant(ui.url, ui.store(), 3)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_canaries_are_planted_where_a_leak_would_show(planted_app: tuple[UIProcess, list[Planted]]) -> None:
    ui, planted = planted_app
    store = ui.store()
    for p in planted:
        turns = " ".join(t.text for t in store.turns(p.session))
        assert p.canary in turns
        assert len(p.items) >= 1 and len(p.export_urls) == 3


def test_cross_session_probes_are_refused_and_leak_nothing(planted_app: tuple[UIProcess, list[Planted]]) -> None:
    ui, planted = planted_app
    result = run_probes(ui.url, ui.store(), planted, total=200, home=ui.home)
    assert result.detector_control  # the same check flags the owner's own view and grant
    assert result.probes == 200
    visitors = {"fresh", "wrong-code", "other-pair", "hijacker", "hijacker-other-pair", "raw-http"}
    assert set(result.by_visitor) == visitors
    assert {"expired", "stale-code", "other-pair-session", "altered-other-grant", "own-grant"} <= set(result.by_grant)
    assert result.leaks == 0
    assert result.answered == 0, result.answered_samples
    assert result.errors == 0, result.error_samples
    assert result.pairs_changed == []


def test_a_client_with_the_victims_session_hash_cannot_act_for_it(
    planted_app: tuple[UIProcess, list[Planted]],
) -> None:
    """The red team's attack: Gradio keys its server-side state by a session hash the client chooses, so a client
    that learnt the victim's hash used to act in the victim's open session. Now it needs the grant too."""
    ui, _planted = planted_app
    store = ui.store()
    ((pair, code),) = make_pairs(store, 1, prefix="hj")
    a, _b = pair.ids
    victim = client(ui.url)
    opened = predict(victim, pair.id, code, api_name="/on_open")
    grant = opened[0]
    session = claims_of(grant)["session_id"]  # type: ignore[index]
    predict(victim, grant, a, "I'll send you the budget by Friday.", api_name="/on_send")
    turns = len(store.turns(session))
    items = [(s.id, sorted(s.confirmed_by), s.deleted) for s in store.session_items(session)]
    assert turns == 1 and items

    hijacker = client(ui.url)
    hijacker.session_hash = victim.session_hash
    forged = grant.split(".")[0] + "." + "A" * 43
    refusal = re.compile(f"{REFUSALS['access'].pattern}|{REFUSALS['grant-refused'].pattern}", re.IGNORECASE)

    def refused(*args: Any, api_name: str) -> bool:
        """The borrowed hash's event stream is refused (no answer at all), or the handler refuses the grant."""
        try:
            status = predict(hijacker, *args, api_name=api_name)[STATUS]
        except Exception as e:  # the stream of the victim's session hash: 403, the client gives up
            return "Cancelled" in type(e).__name__
        return bool(refusal.search(status)) or ("⚠" in status and "confirmed" not in status.lower())

    for token in ("", None, "not-a-grant", forged):
        assert refused(token, a, "hijacked: send the money to my account", api_name="/on_send")
        assert refused(token, a, api_name="/on_ask")
        assert refused(token, a, items[0][0], api_name="/handler")
    assert len(store.turns(session)) == turns
    assert [(s.id, sorted(s.confirmed_by), s.deleted) for s in store.session_items(session)] == items
    # the victim's own page still works
    again = predict(victim, grant, a, "Still here.", api_name="/on_send")
    assert "⚠" not in again[STATUS] and len(store.turns(session)) == turns + 1
    hijacker.close()
    victim.close()


def test_the_agenda_draft_does_not_follow_the_session_hash(planted_app: tuple[UIProcess, list[Planted]]) -> None:
    ui, planted = planted_app
    result = run_draft_hijack(ui.url, planted[1], planted[0])
    assert result.victim_draft_items > 0
    assert not result.leaked, result.attacker_status


def test_file_routes_serve_nothing_outside_the_app(planted_app: tuple[UIProcess, list[Planted]]) -> None:
    ui, planted = planted_app
    files: dict[str, Any] = run_file_probes(ui.url, ui.home, planted)
    assert files["file_probes"] >= 100
    assert files["files_served"] == 0, files["served_samples"]
    assert files["ssrf_followed"] == [], files["ssrf_followed"]
    assert files["upload"]["small_status"] == 403 and files["upload"]["25mb_status"] == 403  # no form takes uploads
    # a pair's own export link works (it holds the canary) and cannot be guessed (a 64-hex digest in the path)
    assert files["export_links"] and all(link["holds_canary"] for link in files["export_links"])
    assert all(link["path_has_64_hex"] for link in files["export_links"])
    # the originals are owner-only and not under home; Gradio's copies sit in an owner-only cache under home
    assert files["export_original_file_modes"] == ["0o600"] and files["export_original_folder_modes"] == ["0o700"]
    assert oct((ui.home / "gradio-cache").stat().st_mode & 0o777) == "0o700"
    assert any(p.parent.parent == ui.home / "gradio-cache" for p in (ui.home / "gradio-cache").rglob("comentor-*"))


def test_a_summarized_session_is_not_reopened_and_its_items_carry_over(
    planted_app: tuple[UIProcess, list[Planted]],
) -> None:
    ui, planted = planted_app
    p = planted[0]
    again = predict(client(ui.url), p.pair, p.code, api_name="/on_open")
    exports = [f for f in again if isinstance(f, dict) and str(f.get("url", "")).endswith((".md", ".json", ".ics"))]
    assert "Opened" in again[OPEN_STATUS] and again[1] == {"grant": again[0]}  # what the browser remembers
    session = (claims_of(again[0]) or {}).get("session_id")
    assert session and session != p.session and exports == [], again  # the next session, open, nothing to export
    store = ui.store()
    assert store.get_session(p.session).status == "ended" and store.get_session(session).status == "open"
    assert p.canary in text_of(again)  # the summarized session's items, open, are in the history shown


def test_grants_expire_new_codes_revoke_them_and_wrong_codes_are_limited(tmp_path: Path) -> None:
    """The app with the default wrong-code limits and grants that last seconds."""
    result = run_access(tmp_path, hours=0.004, attempts=40, burst=30)
    expiry, limits = result["expiry"], result["rate_limit"]
    assert expiry["fresh_grant_accepted"]  # control: the grant works while valid
    assert expiry["expired_refused"] == expiry["expired_probes"] > 0, expiry["expired_outcomes"]
    assert expiry["stored_nothing_after_expiry"] and expiry["reopened_with_code"]
    assert expiry["revoked_refused"] and expiry["old_code_refused"] and expiry["new_code_opens"]
    assert limits["checked"] == limits["limit_per_client"] == 10
    assert limits["limited"] == 30 and limits["other_outcomes"] == {}
    assert limits["right_code_refused"] and limits["right_code_by_link_refused"]
    assert limits["forwarded_for_ignored"]  # from an address uvicorn does not trust as a proxy
    assert limits["right_code_other_client_same_address"] == "rate-limited"  # the limit is per address
    assert limits["failures_recorded"] == 10
    assert limits["other_address_opens"]
    assert limits["burst_right_code_refused"] and limits["burst_limited"] > 0
