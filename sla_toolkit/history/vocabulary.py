"""The ledger's closed vocabularies, its schema version and its error, without importing SQLAlchemy.

Kept apart from :mod:`sla_toolkit.history.schema` (the tables) so that code which only names a run's kind
or status (the report's "since last cycle" section, ``sla-toolkit pace``) starts without SQLAlchemy's
import (about 0.4 s of a fresh process).
"""
from __future__ import annotations

from enum import Enum

from ..errors import SlaToolkitError

SCHEMA_VERSION = 2   # 2: checks.label (what people read, from sla_toolkit.check_labels)


class HistoryError(SlaToolkitError):
    """The history cannot be used as asked: bad location, unknown SLA or cycle (exit code 2)."""


class RunKind(str, Enum):
    CYCLE = "cycle"
    PACING = "pacing"


class RunStatus(str, Enum):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
