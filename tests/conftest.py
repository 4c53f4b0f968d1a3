"""Test setup: no network, a temporary COMENTOR_HOME, and shared real components (embedder, data paths)."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
_OUTSIDE = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COMENTOR_FACILITATOR", "COMENTOR_CHROMA_URL", "COMENTOR_DATABASE_URL")
for _var in _OUTSIDE:
    os.environ.pop(_var, None)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
GSOC = DATA / "gsoc_guides"


class NetworkAccessError(RuntimeError):
    """A test tried to reach a host that is not this machine."""


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise NetworkAccessError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_local(address):
        raise NetworkAccessError(f"tests must not reach the network (tried {address!r})")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host not in (None, "localhost", "") and not _is_local((host, 0)):
        raise NetworkAccessError(f"tests must not resolve outside hosts (tried {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def comentor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("COMENTOR_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The real local MiniLM embedder, loaded once per test session."""
    from facilitator.knowledge.embeddings import LocalEmbedder
    from facilitator.settings import Settings

    return LocalEmbedder(Settings().home_dir / "models")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"{DATA} is missing: the shared data folder must sit beside the project checkout")
    return DATA


@pytest.fixture
def kb(tmp_path: Path, embedder: Any) -> Iterator[Any]:
    """An empty embedded knowledge base in a temporary folder."""
    import chromadb

    from facilitator.knowledge import KnowledgeBase

    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    yield KnowledgeBase(client, embedder)


@pytest.fixture(scope="session")
def guidance_kb(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    """The bundled program guidance, indexed once per test session (read-only for tests)."""
    import chromadb

    from facilitator.knowledge import KnowledgeBase

    path = tmp_path_factory.mktemp("guidance-chroma")
    client = chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))
    kb = KnowledgeBase(client, embedder)
    report = kb.add_bundled()
    assert not report.errors, report.errors
    return kb


@pytest.fixture
def make_facilitator(tmp_path: Path, guidance_kb: Any) -> Any:
    """Build a Facilitator over a fresh SQLite store, the shared guidance index and a given brain."""
    from facilitator.brains.offline import OfflineBrain
    from facilitator.engine import Facilitator
    from facilitator.knowledge import ChallengePatterns, QuestionBank
    from facilitator.settings import Settings
    from facilitator.store import Store

    bank, patterns = QuestionBank.load(), ChallengePatterns.load()

    def build(brain: Any = None, *, db: Path | None = None, **kwargs: Any) -> Facilitator:
        return Facilitator(
            store=Store(f"sqlite:///{db or tmp_path / 'comentor.db'}"),
            knowledge=guidance_kb,
            brain=brain or OfflineBrain(),
            bank=bank,
            patterns=patterns,
            settings=Settings(),
            **kwargs,
        )

    return build


@pytest.fixture
def demo_pair() -> Any:
    from facilitator.pairs import load_pair

    return load_pair(ROOT / "examples" / "pairs" / "ana-ben.yaml")


def run_cli(
    *args: str, home: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`comentor ARGS` as a separate process (nothing shared with the test process but the files under `home`)."""
    full_env = {"COMENTOR_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=300,
    )


def facilitator_on(url: str, knowledge: Any = None) -> Any:
    """An offline Facilitator over the database at `url` (its own Store and connections, like one app process)."""
    from facilitator.engine import Facilitator
    from facilitator.store import Store

    return Facilitator.offline(Store(url), knowledge=knowledge)


def open_at_once(new_facilitator: Any, pairs: int = 10) -> list[set[str]]:
    """For `pairs` new pairs, both partners open the pair at the same moment, each through its own Facilitator
    (its own Store and connections, as two app processes would): the session ids each pair's two partners got."""
    import threading

    from facilitator.models import Pair, Participant

    first = new_facilitator()
    got: list[set[str]] = []
    for i in range(pairs):
        pair = Pair(participants=[Participant(id=f"a{i}", name=f"Ann {i}"), Participant(id=f"b{i}", name=f"Bo {i}")])
        code = first.create_pair(pair)
        barrier = threading.Barrier(2)
        ids: set[str] = set()

        def open_pair(pair_id: str, code: str, barrier: threading.Barrier, ids: set[str]) -> None:
            fac = new_facilitator()
            barrier.wait()
            ids.add(fac.session_for(pair_id, code).id)

        threads = [threading.Thread(target=open_pair, args=(str(pair.id), code, barrier, ids)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        got.append(ids)
    return got


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The `local_model` suite needs a real model server: it runs only when asked for (`make test-local-model`,
    i.e. `pytest -m local_model`), never as part of `make test`."""
    if "local_model" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="needs a real model server: `make local-model`, then `make test-local-model`")
    for item in items:
        if "local_model" in item.keywords:
            item.add_marker(skip)
