"""Follow-up SLA on a hand-made table: states, share, teams, response times, association with conversion."""
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from sla_toolkit.errors import Reason
from sla_toolkit.followup import follow_up_sla, follow_up_states
from sla_toolkit.outcomes import as_of_view
from sla_toolkit.spec import spec_from_dict

AS_OF = pd.Timestamp("2027-01-10 12:00")
# lead: (mql_at, first_touch_at, team, customer_at); None = missing
LEADS = {
    "within_1h": ("2027-01-01 09:00", "2027-01-01 10:00", "A", "2027-01-03 09:00"),
    "within_23h": ("2027-01-01 09:00", "2027-01-02 08:00", "A", "2027-01-03 09:00"),
    "late_25h": ("2027-01-01 09:00", "2027-01-02 10:00", "A", None),
    "never": ("2027-01-02 09:00", None, "B", None),
    "open": ("2027-01-10 06:00", None, "B", None),            # promise runs until 01-11 06:00
    "within_recent": ("2027-01-10 07:00", "2027-01-10 08:00", "B", None),
    "touched_before": ("2027-01-03 00:00", "2027-01-02 00:00", None, "2027-01-04 00:00"),
    "touched_after_as_of": ("2027-01-09 00:00", "2027-01-11 00:00", "B", None),  # not touched by the as-of date
}


def make_spec(**follow_up):
    return spec_from_dict({
        "name": "t", "period": {"start": "2027-01-01", "end": "2027-01-31"},
        "funnel": {"stages": ["lead", "mql", "customer"], "windows_days": {"mql": 5, "customer": 5}},
        "follow_up": {"stage": "mql", "within_hours": 24, "share": 0.9, "team_column": "team", **follow_up},
        "analysis": {"min_n": 3}})


def make_leads():
    names = list(LEADS)
    ts = lambda i: pd.to_datetime([LEADS[n][i] for n in names]).astype("datetime64[us]")  # noqa: E731
    leads = pd.DataFrame({"lead_id": names, "created_at": ts(0) - pd.Timedelta(days=1), "mql_at": ts(0),
                          "first_touch_at": ts(1), "team": pd.Series([LEADS[n][2] for n in names], dtype="str"),
                          "customer_at": ts(3)})
    leads["lead_at"], leads["reached_lead"] = leads["created_at"], True
    leads["reached_mql"], leads["reached_customer"] = True, leads["customer_at"].notna()
    extra = pd.DataFrame({"lead_id": ["implied_mql", "lead_only"], "created_at": pd.to_datetime(["2027-01-02"] * 2),
                          "reached_lead": True, "reached_mql": [True, False], "reached_customer": False})
    extra["lead_at"] = extra["created_at"]
    return pd.concat([leads, extra], ignore_index=True)


def test_states_by_hand():
    leads = make_leads()
    states = follow_up_states(as_of_view(leads, make_spec(), AS_OF), make_spec(), AS_OF)
    got = dict(zip(leads.loc[states.index, "lead_id"], states["state"]))
    assert got == {"within_1h": "within", "within_23h": "within", "late_25h": "late", "never": "never_touched",
                   "open": "open", "within_recent": "within", "touched_before": "within",
                   "touched_after_as_of": "never_touched"}
    assert states["response_hours"].dropna().sort_values().tolist() == [0, 1, 1, 23, 25]


def test_share_counts_teams_and_response_times():
    result = follow_up_sla(make_leads(), make_spec(), AS_OF)
    low, high = proportion_confint(4, 7, alpha=0.05, method="wilson")
    print(f"\nfollow-up share {result.share.estimate:.4f} [{result.share.low:.4f}, {result.share.high:.4f}] n=7")
    assert (result.share.successes, result.share.n) == (4, 7)
    assert abs(result.share.low - low) < 1e-9 and abs(result.share.high - high) < 1e-9
    assert result.counts == {"within": 4, "late": 1, "never_touched": 2, "open": 1}
    assert "1 lead at 'mql' without a stage time left out" in result.notes
    teams = result.by_team.set_index("team")
    assert teams.loc["A", ["within", "n"]].tolist() == [2, 3]
    assert teams.loc["B", ["within", "n"]].tolist() == [1, 3]
    assert teams.loc["(missing)", ["within", "n"]].tolist() == [1, 1]
    assert teams["sufficient"].to_dict() == {"(missing)": False, "A": True, "B": True}
    median = result.response_hours.set_index("quantile").loc[0.5, "hours"]
    assert median == 1.0 and result.response_hours["n_touched"].iloc[0] == 5
    assert result.reason is Reason.OK


def test_association_with_conversion_is_fisher_on_matured_leads():
    # matured at mql + 5 days <= as-of: the five leads that reached mql by 01-05 12:00.
    # within promise: within_1h, within_23h, touched_before all converted (3/3); late or never: 0/2.
    # Fisher two-sided: P(table) = C(3,3)C(2,0)/C(5,3) = 1/10, and no other table is as extreme.
    association = follow_up_sla(make_leads(), make_spec(), AS_OF).association
    print(f"\nassociation: within {association.within.estimate:.2f}, late {association.late.estimate:.2f}, "
          f"difference {association.difference:.2f} [{association.difference_low:.3f}, "
          f"{association.difference_high:.3f}], p = {association.p_value:.3f} ({association.wording})")
    assert (association.within.successes, association.within.n) == (3, 3)
    assert (association.late.successes, association.late.n) == (0, 2)
    assert association.difference == 1.0 and association.p_value == pytest.approx(0.1)
    assert association.outcome_transition == "mql->customer"
    assert not association.sufficient and association.reason is Reason.INSUFFICIENT_N
    assert association.wording == "association, not a causal effect"


def test_missing_touch_column_or_stage_times_say_why():
    no_touch = follow_up_sla(make_leads().drop(columns="first_touch_at"), make_spec(), AS_OF)
    assert no_touch.reason is Reason.NO_COLUMN and no_touch.notes[-1] == "no first_touch_at column mapped"
    no_times = follow_up_sla(make_leads().assign(mql_at=pd.NaT), make_spec(), AS_OF)
    assert no_times.reason is Reason.NO_TIMESTAMPS and no_times.notes[-1] == "stage 'mql' has no timestamps"


def test_team_column_missing_is_noted_and_promise_hours_matter():
    result = follow_up_sla(make_leads().drop(columns="team"), make_spec(within_hours=48), AS_OF)
    assert result.by_team.empty and "team column 'team' not in the data: no breakdown by team" in result.notes
    assert result.counts["within"] == 5  # the 25 h touch is within 48 h
    assert "<table" in result._repr_html_()
