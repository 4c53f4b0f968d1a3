"""Red-team findings on the coordinator code and the attempt limits (issue 18), each a test that failed on the code
before the fix:

- a damaged `s1$...` hash made `code_matches` raise (the scrypt call sat outside its try), and any short code was
  accepted as the coordinator code;
- an empty code counted as a wrong attempt;
- wrong *pair* codes from one machine locked its coordinator out of the report (one counter for both), and the
  lock message told the coordinator to rotate a pair's code;
- 30 wrong guesses from anywhere locked the coordinator out for everyone (a denial of service by any visitor);
- guesses sent in parallel were all compared (check, then compare, then count), overshooting the limit.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import threading
from pathlib import Path

import pytest

from facilitator.access import AttemptLimits, code_matches, hash_code
from facilitator.engine import Facilitator
from facilitator.exceptions import AccessError, ConfigError
from facilitator.models import Pair, Participant
from facilitator.settings import Settings
from facilitator.store import Store

SECRET = "coord-secret-123"
PAIR = Pair(
    participants=[
        Participant(id="ana", name="Ana Lima", role="professor"),
        Participant(id="ben", name="Ben Okafor", role="student"),
    ]
)


@pytest.fixture
def fac(tmp_path: Path) -> Facilitator:
    f = Facilitator.offline(
        Store(f"sqlite:///{tmp_path / 'db.sqlite'}"), settings=Settings(coordinator_code=hash_code(SECRET))
    )
    f.limits = AttemptLimits(window=dt.timedelta(minutes=15), per_client=5, per_pair=8)
    return f


@pytest.mark.parametrize("stored", ["s1$AAAA$", "s1$$", "s1$AAAA$AA", "s1$!!$!!", "s1$" + "A" * 16 + "$"])
def test_a_damaged_hash_is_a_wrong_code_not_a_crash(stored: str) -> None:
    assert code_matches(stored, "anything") is False


@pytest.mark.parametrize(
    ("value", "message"),
    [("short", "at least 12 characters"), ("s1$AAAA$", "damaged"), ("s1$AAAA$AAAA", "damaged")],
)
def test_a_weak_or_damaged_coordinator_code_is_refused_with_the_fix(value: str, message: str) -> None:
    with pytest.raises((ConfigError, ValueError), match=message) as caught:
        Settings(coordinator_code=value)
    assert "comentor program code" in str(caught.value)


def test_a_generated_code_and_its_hash_are_accepted() -> None:
    assert Settings(coordinator_code=hash_code("x")).coordinator_code is not None
    assert Settings(coordinator_code="twelve-chars").coordinator_code is not None


def test_an_empty_coordinator_code_asks_for_one_and_is_not_counted(fac: Facilitator) -> None:
    for empty in ("", "   ", None) * 4:
        with pytest.raises(AccessError, match="enter the coordinator code"):
            fac.check_coordinator(empty, client="10.0.0.1")
    fac.check_coordinator(SECRET, client="10.0.0.1")


def test_wrong_pair_codes_do_not_lock_the_coordinator_out(fac: Facilitator) -> None:
    fac.create_pair(PAIR)
    for _ in range(5):
        with pytest.raises(AccessError, match="wrong pair id"):
            fac.open_pair("ana-ben", "guess", client="10.0.0.1")
    fac.check_coordinator(SECRET, client="10.0.0.1")  # the coordinator at the same desk


def test_the_coordinator_lock_message_names_the_coordinators_way_out(fac: Facilitator) -> None:
    for n in range(5):
        with pytest.raises(AccessError, match="wrong coordinator code"):
            fac.check_coordinator(f"guess-{n}", client="10.0.0.2")
    with pytest.raises(AccessError) as locked:
        fac.check_coordinator(SECRET, client="10.0.0.2")
    message = str(locked.value)
    assert "too many wrong coordinator codes" in message and "comentor program report" in message
    assert "pairs code" not in message


def test_guesses_from_many_machines_do_not_lock_the_coordinator_out(fac: Facilitator) -> None:
    for n in range(40):
        with pytest.raises(AccessError, match="wrong coordinator code"):
            fac.check_coordinator("guess", client=f"10.1.{n}.1")
    fac.check_coordinator(SECRET, client="10.9.9.9")


def _parallel(call: object, n: int) -> list[str]:
    start = threading.Barrier(n)

    def one(i: int) -> str:
        start.wait()
        try:
            call(i)  # type: ignore[operator]
        except AccessError as e:
            return "locked" if "too many" in str(e) else "compared"
        return "opened"

    with cf.ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_parallel_coordinator_guesses_get_through_only_the_limit(fac: Facilitator) -> None:
    results = _parallel(lambda i: fac.check_coordinator(f"race-{i}", client="10.5.5.5"), 24)
    assert results.count("compared") <= 5 and results.count("opened") == 0
    with pytest.raises(AccessError, match="too many"):
        fac.check_coordinator(SECRET, client="10.5.5.5")


def test_parallel_pair_code_guesses_get_through_only_the_limit(fac: Facilitator) -> None:
    code = fac.create_pair(PAIR)
    results = _parallel(lambda i: fac.open_pair("ana-ben", f"race-{i}", client="10.6.6.6"), 24)
    assert results.count("compared") <= 5
    assert fac.open_pair("ana-ben", code, client="10.0.0.3").id == "ana-ben"  # the pair itself is not locked (8)


# Second red-team pass (after the fixes above); each failed before its fix.
def test_wrong_coordinator_codes_do_not_lock_pair_access_from_that_machine(fac: Facilitator) -> None:
    code = fac.create_pair(PAIR)
    for n in range(5):
        with pytest.raises(AccessError, match="wrong coordinator code"):
            fac.check_coordinator(f"guess-{n}", client="10.0.0.7")
    assert fac.open_pair("ana-ben", code, client="10.0.0.7").id == "ana-ben"


def test_an_empty_pair_code_is_not_counted(fac: Facilitator) -> None:
    code = fac.create_pair(PAIR)
    for empty in ("", "  ", None) * 4:
        with pytest.raises(AccessError, match="enter the pair's access code"):
            fac.open_pair("ana-ben", empty, client="10.0.0.8")  # type: ignore[arg-type]
    assert fac.open_pair("ana-ben", code, client="10.0.0.8").id == "ana-ben"


def test_one_ipv6_network_counts_as_one_visitor(fac: Facilitator) -> None:
    for n in range(5):
        with pytest.raises(AccessError, match="wrong coordinator code"):
            fac.check_coordinator("guess", client=f"2001:db8:1:2::{n + 1:x}")
    with pytest.raises(AccessError, match="too many"):
        fac.check_coordinator(SECRET, client="2001:db8:1:2:ffff::9")
    fac.check_coordinator(SECRET, client="2001:db8:1:3::1")  # another /64
    fac.check_coordinator(SECRET, client="10.0.0.9")
