# One task runner for people and CI. `make run` and `make test` are the README's Quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PYTHONDONTWRITEBYTECODE= : with it set (some build machines do) and the install not byte-compiling (--no-compile
# below), every test subprocess would compile ~1,000 modules from source again (about 2 s each).
TEST_ENV := GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
	PYTHONDONTWRITEBYTECODE=

.PHONY: install dev run test lint typecheck unit system-deps eval eval-check bench train clean local-model test-local-model

# Installs print one line per step (pip -qq: errors only). `make run` installs what the app needs; the targets that
# test, lint, evaluate or train add the dev tools (pytest, playwright, ruff, mypy, ...) once, on top.
# --no-compile: byte-compiling every installed file was two thirds of the install's CPU time (63 of 99 s); Python
# compiles the modules comentor imports on their first import instead (a few seconds, once). benchmarks/bench_setup.py
PIP := $(BIN)/python -m pip install -qq --no-compile --disable-pip-version-check
DEV_STAMP := $(VENV)/.installed-dev
PORT ?=

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "comentor needs Python 3.11 or newer"'
	@echo "comentor: [1/4] creating the virtual environment $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@echo "comentor: [2/4] updating pip"
	@$(PIP) --upgrade pip
	@# The CPU build of torch first: an unpinned torch would pull several GB of CUDA packages.
	@echo "comentor: [3/4] installing torch 2.13.0 (CPU build; it exports the embedding model once)"
	@$(PIP) torch==2.13.0
	@echo "comentor: [4/4] installing comentor and its dependencies (a few minutes on a first install)"
	@$(PIP) -e .
	@touch $(STAMP)
	@echo "comentor: installed; the command is $(BIN)/comentor (or \`source $(BIN)/activate\` to put it on PATH)"

$(DEV_STAMP): $(STAMP)
	@echo "comentor: installing the dev tools (pytest, playwright, ruff, mypy, scikit-learn, psycopg)"
	@$(PIP) -e '.[dev]'
	@touch $(DEV_STAMP)

install: $(STAMP)

dev: $(DEV_STAMP)

# `make run PORT=7861`: default COMENTOR_PORT, else 7860 (on 127.0.0.1; `comentor ui --host` to change it).
run: install
	@echo "comentor: indexing the bundled guidance (on first use this also exports the embedding model)"
	@$(BIN)/comentor knowledge add --bundled
	@echo "comentor: starting the web app"
	@$(BIN)/comentor ui $(if $(PORT),--port $(PORT))

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev
	$(BIN)/mypy facilitator ui evals

# Debian's chromium (browser tests) and PostgreSQL (integration tests), installed when missing and we may.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v chromium >/dev/null || $(SUDO) apt-get install -y -q chromium >/dev/null \
		|| { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium >/dev/null; } \
		|| echo "warning: could not install chromium; the browser tests will be skipped"
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(SUDO) apt-get install -y -q postgresql >/dev/null \
		|| echo "warning: could not install postgresql; the PostgreSQL tests will be skipped"

unit: dev system-deps
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

EVAL_LLM_SUITES := --suite commitments --suite assumptions --suite balance --suite agenda --suite grounding

# The full offline eval and its report (reports/eval/report.{json,md,html}).
eval: dev
	$(TEST_ENV) $(BIN)/comentor eval --report reports/eval

# Offline suites, then the LLM facilitator replaying evals/cassettes; fails on a regression against evals/baseline.json.
eval-check: dev
	$(TEST_ENV) $(BIN)/comentor eval --check --report reports/eval
	$(TEST_ENV) $(BIN)/comentor eval --check --facilitator llm $(EVAL_LLM_SUITES) --report reports/eval-llm

test: lint typecheck unit eval-check

# Performance benchmarks: writes benchmarks/results/ (performance.md, results.json, PNG plots). BENCH_ARGS=--quick
bench: dev
	$(TEST_ENV) $(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The speech-act classifier of facilitator.understanding: facilitator/understanding/data/acts.{npz,report.json}.
train: dev
	$(TEST_ENV) $(BIN)/python -m facilitator.understanding.train

# A small model served on 127.0.0.1 for the LLM path (builds llama-server once, ~20 min on 2 cores; then seconds).
LOCAL_MODEL_ARGS ?=
local-model: install
	$(BIN)/comentor local-model $(LOCAL_MODEL_ARGS)

# The LLM path against that real server (mechanics, not content); not part of `make test`.
test-local-model: dev
	$(BIN)/comentor local-model --build-only
	$(TEST_ENV) $(BIN)/python -m pytest -m local_model tests/test_local_model.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist reports .mypy_cache .ruff_cache
