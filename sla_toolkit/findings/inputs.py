"""What the finding rules read: small frozen records built by the pipeline from result objects.

Keeping the rules on these records (not on the result classes) lets each rule be tested with hand-written
values. Missing figures are NaN floats, missing counts 0 and missing text "", converted once by
:func:`records` at the boundary, so no rule tests a value for None or NA.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TypeVar, get_type_hints

import pandas as pd

from ..compare import SlaCheck
from ..spec import SlaSpec

NAN = float("nan")
Record = TypeVar("Record")


@dataclass(frozen=True)
class SegmentComparison:
    """One level of a segment column against the rest of the column, for one transition."""

    dimension: str
    level: str
    transition: str
    n: int
    successes: int
    rate: float
    rate_low: float
    rate_high: float
    rest_n: int
    rest_rate: float
    lift: float              # the reported (adjusted, shrunk) effect, in points
    lift_low: float
    lift_high: float
    p_value: float
    tested: bool
    crude_lift: float = NAN
    min_effect: float = NAN  # the practical minimum in points (NaN: the spec's ``analysis.min_effect``)
    adjusted_for: str = ""
    population: str = ""     # whose rate it is, when not "its leads" (e.g. decided deals)

    @property
    def topic(self) -> str:
        return f"breakdown:{self.dimension}={self.level}:{self.transition}"


@dataclass(frozen=True)
class HygieneComparison:
    """One level's share of stale open deals against the rest of its column."""

    dimension: str
    level: str
    n: int
    aging: int
    share: float
    rest_n: int
    rest_share: float
    lift: float
    lift_low: float
    lift_high: float
    p_value: float
    tested: bool

    @property
    def topic(self) -> str:
        return f"hygiene:{self.dimension}={self.level}"


@dataclass(frozen=True)
class CostComparison:
    """One channel's cost per customer against the other channels'."""

    channel: str
    spend: float
    customers: float          # projected within the window (basis "projected") or counted so far ("counted")
    cost_per_customer: float
    low: float
    high: float
    rest_customers: float
    rest_spend: float
    p_value: float
    basis: str = "counted"
    customers_so_far: int = 0

    @property
    def topic(self) -> str:
        return f"cost:{self.channel}"


@dataclass(frozen=True)
class DecidedSummary:
    """The whole pipeline's aging open deals (open longer than the window)."""

    aging: int
    deals: int
    aging_share: float
    aging_low: float
    aging_high: float
    window_days: int


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


_EMPTY = {float: NAN, int: 0, str: "", bool: False}


def records(cls: type[Record], frame: pd.DataFrame | None, **fixed) -> tuple[Record, ...]:
    """The rows of ``frame`` as ``cls`` records (columns named like the fields; extra columns ignored).

    The one place where a table's missing values become typed ones: NaN for figures, 0 for counts, "" for text.
    """
    if frame is None or frame.empty:
        return ()
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name in frame.columns and f.name not in fixed]
    out = []
    for row in frame[names].to_dict("records"):
        values = {}
        for name, value in row.items():
            kind = hints[name]
            values[name] = _EMPTY[kind] if _missing(value) else kind(value)
        out.append(cls(**values, **fixed))
    return tuple(out)

@dataclass(frozen=True)
class FollowUpEvidence:
    """Follow-up promise kept vs broken, and the downstream conversion of each group."""

    transition: str
    n_on_time: int
    rate_on_time: float
    n_late: int
    rate_late: float
    diff: float
    diff_low: float
    diff_high: float
    p_value: float
    within_hours: float


@dataclass(frozen=True)
class PacingEvidence:
    status: str
    probability: float
    expected: float
    low: float
    high: float
    target: float
    customers_so_far: int
    leads_needed_per_day: float
    days_left: int


@dataclass(frozen=True)
class FindingInputs:
    """Everything the rules need; any table may be empty when its analysis did not apply."""

    spec: SlaSpec
    checks: tuple[SlaCheck, ...]
    breakdowns: tuple[SegmentComparison, ...]
    downstream_to_customer: dict[str, float]
    follow_up: FollowUpEvidence | None = None
    pacing: PacingEvidence | None = None
    costs: tuple[CostComparison, ...] = ()
    input_rows: int = 0
    quarantined_rows: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    hygiene: tuple[HygieneComparison, ...] = ()   # stale open deals per group
    decided: DecidedSummary | None = None          # overall aging open deals
