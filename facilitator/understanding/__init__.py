"""What the facilitator understands of the conversation, read once per turn and cached.

- `reading`: the contract every move reads (`Reading`, `TurnReading`, `SentenceReading`, `SpeechAct`, ...).
- `sentences`: sentence splitting (pysbd, English, non-destructive).
- `topics`: topic phrases (YAKE, 1-3 words, lower case, no names or filler).
- `acts`: speech acts (logistic regression over the MiniLM sentence embeddings, numpy inference; the "?" prior).
- `read`: `read_turn` and `read_conversation` (incremental, with a bounded LRU `ReadingCache`).
- `train`: `python -m facilitator.understanding.train` (`make train`), scikit-learn at training time only.

Importing this package is cheap: numpy, pysbd and yake are imported on first use.
"""

from facilitator.understanding.acts import LABELS, classify
from facilitator.understanding.read import (
    DEFAULT_CACHE,
    FACILITATOR_MENTION,
    ReadingCache,
    is_to_facilitator,
    read_conversation,
    read_turn,
    teacher_and_learner,
)
from facilitator.understanding.reading import AssumptionSeen, Reading, SentenceReading, SpeechAct, TurnReading
from facilitator.understanding.sentences import split_sentences, word_count
from facilitator.understanding.topics import extract_topics

__all__ = [
    "DEFAULT_CACHE",
    "FACILITATOR_MENTION",
    "LABELS",
    "AssumptionSeen",
    "Reading",
    "ReadingCache",
    "SentenceReading",
    "SpeechAct",
    "TurnReading",
    "classify",
    "extract_topics",
    "is_to_facilitator",
    "read_conversation",
    "read_turn",
    "split_sentences",
    "teacher_and_learner",
    "word_count",
]
