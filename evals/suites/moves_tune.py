"""The moves suite on its tuning set (`evals/datasets/moves_tune/`): the sessions the facilitator was tuned on,
written after the blind set and kept apart from it. Same format, same scoring as `evals.suites.moves`; its figures
are labelled "tuned on" wherever they are reported.
"""

from __future__ import annotations

from evals.data import DATASETS
from evals.runner import EvalContext, SuiteResult
from evals.suites.moves import load, replay_all

NAME = "moves_tune"
DESCRIPTION = "tuning set of facilitator moves (figures tuned on; the blind set is the `moves` suite)"
DATASET = DATASETS / "moves_tune"


def run(ctx: EvalContext) -> SuiteResult:
    return replay_all(ctx, load(DATASET), name=NAME, dataset=DATASET)
