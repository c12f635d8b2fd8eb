"""Funnel counts, step and cumulative rates, breakdowns by segment and cohort, on a hand-built table."""
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from simulated_leads import hand_table
from sla_toolkit.funnel import MISSING_LEVEL, cohort_labels, data_as_of, funnel_summary, funnel_table, stage_counts
from sla_toolkit.spec import spec_from_dict

STAGES = ("lead", "mql", "sql", "customer")
ROWS = [  # furthest stage, channel, created
    ("customer", "a", "2027-01-03"), ("sql", "a", "2027-01-05"), ("sql", "b", "2027-01-12"),
    ("mql", "a", "2027-01-20"), ("mql", "b", "2027-02-01"), ("mql", None, "2027-02-02"),
    ("lead", "a", "2027-02-10"), ("lead", "b", "2027-02-15"), ("lead", "b", "2027-03-01"), ("lead", "a", "2027-03-02"),
]


def make_spec(**extra):
    data = {"name": "t", "period": {"start": "2027-01-01", "end": "2027-03-31"},
            "funnel": {"stages": list(STAGES)}, "segments": ["region"], "analysis": {"min_n": 5}}
    data.update(extra)
    return spec_from_dict(data)


@pytest.fixture
def leads():
    table = hand_table(ROWS, STAGES)
    table["region"] = ["north"] * 5 + ["south"] * 5
    return table


def wilson(successes, n):
    return proportion_confint(successes, n, alpha=0.05, method="wilson")


def test_overall_counts_rates_and_denominators(leads):
    result = funnel_summary(leads, make_spec())
    table = result.overall.set_index("stage")
    print("\n" + result.overall.to_string())
    assert table["count"].tolist() == [10, 6, 3, 1]
    assert table["step_denominator"].tolist()[1:] == [10, 6, 3]
    assert table["step_rate"].tolist()[1:] == pytest.approx([0.6, 0.5, 1 / 3])
    assert table["cumulative_rate"].tolist() == pytest.approx([1.0, 0.6, 0.3, 0.1])
    assert table["cumulative_denominator"].tolist() == [10] * 4
    assert np.isnan(table.loc["lead", "step_rate"]) and pd.isna(table.loc["lead", "step_denominator"])
    for stage, (s, n) in {"mql": (6, 10), "sql": (3, 6), "customer": (1, 3)}.items():
        low, high = wilson(s, n)
        assert abs(table.loc[stage, "step_low"] - low) < 1e-9 and abs(table.loc[stage, "step_high"] - high) < 1e-9
    low, high = wilson(1, 10)
    assert abs(table.loc["customer", "cumulative_low"] - low) < 1e-9
    assert abs(table.loc["customer", "cumulative_high"] - high) < 1e-9
    # min_n = 5: the sql->customer step rests on 3 leads
    assert table["sufficient"].tolist() == [True, True, True, False]
    assert result.stage_count("sql") == 3


def test_breakdown_by_channel_and_spec_segment(leads):
    result = funnel_summary(leads, make_spec())
    seg = result.by_segment.set_index(["dimension", "level", "stage"])
    assert seg.loc[("channel", "a", "lead"), "count"] == 5
    assert seg.loc[("channel", "a", "customer"), "step_rate"] == pytest.approx(1 / 2)
    assert seg.loc[("channel", "b", "mql"), "step_rate"] == pytest.approx(2 / 4)
    assert seg.loc[("channel", "b", "customer"), "count"] == 0
    assert seg.loc[("channel", MISSING_LEVEL, "mql"), "count"] == 1
    assert seg.loc[("region", "north", "mql"), "count"] == 5
    assert seg.loc[("region", "south", "mql"), "count"] == 1
    assert set(result.by_segment["dimension"]) == {"channel", "region"}


def test_missing_segment_column_is_noted_not_fatal(leads):
    result = funnel_summary(leads.drop(columns="region"), make_spec())
    assert result.notes == ("segment columns not in the data, skipped: ['region']",)
    assert set(result.by_segment["dimension"]) == {"channel"}


def test_cohorts_by_month_and_by_week(leads):
    by_month = funnel_summary(leads, make_spec()).by_cohort.set_index(["cohort", "stage"])
    assert by_month.loc[("2027-01", "lead"), "count"] == 4
    assert by_month.loc[("2027-01", "sql"), "step_rate"] == pytest.approx(3 / 4)
    assert by_month.loc[("2027-02", "mql"), "count"] == 2
    assert by_month.loc[("2027-03", "mql"), "count"] == 0
    weekly = funnel_summary(leads, make_spec(analysis={"cohort": "week"})).by_cohort
    # 2027-01-03 is a Sunday: its week starts on Monday 2026-12-28
    assert weekly["cohort"].iloc[0] == "2026-12-28"
    assert cohort_labels(pd.Series(pd.to_datetime(["2027-01-04", "2027-01-10"])), "week").tolist() == \
        ["2027-01-04", "2027-01-04"]


def test_as_of_replay_undoes_later_events(leads):
    # by 2027-01-10 only the first two leads exist; lead 1 reaches customer on 01-23, lead 2 reaches sql on 01-10
    result = funnel_summary(leads, make_spec(), as_of=pd.Timestamp("2027-01-10"))
    assert result.overall["count"].tolist() == [2, 2, 2, 0]
    assert data_as_of(leads, make_spec()) == pd.Timestamp("2027-03-02")


def test_flag_only_table_has_no_cohorts_but_counts(leads):
    flags = leads.drop(columns=[c for c in leads if c.endswith("_at")]).assign(created_at=pd.NaT)
    result = funnel_summary(flags, make_spec())
    assert result.overall["count"].tolist() == [10, 6, 3, 1]
    assert result.by_cohort.empty and "no created_at dates: no cohort breakdown" in result.notes
    assert data_as_of(flags, make_spec()) is None


def test_rates_stay_bounded_when_implied_stages_were_not_filled():
    table = hand_table([("customer", "a", "2027-01-01"), ("sql", "a", "2027-01-02")], STAGES)
    table.loc[0, "reached_sql"] = False  # contract broken on purpose: a customer without sql
    out = funnel_table(table, STAGES).set_index("stage")
    # the step numerator is "reached sql and customer": 0 of the 1 sql lead
    assert out.loc["customer", "step_rate"] == 0.0 and out.loc["customer", "count"] == 1
    assert stage_counts(table, STAGES).tolist() == [2, 2, 1, 1]


def test_unknown_breakdown_column_names_what_exists(leads):
    with pytest.raises(KeyError, match="column 'team' not in the lead table; found: \\['lead_id'"):
        funnel_table(leads, STAGES, by="team")


def test_result_renders(leads):
    result = funnel_summary(leads, make_spec())
    assert "<table" in result._repr_html_()
    assert result.to_dict()["overall"][1]["count"] == 6
