"""Fuzzing what guards a pair (security issue): access codes, grants, item edits and every web-app handler, on
SQLite and on PostgreSQL.

Every input is refused with a ComentorError (AccessError for access) or works on the caller's own pair; nothing
raises anything else, and nothing of another pair (its turns, its items) is read or changed. Derandomized like
tests/test_fuzz.py; COMENTOR_FUZZ_EXAMPLES lowers the counts for a quick local run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitator.access import AttemptLimits
from facilitator.engine import Facilitator
from facilitator.exceptions import AccessError, ComentorError
from facilitator.models import Pair, Participant
from facilitator.store import Store
from tests.pg import find_bindir, postgres_cluster

EXAMPLES = int(os.environ.get("COMENTOR_FUZZ_EXAMPLES", "1000"))


def profile(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )


# A code check costs one scrypt hash (by design), so the code fuzzer runs fewer cases than the others.
CODES = profile(min(EXAMPLES, 200))
GRANTS = profile(EXAMPLES)
EDITS = profile(min(EXAMPLES, 400))
HANDLERS = profile(min(EXAMPLES, 300))
ON_POSTGRES = profile(min(EXAMPLES, 60))

VICTIM = Pair(participants=[Participant(id="vic", name="Vic Tim"), Participant(id="wen", name="Wen Do")])
CALLER = Pair(participants=[Participant(id="cal", name="Cal Ler"), Participant(id="ola", name="Ola Fe")])
CANARY = "CANARYfuzz7Q"
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(["\x00", "\udcff", "é", "😀"]),
    max_size=60,
)


class World:
    """Two pairs in one store: the victim (with a canary turn and an item) and the caller (opened, with a grant)."""

    def __init__(self, store: Store) -> None:
        self.fac = Facilitator.offline(store)
        self.fac.clock = lambda: dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
        self.fac.limits = AttemptLimits(per_client=10**9, per_pair=10**9)  # fuzzing is not an attack on the limits
        self.victim_code = self.fac.create_pair(VICTIM)
        self.caller_code = self.fac.create_pair(CALLER)
        victim = self.fac.grant("vic-wen", self.victim_code, client="victim")
        list(victim.live.say("vic", f"Only for us: {CANARY}. I'll send you the {CANARY} report by Friday."))
        victim.live.proposed_items()
        self.victim_session = victim.live.id
        self.victim_token = victim.token
        self.victim_items = [v.item.id or "" for v in victim.live.items()]
        caller = self.fac.grant("cal-ola", self.caller_code, client="caller")
        list(caller.live.say("cal", "I'll draft the plan by Monday."))
        self.caller_items = [v.item.id or "" for v in caller.live.proposed_items()]  # fixed draws
        self.caller = caller
        self.before = self.victim_state()

    def victim_state(self) -> Any:
        store = self.fac.store
        turns = [(t.speaker, t.text) for t in store.turns(self.victim_session)]
        items = [
            (s.id, s.item.owner, s.item.action, s.item.due, sorted(s.confirmed_by), s.deleted)
            for s in store.session_items(self.victim_session)
        ]
        return turns, items, [s.id for s in store.list_sessions("vic-wen")]

    def assert_victim_untouched(self) -> None:
        assert self.victim_state() == self.before


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(Store(f"sqlite:///{tmp_path / 'fuzz.db'}"))


@pytest.fixture(scope="module")
def pg_world() -> Iterator[World]:
    if find_bindir() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL server binaries not found (CI=true: the PostgreSQL fuzz must run in CI)")
        pytest.skip("PostgreSQL server binaries (initdb) not found; `make system-deps` installs them")
    with postgres_cluster() as pg:
        yield World(Store(pg.create_database()))


# ------------------------------------------------------------------------------------------- access codes
def check_codes(w: World, pair_id: str, code: str) -> None:
    try:
        pair = w.fac.open_pair(pair_id, code, client="fuzz")
    except AccessError:
        return
    real = {"vic-wen": w.victim_code, "cal-ola": w.caller_code}
    assert pair.id in real and code.strip() == real[pair.id], (pair_id, code)


PAIR_IDS = st.sampled_from(["vic-wen", "VIC-WEN", " vic-wen ", "cal-ola", "vic", ""]) | TEXT
CODE_TEXT = TEXT | st.sampled_from(["", " "])


def test_fuzz_access_codes(world: World) -> None:
    @CODES
    @given(pair_id=PAIR_IDS, code=CODE_TEXT, data=st.data())
    def run(pair_id: str, code: str, data: st.DataObject) -> None:
        real = world.victim_code
        near = [real[:-1], real + code, real.swapcase(), " " + real + " ", real.upper(), code]
        check_codes(world, pair_id, data.draw(st.sampled_from(near)))  # close to the real code, or anything

    run()
    world.assert_victim_untouched()


# ------------------------------------------------------------------------------------------------- grants
def mutate(token: str, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["flip", "cut", "append", "swap-halves", "replace", "other", "text"]))
    if how == "flip" and token:
        i = data.draw(st.integers(0, len(token) - 1))
        return token[:i] + data.draw(st.characters(codec="ascii")) + token[i + 1 :]
    if how == "cut":
        return token[: data.draw(st.integers(0, max(len(token) - 1, 0)))]
    if how == "append":
        return token + data.draw(TEXT)
    if how == "swap-halves" and "." in token:
        body, sig = token.split(".", 1)
        return f"{sig}.{body}"
    if how == "replace":
        return data.draw(TEXT)
    if how == "other":
        return token.split(".")[0] + "." + data.draw(st.text(alphabet="ABCDEFGHabcdefgh0123456789-_", max_size=50))
    return data.draw(st.text(max_size=300))


def check_grant(w: World, token: str) -> None:
    try:
        live = w.fac.granted(token)
    except AccessError:
        return
    assert token == w.caller.token or token == w.victim_token, token  # only an unchanged grant opens anything
    assert live.id in (w.caller.live.id, w.victim_session)


def test_fuzz_grants(world: World) -> None:
    @GRANTS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        check_grant(world, mutate(world.caller.token, data))

    run()
    world.assert_victim_untouched()


# --------------------------------------------------------------------------------------------- item edits
def check_edit(w: World, data: st.DataObject) -> None:
    live = w.fac.granted(w.caller.token)
    item = data.draw(st.sampled_from([*w.caller_items, *w.victim_items, "", "k" + "0" * 12]) | TEXT)
    with contextlib.suppress(ComentorError):
        live.change_item(
            item,
            by=data.draw(st.sampled_from(["cal", "ola", "vic", "Cal", ""]) | TEXT),
            confirm=data.draw(st.booleans()),
            delete=data.draw(st.booleans()),
            action=data.draw(st.none() | TEXT | st.just("x" * 600)),
            due=data.draw(st.none() | st.sampled_from(["next Friday", "2026-13-45", "yesterday", "31/02"]) | TEXT),
            owner=data.draw(st.none() | st.sampled_from(["ola", "vic", "wen"]) | TEXT),
        )


def test_fuzz_item_edits(world: World) -> None:
    @EDITS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        check_edit(world, data)

    run()
    world.assert_victim_untouched()


# --------------------------------------------------------------------------------------------- UI handlers
def handlers(w: World) -> list[Any]:
    from ui.app import build_app

    demo = build_app(w.fac)
    return [fn for fn in demo.fns.values() if fn.fn is not None and fn.api_name]


def handler_args(fn: Any, w: World, data: st.DataObject) -> list[Any] | None:
    """Arguments for one handler as Gradio would pass them: each payload (the caller's own grant, none, a mangled
    one, the victim's ids where ids go, other shapes) through its input component's own preprocessing; None when
    Gradio's input check would refuse the payload before the handler runs."""
    import gradio as gr

    values = st.one_of(
        st.none(),
        TEXT,
        st.sampled_from([w.caller.token, "", w.victim_session, *w.victim_items, "vic", "wen", "cal", "ola"]),
        st.integers(-5, 500),
        st.dictionaries(st.sampled_from(["grant", "pair", "code", "session"]), TEXT | st.just(w.caller.token)),
    )
    inputs = iter(fn.inputs)
    args: list[Any] = []
    for param in inspect.signature(fn.fn).parameters.values():
        if param.annotation in (gr.Request, "gr.Request"):
            args.append(SimpleNamespace(client=SimpleNamespace(host="fuzz"), query_params={}))
            continue
        component = next(inputs, None)
        if component is None:  # a parameter with a default that this event does not fill
            break
        grants = st.sampled_from([w.caller.token, w.caller.token[:-1], ""]) | values
        payload = data.draw(grants if param.name == "access" else values)  # mostly the caller's own, valid grant
        if isinstance(component, gr.Radio | gr.Dropdown):  # no choice check: as if Gradio let any text through,
            args.append(payload if payload is None or isinstance(payload, str) else str(payload))  # victim ids too
            continue
        try:
            args.append(component.preprocess(payload))
        except Exception:  # Gradio refuses the event (e.g. a choice that is not offered): the handler never runs
            return None
    return args


def call_handler(fn: Any, args: list[Any]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gr.Warning outside a running app is a Python warning
        result = fn.fn(*args)
        if inspect.isgenerator(result):
            result = list(result)
    return repr(result)


def test_fuzz_ui_handlers(world: World) -> None:
    fns = handlers(world)
    assert len(fns) >= 15, [fn.api_name for fn in fns]
    ran: dict[str, int] = {}

    @HANDLERS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        fn = data.draw(st.sampled_from(fns))
        args = handler_args(fn, world, data)
        if args is None:
            return
        out = call_handler(fn, args)
        ran[fn.api_name] = ran.get(fn.api_name, 0) + 1
        assert CANARY not in out, fn.api_name
        assert world.victim_code not in out and world.victim_token not in out, fn.api_name

    run()
    world.assert_victim_untouched()
    names = {fn.api_name for fn in fns}  # one event can be wired twice under one name (e.g. on_open)
    assert len(ran) >= len(names) - 2 or EXAMPLES < 300, (ran, sorted(names - set(ran)))  # nearly every one ran


# ----------------------------------------------------------------------------------------------- PostgreSQL
@pytest.mark.slow
def test_fuzz_access_and_edits_on_postgres(pg_world: World) -> None:
    @ON_POSTGRES
    @given(pair_id=PAIR_IDS, code=CODE_TEXT, data=st.data())
    def run(pair_id: str, code: str, data: st.DataObject) -> None:
        check_codes(pg_world, pair_id, code)
        check_grant(pg_world, mutate(pg_world.caller.token, data))
        check_edit(pg_world, data)

    run()
    pg_world.assert_victim_untouched()
