"""An exclusive, non-blocking lock on a file inside the reports folder, on POSIX and on Windows.

The lock is taken on an open file (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so the
operating system releases it when the process dies: a killed run never leaves a stale lock. The file is
opened without following symbolic links (``O_NOFOLLOW``) and must be a regular file with one link, so a
link planted in the reports folder cannot make a run write through it to another file.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

try:  # POSIX
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class LockHeldError(OSError):
    """Another process holds the lock; ``holder`` is what it wrote into the lock file."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"{path} is locked by {holder}")
        self.path = path
        self.holder = holder


class UnsafeLockFileError(OSError):
    """The lock file is a symbolic link, a hard link or not a regular file."""


def open_private(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that refuses symbolic links, hard links and anything but a regular file."""
    if _NOFOLLOW == 0 and path.is_symlink():   # Windows has no O_NOFOLLOW
        raise UnsafeLockFileError(f"{path} is a symbolic link; refusing to open it")
    try:
        fd = os.open(path, flags | _NOFOLLOW | _BINARY, mode)
    except OSError as exc:
        if path.is_symlink():
            raise UnsafeLockFileError(f"{path} is a symbolic link; refusing to follow it (delete it)") from None
        raise exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        raise UnsafeLockFileError(f"{path} is not a plain file of its own (a directory, device or hard link); "
                                  "delete it")
    return fd


class FileLock:
    """Hold an exclusive lock on ``path`` while in the ``with`` block (or between acquire and release).

    ``holder`` is written into the file for whoever finds it locked.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1 << 20)   # lock a fixed region; the holder text sits in it
        except OSError:
            found = self._read(fd)
            os.close(fd)
            raise LockHeldError(self.path, found or "unknown holder") from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, holder.encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        # The file stays: deleting it would let a waiting process lock an unlinked inode.
        if self._fd is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            else:
                os.lseek(self._fd, 0, os.SEEK_SET)
                msvcrt.locking(self._fd, msvcrt.LK_UNLCK, 1 << 20)
        finally:
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def _read(fd: int) -> str:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            return os.read(fd, 4096).decode("utf-8", "replace").strip()
        except OSError:   # Windows refuses to read a region another process has locked
            return ""
