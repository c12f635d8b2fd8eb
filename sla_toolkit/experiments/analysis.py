"""Evaluate the cycle's declared experiments: every arm against the control, one error-control family.

For each arm: end-to-end conversion (first stage -> last stage) and each stage step, revenue per lead
(every lead, zeros included) and revenue per customer (leads that reached the last stage), each with
absolute and relative lifts and intervals; the sample-ratio check of the arm sizes; and adjusted
p-values over every arm and metric with the primary metric tested first (see
:func:`~sla_toolkit.experiments.estimates.gatekept_p_values`).

Only leads created on or after the experiment's start (and on or before its end) count, as they looked
at the as-of date. Conversion is "reached the stage by the as-of date": arms randomised over the same
days carry the same share of open leads, so the comparison between arms is fair even where the absolute
rate is still rising.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..experiment_spec import Experiment, Metric
from ..outcomes import as_of_view
from ..spec import SlaSpec
from ..types import reached_column, transition_name
from .estimates import Lift, gatekept_p_values, mean_lift, proportion_lift, sample_ratio_check
from .result import ArmComparison, ExperimentResult, ExperimentsResult, Verdict
from .power import leads_for_power


def evaluate_experiments(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> ExperimentsResult:
    """Every ``experiment:`` of the spec evaluated on the leads in scope (an empty result when none)."""
    if not spec.experiments:
        return ExperimentsResult(())
    view = as_of_view(leads, spec, as_of)
    return ExperimentsResult(tuple(evaluate_experiment(view, spec, e) for e in spec.experiments))


def evaluate_experiment(leads: pd.DataFrame, spec: SlaSpec, experiment: Experiment) -> ExperimentResult:
    """One test, on a lead table already cut at the as-of date."""
    if experiment.arm_column not in leads:
        srm = sample_ratio_check({}, {}, experiment.srm_alpha)
        note = (f"not evaluated: the lead table has no column {experiment.arm_column!r}; map the column that "
                "records each lead's arm in source.yaml")
        return ExperimentResult(experiment, (), srm, note, spec.analysis.alpha, spec.analysis.confidence)
    chosen = _test_leads(leads, experiment)
    arms = _arm_order(chosen[experiment.arm_column], experiment.control)
    observed = {arm: int((chosen[experiment.arm_column] == arm).sum()) for arm in arms}
    srm = sample_ratio_check(observed, experiment.planned_shares(arms), experiment.srm_alpha)
    if experiment.control not in arms:
        note = (f"the control arm {experiment.control!r} has no leads in column {experiment.arm_column!r} "
                f"(arms seen: {arms or 'none'})")
        return ExperimentResult(experiment, (), srm, note, spec.analysis.alpha, spec.analysis.confidence)
    control = chosen.loc[chosen[experiment.arm_column] == experiment.control]
    rows: list[tuple[str, Metric, str, Lift]] = []
    for arm in arms:
        if arm == experiment.control:
            continue
        treated = chosen.loc[chosen[experiment.arm_column] == arm]
        rows += [(arm, metric, label, lift) for metric, label, lift in _metric_lifts(treated, control, spec)]
    comparisons = _with_family(rows, experiment, spec)
    note = "" if experiment.randomized else "not declared randomized: differences are associations only"
    return ExperimentResult(experiment, tuple(comparisons), srm, note, spec.analysis.alpha,
                            spec.analysis.confidence)


def _test_leads(leads: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    chosen = leads.loc[leads[experiment.arm_column].notna()]
    if "created_at" in chosen and chosen["created_at"].notna().any():
        if experiment.start is not None:
            chosen = chosen.loc[chosen["created_at"] >= pd.Timestamp(experiment.start)]
        if experiment.end is not None:
            chosen = chosen.loc[chosen["created_at"] < pd.Timestamp(experiment.end) + pd.Timedelta(days=1)]
    return chosen.assign(**{experiment.arm_column: chosen[experiment.arm_column].astype("str")})


def _arm_order(arms: pd.Series, control: str) -> list[str]:
    levels = sorted(arms.dropna().unique().tolist())
    return ([control] if control in levels else []) + [a for a in levels if a != control]


def _metric_lifts(treated: pd.DataFrame, control: pd.DataFrame, spec: SlaSpec):
    """(metric, label, lift) for conversion, each step, revenue per lead and revenue per customer."""
    confidence, stages = spec.analysis.confidence, spec.funnel.stages
    first, last = stages[0], stages[-1]

    def reached(frame: pd.DataFrame, stage: str) -> pd.Series:
        return frame[reached_column(stage)].astype(bool) if stage != first else pd.Series(True, index=frame.index)

    yield (Metric.CONVERSION, transition_name(first, last),
           proportion_lift(int(reached(treated, last).sum()), len(treated), int(reached(control, last).sum()),
                           len(control), confidence))
    if len(stages) > 2:
        for a, b in zip(stages, stages[1:]):
            ta, ca = reached(treated, a), reached(control, a)
            yield (Metric.STEP, transition_name(a, b),
                   proportion_lift(int((ta & reached(treated, b)).sum()), int(ta.sum()),
                                   int((ca & reached(control, b)).sum()), int(ca.sum()), confidence))
    if "revenue" in treated and (treated["revenue"].notna().any() or control["revenue"].notna().any()):
        def revenue(frame: pd.DataFrame) -> np.ndarray:
            return frame["revenue"].where(reached(frame, last), 0.0).fillna(0.0).to_numpy(dtype=float)

        yield Metric.REVENUE_PER_LEAD, "revenue per lead", mean_lift(revenue(treated), revenue(control), confidence)
        yield (Metric.REVENUE_PER_CUSTOMER, f"revenue per {last}",
               mean_lift(revenue(treated)[reached(treated, last).to_numpy()],
                         revenue(control)[reached(control, last).to_numpy()], confidence))


def _with_family(rows, experiment: Experiment, spec: SlaSpec) -> list[ArmComparison]:
    """Adjusted p-values and a verdict for every (arm, metric) row."""
    primary = [i for i, (_, metric, _, _) in enumerate(rows) if metric is experiment.primary_metric]
    secondary = [i for i in range(len(rows)) if i not in primary]
    adj_primary, adj_secondary = gatekept_p_values([rows[i][3].p_value for i in primary],
                                                   [rows[i][3].p_value for i in secondary])
    adjusted = dict(zip(primary, adj_primary)) | dict(zip(secondary, adj_secondary))
    out = []
    for i, (arm, metric, label, lift) in enumerate(rows):
        verdict = _verdict(lift, adjusted[i], spec)
        undecided = i in primary and verdict is Verdict.NO_CLEAR_DIFFERENCE
        out.append(ArmComparison(arm, metric, label, lift, adjusted[i], verdict, i in primary,
                                 _more_leads_needed(lift, metric, experiment, spec) if undecided else None,
                                 _over_all_leads(metric, label, spec)))
    return out


def _over_all_leads(metric: Metric, label: str, spec: SlaSpec) -> bool:
    """True when the metric's denominator is every lead of the arm (what randomisation balances); a later
    step or revenue per customer compares leads selected by an outcome the arm itself changed."""
    if metric is Metric.STEP:
        return label.startswith(f"{spec.funnel.first}->")
    return metric is not Metric.REVENUE_PER_CUSTOMER


def _verdict(lift: Lift, adjusted_p: float, spec: SlaSpec) -> Verdict:
    if min(lift.n_arm, lift.n_control) < spec.analysis.min_n:
        return Verdict.INSUFFICIENT_DATA
    if math.isnan(adjusted_p):
        return Verdict.CANNOT_TEST
    if adjusted_p < spec.analysis.alpha:
        return Verdict.BETTER if lift.absolute > 0 else Verdict.WORSE
    return Verdict.NO_CLEAR_DIFFERENCE


def _more_leads_needed(lift: Lift, metric: Metric, experiment: Experiment, spec: SlaSpec) -> int | None:
    """Leads still needed (arm + control) for 80% power at ``min_effect`` on a conversion primary metric."""
    effect = experiment.min_effect or spec.analysis.min_effect
    if metric is not Metric.CONVERSION or not effect or math.isnan(lift.control_value):
        return None
    ratio = lift.n_arm / lift.n_control if lift.n_control else 1.0
    per_control = leads_for_power(lift.control_value, effect, alpha=spec.analysis.alpha, ratio=ratio)
    if per_control is None:
        return None
    needed = math.ceil(per_control * (1 + ratio))
    return max(needed - (lift.n_arm + lift.n_control), 0)
