"""Build the canonical lead table from the user's sources (DESIGN.md section 3).

Recipe: read -> map values -> join -> check required columns (whole-file errors) -> make ids ->
parse dates and flags (row problems collected) -> validate the contract (pandera) ->
quarantine failing rows with every reason -> fill implied stages -> report data quality.

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> data = load_leads(example_paths().sla, example_paths().source)
>>> data.quality.input_rows == data.quality.accepted_rows + data.quality.quarantined_rows
True
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SourceError
from ..results import ResultMixin
from ..spec import SlaSpec, load_spec
from ..types import reached_column, stage_column
from ..validation import ContractRules, backwards_mask, contract_violations
from .mapping import RuleAction, SourceMapping, load_mapping
from .readers import SOURCE_FILE, SOURCE_ROW, read_source
from .spend import load_spend

_FALSE_VALUES = ("0", "no", "n", "false", "f", "lost", "")
OPTIONAL_COLUMNS = ("lost_at", "first_touch_at", "channel", "campaign", "revenue")


@dataclass(frozen=True)
class DataQuality(ResultMixin):
    """What ingest did to the input: counts, reasons, fills and notes."""

    input_rows: int
    accepted_rows: int
    quarantined_rows: int
    quarantine_reasons: dict[str, int]
    flagged: dict[str, int]
    implied_stage_fills: dict[str, int]
    joins: list[dict]
    spend_rows: int
    spend_quarantined: int
    notes: list[str] = field(default_factory=list)
    title = "Data quality"

    @property
    def quarantined_share(self) -> float:
        return self.quarantined_rows / self.input_rows if self.input_rows else 0.0

    def to_frame(self) -> pd.DataFrame:
        rows = [("input rows", self.input_rows), ("accepted", self.accepted_rows),
                ("quarantined", self.quarantined_rows)]
        rows += [(f"quarantined: {reason}", n) for reason, n in self.quarantine_reasons.items()]
        rows += [(f"kept, flagged: {reason}", n) for reason, n in self.flagged.items()]
        rows += [(f"implied stage filled: {stage}", n) for stage, n in self.implied_stage_fills.items() if n]
        for join in self.joins:
            rows.append((f"join {join['file']}: rows / matched / unmatched",
                         f"{join['rows']} / {join['matched']} / {join['unmatched']}"))
        if self.spend_rows:
            rows.append(("spend rows (quarantined)", f"{self.spend_rows} ({self.spend_quarantined})"))
        return pd.DataFrame(rows, columns=["item", "count"])


@dataclass(frozen=True)
class LeadData:
    """The accepted canonical lead table plus everything ingest set aside."""

    spec: SlaSpec
    leads: pd.DataFrame
    quarantine: pd.DataFrame
    spend: pd.DataFrame | None
    quality: DataQuality
    source: str

    def stage_counts(self) -> pd.Series:
        """Leads that reached each stage, in funnel order."""
        return pd.Series({s: int(self.leads[reached_column(s)].sum()) for s in self.spec.funnel.stages},
                         name="leads")


def load_leads(sla: str | Path | SlaSpec, source: str | Path | SourceMapping, *,
               as_of: str | pd.Timestamp | None = None, files: list[str | Path] | None = None) -> LeadData:
    """Read, map and validate the lead data described by ``source`` for the spec ``sla``.

    Parameters
    ----------
    as_of:
        Dates after it are "in the future" (default: now).
    files:
        Lead files given on the command line; they replace ``leads.path`` of the mapping.
    """
    spec = sla if isinstance(sla, SlaSpec) else load_spec(sla)
    mapping = source if isinstance(source, SourceMapping) else load_mapping(source)
    if files:
        mapping = mapping.model_copy(update={"leads": mapping.leads.model_copy(
            update={"path": None, "paths": [str(Path(f).resolve()) for f in files]})})
    as_of = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now().floor("s")
    label = ", ".join(mapping.leads.file_list) or mapping.leads.hook or "sql"

    raw = read_source(mapping.leads, mapping, "leads")
    raw = _map_values(raw, mapping)
    builder = _Builder(spec, mapping, raw, label, as_of)
    builder.join_all()
    builder.check_columns()
    builder.build()
    spend, spend_bad = load_spend(mapping, as_of)
    return builder.finish(spend, spend_bad)


def _map_values(frame: pd.DataFrame, mapping: SourceMapping) -> pd.DataFrame:
    if not mapping.values:
        return frame
    frame = frame.copy()
    renamed = {canonical: src for canonical, src in mapping.columns.items()}
    for column_key, value_map in mapping.values.items():
        targets = [c for c in frame.columns if not c.startswith("_source")] if column_key == "*" \
            else [renamed.get(column_key, column_key)]
        for column in targets:
            if column not in frame:
                continue
            series = frame[column]
            text = series.astype("str").str.strip()
            for old, new in value_map.items():
                hit = series.notna() & (text == str(old))
                if hit.any():
                    series = series.astype(object).where(~hit, new if new is not None else np.nan)
            frame[column] = series.infer_objects() if series.dtype == object else series
    return frame


class _Builder:
    """Holds the intermediate state of one ingest; used only by :func:`load_leads`."""

    def __init__(self, spec: SlaSpec, mapping: SourceMapping, raw: pd.DataFrame, label: str,
                 as_of: pd.Timestamp):
        self.spec, self.mapping, self.raw, self.label, self.as_of = spec, mapping, raw, label, as_of
        self.columns = dict(mapping.columns)
        self.reasons: dict[int, list[str]] = {}
        self.flagged: Counter[str] = Counter()
        self.notes: list[str] = []
        self.joins: list[dict] = []
        self.frame = pd.DataFrame(index=raw.index)

    # -- helpers --------------------------------------------------------------------------------
    def _reject(self, mask: pd.Series, reason: str) -> None:
        for idx in mask[mask].index:
            self.reasons.setdefault(idx, []).append(reason)

    def _source_of(self, canonical: str) -> str | None:
        if canonical in self.columns:
            return self.columns[canonical]
        return canonical if canonical in self.raw else None

    @property
    def _stages_with_time(self) -> list[str]:
        return [s for s in self.spec.funnel.stages[1:] if s not in self.mapping.flags]

    # -- steps ----------------------------------------------------------------------------------
    def join_all(self) -> None:
        for number, join in enumerate(self.mapping.joins):
            role = f"joins[{number}]"
            other = read_source(join, self.mapping, role)
            other = _map_values(other, self.mapping)
            name = ", ".join(join.file_list) or role
            if join.key not in other:
                raise SourceError(name, f"join key column {join.key!r} is missing", column=join.key,
                                  found=f"columns {_visible(other)}", fix=f"set {role}.key in source.yaml")
            missing = [src for src in join.columns.values() if src not in other]
            if missing:
                raise SourceError(name, f"mapped columns {missing} are missing", column=missing[0],
                                  found=f"columns {_visible(other)}", fix=f"fix {role}.columns in source.yaml")
            id_column = self._source_of("lead_id")
            keys = other[join.key].astype("str")
            dupes = int(keys.duplicated().sum())
            kept = other.loc[~keys.duplicated()]
            if dupes:
                self.notes.append(f"{name}: {dupes} rows repeat a {join.key} already seen; the first is used")
            picked = pd.DataFrame({f"__join{number}_{canonical}": kept[src].to_numpy()
                                   for canonical, src in join.columns.items()})
            picked["__key"] = kept[join.key].astype("str").to_numpy()
            lead_keys = self.raw[id_column].astype("str") if id_column in self.raw else None
            if lead_keys is None:
                raise SourceError(self.label, f"lead id column {id_column!r} is missing (needed for the join)",
                                  column="lead_id", found=f"columns {_visible(self.raw)}",
                                  fix="map lead_id in source.yaml columns")
            matched = int(picked["__key"].isin(set(lead_keys)).sum())
            self.joins.append({"file": name, "rows": len(other), "matched": matched,
                               "unmatched": len(kept) - matched, "duplicate_keys": dupes})
            if len(kept) - matched:
                self.notes.append(f"{name}: {len(kept) - matched} rows match no lead in {self.label} "
                                  "and are not used")
            merged = self.raw.assign(__key=lead_keys).merge(picked, on="__key", how="left").drop(columns="__key")
            merged.index = self.raw.index
            self.raw = merged
            for canonical in join.columns:
                self.columns[canonical] = f"__join{number}_{canonical}"

    def check_columns(self) -> None:
        spec, missing = self.spec, []
        needed = {} if self.mapping.id else {"lead_id": self.columns.get("lead_id")}
        if self._stages_with_time:
            needed["created_at"] = self.columns.get("created_at", "created_at")
        for stage in spec.funnel.stages[1:]:
            if stage in self.mapping.flags:
                needed[f"flags.{stage}"] = self.mapping.flags[stage]
            else:
                needed[stage_column(stage)] = self.columns.get(stage_column(stage), stage_column(stage))
        for canonical in (*spec.segments, *spec.features):
            needed[canonical] = self.columns.get(canonical, canonical)
        if spec.follow_up and spec.follow_up.team_column:
            needed[spec.follow_up.team_column] = self.columns.get(spec.follow_up.team_column,
                                                                  spec.follow_up.team_column)
        for canonical, src in needed.items():
            if src not in self.raw:
                missing.append((canonical, src))
        if missing:
            canonical, src = missing[0]
            listed = ", ".join(f"{c} (looked for {s!r})" for c, s in missing)
            raise SourceError(self.label, f"required column{'s' if len(missing) > 1 else ''} missing: {listed}",
                              column=src, found=f"columns {_visible(self.raw)}",
                              fix="map each one in source.yaml under `columns:` (canonical name: your column)"
                                  + (" or `flags:` for 0/1 stages" if any(c.endswith('_at') for c, _ in missing)
                                     else ""))

    def build(self) -> None:
        self._make_ids()
        self._duplicate_rows()
        for canonical in ("created_at", *(stage_column(s) for s in self._stages_with_time),
                          "lost_at", "first_touch_at"):
            src = self._source_of(canonical)
            if src is not None:
                self.frame[canonical] = self._parse_dates(canonical, src)
        first = self.spec.funnel.first
        self.frame[reached_column(first)] = True
        self.frame[stage_column(first)] = self.frame["created_at"] if "created_at" in self.frame \
            else pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[us]")
        if "created_at" not in self.frame:
            self.frame["created_at"] = pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[us]")
        for stage in self.spec.funnel.stages[1:]:
            if stage in self.mapping.flags:
                self.frame[reached_column(stage)] = self._parse_flag(stage, self.mapping.flags[stage])
                self.frame[stage_column(stage)] = pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[us]")
            else:
                self.frame[reached_column(stage)] = self.frame[stage_column(stage)].notna()
        self._copy_dimensions()

    def _make_ids(self) -> None:
        if self.mapping.id is None:
            ids = self.raw[self.columns["lead_id"]]
            text = ids.astype("str").str.strip()
            text = text.where(ids.notna() & (text != ""), None)
            self.frame["lead_id"] = text.astype("str").where(text.notna(), None)
            return
        if self.mapping.id.generate.value == "row_number":
            self.frame["lead_id"] = [f"{f}:{r}" for f, r in zip(self.raw[SOURCE_FILE], self.raw[SOURCE_ROW])]
        else:
            content = self.raw.drop(columns=[SOURCE_FILE, SOURCE_ROW]).astype("str").agg("\x1f".join, axis=1)
            self.frame["lead_id"] = [hashlib.sha1(v.encode()).hexdigest()[:16] for v in content]
        self.notes.append(f"lead_id generated from the {self.mapping.id.generate.value.replace('_', ' ')}")

    def _duplicate_rows(self) -> None:
        content = [c for c in self.raw.columns if not c.startswith("_source") and not c.startswith("__join")]
        dupes = self.raw.duplicated(subset=content, keep="first")
        if not dupes.any():
            return
        first_rows = self.raw.loc[~self.raw.duplicated(subset=content, keep=False) | ~dupes]
        firsts = first_rows.drop_duplicates(subset=content).set_index(content)[SOURCE_ROW]
        label = "exact duplicate of an earlier row"
        if self.mapping.rules.duplicate_rows is RuleAction.QUARANTINE:
            for idx in dupes[dupes].index:
                key = tuple(self.raw.loc[idx, content])
                where = firsts.get(key if len(content) > 1 else key[0])
                self.reasons.setdefault(idx, []).append(
                    f"{label} (row {where})" if where is not None and np.isscalar(where) else label)
        else:
            self.flagged[label] += int(dupes.sum())

    def _parse_dates(self, canonical: str, src: str) -> pd.Series:
        values = self.raw[src]
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = values
        else:
            text = values.astype("str").str.strip().where(values.notna())
            fmt = self.mapping.dates.formats.get(src) or self.mapping.dates.formats.get(canonical)
            parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=False,
                                    dayfirst=self.mapping.dates.dayfirst) if fmt or _all_iso(text) \
                else pd.to_datetime(text, format="mixed", errors="coerce", dayfirst=self.mapping.dates.dayfirst)
            bad = text.notna() & (text != "") & parsed.isna()
            if bad.any():
                examples = ", ".join(repr(v) for v in text[bad].unique()[:3])
                self._reject(bad, f"unparseable {canonical} (column {src!r}, e.g. {examples})")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(self.mapping.dates.timezone or "UTC").dt.tz_localize(None)
        return parsed.astype("datetime64[us]")

    def _parse_flag(self, stage: str, src: str) -> pd.Series:
        values = self.raw[src]
        text = values.astype("str").str.strip().str.lower().where(values.notna(), "")
        text = text.str.replace(r"\.0$", "", regex=True)
        truthy = {v.lower() for v in self.mapping.flag_true_values}
        reached = text.isin(truthy)
        unknown = ~reached & ~text.isin(_FALSE_VALUES)
        if unknown.any():
            examples = ", ".join(repr(v) for v in text[unknown].unique()[:3])
            self._reject(unknown, f"flag {stage} (column {src!r}) is not yes/no or 0/1, e.g. {examples}")
        return reached

    def _copy_dimensions(self) -> None:
        wanted = [*OPTIONAL_COLUMNS[2:], *self.spec.segments, *self.spec.features]
        if self.spec.follow_up and self.spec.follow_up.team_column:
            wanted.append(self.spec.follow_up.team_column)
        wanted += [c for c in self.columns if c not in wanted and not c.endswith("_at") and c != "lead_id"]
        for canonical in dict.fromkeys(wanted):
            src = self._source_of(canonical)
            if src is None or canonical in self.frame:
                continue
            series = self.raw[src]
            if canonical == "revenue" or canonical in self.spec.features:
                numeric = pd.to_numeric(series, errors="coerce")
                if canonical == "revenue" or numeric.notna().sum() == series.notna().sum():
                    bad = series.notna() & numeric.isna()
                    if bad.any():
                        self._reject(bad, f"{canonical} is not a number (column {src!r})")
                    series = numeric
            elif not pd.api.types.is_numeric_dtype(series) or canonical in self.spec.segments:
                series = series.astype("str").where(series.notna())
            self.frame[canonical] = series

    def finish(self, spend: pd.DataFrame | None, spend_bad: pd.DataFrame | None) -> LeadData:
        rules = ContractRules(
            timestamps_required=bool(self._stages_with_time),
            as_of=self.as_of + pd.Timedelta(days=1),
            quarantine_backwards=self.mapping.rules.backwards_stages is RuleAction.QUARANTINE,
            quarantine_future=self.mapping.rules.future_dates is RuleAction.QUARANTINE,
        )
        contract = self.frame.copy()
        contract["lead_id"] = contract["lead_id"].fillna(pd.NA)
        for idx, text in contract_violations(contract, self.spec, rules).items():
            self.reasons.setdefault(idx, []).extend(text.split("; "))
        if not rules.quarantine_backwards:
            backwards = backwards_mask(self.frame, self.spec)
            if backwards.any():
                self.flagged["stage timestamps go backwards"] += int(backwards.sum())
                self.notes.append(_backwards_note(self.frame.loc[backwards], self.spec))
        bad_index = pd.Index(sorted(self.reasons))
        quarantine = self._quarantine_table(bad_index)
        leads = self.frame.drop(index=bad_index).reset_index(drop=True)
        fills = _fill_implied_stages(leads, self.spec)
        reason_counts = Counter(r.split(" (")[0] for reasons in self.reasons.values() for r in dict.fromkeys(reasons))
        quality = DataQuality(
            input_rows=len(self.raw), accepted_rows=len(leads), quarantined_rows=len(quarantine),
            quarantine_reasons=dict(reason_counts.most_common()), flagged=dict(self.flagged),
            implied_stage_fills=fills, joins=self.joins,
            spend_rows=0 if spend is None else len(spend) + (0 if spend_bad is None else len(spend_bad)),
            spend_quarantined=0 if spend_bad is None else len(spend_bad), notes=self.notes,
        )
        if spend_bad is not None and len(spend_bad):
            quarantine = pd.concat([quarantine, spend_bad], ignore_index=True)
        return LeadData(self.spec, leads, quarantine, spend, quality, self.label)

    def _quarantine_table(self, bad_index: pd.Index) -> pd.DataFrame:
        visible = [c for c in self.raw.columns if not c.startswith("__join")]
        rows = self.raw.loc[bad_index, visible].astype("str").where(self.raw.loc[bad_index, visible].notna(), "")
        rows.insert(0, "reason", ["; ".join(dict.fromkeys(self.reasons[i])) for i in bad_index])
        rows.insert(0, "table", "leads")
        return rows.reset_index(drop=True)


def _fill_implied_stages(leads: pd.DataFrame, spec: SlaSpec) -> dict[str, int]:
    """A lead that reached a later stage reached every earlier one; count the fills per stage."""
    fills: dict[str, int] = {}
    later_reached = pd.Series(False, index=leads.index)
    for stage in reversed(spec.funnel.stages):
        column = reached_column(stage)
        implied = later_reached & ~leads[column]
        fills[stage] = int(implied.sum())
        leads[column] = leads[column] | later_reached
        later_reached = leads[column]
    return {s: fills[s] for s in spec.funnel.stages}


def _backwards_note(rows: pd.DataFrame, spec: SlaSpec) -> str:
    examples = []
    for _, row in rows.head(3).iterrows():
        stamps = [(c, row[c]) for c in ["created_at"] + [stage_column(s) for s in spec.funnel.stages[1:]]
                  if c in row and pd.notna(row[c])]
        pairs = ", ".join(f"{c}={v}" for c, v in stamps)
        examples.append(f"lead {row['lead_id']} ({pairs})")
    return (f"{len(rows)} lead(s) have a stage earlier than the one before it; kept as the mapping's rules say "
            f"(durations count as 0 days): " + "; ".join(examples))


def _all_iso(text: pd.Series) -> bool:
    sample = text.dropna().head(200)
    return bool(sample.str.match(r"^\d{4}-\d{2}-\d{2}").all()) if len(sample) else True


def _visible(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not c.startswith("_")][:30]
