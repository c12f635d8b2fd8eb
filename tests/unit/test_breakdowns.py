"""Breakdowns: matured-cohort rates per level, tests against the rest, one BH family, insufficient levels unranked."""
from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from sla_toolkit.breakdowns import MISSING_LEVEL, ComparisonTest, Verdict, breakdowns
from sla_toolkit.spec import spec_from_dict

matplotlib.use("Agg")


def make_spec(stages=("lead", "customer"), min_n=30, windows=None, alpha=0.05, min_effect=0.0,
              min_effect_relative=0.0):
    funnel = {"stages": list(stages)}
    if windows:
        funnel["windows_days"] = windows
    return spec_from_dict({"name": "t", "period": {"start": "2024-01-01", "end": "2024-12-31"}, "funnel": funnel,
                           "channel_column": "channel",
                           "analysis": {"min_n": min_n, "alpha": alpha, "min_effect": min_effect,
                                        "min_effect_relative": min_effect_relative}})


def flag_leads(groups: dict[str, tuple[int, int]], stages=("lead", "customer")) -> pd.DataFrame:
    """Flag-only leads: for each channel, (leads, conversions)."""
    channel, converted = [], []
    for name, (n, k) in groups.items():
        channel += [name] * n
        converted += [True] * k + [False] * (n - k)
    n = len(channel)
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": pd.NaT,
                          f"reached_{stages[0]}": True, f"{stages[0]}_at": pd.NaT,
                          f"reached_{stages[1]}": converted, f"{stages[1]}_at": pd.NaT,
                          "channel": pd.Series(channel, dtype="str")})
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    for s in stages:
        frame[f"{s}_at"] = pd.to_datetime(frame[f"{s}_at"])
    return frame


def z_p_value(k1, n1, k2, n2):
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


def test_hand_computed_rates_tests_and_bh():
    leads = flag_leads({"A": (40, 12), "B": (60, 9), "C": (10, 1)})
    result = breakdowns(leads, make_spec(), as_of=None)
    s = result.summary.set_index("level")
    assert list(s.index) == ["A", "B", "C"]
    assert s.loc["A", ["n_entered", "n_matured", "conversions", "n_rest", "conversions_rest"]].tolist() == \
        [40, 40, 12, 70, 10]
    assert s.loc["A", "rate"] == pytest.approx(0.3)
    assert s.loc["A", "lift"] == pytest.approx(0.3 - 10 / 70)
    low, high = proportion_confint(12, 40, alpha=0.05, method="wilson")
    assert (s.loc["A", "rate_low"], s.loc["A", "rate_high"]) == (pytest.approx(low), pytest.approx(high))
    assert s.loc["A", "crude_p_value"] == pytest.approx(z_p_value(12, 40, 10, 70), rel=1e-9)
    assert s.loc["B", "crude_p_value"] == pytest.approx(z_p_value(9, 60, 13, 50), rel=1e-9)
    assert s.loc["A", "test"] == ComparisonTest.TWO_PROPORTION_Z
    assert s.loc["A", "crude_p_value"] == pytest.approx(proportions_ztest([12, 10], [40, 70])[1], rel=1e-9)
    # nothing to adjust for (flags only, one column): the verdict's p is the logistic Wald test of level vs rest
    p_a, p_b = (sm.Logit(y, sm.add_constant(x)).fit(disp=0).pvalues[1]
                for y, x in (([1] * 12 + [0] * 28 + [1] * 10 + [0] * 60, [1] * 40 + [0] * 70),
                             ([1] * 9 + [0] * 51 + [1] * 13 + [0] * 37, [1] * 60 + [0] * 50)))
    assert s.loc["A", "p_value"] == pytest.approx(p_a, rel=1e-6)
    assert s.loc["B", "p_value"] == pytest.approx(p_b, rel=1e-6)
    assert s.loc["A", "adjusted_lift"] == pytest.approx(0.3 - 10 / 70, rel=1e-6)
    # BH over the two tested comparisons: larger p keeps its value, smaller is min(2p, larger).
    small, large = sorted([p_a, p_b])
    expected_q = {p_a: min(2 * small, large) if p_a == small else large,
                  p_b: min(2 * small, large) if p_b == small else large}
    assert s.loc["A", "q_value"] == pytest.approx(expected_q[p_a])
    assert s.loc["B", "q_value"] == pytest.approx(expected_q[p_b])
    # C has 10 matured leads < min_n: shown with its denominator, never tested nor ranked.
    assert s.loc["C", "verdict"] == Verdict.INSUFFICIENT_DATA
    assert s.loc["C", "n_matured"] == 10 and s.loc["C", "rate"] == pytest.approx(0.1)
    assert pd.isna(s.loc["C", "p_value"]) and pd.isna(s.loc["C", "q_value"]) and pd.isna(s.loc["C", "rank"])
    assert s.loc["A", "rank"] == 1 and s.loc["B", "rank"] == 2
    assert result.n_tests == 2
    print(f"\nA vs rest p={p_a:.4f} q={s.loc['A', 'q_value']:.4f}; B vs rest p={p_b:.4f} q={s.loc['B', 'q_value']:.4f}")


