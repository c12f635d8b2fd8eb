"""The run folder: written beside its target, moved into place only when complete.

Layout under ``<out_root>/<sla-slug>/`` for a cycle ``<cycle-id>``::

    <cycle-id>/                       the last good run (what readers open)
    <cycle-id>.failed-<UTC stamp>/    one folder per failed run: executed notebooks, failure.md/.json, run.log
    .<cycle-id>.lock                  lock file held while a run of this cycle is in progress
    .sla-name                         the SLA that owns this folder (its full name, UTF-8)
    .<cycle-id>.tmp-<stamp>-<pid>/    the run being written (hidden; same file system as the target)
    .<cycle-id>.old-<stamp>-<pid>/    the previous good run, only during the swap

Committing swaps two directory renames: the good folder is renamed aside, the new folder is renamed in,
then the old one is deleted. Both renames are atomic on POSIX; between them (microseconds) the cycle
folder does not exist. If the process dies in that window, the next run of the cycle (under the lock)
renames the ``.old-`` folder back before doing anything else, so the last good report is never lost.
A failed run never touches ``<cycle-id>/``: its temporary folder is renamed to ``<cycle-id>.failed-<stamp>``.

The lock (:mod:`sla_toolkit.locking`) is held on an open file, so the operating system releases it when
the process dies and there are no stale locks; it works on POSIX and Windows but is not reliable on some
network file systems. Lock and owner files are opened without following symbolic links, and a run
refuses an SLA folder that is a symbolic link or that ``.sla-name`` gives to another SLA.
SIGTERM during the two renames is held until both are done (:mod:`sla_toolkit.termination`).
"""
from __future__ import annotations

import datetime as dt
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

from ..errors import ParameterError, RunError
from ..locking import FileLock, LockHeldError, open_private
from ..termination import deferred_termination, fault_point

_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FAILED_MARKER = ".failed-"
RESERVED_MARKERS = (FAILED_MARKER, ".old-", ".tmp-")
MAX_COMPONENT_CHARS = 100
OWNER_FILE = ".sla-name"
REPORT_FILE = "report.html"
LOG_FILE = "run.log"
VERSIONED_PACKAGES = ("sla_toolkit", "pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "matplotlib",
                      "papermill", "nbconvert", "nbformat", "ipykernel", "jupytext")


class CycleLockedError(RunError):
    """Another run of the same SLA cycle holds the lock (overlapping scheduled runs)."""


