"""Read one source (CSV, Parquet, Excel, SQL query or Python hook) into a raw DataFrame.

Whole-file problems raise :class:`SourceError` naming the file, what was found and what to change.
Every row keeps where it came from (``_source_file``, ``_source_row``: the line in a CSV, 1 = header).
Only blank cells are missing: "NA", "null" or "n/a" stay text for the mapping's value maps to decide.
Id and join-key columns are read as text, so ``1`` stays ``"1"`` even in a column with a blank.
"""
from __future__ import annotations

import csv
import importlib
import inspect
import os
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SourceError
from ..extras import MissingExtraError, require
from ..dburl import ambiguous_password, ambiguous_password_message
from ..filecheck import file_problem
from .mapping import FileSource, SourceMapping
from .sql_errors import connect_arguments, describe_failure, sqlite_deadline

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
_SNIFF_BYTES = 65536
_DELIMITERS = ",;\t|"
_BLANK_IS_MISSING = {"keep_default_na": False, "na_values": [""]}


def read_source(source: FileSource, mapping: SourceMapping, role: str,
                text_columns: Collection[str] = ()) -> pd.DataFrame:
    """Read every row of ``source``; ``role`` ('leads', 'joins[0]', 'spend') appears in error fixes.

    ``text_columns`` (ids, join keys) are returned as text whatever the source stored.
    """
    if source.sql:
        frame = _read_sql(source, role)
    elif source.hook:
        frame = _read_hook(source, mapping, role)
    else:
        files = source.file_list
        if not files:
            raise SourceError("source.yaml", f"no file given for {role}",
                              fix=f"set {role}.path (or paths, sql, hook) in source.yaml")
        frames = [_without_nested(_read_file(mapping.resolve(name), source, role, text_columns), mapping,
                                  mapping.resolve(name)) for name in files]
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _normalise(frame, text_columns)


def _without_nested(frame: pd.DataFrame, mapping: SourceMapping, path: Path) -> pd.DataFrame:
    """Drop columns of lists or structs (Parquet), refusing by name those the mapping uses."""
    nested = []
    for column in frame.columns:
        if frame[column].dtype == object:
            present = frame[column].dropna()
            if len(present) and isinstance(present.iloc[0], (list, tuple, dict, np.ndarray)):
                nested.append(column)
    used = {name: canonical for canonical, name in {**mapping.columns, **mapping.flags}.items()}
    for column in nested:
        if column in used:
            raise SourceError(str(path), f"column {column!r} (mapped to {used[column]}) holds nested values "
                              "(lists or structs), not one value per row", column=column,
                              fix="map a column of plain values, or flatten this one in the export")
    return frame.drop(columns=nested)


