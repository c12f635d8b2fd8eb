"""Small datasets in every shape a real export takes, each with its ``sla.yaml`` and ``source.yaml``.

The shape matrix (issue [6]) runs each one through ``sla-toolkit run``. A shape combines

* **timing**: ``flags`` (yes/no stage columns, no dates at all), ``dated`` (a date per stage) or
  ``pipeline`` (an opportunity export: won, lost and still-open deals, losses as a ``Lost Date``
  or as a status column);
* **ids**: an id column, or none (``id: {generate: row_number}``; rows with identical attributes
  are different people and are kept);
* **extras**: spend, a follow-up column, segments, features and revenue, or none of them;
* **stages**: a two-stage or a five-stage funnel.

:data:`SHAPE_MATRIX` is a covering set rather than the full product (3 × 2 × 2 × 2 = 24 runs): every
*pair* of values of any two dimensions appears in at least one shape (a pairwise design, 6 shapes),
plus the pipeline with its losses in a status column.

Example
-------
>>> from sla_toolkit.datasets.shapes import SHAPE_MATRIX, write_shape
>>> paths = write_shape(SHAPE_MATRIX[0], tmp_path)   # doctest: +SKIP
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

_START = dt.date(2025, 1, 1)
_END = dt.date(2025, 4, 30)
_CHANNELS = ("email", "paid_search", "referral")
_CHANNEL_LIFT = {"email": 0.0, "paid_search": 0.3, "referral": 0.8}
_REGIONS = ("EMEA", "NA", "APAC")


class Timing(str, Enum):
    """How stage progress is recorded."""

    FLAGS = "flags"
    DATED = "dated"
    PIPELINE = "pipeline"


class LossRecord(str, Enum):
    """How a pipeline export marks a lost deal."""

    DATE = "lost_date"
    STATUS = "status_column"


@dataclass(frozen=True)
class Shape:
    """One combination of the shape matrix."""

    timing: Timing
    ids: bool
    extras: bool
    n_stages: int
    rows: int = 2_000
    seed: int = 0
    loss: LossRecord = LossRecord.DATE

    @property
    def name(self) -> str:
        loss = f"-{self.loss.value}" if self.timing is Timing.PIPELINE else ""
        return (f"{self.timing.value}{loss}-{'ids' if self.ids else 'no_ids'}-"
                f"{'extras' if self.extras else 'bare'}-{self.n_stages}_stages")

    @property
    def stages(self) -> list[str]:
        last = "won" if self.timing is Timing.PIPELINE else "customer"
        middle = ["mql", "sql", "opportunity"][:max(self.n_stages - 2, 0)]
        return ["lead", *middle, *[f"stage_{i}" for i in range(4, self.n_stages - 1)], last]


SHAPE_MATRIX: tuple[Shape, ...] = (
    Shape(Timing.FLAGS, ids=False, extras=False, n_stages=2),
    Shape(Timing.FLAGS, ids=True, extras=True, n_stages=5),
    Shape(Timing.DATED, ids=True, extras=False, n_stages=5),
    Shape(Timing.DATED, ids=False, extras=True, n_stages=2),
    Shape(Timing.PIPELINE, ids=True, extras=True, n_stages=2),
    Shape(Timing.PIPELINE, ids=False, extras=False, n_stages=5, loss=LossRecord.STATUS),
)


@dataclass(frozen=True)
class ShapePaths:
    folder: Path
    sla: Path
    source: Path


def shape_tables(shape: Shape) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The export (as text, the way a CRM writes it) and the spend sheet (None without extras)."""
    rng = np.random.default_rng(shape.seed)
    n, stages = shape.rows, shape.stages
    channel = rng.choice(_CHANNELS, size=n, p=[0.5, 0.3, 0.2])
    days = (_END - _START).days
    created = pd.Timestamp(_START) + pd.to_timedelta(rng.uniform(0, days - 10, n), unit="D")
    created = created.floor("h")
    table = pd.DataFrame({"Source": channel})
    if shape.ids:
        table.insert(0, "Lead ID", [f"L{i:06d}" for i in range(1, n + 1)])
    step_p = 0.55 if shape.n_stages > 2 else 0.25
    lift = np.array([_CHANNEL_LIFT[c] for c in channel])
    alive = np.ones(n, dtype=bool)
    when = created
    reached_any = {}
    for stage in stages[1:]:
        p = 1 / (1 + np.exp(-(np.log(step_p / (1 - step_p)) + lift)))
        alive = alive & (rng.uniform(size=n) < p)
        when = when + pd.to_timedelta(rng.lognormal(np.log(4), 0.7, n), unit="D")
        reached_any[stage] = alive.copy()
        label = _stage_header(stage, shape.timing)
        if shape.timing is Timing.FLAGS:
            table[label] = np.where(alive, "yes", "no")
        else:
            table[label] = pd.Series(when.strftime("%Y-%m-%d %H:%M")).where(alive, "")
    if shape.timing is not Timing.FLAGS:
        table.insert(1 if shape.ids else 0, "Created", created.strftime("%Y-%m-%d %H:%M"))
    if shape.timing is Timing.PIPELINE:
        _add_losses(table, shape, rng, created, reached_any[stages[-1]])
    if shape.extras:
        _add_extras(table, shape, rng, created, reached_any[stages[-1]])
    spend = _spend(rng) if shape.extras and shape.timing is not Timing.FLAGS else None
    return table, spend


def _stage_header(stage: str, timing: Timing) -> str:
    return f"{stage.replace('_', ' ').title()} {'Reached' if timing is Timing.FLAGS else 'Date'}"


