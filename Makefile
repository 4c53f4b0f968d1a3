# One task runner for people and CI. `make run` and `make test` are the README's Quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_ENV := GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False

.PHONY: install run test lint typecheck unit system-deps eval eval-check bench train clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "comentor needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull several GB of CUDA packages.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/comentor knowledge add --bundled
	$(BIN)/comentor ui

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy facilitator ui evals

# Debian's chromium (browser tests) and PostgreSQL (integration tests), installed when missing and we may.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v chromium >/dev/null || $(SUDO) apt-get install -y -q chromium >/dev/null \
		|| { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium >/dev/null; } \
		|| echo "warning: could not install chromium; the browser tests will be skipped"
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(SUDO) apt-get install -y -q postgresql >/dev/null \
		|| echo "warning: could not install postgresql; the PostgreSQL tests will be skipped"

unit: install system-deps
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

EVAL_LLM_SUITES := --suite commitments --suite assumptions --suite balance --suite agenda --suite grounding

# The full offline eval and its report (reports/eval/report.{json,md,html}).
eval: install
	$(TEST_ENV) $(BIN)/comentor eval --report reports/eval

# Offline suites, then the LLM facilitator replaying evals/cassettes; fails on a regression against evals/baseline.json.
eval-check: install
	$(TEST_ENV) $(BIN)/comentor eval --check --report reports/eval
	$(TEST_ENV) $(BIN)/comentor eval --check --facilitator llm $(EVAL_LLM_SUITES) --report reports/eval-llm

test: lint typecheck unit eval-check

# Performance benchmarks: writes benchmarks/results/ (performance.md, results.json, PNG plots). BENCH_ARGS=--quick
bench: install
	$(TEST_ENV) $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The speech-act classifier of facilitator.understanding: facilitator/understanding/data/acts.{npz,report.json}.
train: install
	$(TEST_ENV) $(BIN)/python -m facilitator.understanding.train

clean:
	rm -rf $(VENV) build dist reports .mypy_cache .ruff_cache
