"""The set of models one cycle report fits, with one entry point for the pipeline."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..spec import SlaSpec
from ..types import transition_name
from .base import FitResult
from .cox import TimeToConvert as CoxTimeToConvert
from .design import outcome_frame
from .glm import AdjustedEffects
from .scoring import LeadScorer, OpenLeadScores, score_open_leads


@dataclass(frozen=True)
class ModelSuite:
    """Adjusted effects per transition, the lead-scoring comparison, and the Cox model."""

    adjusted_effects: dict[str, FitResult] = field(default_factory=dict)
    scoring_transition: str = ""
    scoring: FitResult | None = None
    open_scores: OpenLeadScores | None = None
    time_to_convert: FitResult | None = None
    skipped: str = ""

    def to_dict(self) -> dict:
        return {
            "adjusted_effects": {k: v.to_dict() for k, v in self.adjusted_effects.items()},
            "scoring_transition": self.scoring_transition,
            "scoring": None if self.scoring is None else self.scoring.to_dict(),
            "open_scores": None if self.open_scores is None else self.open_scores.to_dict(),
            "time_to_convert": None if self.time_to_convert is None else self.time_to_convert.to_dict(),
            "skipped": self.skipped,
        }


def scoring_frame(leads: pd.DataFrame, spec: SlaSpec, as_of) -> tuple[tuple[str, str], pd.DataFrame]:
    """The transition lead scoring models and its outcome frame: the whole funnel when enough leads
    have matured for it, else the first step (young campaigns)."""
    whole = outcome_frame(leads, spec, as_of)
    if int(whole["matured"].sum()) >= spec.analysis.min_n:
        return (spec.funnel.first, spec.funnel.last), whole
    first_step = spec.funnel.stages[0], spec.funnel.stages[1]
    return first_step, outcome_frame(leads, spec, as_of, *first_step)


def fit_models(leads: pd.DataFrame, spec: SlaSpec, as_of, *, enabled: bool = True) -> ModelSuite:
    """Fit every model; a model the data cannot support comes back ``fitted=False`` with its reason."""
    if not enabled:
        return ModelSuite(skipped="models not requested for this run")
    stages = spec.funnel.stages
    effects = {}
    for a, b in zip(stages, stages[1:]):
        frame = outcome_frame(leads, spec, as_of, a, b)
        effects[transition_name(a, b)] = AdjustedEffects.from_spec(spec).fit(frame).result_
    (a, b), frame = scoring_frame(leads, spec, as_of)
    scorer = LeadScorer.from_spec(spec).fit(frame)
    open_scores = score_open_leads(scorer, frame) if scorer.result_.fitted else None
    cox = CoxTimeToConvert.from_spec(spec).fit(frame).result_
    return ModelSuite(effects, transition_name(a, b), scorer.result_, open_scores, cox)
