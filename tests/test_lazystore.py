"""The store the engine is built with from settings opens on first use, and then is the real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from facilitator.exceptions import ConfigError, StoreError
from facilitator.lazystore import LazyStore


def test_the_store_opens_on_first_use_and_is_the_real_one(tmp_path: Path) -> None:
    lazy = LazyStore(f"sqlite:///{tmp_path / 'lazy.db'}")
    assert not lazy.opened and not (tmp_path / "lazy.db").exists()
    assert lazy.list_pairs() == [] and lazy.opened
    assert str(lazy.engine.url).endswith("lazy.db")


def test_a_bad_url_is_reported_on_first_use_with_the_stores_error() -> None:
    lazy = LazyStore("nosuchdb://x")
    with pytest.raises((ConfigError, StoreError)):
        lazy.list_pairs()
