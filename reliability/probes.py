"""Isolation and access through the web app's API: canaries in several sessions, cross-session probes, file routes.

    python -m reliability.probes [--pairs 5] [--probes 1000] [--out reliability/results/probes.json]

Runs `comentor ui` (offline facilitator) in a subprocess over a fresh COMENTOR_HOME. Each of `--pairs` pairs gets a
canary (a random token) in a partner's message and in two accountability items, and its session is summarized so
its exports exist. Then `--probes` probes try to reach another pair's session through the API, as a visitor who never
opened a pair, who tried a wrong code, or who opened a different pair: every endpoint (open, load with saved state
and with query parameters, send, the four ask buttons, item confirm/edit/delete with the other pair's item ids,
summarize, the three exports, new session, agenda plan/start, the agenda clock), through `gradio_client`, the REST
`/gradio_api/call/` API and the page's own `/gradio_api/queue/join` (with a forged state in the payload). A leak is any
response holding another pair's canary, access code or export link. Every probe must be refused; afterwards every
pair's turns, items and sessions must be exactly as planted.

Then the file routes: `/gradio_api/file=`, `/file=`, `/gradio_api/file/`, `/static/`, `/assets/`, `/gradio_api/proxy=`
and `/gradio_api/upload`, with `../`, `%2e%2e`, double encoding, absolute paths (/etc/passwd, the database, the UI
secret, the exports folder) and URLs (SSRF to loopback and link-local addresses).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field

from facilitator.settings import Settings
from facilitator.store import Store
from reliability.load import ROOT, UIProcess, client, fn_index, make_pairs, status_of

# What a refusal says (the app's own messages, then Gradio's input validation of choices).
REFUSALS = {
    "access": re.compile(
        r"wrong pair id or access code|open your pair first|does not belong to this pair|"
        r"Open your pair with its id and access code",
        re.IGNORECASE,
    ),
    "not-a-choice": re.compile(r"is not in the list of choices", re.IGNORECASE),
    "not-this-session": re.compile(r"choose an item of this session first", re.IGNORECASE),
    "unknown-speaker": re.compile(r"unknown speaker", re.IGNORECASE),
}
VISITORS = ("fresh", "raw", "other-pair", "wrong-code")
ASK_ENDPOINTS = ("/on_ask", "/on_ask_1", "/on_ask_2", "/on_ask_3")
EXPORT_ENDPOINTS = ("/handler_3", "/handler_4", "/handler_5")


class Planted(BaseModel):
    """One pair with a canary in its session: what a probe must never see."""

    pair: str
    code: str
    speakers: list[str]
    canary: str
    session: str
    items: list[str]
    export_urls: list[str]
    export_files: list[str] = Field(description="The originals the app wrote to its private temporary folder.")


def text_of(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False) if not isinstance(value, str) else value


def plant(url: str, store: Store, n: int) -> list[Planted]:
    """`n` pairs, each opened by a client, with a canary in a message and in items, then summarized."""
    planted: list[Planted] = []
    for pair, code in make_pairs(store, n, prefix="v"):
        assert pair.id is not None
        canary = f"CANARY{len(planted)}Z{secrets.token_hex(6)}"
        c = client(url)
        opened = c.predict(pair.id, code, api_name="/on_open")
        session = opened[0]["session"]
        a, b = pair.ids
        c.predict(
            a, f"Only we should read this: {canary}. I'll send you the {canary} report by Friday.", api_name="/on_send"
        )
        c.predict(b, f"Great, and I will send you my {canary} slides by Monday.", api_name="/on_send")
        summary = c.predict(api_name="/on_summarize")
        exports = [f for f in summary[9:12] if isinstance(f, dict) and f.get("url")]
        originals = Path(tempfile.gettempdir()).glob(f"comentor-exports-*/{session}/*/*")  # the app's private folder
        planted.append(
            Planted(
                pair=pair.id,
                code=code,
                speakers=list(pair.ids),
                canary=canary,
                session=session,
                items=[item.id or "" for item, _by, _deleted in store.session_items(session)],
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
                (item.id, item.owner, item.action, str(item.due), sorted(by), deleted)
                for s in sessions
                for item, by, deleted in store.session_items(s.id)
            ],
        }
    return out


# ---------------------------------------------------------------------------------------------- raw HTTP
def raw_call(url: str, api_name: str, data: list[Any], timeout: float = 30) -> str:
    """The REST API: POST /gradio_api/call/<name>, then read its event stream to the end."""
    with httpx.Client(timeout=timeout) as http:
        posted = http.post(f"{url}gradio_api/call/{api_name.lstrip('/')}", json={"data": data})
        if posted.status_code != 200:
            return f"HTTP {posted.status_code}: {posted.text}"
        event = posted.json()["event_id"]
        return http.get(f"{url}gradio_api/call/{api_name.lstrip('/')}/{event}").text


def raw_join(url: str, index: int, data: list[Any], query: str = "", timeout: float = 30) -> str:
    """The page's own protocol: POST /gradio_api/queue/join (state placeholders included), then /queue/data."""
    session = uuid.uuid4().hex[:11]
    body = {"data": data, "fn_index": index, "session_hash": session, "event_data": None, "trigger_id": None}
    with httpx.Client(timeout=timeout) as http:
        joined = http.post(f"{url}gradio_api/queue/join{query}", json=body)
        if joined.status_code != 200:
            return f"HTTP {joined.status_code}: {joined.text}"
        lines = []
        with http.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                lines.append(line)
                if '"process_completed"' in line or '"close_stream"' in line:
                    break
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ probes
class Probe(BaseModel):
    kind: str
    endpoint: str
    visitor: str = Field(description="fresh (never opened), wrong-code (tried the victim with a bad code), other-pair")
    outcome: str
    leak: bool
    sample: str = ""


