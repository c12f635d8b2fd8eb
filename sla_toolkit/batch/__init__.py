"""``sla-toolkit batch``: many cycles at once, locally in parallel or on a Dask cluster.

Example
-------
>>> jobs = discover("cycles/")                            # doctest: +SKIP
>>> result = run_batch(jobs, out="reports")               # doctest: +SKIP
>>> print(result.summary())                               # doctest: +SKIP
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..history import History
from .jobs import BatchInputError, CycleJob, CycleOutcome, compute_cycle, discover
from .run import BatchResult, ProgressBar, default_workers, record_outcomes, run_dask, run_local

__all__ = ["BatchInputError", "BatchResult", "CycleJob", "CycleOutcome", "compute_cycle", "discover", "run_batch"]


def run_batch(jobs: list[CycleJob], *, out: str | Path = "reports", scheduler: str | None = None,
              workers: int | None = None, history: History | None = None, progress=None) -> BatchResult:
    """Run ``jobs`` (on the Dask cluster at ``scheduler``, else ``workers`` local processes) and record each."""
    outcomes = run_dask(jobs, scheduler) if scheduler else run_local(jobs, workers or default_workers())
    return record_outcomes(outcomes, Path(out), history, progress or ProgressBar(len(jobs), sys.stderr))
