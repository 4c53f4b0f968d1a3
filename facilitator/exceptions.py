"""The one exception hierarchy of comentor. Every message says what to do about it.

ComentorError
├── ConfigError            settings or environment are wrong (names the variable to set)
├── InputError             a user-supplied file, message or argument is invalid (exit code 2)
│   ├── PairFileError      a pair file is missing, malformed or incomplete
│   │   └── PairIdTaken    a new pair's chosen id is taken (carries a free one)
│   ├── TranscriptError    a transcript cannot be read
│   ├── MessageError       a chat message is empty, too long or from an unknown speaker
│   ├── SessionEnded       a write to a session that has ended (read-only: start the next session)
│   ├── IngestError        a knowledge file cannot be indexed
│   ├── PeopleFileError    a people file (the cohort to match) is missing, malformed or incomplete
│   ├── MatchError         the people cannot be grouped as asked (e.g. too few for circles of that size)
│   └── FeedbackError      a member's end-of-session check-in answers are invalid (score 1-5, short answers)
├── KnowledgeError         the knowledge base is empty or unreachable
├── StoreError             the database cannot be opened or written
├── ModelError             the language model failed after its retries (the offline brain takes over)
├── NotFoundError          a session, pair or commitment id does not exist (or is not yours)
└── AccessError            a wrong or missing access code for a pair (exit code 2)
"""

from __future__ import annotations


class ComentorError(Exception):
    """Base class of every error comentor raises on purpose."""

    exit_code = 1


class ConfigError(ComentorError):
    """Settings or environment variables are inconsistent."""

    exit_code = 2


class InputError(ComentorError):
    """Something the user supplied is invalid; the message names the fix."""

    exit_code = 2


class PairFileError(InputError):
    """A pair file is missing, malformed or incomplete."""


class PairIdTaken(PairFileError):
    """A new pair's chosen id belongs to another pair; `free` is a free id to suggest instead."""

    def __init__(self, taken: str, free: str) -> None:
        super().__init__(f"the pair id '{taken}' is taken; use '{free}' (free), or choose another")
        self.taken, self.free = taken, free


class TranscriptError(InputError):
    """A transcript file cannot be parsed."""


class MessageError(InputError):
    """A chat message cannot be accepted."""


class SessionEnded(InputError):
    """A session that has ended (summarized) is read-only: no turn, move, item or agenda change is taken."""


class IngestError(InputError):
    """A file cannot be added to the knowledge base."""


class PeopleFileError(InputError):
    """A people file (`comentor match PEOPLE_FILE`) is missing, malformed or incomplete."""


class MatchError(InputError):
    """The people cannot be paired or grouped as asked; the message names a size or option that works."""


class FeedbackError(InputError):
    """A member's end-of-session feedback cannot be taken; the message names the field and the fix."""


class KnowledgeError(ComentorError):
    """The knowledge base is empty or cannot be reached."""


class StoreError(ComentorError):
    """The session store cannot be opened or written."""


class ModelError(ComentorError):
    """The language model failed; callers fall back to the offline facilitator."""


class NotFoundError(ComentorError):
    """The requested object does not exist or does not belong to the caller."""

    exit_code = 2


class AccessError(ComentorError):
    """The caller did not show the pair's access code, or the object belongs to another pair."""

    exit_code = 2
