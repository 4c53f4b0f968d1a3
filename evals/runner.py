"""One runner for every eval suite: shared components built once, suites run in order, one typed report.

    from evals.runner import EvalOptions, run
    report = run(EvalOptions(suites=["commitments"]))

Suites live in `evals/suites/`; each exposes `NAME`, `DESCRIPTION` and `run(ctx) -> SuiteResult`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SecretStr

from evals.data import ROOT, DatasetInfo, shared_data
from facilitator.exceptions import ConfigError, InputError, ModelError
from facilitator.textutil import clip

if TYPE_CHECKING:
    from evals.llm import LLMHarness
    from facilitator.brains.base import Brain
    from facilitator.engine import Facilitator
    from facilitator.knowledge.bank import ChallengePatterns, QuestionBank
    from facilitator.knowledge.embeddings import Embedder
    from facilitator.knowledge.index import KnowledgeBase

SUITES = [
    "retrieval",
    "commitments",
    "assumptions",
    "balance",
    "agenda",
    "grounding",
    "injection",
    "real_meetings",
    "moves",
    "moves_tune",
    "answers",
]
BASELINE = Path(__file__).resolve().parent / "baseline.json"
FIXED_NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
FacilitatorKind = Literal["offline", "llm"]


class CaseResult(BaseModel):
    id: str
    passed: bool | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class SuiteResult(BaseModel):
    name: str
    description: str = ""
    facilitator: str = "offline"
    metrics: dict[str, float] = Field(default_factory=dict)
    cases: list[CaseResult] = Field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    datasets: list[DatasetInfo] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    skipped: bool = False
    # metric -> why it is not comparable with the baseline (its data is missing): `--check` notes, never fails it
    skipped_metrics: dict[str, str] = Field(default_factory=dict)
    seconds: float = 0.0

    def skip_metrics(self, names: list[str] | tuple[str, ...], why: str) -> None:
        """Mark `names` as not measured (or measured on a part of the data) because `why`."""
        for name in names:
            self.skipped_metrics.setdefault(name, why)


class Regression(BaseModel):
    metric: str
    baseline: float
    current: float | None
    direction: Literal["higher", "lower"]
    tolerance: float

    def describe(self) -> str:
        now = "missing" if self.current is None else f"{self.current:.3f}"
        worse = "fell" if self.direction == "higher" else "rose"
        return f"{self.metric} {worse} from {self.baseline:.3f} to {now} (tolerance {self.tolerance:.3f})"


class EvalReport(BaseModel):
    created: str
    git_commit: str | None
    facilitator: str
    model: str
    embedder: str
    prompts: list[str]
    cassettes: dict[str, Any] = Field(default_factory=dict)
    suites: list[SuiteResult]
    seconds: float
    regressions: list[Regression] = Field(default_factory=list)
    check_notes: list[str] = Field(default_factory=list)  # baseline metrics `--check` left out, and why
    measures: str = Field(
        default="", description="What the figures measure: the offline facilitator, a model, or only the LLM pipeline."
    )

    def metric(self, key: str) -> float | None:
        suite, _, name = key.partition(".")
        for s in self.suites:
            if s.name == suite and not s.skipped:
                return s.metrics.get(name)
        return None


@dataclass
class EvalOptions:
    facilitator: FacilitatorKind = "offline"
    suites: list[str] = field(default_factory=list)
    live: bool = False
    data: Path = field(default_factory=shared_data)
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 30.0
    cassettes: Path | None = None  # default evals/cassettes
    record: bool = False  # re-record the synthetic cassettes with the reference responder


Progress = Callable[[str, int, int], None]  # (suite, done, total)


class EvalContext:
    """Shared, lazily built components for the suites of one run (one embedder, one knowledge base)."""

    def __init__(self, options: EvalOptions, workdir: Path, progress: Progress | None = None) -> None:
        self.options = options
        self.workdir = workdir
        self._progress = progress
        self._embedder: Embedder | None = None
        self._kb: KnowledgeBase | None = None
        self._kb_notes: list[str] = []
        self._bank: QuestionBank | None = None
        self._patterns: ChallengePatterns | None = None
        self.harness: LLMHarness | None = None
        self.suite = ""
        self._stores = 0
        self.fallbacks: list[str] = []  # this suite's model calls the offline rules answered instead (LLM runs)

    def fallback(self, what: str) -> None:
        """Count one model call (move, extraction, agenda phrasing) that fell back to the offline rules."""
        case = self.harness.case if self.harness is not None else "-"
        self.fallbacks.append(f"{case}: {' '.join(what.split())}")

    @property
    def data(self) -> Path:
        return self.options.data

    @property
    def llm(self) -> bool:
        return self.options.facilitator == "llm"

    def progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(self.suite, done, total)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from facilitator.knowledge.embeddings import LocalEmbedder
            from facilitator.settings import Settings

            self._embedder = LocalEmbedder(Settings().home_dir / "models")
        return self._embedder

    @property
    def bank(self) -> QuestionBank:
        if self._bank is None:
            from facilitator.knowledge.bank import QuestionBank

            self._bank = QuestionBank.load()
        return self._bank

    @property
    def patterns(self) -> ChallengePatterns:
        if self._patterns is None:
            from facilitator.knowledge.bank import ChallengePatterns

            self._patterns = ChallengePatterns.load()
        return self._patterns

    def new_kb(self, name: str) -> KnowledgeBase:
        import chromadb

        from facilitator.knowledge.index import KnowledgeBase

        path = self.workdir / f"chroma-{name}"
        client = chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))
        return KnowledgeBase(client, self.embedder, collection_prefix=f"eval-{name}")

    def knowledge(self) -> tuple[KnowledgeBase, list[str]]:
        """The bundled guidance plus the GSoC guides (when present), indexed once; notes say what was skipped."""
        if self._kb is None:
            kb = self.new_kb("guidance")
            report = kb.add_bundled()
            if report.errors:
                raise ConfigError("the bundled guidance failed to index: " + "; ".join(report.errors))
            gsoc = self.data / "gsoc_guides"
            if gsoc.is_dir():
                kb.add([gsoc], relative_to=self.data.parent)
            else:
                self._kb_notes.append(f"{gsoc} is missing: the GSoC guides were not indexed")
            self._kb = kb
        return self._kb, self._kb_notes

    def brain(self) -> Brain:
        from facilitator.brains.offline import OfflineBrain

        if not self.llm:
            return OfflineBrain()
        from facilitator.brains.llm import LLMBrain, make_chat_model
        from facilitator.settings import Settings

        assert self.harness is not None and self.harness.server is not None
        settings = Settings(
            openai_base_url=self.harness.server.base_url,
            openai_api_key=SecretStr("eval-no-key"),
            model=self.model_name,
            llm_max_retries=0,
            llm_timeout=max(self.options.timeout, 10.0),
        )
        return LLMBrain(make_chat_model(settings), self.model_name)

    @property
    def model_name(self) -> str:
        if not self.llm:
            return "none (offline facilitator)"
        return self.options.model if self.options.live else "reference-responder (synthetic cassettes)"

    def facilitator(self, brain: Brain | None = None, knowledge: KnowledgeBase | None = None) -> Facilitator:
        """A Facilitator over a fresh SQLite store, the shared knowledge base and `brain` (default: this run's)."""
        from evals.llm import CountingFallback
        from facilitator.brains.offline import OfflineBrain
        from facilitator.engine import Facilitator
        from facilitator.settings import Settings
        from facilitator.store import Store

        self._stores += 1
        # this run's model: every move the offline brain has to stand in for is counted (model_fallbacks)
        counted = brain is None and self.llm and self.harness is not None
        return Facilitator(
            store=Store(f"sqlite:///{self.workdir / f'store-{self._stores}.db'}"),
            knowledge=knowledge if knowledge is not None else self.knowledge()[0],
            brain=brain if brain is not None else self.brain(),
            bank=self.bank,
            patterns=self.patterns,
            settings=Settings(),
            clock=lambda: FIXED_NOW,
            fallback=CountingFallback(self.fallback) if counted else OfflineBrain(),
        )


def suite_module(name: str) -> Any:
    if name not in SUITES:
        raise InputError(f"unknown suite '{name}'; choose from {', '.join(SUITES)}")
    return importlib.import_module(f"evals.suites.{name}")


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5, check=False
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def prompt_refs() -> list[str]:
    from facilitator.prompts import load_prompt

    return [load_prompt(name).ref for name in ("system", "move", "answer", "extract", "agenda")]


def run(options: EvalOptions, progress: Progress | None = None) -> EvalReport:
    """Run the chosen suites (all by default) and return the report (not yet checked against a baseline)."""
    from evals import llm as llm_mod

    names = options.suites or list(SUITES)
    modules = [suite_module(n) for n in names]
    start = time.perf_counter()
    cassette_dir = options.cassettes or (live_cassettes(options.model) if options.live else llm_mod.CASSETTES)
    cassette_info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="comentor-eval-") as tmp:
        ctx = EvalContext(options, Path(tmp), progress)
        results: list[SuiteResult] = []
        for name, module in zip(names, modules, strict=True):
            ctx.suite = name
            ctx.fallbacks = []
            harness = None
            if ctx.llm and getattr(module, "LLM_CASSETTE", True):
                harness = _harness(options, cassette_dir / f"{name}.json", cassette_info, name)
                harness.start()
                ctx.harness = harness
            began = time.perf_counter()
            try:
                result: SuiteResult = module.run(ctx)
            finally:
                if harness is not None:
                    harness.stop()
                    ctx.harness = None
            result.seconds = round(time.perf_counter() - began, 2)
            result.facilitator = options.facilitator
            if harness is not None:
                result.metrics["cassette_misses"] = float(len(harness.misses))
                result.metrics["stale_prompts"] = float(len(harness.stale))
                result.metrics["model_fallbacks"] = float(len(ctx.fallbacks))
                if ctx.fallbacks:
                    result.notes.append(
                        f"{len(ctx.fallbacks)} model call(s) fell back to the offline rules because the model's "
                        f"answer failed or was unusable (e.g. {clip(ctx.fallbacks[0], 240)})"
                    )
                if harness.stale:
                    result.notes.append(
                        f"{len(harness.stale)} cassette call(s) were recorded with another prompt (e.g. "
                        f"{harness.stale[0]}); re-record with `comentor eval --facilitator llm --record-synthetic "
                        f"--suite {name}` (or `--live` against a model)"
                    )
                if harness.misses:
                    result.notes.append(
                        f"{len(harness.misses)} call(s) had no cassette entry (e.g. {harness.misses[0]}); new cases "
                        f"are recorded with `comentor eval --facilitator llm --record-synthetic --suite {name}`"
                    )
                if harness.mode == "record":
                    if harness.errors:
                        raise ModelError(_record_failure(harness, name, cassette_dir / f"{name}.json", options))
                    _save_cassette(harness, cassette_dir / f"{name}.json", options)
            results.append(result)
        embedder = ctx._embedder.name if ctx._embedder is not None else "not loaded"
    return EvalReport(
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        git_commit=git_commit(),
        facilitator=options.facilitator,
        model=ctx.model_name,
        embedder=embedder,
        prompts=prompt_refs(),
        cassettes=cassette_info,
        suites=results,
        seconds=round(time.perf_counter() - start, 2),
        measures=measures_of(options),
    )


