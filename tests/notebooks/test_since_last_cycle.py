"""Four generated cycles in sequence, each adopting the previous proposal; the fourth has a planted
improvement in the step last cycle flagged "adjust". Cycles 1-3 are recorded in the ledger through the
Python API; the fourth runs through `sla-toolkit run` (papermill) and its report says what happened."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from sla_toolkit.cli import main
from sla_toolkit.datasets import GeneratorSettings, PeriodSettings, generate_campaign, write_campaign
from sla_toolkit.history import History
from sla_toolkit.history.trend import past_cycles, since_last_cycle
from sla_toolkit.pipeline import analyse, lead_data_from_frames

QUARTERS = [(dt.date(2025, 1, 1), dt.date(2025, 3, 31)), (dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
            (dt.date(2025, 7, 1), dt.date(2025, 9, 30)), (dt.date(2025, 10, 1), dt.date(2025, 12, 31))]


def _campaign(cycle: int, improved: bool):
    start, end = QUARTERS[cycle]
    settings = GeneratorSettings.planted(seed=100 + cycle).with_expected_leads(3_000)
    settings = dataclasses.replace(settings, period=PeriodSettings(start, end, end + dt.timedelta(days=110)))
    if improved:   # sql->customer: 25% -> 40% at the reference channel
        last = dataclasses.replace(settings.transitions[2], reference_rate=0.40)
        settings = dataclasses.replace(settings, transitions=(*settings.transitions[:2], last))
    return generate_campaign(settings)


@pytest.fixture(scope="module")
def cycles(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    spec, results = None, []
    with History.at(out) as history:
        for cycle in range(3):
            campaign = _campaign(cycle, improved=False)
            spec = spec or campaign.spec
            result = analyse(lead_data_from_frames(spec, campaign.leads, campaign.spend), as_of=campaign.as_of,
                             with_models=False)
            run_id = history.start_run(spec.name, result.cycle_id, sla_slug=spec.slug)
            history.complete_run(run_id, json.loads(json.dumps(result.to_dict())))
            results.append(result)
            spec = result.proposal.spec                          # the analyst adopts the proposal
    campaign = _campaign(3, improved=True)
    folder = tmp_path_factory.mktemp("cycle4")
    paths = write_campaign(campaign, folder)
    paths.sla.write_text(results[-1].proposal.yaml_text, encoding="utf-8")
    code = main(["run", "--sla", str(paths.sla), "--source", str(paths.source), "--out", str(out),
                 "--as-of", f"{campaign.as_of:%Y-%m-%d}", "-p", "fit_models=False"])
    (report,) = [p for p in (out / spec.slug).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {"code": code, "results": results, "report": report, "out": out}


def test_cycle_three_flagged_the_step_that_improves_in_cycle_four(cycles):
    assert "check:rate sql->customer" in {f.topic for f in cycles["results"][-1].findings.adjust}


def test_fourth_report_says_the_adjustment_was_followed_by_the_improvement(cycles):
    assert cycles["code"] == 0
    page = (cycles["report"] / "report.html").read_text()
    assert "Since last cycle" in page and "proposal was adopted as proposed" in page
    sentence = next(item.split("</li>")[0] for item in page.split("<li>")
                    if "SQL → customer conversion (flagged" in item)
    assert "the adjustment was followed by an improvement" in sentence and "95% CI" in sentence
    assert "not proof that the adjustment caused it" in sentence


def test_trend_covers_every_cycle_with_intervals(cycles):
    results = json.loads((cycles["report"] / "results.json").read_text())
    with History.at(cycles["out"]) as history:
        assert list(history.list_runs()["status"]) == ["completed"] * 4
        past = past_cycles(history, results["sla"], results["cycle_id"])
    assert [p["cycle_id"] for p in past] == [r.cycle_id for r in cycles["results"]]
    section = since_last_cycle(results, past)
    assert section.adopted is True and section.previous_cycle == cycles["results"][-1].cycle_id
    trend = section.trend.loc[section.trend["name"] == "rate sql->customer"]
    assert len(trend) == 4 and (trend["low"] < trend["estimate"]).all() and (trend["estimate"] < trend["high"]).all()
    (move,) = [m for m in section.moves if m.metric == "rate sql->customer"]
    assert move.difference[1] > 0 and not move.causal
    assert section.plot_trend() is not None
