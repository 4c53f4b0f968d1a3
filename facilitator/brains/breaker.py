"""A circuit breaker in front of the model, so that an outage costs one wait, not one wait per move.

closed ──(a call fails because the model is unavailable)──► open ──(cool-down passed)──► half-open: one probe call
  ▲                                                          ▲                                    │
  └──────────────────────── the probe succeeds ──────────────┴──── the probe fails (cool-down doubles)

While the breaker is open every call fails at once with a ModelError that says the model is unavailable and when it
is tried again; the engine lets the offline facilitator answer with a visible note. "Unavailable" means unreachable,
timed out (by the client or past the move's budget), rate limited (429) or failing on the server's side (5xx, 408,
409); a broken answer (malformed JSON, a stream cut short) proves the server is up and does not open the breaker.

The clock is injected (seconds, monotonic), so tests move time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

from facilitator.exceptions import ModelError

Clock = Callable[[], float]
State = Literal["closed", "open", "half-open"]
DEFAULT_COOLDOWN = 30.0
MAX_COOLDOWN = 600.0
_OUTAGE_STATUS = frozenset({408, 409, 429})
_UNREACHABLE = frozenset({"ConnectError", "ConnectTimeout", "TimeoutException", "PoolTimeout"})
_ANSWERED = frozenset({"RemoteProtocolError", "ReadError", "DecodingError", "LocalProtocolError"})

__all__ = ["DEFAULT_COOLDOWN", "MAX_COOLDOWN", "CircuitBreaker", "is_outage"]


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or an error it was raised from) says the model is unavailable rather than that it answered
    badly: no connection, a timeout, a budget overrun (TimeoutError), 408, 409, 429 or a 5xx status. A connection
    dropped in the middle of an answer (a stream cut short) is a broken answer: the server did answer."""
    return _outage_cause(error) is not None


def _outage_cause(error: BaseException) -> BaseException | None:
    import openai

    chain = _chain(error)
    for current in chain:
        if isinstance(current, openai.APITimeoutError | TimeoutError):
            return current
        if isinstance(current, openai.APIStatusError):
            outage = current.status_code in _OUTAGE_STATUS or current.status_code >= 500
            return current if outage else None
        if isinstance(current, openai.APIConnectionError):
            # httpx (or the fork the openai client ships) tells what broke: connecting, or reading an answer.
            names = {cls.__name__ for link in chain for cls in type(link).__mro__}
            answered = bool(names & _ANSWERED) and not names & _UNREACHABLE
            return None if answered else current
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """`error` and the errors it was raised from (or while handling), outermost first."""
    seen: set[int] = set()
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _describe(cause: BaseException) -> str:
    import openai

    if isinstance(cause, openai.APIStatusError):
        return f"HTTP {cause.status_code}"
    if isinstance(cause, openai.APITimeoutError):
        return "timed out"
    if isinstance(cause, openai.APIConnectionError):
        return "unreachable"
    return " ".join(str(cause).split())[:160] or "timed out"


class CircuitBreaker:
    """Lets calls through while the model answers; after an outage, fails them at once until a probe succeeds.

    `cooldown` seconds after the failure one call is let through as a probe (others keep failing at once while it
    runs); each failed probe doubles the wait, up to `max_cooldown`. `cooldown` 0 turns the breaker off.
    """

    def __init__(
        self, cooldown: float = DEFAULT_COOLDOWN, *, max_cooldown: float = MAX_COOLDOWN, clock: Clock = time.monotonic
    ) -> None:
        if cooldown < 0:
            raise ValueError("cooldown must be >= 0 seconds")
        self.cooldown = cooldown
        self.max_cooldown = max(max_cooldown, cooldown)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._opened_at = 0.0
        self._probe_at = 0.0
        self._wait = cooldown
        self._reason = ""

    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    def retry_in(self) -> float:
        """Seconds until the next probe is let through (0 when calls go through now)."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self._opened_at + self._wait - self._clock())

    def admit(self, detail: str = "") -> None:
        """Return if a call may go to the model now (closed, or this call is the probe); else raise ModelError.

        `detail` (e.g. the timeout and retries) is added to the message of the fast failure."""
        with self._lock:
            if self._state == "closed" or self.cooldown == 0:
                return
            now = self._clock()
            due = self._state == "open" and now >= self._opened_at + self._wait
            if due or (self._state == "half-open" and now >= self._probe_at + self.max_cooldown):  # a lost probe
                self._state = "half-open"
                self._probe_at = now
                return
            if self._state == "half-open":
                when = "once the call now testing it answers"
            else:
                when = f"in {self._opened_at + self._wait - now:.0f} s"
            extra = f"; {detail}" if detail else ""
            ago = now - self._opened_at
            raise ModelError(
                f"the model is unavailable (last call: {self._reason}, {ago:.0f} s ago{extra}); "
                f"it will be tried again {when}"
            )

    def succeeded(self) -> None:
        """The model answered (well or badly): close the breaker and reset the cool-down."""
        with self._lock:
            self._state = "closed"
            self._wait = self.cooldown
            self._reason = ""

    def failed(self, error: BaseException) -> None:
        """A call failed: open the breaker if `error` says the model is unavailable, otherwise the model is up."""
        cause = _outage_cause(error)
        if cause is None:
            self.succeeded()
            return
        with self._lock:
            if self._state == "half-open":  # the probe failed: wait longer before the next one
                self._wait = min(self._wait * 2, self.max_cooldown)
            elif self._state == "closed":
                self._wait = self.cooldown
            self._state = "open"
            self._opened_at = self._clock()
            self._reason = _describe(cause)
