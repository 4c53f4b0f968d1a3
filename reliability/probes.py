"""Isolation and access through the web app's API: canaries in several sessions, cross-session probes, file routes.

    python -m reliability.probes [--pairs 5] [--probes 1000] [--rate-limit-attempts 300]
                                 [--out reliability/results/probes.json]

Runs `comentor ui` (offline facilitator) in a subprocess over a fresh COMENTOR_HOME, with the wrong-code limits raised
(every probe comes from 127.0.0.1). Each of `--pairs` pairs gets a canary (a random token) in a partner's message and
in two accountability items, and its session is summarized so its exports exist. Opening a pair returns a signed,
expiring *grant*, the first input of every other endpoint. Then `--probes` probes try to reach another pair's session
through the API, as a visitor who never opened a pair, who tried a wrong code, who opened a different pair, or who
*hijacks* the victim's Gradio session (a client whose `session_hash` is the victim's own), with no grant, an empty one,
a forged, altered, tampered, oversized, expired or stale one, or one signed with the app's own key for another pair's
session: every endpoint (open, load with a remembered grant and with query parameters, send, the four ask buttons,
item confirm/edit/delete with the other pair's item ids, summarize, the three exports, new session, agenda
plan/start, the agenda clock), through `gradio_client`, the REST `/gradio_api/call/` API and the page's own
`/gradio_api/queue/join`. A leak is any response holding another pair's canary, access code, export link or grant
(any token whose claims name another pair). Every probe must be refused; afterwards every pair's turns, items and
sessions must be exactly as planted.

What a Gradio session hash still gives, beyond the grant (reported under `session_hash`): the victim's agenda draft,
kept in server-side `gr.State`, and the victim's event stream (`/gradio_api/queue/data?session_hash=`).

Then the file routes: `/gradio_api/file=`, `/file=`, `/gradio_api/file/`, `/static/`, `/assets/`, `/gradio_api/proxy=`
and `/gradio_api/upload`, with `../`, `%2e%2e`, double encoding, absolute paths (/etc/passwd, the database, the UI
secret, the exports folder) and URLs (SSRF to loopback and link-local addresses).

Last, on a second app with the default wrong-code limits and grants that last seconds (`access`): an expired grant is
refused everywhere, a new access code revokes earlier grants, `--rate-limit-attempts` wrong codes from one client are
checked only up to the limit (the rest and then the right code refused as "too many"), a burst of parallel wrong codes
from another address, and a third address unaffected.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import functools
import json
import random
import re
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field

from facilitator.settings import Settings
from facilitator.store import Store
from reliability.load import OPEN_STATUS, ROOT, STATUS, UIProcess, client, fn_index, make_pairs, status_of

# What a refusal says (the app's own messages, then Gradio's input validation of choices).
REFUSALS = {
    "access": re.compile(
        r"wrong pair id or access code|open your pair first|does not belong to this pair|"
        r"Open your pair with its id and access code|this link did not open a pair|enter the pair's access code",
        re.IGNORECASE,
    ),
    "grant-refused": re.compile(r"has expired or was revoked", re.IGNORECASE),
    "rate-limited": re.compile(r"too many wrong access codes", re.IGNORECASE),
    "not-a-choice": re.compile(r"is not in the list of choices", re.IGNORECASE),
    # the event stream of a borrowed session hash is refused (ui/security.py StreamBinding): no answer arrives
    "stream-refused": re.compile(r"belongs to another browser|CancelledError", re.IGNORECASE),
    "not-this-session": re.compile(r"choose an item of this session first", re.IGNORECASE),
    "unknown-speaker": re.compile(r"unknown speaker|choose who you are \(the speaker\)", re.IGNORECASE),
    # Gradio refused or failed the event before or inside the handler, with no answer (show_error=False hides why)
    "gradio-error": re.compile(r'"success":\s*false|^event: error|AppError|^HTTP 4\d\d', re.IGNORECASE | re.MULTILINE),
}
NOT_REFUSED = ("answered", "timeout", "error")
VISITORS = ("fresh", "raw", "other-pair", "wrong-code", "hijacker", "hijacker-other-pair")
ASK_ENDPOINTS = ("/on_ask", "/on_ask_1", "/on_ask_2", "/on_ask_3")
EXPORT_ENDPOINTS = ("/handler_3", "/handler_4", "/handler_5")
# a grant: base64url claims, a dot, base64url HMAC-SHA256 (43 characters)
GRANT = re.compile(r"[A-Za-z0-9_-]{40,}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
OPEN_LIMITS = {"COMENTOR_ACCESS_ATTEMPTS": "100000", "COMENTOR_ACCESS_ATTEMPTS_PER_PAIR": "100000"}
CALL_TIMEOUT = 90.0


class Planted(BaseModel):
    """One pair with a canary in its session: what a probe must never see."""

    pair: str
    code: str
    speakers: list[str]
    names: list[str] = Field(default_factory=list, description="The partners' full names.")
    canary: str
    session: str
    grant: str = Field(default="", description="The grant its owner's client got when opening it.")
    session_hash: str = Field(default="", description="The Gradio session hash of its owner's client.")
    items: list[str]
    export_urls: list[str]
    export_files: list[str] = Field(description="The originals the app wrote to its private temporary folder.")


def text_of(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False) if not isinstance(value, str) else value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims_of(token: str) -> dict[str, Any] | None:
    """The claims of a grant-shaped token (not verified), or None."""
    body = token.split(".", 1)[0]
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def predict(c: Any, *args: Any, api_name: str, timeout: float = CALL_TIMEOUT) -> Any:
    """One event through the queue, bounded in time (a lost stream message must not hang a probe run)."""
    return c.submit(*args, api_name=api_name).result(timeout=timeout)


def plant(url: str, store: Store, n: int) -> list[Planted]:
    """`n` pairs, each opened by a client, with a canary in a message and in items, then summarized, and opened once
    more as the next meeting would be: a summarized session is never reopened, so this first open starts the pair's
    next session, and a visitor that later opens its own pair changes nothing."""
    planted: list[Planted] = []
    for pair, code in make_pairs(store, n, prefix="v"):
        canary = f"CANARY{len(planted)}Z{secrets.token_hex(6)}"
        c = client(url)
        opened = predict(c, pair.id, code, api_name="/on_open")
        grant = opened[0]
        claims = claims_of(grant) or {}
        session = str(claims.get("session_id", ""))
        a, b = pair.ids
        text = f"Only we should read this: {canary}. I'll send you the {canary} report by Friday."
        predict(c, grant, a, text, api_name="/on_send")
        predict(c, grant, b, f"Great, and I will send you my {canary} slides by Monday.", api_name="/on_send")
        summary = predict(c, grant, api_name="/on_summarize")
        exports = [f for f in summary if isinstance(f, dict) and f.get("url")]
        originals = Path(tempfile.gettempdir()).glob(f"comentor-exports-*/{session}/*/*")  # the app's private folder
        predict(client(url), pair.id, code, api_name="/on_open")  # the next session (the summarized one has ended)
        planted.append(
            Planted(
                pair=pair.id,
                code=code,
                speakers=list(pair.ids),
                names=[p.name for p in pair.participants],
                canary=canary,
                session=session,
                grant=grant,
                session_hash=c.session_hash,
                items=[s.id for s in store.session_items(session)],
                export_urls=[f["url"] for f in exports],
                export_files=sorted(str(p) for p in originals),
            )
        )
    return planted


def snapshot(store: Store, planted: list[Planted]) -> dict[str, Any]:
    """Every planted pair's sessions, turns and items, to compare before and after the probes."""
    out: dict[str, Any] = {}
    for p in planted:
        sessions = store.list_sessions(p.pair)
        out[p.pair] = {
            "sessions": [s.id for s in sessions],
            "turns": [(t.speaker, t.text) for s in sessions for t in store.turns(s.id)],
            "items": [
                (i.id, i.item.owner, i.item.action, str(i.item.due), sorted(i.confirmed_by), i.deleted)
                for s in sessions
                for i in store.session_items(s.id)
            ],
        }
    return out


