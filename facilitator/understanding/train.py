"""Train the speech-act classifier: `python -m facilitator.understanding.train` (`make train`).

Embeds `data/acts.train.jsonl` with the project's embedder (`make_embedder`, the local MiniLM by default),
standardises each dimension, picks the regularisation strength C and then the "?" prior by 5-fold stratified
cross-validation on the training split only, fits scikit-learn's LogisticRegression (multinomial,
class_weight="balanced", fixed seed) on the whole training split, folds the standardisation into the weights (so
inference is one matrix product on the raw vector) and writes

- `data/acts.npz`: the weights as plain arrays (see `facilitator.understanding.acts`), and
- `data/acts.report.json`: held-out accuracy and macro F1, per-label precision/recall/F1, the confusions, the
  training size per label, the embedder's name, the chosen C and the date.

The held-out figures are computed from the written weights through the same numpy path the facilitator runs
(`acts.classify_vectors`, "?" prior included), so the report is what ships. scikit-learn is needed here only (the
`dev` extra); nothing at runtime imports this module's training code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facilitator.understanding.acts import LABELS, ActModel, _from_arrays, classify_vectors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from facilitator.knowledge.embeddings import Embedder

__all__ = ["DATA_DIR", "SEED", "evaluate", "load_examples", "main", "train"]

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20240615
C_GRID = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
PRIOR_EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
FOLDS = 5


def load_examples(path: Path) -> list[dict[str, str]]:
    """`{"text", "act"}` lines; an unknown act or an empty text raises ValueError naming the line."""
    rows: list[dict[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("act") not in LABELS or not str(row.get("text", "")).strip():
            raise ValueError(f"{path.name}:{number}: expected a text and one of {', '.join(LABELS)}")
        rows.append({"text": row["text"], "act": row["act"]})
    return rows


def _metrics(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = list(LABELS)
    per: dict[str, dict[str, float | int]] = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return {
        "accuracy": round(correct / len(truth), 4) if truth else 0.0,
        "macro_f1": round(sum(float(m["f1"]) for m in per.values()) / len(per), 4),
        "macro_recall": round(sum(float(m["recall"]) for m in per.values()) / len(per), 4),
        "n": len(truth),
        "per_label": per,
        "confusions": [
            {"true": t, "predicted": p, "count": n} for (t, p), n in sorted(confusions.items(), key=lambda x: -x[1])
        ],
    }


def evaluate(
    rows: Sequence[dict[str, str]],
    model: ActModel,
    *,
    embedder: Embedder | None = None,
    vectors: Any = None,
    prior: bool = True,
) -> dict[str, Any]:
    """Accuracy, macro F1 and per-label figures of `model` on labelled rows (embedded here unless `vectors`)."""
    texts = [r["text"] for r in rows]
    if vectors is None:
        if embedder is None:
            raise ValueError("evaluate needs an embedder or the rows' vectors")
        vectors = embedder.embed_documents(texts)
    predicted = [act for act, _ in classify_vectors(texts, vectors, model, prior=prior)]
    result = _metrics([r["act"] for r in rows], predicted)
    result["errors"] = [
        {"text": r["text"], "true": r["act"], "predicted": p}
        for r, p in zip(rows, predicted, strict=True)
        if p != r["act"]
    ]
    return result


def _fit(vectors: Any, labels: Sequence[str], c: float, *, embedder: str = "", prior: Any = None) -> ActModel:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(vectors, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=SEED)
    clf.fit((x - mean) / scale, list(labels))
    order = [list(clf.classes_).index(label) for label in LABELS]  # rows in SpeechAct order
    # The standardisation folded into the weights: W((x - mean) / scale) + b = (W / scale) x + (b - (W / scale) mean)
    coef = clf.coef_[order] / scale
    intercept = clf.intercept_[order] - coef @ mean
    arrays = {
        "coef": np.asarray(coef, dtype=np.float32),
        "intercept": np.asarray(intercept, dtype=np.float32),
        "classes": np.array(LABELS, dtype=np.str_),
        "embedder": np.array(embedder, dtype=np.str_),
        "question_mark_prior": np.ones(len(LABELS)) if prior is None else np.asarray(prior, dtype=np.float64),
    }
    return _from_arrays(arrays)


def _out_of_fold(texts: Sequence[str], vectors: Any, labels: Sequence[str], c: float) -> list[ActModel | None]:
    """Each training row's fold model (fitted without that row), by stratified k-fold with the fixed seed."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    y = np.array(labels)
    owner: list[ActModel | None] = [None] * len(texts)
    for fit_idx, test_idx in folds.split(vectors, y):
        model = _fit(vectors[fit_idx], y[fit_idx].tolist(), c)
        for i in test_idx:
            owner[int(i)] = model
    return owner


def _question_mark_ratios(texts: Sequence[str], labels: Sequence[str]) -> Any:
    """P("?" | act) / P("?") per label on the training split, with add-one smoothing."""
    import numpy as np

    from facilitator.understanding.acts import _ends_with_question_mark

    asks = [_ends_with_question_mark(t) for t in texts]
    overall = (sum(asks) + 1) / (len(asks) + 2)
    ratios = []
    for label in LABELS:
        mine = [a for a, y in zip(asks, labels, strict=True) if y == label]
        ratios.append(((sum(mine) + 1) / (len(mine) + 2)) / overall)
    return np.array(ratios, dtype=np.float64)


