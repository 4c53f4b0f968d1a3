"""What each member seeks, matched with what another offers: by the same words, by meaning, or not at all.

An offer meets a sought topic when it names the same topic, or else when it is related: by meaning (MiniLM cosine of
the two phrases without their broad words, when the knowledge base's embedder is at hand) or, without an embedder,
by a shared content word. Broad words ("management", "skills") are left out of both: on their own they relate
"stakeholder management" to "financial management".
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from facilitator.understanding.topics import GENERIC_WORDS

if TYPE_CHECKING:
    from facilitator.knowledge.embeddings import Embedder
    from facilitator.models import Participant

# MiniLM cosine of two short topic phrases (broad words left out) at or above which an offer is related to a sought
# topic. Calibrated on budgeting / financial (0.55), hiring / recruitment (0.68) and public speaking / presentation
# coaching (0.45) against fundraising / volunteer engagement (0.42), stakeholder / financial (0.38) and public
# speaking / TikTok (0.07).
RELATED_OFFER = 0.43
# Words that name no topic on their own when two phrases share them ("financial management", "stakeholder management").
_BROAD = frozenset({"management", "skill", "work", "working", "thing", "general", "basic", "getting"})
_WORD = re.compile(r"[a-z0-9]{4,}")


class SeekMatch(BaseModel):
    """One topic a member seeks, and another member's offer that meets it (None when none does), with who offers it
    (`by`, a participant id: in a pair, the partner)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seek: str
    offer: str | None = None
    exact: bool = False
    by: str | None = None


def match_seeks(seeker: Participant, other: Participant, embedder: Embedder | None = None) -> list[SeekMatch]:
    """Each of `seeker`'s sought topics, in their order, with the offer of `other` that meets it best."""
    seeks, offers = seeker.seek_topics, other.offer_topics
    vectors = _vectors([_core(t) for t in (*seeks, *offers)], embedder) if seeks and offers else None
    out: list[SeekMatch] = []
    for n, seek in enumerate(seeks):
        same = next((o for o in offers if o.lower() == seek.lower()), None)
        if same is not None:
            out.append(SeekMatch(seek=seek, offer=same, exact=True))
        elif vectors is not None:
            out.append(SeekMatch(seek=seek, offer=_closest(vectors[n], vectors[len(seeks) :], offers)))
        else:
            out.append(SeekMatch(seek=seek, offer=_sharing_words(seek, offers)))
    return out


def match_seeks_among(
    seeker: Participant, others: list[Participant], embedder: Embedder | None = None
) -> list[SeekMatch]:
    """Each of `seeker`'s sought topics, in their order, with the best offer among `others`: the first member (in
    their order) whose offer names the same topic, else the first whose offer is related, else none."""
    per_member = [[m.model_copy(update={"by": o.id}) for m in match_seeks(seeker, o, embedder)] for o in others]
    out: list[SeekMatch] = []
    for n, seek in enumerate(seeker.seek_topics):
        options = [matches[n] for matches in per_member]
        best = next((m for m in options if m.exact), None) or next((m for m in options if m.offer), None)
        out.append(best or SeekMatch(seek=seek))
    return out


def _vectors(texts: list[str], embedder: Embedder | None) -> list[list[float]] | None:
    """The texts' vectors, or None without an embedder or when it fails (the agenda then matches by words)."""
    if embedder is None:
        return None
    try:
        vectors = embedder.embed_documents(texts)
    except Exception:  # an embedder failure must not lose the agenda: match by words instead
        return None
    return vectors if len(vectors) == len(texts) else None


def _closest(seek: list[float], offers: list[list[float]], names: list[str]) -> str | None:
    scored = [(_cosine(seek, v), -n) for n, v in enumerate(offers)]
    score, neg = max(scored)
    return names[-neg] if score >= RELATED_OFFER else None


def _cosine(a: list[float], b: list[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=False)) / norm if norm else 0.0


def _sharing_words(seek: str, offers: list[str]) -> str | None:
    """The offer sharing the most content words with `seek` (the first on a tie), None when none shares one."""
    wanted = _content_words(seek)
    shared = [(len(wanted & _content_words(o)), -n) for n, o in enumerate(offers)]
    count, neg = max(shared)
    return offers[-neg] if count else None


def _core(text: str) -> str:
    """The phrase without its broad words (unchanged when nothing else is left)."""
    kept = [w for w in text.split() if w.lower().removesuffix("s") not in _BROAD]
    return " ".join(kept) or text


def _content_words(text: str) -> set[str]:
    words = {w.removesuffix("s") for w in _WORD.findall(text.lower())}
    return {w for w in words if w not in GENERIC_WORDS and w not in _BROAD}
