"""The real notebooks, run by papermill through `sla-toolkit run`, on the sample data.

One run (module fixture) on a copy of the sample campaign in which one campaign is named
``<script>alert(1)</script>`` and campaigns are a breakdown segment; the tests then check the
report folder, that results.json holds the Python API's figures, that the page renders offline,
that user text is escaped, and how failures and bad parameters are handled.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib import image

from sla_toolkit.cli import main
from sla_toolkit.datasets import example_paths
from sla_toolkit.pipeline import run_cycle
from sla_toolkit.report import find_remote_resources
from sla_toolkit.spec import load_spec

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("campaign")
    sample = example_paths()
    for path in (sample.source, sample.spend):
        shutil.copy(path, folder / path.name)
    leads = pd.read_csv(sample.leads, dtype=str, keep_default_na=False)
    victim = leads["Campaign"].replace("", np.nan).dropna().iloc[0]
    leads.loc[leads["Campaign"] == victim, "Campaign"] = EVIL
    # a field sales fills in once the outcome is known: the leak detector must name it ([7] item 10)
    leads["Lead Quality"] = np.select([leads["Customer Date"] != "", leads["MQL Date"] != ""], ["hot", "warm"], "cold")
    leads.to_csv(folder / "leads.csv", index=False)
    source = yaml.safe_load(sample.source.read_text())
    source["columns"]["lead_quality"] = "Lead Quality"
    (folder / "source.yaml").write_text(yaml.safe_dump(source, sort_keys=False))
    spec = yaml.safe_load(sample.sla.read_text())
    spec["segments"] = [*spec["segments"], "campaign"]
    spec["features"] = [*spec["features"], "lead_quality"]
    spec["analysis"]["cluster"] = "campaign"          # leads of one campaign are not independent ([7] item 8)
    (folder / "sla.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


@pytest.fixture(scope="module")
def run(campaign, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reports")
    code = main(["run", "--sla", str(campaign / "sla.yaml"), "--source", str(campaign / "source.yaml"),
                 "--out", str(out)])
    assert code == 0
    spec = load_spec(campaign / "sla.yaml")
    (folder,) = [p for p in (out / spec.slug).iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {"out": out, "folder": folder, "slug": spec.slug}


def test_run_folder_holds_every_output(run):
    names = {p.name for p in run["folder"].iterdir()}
    assert {"cycle_report.ipynb", "daily_pacing.ipynb", "report.html", "results.json", "next_sla.yaml",
            "quarantine.csv", "run.log", "pacing.json"} <= names
    load_spec(run["folder"] / "next_sla.yaml")


def test_results_json_matches_the_python_api(run, campaign):
    saved = json.loads((run["folder"] / "results.json").read_text())
    result = run_cycle(campaign / "sla.yaml", campaign / "source.yaml")
    api = result.to_dict()
    assert saved["as_of"] == api["as_of"]
    assert saved["funnel"]["overall"] == api["funnel"]["overall"]
    assert saved["checks"] == api["checks"]
    assert saved["conversion"] == api["conversion"]
    assert saved["pacing"]["probability"] == api["pacing"]["probability"]
    assert [f["sentence"] for f in saved["findings"]["items"]] == [f["sentence"] for f in api["findings"]["items"]]
    assert saved["next_cycle"]["yaml"] == api["next_cycle"]["yaml"]
    # the open leads' scores are in the Parquet file, not in the snapshot the report was drawn from; the
    # report states their count and expected conversions as computed from every row
    from sla_toolkit.snapshot import OpenScoresSummary, load_snapshot

    scores = result.models.open_scores
    assert len(pd.read_parquet(run["folder"] / "open_lead_scores.parquet")) == len(scores.scores) > 0
    assert isinstance(load_snapshot(run["folder"] / "cycle.snapshot.pkl").result.models.open_scores, OpenScoresSummary)
    assert (f"{len(scores.scores):,} open leads; expected to convert within the window: "
            f"{scores.expected_conversions:,.1f}") in (run["folder"] / "report.html").read_text()


def test_clustered_rates_leaks_and_levers_reach_results_json_and_the_report(run):
    saved = json.loads((run["folder"] / "results.json").read_text())
    clustered = saved["clustered"]
    assert clustered["column"] == "campaign" and clustered["summary"]
    step = clustered["summary"][0]
    assert step["clusters"] >= 5 and step["robust_low"] < step["rate"] < step["robust_high"]
    assert step["dispersion"] > 0 and isinstance(clustered["warnings"], list)
    html = (run["folder"] / "report.html").read_text()
    assert "Leads clustered by campaign" in html and "overdispersion (Pearson χ²/df)" in html
    assert saved["findings"]["levers_note"].startswith("No levers: declared in sla.yaml")
    assert "No levers: declared in sla.yaml" in html
    scoring = saved["models"]["scoring"]
    assert scoring["possible_leaks"] == ["lead_quality"] and len(scoring["leak_refit"]) == 2
    assert "Possible leak" in html and "without lead_quality" in html
    print(f"sample scoring ({saved['models']['scoring_transition']}, {scoring['time_order']} order): leak refit "
          + "; ".join(f"{r['inputs']} AUC {r['auc']:.3f}" for r in scoring["leak_refit"]))
    print(f"\nsample campaign clustered by campaign: {step['transition']} rate {step['rate']:.4f}, robust "
          f"{step['robust_low']:.4f}-{step['robust_high']:.4f}, naive {step['naive_low']:.4f}-{step['naive_high']:.4f}, "
          f"chi2/df {step['dispersion']:.2f}; warnings: {clustered['warnings']}")


def test_report_is_self_contained_and_escapes_user_text(run):
    page = (run["folder"] / "report.html").read_text()
    assert find_remote_resources(page) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert EVIL not in page
    assert 'id="scorecard"' in page and "data:image/png;base64," in page
    assert "import sla_toolkit" not in page and "run_cycle(" not in page   # no code cells


def test_report_has_its_charts_contents_and_closed_analyst_sections(run):
    page = (run["folder"] / "report.html").read_text()
    nav = page[page.index('<nav class="sla-toc"'):page.index("</nav>")]
    assert nav.count("<a ") >= 10 and 'href="#Funnel"' in nav
    for caption in ("customers so far; by", "How many leads reached each stage", "each dot is a segment",
                    "Odds ratios of converting: right of the dashed line", "the dashed line is the agreed window"):
        assert caption in page, caption
    # the sample records lost deals: time to win is a cumulative incidence with loss as a competing event
    for closed in ("Time to convert: cumulative incidence charts", "Conversion models: odds ratios",
                   "Data quality details", "How the numbers are made"):
        assert f'<summary style="cursor:pointer;color:#1a4d8f">{closed}' in page, closed


def test_result_alone_in_a_notebook_renders_every_section(run):
    from sla_toolkit.report.layout import SECTIONS
    from sla_toolkit.snapshot import SNAPSHOT_FILE, load_snapshot

    html = load_snapshot(run["folder"] / SNAPSHOT_FILE).result._repr_html_()
    positions = [html.index(f'<h2 id="{anchor}">{title}</h2>') for anchor, title, _ in SECTIONS]
    assert positions == sorted(positions) and html.index('id="headline"') < positions[0]
    assert html.count("data:image/png;base64,") >= 6 and "<details" in html
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_renders_in_headless_chromium(run, chromium, run_chromium, tmp_path):
    report = run["folder"] / "report.html"
    shot = tmp_path / "report.png"
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri())
    grey = image.imread(shot)[..., :3].mean(axis=2)
    assert grey.std() > 0.05 and (grey < 0.5).mean() > 0.005
    dom = run_chromium(chromium, tmp_path, "--dump-dom", report.as_uri()).stdout
    assert 'id="scorecard"' in dom and "MISSED" in dom
    assert "alert(1)" not in dom.replace("&lt;script&gt;alert(1)&lt;/script&gt;", "")


def test_a_bad_as_of_parameter_gives_exit_2_before_any_kernel_and_keeps_the_good_run(run, campaign, capsys):
    before = {p.name: p.read_bytes() for p in run["folder"].iterdir()}
    code = main(["run", "--sla", str(campaign / "sla.yaml"), "--source", str(campaign / "source.yaml"),
                 "--out", str(run["out"]), "-p", "as_of=1990-01-01"])
    assert code == 2
    err = capsys.readouterr().err
    assert "as_of: set by the runner, not by -p or a parameters file; use --as-of" in err and "Traceback" not in err
    code = main(["run", "--sla", str(campaign / "sla.yaml"), "--source", str(campaign / "source.yaml"),
                 "--out", str(run["out"]), "--as-of", "1990-01-01"])
    assert code == 2
    err = capsys.readouterr().err
    assert "before the period start" in err and "Traceback" not in err
    assert not [p for p in (run["out"] / run["slug"]).iterdir() if ".failed-" in p.name]
    assert {p.name: p.read_bytes() for p in run["folder"].iterdir()} == before


def test_the_notebooks_render_the_runs_snapshot_and_the_inputs_are_recorded(run, campaign):
    import hashlib
    import sqlite3

    leads = campaign / "leads.csv"
    digest = hashlib.sha256(leads.read_bytes()).hexdigest()
    log = (run["folder"] / "run.log").read_text()
    assert f"input {leads.resolve()} ({leads.stat().st_size:,} bytes" in log and f"sha256 {digest}" in log
    for name in ("cycle_report", "daily_pacing"):
        executed = (run["folder"] / f"{name}.ipynb").read_text()
        assert "cycle.snapshot.pkl" in executed
    with sqlite3.connect(run["out"] / "history.sqlite") as db:
        rows = db.execute("select path, size_bytes, sha256 from run_inputs").fetchall()
    assert (str(leads.resolve()), leads.stat().st_size, digest) in rows
    saved = json.loads((run["folder"] / "results.json").read_text())
    pacing = json.loads((run["folder"] / "pacing.json").read_text())
    assert pacing["as_of"] == saved["as_of"] and pacing["data_quality"] == saved["data_quality"]


def test_unknown_parameter_is_rejected_before_a_kernel_starts(run, campaign, capsys, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("a kernel was started"))
    code = main(["run", "--sla", str(campaign / "sla.yaml"), "--source", str(campaign / "source.yaml"),
                 "--out", str(run["out"]), "-p", "colour=red"])
    assert code == 2
    err = capsys.readouterr().err
    assert "colour: unknown parameter; valid names: sla_path, source_path, as_of, cycle_id, output_dir" in err


def test_a_lead_file_replaced_while_the_notebooks_run_fails_the_run_and_reports_nothing(campaign, tmp_path,
                                                                                       monkeypatch, capsys):
    """The export lands mid-run (after the first notebook): exit 1 naming the file, no report folder, so no
    results.json and pacing.json on different inputs can exist; the ledger says failed."""
    import sqlite3

    from sla_toolkit.run import notebooks as runner

    folder = tmp_path / "campaign"
    shutil.copytree(campaign, folder)
    real = runner.execute_notebook

    def execute_then_replace(input_path, output_path, parameters, **options):
        executed = real(input_path, output_path, parameters, **options)
        leads = folder / "leads.csv"
        leads.write_text("\n".join(leads.read_text().splitlines()[:1001]) + "\n")
        return executed

    monkeypatch.setattr(runner, "execute_notebook", execute_then_replace)
    out = tmp_path / "reports"
    code = main(["run", "--sla", str(folder / "sla.yaml"), "--source", str(folder / "source.yaml"),
                 "--out", str(out), "-p", "fit_models=false"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"input {(folder / 'leads.csv').resolve()} changed" in err and "nothing was reported" in err
    runs = [p for p in (out / load_spec(folder / "sla.yaml").slug).iterdir() if p.is_dir()]
    assert len(runs) == 1 and ".failed-" in runs[0].name                # nothing was committed as a report
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("select status from runs").fetchall() == [("failed",)]
