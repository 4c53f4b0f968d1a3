"""Transcript files: the JSON contract or plain text (`Name: text` per line, optional `# date: YYYY-MM-DD`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from facilitator.exceptions import TranscriptError
from facilitator.files import read_regular_file
from facilitator.models import Participant, Transcript, Turn, slug

MAX_TRANSCRIPT_BYTES = 5_000_000
_LINE = re.compile(r"^\s*([^:\n]{1,60}?)\s*:\s*(.*)$")
_HEADERS = frozenset({"note", "notes", "update", "agenda", "action", "actions", "decision", "todo", "summary", "ps"})
_NAME_LIKE = re.compile(r"^[^\W\d_][\w .'’-]{0,40}$")
_DATE_LINE = re.compile(r"^#\s*date\s*:\s*(\S+)\s*$", re.IGNORECASE)


def load_transcript(path: Path | str, *, max_bytes: int = MAX_TRANSCRIPT_BYTES) -> Transcript:
    """Read and parse a transcript file. A folder, a FIFO or a device (e.g. /dev/zero) is refused before it is read;
    at most `max_bytes` are read."""
    path = Path(path)
    raw = read_regular_file(
        path,
        max_bytes=max_bytes,
        error=TranscriptError,
        label="transcript",
        missing_hint="check the path",
        limit_hint="split the meeting",
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TranscriptError(f"{path}: not UTF-8 text; save the transcript as UTF-8") from e
    if not text.strip():
        raise TranscriptError(f"{path}: the transcript is empty; nothing to summarize")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise TranscriptError(
            f"{path}: line {line} contains a NUL character (\\x00), which a transcript cannot hold (was it saved as "
            "UTF-16?); save it as UTF-8 text without it"
        )
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TranscriptError(
                f"{path}: broken JSON at line {e.lineno}, column {e.colno} ({e.msg}); fix the file or use plain text"
            ) from e
        except RecursionError:
            raise TranscriptError(
                f"{path}: the JSON is nested too deeply to be a transcript; fix the file (see the README's "
                "transcript format) or use plain text"
            ) from None
        return parse_json_transcript(data, origin=str(path))
    return parse_text_transcript(text, origin=str(path))


def parse_json_transcript(data: Any, *, origin: str = "transcript") -> Transcript:
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise TranscriptError(f"{origin}: expected an object with a 'turns' list (see the README's transcript format)")
    turns_raw = data["turns"]
    if not turns_raw:
        raise TranscriptError(f"{origin}: the transcript has no turns; nothing to summarize")
    participants_raw = data.get("participants")
    if not participants_raw:
        names = dict.fromkeys(str(t.get("speaker", "")) for t in turns_raw if isinstance(t, dict))
        participants_raw = [{"id": slug(n), "name": n} for n in names if n]
    try:
        participants = [Participant.model_validate(p) for p in participants_raw]
    except ValidationError as e:
        raise TranscriptError(
            f"{origin}: participants: {e.errors()[0]['msg']}; each needs an 'id' and a 'name' "
            "(see the README's transcript format)"
        ) from e
    known = {p.id for p in participants}
    by_label = {label: p.id for p in participants for label in (p.id, p.name.strip().lower())}
    turns: list[Turn] = []
    for i, raw in enumerate(turns_raw):
        if not isinstance(raw, dict) or "speaker" not in raw or "text" not in raw:
            raise TranscriptError(f"{origin}: turns[{i}] needs 'speaker' and 'text'")
        speaker = by_label.get(str(raw["speaker"]).strip().lower(), "")
        if not speaker:
            raise TranscriptError(
                f"{origin}: turns[{i}] has unknown speaker '{raw['speaker']}'; known ids: {', '.join(sorted(known))}"
            )
        text = str(raw["text"])
        if "\x00" in text:
            raise TranscriptError(f"{origin}: turns[{i}] contains a NUL character (\\x00); remove it from the text")
        turns.append(Turn(index=i, speaker=speaker, text=text))
    for p in participants:
        if "\x00" in p.name or "\x00" in p.id:
            raise TranscriptError(f"{origin}: participant '{p.id}' contains a NUL character (\\x00); remove it")
    return Transcript(date=_parse_date(data.get("date"), origin), participants=participants, turns=turns)


def parse_text_transcript(text: str, *, origin: str = "transcript") -> Transcript:
    if "\x00" in text:
        at = text.count("\n", 0, text.index("\x00")) + 1
        raise TranscriptError(f"{origin}: line {at} contains a NUL character (\\x00); remove it from the text")
    date: dt.date | None = None
    names: dict[str, str] = {}
    turns: list[Turn] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        date_match = _DATE_LINE.match(line)
        if date_match and not turns:
            date = _parse_date(date_match.group(1), origin)
            continue
        match = _LINE.match(line)
        if match and match.group(2).strip() and _speaker_label(match.group(1), names):
            name = match.group(1).strip()
            pid = slug(name)
            names.setdefault(pid, name)
            turns.append(Turn(index=len(turns), speaker=pid, text=match.group(2).strip()))
        elif turns:
            last = turns[-1]
            turns[-1] = last.model_copy(update={"text": f"{last.text} {line.strip()}"})
        else:
            raise TranscriptError(f"{origin}: line {line_no} is not 'Name: text'; every turn starts with the speaker")
    if not turns:
        raise TranscriptError(f"{origin}: no 'Name: text' lines found; nothing to summarize")
    participants = [Participant(id=pid, name=name) for pid, name in names.items()]
    return Transcript(date=date, participants=participants, turns=turns)


def _speaker_label(label: str, known: dict[str, str]) -> bool:
    """Whether `label` before a colon names a speaker: a known one, or name-like (one token, or up to 3 capitalised
    words). Keeps "The plan is: ship it Friday." as a continuation, not a turn by someone called 'The plan is'.
    """
    label = label.strip()
    if slug(label) in known:
        return True
    words = label.split()
    if not _NAME_LIKE.match(label) or len(words) > 3 or label.lower() in _HEADERS:
        return False
    return len(words) == 1 or all(w[:1].isupper() for w in words)


def _parse_date(value: Any, origin: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as e:
        raise TranscriptError(f"{origin}: date {value!r} is not a date; write it as YYYY-MM-DD") from e
