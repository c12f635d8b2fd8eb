"""The cycle history ledger: every run of every SLA, its checks, findings and proposal.

SQLAlchemy Core on SQLite (``<out>/history.sqlite`` by default) or any URL held in the environment
variable ``SLA_HISTORY_URL`` (PostgreSQL through psycopg 3: ``postgresql+psycopg://user@host/db``).

Example
-------
>>> from sla_toolkit.history import History
>>> with History.at("reports") as history:                     # doctest: +SKIP
...     runs = history.list_runs()
...     history.compare_cycles("Q1 2025 demand generation", "2025-02-28", "2025-03-23")
"""
from .compare import (CAVEAT, AdjustmentFollowUp, AdjustmentOutcome, CheckComparison, CheckTrend, CycleComparison,
                      check_trend, compare_results, compare_rows)
from .recording import RunRecording, recorded_run
from .rows import check_rows, finding_rows
from .schema import SCHEMA_VERSION, HistoryError, RunKind, RunStatus, ensure_schema
from .store import (HISTORY_ENV, HISTORY_FILE, History, HistoryLocation, HistoryUnavailableError, RunRecord,
                    history_location, runs_text)

__all__ = ["AdjustmentFollowUp", "AdjustmentOutcome", "CAVEAT", "CheckComparison", "CheckTrend", "CycleComparison",
           "HISTORY_ENV", "HISTORY_FILE", "History", "HistoryError", "HistoryLocation", "HistoryUnavailableError",
           "RunKind", "RunRecord", "RunRecording", "RunStatus", "SCHEMA_VERSION", "check_rows", "check_trend",
           "compare_results", "compare_rows", "ensure_schema", "finding_rows", "history_location", "recorded_run",
           "runs_text"]
