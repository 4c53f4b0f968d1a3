"""Where the web app writes a session's exports before Gradio serves a copy of them.

One owner-only folder per process in a known place, `<tempdir>/comentor-exports-<uid>-<pid>-<start>-<random>/`
(`start` is the process's start time, so a reused pid is not taken for the process that died). The process removes
its folder when it exits normally; the folders of a process that was killed (SIGTERM without cleanup, kill -9) hold
transcripts, and are purged when the next process of the same user starts (`exports_root`).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

__all__ = ["exports_root", "purge_stale"]

_UNKNOWN = "0"  # a start time that could not be read


def exports_root(base: Path | None = None) -> Path:
    """A new, empty folder (0700) for this process's exports, in `base` (default: the system temp folder, where
    Gradio accepts files from), after purging this user's folders there whose process is gone."""
    base = Path(tempfile.gettempdir()) if base is None else base
    purge_stale(base)
    pid = os.getpid()
    return Path(tempfile.mkdtemp(prefix=f"{_prefix()}{pid}-{_process(pid)[1]}-", dir=base))


def purge_stale(base: Path) -> list[Path]:
    """Remove this user's exports folders in `base` whose process is gone; returns them. Anything else (other
    users' folders, symlinks, folders of running processes, other names) is left alone."""
    removed: list[Path] = []
    prefix, uid = _prefix(), os.getuid()
    try:
        children = [c for c in base.iterdir() if c.name.startswith(prefix)]
    except OSError:
        return removed
    for child in children:
        pid, _, rest = child.name[len(prefix) :].partition("-")
        start, _, _ = rest.partition("-")
        if not pid.isdigit() or not start.isdigit():
            continue
        try:
            info = child.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not _alive(int(pid), start):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def _prefix() -> str:
    return f"comentor-exports-{os.getuid()}-"


def _process(pid: int) -> tuple[str, str]:
    """(state, start time in clock ticks) of a process from /proc, or ("", _UNKNOWN) where /proc cannot tell."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 (state) is [0], field 22 (start) [19]
        return fields[0], fields[19]
    except (OSError, IndexError):
        return "", _UNKNOWN


def _alive(pid: int, start: str) -> bool:
    """Whether the process that made a folder (its pid and start time) still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has that pid now: not the one that made the folder
        return start == _UNKNOWN
    state, now = _process(pid)
    if state == "Z":  # exited, not yet reaped
        return False
    return _UNKNOWN in (start, now) or now == start
