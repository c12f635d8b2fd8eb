"""CSV files the toolkit writes, safe to open in a spreadsheet.

Data values are not trusted: a lead's name such as ``=HYPERLINK("http://evil", "click")`` would run as a
formula when ``quarantine.csv`` is opened in Excel or LibreOffice. As OWASP recommends for CSV injection,
every text cell (and header) starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with a single quote, which spreadsheets show as text. Plain numbers such as ``-12.5`` are left
as they are: they cannot hold a formula.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as spreadsheet formulas."""
    out = frame.copy()
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    for position, column in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        out.isetitem(position, series.map(neutralise_cell, na_action="ignore"))
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, **to_csv) -> Path:
    """``frame.to_csv(path, index=False)`` with every cell neutralised (see the module docstring)."""
    neutralised(frame).to_csv(path, index=False, **to_csv)
    return Path(path)