# ---------------------------------------------------------------------------------------------- grants
class Minter:
    """Grants signed with the app's own key (COMENTOR_HOME/signing-key, or COMENTOR_SECRET_KEY): genuine signatures
    over claims the app never issues (expired, a stale code fingerprint, a session of another pair), to test what is
    checked beyond the signature."""

    def __init__(self, home: Path, store: Store) -> None:
        from facilitator.access import signing_key

        self.key = signing_key(Settings(home=home))
        self.store = store

    def mint(self, pair: str, session: str, fingerprint: str | None, lifetime: dt.timedelta) -> str:
        from facilitator.access import Signer

        tag = fingerprint if fingerprint is not None else self.store.code_fingerprint(pair) or "0" * 16
        return Signer(self.key, lifetime=lifetime).issue(pair, session, tag, dt.datetime.now(dt.UTC))


def bad_grants(victim: Planted, other: Planted, minter: Minter | None) -> dict[str, str | None]:
    """Grants a visitor without the victim's code might send, by name. None of them may open the victim's session."""
    claims = {
        "pair_id": victim.pair,
        "session_id": victim.session,
        "fingerprint": (claims_of(other.grant) or {}).get("fingerprint", "0" * 16),
        "expires": "2099-01-01T00:00:00Z",
    }
    body = _b64(json.dumps(claims).encode())
    _other_body, _, other_signature = other.grant.partition(".")
    victim_body, _, victim_signature = victim.grant.partition(".")
    flipped = ("A" if victim_signature[0] != "A" else "B") + victim_signature[1:]
    # the other pair's genuine grant with its claims rewritten to name the victim's pair and session
    rewritten = dict(claims_of(other.grant) or {}, pair_id=victim.pair, session_id=victim.session)
    session_swapped = dict(claims_of(other.grant) or {}, session_id=victim.session)  # only the session changed
    grants: dict[str, str | None] = {
        "none": None,
        "empty": "",
        "garbage": "not-a-grant",
        "oversized": "A" * 2500 + "." + other_signature,
        "unsigned": body,
        "empty-signature": body + ".",
        "forged-signature": body + "." + _b64(secrets.token_bytes(32)),
        "other-pair-signature": body + "." + other_signature,
        "altered-other-grant": _b64(json.dumps(rewritten).encode()) + "." + other_signature,
        "other-grant-victim-session": _b64(json.dumps(session_swapped).encode()) + "." + other_signature,
        "tampered-victim-grant": victim_body + "." + flipped,
    }
    if minter is not None:
        hour = dt.timedelta(hours=1)
        grants["expired"] = minter.mint(victim.pair, victim.session, None, -dt.timedelta(minutes=1))
        grants["stale-code"] = minter.mint(victim.pair, victim.session, "0" * 16, hour)  # issued before a new code
        grants["other-pair-session"] = minter.mint(other.pair, victim.session, None, hour)  # pair A, pair B's session
        grants["unknown-pair"] = minter.mint(victim.pair + "-x", victim.session, "0" * 16, hour)
    return grants


