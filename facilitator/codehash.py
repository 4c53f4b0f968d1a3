"""The stored form of an access code, `s1$<salt>$<scrypt digest>` (base64url), and what makes a coordinator code
usable: read by `facilitator.access` (hashing, comparing) and by the settings (checking COMENTOR_COORDINATOR_CODE)
without either importing the other."""

from __future__ import annotations

import base64
import re

PREFIX = "s1$"  # scrypt (facilitator.access); 3 + 16 + 1 + 32 = 52 characters, inside the 64 of the column
HASH = re.compile(r"^s1\$([A-Za-z0-9_-]{11,64})\$([A-Za-z0-9_-]{22,128})$")  # salt >= 8 bytes, digest >= 16
COORDINATOR_MIN_CHARS = 12


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise ValueError("not base64") from e


def hash_parts(stored: str) -> tuple[bytes, bytes] | None:
    """(salt, digest) of a well-formed `s1$<salt>$<digest>` hash; None for anything else."""
    found = HASH.match(stored)
    if found is None:
        return None
    try:
        return unb64(found.group(1)), unb64(found.group(2))
    except ValueError:
        return None


def coordinator_code_problem(value: str) -> str | None:
    """Why `value` cannot be the coordinator code (COMENTOR_COORDINATOR_CODE), or None: a hash must be whole, a
    plaintext code long enough that guessing within the attempt limits is hopeless."""
    fix = "run `comentor program code` for a random code and the hash to set"
    if value.startswith(PREFIX):
        return None if hash_parts(value) else f"looks like a `s1$...` hash but is damaged; copy all of it, or {fix}"
    if len(value) < COORDINATOR_MIN_CHARS:
        return f"is too short: use at least {COORDINATOR_MIN_CHARS} characters, or {fix}"
    return None
