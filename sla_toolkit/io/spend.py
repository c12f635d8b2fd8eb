"""The optional spend table: date, channel, campaign, spend (>= 0)."""
from __future__ import annotations

import pandas as pd

from ..errors import SourceError
from .mapping import SourceMapping
from .parsing import parse_timestamps
from .readers import SOURCE_FILE, SOURCE_ROW, read_source

SPEND_COLUMNS = ("date", "channel", "campaign", "spend")


def load_spend(mapping: SourceMapping, as_of: pd.Timestamp) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Read and check the spend table; returns (accepted, quarantined rows) or (None, None)."""
    if mapping.spend is None:
        return None, None
    columns = {c: mapping.spend.columns.get(c, c) for c in SPEND_COLUMNS}
    raw = read_source(mapping.spend, mapping, "spend", text_columns=[columns["channel"], columns["campaign"]])
    label = ", ".join(mapping.spend.file_list) or "spend"
    missing = [f"{c} (looked for {s!r})" for c, s in columns.items() if s not in raw and c != "campaign"]
    if missing:
        raise SourceError(label, f"spend columns missing: {', '.join(missing)}", column=missing[0],
                          found=f"columns {[c for c in raw.columns if not c.startswith('_')]}",
                          fix="map them in source.yaml under spend.columns")
    dates = mapping.dates
    date, _ = parse_timestamps(raw[columns["date"]], dates.formats.get(columns["date"]), dates.dayfirst,
                               dates.timezone)
    amount = pd.to_numeric(raw[columns["spend"]], errors="coerce")
    reasons = pd.Series("", index=raw.index)
    reasons[date.isna()] += "unparseable spend date; "
    reasons[amount.isna()] += "spend is not a number; "
    reasons[amount < 0] += "negative spend; "
    reasons[date > as_of + pd.Timedelta(days=1)] += "spend date in the future; "
    bad = reasons != ""
    spend = pd.DataFrame({
        "date": date, "channel": raw[columns["channel"]].astype("str"),
        "campaign": raw[columns["campaign"]].astype("str") if columns["campaign"] in raw else pd.NA,
        "spend": amount.astype(float),
    })
    quarantined = raw.loc[bad].astype("str")
    quarantined.insert(0, "reason", reasons[bad].str.rstrip("; "))
    quarantined.insert(0, "table", "spend")
    keep = [c for c in quarantined.columns if c not in (SOURCE_FILE, SOURCE_ROW)] + [SOURCE_FILE, SOURCE_ROW]
    return spend.loc[~bad].reset_index(drop=True), quarantined[keep].reset_index(drop=True)
