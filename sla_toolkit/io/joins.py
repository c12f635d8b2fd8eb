"""Joins: a second export (e.g. deals) adds columns to the leads, matched on the lead id."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd

from ..check_labels import format_count, plural
from ..errors import SourceError
from .mapping import Join, SourceMapping
from .parsing import apply_value_maps
from .readers import read_source


@dataclass
class JoinOutcome:
    """The leads with the joined columns added, and what the join did."""

    frame: pd.DataFrame
    columns: dict[str, str]              # canonical name -> column of ``frame`` holding it
    skipped: dict[str, str]              # optional canonical name -> its mapped column, absent from the file
    report: dict
    notes: list[str] = field(default_factory=list)


def join_one(raw: pd.DataFrame, lead_keys: pd.Series, join: Join, number: int, mapping: SourceMapping,
             required: Collection[str], lead_label: str) -> JoinOutcome:
    """Add ``join.columns`` to ``raw``; ``lead_keys`` are the leads' ids as stripped text (NA when blank).

    A missing key column, ``where`` column or required mapped column raises :class:`SourceError`;
    optional mapped columns that are absent are skipped (listed in ``skipped``).
    """
    role = f"joins[{number}]"
    other = read_source(join, mapping, role, text_columns=[join.key, *join.where])
    other = apply_value_maps(other, mapping)
    name = ", ".join(join.file_list) or role
    if join.key not in other:
        raise SourceError(name, f"join key column {join.key!r} is missing", column=join.key,
                          found=f"columns {visible_columns(other)}", fix=f"set {role}.key in source.yaml")
    notes: list[str] = []
    other = _keep_where(other, join, role, name, notes)
    absent = {canonical: src for canonical, src in join.columns.items() if src not in other}
    missing = [src for canonical, src in absent.items() if canonical in required]
    if missing:
        raise SourceError(name, f"mapped columns {missing} are missing", column=missing[0],
                          found=f"columns {visible_columns(other)}", fix=f"fix {role}.columns in source.yaml")
    used = {canonical: src for canonical, src in join.columns.items() if canonical not in absent}

    keys = key_text(other[join.key])
    if join.on is not None:
        return _lookup(raw, lead_keys, join, number, other, keys, used, absent, name, notes)
    duplicate = keys.notna() & keys.duplicated()
    kept = other.loc[keys.notna() & ~duplicate]
    dupes = int(duplicate.sum())
    if dupes:
        notes.append(f"{name}: {format_count(dupes, 'row')} {plural('repeats', dupes, 'repeat')} a {join.key} already "
                     "seen; the first is used")
    picked = pd.DataFrame({f"__join{number}_{canonical}": kept[src].to_numpy() for canonical, src in used.items()})
    picked["__key"] = keys[kept.index].to_numpy()
    matched = int(picked["__key"].isin(set(lead_keys.dropna())).sum())
    unmatched = len(other) - dupes - matched
    if unmatched:
        notes.append(f"{name}: {format_count(unmatched, 'row')} {plural('matches', unmatched, 'match')} no lead in "
                     f"{lead_label} and {plural('is', unmatched, 'are')} not used")
    merged = raw.assign(__key=lead_keys).merge(picked, on="__key", how="left").drop(columns="__key")
    merged.index = raw.index
    report = {"file": name, "rows": len(other), "matched": matched, "unmatched": unmatched, "duplicate_keys": dupes}
    return JoinOutcome(merged, {canonical: f"__join{number}_{canonical}" for canonical in used}, absent, report,
                       notes)


def _lookup(raw: pd.DataFrame, lead_keys: pd.Series, join: Join, number: int, other: pd.DataFrame,
            keys: pd.Series, used: dict[str, str], absent: dict[str, str], name: str,
            notes: list[str]) -> JoinOutcome:
    """A many-to-one join on ``join.on``: every key once in the lookup file; lead rows whose key matches
    nothing are kept with the joined columns missing, and counted with examples."""
    role = f"joins[{number}]"
    repeated = keys[keys.notna() & keys.duplicated(keep=False)]
    if len(repeated):
        examples = ", ".join(repr(k) for k in repeated.unique()[:3])
        n_keys = repeated.nunique()
        raise SourceError(name, f"lookup key {join.key!r} repeats: {n_keys:,} key{' appears' if n_keys == 1 else 's appear'}"
                                f" more than once ({len(repeated):,} rows), e.g. {examples}; a lookup needs one row "
                                "per key",
                          column=join.key, found=f"{len(other):,} rows",
                          fix=f"remove the repeats from the file or narrow it with {role}.where")
    kept = other.loc[keys.notna()]
    picked = pd.DataFrame({f"__join{number}_{canonical}": kept[src].to_numpy() for canonical, src in used.items()})
    picked["__key"] = keys[kept.index].to_numpy()
    known = set(picked["__key"])
    has_key = lead_keys.notna()
    unmatched_rows = has_key & ~lead_keys.isin(known)
    counts = lead_keys[unmatched_rows].value_counts()
    examples = {str(k): int(n) for k, n in counts.head(5).items()}
    if len(counts):
        listed = ", ".join(f"{k!r} ({format_count(n, 'row')})" for k, n in examples.items())
        n_rows = int(unmatched_rows.sum())
        notes.append(f"{name}: {format_count(n_rows, 'lead row')} {plural('has', n_rows, 'have')} a {join.on} that "
                     f"matches no {join.key} in the lookup ({format_count(len(counts), 'distinct value')}: {listed}); "
                     "kept with "
                     f"{', '.join(used) or 'the joined columns'} missing")
    merged = raw.assign(__key=lead_keys).merge(picked, on="__key", how="left").drop(columns="__key")
    merged.index = raw.index
    report = {"file": name, "on": join.on, "rows": len(other), "matched": int((has_key & ~unmatched_rows).sum()),
              "unmatched": int(unmatched_rows.sum()), "unmatched_keys": examples, "duplicate_keys": 0}
    return JoinOutcome(merged, {canonical: f"__join{number}_{canonical}" for canonical in used}, absent, report,
                       notes)


def _keep_where(other: pd.DataFrame, join: Join, role: str, name: str, notes: list[str]) -> pd.DataFrame:
    """Rows passing ``join.where`` (e.g. only closed-won opportunities)."""
    if not join.where:
        return other
    absent = [column for column in join.where if column not in other]
    if absent:
        raise SourceError(name, f"column {absent[0]!r} named in {role}.where is missing", column=absent[0],
                          found=f"columns {visible_columns(other)}", fix=f"fix {role}.where in source.yaml")
    keep = pd.Series(True, index=other.index)
    for column, allowed in join.allowed_values().items():
        keep &= other[column].astype("str").str.strip().str.lower().isin(allowed).fillna(False).astype(bool)
    left_out = int((~keep).sum())
    if left_out:
        condition = ", ".join(f"{column}: {values}" for column, values in join.where.items())
        notes.append(f"{name}: {format_count(left_out, 'row')} left out by {role}.where ({condition})")
    return other.loc[keep]


def key_text(values: pd.Series) -> pd.Series:
    """Ids and join keys as stripped text; blank is missing."""
    text = values.astype("str").str.strip()
    return text.where(values.notna() & (text != ""))


def visible_columns(frame: pd.DataFrame) -> list[str]:
    """The user's column names (not the ones ingest adds), for error messages."""
    return [c for c in frame.columns if not c.startswith("_")][:30]