def _add_losses(table: pd.DataFrame, shape: Shape, rng: np.random.Generator, created: pd.DatetimeIndex,
                won: np.ndarray) -> None:
    """Deals not won are lost (70%) some days after creation, or still open (30%)."""
    n = len(table)
    lost = ~won & (rng.uniform(size=n) < 0.7)
    lost_at = created + pd.to_timedelta(rng.lognormal(np.log(20), 0.6, n), unit="D")
    lost_at = lost_at.where(lost_at <= pd.Timestamp(_END), pd.Timestamp(_END))
    if shape.loss is LossRecord.DATE:
        table["Lost Date"] = pd.Series(lost_at.strftime("%Y-%m-%d")).where(lost, "")
    else:
        table["Status"] = np.where(won, "Won", np.where(lost, "Closed Lost", "Open"))


def _add_extras(table: pd.DataFrame, shape: Shape, rng: np.random.Generator, created: pd.DatetimeIndex,
                customer: np.ndarray) -> None:
    n = len(table)
    table["Region"] = rng.choice(_REGIONS, size=n)
    table["Pages Viewed"] = rng.poisson(4, n)
    table["Company Size"] = rng.choice(["small", "mid", "large"], size=n)
    table["Revenue"] = np.where(customer, np.round(rng.lognormal(np.log(5000), 0.5, n), 2).astype(str), "")
    if shape.timing is not Timing.FLAGS:
        touch = created + pd.to_timedelta(rng.exponential(20, n), unit="h")
        touched = rng.uniform(size=n) < 0.9
        table["First Touch"] = pd.Series(touch.strftime("%Y-%m-%d %H:%M")).where(touched, "")
        table["Owner"] = rng.choice(["ana", "ben", "chen", "dara"], size=n)


def _spend(rng: np.random.Generator) -> pd.DataFrame:
    dates = pd.date_range(_START, _END, freq="D")
    rows = [(d.strftime("%Y-%m-%d"), c, round(float(rng.uniform(20, 80)), 2)) for d in dates for c in _CHANNELS
            if c != "referral"]
    return pd.DataFrame(rows, columns=["Date", "Channel", "Spend"])


def shape_spec(shape: Shape) -> dict:
    """The ``sla.yaml`` of a shape."""
    stages = shape.stages
    spec = {"name": f"shape {shape.name}", "period": {"start": _START.isoformat(), "end": _END.isoformat()},
            "funnel": {"stages": stages, "targets": {f"{stages[0]}->{stages[-1]}": 0.2}},
            "objectives": {"customers": max(1, shape.rows // 4)}, "channel_column": "channel",
            "analysis": {"min_n": 30, "simulations": 500}}
    if shape.timing is not Timing.FLAGS:
        spec["funnel"]["windows_days"] = {s: 30 for s in stages[1:]}
    if shape.extras:
        spec["segments"] = ["region"]
        spec["features"] = ["pages_viewed", "company_size"]
        spec["leaky"] = ["revenue", "first_touch_at"] if shape.timing is not Timing.FLAGS else ["revenue"]
        if shape.timing is not Timing.FLAGS:
            spec["follow_up"] = {"stage": stages[0], "within_hours": 24, "share": 0.8, "team_column": "owner"}
            spec["kpis"] = {"cost_per_lead": {"max": 20.0}}
    return spec


def shape_mapping(shape: Shape) -> dict:
    """The ``source.yaml`` of a shape."""
    stages = shape.stages
    mapping: dict = {"leads": {"path": "leads.csv"}, "columns": {"channel": "Source"}}
    if shape.ids:
        mapping["columns"]["lead_id"] = "Lead ID"
    else:
        mapping["id"] = {"generate": "row_number"}
    if shape.timing is Timing.FLAGS:
        mapping["flags"] = {s: _stage_header(s, shape.timing) for s in stages[1:]}
    else:
        mapping["columns"]["created_at"] = "Created"
        mapping["columns"].update({f"{s}_at": _stage_header(s, shape.timing) for s in stages[1:]})
    if shape.timing is Timing.PIPELINE:
        if shape.loss is LossRecord.DATE:
            mapping["columns"]["lost_at"] = "Lost Date"
        else:
            mapping["lost"] = {"column": "Status", "values": ["Closed Lost"]}
    if shape.extras:
        mapping["columns"].update({"region": "Region", "pages_viewed": "Pages Viewed",
                                   "company_size": "Company Size", "revenue": "Revenue"})
        if shape.timing is not Timing.FLAGS:
            mapping["columns"].update({"first_touch_at": "First Touch", "owner": "Owner"})
            mapping["spend"] = {"path": "spend.csv", "columns": {"date": "Date", "channel": "Channel",
                                                                "spend": "Spend"}}
    return mapping


def write_shape(shape: Shape, root: str | Path) -> ShapePaths:
    """Write ``leads.csv`` (and ``spend.csv``), ``sla.yaml`` and ``source.yaml`` under ``root/<shape name>``."""
    folder = Path(root) / shape.name
    folder.mkdir(parents=True, exist_ok=True)
    leads, spend = shape_tables(shape)
    leads.to_csv(folder / "leads.csv", index=False)
    if spend is not None:
        spend.to_csv(folder / "spend.csv", index=False)
    (folder / "sla.yaml").write_text(yaml.safe_dump(shape_spec(shape), sort_keys=False))
    (folder / "source.yaml").write_text(yaml.safe_dump(shape_mapping(shape), sort_keys=False))
    return ShapePaths(folder, folder / "sla.yaml", folder / "source.yaml")
