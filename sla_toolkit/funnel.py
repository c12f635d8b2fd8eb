"""Stage counts with step and cumulative conversion, overall, by segment and by cohort.

These are the *naive* rates (everything reached so far over everyone who entered): young
leads count as not converted yet. :mod:`sla_toolkit.survival` gives the censoring-aware
rates that verdicts use.

Example
-------
>>> from sla_toolkit.datasets import load_example_leads  # doctest: +SKIP
>>> data = load_example_leads()                            # doctest: +SKIP
>>> funnel_summary(data.leads, data.spec).to_frame()       # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .check_labels import format_count
from .outcomes import as_of_view
from .results import ResultMixin
from .spec import SlaSpec
from .stats import rate_columns
from .types import reached_column, stage_column

MISSING_LEVEL = "(missing)"
_TIME_COLUMNS = ("created_at", "lost_at", "first_touch_at")


@dataclass(frozen=True)
class FunnelResult(ResultMixin):
    """Funnel tables; every rate has its Wilson interval and denominator.

    Attributes
    ----------
    overall : DataFrame
        One row per stage: ``count``, ``step_denominator``, ``step_rate/low/high``,
        ``cumulative_denominator``, ``cumulative_rate/low/high``, ``sufficient``
        (step denominator >= ``min_n``). The first stage has no step rate.
    by_segment : DataFrame
        The same columns, with ``dimension`` (column name) and ``level`` first.
    by_cohort : DataFrame
        The same columns, with ``cohort`` (week start date or month of ``created_at``) first.
        Young cohorts look worse here only because they have had less time (see survival).
    """

    stages: tuple[str, ...]
    overall: pd.DataFrame
    by_segment: pd.DataFrame
    by_cohort: pd.DataFrame
    cohort_frequency: str
    confidence: float
    min_n: int
    as_of: pd.Timestamp | None
    notes: tuple[str, ...] = ()
    title = "Funnel (naive rates: open leads count as not converted)"

    def to_frame(self) -> pd.DataFrame:
        return self.overall

    def stage_count(self, stage: str) -> int:
        return int(self.overall.loc[self.overall["stage"] == stage, "count"].iloc[0])


def data_as_of(leads: pd.DataFrame, spec: SlaSpec) -> pd.Timestamp | None:
    """Latest timestamp anywhere in the table: the natural as-of date of an export (None if no dates)."""
    columns = [c for c in (*_TIME_COLUMNS, *(stage_column(s) for s in spec.funnel.stages)) if c in leads]
    latest = [leads[c].max() for c in columns if leads[c].notna().any()]
    return max(latest) if latest else None


def stage_counts(leads: pd.DataFrame, stages: list[str] | tuple[str, ...]) -> pd.Series:
    """Number of leads that reached each stage, in funnel order."""
    return pd.Series({s: int(leads[reached_column(s)].fillna(False).astype(bool).sum()) for s in stages},
                     name="count")


def funnel_table(leads: pd.DataFrame, stages: list[str] | tuple[str, ...], confidence: float = 0.95,
                 by: str | None = None, min_n: int = 0) -> pd.DataFrame:
    """Long table of stage counts and rates, overall or per level of column ``by``.

    The step numerator is "reached this stage and the previous one", so rates stay within
    [0, 1] even on a table whose implied stages were not filled.
    """
    indicators = _indicators(leads, stages)
    if by is None:
        sums = indicators.sum().to_frame().T
        sums.index = pd.Index(["all"], name="level")
    else:
        keys = leads[by].astype("str").fillna(MISSING_LEVEL) if by in leads else None
        if keys is None:
            raise KeyError(f"column {by!r} not in the lead table; found: {list(leads.columns)}")
        sums = indicators.groupby(keys.rename("level"), sort=True).sum()
    return _summarise(sums, stages, confidence, min_n)


def funnel_summary(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp | None = None) -> FunnelResult:
    """Funnel overall, by the channel column and each spec segment, and by cohort.

    Parameters
    ----------
    leads : canonical lead table.
    spec : the SLA spec (stages, segments, cohort frequency, confidence, min_n).
    as_of : replay the table at this date first (see :func:`sla_toolkit.outcomes.as_of_view`).
    """
    stages = tuple(spec.funnel.stages)
    confidence, min_n = spec.analysis.confidence, spec.analysis.min_n
    if as_of is not None:
        leads = as_of_view(leads, spec, pd.Timestamp(as_of))
    notes = []
    overall = funnel_table(leads, stages, confidence, min_n=min_n).drop(columns="level")
    dimensions = list(dict.fromkeys([spec.channel_column, *spec.segments]))
    missing = [d for d in dimensions if d not in leads]
    if missing:
        notes.append(f"segment columns not in the data, skipped: {missing}")
    parts = [funnel_table(leads, stages, confidence, by=d, min_n=min_n).assign(dimension=d)
             for d in dimensions if d in leads]
    by_segment = _reorder(pd.concat(parts, ignore_index=True), ["dimension", "level"]) if parts \
        else _empty_like(overall, ["dimension", "level"])
    by_cohort = _cohort_table(leads, spec, notes)
    return FunnelResult(stages, overall, by_segment, by_cohort, spec.analysis.cohort, confidence, min_n,
                        None if as_of is None else pd.Timestamp(as_of), tuple(notes))


def cohort_labels(created_at: pd.Series, frequency: str) -> pd.Series:
    """Cohort of each lead: ``YYYY-MM`` for months, the Monday ``YYYY-MM-DD`` for weeks."""
    if frequency == "month":
        return created_at.dt.strftime("%Y-%m")
    week_start = created_at.dt.normalize() - pd.to_timedelta(created_at.dt.day_of_week, unit="D")
    return week_start.dt.strftime("%Y-%m-%d")


def _cohort_table(leads: pd.DataFrame, spec: SlaSpec, notes: list[str]) -> pd.DataFrame:
    stages = tuple(spec.funnel.stages)
    created = leads["created_at"] if "created_at" in leads else pd.Series(pd.NaT, index=leads.index)
    if created.notna().sum() == 0:
        notes.append("no created_at dates: no cohort breakdown")
        return _empty_like(funnel_table(leads.iloc[:0], stages), ["cohort"])
    undated = int(created.isna().sum())
    if undated:
        notes.append(f"{format_count(undated, 'lead')} without created_at left out of the cohort breakdown")
    dated = leads.loc[created.notna()].assign(cohort=cohort_labels(created.dropna(), spec.analysis.cohort))
    table = funnel_table(dated, stages, spec.analysis.confidence, by="cohort", min_n=spec.analysis.min_n)
    return _reorder(table.rename(columns={"level": "cohort"}), ["cohort"])


def _indicators(leads: pd.DataFrame, stages) -> pd.DataFrame:
    data, previous = {}, None
    for stage in stages:
        reached = leads[reached_column(stage)].fillna(False).astype(bool).to_numpy()
        data[f"count:{stage}"] = reached
        if previous is not None:
            data[f"step:{stage}"] = reached & previous
        previous = reached
    return pd.DataFrame(data, index=leads.index).astype(np.int64)


def _summarise(sums: pd.DataFrame, stages, confidence: float, min_n: int) -> pd.DataFrame:
    first = sums[f"count:{stages[0]}"].to_numpy()
    rows = []
    for i, stage in enumerate(stages):
        count = sums[f"count:{stage}"].to_numpy()
        part = pd.DataFrame({"level": sums.index.to_numpy(), "stage": stage, "count": count})
        if i:
            step_n = sums[f"count:{stages[i - 1]}"].to_numpy()
            step = rate_columns(sums[f"step:{stage}"].to_numpy(), step_n, confidence, "step_")
            part["step_denominator"] = pd.array(step_n, dtype="Int64")
        else:
            step = pd.DataFrame({"step_rate": np.nan, "step_low": np.nan, "step_high": np.nan}, index=part.index)
            part["step_denominator"] = pd.array([pd.NA] * len(part), dtype="Int64")
        cumulative = rate_columns(count, first, confidence, "cumulative_")
        part = pd.concat([part, step, cumulative], axis=1)
        part.insert(part.columns.get_loc("cumulative_rate"), "cumulative_denominator", first)
        part["sufficient"] = (step_n if i else first) >= min_n
        rows.append(part)
    order = {s: i for i, s in enumerate(stages)}
    table = pd.concat(rows, ignore_index=True)
    table = table.sort_values(["level", "stage"], key=lambda c: c.map(order) if c.name == "stage" else c,
                              kind="stable")
    return table.reset_index(drop=True)


def _reorder(table: pd.DataFrame, first_columns: list[str]) -> pd.DataFrame:
    return table[first_columns + [c for c in table.columns if c not in first_columns]]


def _empty_like(table: pd.DataFrame, first_columns: list[str]) -> pd.DataFrame:
    empty = table.iloc[:0].drop(columns=[c for c in ("level",) if c in table])
    for column in first_columns:
        empty.insert(0, column, pd.Series(dtype="str"))
    return _reorder(empty, first_columns)