def classify(text: str) -> str:
    for name, pattern in REFUSALS.items():
        if pattern.search(text):
            return name
    return "answered"


def leaks(text: str, attacker: Planted | None, planted: list[Planted], sent: str) -> bool:
    """Whether a response holds another pair's canary, access code or export link (not echoed from the request)."""
    for p in planted:
        if attacker is not None and p.pair == attacker.pair:
            continue
        secrets_of = [p.canary, *(u.split("file=")[-1] for u in p.export_urls)]
        if p.code not in sent:
            secrets_of.append(p.code)
        if any(s and s in text for s in secrets_of):
            return True
    return False


class Visitor:
    """A gradio_client session: never opened, after a wrong code, or opened on its own (planted) pair."""

    def __init__(self, url: str, kind: str, own: Planted | None = None, victim: Planted | None = None) -> None:
        self.kind, self.own = kind, own
        self.c = client(url)
        if kind == "other-pair" and own is not None:
            self.c.predict(own.pair, own.code, api_name="/on_open")
        elif kind == "wrong-code" and victim is not None:
            self.c.predict(victim.pair, "not-the-code", api_name="/on_open")


def swapcase_code(code: str) -> str:
    swapped = code.swapcase()
    return swapped if swapped != code else code + "x"


def probe_plan(victim: Planted, other: Planted, visitor: str, rng: random.Random) -> list[tuple[str, str, list[Any]]]:
    """(kind, endpoint, args) of every gradio_client probe against `victim`; `other` is another planted pair."""
    a = victim.speakers[0]
    item = rng.choice(victim.items) if victim.items else "no-item"
    wrong_codes = ["", "not-the-code", other.code, swapcase_code(victim.code), victim.code[:-1], victim.code + " x"]
    plan: list[tuple[str, str, list[Any]]] = [
        ("open-wrong-code", "/on_open", [victim.pair, rng.choice(wrong_codes)]),
        ("open-other-id", "/on_open", [victim.pair.upper(), "not-the-code"]),
        ("open-second-button", "/on_open_1", [victim.pair, rng.choice(wrong_codes)]),
        ("load-saved-wrong-code", "/on_load", [{"pair": victim.pair, "code": rng.choice(wrong_codes)}]),
        ("load-saved-other-session", "/on_load", [{"pair": other.pair, "code": other.code, "session": victim.session}]),
        (
            "load-saved-victim-session",
            "/on_load",
            [{"pair": victim.pair, "code": other.code, "session": victim.session}],
        ),
        ("send-as-victim-speaker", "/on_send", [a, f"hello from outside {uuid.uuid4().hex[:6]}"]),
        ("send-second-button", "/on_send_1", [a, "hello from outside"]),
        *[("ask-as-victim-speaker", name, [a]) for name in ASK_ENDPOINTS],
        ("confirm-victim-item", "/handler", [a, item]),
        ("delete-victim-item", "/handler_1", [a, item]),
        ("edit-victim-item", "/handler_2", [a, item, "hijacked", "2030-01-01", None]),
    ]
    if visitor != "other-pair":  # these act on the caller's own session: only probes for a visitor without one
        plan += [
            ("send-unopened", "/on_send", [None, "hello from nowhere"]),
            ("ask-unopened", rng.choice(ASK_ENDPOINTS), [None]),
            ("summarize", "/on_summarize", []),
            *[("export", name, []) for name in EXPORT_ENDPOINTS],
            ("new-session", "/on_new", []),
            ("plan-agenda", "/on_plan", [30]),
            ("agenda-clock", "/on_tick", []),
            ("start-agenda", "/on_start", [{"headers": ["Item", "Minutes", "Lead"], "data": [["x", 5, "both"]]}]),
        ]
    return plan


