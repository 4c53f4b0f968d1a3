"""Speech acts of sentences: a logistic regression over the MiniLM sentence embeddings, run in numpy.

The weights are `data/acts.npz` (arrays only, loaded with `allow_pickle=False`): `coef` (labels x dimensions),
`intercept`, `classes`, `embedder` (the name of the vector space they were trained in) and `question_mark_prior`.
They are trained by `python -m facilitator.understanding.train` (`make train`) on `data/acts.train.jsonl` and
measured on `data/acts.heldout.jsonl`; `data/acts.report.json` holds the figures.

One surface cue is added where the classifier is weak, and only that one: whether a sentence ends in "?". MiniLM
embeds what a sentence is about more than what it does, so "How did the month-end close go?" can look like a claim
about the close. For a sentence ending in "?", each act's probability is multiplied by
`ActModel.question_mark_prior[act]` and renormalised. The multipliers are stored with the weights and come from the
training split: the likelihood ratio P("?" | act) / P("?") counted with add-one smoothing, raised to an exponent
chosen by cross-validation (0 would turn the prior off). It is a prior, not a rule: "Could you send me the slides?"
stays a request (requests end in "?" too) and "..., right?" can stay an assumption when the embedding says so
clearly. A sentence without "?" is left as the classifier reads it (chat often drops the mark).

Without a usable embedder (`embedder=None`, or one whose `name` or vector size differs from the weights' space, such
as an OpenAI endpoint) the classifier cannot run and only the cue is left: a sentence ending in "?" is a `question`
with confidence 0.5, any other sentence is `other` with confidence 0.0 (meaning: not known). Assumptions, teaching
and the other acts are then never reported; pass the local MiniLM embedder to get them.

numpy is imported on first use, so importing this module stays cheap; scikit-learn is never imported here.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from facilitator.understanding.reading import SpeechAct

if TYPE_CHECKING:
    from collections.abc import Sequence

    from facilitator.knowledge.embeddings import Embedder

__all__ = [
    "LABELS",
    "ActModel",
    "act_probability",
    "classify",
    "classify_vectors",
    "cue_only",
    "load_model",
    "usable",
]

LABELS: tuple[SpeechAct, ...] = get_args(SpeechAct)
CUE_QUESTION_CONFIDENCE = 0.5
_MODEL_RESOURCE = ("facilitator.understanding", "data/acts.npz")


@dataclass(frozen=True)
class ActModel:
    """Multinomial logistic regression weights: p(act | v) = softmax(coef @ v + intercept)."""

    coef: Any  # numpy array, (labels, dimensions)
    intercept: Any  # numpy array, (labels,)
    classes: tuple[SpeechAct, ...]
    embedder: str
    version: str  # a digest of the weights: readings made with other weights are not reused
    question_mark_prior: Any = None  # numpy array (labels,): multipliers for a sentence ending in "?" (None: none)

    @property
    def dimensions(self) -> int:
        return int(self.coef.shape[1])

    def probabilities(self, vectors: Any) -> Any:
        """Class probabilities for a (n, dimensions) array of sentence vectors, columns in `classes` order."""
        import numpy as np

        logits = np.asarray(vectors, dtype=np.float64) @ self.coef.T.astype(np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def save(self, path: Any) -> None:
        """Write the weights as plain arrays (no pickled objects), loadable with `allow_pickle=False`."""
        import numpy as np

        np.savez_compressed(
            path,
            coef=np.asarray(self.coef, dtype=np.float32),
            intercept=np.asarray(self.intercept, dtype=np.float32),
            classes=np.array(self.classes, dtype=np.str_),
            embedder=np.array(self.embedder, dtype=np.str_),
            question_mark_prior=np.asarray(
                np.ones(len(self.classes)) if self.question_mark_prior is None else self.question_mark_prior,
                dtype=np.float64,
            ),
        )


def _from_arrays(arrays: Any) -> ActModel:
    import numpy as np

    coef = np.asarray(arrays["coef"], dtype=np.float32)
    intercept = np.asarray(arrays["intercept"], dtype=np.float32)
    classes = tuple(str(c) for c in arrays["classes"].tolist())
    unknown = [c for c in classes if c not in LABELS]
    if unknown or coef.shape != (len(classes), coef.shape[1]) or intercept.shape != (len(classes),):
        raise ValueError(f"speech-act weights do not match the SpeechAct labels (unknown: {unknown})")
    prior = np.asarray(arrays.get("question_mark_prior", np.ones(len(classes))), dtype=np.float64)
    if prior.shape != (len(classes),) or not (prior > 0).all():
        raise ValueError("speech-act weights: question_mark_prior must hold one positive multiplier per label")
    raw = coef.tobytes() + intercept.tobytes() + "|".join(classes).encode() + prior.tobytes()
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return ActModel(
        coef=coef,
        intercept=intercept,
        classes=classes,  # type: ignore[arg-type]  # checked against LABELS above
        embedder=str(arrays["embedder"]),
        version=digest,
        question_mark_prior=prior,
    )


_LOADED: dict[str, ActModel] = {}
_LOAD_LOCK = threading.Lock()


def load_model(path: str | None = None) -> ActModel:
    """The shipped weights (or those at `path`), read once per process."""
    import numpy as np

    key = path or ""
    with _LOAD_LOCK:
        if key not in _LOADED:
            source: Any = Path(path) if path else files(_MODEL_RESOURCE[0]).joinpath(_MODEL_RESOURCE[1])
            with source.open("rb") as handle, np.load(handle, allow_pickle=False) as arrays:
                _LOADED[key] = _from_arrays({name: arrays[name] for name in arrays.files})
        return _LOADED[key]


def usable(embedder: Embedder | None, model: ActModel | None = None) -> bool:
    """Whether `embedder` produces vectors in the space the weights were trained in (by name)."""
    if embedder is None:
        return False
    model = model or load_model()
    return getattr(embedder, "name", None) == model.embedder


def _ends_with_question_mark(sentence: str) -> bool:
    return sentence.rstrip(" \t\n\"')]}”’").endswith("?")


def cue_only(sentences: Sequence[str]) -> list[tuple[SpeechAct, float]]:
    """The reading without an embedder: "?" makes a question (0.5), the rest is `other` with confidence 0."""
    return [("question", CUE_QUESTION_CONFIDENCE) if _ends_with_question_mark(s) else ("other", 0.0) for s in sentences]


def classify_vectors(
    sentences: Sequence[str], vectors: Any, model: ActModel | None = None, *, prior: bool = True
) -> list[tuple[SpeechAct, float]]:
    """The act and its probability for each sentence, from its MiniLM vector (and the "?" prior unless `prior`
    is False)."""
    import numpy as np

    if not sentences:
        return []
    model = model or load_model()
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != len(sentences) or array.shape[1] != model.dimensions:
        raise ValueError(f"expected {len(sentences)} vectors of {model.dimensions} dimensions, got {array.shape}")
    probs = model.probabilities(array)
    if prior and model.question_mark_prior is not None:
        asks = np.array([_ends_with_question_mark(s) for s in sentences])
        if asks.any():
            probs[asks] *= model.question_mark_prior
            probs[asks] /= probs[asks].sum(axis=1, keepdims=True)
    best = probs.argmax(axis=1)
    return [(model.classes[int(i)], float(min(1.0, max(0.0, probs[row, i])))) for row, i in enumerate(best)]


def classify(sentences: Sequence[str], embedder: Embedder | None) -> list[tuple[SpeechAct, float]]:
    """The act of each sentence: embeds them in one call, or falls back to `cue_only` (see the module doc)."""
    if not sentences:
        return []
    model = load_model()
    if not usable(embedder, model):
        return cue_only(sentences)
    assert embedder is not None
    vectors = embedder.embed_documents(list(sentences))
    if len(vectors) != len(sentences) or any(len(v) != model.dimensions for v in vectors):
        return cue_only(sentences)
    return classify_vectors(sentences, vectors, model)


def act_probability(texts: Sequence[str], embedder: Embedder | None, act: SpeechAct) -> list[float]:
    """The classifier's probability of `act` for each text (no "?" prior), in one embedding call; all 0.0 without a
    usable embedder."""
    import numpy as np

    model = load_model()
    if not texts or not usable(embedder, model) or act not in model.classes:
        return [0.0] * len(texts)
    assert embedder is not None
    vectors = embedder.embed_documents(list(texts))
    if len(vectors) != len(texts) or any(len(v) != model.dimensions for v in vectors):
        return [0.0] * len(texts)
    probs = model.probabilities(np.asarray(vectors, dtype=np.float64))
    column = model.classes.index(act)
    return [float(p) for p in probs[:, column]]
