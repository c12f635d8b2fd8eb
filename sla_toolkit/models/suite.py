"""The set of models one cycle report fits, with one entry point for the pipeline."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from ..spec import SlaSpec
from ..types import transition_name
from .base import FitResult
from .cox import TimeToConvert as CoxTimeToConvert
from .design import outcome_frame
from .glm import AdjustedEffects
from .scoring import LeadScorer, OpenLeadScores, ScoringInputs, score_open_leads


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


#: how :func:`start_models` runs the lead scorer's cross-validation: called with the prepared scorer and its
#: inputs, it returns the call that yields the validated scorer (:func:`validate_here`, or another process)
CrossValidation = Callable[[LeadScorer, ScoringInputs], Callable[[], LeadScorer]]


def validate_here(scorer: LeadScorer, prepared: ScoringInputs) -> Callable[[], LeadScorer]:
    """The default :data:`CrossValidation`: in this process, when the suite is assembled."""
    return lambda: scorer.cross_validate(prepared)


def fit_models(leads: pd.DataFrame, spec: SlaSpec, as_of, *, enabled: bool = True) -> ModelSuite:
    """Fit every model; a model the data cannot support comes back ``fitted=False`` with its reason."""
    return start_models(leads, spec, as_of, enabled=enabled)()


def start_models(leads: pd.DataFrame, spec: SlaSpec, as_of, *, enabled: bool = True,
                 cross_validate: CrossValidation = validate_here) -> Callable[[], ModelSuite]:
    """:func:`fit_models` in two steps: prepare lead scoring now and hand its cross-validation (the suite's
    largest cost, on a sample of at most :data:`~sla_toolkit.models.scoring.SCORING_SAMPLE_ROWS` rows) to
    ``cross_validate``; the returned call fits the GLMs and the Cox model and assembles the suite."""
    if not enabled:
        skipped = ModelSuite(skipped="models not requested for this run")
        return lambda: skipped
    (a, b), frame = scoring_frame(leads, spec, as_of)
    scorer = LeadScorer.from_spec(spec)
    prepared = scorer.prepare(frame)
    validated = (lambda: scorer) if prepared is None else cross_validate(scorer, prepared)

    def assemble() -> ModelSuite:
        stages = spec.funnel.stages
        effects = {transition_name(x, y): AdjustedEffects.from_spec(spec).fit(outcome_frame(leads, spec, as_of, x, y))
                   .result_ for x, y in zip(stages, stages[1:])}
        fitted = validated()
        open_scores = score_open_leads(fitted, frame) if fitted.result_.fitted else None
        cox = CoxTimeToConvert.from_spec(spec).fit(frame).result_
        return ModelSuite(effects, transition_name(a, b), fitted.result_, open_scores, cox)

    return assemble