def _cv_accuracy(
    texts: Sequence[str], vectors: Any, labels: Sequence[str], owners: list[Any], exponent: float | None
) -> float:
    """Out-of-fold accuracy; with `exponent`, each fold's "?" prior is counted on that fold's training rows."""
    correct = 0
    for model in {id(m): m for m in owners}.values():
        rows = [i for i, m in enumerate(owners) if m is model]
        prior = None
        if exponent is not None:
            rest = [i for i, m in enumerate(owners) if m is not model]
            prior = _question_mark_ratios([texts[i] for i in rest], [labels[i] for i in rest]) ** exponent
        fold = ActModel(model.coef, model.intercept, model.classes, model.embedder, model.version, prior)
        predicted = classify_vectors([texts[i] for i in rows], vectors[rows], fold)
        correct += sum(1 for (act, _), i in zip(predicted, rows, strict=True) if act == labels[i])
    return round(correct / len(labels), 4)


def _choose(texts: Sequence[str], vectors: Any, labels: Sequence[str]) -> tuple[float, float, dict[str, Any]]:
    """C, then the "?" prior's exponent, by cross-validated accuracy on the training split only (ties: the smaller
    value)."""
    by_c: dict[str, float] = {}
    owners_by_c: dict[float, list[Any]] = {}
    for c in C_GRID:
        owners_by_c[c] = _out_of_fold(texts, vectors, labels, c)
        by_c[str(c)] = _cv_accuracy(texts, vectors, labels, owners_by_c[c], None)
    c = max(C_GRID, key=lambda v: (by_c[str(v)], -v))
    by_t = {str(t): _cv_accuracy(texts, vectors, labels, owners_by_c[c], t) for t in PRIOR_EXPONENTS}
    exponent = max(PRIOR_EXPONENTS, key=lambda v: (by_t[str(v)], -v))
    return c, exponent, {"accuracy_by_C": by_c, "accuracy_by_prior_exponent": by_t, "folds": FOLDS}


def train(
    data_dir: Path = DATA_DIR, out_dir: Path | None = None, *, embedder: Embedder | None = None
) -> dict[str, Any]:
    """Train, evaluate on the held-out split, write `acts.npz` and `acts.report.json` to `out_dir`; the report."""
    import numpy as np
    import sklearn

    out_dir = out_dir or data_dir
    if embedder is None:
        from facilitator.knowledge.embeddings import make_embedder
        from facilitator.settings import Settings

        embedder = make_embedder(Settings(embedder="local"))  # the MiniLM space, whatever COMENTOR_EMBEDDER says
    train_rows = load_examples(data_dir / "acts.train.jsonl")
    heldout_rows = load_examples(data_dir / "acts.heldout.jsonl")
    missing = [label for label in LABELS if label not in {r["act"] for r in heldout_rows}]
    if missing:
        raise ValueError(f"the held-out split has no example of {', '.join(missing)}")
    x_train = np.asarray(embedder.embed_documents([r["text"] for r in train_rows]), dtype=np.float64)
    x_heldout = np.asarray(embedder.embed_documents([r["text"] for r in heldout_rows]), dtype=np.float64)
    y_train = [r["act"] for r in train_rows]

    texts = [r["text"] for r in train_rows]
    c, exponent, cv = _choose(texts, x_train, y_train)
    prior = _question_mark_ratios(texts, y_train) ** exponent
    model = _fit(x_train, y_train, c, embedder=embedder.name, prior=prior)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / "acts.npz"
    model.save(weights)
    with weights.open("rb") as handle, np.load(handle, allow_pickle=False) as arrays:
        shipped = _from_arrays({name: arrays[name] for name in arrays.files})  # evaluate what was written

    heldout = evaluate(heldout_rows, shipped, vectors=x_heldout)
    without_prior = evaluate(heldout_rows, shipped, vectors=x_heldout, prior=False)
    nearest = (x_heldout @ x_train.T).max(axis=1)  # vectors are L2-normalised: cosine to the closest training text
    report = {
        "date": dt.date.today().isoformat(),
        "embedder": embedder.name,
        "dimensions": int(x_train.shape[1]),
        "model": "multinomial logistic regression on standardised vectors (folded into coef), class_weight=balanced",
        "C": c,
        "seed": SEED,
        "question_mark_prior": {
            "exponent": exponent,
            "multipliers": {label: round(float(v), 4) for label, v in zip(LABELS, prior, strict=True)},
        },
        "cross_validation": cv,
        "sklearn": sklearn.__version__,
        "train_size": len(train_rows),
        "train_per_label": dict(sorted(Counter(y_train).items())),
        "heldout_size": len(heldout_rows),
        "heldout_per_label": dict(sorted(Counter(r["act"] for r in heldout_rows).items())),
        "heldout_near_duplicates": {
            "cosine_ge_0.9": int((nearest >= 0.9).sum()),
            "cosine_ge_0.8": int((nearest >= 0.8).sum()),
            "median_nearest_cosine": round(float(np.median(nearest)), 4),
        },
        "heldout": {k: v for k, v in heldout.items() if k != "errors"},
        "heldout_without_prior": {k: without_prior[k] for k in ("accuracy", "macro_f1")},
        "heldout_errors": heldout["errors"],
    }
    (out_dir / "acts.report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facilitator.understanding.train", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder with acts.train/heldout.jsonl")
    parser.add_argument("--out", type=Path, default=None, help="where to write acts.npz and the report (--data)")
    args = parser.parse_args(argv)
    report = train(args.data, args.out)
    held = report["heldout"]
    print(
        f"trained on {report['train_size']} sentences (C={report['C']}); held-out accuracy {held['accuracy']:.3f}, "
        f"macro F1 {held['macro_f1']:.3f} on {report['heldout_size']} sentences"
    )
    for label, m in held["per_label"].items():
        print(f"  {label:<11} precision {m['precision']:.2f}  recall {m['recall']:.2f}  (n={m['support']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
