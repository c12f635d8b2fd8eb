"""Result objects of the experiment evaluation: one row per (arm, metric), one result per test."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from ..experiment_spec import Experiment, Metric
from ..results import ResultMixin, jsonable
from .estimates import Lift, SampleRatioCheck


class Verdict(str, Enum):
    """What the test says about one arm and metric, after the family's error control."""

    BETTER = "better than control"
    WORSE = "worse than control"
    NO_CLEAR_DIFFERENCE = "no clear difference"
    INSUFFICIENT_DATA = "insufficient data"
    CANNOT_TEST = "cannot test"


@dataclass(frozen=True)
class ArmComparison:
    """One arm against the control on one metric."""

    arm: str
    metric: Metric
    label: str
    lift: Lift
    adjusted_p: float
    verdict: Verdict
    primary: bool
    more_leads_needed: int | None = None
    over_all_leads: bool = True   # denominator = every lead of the arm (else selected by an outcome)

    def to_row(self) -> dict:
        lift = self.lift
        return {"arm": self.arm, "metric": self.metric.value, "measure": self.label, "primary": self.primary,
                "arm value": lift.arm_value, "control value": lift.control_value,
                "absolute lift": lift.absolute, "absolute low": lift.absolute_low,
                "absolute high": lift.absolute_high, "relative lift": lift.relative,
                "relative low": lift.relative_low, "relative high": lift.relative_high,
                "p": lift.p_value, "adjusted p": self.adjusted_p, "n arm": lift.n_arm,
                "n control": lift.n_control, "verdict": self.verdict.value,
                "more leads needed": self.more_leads_needed, "over all leads": self.over_all_leads}


@dataclass(frozen=True)
class ExperimentResult(ResultMixin):
    """Every arm of one test against its control, with the sample-ratio check."""

    experiment: Experiment
    comparisons: tuple[ArmComparison, ...]
    sample_ratio: SampleRatioCheck
    note: str
    alpha: float
    confidence: float

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"Experiment: {self.experiment.label}"

    @property
    def may_claim_cause(self) -> bool:
        """Declared randomized and the arm sizes match the plan: lifts may be worded as caused."""
        return self.experiment.randomized and self.sample_ratio.passed and bool(self.comparisons)

    @property
    def primary(self) -> list[ArmComparison]:
        return [c for c in self.comparisons if c.primary]

    def comparison(self, arm: str, metric: Metric | str) -> ArmComparison:
        metric = Metric(metric)
        return next(c for c in self.comparisons if c.arm == arm and c.metric is metric)

    @property
    def winner(self) -> str | None:
        """The arm with the largest lift on the primary metric among those clearly better than control."""
        better = [c for c in self.primary if c.verdict is Verdict.BETTER]
        return max(better, key=lambda c: c.lift.absolute).arm if better else None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_row() for c in self.comparisons])

    def to_dict(self) -> dict:
        return {"experiment": self.experiment.model_dump(mode="json", exclude_none=True),
                "randomized": self.experiment.randomized, "may_claim_cause": self.may_claim_cause,
                "primary_metric": self.experiment.primary_metric.value,
                "sample_ratio": {"observed": self.sample_ratio.observed, "planned": self.sample_ratio.planned,
                                 "chi2": jsonable(self.sample_ratio.statistic),
                                 "p_value": jsonable(self.sample_ratio.p_value),
                                 "passed": self.sample_ratio.passed},
                "note": self.note, "winner": self.winner,
                "comparisons": jsonable(self.to_frame())}

    def _repr_html_(self) -> str:
        from .report import experiment_html

        return experiment_html(self)


@dataclass(frozen=True)
class ExperimentsResult(ResultMixin):
    """All tests of the cycle (empty when the spec declares none)."""

    items: tuple[ExperimentResult, ...]
    title = "Experiments"

    def __bool__(self) -> bool:
        return bool(self.items)

    def to_frame(self) -> pd.DataFrame:
        frames = [r.to_frame().assign(experiment=r.experiment.label) for r in self.items]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def to_dict(self) -> dict:
        return {"items": [r.to_dict() for r in self.items]}

    def _repr_html_(self) -> str:
        if not self.items:
            return "<p>No experiment was declared in sla.yaml (add an <code>experiment:</code> block).</p>"
        return "\n".join(r._repr_html_() for r in self.items)


def finite(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def escape(value: object) -> str:
    return html.escape(str(value))