def measures_of(options: EvalOptions) -> str:
    """What a run's figures are: only a model run against a live endpoint measures a model."""
    if options.facilitator == "offline":
        return "the offline facilitator (a measurement of what ships by default)"
    if options.live:
        return f"the LLM facilitator with the model at the configured endpoint ({options.model})"
    if options.cassettes is not None and options.cassettes.resolve().parent.name == "live":
        return (
            f"the LLM facilitator replaying cassettes recorded from a real model ({options.cassettes.name}; the "
            "cassettes' metadata names the server and quantisation)"
        )
    return (
        "a pipeline check only: the LLM facilitator replaying synthetic cassettes from a scripted reference "
        "responder through the real openai client; not a measurement of any model"
    )


def _record_failure(harness: LLMHarness, suite: str, path: Path, options: EvalOptions) -> str:
    """Why a recording failed and what to check (the cassette at `path` was left as it was)."""
    from evals.llm import display_url

    failed = len(harness.errors)
    calls = failed + len(harness.recorded)
    kept = f"{path.name} was not written (the committed cassette is unchanged)"
    if not options.live:
        return (
            f"recording suite '{suite}': the reference responder failed on {failed} of {calls} call(s) (first: "
            f"{clip(harness.errors[0], 300)}); {kept}. This is a bug in evals/llm.py reference_answer."
        )
    return (
        f"--live: the model endpoint {display_url(options.base_url)} (model '{options.model}') failed on {failed} "
        f"of {calls} call(s) of suite '{suite}' (first: {clip(harness.errors[0], 300)}); {kept}. Check that the "
        "server at OPENAI_BASE_URL is up and reachable from here, that OPENAI_API_KEY is valid for it, and that "
        "COMENTOR_MODEL names a model it serves."
    )


