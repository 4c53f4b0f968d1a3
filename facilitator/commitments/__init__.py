"""Accountability items: deterministic extraction from a transcript, and validation of items a model proposes.

The extractor reads the conversation turn by turn, sentence by sentence, and applies the commitment rules of the
design notes:

- a first-person future statement ("I'll", "I will", "I'm going to", "let me", "I can ... by Friday") by a
  participant is a commitment of that participant; third parties ("my manager will") never own one;
- a request ("could you", "would you mind", "please", an imperative) accepted by the other side in the next turn or
  two belongs to the one who accepted; declined or unanswered requests are dropped;
- "let's both", "we each", "shall we each" accepted by the partner give one item per owner;
- "same for me", "me too", "I'll do the same" copy the partner's fresh item for the second speaker;
- hedged ("maybe", "might", "if I have time"), hypothetical ("if ..., I would"), past ("I already sent"), negated
  and question forms are not commitments;
- a retraction ("actually no", "scratch that", "forget it") removes the speaker's item; a revised date
  ("make it Wednesday", "let's say February 13") updates the earlier item instead of adding one.

Due dates come from `facilitator.dates.resolve_due` (never guessed); evidence lists 0-based turn indices.

Modules: `lexicon` (word lists, `lexicon.yaml`), `text` (words and similarity), `cues` (sentence splitting and
cue patterns), `state` and `ledger` (what the extraction tracks), `wording` (names and action text), `statements`,
`linking` (requests, offers, joint items), `revisions` (retractions, new dates), `extractor` (the turn loop),
`validation` (model-proposed items), `ids` (stable item ids).
"""

from __future__ import annotations

from facilitator.commitments.extractor import extract_commitments
from facilitator.commitments.ids import commitment_id
from facilitator.commitments.validation import validate_commitments

__all__ = ["commitment_id", "extract_commitments", "validate_commitments"]
