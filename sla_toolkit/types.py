"""Closed vocabularies shared across layers."""
from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Outcome of one SLA check (DESIGN.md section 4)."""

    MET = "MET"
    AT_RISK = "AT_RISK"
    MISSED = "MISSED"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class Direction(str, Enum):
    """Whether a target is a floor (higher is better) or a ceiling (lower is better)."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class FindingKind(str, Enum):
    WORKED = "worked"
    ADJUST = "adjust"
    WATCH = "watch"


def transition_name(from_stage: str, to_stage: str) -> str:
    """The key used for a stage transition everywhere (``"mql->sql"``)."""
    return f"{from_stage}->{to_stage}"


def stage_column(stage: str) -> str:
    """Canonical timestamp column of a stage (``"sql"`` -> ``"sql_at"``)."""
    return f"{stage}_at"


def reached_column(stage: str) -> str:
    """Canonical boolean column telling whether a lead reached a stage."""
    return f"reached_{stage}"
