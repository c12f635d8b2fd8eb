"""The ``experiment:`` block of ``sla.yaml``: a test run inside the SLA cycle.

A declared experiment names the column holding each lead's arm, the control arm, whether the arms were
assigned at random, and the planned split. Only a ``randomized: true`` experiment whose arm sizes match the
planned split may be worded as a cause in the report.

Example
-------
>>> e = Experiment(arm_column="arm", control="none", split={"none": 0.5, "a": 0.5}, randomized=True)
>>> e.planned_shares(["none", "a"])
{'none': 0.5, 'a': 0.5}
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Metric(str, Enum):
    """What an experiment compares between arms (``primary_metric`` names one of them)."""

    CONVERSION = "conversion"                      # first stage -> last stage
    REVENUE_PER_LEAD = "revenue_per_lead"
    REVENUE_PER_CUSTOMER = "revenue_per_customer"  # among leads that reached the last stage
    STEP = "step"                                  # one adjacent stage transition (reported, gated like the rest)


Share = Annotated[float, Field(gt=0, lt=1)]


class Experiment(BaseModel):
    """One test: ``arm_column`` holds each lead's arm; ``control`` is the arm the others are compared with.

    ``split`` gives the planned share of every arm (adding up to 1); ``holdout`` is the shorthand "the
    control is a holdout of this share, the other arms share the rest equally". Neither: equal shares.
    ``min_effect`` is the smallest absolute lift in the primary metric worth acting on (default:
    ``analysis.min_effect``); ``planned_leads`` is what the test plan asked for (all arms together).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    arm_column: str = Field(min_length=1)
    control: str = Field(min_length=1)
    randomized: bool = False
    start: dt.date | None = None
    end: dt.date | None = None
    unit: str = Field(default="lead", pattern="^lead$")
    split: dict[str, Share] | None = None
    holdout: Share | None = None
    primary_metric: Metric = Metric.CONVERSION
    min_effect: Annotated[float, Field(gt=0)] | None = None
    planned_leads: Annotated[int, Field(gt=0)] | None = None
    srm_alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.001

    @model_validator(mode="after")
    def _consistent(self) -> "Experiment":
        if self.split is not None and self.holdout is not None:
            raise ValueError("give split or holdout, not both")
        if self.split is not None:
            total = sum(self.split.values())
            if abs(total - 1.0) > 0.01:
                raise ValueError(f"split shares must add up to 1, got {total:.3f}")
            if self.control not in self.split:
                raise ValueError(f"split must include the control {self.control!r}, got {sorted(self.split)}")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if self.primary_metric is Metric.STEP:
            raise ValueError("primary_metric must be conversion, revenue_per_lead or revenue_per_customer")
        return self

    @property
    def label(self) -> str:
        return self.name or f"{self.arm_column} test"

    def planned_shares(self, arms: list[str]) -> dict[str, float]:
        """The planned share of each observed arm (arms the split does not name get share 0)."""
        if self.split is not None:
            return {arm: float(self.split.get(arm, 0.0)) for arm in arms}
        others = [a for a in arms if a != self.control]
        if self.holdout is not None:
            rest = (1 - self.holdout) / max(len(others), 1)
            return {arm: self.holdout if arm == self.control else rest for arm in arms}
        return {arm: 1 / len(arms) for arm in arms}


def as_experiment_list(value: Experiment | list[Experiment] | None) -> tuple[Experiment, ...]:
    """``experiment:`` may hold one test or a list of them."""
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)
