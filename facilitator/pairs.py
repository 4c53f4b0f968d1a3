"""Pair files (JSON or YAML): two participants (a pair) or 3-5 (a circle), what each offers and seeks, shared goals,
cadence."""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from facilitator.exceptions import PairFileError
from facilitator.files import read_regular_file
from facilitator.models import MIN_MEMBERS, Pair

EXAMPLE = "examples/pairs/ana-ben.yaml"
MAX_PAIR_BYTES = 1_000_000  # a pair file is a few lines; anything near this is not one
PAIR_ID_CHARS = 140  # the store's key
PAIR_ID = re.compile(rf"^[a-z0-9][a-z0-9_.-]{{0,{PAIR_ID_CHARS - 1}}}\Z")  # what a pair is opened with
PAIR_ID_RULE = (
    f"lower-case letters, digits, '-', '_' and '.', starting with a letter or digit, at most {PAIR_ID_CHARS} characters"
)
SUFFIX_CHARS = 6  # the random hex ending of a suggested id: a pair nobody chose an id for cannot be guessed


def load_pair(path: Path | str, *, max_bytes: int = MAX_PAIR_BYTES) -> Pair:
    """Read and check a pair file. A folder, a FIFO or a device (e.g. /dev/zero) is refused before it is read."""
    path = Path(path)
    raw = read_regular_file(
        path,
        max_bytes=max_bytes,
        error=PairFileError,
        label="pair file",
        missing_hint=f"start from {EXAMPLE}",
        limit_hint=f"a pair file is a few lines; start from {EXAMPLE}",
    )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PairFileError(f"{path}: cannot be read as UTF-8 text ({e}); save it as UTF-8 JSON or YAML") from e
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise PairFileError(
            f"{path}: line {line} contains a NUL character (\\x00), which a pair file cannot hold (was it saved as "
            "UTF-16?); save it as UTF-8 JSON or YAML without it"
        )
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        data = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PairFileError(f"{path}: not valid {kind} ({first}); fix the file, starting from {EXAMPLE}") from e
    except RecursionError:
        raise PairFileError(
            f"{path}: its {kind} is nested too deeply to be a pair file; fix the file, starting from {EXAMPLE}"
        ) from None
    return parse_pair(data, origin=str(path))


def parse_pair(data: Any, *, origin: str = "pair") -> Pair:
    if not isinstance(data, dict):
        raise PairFileError(f"{origin}: expected an object with 'participants' (see {EXAMPLE})")
    if "participants" not in data:
        raise PairFileError(
            f"{origin}: missing field 'participants' (a list of the two partners, or 3-5 members, see {EXAMPLE})"
        )
    participants = data.get("participants")
    derived: set[int] = set()  # participants whose id was taken from their name
    if isinstance(participants, list):
        for i, p in enumerate(participants):
            if isinstance(p, dict) and "id" not in p and str(p.get("name") or "").split():
                p["id"] = derived_id(str(p["name"]))
                derived.add(i)
            if isinstance(p, dict) and "name" not in p:
                raise PairFileError(f"{origin}: participants[{i}] is missing field 'name'")
    try:
        pair = Pair.model_validate(data)
    except ValidationError as e:
        # What the file says comes first: an id taken from a too-long name is the name's problem, not the id's.
        errors = sorted(e.errors(), key=lambda err: _is_derived_id(err, derived))
        raise PairFileError(f"{origin}: {_describe(errors[0], derived)}; fix it (see {EXAMPLE})") from e
    if "id" not in data and len(pair.id) > PAIR_ID_CHARS:
        raise PairFileError(
            f"{origin}: the participants' ids joined by '-' make a pair id over {PAIR_ID_CHARS} characters; add a "
            "short field 'id' (e.g. 'id: marketing-circle')"
        )
    if "id" in data and not PAIR_ID.match(pair.id):
        raise PairFileError(
            f"{origin}: field 'id' ({pair.id[:40]!r}) is not a pair id: use {PAIR_ID_RULE} (e.g. 'ana-ben'), "
            "or leave it out to take the partners' ids joined by '-'"
        )
    where = _nul_field(pair.model_dump(mode="json", by_alias=True))
    if where is not None:
        raise PairFileError(
            f"{origin}: field '{where}' contains a NUL character (\\x00), which cannot be stored; remove it "
            f"(see {EXAMPLE})"
        )
    return pair


def derived_id(name: str) -> str:
    """A participant id from the first word of a name, for pair files and the web form alike: lower case, accents
    folded ("José" -> "jose"), other characters dropped; a word with nothing left is kept as written (and refused)."""
    word = name.split()[0].lower() if name.split() else ""
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9_.-]+", "", folded).strip("._-")[:64] or word


