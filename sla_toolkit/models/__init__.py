"""Conversion models: adjusted effects (GLM), lead scoring, time to convert (Cox).

Each is a fitter in the lifelines style: configure, ``fit(frame)`` returns the fitter, results live
in attributes ending in ``_`` (``result_`` is a frozen, self-rendering :class:`FitResult`), and a
fit the data cannot support returns ``fitted_ = False`` with a stable reason instead of raising.
Build ``frame`` with :func:`outcome_frame`.

Example
-------
>>> frame = outcome_frame(leads, spec, as_of="2024-03-31")           # doctest: +SKIP
>>> effects = AdjustedEffects.from_spec(spec).fit(frame)             # doctest: +SKIP
>>> scorer = LeadScorer.from_spec(spec).fit(frame)                   # doctest: +SKIP
>>> score_open_leads(scorer, frame).expected_conversions             # doctest: +SKIP
>>> TimeToConvert.from_spec(spec).fit(frame).summary                 # doctest: +SKIP
"""
from .base import FitResult, NotFittedError
from .cox import TimeToConvert, TimeToConvertResult
from .design import MISSING_LEVEL, model_columns, outcome_frame
from .glm import AdjustedEffects, AdjustedEffectsResult
from .scoring import LeadScorer, LeadScoringResult, OpenLeadScores, score_open_leads

__all__ = ["MISSING_LEVEL", "AdjustedEffects", "AdjustedEffectsResult", "FitResult", "LeadScorer",
           "LeadScoringResult", "NotFittedError", "OpenLeadScores", "TimeToConvert", "TimeToConvertResult",
           "model_columns", "outcome_frame", "score_open_leads"]