def _live_server(options: EvalOptions) -> dict[str, str]:
    """A live cassette's `server` and `quantisation` metadata (nothing for synthetic ones)."""
    from evals.llm import describe_server

    if not options.live:
        return {}
    server, quantisation = describe_server(options.base_url)
    return {"server": server, "quantisation": quantisation}


def live_cassettes(model: str) -> Path:
    """Where `--live` records by default: beside the synthetic cassettes, a folder per model
    (replay them with `--cassettes` that folder)."""
    from evals import llm as llm_mod

    return llm_mod.CASSETTES / "live" / (re.sub(r"[^a-z0-9._-]+", "-", model.lower()).strip("-.") or "model")


def _harness(options: EvalOptions, path: Path, info: dict[str, Any], name: str) -> LLMHarness:
    from evals.llm import Cassette, LLMHarness, live_upstream, reference_answer

    if options.live:
        upstream = live_upstream(options.base_url, options.api_key, options.model, options.timeout)
        info[name] = {"path": str(path), "source": "live", "mode": "record"}
        return LLMHarness("record", upstream, secrets=[options.api_key or ""])
    if options.record:
        info[name] = {"path": str(path), "source": "synthetic", "mode": "record"}
        return LLMHarness("record", reference_answer)
    harness = LLMHarness("replay")
    if path.is_file():
        cassette = Cassette.load(path)
        harness.load(cassette)
        info[name] = {"path": str(path), "mode": "replay", **cassette.meta.model_dump()}
    else:
        info[name] = {"path": str(path), "mode": "replay", "missing": True}
    return harness


