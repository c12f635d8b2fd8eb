"""Shortcuts on the read and breakdown paths give exactly what the straightforward computation gives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sla_toolkit.io.parsing as parsing
from sla_toolkit.breakdowns import MISSING_LEVEL, level_labels

TIMESTAMP_COLUMNS = [
    ["2024-01-01 10:00:00", None, "2024-02-29T23:59:59.5", "2024-03-01", " 2024-03-02 01:02 "],
    ["2024-01-01 10:00:00", "2024-02-30 10:00:00", "x"],          # one bad cell: pandas parses the column
    ["2024-01-01 10:00:00+02:00", "2024-01-01 10:00:00"],         # an offset: Arrow refuses, pandas converts
    ["2024-01-01T10:00:00Z"], ["", "2024-01-01"], ["2024-13-01"], ["20240101"], ["2024-1-5 3:04:05"],
    ["03/04/2024 10:00"], [None, None],
]


@pytest.mark.parametrize("zone", [None, "Europe/Berlin"])
@pytest.mark.parametrize("values", TIMESTAMP_COLUMNS, ids=range(len(TIMESTAMP_COLUMNS)))
def test_arrow_timestamp_cast_equals_pandas_parsing(values, zone, monkeypatch):
    text = pd.Series(values, dtype="str")
    fast, fast_bad = parsing.parse_timestamps(text, None, False, zone)
    monkeypatch.setattr(parsing, "_arrow_iso", lambda _text: None)
    slow, slow_bad = parsing.parse_timestamps(text, None, False, zone)
    assert fast.equals(slow) and fast_bad.equals(slow_bad)


def test_arrow_timestamp_cast_on_100000_values_equals_pandas(monkeypatch):
    stamps = pd.date_range("2024-01-01", periods=100_000, freq="37s")
    text = pd.Series(stamps.strftime("%Y-%m-%d %H:%M:%S"), dtype="str").where(np.arange(100_000) % 7 > 0)
    fast, _ = parsing.parse_timestamps(text, None, False, None)
    monkeypatch.setattr(parsing, "_arrow_iso", lambda _text: None)
    slow, _ = parsing.parse_timestamps(text, None, False, None)
    assert fast.equals(slow) and fast.notna().sum() == (np.arange(100_000) % 7 > 0).sum()


@pytest.mark.parametrize("series", [
    pd.Series(["a", None, "b", "a"], dtype="str"), pd.Series([1.0, np.nan, 2.5]), pd.Series([1, 2, 3]),
    pd.Series(pd.Categorical(["x", None, "y"])), pd.Series([True, False, None], dtype=object),
    pd.Series(["a", "b"], index=[5, 7], name="c"), pd.Series([], dtype="str"),
], ids=["str", "float", "int", "categorical", "bool-object", "index", "empty"])
def test_level_labels_per_level_equal_labels_per_row(series):
    per_row = series.astype(object).where(series.notna(), MISSING_LEVEL).map(str).astype(object)
    labels = level_labels(series)
    assert labels.equals(per_row) and labels.dtype == per_row.dtype and labels.name == per_row.name


@pytest.mark.parametrize("frequency", ["month", "week"])
def test_cohort_labels_per_day_equal_labels_per_lead(frequency):
    from sla_toolkit.funnel import cohort_labels

    rng = np.random.default_rng(0)
    created = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400 * 86400, 100_000), unit="s"),
                        name="created_at").astype("datetime64[us]")
    created[::13] = pd.NaT
    created.index = created.index * 3
    if frequency == "month":
        per_lead = created.dt.strftime("%Y-%m")
    else:
        per_lead = (created.dt.normalize() - pd.to_timedelta(created.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    assert cohort_labels(created, frequency).equals(per_lead)


def test_as_of_view_without_later_dates_is_the_table_and_never_writes_through():
    from sla_toolkit.datasets import GeneratorSettings, generate_campaign
    from sla_toolkit.outcomes import as_of_view

    campaign = generate_campaign(GeneratorSettings().with_expected_leads(2000))
    leads, spec = campaign.leads, campaign.spec
    latest = max(leads[c].max() for c in leads.columns if c.endswith("_at"))
    view = as_of_view(leads, spec, latest)
    assert view.equals(leads) and view is not leads
    view["channel"] = "changed"
    assert (leads["channel"] != "changed").all()
    earlier = as_of_view(leads, spec, latest - pd.Timedelta(days=30))
    assert len(earlier) < len(leads)