def check_path_component(value: str, what: str) -> str:
    """Refuse values that would escape or confuse the reports folder (``/``, ``..``, leading dot)."""
    if len(value) > MAX_COMPONENT_CHARS:
        raise ParameterError(f"{what} {value[:40]!r}... is {len(value)} characters long; "
                             f"use at most {MAX_COMPONENT_CHARS} (e.g. '2025-q1')")
    reserved = [m for m in RESERVED_MARKERS if m in value] or (["'.lock' ending"] if value.endswith(".lock") else [])
    if reserved:
        raise ParameterError(f"{what} {value!r} contains {reserved[0]!r}, which the run folders reserve for "
                             f"failed, previous and unfinished runs; choose another (e.g. '2025-q1')")
    if not _SAFE_COMPONENT.match(value):
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

    def __init__(self, out_root: Path | str, sla_slug: str, cycle_id: str, owner: str | None = None):
        self.sla_slug = check_path_component(sla_slug, "SLA slug")
        self.owner = owner
        self.cycle_id = check_path_component(cycle_id, "cycle id")
        self.sla_dir = Path(out_root).resolve() / self.sla_slug
        self.target = self.sla_dir / self.cycle_id
        self.lock_path = self.sla_dir / f".{self.cycle_id}.lock"
        self.path: Path | None = None
        self.final_path: Path | None = None
        self._lock = FileLock(self.lock_path)
        self.recovered: list[str] = []

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> RunFolder:
        self.sla_dir.parent.mkdir(parents=True, exist_ok=True)
        if self.sla_dir.is_symlink():
            raise RunError(f"{self.sla_dir} is a symbolic link; a run writes only into real folders under the "
                           "reports folder. Remove the link (or point --out at the real folder)")
        self.sla_dir.mkdir(exist_ok=True)
        if self.owner is not None:
            claim_folder(self.sla_dir, self.owner)
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

    @contextmanager
    def locked(self) -> Iterator[list[str]]:
        """Hold the cycle's lock and repair its folders, without starting a run (``history --repair``).

        Yields the recovery actions taken; raises :class:`CycleLockedError` when a run is in progress.
        """
        self._acquire_lock()
        try:
            yield self.recover()
        finally:
            self._release_lock()

    # -- outcomes -----------------------------------------------------------------------------
    def commit(self) -> Path:
        """Move the finished folder into ``<cycle-id>/``, replacing the previous run; return its path."""
        if self.path is None:
            raise RuntimeError("RunFolder.commit() called outside its with-block")
        old = None
        with deferred_termination():   # SIGTERM waits until both renames are done
            if self.target.exists():
                old = self.sla_dir / f".{self.cycle_id}.old-{utc_stamp()}-{os.getpid()}"
                os.rename(self.target, old)
                fault_point("aside")
            try:
                os.rename(self.path, self.target)  # crash window: between the two renames (module docstring)
            except OSError:
                if old is not None:
                    os.rename(old, self.target)
                raise
            self.path, self.final_path = None, self.target
            fault_point("swapped")
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
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        try:
            self._lock.acquire(json.dumps(holder))
        except LockHeldError as exc:
            raise CycleLockedError(
                f"another run of cycle {self.cycle_id!r} of {self.sla_slug!r} is in progress ({exc.holder}); "
                f"lock file: {self.lock_path}. Wait for it to finish; the lock is released when it exits."
            ) from None
        except OSError as exc:
            raise RunError(f"cannot lock {self.lock_path}: {exc}") from None

    def _release_lock(self) -> None:
        self._lock.release()


class FolderOwnedError(RunError):
    """The SLA folder belongs to another SLA (two names that give the same folder name): exit 2."""

    exit_code = 2


def folder_owner(sla_dir: Path) -> str | None:
    """The SLA name recorded in ``<sla_dir>/.sla-name``, or ``None`` when there is none."""
    marker = sla_dir / OWNER_FILE
    if not marker.exists() and not marker.is_symlink():
        return None
    fd = open_private(marker, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(4096).decode("utf-8", "replace")


def claim_folder(sla_dir: Path, sla_name: str) -> None:
    """Record ``sla_name`` as the owner of ``sla_dir``, or refuse when another SLA owns it."""
    try:
        found = folder_owner(sla_dir)
        if found is None:
            fd = open_private(sla_dir / OWNER_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            with os.fdopen(fd, "wb") as handle:
                handle.write(sla_name.encode("utf-8"))
            return
    except FileExistsError:   # claimed at the same moment by another run: read who won
        found = folder_owner(sla_dir)
    except OSError as exc:
        raise RunError(f"cannot read or write the owner file {sla_dir / OWNER_FILE}: {exc}") from None
    if found != sla_name:
        raise FolderOwnedError(
            f"report folder {sla_dir} belongs to the SLA {found!r} (see {OWNER_FILE} in it), not to "
            f"{sla_name!r}; the two names give the same folder name. Rename one of the SLAs (`name:` in "
            "sla.yaml) or use another --out")


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

    def start(self, sla_slug: str, cycle_id: str, target: Path, recovered: list[str],
              run_id: str | None = None) -> None:
        self.write(f"run start: sla={sla_slug} cycle={cycle_id} target={target} pid={os.getpid()} "
                   f"host={socket.gethostname()}" + (f" history_run={run_id}" if run_id else ""))
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
