"""Last session's open items, from the JSON summary `comentor summarize` wrote."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from facilitator.exceptions import InputError
from facilitator.models import Commitment


class SummaryFileError(InputError):
    """A --previous summary file is missing, malformed or not the output of `comentor summarize`."""


def previous_items(summary_json_path: Path | str) -> list[Commitment]:
    """The open and slipped items of a `comentor summarize` JSON output."""
    path = Path(summary_json_path)
    hint = "pass the JSON output of `comentor summarize` for the last session"
    if not path.is_file():
        raise SummaryFileError(f"{path}: no such summary file; {hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise SummaryFileError(f"{path}: cannot be read as UTF-8 text ({e.__class__.__name__}); {hint}") from e
    except json.JSONDecodeError as e:
        raise SummaryFileError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); {hint}") from e
    except RecursionError:
        raise SummaryFileError(f"{path}: nested too deeply to be a session summary; {hint}") from None
    if not isinstance(data, dict) or "commitments" not in data:
        raise SummaryFileError(f"{path}: not a session summary (no 'commitments' field); {hint}")
    raw = data["commitments"]
    if not isinstance(raw, list):
        raise SummaryFileError(f"{path}: 'commitments' must be a list; {hint}")
    items: list[Commitment] = []
    for i, entry in enumerate(raw):
        try:
            items.append(Commitment.model_validate(entry))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            field_name = f"commitments[{i}].{where}" if where else f"commitments[{i}]"
            raise SummaryFileError(f"{path}: field '{field_name}': {first['msg']}; {hint}") from e
    return [c for c in items if c.status in ("open", "slipped")]
