"""The lead-table contract as a pandera schema, and the split into accepted and quarantined rows.

Every failing row is kept with every reason it failed (pandera's lazy validation collects them
all at once); nothing is dropped silently: accepted + quarantined = input rows, always.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import pandas as pd

from .spec import SlaSpec
from .types import stage_column

if TYPE_CHECKING:  # pragma: no cover
    import pandera.pandas as pa


@dataclass(frozen=True)
class ContractRules:
    """Which breaches quarantine a row and which are only flagged (kept, counted, explained)."""

    timestamps_required: bool
    as_of: pd.Timestamp
    quarantine_backwards: bool = True
    quarantine_future: bool = True
    ids_known_distinct: bool = False   # the loader has already found every lead_id present and distinct


def _timeline(spec: SlaSpec, frame: pd.DataFrame) -> list[str]:
    columns = ["created_at"] + [stage_column(s) for s in spec.funnel.stages[1:]]
    return [c for c in columns if c in frame]


def backwards_mask(frame: pd.DataFrame, spec: SlaSpec) -> pd.Series:
    """True where a later stage's timestamp is earlier than an earlier stage's."""
    columns = _timeline(spec, frame)
    bad = pd.Series(False, index=frame.index)
    latest = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    for column in columns:
        values = frame[column].astype("datetime64[us]")
        bad |= values.notna() & latest.notna() & (values < latest)
        latest = latest.where(latest.notna() & (values.isna() | (latest >= values)), values)
    return bad


def _date_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]


def contract_schema(spec: SlaSpec, frame: pd.DataFrame, rules: ContractRules) -> "pa.DataFrameSchema":
    """The pandera schema of the canonical lead table for this spec and these rules."""
    import pandera.pandas as pa   # deferred: seconds to import, needed only when data is validated

    limit = rules.as_of
    columns: dict[str, pa.Column] = {
        "lead_id": pa.Column(str, nullable=False, unique=True, report_duplicates="exclude_first",
                             title="lead id"),
    }
    if rules.quarantine_future:
        # The first stage's timestamp is created_at again: checking both would report one date twice.
        for column in [c for c in _date_columns(frame) if c != stage_column(spec.funnel.first)]:
            columns[column] = pa.Column(
                nullable=True, required=False,
                checks=pa.Check(lambda s, _lim=limit: s.isna() | (s <= _lim), element_wise=False,
                                name=f"not after {limit.date()}"),
            )
    if rules.timestamps_required:
        columns["created_at"] = pa.Column(nullable=False, required=True,
                                          checks=columns.get("created_at", pa.Column()).checks)
    if "revenue" in frame:
        columns["revenue"] = pa.Column(float, nullable=True, checks=pa.Check.ge(0), coerce=True)
    checks = []
    if rules.quarantine_backwards:
        checks.append(pa.Check(lambda df: ~backwards_mask(df, spec), name="stages in time order"))
    return pa.DataFrameSchema(columns, checks=checks, strict=False)


_REASONS = {
    "not_nullable": "missing {column}",
    "field_uniqueness": "duplicate lead_id",
    "stages in time order": "stage timestamps go backwards",
    "greater_than_or_equal_to(0)": "negative {column}",
}


def _reason(row: pd.Series) -> str:
    check = str(row["check"])
    column = row["column"] if isinstance(row["column"], str) else ""
    if check.startswith("not after"):
        return f"{column} in the future ({check})"
    template = _REASONS.get(check)
    if template:
        return template.format(column=column)
    return f"{column}: failed {check}".strip(": ")


def passes_contract(frame: pd.DataFrame, spec: SlaSpec, rules: ContractRules) -> bool:
    """True when no row can fail :func:`contract_schema`, found with plain vectorised pandas.

    Checks the same conditions as the schema (ids present and distinct, no date after ``rules.as_of``,
    ``created_at`` present when required, revenue not negative, stages in time order). ``False`` means
    "maybe not": whenever a condition fails, or the frame is not in the shape this check understands
    (revenue not already float, a comparison that raises), :func:`contract_violations` asks pandera.
    """
    try:
        ids = frame["lead_id"]
        if not rules.ids_known_distinct and (ids.isna().any() or ids.duplicated().any()):
            return False
        if rules.quarantine_future:
            first = stage_column(spec.funnel.first)
            if any((frame[c] > rules.as_of).any() for c in _date_columns(frame) if c != first):
                return False
        if rules.timestamps_required and ("created_at" not in frame or frame["created_at"].isna().any()):
            return False
        if "revenue" in frame and (frame["revenue"].dtype != "float64" or (frame["revenue"] < 0).any()):
            return False
        return not (rules.quarantine_backwards and backwards_mask(frame, spec).any())
    except Exception:  # noqa: BLE001 - anything unexpected is pandera's to judge and word
        return False


def contract_violations(frame: pd.DataFrame, spec: SlaSpec, rules: ContractRules) -> pd.Series:
    """Reasons per failing row (index = row label, value = '; '-joined reasons), all found at once.

    A table every row of which passes (:func:`passes_contract`, the usual case) is not handed to pandera,
    whose import and validation cost a fresh ``sla-toolkit pace`` process about a third of its time.
    """
    if passes_contract(frame, spec, rules):
        return pd.Series(dtype="str")
    import pandera.pandas as pa

    schema = contract_schema(spec, frame, rules)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["index"].notna()].copy()
        cases["reason"] = cases.apply(_reason, axis=1)
        grouped = cases.groupby("index")["reason"].agg(lambda r: "; ".join(dict.fromkeys(r)))
        grouped.index = grouped.index.astype(frame.index.dtype)
        return grouped
    return pd.Series(dtype="str")