def check_pair_id(text: str) -> str:
    """A pair id as a person types it, made canonical (trimmed, lower case) and checked; PairFileError says the rule
    and suggests an id built from what was typed."""
    wanted = text.strip().lower()
    if PAIR_ID.match(wanted):
        return wanted
    if not wanted:
        raise PairFileError("the pair id is empty; type one, or clear the field to take the suggested id")
    cleaned = "-".join(filter(None, (derived_id(word) for word in re.split(r"[\s/&+,]+", wanted))))[:PAIR_ID_CHARS]
    hint = f" (e.g. '{cleaned}')" if PAIR_ID.match(cleaned) else ""
    raise PairFileError(f"the pair id {wanted[:40]!r} can hold only {PAIR_ID_RULE}{hint}; change it")


def suggested_pair_id(names: list[str], suffix: str) -> str:
    """The id the new-pair form suggests: each partner's first name as in their participant id, joined by '-', and
    `suffix` (random: see `new_suffix`), e.g. 'carla-dev-3f9a1c'; 'pair-<suffix>' before any name is typed."""
    words = [derived_id(name) for name in names if name.split()]
    base = "-".join(w for w in words if PAIR_ID.match(w)) or "pair"
    return f"{base[: PAIR_ID_CHARS - 1 - len(suffix)]}-{suffix}"


def new_suffix() -> str:
    """A random ending for a suggested pair id."""
    return secrets.token_hex(SUFFIX_CHARS // 2)


def is_suffix(text: object) -> bool:
    """Whether `text` is the random ending of a suggested id (six lower-case hex digits)."""
    return isinstance(text, str) and len(text) == SUFFIX_CHARS and all(c in "0123456789abcdef" for c in text)


def _topics(value: str | list[str]) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else value
    return [part.strip() for part in parts if isinstance(part, str) and part.strip()]


class PartnerDraft(BaseModel):
    """One partner as a form gives it: offers and seeks as comma-separated text or lists."""

    name: str = ""
    role: str = ""
    offers: str | list[str] = ""
    seeks: str | list[str] = ""

    @property
    def is_blank(self) -> bool:
        return not any(
            _topics(v) if isinstance(v, list) else v.strip() for v in (self.name, self.role, self.offers, self.seeks)
        )


class PairDraft(BaseModel):
    """A new pair as the web form gives it; `to_pair` builds it with the same rules as a pair file."""

    participants: list[PartnerDraft] = Field(default_factory=list)
    shared_goals: str | list[str] = ""
    cadence: str = ""
    pair_id: str = Field(default="", description="The id typed in the form ('': the engine suggests one).")

    def to_pair(self) -> Pair:
        """The pair (or circle): the form's rows after the second that are left blank are not members."""
        members = self.members
        for n, partner in enumerate(members, start=1):
            if not partner.name.strip():
                raise PairFileError(f"partner {n} needs a name")
        data = {
            "participants": [
                {
                    "name": p.name.strip(),
                    "role": p.role.strip(),
                    "offers": _topics(p.offers),
                    "seeks": _topics(p.seeks),
                }
                for p in members
            ],
            "shared_goals": _topics(self.shared_goals),
            "cadence": self.cadence.strip() or None,
        }
        ids = [derived_id(p.name) for p in members]
        if len(set(ids)) < len(ids):
            raise PairFileError("the partners need different first names (a partner's first name becomes their id)")
        if self.pair_id.strip():
            data["id"] = check_pair_id(self.pair_id)
        return parse_pair(data, origin="the new pair")

    @property
    def members(self) -> list[PartnerDraft]:
        """The rows that describe someone: the first two always, a further one when any of its fields is filled."""
        return [p for n, p in enumerate(self.participants) if n < MIN_MEMBERS or not p.is_blank]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.members]


def _is_derived_id(error: ErrorDetails, derived: set[int]) -> bool:
    loc = error["loc"]
    return len(loc) == 3 and loc[0] == "participants" and loc[1] in derived and loc[2] == "id"


def _describe(error: ErrorDetails, derived: set[int]) -> str:
    """One validation error in words: the field, what is wrong, and the limit when there is one."""
    where = ".".join(str(part) for part in error["loc"]) or "participants"
    ctx = error.get("ctx") or {}
    value = error.get("input")
    limit = ctx.get("max_length")
    if error["type"] == "string_too_long" and limit is not None:
        size = len(value) if isinstance(value, str) else "too many"
        return f"field '{where}' is {size} characters, over the {limit}-character limit; shorten it"
    if error["type"] == "too_long" and limit is not None:
        size = ctx.get("actual_length") or (len(value) if isinstance(value, list | tuple) else "too many")
        return f"field '{where}' has {size} entries, over the limit of {limit}; keep the {limit} that matter most"
    if error["type"] == "string_too_short":
        return f"field '{where}' is empty; write it"
    message = error["msg"].removeprefix("Value error, ")
    if _is_derived_id(error, derived):
        return f"field '{where}' (taken from the first word of the name): {message}; or add an 'id' (e.g. 'id: ana')"
    return f"field '{where}': {message}"


def _nul_field(value: Any, where: str = "") -> str | None:
    """The first field (dotted path) of a validated pair whose text holds a NUL character, or None."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _nul_field(item, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None