def _normalise(frame: pd.DataFrame, text_columns: Collection[str]) -> pd.DataFrame:
    """Blank text is missing and id columns are text, whichever reader produced the frame."""
    for column in frame.columns:
        values = frame[column]
        if column in (SOURCE_FILE, SOURCE_ROW):
            continue
        if column in text_columns and not pd.api.types.is_string_dtype(values):
            frame[column] = _id_text(values)
        elif pd.api.types.is_string_dtype(values) or values.dtype == object:
            blank = values.eq("")
            if blank.any():
                frame[column] = values.where(~blank)
    return frame


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as text; whole floats (an integer column with a blank, from Parquet, Excel or SQL) lose the '.0'."""
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        if (present == present.round()).all():
            values = values.astype("Int64")
    return values.astype("str").where(values.notna())


def _file_format(path: Path, source: FileSource) -> str:
    if source.format:
        return source.format
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "excel"
    return "csv"


def _read_file(path: Path, source: FileSource, role: str, text_columns: Collection[str]) -> pd.DataFrame:
    problem = file_problem(path)
    if problem is not None:
        raise SourceError(str(path), problem, fix=f"check {role}.path in source.yaml (relative paths "
                          "are relative to source.yaml) or pass the file on the command line")
    if path.stat().st_size == 0:
        raise SourceError(str(path), "the file is empty (0 bytes)", fix="export the data again")
    kind = _file_format(path, source)
    try:
        if kind == "parquet":
            require("parquet", f"reading {path.name}")
            frame = pd.read_parquet(path)
            rows = range(1, len(frame) + 1)
        elif kind == "excel":
            require("excel", f"reading {path.name}")
            header = source.header_row - 1   # 0-based; skip the title rows above and the rows below it
            skipped = [*range(header), *range(header + 1, header + 1 + source.skip_rows)]
            frame = pd.read_excel(path, sheet_name=source.sheet or 0, dtype=dict.fromkeys(text_columns, "str"),
                                  skiprows=skipped, **_BLANK_IS_MISSING)
            first = source.header_row + source.skip_rows + 1
            rows = range(first, len(frame) + first)
        else:
            frame, rows = _read_csv(path, source, role, text_columns)
    except (SourceError, MissingExtraError):
        raise
    except Exception as exc:  # the reader libraries raise many types for corrupt files
        raise SourceError(str(path), f"cannot be read as {kind} ({type(exc).__name__}: {exc})",
                          fix=f"check the file, or set {role}.format in source.yaml") from None
    if frame.empty:
        raise SourceError(str(path), "the file has a header but no data rows",
                          found=f"columns {list(frame.columns)}", fix="export the data again")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame[SOURCE_FILE] = path.name
    frame[SOURCE_ROW] = np.arange(rows.start, rows.stop, dtype=np.int64)
    return frame


def _read_csv(path: Path, source: FileSource, role: str,
              text_columns: Collection[str]) -> tuple[pd.DataFrame, range]:
    head = path.read_bytes()[:_SNIFF_BYTES]
    if b"\x00" in head:
        raise SourceError(str(path), "this is a binary file, not CSV text (it contains NUL bytes)",
                          fix=f"export as CSV, or set {role}.format to parquet or excel in source.yaml")
    try:
        text = head.decode(source.encoding)
    except UnicodeDecodeError as exc:
        if len(head) < _SNIFF_BYTES or exc.start < len(head) - 4:
            raise SourceError(str(path), f"cannot be decoded as {source.encoding} (byte {exc.start}: "
                              f"{head[exc.start:exc.start + 4]!r})",
                              fix=f"set {role}.encoding in source.yaml (e.g. latin-1 or cp1252)") from None
        text = head[:exc.start].decode(source.encoding)
    except LookupError:
        raise SourceError(str(path), f"unknown encoding {source.encoding!r}",
                          fix=f"set {role}.encoding to e.g. utf-8 or latin-1") from None
    if not text.strip():
        raise SourceError(str(path), "the file has no text (only blank lines)", fix="export the data again")
    delimiter = source.delimiter or _sniff_delimiter(text)
    try:
        frame = pd.read_csv(path, sep=delimiter, quotechar=source.quotechar, encoding=source.encoding,
                            decimal=source.decimal, thousands=source.thousands,
                            skipinitialspace=False, low_memory=False, on_bad_lines="error",
                            dtype=dict.fromkeys(text_columns, "str"), **_BLANK_IS_MISSING)
    except UnicodeDecodeError as exc:
        raise SourceError(str(path), f"cannot be decoded as {source.encoding} ({exc.reason} at byte {exc.start})",
                          fix=f"set {role}.encoding in source.yaml (e.g. latin-1 or cp1252)") from None
    except pd.errors.ParserError as exc:
        raise SourceError(str(path), f"malformed CSV ({exc})",
                          fix=f"check quoting, or set {role}.delimiter / {role}.quotechar in source.yaml") from None
    except pd.errors.EmptyDataError:
        raise SourceError(str(path), "the file has no columns", fix="export the data again") from None
    header = text.splitlines()[0]
    if frame.shape[1] == 1:
        other = [d for d in _DELIMITERS if d != delimiter and header.count(d) >= 1]
        if other:
            # As YAML: a tab needs double quotes ("\t"); other delimiters read fine in single quotes.
            shown = '"\\t"' if other[0] == "\t" else repr(other[0])
            raise SourceError(str(path), f"only one column was found with delimiter {delimiter!r}, but the header "
                              f"contains {shown}", found=f"header {header[:120]!r}",
                              fix=f"set {role}.delimiter: {shown} in source.yaml")
    # Line numbers in the file (header = line 1); exact when no field spans several lines.
    return frame, range(2, len(frame) + 2)


def _sniff_delimiter(text: str) -> str:
    header = text.splitlines()[0]
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_sql(source: FileSource, role: str) -> pd.DataFrame:
    from sqlalchemy import create_engine, event, make_url, text

    url = os.environ.get(source.sql.url_env)
    label = f"SQL source (${source.sql.url_env})"
    if not url:
        raise SourceError(label, f"environment variable {source.sql.url_env} is not set",
                          fix=f"export {source.sql.url_env}=<SQLAlchemy URL> before running; the URL never goes "
                              "into source.yaml or a notebook")
    if ambiguous_password(url):
        raise SourceError(label, ambiguous_password_message(source.sql.url_env),
                          fix=f"set ${source.sql.url_env} again with the '@' in the password written as %40")
    timeout_s = source.sql.timeout_s
    try:
        parsed = make_url(url)
        engine = create_engine(url, connect_args=connect_arguments(parsed.get_backend_name(), timeout_s))
    except Exception as exc:  # a malformed URL, an unknown dialect or a driver that is not installed
        # The URL may hold a password: name the variable, never the URL (sqlalchemy's message quotes it).
        raise SourceError(label, f"the URL cannot be used ({type(exc).__name__})",
                          fix=f"set ${source.sql.url_env} to a SQLAlchemy URL such as "
                              "postgresql+psycopg://user@host/db and install its database driver") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", sqlite_deadline(timeout_s))
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(text(source.sql.query), connection)
    except Exception as exc:
        # The URL may hold a password: name the variable, never the URL.
        raise SourceError(label, describe_failure(exc, timeout_s, parsed.password),
                          fix=f"check {role}.sql.query, {role}.sql.timeout_s and the database behind "
                              f"${source.sql.url_env}") from None
    finally:
        engine.dispose()
    if frame.empty:
        raise SourceError(label, "the query returned no rows", fix=f"check {role}.sql.query")
    frame[SOURCE_FILE] = f"sql:{source.sql.url_env}"
    frame[SOURCE_ROW] = range(1, len(frame) + 1)
    return frame


def _read_hook(source: FileSource, mapping: SourceMapping, role: str) -> pd.DataFrame:
    module_name, function_name = source.hook.split(":")
    label = f"hook {source.hook}"
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise SourceError(label, f"cannot be imported ({exc})",
                          fix=f"make {module_name} importable (e.g. on PYTHONPATH) or fix {role}.hook") from None
    wants_dir = len(inspect.signature(function).parameters) > 0
    frame = function(mapping.base_dir) if wants_dir else function()
    if not isinstance(frame, pd.DataFrame):
        raise SourceError(label, f"returned {type(frame).__name__}, not a pandas DataFrame",
                          fix="return a DataFrame from the hook")
    if frame.empty:
        raise SourceError(label, "returned no rows", fix="check the hook")
    frame = frame.reset_index(drop=True)
    frame[SOURCE_FILE] = label
    frame[SOURCE_ROW] = range(1, len(frame) + 1)
    return frame