# ---------------------------------------------------------------------------------------------- raw HTTP
def raw_call(
    url: str,
    api_name: str,
    data: list[Any],
    timeout: float = 30,
    *,
    local_address: str | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """The REST API: POST /gradio_api/call/<name>, then read its event stream to the end (from `local_address`)."""
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    with httpx.Client(timeout=timeout, transport=transport, headers=headers) as http:
        posted = http.post(f"{url}gradio_api/call/{api_name.lstrip('/')}", json={"data": data})
        if posted.status_code != 200:
            return f"HTTP {posted.status_code}: {posted.text}"
        event = posted.json()["event_id"]
        return http.get(f"{url}gradio_api/call/{api_name.lstrip('/')}/{event}").text


def raw_join(
    url: str, index: int, data: list[Any], query: str = "", timeout: float = 30, session: str | None = None
) -> str:
    """The page's own protocol: POST /gradio_api/queue/join, then /queue/data, as session `session` (a new one by
    default; a victim's own session hash for a hijack)."""
    session = session or uuid.uuid4().hex[:11]
    body = {"data": data, "fn_index": index, "session_hash": session, "event_data": None, "trigger_id": None}
    with httpx.Client(timeout=timeout) as http:
        joined = http.post(f"{url}gradio_api/queue/join{query}", json=body)
        if joined.status_code != 200:
            return f"HTTP {joined.status_code}: {joined.text}"
        event = joined.json().get("event_id", "")
        lines = []
        with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                lines.append(line)
                if event in line and ('"process_completed"' in line or '"close_stream"' in line):
                    break
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ probes
class Probe(BaseModel):
    kind: str
    endpoint: str
    visitor: str = Field(
        description="fresh (never opened), wrong-code (tried the victim with a bad code), other-pair (opened its own),"
        " hijacker (the victim's session hash), hijacker-other-pair (both), raw-http"
    )
    grant: str = Field(default="-", description="Which grant the probe sent (see bad_grants), or '-'.")
    outcome: str
    leak: bool
    sample: str = ""


def classify(text: str) -> str:
    for name, pattern in REFUSALS.items():
        if pattern.search(text):
            return name
    return "answered"


def leaks(text: str, attacker: Planted | None, planted: list[Planted], sent: str) -> bool:
    """Whether a response holds another pair's canary, access code, export link or grant (not echoed from the
    request): the planted grants, and any grant-shaped token whose claims name another planted pair."""
    others = [p for p in planted if attacker is None or p.pair != attacker.pair]
    for p in others:
        secrets_of = [p.canary, *(u.split("file=")[-1] for u in p.export_urls)]
        for secret in (p.code, p.grant):
            if secret and secret not in sent:
                secrets_of.append(secret)
        if any(s and s in text for s in secrets_of):
            return True
    named = {p.pair for p in others}
    return any(t not in sent and (claims_of(t) or {}).get("pair_id") in named for t in GRANT.findall(text))


class Visitor:
    """A gradio_client session: never opened, after a wrong code, opened on its own (planted) pair, and/or using the
    victim's own session hash."""

    def __init__(self, url: str, kind: str, own: Planted | None = None, victim: Planted | None = None) -> None:
        self.kind, self.own = kind, own
        self.c = client(url)
        if kind in ("other-pair", "hijacker-other-pair") and own is not None:
            predict(self.c, own.pair, own.code, api_name="/on_open")
        elif kind == "wrong-code" and victim is not None:
            predict(self.c, victim.pair, "not-the-code", api_name="/on_open")
        if kind.startswith("hijacker") and victim is not None:
            self.c.session_hash = victim.session_hash  # Gradio's state and queue for the victim's own page

    @property
    def lane(self) -> str:
        """Events of one session hash run one at a time (two streams of one hash would take each other's messages)."""
        return str(self.c.session_hash)


def swapcase_code(code: str) -> str:
    swapped = code.swapcase()
    return swapped if swapped != code else code + "x"


Plan = list[tuple[str, str, str, list[Any]]]  # (kind, endpoint, grant label, args)


def probe_plan(
    victim: Planted, other: Planted, visitor: str, rng: random.Random, grants: dict[str, str | None]
) -> Plan:
    """(kind, endpoint, grant label, args) of every gradio_client probe against `victim`; `other` is another planted
    pair (the visitor's own for other-pair visitors). Session endpoints get a bad grant (another pair's own grant for
    a visitor that opened its pair: what that visitor has), and the victim's speakers and item ids."""
    a = victim.speakers[0]
    item = rng.choice(victim.items) if victim.items else "no-item"
    wrong_codes = [
        "",
        "not-the-code",
        other.code,
        swapcase_code(victim.code),
        victim.code[:-1],
        victim.code + " x",
        "x" + victim.code,
        victim.code + victim.code,
    ]
    labels = list(grants)

    def bad() -> tuple[str, str | None]:
        label = rng.choice(labels)
        return label, grants[label]

    opens: Plan = [
        ("open-wrong-code", "/on_open", "-", [victim.pair, rng.choice(wrong_codes)]),
        ("open-other-id", "/on_open", "-", [victim.pair.upper() + "x", victim.code]),
        ("open-second-button", "/on_open_1", "-", [victim.pair, rng.choice(wrong_codes)]),
        ("load-legacy-saved-code", "/on_load", "-", [{"pair": victim.pair, "code": rng.choice(wrong_codes)}]),
        (
            "load-legacy-saved-session",
            "/on_load",
            "-",
            [{"pair": other.pair, "code": other.code, "session": victim.session}],
        ),
    ]
    label, token = bad()
    opens.append(("load-remembered-bad-grant", "/on_load", label, [{"grant": token}]))
    if visitor in ("other-pair", "hijacker-other-pair"):
        # what this visitor holds: its own pair's genuine grant, used with the victim's speakers and items
        own = other.grant
        plan: Plan = [
            *opens,
            ("send-as-victim-speaker", "/on_send", "own-grant", [own, a, f"hello from outside {uuid.uuid4().hex[:6]}"]),
            ("send-second-button", "/on_send_1", "own-grant", [own, a, "hello from outside"]),
            ("confirm-victim-item", "/handler", "own-grant", [own, a, item]),
            ("delete-victim-item", "/handler_1", "own-grant", [own, a, item]),
            ("edit-victim-item", "/handler_2", "own-grant", [own, a, item, "hijacked", "2030-01-01", None]),
            (
                "load-remembered-altered-grant",
                "/on_load",
                "altered-other-grant",
                [{"grant": grants.get("altered-other-grant")}],
            ),
        ]
        if visitor == "other-pair":  # Gradio checks the speaker against this visitor's own choices first
            plan += [("ask-as-victim-speaker", name, "own-grant", [own, a]) for name in ASK_ENDPOINTS]
        return plan
    plan = list(opens)
    targets: list[tuple[str, str, list[Any]]] = [
        ("send-as-victim-speaker", "/on_send", [a, f"hello from outside {uuid.uuid4().hex[:6]}"]),
        ("send-second-button", "/on_send_1", [a, "hello from outside"]),
        ("send-no-speaker", "/on_send", [None, "hello from nowhere"]),
        *[("ask-as-victim-speaker", name, [a]) for name in ASK_ENDPOINTS],
        ("ask-no-speaker", rng.choice(ASK_ENDPOINTS), [None]),
        ("confirm-victim-item", "/handler", [a, item]),
        ("delete-victim-item", "/handler_1", [a, item]),
        ("edit-victim-item", "/handler_2", [a, item, "hijacked", "2030-01-01", None]),
        ("summarize", "/on_summarize", []),
        *[("export", name, []) for name in EXPORT_ENDPOINTS],
        ("new-session", "/on_new", []),
        ("plan-agenda", "/on_plan", [30]),
        ("agenda-clock", "/on_tick", []),
        ("start-agenda", "/on_start", [{"headers": ["Item", "Minutes", "Lead"], "data": [["x", 5, "both"]]}]),
    ]
    for kind, endpoint, args in targets:
        label, token = bad()
        plan.append((kind, endpoint, label, [token, *args]))
    return plan


def status_index(endpoint: str) -> int:
    if endpoint.startswith(("/on_open", "/on_load", "/on_create")):
        return OPEN_STATUS
    return 0 if endpoint == "/on_plan" or endpoint in EXPORT_ENDPOINTS else STATUS


def run_client_probe(
    v: Visitor, kind: str, endpoint: str, label: str, args: list[Any], planted: list[Planted]
) -> Probe:
    try:
        result = predict(v.c, *args, api_name=endpoint)
        text = text_of(result)
        status = status_of(result, status_index(endpoint))
        outcome = classify(status) if status else classify(text)
        if endpoint == "/on_tick":  # the clock answers a visitor without a session with no update at all
            outcome = "no-update" if result in (None, "") or '"__type__": "update"' in text else "answered"
    except TimeoutError as e:
        text, outcome = f"TimeoutError: {e}", "timeout"
    except Exception as e:  # a refusal by Gradio's own input validation arrives as an exception
        text = f"{type(e).__name__}: {e}"
        outcome = classify(text)
    return Probe(
        kind=kind,
        endpoint=endpoint,
        visitor=v.kind,
        grant=label,
        outcome=outcome,
        leak=leaks(text, v.own, planted, json.dumps(args, default=str)),
        sample=text[:200] if outcome in NOT_REFUSED else "",
    )


@functools.cache
def _fn_index(url: str, api_name: str) -> int:
    return fn_index(url, api_name)


@dataclass
class RawProbe:
    kind: str
    endpoint: str
    grant: str
    call: Callable[[], str]
    request: str
    lane: str  # a victim's session hash for a hijack over raw HTTP, else unique


def raw_probes(
    url: str, victim: Planted, other: Planted, grants: dict[str, str | None], rng: random.Random
) -> list[RawProbe]:
    """Probes over raw HTTP: the REST API and the page's own queue protocol (some as the victim's session hash)."""
    load, send, start, confirm = (_fn_index(url, name) for name in ("/on_load", "/on_send", "/on_start", "/handler"))
    a = victim.speakers[0]
    item = victim.items[0] if victim.items else "no-item"
    q = f"?pair={quote(victim.pair)}&code="
    labels = list(grants)
    table = {"headers": ["Item", "Minutes", "Lead"], "data": [["x", 5, "both"]]}
    out: list[RawProbe] = []

    def bad() -> tuple[str, str | None]:
        label = rng.choice(labels)
        return label, grants[label]

    def join(kind: str, index: int, label: str, data: list[Any], query: str = "", hijack: bool = False) -> None:
        session = victim.session_hash if hijack else None
        call = functools.partial(raw_join, url, index, data, query, session=session)
        endpoint = "queue/join (victim's session hash)" if hijack else "queue/join"
        lane = victim.session_hash if hijack else uuid.uuid4().hex
        out.append(RawProbe(kind, endpoint, label, call, text_of(data) + query, lane))

    def rest(kind: str, name: str, label: str, data: list[Any]) -> None:
        call = functools.partial(raw_call, url, name, data)
        out.append(RawProbe(kind, f"call{name}", label, call, text_of(data), uuid.uuid4().hex))

    join("load-query-wrong-code", load, "-", [None], q + "nope")
    join("load-query-no-code", load, "-", [None], f"?pair={quote(victim.pair)}")
    join("load-query-other-code", load, "-", [None], q + quote(other.code))
    label, token = bad()
    join("load-remembered-bad-grant", load, label, [{"grant": token}])
    join("load-remembered-altered-grant", load, "altered-other-grant", [{"grant": grants["altered-other-grant"]}])
    label, token = bad()
    join("send-bad-grant", send, label, [token, a, "x"])
    legacy = {"pair": victim.pair, "code": victim.code[:-1], "session": victim.session}
    join("send-dict-as-grant", send, "dict", [legacy, a, "x"])
    # a hijack of the victim's own page: its session hash, no grant or a bad one
    hijacks: list[tuple[str, int, list[Any]]] = [
        ("hijack-send", send, [a, "hijacked through the queue"]),
        ("hijack-confirm", confirm, [a, item]),
        ("hijack-start-agenda", start, [None, table]),
    ]
    for kind, index, payload in hijacks:
        label, token = bad()
        join(kind, index, label, [token, *payload], hijack=True)
    rest("rest-open-wrong-code", "/on_open", "-", [victim.pair, "nope"])
    for kind, name, args in [
        ("rest-send", "/on_send", [a, "hello over REST"]),
        ("rest-ask", "/on_ask", [a]),
        ("rest-confirm", "/handler", [a, item]),
        ("rest-summarize", "/on_summarize", []),
        ("rest-export", "/handler_3", []),
        ("rest-new-session", "/on_new", []),
    ]:
        label, token = bad()
        rest(kind, name, label, [token, *args])
    label, token = bad()
    rest("rest-load-saved", "/on_load", label, [{"grant": token}])
    return out


class ProbeSummary(BaseModel):
    pairs: int
    probes: int
    leaks: int
    refused: int
    answered: int = Field(description="Probes not refused (should be 0).")
    errors: int = Field(default=0, description="Probes that timed out or failed in transport (should be 0).")
    outcomes: dict[str, int]
    by_kind: dict[str, int]
    by_visitor: dict[str, int]
    by_grant: dict[str, int] = Field(default_factory=dict, description="Probes per grant sent (see bad_grants).")
    answered_samples: list[str]
    error_samples: list[str] = Field(default_factory=list)
    pairs_changed: list[str] = Field(description="Planted pairs whose sessions, turns or items changed.")
    detector_control: bool = Field(
        description="The owner's own view, checked the same way, is flagged (the check works), and so is its grant."
    )
    seconds: float


def run_probes(
    url: str, store: Store, planted: list[Planted], total: int, seed: int = 7, *, home: Path | None = None
) -> ProbeSummary:
    """`total` probes against the planted pairs; with `home` (the app's COMENTOR_HOME) also grants signed with the
    app's own key (expired, stale, another pair's session)."""
    rng = random.Random(seed)
    minter = Minter(home, store) if home is not None else None
    before = snapshot(store, planted)
    started = time.monotonic()
    lanes: dict[str, list[tuple[int, Callable[[], Probe]]]] = {}
    visitors: dict[tuple[str, str, str], Visitor] = {}
    n = rounds = 0
    try:
        while n < total:
            victim = rng.choice(planted)
            other = rng.choice([p for p in planted if p.pair != victim.pair])
            grants = bad_grants(victim, other, minter)
            kind = VISITORS[rounds % len(VISITORS)]
            rounds += 1
            if kind == "raw":
                for raw in raw_probes(url, victim, other, grants, rng):
                    lanes.setdefault(raw.lane, []).append((n, _raw_runner(raw, planted)))
                    n += 1
                continue
            key = (kind, other.pair if kind.endswith("other-pair") else "", victim.pair)
            if key not in visitors:
                own = other if kind.endswith("other-pair") else None
                visitors[key] = Visitor(url, kind, own=own, victim=victim)
            v = visitors[key]
            for probe_kind, endpoint, label, args in probe_plan(victim, other, kind, rng, grants):
                job = functools.partial(run_client_probe, v, probe_kind, endpoint, label, args, planted)
                lanes.setdefault(v.lane, []).append((n, job))
                n += 1

        def run_lane(jobs: list[tuple[int, Callable[[], Probe]]]) -> list[tuple[int, Probe]]:
            return [(index, job()) for index, job in jobs if index < total]

        # one session hash sends one event at a time (as a page does); sessions and raw calls run side by side
        with ThreadPoolExecutor(max_workers=4) as pool:
            done = [item for chunk in pool.map(run_lane, lanes.values()) for item in chunk]
    finally:
        for v in visitors.values():
            with contextlib.suppress(Exception):
                v.c.close()
    probes = [probe for _n, probe in sorted(done, key=lambda item: item[0])]
    after = snapshot(store, planted)
    outcomes = Counter(p.outcome for p in probes)
    owner = planted[0]
    own = predict(client(url), owner.pair, owner.code, api_name="/on_open")
    own_view = text_of(own)
    control = (
        leaks(own_view, None, planted, owner.code)
        and classify(status_of(own, OPEN_STATUS)) == "answered"
        and leaks(text_of(own[0]), planted[1], planted, "")  # the owner's fresh grant, seen by anyone else
    )
    return ProbeSummary(
        pairs=len(planted),
        probes=len(probes),
        leaks=sum(p.leak for p in probes),
        refused=sum(1 for p in probes if p.outcome not in NOT_REFUSED),
        answered=outcomes.get("answered", 0),
        errors=outcomes.get("timeout", 0) + outcomes.get("error", 0),
        outcomes=dict(outcomes),
        by_kind=dict(Counter(p.kind for p in probes)),
        by_visitor=dict(Counter(p.visitor for p in probes)),
        by_grant=dict(Counter(p.grant for p in probes)),
        answered_samples=[f"{p.kind} {p.endpoint} [{p.grant}]: {p.sample}" for p in probes if p.outcome == "answered"][
            :5
        ],
        error_samples=[f"{p.kind} {p.endpoint}: {p.sample}" for p in probes if p.outcome in ("timeout", "error")][:5],
        pairs_changed=[pair for pair in before if before[pair] != after.get(pair)],
        detector_control=control,
        seconds=round(time.monotonic() - started, 2),
    )


def _raw_runner(raw: RawProbe, planted: list[Planted]) -> Callable[[], Probe]:
    def run() -> Probe:
        try:
            text = raw.call()
            outcome = classify(text)
        except httpx.TimeoutException as e:
            text, outcome = f"{type(e).__name__}: {e}", "timeout"
        except httpx.HTTPError as e:
            text, outcome = f"{type(e).__name__}: {e}", "error"
        return Probe(
            kind=raw.kind,
            endpoint=raw.endpoint,
            visitor="raw-http",
            grant=raw.grant,
            outcome=outcome,
            leak=leaks(text, None, planted, raw.request),
            sample=text[:200] if outcome in NOT_REFUSED else "",
        )

    return run


# ------------------------------------------------------------------------------------ session-hash hijack
class HijackResult(BaseModel):
    """A second client with the victim's own session hash, while the victim's page is open."""

    attempts: int
    refused: int
    outcomes: dict[str, int]
    turns_before: int
    turns_after: int
    items_before: list[Any]
    items_after: list[Any]
    stored_nothing: bool


def run_hijack(url: str, store: Store, victim: Planted) -> HijackResult:
    """The red team's attack: the victim opens its pair and talks; a client that knows only the victim's session
    hash sends a turn, asks, confirms and deletes an item and summarizes, with no grant or a wrong one."""
    v = client(url)
    try:
        grant = predict(v, victim.pair, victim.code, api_name="/on_open")[0]
        session = str((claims_of(grant) or {}).get("session_id", ""))
        before = store.turns(session)
        items_before = [(s.id, sorted(s.confirmed_by), s.deleted) for s in store.session_items(session)]
        h = client(url)
        h.session_hash = v.session_hash
        a = victim.speakers[0]
        item = victim.items[0] if victim.items else "no-item"
        outcomes: Counter[str] = Counter()
        try:
            for token in (None, "", "not-a-grant", grant[:-2] + "xx", grant.split(".")[0]):
                for endpoint, args, index in [
                    ("/on_send", [token, a, "hijacked: I'll wire you the money by Friday"], STATUS),
                    ("/on_ask", [token, a], STATUS),
                    ("/handler", [token, a, item], STATUS),
                    ("/handler_1", [token, a, item], STATUS),
                    ("/on_summarize", [token], STATUS),
                    ("/on_new", [token], STATUS),
                ]:
                    try:
                        outcomes[classify(status_of(predict(h, *args, api_name=endpoint), index))] += 1
                    except TimeoutError:
                        outcomes["timeout"] += 1
                    except Exception as e:
                        outcomes[classify(f"{type(e).__name__}: {e}")] += 1
        finally:
            h.close()
        after = store.turns(session)
        items_after = [(s.id, sorted(s.confirmed_by), s.deleted) for s in store.session_items(session)]
        attempts = sum(outcomes.values())
        return HijackResult(
            attempts=attempts,
            refused=sum(n for k, n in outcomes.items() if k not in NOT_REFUSED),
            outcomes=dict(outcomes),
            turns_before=len(before),
            turns_after=len(after),
            items_before=items_before,
            items_after=items_after,
            stored_nothing=len(after) == len(before) and items_after == items_before,
        )
    finally:
        v.close()


class DraftResult(BaseModel):
    """The agenda draft is server-side `gr.State`, keyed by the Gradio session hash only."""

    victim_draft_items: int
    attacker_status: str
    leaked: bool = Field(description="The attacker's answer holds the victim's canary or partners' names.")
    leaked_canary: bool


def run_draft_hijack(url: str, victim: Planted, attacker: Planted) -> DraftResult:
    """The victim drafts an agenda; the attacker (its own pair open, so it has a genuine grant of its own) takes the
    victim's session hash and starts "its" agenda with the draft's titles: what the draft holds comes along."""
    v = client(url)
    a = client(url)
    try:
        grant = predict(v, victim.pair, victim.code, api_name="/on_open")[0]
        drafted = predict(v, grant, 30, api_name="/on_plan")
        rows = drafted[1] if isinstance(drafted, (list, tuple)) and isinstance(drafted[1], dict) else {"data": []}
        own = predict(a, attacker.pair, attacker.code, api_name="/on_open")[0]
        a.session_hash = v.session_hash
        table = {"headers": ["Item", "Minutes", "Lead"], "data": [[r[0], r[1], "both"] for r in rows.get("data", [])]}
        try:
            result: Any = predict(a, own, table, api_name="/on_start")
        except Exception as e:  # the borrowed session hash's event stream is refused: nothing comes back
            result = f"{type(e).__name__}: event stream refused"
        text = text_of(result)
        return DraftResult(
            victim_draft_items=len(rows.get("data", [])),
            attacker_status=status_of(result, STATUS)[:200],
            leaked=victim.canary in text or any(name in text for name in victim.names),
            leaked_canary=victim.canary in text,
        )
    finally:
        v.close()
        a.close()


class StreamResult(BaseModel):
    """Gradio streams a session's events to whoever reads `/gradio_api/queue/data?session_hash=`."""

    victim_events: int
    victim_timeouts: int = Field(description="Victim events whose result the eavesdropper took (the page hangs).")
    eavesdropped_canary: bool
    eavesdropped_grant: bool
    stolen_grant_opens: bool = Field(description="A third client with the eavesdropped grant reads the victim's view.")


def run_stream_eavesdrop(url: str, victim: Planted, tries: int = 3) -> StreamResult:
    """While the victim reopens its pair, a reader of the victim's event stream (its session hash only) listens."""
    v = client(url)
    lines: list[str] = []
    stop = threading.Event()

    def listen() -> None:
        """Read the victim's stream, reconnecting while the victim is active (Gradio closes an idle stream)."""
        params = {"session_hash": v.session_hash}
        while not stop.is_set():
            with (
                contextlib.suppress(httpx.HTTPError),
                httpx.Client(timeout=httpx.Timeout(10, read=None)) as http,
                http.stream("GET", f"{url}gradio_api/queue/data", params=params) as stream,
            ):
                for line in stream.iter_lines():
                    lines.append(line)
                    if stop.is_set():
                        return
            time.sleep(0.05)

    timeouts = 0
    listener = threading.Thread(target=listen, daemon=True)
    try:
        predict(v, victim.pair, victim.code, api_name="/on_open", timeout=20)  # the victim's page is open
        listener.start()
        time.sleep(1.0)
        for _ in range(tries):
            try:
                predict(v, victim.pair, victim.code, api_name="/on_open", timeout=20)
            except TimeoutError:
                timeouts += 1
        time.sleep(1.0)
    finally:
        stop.set()
        v.close()
    heard = "\n".join(lines)
    stolen = [t for t in GRANT.findall(heard) if (claims_of(t) or {}).get("pair_id") == victim.pair]
    opens = False
    if stolen:
        thief = client(url)
        try:
            seen = text_of(predict(thief, {"grant": stolen[0]}, api_name="/on_load"))
            opens = victim.canary in seen
        except Exception:
            opens = False
        finally:
            thief.close()
    return StreamResult(
        victim_events=tries,
        victim_timeouts=timeouts,
        eavesdropped_canary=victim.canary in heard,
        eavesdropped_grant=bool(stolen),
        stolen_grant_opens=opens,
    )


# -------------------------------------------------------------------------------------------- file routes
class FileProbe(BaseModel):
    target: str
    path: str
    status: int
    served: bool = Field(description="HTTP 200 with the target's content (or any canary / passwd line) in the body.")


def file_targets(home: Path, planted: list[Planted]) -> dict[str, tuple[str, bytes | None]]:
    """What must not be served: name -> (absolute path, a marker of its content)."""
    targets: dict[str, tuple[str, bytes | None]] = {
        "etc-passwd": ("/etc/passwd", b"root:"),
        "database": (str(home / "comentor.db"), b"SQLite format"),
        "ui-secret": (str(home / "ui-secret"), None),
        "signing-key": (str(home / "signing-key"), None),
        "source": (str(ROOT / "facilitator" / "settings.py"), b"class Settings"),
    }
    for name in ("ui-secret", "signing-key"):
        path = home / name
        if path.is_file():
            targets[name] = (str(path), path.read_bytes().strip())
    for p in planted[:2]:
        for f in p.export_files:
            targets[f"export-original:{Path(f).name}:{p.pair}"] = (f, p.canary.encode())
    return targets


def traversal_paths(abs_path: str, gradio_cache: Path) -> list[str]:
    """Ways to name one absolute path through each file route (some starting inside Gradio's own cache)."""
    up = "../" * 12 + abs_path.lstrip("/")
    enc = quote(up, safe="")
    dot = up.replace("..", "%2e%2e")
    double = up.replace("..", "%252e%252e").replace("/", "%252f")
    tmp_gradio = str(gradio_cache)
    return [
        f"gradio_api/file={abs_path}",
        f"gradio_api/file={quote(abs_path, safe='')}",
        f"file={abs_path}",
        f"gradio_api/file/{abs_path.lstrip('/')}",
        f"gradio_api/file={up}",
        f"gradio_api/file={dot}",
        f"gradio_api/file={enc}",
        f"gradio_api/file={double}",
        f"gradio_api/file={tmp_gradio}/{up}",
        f"gradio_api/file={tmp_gradio}/%2e%2e/{up}",
        f"static/{dot}",
        f"static/{enc}",
        f"assets/{dot}",
        f"assets/{enc}",
        f"gradio_api/file=./{up}",
        f"gradio_api/file=//{abs_path.lstrip('/')}",
    ]


def fetch(url: str, path: str) -> httpx.Response:
    # a raw request target: httpx must not normalise the dots away
    with httpx.Client(timeout=15, follow_redirects=False) as http:
        request = http.build_request("GET", url)
        request.url = request.url.copy_with(raw_path=("/" + path).encode())
        return http.send(request)


def run_file_probes(url: str, home: Path, planted: list[Planted]) -> dict[str, Any]:
    probes: list[FileProbe] = []
    canaries = [p.canary.encode() for p in planted]
    for target, (abs_path, marker) in file_targets(home, planted).items():
        for path in traversal_paths(abs_path, Settings(home=home).gradio_cache_dir):
            try:
                response = fetch(url, path)
                body = response.content
                status = response.status_code
            except httpx.HTTPError:
                body, status = b"", 0
            served = status == 200 and (
                (marker is not None and marker in body) or any(c in body for c in canaries) or b"root:x:" in body
            )
            probes.append(FileProbe(target=target, path=path[:160], status=status, served=served))

    # SSRF: URLs through the file and proxy routes (loopback, link-local metadata, the app itself)
    ssrf = []
    for target in (
        "http://127.0.0.1:1/",
        "http://169.254.169.254/latest/meta-data/",
        f"{url}config",
        "file:///etc/passwd",
    ):
        for route in ("gradio_api/file=", "gradio_api/proxy=", "file="):
            try:
                response = fetch(url, route + target)
                status, location = response.status_code, response.headers.get("location", "")
            except httpx.HTTPError as e:
                status, location = 0, type(e).__name__
            ssrf.append({"route": route, "target": target, "status": status, "redirect": location})
    ssrf_followed = [s for s in ssrf if s["status"] in (200, 301, 302, 303, 307, 308)]

    # the pair's own export links: a capability URL (sha256 of a per-install seed and the content) sent only to them
    export_links = []
    for p in planted[:2]:
        for link in p.export_urls:
            response = httpx.get(link, timeout=15)
            export_links.append(
                {
                    "pair": p.pair,
                    "status_for_another_visitor": response.status_code,
                    "holds_canary": p.canary.encode() in response.content,
                    "path_has_64_hex": bool(re.search(r"/[0-9a-f]{64}/", link)),
                }
            )
    originals = [Path(f) for p in planted for f in p.export_files]
    modes = sorted({oct(f.stat().st_mode & 0o777) for f in originals if f.exists()})
    folder_modes = sorted({oct(f.parent.stat().st_mode & 0o777) for f in originals if f.exists()})

    # upload: the app has no upload widget, so the route is refused (ui/security.py) whoever asks
    upload: dict[str, Any] = {}
    with httpx.Client(timeout=60) as http:
        small = http.post(f"{url}gradio_api/upload", files={"files": ("../../escape.txt", b"hello", "text/plain")})
        upload["small_status"] = small.status_code
        if small.status_code == 200:
            stored = small.json()[0]
            upload["small_stored_under_gradio_cache"] = str(Path(stored).resolve()).startswith(
                str(Settings(home=home).gradio_cache_dir.resolve())
            )
            upload["small_escaped_name_kept"] = Path(stored).name
        big = http.post(
            f"{url}gradio_api/upload", files={"files": ("big.bin", b"0" * (25 * 1024 * 1024), "application/x")}
        )
        upload["25mb_status"] = big.status_code
        upload["25mb_body"] = big.text[:160]
        for response in (small, big):  # remove what this probe stored
            if response.status_code == 200:
                for stored_path in response.json():
                    Path(stored_path).unlink(missing_ok=True)

    leaked = [p for p in probes if p.served]
    return {
        "file_probes": len(probes),
        "files_served": len(leaked),
        "served_samples": [p.model_dump() for p in leaked[:5]],
        "statuses": dict(Counter(str(p.status) for p in probes)),
        "by_target": {t: sum(1 for p in probes if p.target == t) for t in dict.fromkeys(p.target for p in probes)},
        "ssrf_probes": len(ssrf),
        "ssrf_followed": ssrf_followed,
        "ssrf_statuses": dict(Counter(str(s["status"]) for s in ssrf)),
        "export_links": export_links,
        "export_original_file_modes": modes,
        "export_original_folder_modes": folder_modes,
        "upload": upload,
    }


# ---------------------------------------------------------------------------- expiry, revocation, limits
class ExpiryResult(BaseModel):
    access_hours: float
    grant_lifetime_s: float
    fresh_grant_accepted: bool = Field(description="Control: the grant worked while it was valid.")
    expired_probes: int
    expired_refused: int
    expired_outcomes: dict[str, int]
    stored_nothing_after_expiry: bool
    reopened_with_code: bool
    revoked_refused: bool = Field(description="After `rotate_code`, a grant issued before is refused.")
    revoked_within_lifetime: bool = Field(description="... while that grant had not expired yet (not an expiry).")
    old_code_refused: bool
    new_code_opens: bool


class RateLimitResult(BaseModel):
    limit_per_client: int
    limit_per_pair: int
    window_minutes: float
    attempts: int
    checked: int = Field(description="Wrong codes answered 'wrong' (actually checked) before the limit.")
    limited: int = Field(description="Attempts answered 'too many'.")
    other_outcomes: dict[str, int]
    right_code_refused: bool = Field(description="The right code, from the same client after the limit.")
    right_code_other_client_same_address: str = Field(description="Outcome for a new client at the same address.")
    right_code_by_link_refused: bool = Field(description="`?pair=&code=` from the same address after the limit.")
    forwarded_for_from_local_proxy: str = Field(
        description="The right code from 127.0.0.1 with X-Forwarded-For: uvicorn trusts the header from "
        "FORWARDED_ALLOW_IPS (127.0.0.1 by default), so the limit then counts the forwarded address."
    )
    forwarded_for_ignored: bool = Field(
        description="From an untrusted address (127.0.0.2, limited), an X-Forwarded-For header does not lift the limit."
    )
    failures_recorded: int
    other_address_opens: bool = Field(description="The right code from another address still opens the pair.")
    burst_attempts: int
    burst_checked: int = Field(
        description="Parallel wrong codes (8 at once) from a fresh address that were checked: more than the limit "
        "when several pass the count before any is recorded."
    )
    burst_limited: int
    burst_right_code_refused: bool
    seconds: float


def _open_outcome(text: str) -> str:
    outcome = classify(text)
    return "opened" if outcome == "answered" and "Opened" in text else outcome


def run_expiry(ui: UIProcess, hours: float) -> ExpiryResult:
    """A grant that lasts seconds: accepted while valid, refused everywhere after, and revoked by a new code."""
    store = ui.store()
    ((pair, code),) = make_pairs(store, 1, prefix="exp")
    a = pair.ids[0]
    c = client(ui.url)
    try:
        grant = predict(c, pair.id, code, api_name="/on_open")[0]
        claims = claims_of(grant) or {}
        expires = _expiry(grant)
        session = str(claims["session_id"])
        sent = predict(c, grant, a, "I'll send you the plan by Friday.", api_name="/on_send")
        fresh_ok = classify(status_of(sent, STATUS)) == "answered" and len(store.turns(session)) == 1
        items = [s.id for s in store.session_items(session)]
        wait = (expires - dt.datetime.now(dt.UTC)).total_seconds() + 1.5
        time.sleep(max(wait, 0))
        before = snapshot_session(store, pair.id)
        item = items[0] if items else "no-item"
        outcomes: Counter[str] = Counter()
        for endpoint, args, index in [
            ("/on_send", [grant, a, "after expiry"], STATUS),
            *[(name, [grant, a], STATUS) for name in ASK_ENDPOINTS],
            ("/handler", [grant, a, item], STATUS),
            ("/handler_1", [grant, a, item], STATUS),
            ("/handler_2", [grant, a, item, "changed", "2030-01-01", None], STATUS),
            ("/on_summarize", [grant], STATUS),
            *[(name, [grant], 0) for name in EXPORT_ENDPOINTS],
            ("/on_new", [grant], STATUS),
            ("/on_plan", [grant, 30], 0),
            ("/on_load", [{"grant": grant}], OPEN_STATUS),
        ]:
            try:
                outcomes[classify(status_of(predict(c, *args, api_name=endpoint), index))] += 1
            except Exception as e:
                outcomes[classify(f"{type(e).__name__}: {e}")] += 1
        tick = predict(c, grant, api_name="/on_tick")
        outcomes["no-update" if result_is_skip(tick) else "answered"] += 1
        stored_nothing = snapshot_session(store, pair.id) == before
        reopened = predict(c, pair.id, code, api_name="/on_open")
        reopened_ok = _open_outcome(status_of(reopened, OPEN_STATUS)) == "opened"
        # a new code revokes every grant issued before it
        second = reopened[0]
        new_code = store.rotate_code(pair.id)
        revoked = classify(status_of(predict(c, second, a, "after the new code", api_name="/on_send"), STATUS))
        revoked_in_time = dt.datetime.now(dt.UTC) < _expiry(second)
        old = _open_outcome(raw_call(ui.url, "/on_open", [pair.id, code], local_address="127.0.0.4"))
        new = _open_outcome(status_of(predict(c, pair.id, new_code, api_name="/on_open"), OPEN_STATUS))
    finally:
        c.close()
    total = sum(outcomes.values())
    return ExpiryResult(
        access_hours=hours,
        grant_lifetime_s=round(hours * 3600, 2),
        fresh_grant_accepted=fresh_ok,
        expired_probes=total,
        expired_refused=sum(n for k, n in outcomes.items() if k not in NOT_REFUSED),
        expired_outcomes=dict(outcomes),
        stored_nothing_after_expiry=stored_nothing,
        reopened_with_code=reopened_ok,
        revoked_refused=revoked == "grant-refused",
        revoked_within_lifetime=revoked_in_time,
        old_code_refused=old == "access",
        new_code_opens=new == "opened",
    )


def _expiry(token: str) -> dt.datetime:
    return dt.datetime.fromisoformat(str((claims_of(token) or {})["expires"]).replace("Z", "+00:00"))


def result_is_skip(result: Any) -> bool:
    return result in (None, "") or (isinstance(result, dict) and result.get("__type__") == "update")


def snapshot_session(store: Store, pair_id: str) -> Any:
    sessions = store.list_sessions(pair_id)
    return (
        [s.id for s in sessions],
        [(t.speaker, t.text) for s in sessions for t in store.turns(s.id)],
        [(i.id, i.item.action, sorted(i.confirmed_by), i.deleted) for s in sessions for i in store.session_items(s.id)],
    )


def default_limits() -> dict[str, str]:
    """The shipped wrong-code limits, set explicitly (whatever the caller's environment says)."""
    fields = Settings.model_fields
    return {
        f"COMENTOR_{name.upper()}": str(fields[name].default)
        for name in ("access_attempts", "access_attempts_per_pair", "access_window_minutes")
    }


def run_rate_limit(ui: UIProcess, attempts: int = 300, burst: int = 100) -> RateLimitResult:
    """`attempts` wrong codes from one client (127.0.0.1), one after another; a parallel burst from 127.0.0.2;
    the right code from 127.0.0.3. The app runs with the default limits."""
    limits = default_limits()
    per_client = int(limits["COMENTOR_ACCESS_ATTEMPTS"])
    per_pair = int(limits["COMENTOR_ACCESS_ATTEMPTS_PER_PAIR"])
    window = float(limits["COMENTOR_ACCESS_WINDOW_MINUTES"])
    store = ui.store()
    (target, code), (bursted, burst_code) = make_pairs(store, 2, prefix="rl")
    assert target.id is not None and bursted.id is not None
    started = time.monotonic()
    c = client(ui.url)
    outcomes: Counter[str] = Counter()
    try:
        for n in range(attempts):
            try:
                result = predict(c, target.id, f"wrong-{n}-{secrets.token_hex(3)}", api_name="/on_open")
                outcomes[classify(status_of(result, OPEN_STATUS))] += 1
            except Exception as e:
                outcomes[f"error:{type(e).__name__}"] += 1
        right = _open_outcome(status_of(predict(c, target.id, code, api_name="/on_open"), OPEN_STATUS))
    finally:
        c.close()
    other = client(ui.url)
    try:
        same_address = _open_outcome(status_of(predict(other, target.id, code, api_name="/on_open"), OPEN_STATUS))
    finally:
        other.close()
    by_link = raw_join(ui.url, fn_index(ui.url, "/on_load"), [None], f"?pair={target.id}&code={code}")
    proxied = raw_call(ui.url, "/on_open", [target.id, code], headers={"X-Forwarded-For": "203.0.113.9"})
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=window)
    failures = store.recent_failures(target.id, "127.0.0.1", since)[0]
    elsewhere = raw_call(ui.url, "/on_open", [target.id, code], local_address="127.0.0.3")

    def wrong(n: int) -> str:
        return classify(raw_call(ui.url, "/on_open", [bursted.id, f"burst-{n}"], local_address="127.0.0.2", timeout=60))

    with ThreadPoolExecutor(max_workers=8) as pool:
        bursts = Counter(pool.map(wrong, range(burst)))
    burst_right = classify(raw_call(ui.url, "/on_open", [bursted.id, burst_code], local_address="127.0.0.2"))
    spoofed = raw_call(
        ui.url,
        "/on_open",
        [bursted.id, burst_code],
        local_address="127.0.0.2",
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    return RateLimitResult(
        limit_per_client=per_client,
        limit_per_pair=per_pair,
        window_minutes=window,
        attempts=attempts,
        checked=outcomes.get("access", 0),
        limited=outcomes.get("rate-limited", 0),
        other_outcomes={k: n for k, n in outcomes.items() if k not in ("access", "rate-limited")},
        right_code_refused=right == "rate-limited",
        right_code_other_client_same_address=same_address,
        # the page says why the link did not open the pair: this address is locked out
        right_code_by_link_refused="today's session is open" not in by_link and classify(by_link) == "rate-limited",
        forwarded_for_from_local_proxy=_open_outcome(proxied),
        forwarded_for_ignored=classify(spoofed) == "rate-limited",
        failures_recorded=failures,
        other_address_opens=classify(elsewhere) == "answered" and "Opened" in elsewhere,
        burst_attempts=burst,
        burst_checked=bursts.get("access", 0),
        burst_limited=bursts.get("rate-limited", 0),
        burst_right_code_refused=burst_right == "rate-limited",
        seconds=round(time.monotonic() - started, 2),
    )


def run_access(workdir: Path, *, hours: float = 0.004, attempts: int = 300, burst: int = 100) -> dict[str, Any]:
    """The second app: default wrong-code limits, grants that last `hours` (0.004 h = 14.4 s)."""
    env = {"COMENTOR_FACILITATOR": "offline", "COMENTOR_ACCESS_HOURS": str(hours), **default_limits()}
    with UIProcess(workdir / "access-home", env) as ui:
        expiry = run_expiry(ui, hours)
        limits = run_rate_limit(ui, attempts, burst)
    return {"expiry": expiry.model_dump(), "rate_limit": limits.model_dump()}


# ------------------------------------------------------------------------------------------------- main
def run(
    workdir: Path, *, pairs: int = 5, probes: int = 1000, rate_limit_attempts: int = 300, burst: int = 100
) -> dict[str, Any]:
    home = workdir / "probe-home"
    with UIProcess(home, {"COMENTOR_FACILITATOR": "offline", **OPEN_LIMITS}) as ui:
        store = ui.store()
        planted = plant(ui.url, store, pairs)
        summary = run_probes(ui.url, store, planted, probes, home=home)
        hijack = run_hijack(ui.url, store, planted[0])
        draft = run_draft_hijack(ui.url, planted[1], planted[0])
        stream = run_stream_eavesdrop(ui.url, planted[2 % len(planted)])
        files = run_file_probes(ui.url, home, planted)
    access = run_access(workdir, attempts=rate_limit_attempts, burst=burst)
    return {
        "api": summary.model_dump(),
        "hijack": hijack.model_dump(),
        "session_hash": {"agenda_draft": draft.model_dump(), "event_stream": stream.model_dump()},
        "files": files,
        **access,
    }


def failures(result: dict[str, Any]) -> list[str]:
    """What makes a run fail (the event-stream finding is Gradio's design and is reported, not failed)."""
    api, files, hijack = result["api"], result["files"], result["hijack"]
    expiry, limits = result["expiry"], result["rate_limit"]
    checks = {
        "api leaks": api["leaks"],
        "api answered": api["answered"],
        "api errors": api["errors"],
        "pairs changed": api["pairs_changed"],
        "detector control": not api["detector_control"],
        "hijack stored": not hijack["stored_nothing"] or hijack["refused"] != hijack["attempts"],
        "agenda draft leaked through the session hash": result["session_hash"]["agenda_draft"]["leaked"],
        "files served": files["files_served"],
        "ssrf followed": files["ssrf_followed"],
        "expired grant accepted": expiry["expired_refused"] != expiry["expired_probes"]
        or not expiry["stored_nothing_after_expiry"],
        "revoked grant accepted": not expiry["revoked_refused"],
        "rate limit": limits["checked"] > limits["limit_per_client"] or not limits["right_code_refused"],
    }
    return [name for name, bad in checks.items() if bad]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--rate-limit-attempts", type=int, default=300, help="wrong codes from one client")
    parser.add_argument("--burst", type=int, default=100, help="parallel wrong codes from a second address")
    parser.add_argument("--out", type=Path, default=ROOT / "reliability" / "results" / "probes.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="comentor-probes-") as tmp:
        result = run(
            Path(tmp),
            pairs=args.pairs,
            probes=args.probes,
            rate_limit_attempts=args.rate_limit_attempts,
            burst=args.burst,
        )
    result["failures"] = failures(result)
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
