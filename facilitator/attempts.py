"""The attempt limits around every secret a visitor can guess (a pair's code, the coordinator code, a free pair id).

An attempt is noted *before* its secret is compared, then counted: a visitor sending many guesses at once sees each
of them counted by the others, so no more than the limit are ever compared (checking the count first and noting a
failure afterwards let parallel guesses through). A right answer, or one refused while locked, takes its note back.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from facilitator.exceptions import AccessError

if TYPE_CHECKING:
    from facilitator.access import AttemptLimits
    from facilitator.store import Store

T = TypeVar("T")
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


class Guarded(BaseModel):
    """What one guarded attempt is counted under: the id guessed at, the visitor, and which limits apply."""

    target: str
    client: str
    per_target: bool = True  # also lock the target after `per_pair` wrong attempts from anyone
    only_this_target: bool = False  # the visitor's count holds only attempts on this target
    ignore: str | None = None  # ... or every target but this one (pair codes leave the coordinator's count alone)
    locked: str


def client_key(client: str) -> str:
    """A visitor's address as counted: printable ASCII, at most 200 characters; an IPv6 address counts as its /64
    network (one machine or home gets a whole /64, so single addresses would give it unlimited guesses)."""
    text = _PRINTABLE.sub("?", client)[:200] or "unknown"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped) if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else text


def guarded(
    store: Store,
    limits: AttemptLimits,
    key: Guarded,
    now: dt.datetime,
    check: Callable[[], T | None],
    refuse: Callable[[], Exception],
) -> T:
    """`check()`'s answer if it has one, within the limits; a wrong attempt (None) stays counted and raises
    `refuse()`; past the limits AccessError(key.locked) is raised without calling `check`."""
    noted = store.record_failure(key.target, key.client, now, keep=limits.window)
    by_client, by_target = store.recent_failures(
        key.target, key.client, now - limits.window, only_this_id=key.only_this_target, ignore=key.ignore
    )
    if by_client > limits.per_client or (key.per_target and by_target > limits.per_pair):
        store.forget_failure(noted)
        raise AccessError(key.locked)
    try:
        found = check()
    except BaseException:
        store.forget_failure(noted)
        raise
    if found is None:
        raise refuse()
    store.forget_failure(noted)
    return found
