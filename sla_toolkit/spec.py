"""The SLA spec: what marketing and sales agreed (``sla.yaml``).

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> spec = load_spec(example_paths().sla)
>>> spec.funnel.stages[0]
'lead'
"""
from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from .errors import SpecError
from .experiment_spec import Experiment, as_experiment_list
from .suggest import allowed_keys, did_you_mean
from .naming import folder_slug
from .yaml_input import read_yaml
from .types import transition_name

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KPI_NAMES = ("cost_per_lead", "cac", "revenue")


def _rate(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be between 0 and 1, got {value:g}")
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be greater than 0, got {value:g}")
    return value


Rate = Annotated[float, AfterValidator(_rate)]
PositiveFloat = Annotated[float, AfterValidator(_positive)]
PositiveInt = Annotated[int, Field(gt=0)]
_CROSS_CHECK = "cross_check"


def _sums_to_one(shares: dict[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    if shares and abs(total - 1.0) > 0.01:
        raise ValueError(f"shares must add up to 1, got {total:.3f}")
    return shares


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    """The cycle's dates; ``end`` is the deadline."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _stage_list(stages: list[str]) -> list[str]:
    problems = []
    bad = [s for s in stages if not _STAGE_NAME.match(s)]
    if bad:
        problems.append(f"must be lower-case names (letters, digits, _), got {bad}")
    dupes = sorted({s for s in stages if stages.count(s) > 1})
    if dupes:
        problems.append(f"must be unique, repeated: {dupes}")
    if problems:
        raise ValueError("; ".join(problems))
    return stages


StageList = Annotated[list[str], Field(min_length=2), AfterValidator(_stage_list)]


def _valid_stages(stages: Any) -> list[str] | None:
    """``stages`` when it is a usable stage list, else None (its own problems are reported elsewhere)."""
    if not isinstance(stages, list) or len(stages) < 2 or not all(isinstance(s, str) for s in stages):
        return None
    try:
        return _stage_list(stages)
    except ValueError:
        return None


def funnel_problems(stages: list[str], targets: Any, windows_days: Any) -> list[tuple[str, str]]:
    """Targets and windows that name no transition or stage of ``stages``, as ``(path, message)`` pairs."""
    problems = []
    adjacent = [transition_name(a, b) for a, b in zip(stages, stages[1:])]
    allowed = {transition_name(a, b) for i, a in enumerate(stages) for b in stages[i + 1:]}
    unknown = [k for k in _keys(targets) if k not in allowed]
    if unknown:
        problems.append(("funnel.targets", f"unknown transitions {unknown}; use 'from->to' with stages in funnel "
                                           f"order, e.g. {adjacent[0]!r}"))
    bad_windows = [k for k in _keys(windows_days) if k not in stages[1:]]
    if bad_windows:
        problems.append(("funnel.windows_days", f"names {bad_windows}, which are not stages after {stages[0]!r}"))
    return problems


def spec_problems(stages: list[str] | None, kpis: Any, follow_up_stage: Any) -> list[tuple[str, str]]:
    """KPI names and the follow-up stage checked against the funnel, as ``(path, message)`` pairs."""
    problems = []
    unknown_kpis = [k for k in _keys(kpis) if k not in _KPI_NAMES and not k.startswith("cost_per_")]
    if unknown_kpis:
        problems.append(("kpis", f"unknown names {unknown_kpis}; known: {list(_KPI_NAMES)} or cost_per_<stage>"))
    if stages is None:
        return problems
    for k in _keys(kpis):
        stage = k[len("cost_per_"):]
        if k.startswith("cost_per_") and k != "cost_per_lead" and stage not in stages:
            problems.append((f"kpis.{k}", f"{stage!r} is not a funnel stage {stages}"))
    if isinstance(follow_up_stage, str) and follow_up_stage not in stages:
        problems.append(("follow_up.stage", f"{follow_up_stage!r} is not one of the funnel stages {stages}"))
    return problems


def lever_problems(data: dict) -> list[tuple[str, str]]:
    """Levers that name no column the report breaks down by (a typo would silently turn a lever descriptive)."""
    levers = data.get("levers")
    if not isinstance(levers, list):
        return []
    follow_up = data.get("follow_up") if isinstance(data.get("follow_up"), dict) else {}
    segments = data.get("segments") if isinstance(data.get("segments"), list) else []
    known = [data.get("channel_column", "channel"), *segments, "campaign", follow_up.get("team_column")]
    known = [str(k) for k in dict.fromkeys(known) if k]
    return [(f"levers.{i}", f"{lever!r} is neither the channel column nor a segment ({known}){did_you_mean(lever, known)}"
                            "; findings exist only for those, so add it to segments or remove it")
            for i, lever in enumerate(levers) if lever not in known]


def _keys(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, dict) else []


def _raise_cross_check(problems: list[tuple[str, str]]) -> None:
    # Reported with their own paths by spec_from_dict; this message serves direct construction.
    if problems:
        raise PydanticCustomError(_CROSS_CHECK, "; ".join(f"{path}: {message}" for path, message in problems))


class Funnel(_Strict):
    """Ordered stages, target rate per transition and conversion window per stage."""

    stages: StageList
    targets: dict[str, Rate] = Field(default_factory=dict)
    windows_days: dict[str, PositiveInt] = Field(default_factory=dict)
    default_window_days: PositiveInt = 90

    @model_validator(mode="after")
    def _consistent(self) -> "Funnel":
        _raise_cross_check(funnel_problems(self.stages, self.targets, self.windows_days))
        return self

    @property
    def transitions(self) -> list[str]:
        """Adjacent transitions in funnel order, e.g. ``['lead->mql', 'mql->sql']``."""
        return [transition_name(a, b) for a, b in zip(self.stages, self.stages[1:])]

    @property
    def first(self) -> str:
        return self.stages[0]

    @property
    def last(self) -> str:
        return self.stages[-1]

    def window(self, stage: str) -> int:
        """Conversion window in days for reaching ``stage``."""
        return self.windows_days.get(stage, self.default_window_days)

    def window_between(self, from_stage: str, to_stage: str) -> int:
        """Conversion window of ``from_stage -> to_stage``: the sum of the step windows it spans."""
        i, j = self.stages.index(from_stage), self.stages.index(to_stage)
        return sum(self.window(s) for s in self.stages[i + 1:j + 1])

    def cumulative_window(self, stage: str) -> int:
        """Days from entering the funnel until ``stage`` counts as matured (sum of the step windows)."""
        return self.window_between(self.first, stage)


class Objectives(_Strict):
    """What the cycle must deliver by the deadline."""

    customers: PositiveInt | None = None
    revenue: PositiveFloat | None = None
    leads: PositiveInt | None = None


class FollowUp(_Strict):
    """The sales follow-up promise: ``share`` of leads at ``stage`` touched within ``within_hours``."""

    stage: str | None = None
    within_hours: PositiveFloat = 24
    share: Rate = 0.9
    team_column: str | None = None


class KpiBound(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> "KpiBound":
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class Scope(_Strict):
    """Which leads belong to the cycle."""

    created_in_period: bool = True
    campaigns: list[str] | None = None
    channels: list[str] | None = None


class TimeOrder(str, Enum):
    """How lead scoring orders leads in time for its cross-validation (``analysis.time_order``)."""

    AUTO = "auto"            # by creation date when the leads have one, else random folds
    CREATED_AT = "created_at"
    ROW = "row"              # the file is already in time order (no dates), e.g. bank marketing
    RANDOM = "random"        # stratified random folds (no time order)


class Analysis(_Strict):
    """Statistical settings: the thresholds every verdict uses."""

    # plain strings in model_dump(mode="python") too: specs are written back as YAML (safe_dump knows no enums)
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    min_n: PositiveInt = 30
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.05
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = 0.95
    min_effect: Annotated[float, Field(ge=0, lt=1)] = 0.0          # absolute, in points of a rate
    min_effect_relative: Annotated[float, Field(ge=0, lt=1)] = 0.1  # share of the rest's rate
    on_track_probability: Rate = 0.8
    # the proposed lead target reaches the customer objective with this probability
    plan_confidence: Annotated[float, Field(gt=0, lt=1)] = 0.8
    at_risk_probability: Rate = 0.5
    max_mix_shift: Rate = 0.2
    # above this share of quarantined input rows, validate, pace and run exit 2 before any verdict
    max_quarantine_share: Rate = 0.2
    # above this share, the report carries a data-quality finding (watch; adjust above five times it)
    quarantine_watch_share: Rate = 0.01
    cohort: str = Field(default="month", pattern="^(week|month)$")
    simulations: PositiveInt = 4000
    seed: int = 0
    # lead scoring: forward-chaining CV and an out-of-time AUC on the latest leads decide the model
    time_order: TimeOrder = TimeOrder.AUTO.value
    # leads of one campaign/landing page/week are not independent: cluster-robust intervals by this column
    cluster: str | None = Field(default=None, min_length=1)


class SlaSpec(_Strict):
    """Everything the SLA states. Load it with :func:`load_spec`."""

    name: str = Field(min_length=1)
    period: Period
    funnel: Funnel
    objectives: Objectives = Objectives()
    follow_up: FollowUp | None = None
    kpis: dict[str, KpiBound] = Field(default_factory=dict)
    scope: Scope = Scope()
    channel_column: str = "channel"
    segments: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)
    leaky: list[str] = Field(default_factory=list)
    # what the teams control (channel, campaign, team, rep): findings on these are actions; other segments
    # are descriptions (where-to-look notes). None: the channel column is the only lever (the report says so)
    levers: list[str] | None = None
    analysis: Analysis = Analysis()
    channel_mix: Annotated[dict[str, Rate], AfterValidator(_sums_to_one)] | None = None
    currency: str | None = Field(default=None, min_length=1, max_length=8)   # shown with money, e.g. EUR
    experiment: Experiment | list[Experiment] | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> "SlaSpec":
        _raise_cross_check(spec_problems(self.funnel.stages, self.kpis,
                                         self.follow_up.stage if self.follow_up else None)
                           + lever_problems(self.model_dump(include={"levers", "segments", "channel_column",
                                                                     "follow_up"})))
        return self

    @property
    def slug(self) -> str:
        """The report folder name: unique per SLA name (see :func:`sla_toolkit.naming.folder_slug`)."""
        return folder_slug(self.name)

    @property
    def experiments(self) -> tuple[Experiment, ...]:
        """The declared tests (``experiment:`` holds one or a list)."""
        return as_experiment_list(self.experiment)

    @property
    def experiment_columns(self) -> list[str]:
        """Lead-table columns the experiments need (their arm columns)."""
        return list(dict.fromkeys(e.arm_column for e in self.experiments))

    @property
    def cluster_columns(self) -> list[str]:
        """The lead-table column ``analysis.cluster`` names (empty when none)."""
        return [self.analysis.cluster] if self.analysis.cluster else []

    @property
    def lever_columns(self) -> tuple[str, ...]:
        """Columns the teams control: ``levers`` when declared, else the channel column (where spend goes)."""
        return tuple(self.levers) if self.levers is not None else (self.channel_column,)

    def is_lever(self, column: str) -> bool:
        """True for a column the teams control (findings on it are actions, not where-to-look notes)."""
        return column in self.lever_columns

    @property
    def follow_up_stage(self) -> str:
        if self.follow_up and self.follow_up.stage:
            return self.follow_up.stage
        return self.funnel.stages[1] if len(self.funnel.stages) > 2 else self.funnel.first

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _format_location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-after"))


def _friendly(error: dict, model: type[BaseModel] | None = None) -> str:
    kind = error["type"]
    msg = error["msg"]
    if kind == "extra_forbidden":
        loc = [part for part in error["loc"] if not str(part).startswith("function-after")]
        hint = did_you_mean(loc[-1], allowed_keys(model, loc[:-1])) if model is not None and loc else ""
        return f"unknown key (check the spelling; unknown keys are not ignored){hint}"
    if kind == "missing":
        return "required, but missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind not in ("value_error",) and "input" in error and not isinstance(error["input"], (dict, list)):
        msg = f"{msg}, got {error['input']!r}"
    return msg


def spec_from_dict(data: Any, source: str = "<dict>") -> SlaSpec:
    """Build a spec from already-parsed YAML, raising :class:`SpecError` with every problem.

    pydantic skips a model's cross-field checks once one of its fields fails, so they are run again here on
    the parsed YAML: a wrong target rate and an unknown KPI are reported together, each with its own path.
    """
    if not isinstance(data, dict):
        raise SpecError(source, [("", f"expected a mapping of keys at the top level, got {type(data).__name__}")])
    try:
        return SlaSpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    problems = [(_format_location(e["loc"]), _friendly(e, SlaSpec)) for e in errors if e["type"] != _CROSS_CHECK]
    cross = _cross_check_yaml(data)
    if not cross:  # keep what the model found should the parsed YAML not show it
        cross = [(_format_location(e["loc"]), e["msg"]) for e in errors if e["type"] == _CROSS_CHECK]
    problems += [p for p in cross if p not in problems]
    raise SpecError(source, problems)


def _cross_check_yaml(data: dict) -> list[tuple[str, str]]:
    funnel = data.get("funnel") if isinstance(data.get("funnel"), dict) else {}
    stages = _valid_stages(funnel.get("stages"))
    follow_up = data.get("follow_up") if isinstance(data.get("follow_up"), dict) else {}
    problems = funnel_problems(stages, funnel.get("targets"), funnel.get("windows_days")) if stages else []
    return problems + spec_problems(stages, data.get("kpis"), follow_up.get("stage")) + lever_problems(data)


def load_spec(path: str | Path) -> SlaSpec:
    """Load and validate an ``sla.yaml``."""
    return spec_from_dict(read_yaml(path), str(path))
