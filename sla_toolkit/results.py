"""Shared behaviour of result objects: render as a table, a dict and HTML (STYLE.md habit 5).

A result class is a frozen dataclass that implements ``to_frame()``; this mixin derives
``_repr_html_`` from it and gives a JSON-safe ``to_dict`` built from the dataclass fields.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas/enum/dataclass values into plain JSON types (NaN becomes None)."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, pd.DataFrame):
        return _records(value if isinstance(value.index, pd.RangeIndex) else value.reset_index())
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`jsonable` of each row of ``frame``, converted a column at a time (a curve table has thousands of rows)."""
    names = [str(name) for name in frame.columns]
    if len(set(names)) < len(names):   # repeated names: each row keeps the last, as to_dict does
        return [{str(k): jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]
    columns = [_column_values(frame.iloc[:, i]) for i in range(frame.shape[1])]
    return [dict(zip(names, row)) for row in zip(*columns)] if columns else [{} for _ in range(len(frame))]


def _column_values(column: pd.Series) -> list[Any]:
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        return [v if finite else None for v, finite in zip(values.tolist(), np.isfinite(values).tolist())]
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return column.to_numpy().tolist()
    return [jsonable(v) for v in column.tolist()]


class ResultMixin:
    """Give a frozen dataclass with ``to_frame()`` a dict and an HTML rendering."""

    title: str = ""

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every result overrides it
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        heading = f"<h4>{html.escape(self.title)}</h4>" if self.title else ""
        frame = self.to_frame()
        if frame.empty:
            return heading + '<p class="muted">Nothing to show.</p>'
        from .report.sanitize import frame_html   # formatted for people: no e-notation, "—" for missing

        return heading + frame_html(readable(frame), index=not isinstance(frame.index, pd.RangeIndex))


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values in text columns shown as a dash, the way ``na_rep`` shows them in number columns."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    if not text:
        return frame
    frame = frame.copy()
    for column in text:
        frame[column] = frame[column].map(lambda v: "–" if v is None or (isinstance(v, float) and v != v) else v)
    return frame
