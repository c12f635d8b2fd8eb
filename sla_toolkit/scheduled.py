"""Runs a scheduler can leave alone: one retry for a failure a retry can fix, none for anything else.

A notebook kernel that died (killed by the out-of-memory killer, a crashed native library) is worth one
more attempt: the failed attempt keeps its ``.failed-`` folder and its ``failed`` ledger entry, and the
retry is a new run. Bad input (exit 2), a cell that raised and a timeout are not retried: they would fail
the same way again, later.
"""
from __future__ import annotations

import sys
from typing import Callable

from .run.notebooks import NotebookRunError, RunOutcome
from .run.cycle import CycleRunRequest, run_cycle_notebooks

RETRYABLE_ERRORS = frozenset({"DeadKernelError"})


def retryable(error: BaseException) -> bool:
    """True for a run that failed because its kernel died."""
    return isinstance(error, NotebookRunError) and error.summary.error_name in RETRYABLE_ERRORS


def _warn(message: str) -> None:
    print(f"sla-toolkit: {message}", file=sys.stderr, flush=True)


def run_with_retry(request: CycleRunRequest, *, attempts: int = 2,
                   warn: Callable[[str], None] = _warn) -> RunOutcome:
    """:func:`~sla_toolkit.run.cycle.run_cycle_notebooks`, run again (up to ``attempts`` in all) when the kernel died."""
    for attempt in range(1, attempts + 1):
        try:
            return run_cycle_notebooks(request)
        except NotebookRunError as exc:
            if not retryable(exc) or attempt == attempts:
                if retryable(exc):
                    exc.args = (f"{exc.args[0]} (the kernel died on each of {attempts} attempts)",)
                raise
            warn(f"the notebook kernel died ({exc.summary.error_value}); failed attempt kept in "
                 f"{exc.failure_dir}; retrying once (attempt {attempt + 1} of {attempts})")
    raise AssertionError("unreachable")
