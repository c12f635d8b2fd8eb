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


class CheckKind(str, Enum):
    """What an SLA check measures (its label and unit follow from it; see :mod:`sla_toolkit.check_labels`)."""

    RATE = "rate"            # a step's conversion rate against funnel.targets
    VOLUME = "volume"        # customers / leads / revenue by the deadline (objectives)
    FOLLOW_UP = "follow_up"  # share of leads first touched within the promised hours
    KPI = "kpi"              # cost per lead / per stage, CAC, revenue bounds


class Unit(str, Enum):
    """How a check's figures are written for people."""

    SHARE = "share"   # 0.43 -> 43.0%
    COUNT = "count"   # 1234.0 -> 1,234
    MONEY = "money"   # 50712.3 -> EUR 50,712 (currency from the spec when given)
