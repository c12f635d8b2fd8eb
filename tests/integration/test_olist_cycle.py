"""Olist end to end: the notebooks through papermill, results.json against the Python API, the findings."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sla_toolkit.cli import main
from sla_toolkit.findings.wording import is_causal
from sla_toolkit.pipeline import run_cycle
from sla_toolkit.spec import load_spec
from sla_toolkit.survival import conversion_rates

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "olist"


@pytest.fixture(scope="module")
def api(olist_dir):
    return run_cycle(EXAMPLE / "sla.yaml", EXAMPLE / "source.yaml")


def test_olist_findings_name_email_and_social_and_skip_small_levels(api):
    adjust = {f.topic for f in api.findings.adjust if f.rule == "breakdown"}
    assert {"breakdown:channel=email:mql->customer", "breakdown:channel=social:mql->customer"} <= adjust
    spec = api.spec
    small = {row["level"] for row in api.breakdowns.summary.to_dict("records") if row["n_matured"] < spec.analysis.min_n}
    assert small, "Olist has origins below the minimum n (other_publicities, blank)"
    for finding in api.findings.items:
        assert not any(f"={level}:" in finding.topic for level in small)
    assert {x.topic for x in api.findings.no_evidence} >= {f"breakdown:channel={lv}:mql->customer" for lv in small}
    assert not any(is_causal(f.sentence) or f.causal for f in api.findings.items)
    assert not api.experiments
    print("\nOlist findings:\n" + "\n".join(f"  {f.kind.value}: {f.sentence}" for f in api.findings.items))


def test_olist_naive_matured_and_projected_rates(api):
    row = api.conversion.get("mql->customer")
    # rates rest on the leads the won-deals export covers (created from 2018-01-08 on)
    covered = api.data.leads.loc[api.data.leads["created_at"] >= api.coverage.missing_before]
    assert (row.naive.successes, row.naive.n) == (int(covered["reached_customer"].sum()), len(covered))
    assert row.naive.n == api.coverage.leads_covered < 8000
    assert row.matured.estimate != pytest.approx(row.naive.estimate, abs=1e-3)
    print(f"\nOlist mql->customer: naive {row.naive.estimate:.4f}, matured {row.matured.estimate:.4f} "
          f"(n = {row.matured.n}), projected {row.projected.estimate:.4f}; basis {row.basis.value}")


def test_proposal_round_trips_with_the_lead_target(api, tmp_path):
    path = tmp_path / "next_sla.yaml"
    path.write_text(api.proposal.yaml_text)
    proposed = load_spec(path)
    plan = api.reverse_funnel.plan
    # planned for 80 % confidence on customers by the deadline, above customers / eventual rate
    assert plan.basis.value == "by_deadline" and plan.confidence == 0.8
    assert proposed.objectives.leads == plan.leads > api.reverse_funnel.needed("mql")[0]
    assert plan.probability >= 0.8 and plan.probability_at_rate == pytest.approx(0.5, abs=0.05)
    assert "with 80% confidence" in api.proposal.yaml_text
    shares = api.data.leads["channel"].dropna().value_counts(normalize=True)
    for channel, share in (proposed.channel_mix or {}).items():
        assert abs(share - shares[channel]) <= api.spec.analysis.max_mix_shift * shares[channel] + 1e-4


def test_olist_notebooks_write_the_api_figures(api, tmp_path):
    code = main(["run", "--sla", str(EXAMPLE / "sla.yaml"), "--source", str(EXAMPLE / "source.yaml"),
                 "--out", str(tmp_path)])
    assert code == 0
    (folder,) = [p for p in (tmp_path / api.spec.slug).iterdir() if p.is_dir() and not p.name.startswith(".")]
    saved = json.loads((folder / "results.json").read_text())
    expected = api.to_dict()
    for key in ("as_of", "funnel", "conversion", "checks", "breakdowns", "reverse_funnel", "next_cycle", "models"):
        assert saved[key] == expected[key], key
    assert [f["sentence"] for f in saved["findings"]["items"]] == \
        [f.sentence for f in api.findings.items]
    conversion = {row["transition"]: row for row in saved["conversion"]}
    assert conversion["mql->customer"]["naive_n"] == api.coverage.leads_covered
    assert saved["coverage"]["missing_before"].startswith("2018-01-08")
    assert (folder / "report.html").stat().st_size > 50_000


def _won_within_180_days(leads):
    return leads["reached_customer"] & ((leads["customer_at"] - leads["created_at"]).dt.days <= 180)


def test_olist_mid_course_verdict_describes_the_period_and_reports_the_coverage_gap(api):
    """As of 2018-08-31 the verdict covers the eventual 180-day rate (from the full export)."""
    early = run_cycle(EXAMPLE / "sla.yaml", EXAMPLE / "source.yaml", as_of="2018-08-31", with_models=False)
    gap = early.coverage
    assert gap.found and gap.first_recorded.strftime("%Y-%m-%d") == "2017-12-05"
    assert gap.missing_before == pd.Timestamp("2018-01-08") and gap.recorded == 3 and gap.expected > 100
    finding = next(f for f in early.findings.items if f.topic == "data_quality:coverage:customer")
    assert "missing before 2018-01-08" in finding.sentence and finding.kind.value == "adjust"
    full = api.data.leads
    covered = full.loc[full["created_at"] >= gap.missing_before]
    eventual_covered = float(_won_within_180_days(covered).mean())
    eventual_all = float(_won_within_180_days(full).mean())
    verdict = early.conversion.get("mql->customer")
    print(f"\nOlist as of 2018-08-31: {gap.sentence}\nverdict {verdict.basis.value} {verdict.estimate:.4f} "
          f"[{verdict.low:.4f}, {verdict.high:.4f}] vs eventual 180-day rate {eventual_covered:.4f} of the covered "
          f"leads ({eventual_all:.4f} of all leads)")
    assert eventual_all == pytest.approx(0.0969, abs=5e-4)
    assert verdict.low <= eventual_covered <= verdict.high
    # on all leads (gap ignored) the matured cohorts are the oldest and differ from recent ones: the verdict
    # is the projection, which covers the all-leads rate (the old rule gave 7.58% [6.82, 8.41])
    everyone = conversion_rates(early.data.leads, early.spec, early.as_of).get("mql->customer")
    print(f"all leads: {everyone.basis.value} {everyone.estimate:.4f} [{everyone.low:.4f}, {everyone.high:.4f}]; "
          f"{everyone.note}")
    assert everyone.basis.value == "km_projection" and "cohorts differ" in everyone.note
    assert everyone.low <= eventual_all <= everyone.high
