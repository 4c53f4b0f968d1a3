"""Access to a pair: hashed access codes, failed-attempt limits and the signed, expiring grants the web app holds.

A pair's access code is shown once and stored only as a salted scrypt hash (like a password). Opening a pair with
its code yields a *grant*: a token signed by the server (HMAC-SHA256) naming the pair, the session, a fingerprint of
the pair's current code hash and an expiry. The page sends the grant with every event and the engine verifies it;
knowing a visitor's Gradio session hash is not enough. Rotating the code changes the fingerprint, so every grant
issued before is revoked.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pydantic import BaseModel, ValidationError

from facilitator.codehash import PREFIX, b64, hash_parts, unb64
from facilitator.exceptions import AccessError, ConfigError

if TYPE_CHECKING:
    from facilitator.settings import Settings

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
WRONG = (
    "wrong pair id or access code; use the code shown when the pair was created "
    "(the host can issue a new one with `comentor pairs code PAIR --rotate`)"
)
EMPTY_CODE = (
    "enter the pair's access code (shown once when the pair was created; the host can issue a new one with "
    "`comentor pairs code PAIR --rotate`)"
)
EXPIRED = "your access to this pair has expired or was revoked; open the pair again with its access code"
BAD_LINK = (
    "this link did not open a pair: wrong pair id or access code (or the code was replaced since the link was made); "
    "check that the whole link was copied, or open your pair below with its id and code (the host can issue a new "
    "code with `comentor pairs code PAIR --rotate`)"
)
INCOMPLETE_LINK = (
    "this link did not open a pair: it needs both the pair id and the access code; check that the whole link was "
    "copied, or open your pair below with its id and code"
)
OTHER_SESSION = (
    "the session named in this link is not one of this pair's; today's session is open instead "
    "(the History tab lists the pair's sessions)"
)

COORDINATOR_UNSET = (
    "no coordinator code is set, so the program report is locked: set COMENTOR_COORDINATOR_CODE to a code of your "
    "choice, or to its hash from `comentor program code` (safer), and restart the app"
)
COORDINATOR_WRONG = (
    "wrong coordinator code; use the one set in COMENTOR_COORDINATOR_CODE (a pair's access code does not open it)"
)
COORDINATOR_EMPTY = "enter the coordinator code (the one set in COMENTOR_COORDINATOR_CODE)"
COORDINATOR = "(coordinator)"  # the id wrong coordinator codes are counted under (never a pair id: it has brackets)


def new_code() -> str:
    """A fresh access code: 72 random bits, URL-safe."""
    return secrets.token_urlsafe(9)


def link_to(app_url: str, pair_id: str, code: str, session_id: str | None = None) -> str:
    """The web-app link that opens a pair with its code (and a session of it): `APP/?pair=ID&code=CODE[&session=S]`.
    The page takes the code out of the address bar once it has read it."""
    query = {"pair": pair_id, "code": code, **({"session": session_id} if session_id else {})}
    base = app_url.split("?", 1)[0].split("#", 1)[0]
    return f"{base if base.endswith('/') else base + '/'}?{urlencode(query)}"


def hash_code(code: str) -> str:
    """The stored form of an access code: `s1$<salt>$<scrypt digest>` (base64url)."""
    salt = secrets.token_bytes(12)
    return PREFIX + b64(salt) + "$" + b64(_digest(code, salt))


def code_matches(stored: str, code: str) -> bool:
    """Whether `code` is the one behind `stored` (a hash, or a plaintext code from before hashing). Never raises:
    any text, non-ASCII included, is compared as UTF-8 bytes in constant time; a damaged hash matches nothing."""
    given = (code or "").encode("utf-8", "surrogatepass")
    if not stored.startswith(PREFIX):
        return hmac.compare_digest(stored.encode("utf-8"), given)
    parts = hash_parts(stored)
    if parts is None:
        return False
    salt, digest = parts
    try:
        return hmac.compare_digest(digest, hashlib.scrypt(given, salt=salt, dklen=len(digest), **_SCRYPT))
    except (ValueError, MemoryError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash to compare against when a pair id does not exist, so that costs the same as a wrong code."""
    return hash_code(new_code())


