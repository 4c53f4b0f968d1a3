"""Stable ids of accountability items."""

from __future__ import annotations

import hashlib

from facilitator.commitments.text import words

__all__ = ["commitment_id"]


def commitment_id(owner: str, action: str, first_evidence: int | None) -> str:
    """A stable id: the same owner, action and first evidence turn always give the same id."""
    key = f"{owner}|{' '.join(words(action))}|{first_evidence if first_evidence is not None else ''}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
