"""The run folder: written beside its target, moved into place only when complete.

Layout under ``<out_root>/<sla-slug>/`` for a cycle ``<cycle-id>``::

    <cycle-id>/                       the last good run (what readers open)
    <cycle-id>.failed-<UTC stamp>/    one folder per failed run: executed notebooks, failure.md/.json, run.log
    .<cycle-id>.lock                  lock file held (flock) while a run of this cycle is in progress
    .<cycle-id>.tmp-<stamp>-<pid>/    the run being written (hidden; same file system as the target)
    .<cycle-id>.old-<stamp>-<pid>/    the previous good run, only during the swap

Committing swaps two directory renames: the good folder is renamed aside, the new folder is renamed in,
then the old one is deleted. Both renames are atomic on POSIX; between them (microseconds) the cycle
folder does not exist. If the process dies in that window, the next run of the cycle (under the lock)
renames the ``.old-`` folder back before doing anything else, so the last good report is never lost.
A failed run never touches ``<cycle-id>/``: its temporary folder is renamed to ``<cycle-id>.failed-<stamp>``.

The lock is an advisory ``fcntl.flock`` on a local file: the kernel releases it when the process dies,
so there are no stale locks; it is POSIX-only and not reliable on some network file systems.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import platform
import socket
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Iterator, MutableMapping

from .errors import ParameterError, RunError

_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FAILED_MARKER = ".failed-"
REPORT_FILE = "report.html"
LOG_FILE = "run.log"
VERSIONED_PACKAGES = ("sla_toolkit", "pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "matplotlib",
                      "papermill", "nbconvert", "nbformat", "ipykernel", "jupytext")


class CycleLockedError(RunError):
    """Another run of the same SLA cycle holds the lock (overlapping scheduled runs)."""


def check_path_component(value: str, what: str) -> str:
    """Refuse values that would escape or confuse the reports folder (``/``, ``..``, leading dot)."""
    if not _SAFE_COMPONENT.match(value) or FAILED_MARKER in value or value.endswith(".lock"):
        raise ParameterError(
            f"{what} {value!r} cannot be used as a folder name; use letters, digits, '.', '_' or '-' "
            f"and start with a letter or digit (e.g. '2025-q1')")
    return value


def utc_stamp() -> str:
    """A compact UTC timestamp for folder names, e.g. ``20250301T061500Z``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _unused(path: Path) -> Path:
    """``path`` itself, or ``path-2``, ``path-3``... if it is taken (two failures in the same second)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


class RunFolder:
    """Context manager owning one run of one cycle: lock, temporary folder, commit or fail.

    Examples
    --------
    >>> with RunFolder(out_root, "acme-inbound", "2025-q1") as folder:   # doctest: +SKIP
    ...     (folder.path / "report.html").write_text(html)
    ...     final = folder.commit()

    Leaving the block with an exception (without calling :meth:`fail`) moves the partial folder to a
    ``.failed-`` folder; leaving it without committing deletes it.
    """

    def __init__(self, out_root: Path | str, sla_slug: str, cycle_id: str):
        self.sla_slug = check_path_component(sla_slug, "SLA slug")
        self.cycle_id = check_path_component(cycle_id, "cycle id")
        self.sla_dir = Path(out_root).resolve() / self.sla_slug
        self.target = self.sla_dir / self.cycle_id
        self.lock_path = self.sla_dir / f".{self.cycle_id}.lock"
        self.path: Path | None = None
        self.final_path: Path | None = None
        self._lock_fd: int | None = None
        self.recovered: list[str] = []

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> RunFolder:
        self.sla_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            self.recovered = self.recover()
            self.path = self.sla_dir / f".{self.cycle_id}.tmp-{utc_stamp()}-{os.getpid()}"
            self.path.mkdir()
        except BaseException:
            self._release_lock()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.path is not None and self.path.exists():
                if exc_type is None:
                    shutil.rmtree(self.path)
                else:
                    self.fail()
        finally:
            self._release_lock()

    # -- outcomes -----------------------------------------------------------------------------
    def commit(self) -> Path:
        """Move the finished folder into ``<cycle-id>/``, replacing the previous run; return its path."""
        if self.path is None:
            raise RuntimeError("RunFolder.commit() called outside its with-block")
        old = None
        if self.target.exists():
            old = self.sla_dir / f".{self.cycle_id}.old-{utc_stamp()}-{os.getpid()}"
            os.rename(self.target, old)
        try:
            os.rename(self.path, self.target)  # crash window: between the two renames (module docstring)
        except OSError:
            if old is not None:
                os.rename(old, self.target)
            raise
        self.path, self.final_path = None, self.target
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target

    def fail(self) -> Path:
        """Move the folder to ``<cycle-id>.failed-<stamp>/``, leaving any good run untouched; return it."""
        if self.path is None:
            raise RuntimeError("RunFolder.fail() called outside its with-block or after commit")
        failed = _unused(self.sla_dir / f"{self.cycle_id}{FAILED_MARKER}{utc_stamp()}")
        os.rename(self.path, failed)
        self.path, self.final_path = None, failed
        return failed

    # -- crash recovery (runs under the lock) ---------------------------------------------------
    def recover(self) -> list[str]:
        """Repair what a run killed mid-way left behind; return one line per action taken.

        - ``.old-`` folder and no cycle folder: the process died between the two renames of a
          commit; the old (last good) folder is renamed back.
        - ``.old-`` folder next to a cycle folder: died after the swap; the old folder is deleted.
        - ``.tmp-`` folder: a run died while writing; it is kept for diagnosis as a ``.failed-`` folder.
        """
        actions: list[str] = []
        olds = sorted(self.sla_dir.glob(f".{self.cycle_id}.old-*"))
        if olds and not self.target.exists():
            os.rename(olds[-1], self.target)
            actions.append(f"restored {olds[-1].name} as {self.target.name}")
            olds = olds[:-1]
        for old in olds:
            shutil.rmtree(old, ignore_errors=True)
            actions.append(f"deleted leftover {old.name}")
        for tmp in sorted(self.sla_dir.glob(f".{self.cycle_id}.tmp-*")):
            failed = _unused(self.sla_dir / f"{self.cycle_id}{FAILED_MARKER}{utc_stamp()}-interrupted")
            os.rename(tmp, failed)
            (failed / "failure.md").write_text(
                f"# Run interrupted\n\nThe run writing `{tmp.name}` stopped without finishing "
                "(process killed or machine restarted). Found and moved here by the next run.\n",
                encoding="utf-8")
            actions.append(f"moved interrupted {tmp.name} to {failed.name}")
        return actions

    # -- lock -----------------------------------------------------------------------------------
    def _acquire_lock(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown holder"
            os.close(fd)
            raise CycleLockedError(
                f"another run of cycle {self.cycle_id!r} of {self.sla_slug!r} is in progress ({holder}); "
                f"lock file: {self.lock_path}. Wait for it to finish; the lock is released when it exits."
            ) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            # The lock file stays: deleting it would let a waiting process lock an unlinked inode.
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages whose behaviour shapes a report."""
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


class RunLog:
    """``run.log``: one UTC-timestamped line per step, appended and flushed as the run goes."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, message: str) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {message}\n")

    def start(self, sla_slug: str, cycle_id: str, target: Path, recovered: list[str]) -> None:
        self.write(f"run start: sla={sla_slug} cycle={cycle_id} target={target} pid={os.getpid()} "
                   f"host={socket.gethostname()}")
        self.write("versions: " + json.dumps(package_versions()))
        for action in recovered:
            self.write(f"recovered: {action}")

    @contextmanager
    def timed(self, step: str, durations: MutableMapping[str, float]) -> Iterator[None]:
        """Log the duration of ``step`` (also on failure) and record it in ``durations``."""
        started = time.perf_counter()
        outcome = "failed"
        try:
            yield
            outcome = "done"
        finally:
            durations[step] = round(time.perf_counter() - started, 3)
            self.write(f"{step}: {outcome} in {durations[step]:.2f} s")
