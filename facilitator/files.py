"""Reading files a user names (pair files, transcripts, knowledge files): regular files only, bounded in size.

A named pipe (FIFO) would block the open until someone writes to it, and a device such as /dev/zero (or a symlink to
one) would be read without end; both are refused before their content is read. The size is checked on the resolved
target before opening, the open never blocks (O_NONBLOCK), the opened file is checked again (it may have been swapped
meanwhile), and at most `max_bytes` + 1 bytes are read (a file that grew meanwhile is refused too).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from facilitator.exceptions import InputError

__all__ = ["read_regular_file"]

_CHUNK = 1 << 20


def read_regular_file(
    path: Path,
    *,
    max_bytes: int,
    error: type[InputError],
    label: str,
    missing_hint: str = "check the path",
    limit_hint: str = "",
    name: str | None = None,
) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), at most `max_bytes` of them.

    Raises `error` (an InputError) saying what is wrong: no such file, not a regular file (folder, FIFO, device),
    over the limit (`limit_hint` names the way out), or unreadable. `label` names the kind of file in messages ("pair
    file"); `name` is how the file is shown (default: the path).
    """
    shown = name or str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{shown}: no such {label}; {missing_hint}") from None
    except OSError as e:
        raise error(f"{shown}: cannot be read ({e.strerror or e}); check the path and its permissions") from e
    _check(shown, info, max_bytes, error, label, limit_hint)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError as e:
        raise error(f"{shown}: cannot be read (permission denied); check the file's permissions") from e
    except OSError as e:
        raise error(f"{shown}: cannot be read ({e.strerror or e}); check the path") from e
    try:
        _check(shown, os.fstat(fd), max_bytes, error, label, limit_hint)  # what was opened, not what was looked at
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise error(f"{shown}: cannot be read ({e.strerror or e}); check the file") from e
    finally:
        os.close(fd)
    if size > max_bytes:
        raise error(_too_big(shown, max_bytes + 1, max_bytes, label, limit_hint, grew=True))
    return b"".join(chunks)


def _check(shown: str, info: os.stat_result, max_bytes: int, error: type[InputError], label: str, hint: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{shown}: is {_kind(info.st_mode)}, not a regular file; save the {label} as an ordinary file")
    if info.st_size > max_bytes:
        raise error(_too_big(shown, info.st_size, max_bytes, label, hint))


def _too_big(shown: str, size: int, max_bytes: int, label: str, hint: str, *, grew: bool = False) -> str:
    how = "grew past" if grew else f"is {_mb(size)}, over"
    return f"{shown}: {how} the {_mb(max_bytes)} limit for a {label}" + (f"; {hint}" if hint else "")


def _mb(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1e3:.0f} kB"
    return f"{size / 1e6:.1f} MB" if size < 10e6 else f"{size / 1e6:.0f} MB"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (like /dev/zero)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
