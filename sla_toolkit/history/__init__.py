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
from __future__ import annotations

import importlib

# Each name is imported from its module on first use (PEP 562): the package itself imports nothing, so
# code that needs only a light part of it (the report's trend section, ``sla-toolkit pace`` on a local
# ledger) does not pay for SQLAlchemy.
_HOMES = {
    "compare": ("CAVEAT", "AdjustmentFollowUp", "AdjustmentOutcome", "CheckComparison", "CheckTrend",
                "CycleComparison", "check_trend", "compare_results", "compare_rows"),
    "recording": ("RunRecording", "recorded_run"),
    "rows": ("check_rows", "finding_rows"),
    "schema": ("ensure_schema",),
    "vocabulary": ("SCHEMA_VERSION", "HistoryError", "RunKind", "RunStatus"),
    "location": ("HISTORY_ENV", "HISTORY_FILE", "HistoryLocation", "history_location"),
    "store": ("History", "HistoryUnavailableError", "RunRecord", "runs_text"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = ["AdjustmentFollowUp", "AdjustmentOutcome", "CAVEAT", "CheckComparison", "CheckTrend", "CycleComparison",
           "HISTORY_ENV", "HISTORY_FILE", "History", "HistoryError", "HistoryLocation", "HistoryUnavailableError",
           "RunKind", "RunRecord", "RunRecording", "RunStatus", "SCHEMA_VERSION", "check_rows", "check_trend",
           "compare_results", "compare_rows", "ensure_schema", "finding_rows", "history_location", "recorded_run",
           "runs_text"]


def __getattr__(name: str):
    if name in _HOME_OF:
        value = getattr(importlib.import_module(f"{__name__}.{_HOME_OF[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
