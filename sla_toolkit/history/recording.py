"""Record one run in the ledger around its execution, without ever putting the report at risk.

Policy: the report folder is the product, the ledger its index. The ledger never writes into a run
folder, and the run folder is committed before its completion is recorded. A ledger that cannot be
written (database down, disk full, locked too long) costs a warning on stderr, never the run: its exit
code stays what the run earned. A run whose results could not be recorded after it completed is marked
``failed`` with an error saying so and where its report is (if even that fails, it stays ``started``).
Bad ledger *configuration* (an unset ``--history-env`` variable, an unusable URL) is caught before the
run starts, by :meth:`History.at`, and is bad input (exit code 2).
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .vocabulary import RunKind

if TYPE_CHECKING:  # pragma: no cover
    from .store import History


def warn_on_stderr(message: str) -> None:
    print(f"sla-toolkit: warning: history: {message}", file=sys.stderr, flush=True)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@dataclass
class RunRecording:
    """Handle given to the body of :func:`recorded_run`; call :meth:`completed` once the report is in place."""

    history: History | None
    run_id: str | None
    warn: Callable[[str], None]
    finished: bool = field(default=False, init=False)

    def completed(self, run_dir: Path | str, results: dict | None = None, inputs: tuple = ()) -> None:
        """Record the run as completed (warn, never raise, on failure).

        ``results`` is the run's ``results.json`` content, read from ``<run_dir>/results.json`` when not
        given; ``inputs`` the fingerprints of the files it read.
        """
        self.finished = True
        if self.history is None or self.run_id is None:
            return
        try:
            if results is None:
                results = json.loads((Path(run_dir) / "results.json").read_text(encoding="utf-8"))
            self.history.complete_run(self.run_id, results, run_dir, inputs=inputs)
        except Exception as exc:  # noqa: BLE001 - the report is in place; the ledger must not undo it
            self.warn(f"the run completed (report in {run_dir}) but its results were not recorded in "
                      f"{self.history.location.label}: {_short(exc)}")
            self._fail(f"run completed (report in {run_dir}) but its results could not be recorded: "
                       f"{_short(exc)}", run_dir)

    def failed(self, error: str, run_dir: Path | str | None = None) -> None:
        self.finished = True
        self._fail(error, run_dir)

    def _fail(self, error: str, run_dir: Path | str | None) -> None:
        if self.history is None or self.run_id is None:
            return
        try:
            self.history.fail_run(self.run_id, error, run_dir)
        except Exception as exc:  # noqa: BLE001
            self.warn(f"could not record run {self.run_id} as failed in {self.history.location.label}: "
                      f"{_short(exc)}; it stays 'started'")


@contextmanager
def recorded_run(history: History | None, sla_name: str, cycle_id: str, *, sla_slug: str | None = None,
                 kind: RunKind = RunKind.CYCLE, run_dir: Path | str | None = None,
                 warn: Callable[[str], None] = warn_on_stderr) -> Iterator[RunRecording]:
    """Record a run as started, then as failed if the block raises (the exception goes on unchanged).

    ``history=None`` records nothing. The block calls ``recording.completed(run_dir)`` on success; a
    block that ends without saying so is recorded as failed. A failed run's ``failure_dir`` (set on
    :class:`~sla_toolkit.errors.RunError`) is kept as its ``run_dir``. A block that recorded its
    completion and then raised (SIGTERM after the commit) stays completed. ``run_dir`` (where the report
    will go) is recorded with the start, so a run that dies can be found and repaired later.
    """
    run_id = None
    if history is not None:
        try:
            run_id = history.start_run(sla_name, cycle_id, sla_slug=sla_slug, kind=kind, run_dir=run_dir)
        except Exception as exc:  # noqa: BLE001
            warn(f"could not record the start of the run in {history.location.label}: {_short(exc)}; "
                 "the run goes on without history")
    recording = RunRecording(history, run_id, warn)
    try:
        yield recording
    except BaseException as exc:
        if recording.finished:
            raise
        recording.failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                         getattr(exc, "failure_dir", None))
        raise
    if not recording.finished:
        recording.failed("the run ended without reporting its outcome")
