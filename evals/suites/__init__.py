"""Eval suites: each module has NAME, DESCRIPTION and run(ctx) -> SuiteResult (see evals/runner.py)."""
