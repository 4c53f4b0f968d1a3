"""Where the bundled `prompts/` and `knowledge/` folders are: beside the package in a checkout, inside it in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bundled '{name}' folder is missing; reinstall comentor (pip install .)")


def prompts_dir() -> Path:
    return _bundled("prompts")


def knowledge_dir() -> Path:
    return _bundled("knowledge")


def guidance_dir() -> Path:
    return knowledge_dir() / "guidance"


def demo_pair_path() -> Path:
    """The demo pair (Ana and Ben) that `comentor ui` creates on first start."""
    return _bundled("examples") / "pairs" / "ana-ben.yaml"