def test_fisher_exact_for_small_expected_counts_and_verdicts():
    leads = flag_leads({"A": (300, 60), "B": (300, 57), "D": (25, 0)})
    s = breakdowns(leads, make_spec(min_n=25), as_of=None).summary.set_index("level")
    assert s.loc["D", "test"] == ComparisonTest.FISHER_EXACT           # expected conversions 25 * 117/625 < 5
    # no conversion in D: the adjusted model is separated, so the crude (Fisher) comparison stands
    assert s.loc["D", "p_value"] == pytest.approx(fisher_exact([[0, 25], [117, 483]]).pvalue)
    assert s.loc["D", "adjusted_for"].startswith("nothing (adjusted model could not be fitted")
    assert s.loc["D", "verdict"] == Verdict.BELOW_REST
    assert s.loc["A", "verdict"] == Verdict.NO_EVIDENCE
    assert s.loc["D", "lift_high"] < 0 < s.loc["A", "lift_high"]


def test_min_effect_withholds_small_significant_lifts():
    leads = flag_leads({"A": (20000, 2200), "B": (20000, 2000)})
    flagged = breakdowns(leads, make_spec(), as_of=None).summary
    assert set(flagged["verdict"]) == {Verdict.ABOVE_REST, Verdict.BELOW_REST}
    withheld = breakdowns(leads, make_spec(min_effect=0.05), as_of=None).summary
    assert set(withheld["verdict"]) == {Verdict.NO_EVIDENCE}


def test_missing_values_are_their_own_level_and_single_level_is_not_tested():
    leads = flag_leads({"A": (50, 5), "B": (50, 10)})
    leads.loc[:9, "channel"] = None
    s = breakdowns(leads, make_spec(min_n=5), as_of=None).summary.set_index("level")
    assert s.loc[MISSING_LEVEL, "n_matured"] == 10
    single = breakdowns(flag_leads({"A": (50, 5)}), make_spec(), as_of=None).summary
    assert single["verdict"].tolist() == [Verdict.NOT_TESTED] and single["reason"].tolist() == ["single_level"]


def test_rate_counts_only_matured_leads_and_conversions_within_the_window():
    as_of = pd.Timestamp("2024-03-01")
    created = pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-25"] * 2)
    won = pd.to_datetime(["2024-01-05", "2024-01-25", pd.NaT, pd.NaT, "2024-02-27", pd.NaT])
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(6)], "created_at": created, "reached_lead": True,
                          "lead_at": created, "reached_customer": won.notna(), "customer_at": won,
                          "channel": ["A", "A", "A", "A", "A", "A"]})
    s = breakdowns(leads, make_spec(windows={"customer": 10}), as_of=as_of).summary.iloc[0]
    # Four leads are older than the 10-day window; one converted within it (day 4), one after it (day 24).
    # The two February leads are young: one already converted, one open; neither enters the rate.
    assert (s["n_entered"], s["n_converted"], s["n_open"], s["n_matured"], s["conversions"]) == (6, 3, 1, 4, 1)
    assert s["rate"] == pytest.approx(0.25)