def is_hashed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def fingerprint(stored: str) -> str:
    """A short, non-reversible tag of a pair's stored code hash: grants carry it, so a new code revokes them."""
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16]


def _digest(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(code.encode("utf-8", "surrogatepass"), salt=salt, dklen=24, **_SCRYPT)


def signing_key(settings: Settings) -> bytes:
    """The server's grant-signing key: COMENTOR_SECRET_KEY (set the same on every replica), else a random key kept
    in COMENTOR_HOME/signing-key (owner-only), so grants survive a restart."""
    if settings.secret_key is not None:
        return hashlib.sha256(settings.secret_key.get_secret_value().encode()).digest()
    path = settings.home_dir / "signing-key"
    try:
        if path.is_file():
            return unb64(path.read_text(encoding="ascii").strip())
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(b64(key))
        return key
    except FileExistsError:  # another process wrote it first
        return unb64(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"cannot read or create the signing key {path} ({e}); make COMENTOR_HOME writable or set "
            "COMENTOR_SECRET_KEY"
        ) from e


class Grant(BaseModel):
    """What a verified token says: this visitor may use `pair_id`'s session `session_id` until `expires`."""

    pair_id: str
    session_id: str
    fingerprint: str
    expires: dt.datetime


class Signer:
    """Issues and verifies grants with one server secret (keep it the same across replicas and restarts)."""

    def __init__(self, key: bytes, *, lifetime: dt.timedelta = dt.timedelta(hours=12)) -> None:
        if len(key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        self._key = key
        self.lifetime = lifetime

    @classmethod
    def random(cls, *, lifetime: dt.timedelta = dt.timedelta(hours=12)) -> Signer:
        """A signer whose grants last only as long as this process (tests, one-off scripts)."""
        return cls(secrets.token_bytes(32), lifetime=lifetime)

    def issue(self, pair_id: str, session_id: str, code_fingerprint: str, now: dt.datetime) -> str:
        grant = Grant(pair_id=pair_id, session_id=session_id, fingerprint=code_fingerprint, expires=now + self.lifetime)
        body = b64(grant.model_dump_json().encode())
        return f"{body}.{self._sign(body)}"

    def read(self, token: str | None, now: dt.datetime) -> Grant:
        """The grant inside `token`; AccessError if it is missing, forged, altered or expired."""
        if not token or not isinstance(token, str) or token.count(".") != 1 or len(token) > 2000:
            raise AccessError("open your pair first (Pair tab: pair id and access code)")
        body, signature = token.split(".")
        if not token.isascii() or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            raise AccessError(EXPIRED)
        try:
            grant = Grant.model_validate(json.loads(unb64(body)))
        except (ValueError, ValidationError) as e:
            raise AccessError(EXPIRED) from e
        if grant.expires <= now:
            raise AccessError(EXPIRED)
        return grant

    def _sign(self, body: str) -> str:
        return b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())


class AttemptLimits(BaseModel):
    """Failed access attempts allowed within `window` per visitor (all pairs) and per pair (all visitors)."""

    window: dt.timedelta = dt.timedelta(minutes=15)
    per_client: int = 10
    per_pair: int = 30

    def locked_message(self) -> str:
        minutes = int(self.window.total_seconds() // 60)
        return (
            f"too many wrong access codes; wait {minutes} minutes and try again "
            "(or ask the host for a new code: `comentor pairs code PAIR --rotate`)"
        )

    def coordinator_locked(self) -> str:
        minutes = int(self.window.total_seconds() // 60)
        return (
            f"too many wrong coordinator codes from this machine; wait {minutes} minutes and try again (the host "
            "can always read the same report with `comentor program report`, or set a new code from "
            "`comentor program code`)"
        )
