"""A randomized three-arm e-mail test (flags visit -> purchase, spend per customer) through `sla-toolkit run`:
papermill runs the real notebooks, and the report and results.json show the experiment section."""
from __future__ import annotations

import json

import pytest

from sla_toolkit.cli import main
from sla_toolkit.datasets.email_test import EmailTestSettings, generate_email_test, write_email_test
from sla_toolkit.findings.wording import is_causal
from sla_toolkit.spec import load_spec


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    test = generate_email_test(EmailTestSettings(seed=3, n_leads=30_000))
    sla, source = write_email_test(test, tmp_path_factory.mktemp("email_test"))
    out = tmp_path_factory.mktemp("reports")
    code = main(["run", "--sla", str(sla), "--source", str(source), "--out", str(out), "-p", "fit_models=False"])
    (folder,) = [p for p in (out / load_spec(sla).slug).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {"code": code, "folder": folder, "test": test}


def test_results_json_holds_each_arm_against_control_with_intervals(run):
    assert run["code"] == 0
    results = json.loads((run["folder"] / "results.json").read_text())
    (experiment,) = results["experiments"]["items"]
    assert experiment["may_claim_cause"] and experiment["sample_ratio"]["passed"]
    assert experiment["primary_metric"] == "conversion"
    rows = {(r["arm"], r["metric"], r["measure"]): r for r in experiment["comparisons"]}
    conversion = rows[("mens_email", "conversion", "recipient->purchase")]
    truth = run["test"].true_lift("mens_email", "conversion")
    assert conversion["absolute low"] < truth < conversion["absolute high"]
    assert {m for _, m, _ in rows} == {"conversion", "step", "revenue_per_lead", "revenue_per_customer"}
    assert {a for a, _, _ in rows} == {"mens_email", "womens_email"}   # never the control against itself
    causal = [f for f in results["findings"]["items"] if f["causal"]]
    assert causal and all(f["rule"] == "experiment" for f in causal)
    assert all(is_causal(f["sentence"]) == f["causal"] for f in results["findings"]["items"])


def test_report_shows_the_experiment_section(run):
    page = (run["folder"] / "report.html").read_text()
    assert "Experiment: spring e-mail" in page and "SRM OK" in page
    assert "caused a rise in conversion recipient to purchase" in page
