"""Why a path cannot be read as a data file, in words: missing, a folder, a pipe, a link loop, too long."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_REASONS = {errno.ENOENT: "file not found", errno.ELOOP: "a loop of symbolic links (the link points back to itself)",
            errno.ENAMETOOLONG: "the file name is too long for this file system",
            errno.EACCES: "permission denied", errno.ENOTDIR: "a part of the path is not a folder"}


def os_reason(exc: OSError) -> str:
    """A short, specific reason for an ``OSError`` met while opening a file."""
    return _REASONS.get(exc.errno, f"cannot be read ({exc.strerror or exc})")


def file_problem(path: Path) -> str | None:
    """``None`` for a regular file; otherwise what the path is instead (read without opening it)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return os_reason(exc)
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(info.st_mode):
        return "is a named pipe (FIFO), not a file; reading it could wait forever"
    if not stat.S_ISREG(info.st_mode):
        return "is a device or socket, not a regular file"
    return None