def run_client_probe(v: Visitor, kind: str, endpoint: str, args: list[Any], planted: list[Planted]) -> Probe:
    try:
        result = v.c.predict(*args, api_name=endpoint)
        text = text_of(result)
        status = status_of(result, 2 if endpoint.startswith(("/on_open", "/on_load")) else 0)
        outcome = classify(status) if status else classify(text)
        if endpoint == "/on_tick":  # the clock answers a visitor without a session with no update at all
            outcome = "no-update" if result in (None, "") or '"__type__": "update"' in text else "answered"
    except Exception as e:  # a refusal by Gradio's own input validation arrives as an exception
        text = f"{type(e).__name__}: {e}"
        outcome = classify(text)
    return Probe(
        kind=kind,
        endpoint=endpoint,
        visitor=v.kind,
        outcome=outcome,
        leak=leaks(text, v.own, planted, json.dumps(args, default=str)),
        sample=text[:200] if outcome == "answered" else "",
    )


def raw_probes(url: str, victim: Planted, other: Planted) -> list[tuple[str, str, Callable[[], str], str]]:
    """(kind, endpoint, call, request) probes over raw HTTP."""
    load, send = fn_index(url, "/on_load"), fn_index(url, "/on_send")
    forged = {"pair": victim.pair, "code": "not-the-code", "session": victim.session}
    borrowed = {"pair": other.pair, "code": other.code, "session": victim.session}
    q = f"?pair={quote(victim.pair)}&code="
    return [
        ("load-query-wrong-code", "queue/join /on_load", lambda: raw_join(url, load, [None], q + "nope"), q),
        ("load-query-no-code", "queue/join /on_load", lambda: raw_join(url, load, [None], f"?pair={victim.pair}"), ""),
        ("load-query-other-code", "queue/join /on_load", lambda: raw_join(url, load, [None], q + other.code), q),
        (
            "send-forged-state",
            "queue/join /on_send",
            lambda: raw_join(url, send, [forged, victim.speakers[0], "x"]),
            "",
        ),
        (
            "send-borrowed-state",
            "queue/join /on_send",
            lambda: raw_join(url, send, [borrowed, other.speakers[0], "x"]),
            "",
        ),
        ("rest-open-wrong-code", "call/on_open", lambda: raw_call(url, "/on_open", [victim.pair, "nope"]), ""),
        ("rest-load-saved", "call/on_load", lambda: raw_call(url, "/on_load", [forged]), ""),
        ("rest-ask", "call/on_ask", lambda: raw_call(url, "/on_ask", [victim.speakers[0]]), ""),
        ("rest-summarize", "call/on_summarize", lambda: raw_call(url, "/on_summarize", []), ""),
        ("rest-export", "call/handler_3", lambda: raw_call(url, "/handler_3", []), ""),
    ]


class ProbeSummary(BaseModel):
    pairs: int
    probes: int
    leaks: int
    refused: int
    answered: int = Field(description="Probes not refused (should be 0).")
    outcomes: dict[str, int]
    by_kind: dict[str, int]
    by_visitor: dict[str, int]
    answered_samples: list[str]
    pairs_changed: list[str] = Field(description="Planted pairs whose sessions, turns or items changed.")
    detector_control: bool = Field(
        description="The owner's own view, checked the same way, is flagged (the check works)."
    )
    seconds: float