def _save_cassette(harness: LLMHarness, path: Path, options: EvalOptions) -> None:
    from evals.llm import SYNTHETIC_MODEL, Cassette, CassetteMeta, display_url

    meta = CassetteMeta(
        source="live" if options.live else "synthetic",
        model=options.model if options.live else SYNTHETIC_MODEL,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        prompts=prompt_refs(),
        **_live_server(options),
        note=(
            f"recorded from {display_url(options.base_url)}"
            if options.live
            else "synthetic: produced by evals.llm.reference_answer, a scripted responder (no model was reachable); "
            "it checks the LLM pipeline (prompts, structured output, parsing, validation), not a model"
        ),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    cassette = Cassette(meta=meta, calls=harness.recorded)
    path.write_text(json.dumps(cassette.model_dump(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Baseline


class BaselineMetric(BaseModel):
    value: float
    direction: Literal["higher", "lower"] = "higher"
    tolerance: float | None = None


class Baseline(BaseModel):
    tolerance: float = Field(description="Allowed drop (or rise, for lower-is-better metrics) before a regression.")
    note: str = ""
    facilitator: dict[str, dict[str, BaselineMetric]]

    @classmethod
    def load(cls, path: Path = BASELINE) -> Baseline:
        if not path.is_file():
            raise InputError(f"{path} is missing; write one with `comentor eval --write-baseline`")
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise InputError(f"{path}: not a valid baseline ({str(e).splitlines()[0]})") from e


def _not_comparable(report: EvalReport) -> dict[str, str]:
    """`suite.metric` -> why: the metrics a suite skipped (or measured on part of the data) for missing data."""
    return {f"{s.name}.{name}": why for s in report.suites if not s.skipped for name, why in s.skipped_metrics.items()}


def unchecked(report: EvalReport, baseline: Baseline) -> list[str]:
    """A note for each baseline metric of a suite that ran which `check_report` leaves out for missing data."""
    skipped = _not_comparable(report)
    return [
        f"{key} not checked: {skipped[key]}"
        for key in baseline.facilitator.get(report.facilitator, {})
        if key in skipped
    ]


def check_report(report: EvalReport, baseline: Baseline) -> list[Regression]:
    """Metrics of the suites that ran which fell (or rose) beyond the tolerance; a skipped suite is not checked,
    nor is a metric its suite skipped (or measured on part of the data) for missing data (see `unchecked`)."""
    ran = {s.name for s in report.suites if not s.skipped}
    skipped = _not_comparable(report)
    out: list[Regression] = []
    for key, expected in baseline.facilitator.get(report.facilitator, {}).items():
        if key.partition(".")[0] not in ran or key in skipped:
            continue
        tolerance = baseline.tolerance if expected.tolerance is None else expected.tolerance
        current = report.metric(key)
        bad = current is None or (
            current < expected.value - tolerance - 1e-9
            if expected.direction == "higher"
            else current > expected.value + tolerance + 1e-9
        )
        if bad:
            out.append(
                Regression(
                    metric=key,
                    baseline=expected.value,
                    current=current,
                    direction=expected.direction,
                    tolerance=tolerance,
                )
            )
    return out


LOWER_IS_BETTER = (
    "asr",
    "misses",
    "false",
    "stale",
    "system_role",
    "surviving",
    "errors",
    "fp",
    "latency_turns",
    "fallbacks",
    "repeats",
)


def baseline_from(report: EvalReport, tolerance: float, previous: Baseline | None = None) -> Baseline:
    """A baseline holding every metric of `report` (merged into `previous` for the other facilitator)."""
    metrics: dict[str, BaselineMetric] = {}
    for suite in report.suites:
        if suite.skipped:
            continue
        for name, value in suite.metrics.items():
            if name in suite.skipped_metrics:
                continue  # not measured on the whole data: not a baseline
            if (
                "latency_ms" in name
                or name.startswith(("n_", "challenges_"))
                or name in ("stale_prompts", "elitr_selected")
            ):
                continue  # timings and counts are reported, not gated; stale prompts only warn
            lower = any(tag in name for tag in LOWER_IS_BETTER)
            metrics[f"{suite.name}.{name}"] = BaselineMetric(
                value=round(value, 4), direction="lower" if lower else "higher"
            )
    facilitators = dict(previous.facilitator) if previous else {}
    # what this run could not measure (missing data, a skipped suite) keeps its previous baseline
    ran = {s.name for s in report.suites if not s.skipped}
    skipped = _not_comparable(report)
    for key, kept in facilitators.get(report.facilitator, {}).items():
        if key not in metrics and (key in skipped or key.partition(".")[0] not in ran):
            metrics[key] = kept
    facilitators[report.facilitator] = metrics
    return Baseline(
        tolerance=tolerance,
        note=(
            "Scores of `comentor eval` at the commit named by the lead; `--check` fails when a metric falls below "
            "its value by more than the tolerance (or rises above it, for lower-is-better ones such as attack "
            "success rates). Regenerate with `comentor eval --write-baseline` after an intended change."
        ),
        facilitator=facilitators,
    )