def test_one_family_across_columns_and_transitions():
    rng = np.random.default_rng(3)
    n = 1200
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": pd.NaT, "reached_lead": True,
                          "lead_at": pd.NaT, "reached_mql": rng.random(n) < 0.5, "mql_at": pd.NaT,
                          "channel": rng.choice(["a", "b", "c"], n), "region": rng.choice(["x", "y"], n)})
    leads["reached_sql"] = leads["reached_mql"] & (rng.random(n) < 0.5)
    leads["sql_at"] = pd.NaT
    for c in ("created_at", "lead_at", "mql_at", "sql_at"):
        leads[c] = pd.to_datetime(leads[c])
    spec = spec_from_dict({"name": "t", "period": {"start": "2024-01-01", "end": "2024-12-31"},
                           "funnel": {"stages": ["lead", "mql", "sql"]}, "segments": ["region"]})
    result = breakdowns(leads, spec, as_of=None)
    s = result.summary
    assert set(s["transition"]) == {"lead->mql", "mql->sql"} and set(s["column"]) == {"channel", "region"}
    assert result.n_tests == len(s) == 10
    from statsmodels.stats.multitest import multipletests
    assert np.allclose(s["q_value"], multipletests(s["p_value"], method="fdr_bh")[1])


def test_renders_as_dict_html_and_plot():
    result = breakdowns(flag_leads({"A": (40, 12), "B": (60, 9), "C": (10, 1)}), make_spec(), as_of=None,
                        columns=["channel", "region"])
    assert "'region' is not in the lead table" in result.notes[0]
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["summary"][0]["level"] == "A" and payload["min_n"] == 30
    html = result._repr_html_()
    assert "matured-cohort rate" in html and "Benjamini" in html
    ax = result.plot_rates()
    assert len(ax.get_yticklabels()) == 3
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.mark.slow
def test_null_data_bh_controls_false_flags_unlike_uncorrected_tests():
    """8 channels x 3 transitions with no true differences, 60 seeds (each comparison is a GLM fit now)."""
    stages = ("lead", "mql", "sql", "customer")
    spec = spec_from_dict({"name": "null", "period": {"start": "2024-01-01", "end": "2024-12-31"},
                           "funnel": {"stages": list(stages)}})
    channels = np.array([f"ch{i}" for i in range(8)])
    n, seeds = 2400, 60
    any_bh, any_raw = 0, 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        mql = rng.random(n) < 0.4
        sql = mql & (rng.random(n) < 0.5)
        customer = sql & (rng.random(n) < 0.35)
        leads = pd.DataFrame({"lead_id": np.arange(n).astype(str), "reached_lead": True, "reached_mql": mql,
                              "reached_sql": sql, "reached_customer": customer,
                              "channel": channels[rng.integers(0, 8, n)]})
        for column in ("created_at", "lead_at", "mql_at", "sql_at", "customer_at"):
            leads[column] = pd.Series(pd.NaT, index=leads.index, dtype="datetime64[us]")
        s = breakdowns(leads, spec, as_of=None).summary
        assert (s["p_value"].notna()).sum() == 24
        any_bh += bool((s["q_value"] < 0.05).any())
        any_raw += bool((s["p_value"] < 0.05).any())
    share_bh, share_raw = any_bh / seeds, any_raw / seeds
    allowance = 0.05 + 2 * math.sqrt(0.05 * 0.95 / seeds)
    print(f"\nnull data, {seeds} seeds, 24 comparisons each: any flag after BH {share_bh:.1%} "
          f"(limit {allowance:.1%}); any p < 0.05 without correction {share_raw:.1%}")
    assert share_bh <= allowance
    assert share_raw >= 0.4