def run_probes(url: str, store: Store, planted: list[Planted], total: int, seed: int = 7) -> ProbeSummary:
    rng = random.Random(seed)
    before = snapshot(store, planted)
    started = time.monotonic()
    jobs: list[tuple[Visitor | None, str, str, Any, str]] = []
    visitors: dict[tuple[str, str], Visitor] = {}
    rounds = 0
    while len(jobs) < total:
        victim = rng.choice(planted)
        other = rng.choice([p for p in planted if p.pair != victim.pair])
        kind = VISITORS[rounds % len(VISITORS)]
        rounds += 1
        if kind == "raw":
            for probe_kind, endpoint, fn, request in raw_probes(url, victim, other):
                jobs.append((None, probe_kind, endpoint, fn, request))
            continue
        key = (kind, other.pair if kind == "other-pair" else victim.pair)
        if key not in visitors:
            visitors[key] = Visitor(url, kind, own=other if kind == "other-pair" else None, victim=victim)
        v = visitors[key]
        for probe_kind, endpoint, args in probe_plan(victim, other, kind, rng):
            jobs.append((v, probe_kind, endpoint, args, ""))
    jobs = jobs[:total]

    def run(job: tuple[Visitor | None, str, str, Any, str]) -> Probe:
        v, kind, endpoint, payload, request = job
        if v is not None:
            return run_client_probe(v, kind, endpoint, payload, planted)
        try:
            text = payload()
        except httpx.HTTPError as e:
            text = f"{type(e).__name__}: {e}"
        outcome = classify(text)
        return Probe(
            kind=kind,
            endpoint=endpoint,
            visitor="raw-http",
            outcome=outcome,
            leak=leaks(text, None, planted, request),
            sample=text[:200] if outcome == "answered" else "",
        )

    # one gradio_client session sends one event at a time (as a page does); visitors and raw calls run side by side
    groups: dict[int, list[tuple[int, tuple[Visitor | None, str, str, Any, str]]]] = {}
    for n, job in enumerate(jobs):
        groups.setdefault(id(job[0]) if job[0] is not None else -n - 1, []).append((n, job))

    def run_group(group: list[tuple[int, tuple[Visitor | None, str, str, Any, str]]]) -> list[tuple[int, Probe]]:
        return [(n, run(job)) for n, job in group]

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = [item for chunk in pool.map(run_group, groups.values()) for item in chunk]
    probes = [probe for _n, probe in sorted(done, key=lambda item: item[0])]
    after = snapshot(store, planted)
    outcomes = Counter(p.outcome for p in probes)
    owner = planted[0]
    own_view = text_of(client(url).predict(owner.pair, owner.code, api_name="/on_open"))
    control = leaks(own_view, None, planted, owner.code) and classify(own_view) == "answered"
    return ProbeSummary(
        pairs=len(planted),
        probes=len(probes),
        leaks=sum(p.leak for p in probes),
        refused=sum(1 for p in probes if p.outcome != "answered"),
        answered=outcomes.get("answered", 0),
        outcomes=dict(outcomes),
        by_kind=dict(Counter(p.kind for p in probes)),
        by_visitor=dict(Counter(p.visitor for p in probes)),
        answered_samples=[f"{p.kind} {p.endpoint}: {p.sample}" for p in probes if p.outcome == "answered"][:5],
        pairs_changed=[pair for pair in before if before[pair] != after.get(pair)],
        detector_control=control,
        seconds=round(time.monotonic() - started, 2),
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
        "source": (str(ROOT / "facilitator" / "settings.py"), b"class Settings"),
    }
    secret = home / "ui-secret"
    if secret.is_file():
        targets["ui-secret"] = (str(secret), secret.read_bytes().strip())
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

    # upload: the app has no upload widget, but Gradio's route accepts files from anyone
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


# ------------------------------------------------------------------------------------------------- main
def run(workdir: Path, *, pairs: int = 5, probes: int = 1000) -> dict[str, Any]:
    home = workdir / "probe-home"
    with UIProcess(home, {"COMENTOR_FACILITATOR": "offline"}) as ui:
        store = ui.store()
        planted = plant(ui.url, store, pairs)
        summary = run_probes(ui.url, store, planted, probes)
        files = run_file_probes(ui.url, home, planted)
    return {"api": summary.model_dump(), "files": files}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "reliability" / "results" / "probes.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="comentor-probes-") as tmp:
        result = run(Path(tmp), pairs=args.pairs, probes=args.probes)
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    api, files = result["api"], result["files"]
    bad = api["leaks"] or api["answered"] or api["pairs_changed"] or files["files_served"] or files["ssrf_followed"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
