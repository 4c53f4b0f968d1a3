"""Pair files (JSON or YAML): two participants, what each offers and seeks, shared goals, cadence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from facilitator.exceptions import PairFileError
from facilitator.models import Pair

EXAMPLE = "examples/pairs/ana-ben.yaml"


def load_pair(path: Path | str) -> Pair:
    path = Path(path)
    if not path.is_file():
        raise PairFileError(f"{path}: no such pair file; start from {EXAMPLE}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PairFileError(f"{path}: cannot be read as UTF-8 text ({e}); save it as UTF-8 JSON or YAML") from e
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PairFileError(f"{path}: not valid {kind} ({first}); fix the file, starting from {EXAMPLE}") from e
    return parse_pair(data, origin=str(path))


def parse_pair(data: Any, *, origin: str = "pair") -> Pair:
    if not isinstance(data, dict):
        raise PairFileError(f"{origin}: expected an object with 'participants' (see {EXAMPLE})")
    if "participants" not in data:
        raise PairFileError(f"{origin}: missing field 'participants' (a list of the two partners, see {EXAMPLE})")
    participants = data.get("participants")
    if isinstance(participants, list):
        for i, p in enumerate(participants):
            if isinstance(p, dict) and "id" not in p and str(p.get("name") or "").split():
                p["id"] = str(p["name"]).split()[0].lower()
            if isinstance(p, dict) and "name" not in p:
                raise PairFileError(f"{origin}: participants[{i}] is missing field 'name'")
    try:
        return Pair.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "participants"
        raise PairFileError(f"{origin}: field '{where}': {first['msg']}; fix it (see {EXAMPLE})") from e
