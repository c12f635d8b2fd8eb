"""The shipped example mappings on the real datasets in ../shared/data/real (skip outside CI when missing).

Expected figures come from ../shared/data/README.md and are re-derived here from the raw files with plain
pandas, independently of the toolkit's ingest.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd
import pytest

from sla_toolkit.cli import main
from sla_toolkit.io import load_leads

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
OLIST = ["--sla", str(EXAMPLES / "olist" / "sla.yaml"), "--source", str(EXAMPLES / "olist" / "source.yaml")]
BANK = ["--sla", str(EXAMPLES / "bank_marketing" / "sla.yaml"),
        "--source", str(EXAMPLES / "bank_marketing" / "source.yaml")]

# ../shared/data/README.md, "by origin (MQLs, won)"; None is the blank origin
OLIST_BY_ORIGIN = {
    "organic_search": (2296, 271), "paid_search": (1586, 195), "social": (1350, 75),
    "direct_traffic": (499, 56), "email": (493, 15), "referral": (284, 24), "other": (150, 4),
    "display": (118, 6), "other_publicities": (65, 3),
    None: (1099 + 60, 179 + 14),   # the example maps origin "unknown" to missing, beside the 60 blank ones
}
BACKWARDS_DEAL = "b91cf8812365f50ff4bda4bcd6206b05"


@functools.lru_cache(maxsize=None)
def olist_data():
    return load_leads(EXAMPLES / "olist" / "sla.yaml", EXAMPLES / "olist" / "source.yaml")


@functools.lru_cache(maxsize=None)
def bank_data():
    return load_leads(EXAMPLES / "bank_marketing" / "sla.yaml", EXAMPLES / "bank_marketing" / "source.yaml")


# ---- Olist ------------------------------------------------------------------------------------------------
def test_olist_validate_reports_rows_join_and_the_deal_won_before_first_contact(olist_dir, capsys):
    assert main(["validate", *OLIST, "--by", "channel"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert re.search(r"olist-seller-acquisition: 8,000 input rows from .*olist_marketing_qualified_leads_dataset"
                     r"\.csv\n  accepted 8,000 · quarantined 0\n", out)
    assert re.search(r"joined .*olist_closed_deals_dataset\.csv: 842 rows, 842 matched a lead, 0 unmatched", out)
    assert "stage counts: mql 8,000 → customer 842" in out
    assert "kept, flagged: stage timestamps go backwards: 1" in out
    assert re.search(rf"note: 1 lead has a stage earlier than the one before it; .*lead {BACKWARDS_DEAL} "
                     r"\(created_at=2018-03-08 00:00:00, customer_at=2018-03-06 19:38:55\)", out)
    table = out.split("reached_customer\n")[1].splitlines()
    printed = {line.split()[0]: tuple(int(v) for v in line.split()[1:]) for line in table[1:]}
    assert printed == {("NaN" if k is None else k): v for k, v in OLIST_BY_ORIGIN.items()}


def test_the_backwards_deal_is_the_only_one_in_the_raw_files(olist_dir):
    mqls = pd.read_csv(olist_dir / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(olist_dir / "olist_closed_deals_dataset.csv")
    both = mqls.merge(deals, on="mql_id")
    backwards = both[pd.to_datetime(both["won_date"]) < pd.to_datetime(both["first_contact_date"])]
    assert backwards["mql_id"].tolist() == [BACKWARDS_DEAL]


def test_olist_counts_by_origin_match_the_data_readme(olist_dir):
    data = olist_data()
    leads = data.leads
    assert (data.quality.input_rows, data.quality.accepted_rows, data.quality.quarantined_rows) == (8000, 8000, 0)
    assert data.quality.joins[0]["rows"] == 842 and data.quality.joins[0]["matched"] == 842
    counts = leads.groupby("channel", dropna=False)[["reached_mql", "reached_customer"]].sum()
    by_origin = {(None if pd.isna(k) else k): (int(r.reached_mql), int(r.reached_customer))
                 for k, r in counts.iterrows()}
    assert by_origin == OLIST_BY_ORIGIN
    assert leads["reached_customer"].mean() == pytest.approx(0.10525)
    assert data.quality.flagged == {"stage timestamps go backwards": 1}


def test_olist_time_to_win_matches_the_data_readme(olist_dir):
    won = olist_data().leads.query("reached_customer")
    days = (won["customer_at"] - won["created_at"]).dt.total_seconds() / 86400
    assert days.median() == pytest.approx(14.7, abs=0.05)
    assert [int((days <= limit).sum()) for limit in (30, 60, 90, 180, 365)] == [547, 644, 691, 774, 838]
    assert won.set_index("lead_id").loc[BACKWARDS_DEAL, "customer_at"] == pd.Timestamp("2018-03-06 19:38:55")


def test_olist_canonical_columns(olist_dir):
    leads = olist_data().leads
    assert leads["lead_id"].is_unique and leads["lead_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert leads["created_at"].between("2017-06-14", "2018-05-31").all()
    assert leads["mql_at"].equals(leads["created_at"].rename("mql_at"))
    assert leads["landing_page_id"].nunique() == 495
    assert leads.loc[leads["reached_customer"], "sdr_id"].notna().all()
    assert leads.loc[~leads["reached_customer"], "customer_at"].isna().all()


# ---- bank marketing ---------------------------------------------------------------------------------------
def test_bank_validate_reports_the_12_duplicates_with_the_row_they_repeat(bank_dir, tmp_path, capsys):
    out_csv = tmp_path / "quarantine.csv"
    assert main(["validate", *BANK, "--quarantine", str(out_csv)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert re.search(r"bank-telemarketing: 41,188 input rows from .*bank-additional-full\.csv\n"
                     r"  accepted 41,176 · quarantined 12\n"
                     r"  as of: no dates in the data[^\n]*\n"
                     r"    quarantined: exact duplicate of an earlier row: 12\n", out)
    assert "stage counts: contact 41,176 → subscribed 4,639" in out
    assert "note: lead_id generated from the row number" in out

    written = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert len(written) == 12
    lines = (bank_dir / "bank-additional-full.csv").read_text(encoding="utf-8").splitlines()
    for reason, row in zip(written["reason"], written["_source_row"].astype(int)):
        repeated = int(re.fullmatch(r"exact duplicate of an earlier row \(row (\d+)\)", reason).group(1))
        assert repeated < row
        assert lines[repeated - 1] == lines[row - 1], f"line {row} does not repeat line {repeated}"


def test_bank_flag_stage_unknowns_and_duplicates(bank_dir):
    raw = pd.read_csv(bank_dir / "bank-additional-full.csv", sep=";")
    assert len(raw) == 41188 and int(raw.duplicated().sum()) == 12
    subscribed_raw = int((raw["y"] == "yes").sum())
    subscribed_in_duplicates = int((raw.loc[raw.duplicated(), "y"] == "yes").sum())
    assert (subscribed_raw, subscribed_in_duplicates) == (4640, 1)

    data = bank_data()
    leads = data.leads
    assert (data.quality.input_rows, data.quality.accepted_rows, data.quality.quarantined_rows) == \
        (41188, 41176, 12)
    assert int(leads["reached_subscribed"].sum()) == subscribed_raw - subscribed_in_duplicates == 4639
    assert leads["subscribed_at"].isna().all() and leads["created_at"].isna().all()
    assert leads["reached_contact"].all()

    kept = raw.loc[~raw.duplicated()].reset_index(drop=True)
    for column in ("job", "marital", "education", "default", "housing", "loan"):
        assert not (leads[column] == "unknown").any()
        assert int(leads[column].isna().sum()) == int((kept[column] == "unknown").sum())
    assert int(leads["default"].isna().sum()) == 8597 - int((raw.loc[raw.duplicated(), "default"] == "unknown")
                                                            .sum())


@pytest.mark.parametrize("column, expected", [
    ("contact", {"cellular": 0.147, "telephone": 0.052}),
    ("poutcome", {"success": 0.651, "failure": 0.142, "nonexistent": 0.088}),
])
def test_bank_rates_match_the_data_readme(bank_dir, column, expected):
    rates = bank_data().leads.groupby(column)["reached_subscribed"].mean()
    assert rates.to_dict() == pytest.approx(expected, abs=0.0006)


def test_bank_duration_is_kept_but_declared_leaky(bank_dir):
    data = bank_data()
    assert data.spec.leaky == ["duration"]
    assert pd.api.types.is_numeric_dtype(data.leads["duration"])


# ---- the real-data fixture itself -------------------------------------------------------------------------
def _conftest_module():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("sla_tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_real_data_fails_under_ci_and_skips_elsewhere(ci, outcome, monkeypatch):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"real data .*no_such_dataset is missing"):
        _conftest_module().real_data_dir("no_such_dataset")
