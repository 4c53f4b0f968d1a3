"""Typed dataset files: JSONL (one case per line), YAML or JSON, each with a version (the hash of its content).

A malformed line or case raises InputError naming the file and the line (JSONL) or the case (YAML/JSON).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from facilitator.exceptions import InputError

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(__file__).resolve().parent / "datasets"  # the evals' own sets ship with them


def shared_data() -> Path:
    """The shared data folder (real transcripts and guides nobody here wrote): `--data`, else COMENTOR_DATA_DIR,
    else `../shared/data` from the working folder (the checkout's root, where `make` runs)."""
    from facilitator.settings import Settings

    return Settings().data_dir.expanduser().resolve()


M = TypeVar("M", bound=BaseModel)


class DatasetInfo(BaseModel):
    """What the report names for every dataset a suite read."""

    name: str
    path: str
    version: str  # sha256 of the file (or of the folder's files, in name order), first 12 hex digits
    cases: int


def version_of(path: Path) -> str:
    """The content hash of a file, or of every file in a folder (names and bytes, sorted by name)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def _problem(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"{where}: {first['msg']}" + (f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else "")


def _jsonl(path: Path, model: type[M]) -> list[tuple[Any, M]]:
    """(raw JSON value, validated model) per non-blank line; a bad line raises InputError with file:line."""
    if not path.is_file():
        raise InputError(f"{path} is missing; restore it from the repository")
    rows: list[tuple[Any, M]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            rows.append((raw, model.model_validate(raw)))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{number}: not valid JSON ({e.msg} at column {e.colno}); fix that line") from e
        except ValidationError as e:
            raise InputError(f"{path}:{number}: {_problem(e)}; fix that line") from e
    return rows


def load_jsonl(path: Path, model: type[M]) -> list[M]:
    """Every non-blank line of a JSONL file as `model`; a bad line raises InputError with file:line."""
    return [case for _, case in _jsonl(path, model)]


def load_jsonl_dicts(path: Path, model: type[BaseModel]) -> list[dict[str, Any]]:
    """Every non-blank line of a JSONL file as the object it holds, each checked against `model` (a schema of the
    keys the caller reads); a bad line raises InputError with file:line."""
    return [raw for raw, _ in _jsonl(path, model)]


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML (or JSON) mapping; a syntax error raises InputError with file:line."""
    if not path.is_file():
        raise InputError(f"{path} is missing; restore it from the repository")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)}); fix that line") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping at the top level")
    return data


def validate_cases(path: Path, raw: list[Any], model: type[M]) -> list[M]:
    """Validate the `cases` of a YAML dataset; a bad case raises InputError naming the file and the case."""
    out: list[M] = []
    for number, item in enumerate(raw, start=1):
        try:
            out.append(model.model_validate(item))
        except ValidationError as e:
            name = item.get("id", f"#{number}") if isinstance(item, dict) else f"#{number}"
            raise InputError(f"{path}: case {name} (number {number}): {_problem(e)}; fix that case") from e
    return out


def info(name: str, path: Path, cases: int) -> DatasetInfo:
    try:
        shown = path.relative_to(ROOT).as_posix()
    except ValueError:
        shown = str(path)
    return DatasetInfo(name=name, path=shown, version=version_of(path), cases=cases)
