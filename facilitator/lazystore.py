"""A store opened on first use: `Facilitator.from_settings` hands one to every use case, and the ones that never touch
the store (`comentor summarize`) then never import SQLAlchemy or open the database (about 0.6 s of a process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facilitator.store import Store

__all__ = ["LazyStore"]


class LazyStore:
    """Stands in for `facilitator.store.Store(url)`: the real store is built on the first attribute asked for, and
    every attribute is the real store's (a bad URL is reported then, with the same error)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._store: Store | None = None

    @property
    def opened(self) -> bool:
        return self._store is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._store is None:
            from facilitator.store import Store

            self._store = Store(self._url)
        return getattr(self._store, name)
