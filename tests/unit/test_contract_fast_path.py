"""The contract's vectorised pre-check never lets a row through that pandera would quarantine.

``contract_violations`` skips pandera when :func:`passes_contract` says no row can fail; every case
below compares its answer with pandera's own (the pre-check switched off), so the reasons, their wording
and the rows they name stay pandera's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sla_toolkit import validation
from sla_toolkit.datasets import example_paths
from sla_toolkit.io import load_leads
from sla_toolkit.validation import ContractRules, contract_violations, passes_contract


@pytest.fixture(scope="module")
def sample():
    paths = example_paths()
    data = load_leads(paths.sla, paths.source)
    leads = data.leads.head(400).copy()
    leads["lead_id"] = leads["lead_id"].fillna(pd.NA)
    dates = leads.select_dtypes("datetime64[us]")
    as_of = dates.max().max() + pd.Timedelta(days=1)
    return data.spec, leads, as_of


def _pandera_only(monkeypatch, frame, spec, rules) -> pd.Series:
    with monkeypatch.context() as patched:
        patched.setattr(validation, "passes_contract", lambda *_: False)
        return contract_violations(frame, spec, rules)


def _later_stage(frame: pd.DataFrame) -> int:
    return int(np.flatnonzero(frame["mql_at"].notna().to_numpy())[0])


BREACHES = {
    "missing id": lambda f, as_of: f.__setitem__("lead_id", f["lead_id"].where(f.index != 3, pd.NA)),
    "duplicate id": lambda f, as_of: f.__setitem__("lead_id", f["lead_id"].where(f.index != 5, f["lead_id"].iloc[4])),
    "future date": lambda f, as_of: f.__setitem__("mql_at", f["mql_at"].where(
        f.index != _later_stage(f), as_of + pd.Timedelta(days=3))),
    "missing created_at": lambda f, as_of: f.__setitem__("created_at", f["created_at"].where(f.index != 7)),
    "negative revenue": lambda f, as_of: f.__setitem__("revenue", f["revenue"].where(f.index != 9, -5.0)),
    "backwards stages": lambda f, as_of: f.__setitem__("mql_at", f["mql_at"].where(
        f.index != _later_stage(f), f["created_at"] - pd.Timedelta(days=2))),
}


@pytest.mark.parametrize("breach", sorted(BREACHES))
def test_a_breach_goes_to_pandera_and_gets_its_reasons(sample, monkeypatch, breach):
    spec, leads, as_of = sample
    frame = leads.copy()
    BREACHES[breach](frame, as_of)
    rules = ContractRules(timestamps_required=True, as_of=as_of)
    assert not passes_contract(frame, spec, rules)
    expected = _pandera_only(monkeypatch, frame, spec, rules)
    assert len(expected) >= 1   # the breach is one pandera quarantines
    pd.testing.assert_series_equal(contract_violations(frame, spec, rules), expected)


@pytest.mark.parametrize("rules_kw", [{}, {"quarantine_backwards": False}, {"quarantine_future": False},
                                      {"timestamps_required": False}])
def test_a_clean_table_passes_both_ways(sample, monkeypatch, rules_kw):
    spec, leads, as_of = sample
    rules = ContractRules(**{"timestamps_required": True, "as_of": as_of, **rules_kw})
    assert passes_contract(leads, spec, rules)
    assert _pandera_only(monkeypatch, leads, spec, rules).empty
    assert contract_violations(leads, spec, rules).empty


def test_a_breach_the_rules_allow_is_not_quarantined_either_way(sample, monkeypatch):
    spec, leads, as_of = sample
    frame = leads.copy()
    BREACHES["backwards stages"](frame, as_of)
    BREACHES["future date"](frame, as_of)
    rules = ContractRules(timestamps_required=True, as_of=as_of, quarantine_backwards=False,
                          quarantine_future=False)
    assert passes_contract(frame, spec, rules)
    assert _pandera_only(monkeypatch, frame, spec, rules).empty


def test_shapes_the_check_does_not_know_are_left_to_pandera(sample, monkeypatch):
    spec, leads, as_of = sample
    rules = ContractRules(timestamps_required=True, as_of=as_of)
    whole_revenue = leads.assign(revenue=leads["revenue"].fillna(0).round().astype("int64"))
    assert not passes_contract(whole_revenue, spec, rules)   # coerced by pandera: its call
    assert contract_violations(whole_revenue, spec, rules).empty
    aware = leads.assign(mql_at=leads["mql_at"].dt.tz_localize("UTC"))   # comparing with a naive as-of raises
    assert not passes_contract(aware, spec, rules)
