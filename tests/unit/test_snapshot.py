"""Read once, compute once: the run's input fingerprint, its snapshot, and failing on a changed input."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from sla_toolkit.errors import RunError
from sla_toolkit.pipeline import run_cycle
from sla_toolkit.run.notebooks import run_notebooks
from sla_toolkit.run.cycle import CycleRunRequest, prepare_cycle_run
from sla_toolkit.snapshot import (SNAPSHOT_FILE, InputChangedError, check_unchanged, cycle_for_notebook,
                                  fingerprint, load_snapshot, pacing_for_notebook)


@pytest.fixture
def campaign(sample_copy) -> Path:
    return sample_copy


def test_fingerprint_is_size_mtime_and_sha256(campaign):
    leads = campaign / "leads.csv"
    found = fingerprint(leads)
    assert found.size == leads.stat().st_size
    assert found.sha256 == hashlib.sha256(leads.read_bytes()).hexdigest()
    assert found.path == str(leads.resolve()) and found.mtime.endswith("+00:00")


def test_a_changed_file_is_named_with_both_hashes(campaign):
    leads = campaign / "leads.csv"
    before = (fingerprint(leads),)
    check_unchanged(before, "now")                                   # unchanged: nothing raised
    os.utime(leads, (0, 0))
    check_unchanged(before, "now")                                   # a new mtime alone is not a change
    leads.write_text(leads.read_text().replace("L000001", "L999999"))
    with pytest.raises(InputChangedError, match=r"input .*leads.csv changed while the notebooks ran: the run "
                                                r"read .* bytes \(sha256 [0-9a-f]{12}") as caught:
        check_unchanged(before, "while the notebooks ran")
    assert caught.value.exit_code == 1
    leads.unlink()
    with pytest.raises(InputChangedError, match="disappeared"):
        check_unchanged(before, "now")


def _request(campaign: Path, out: Path, *extra: str) -> CycleRunRequest:
    return CycleRunRequest(sla=campaign / "sla.yaml", source=campaign / "source.yaml", out=out,
                           extra_parameters=extra, progress=False, record_history=False)


def test_the_run_computes_once_and_its_snapshot_is_the_python_api_result(campaign, tmp_path):
    prepared = prepare_cycle_run(_request(campaign, tmp_path / "reports", "fit_models=false"))
    api = run_cycle(campaign / "sla.yaml", campaign / "source.yaml", with_models=False).to_dict()
    assert prepared.results["checks"] == api["checks"] and prepared.results["funnel"] == api["funnel"]
    assert [f.path for f in prepared.inputs] == [str((campaign / n).resolve()) for n in ("leads.csv", "spend.csv")]
    files = prepared.plan.prepared_files
    assert {SNAPSHOT_FILE, "results.json", "pacing.json", "next_sla.yaml", "quarantine.csv"} <= set(files)
    assert json.loads(files["results.json"]) == prepared.results
    (tmp_path / SNAPSHOT_FILE).write_bytes(files[SNAPSHOT_FILE])
    snapshot = load_snapshot(tmp_path / SNAPSHOT_FILE)
    assert snapshot.result.to_dict() == prepared.results
    assert snapshot.result.data.leads.empty                          # the lead table stays out of the snapshot
    pacing = json.loads(files["pacing.json"])
    assert pacing["as_of"] == snapshot.result.as_of.isoformat() == f"{prepared.result.as_of.isoformat()}"
    assert pacing["data_quality"] == prepared.results["data_quality"]
    # The notebooks' entry points: from the snapshot, or computed when opened on their own.
    assert cycle_for_notebook(str(tmp_path / SNAPSHOT_FILE), "x", "y").to_dict() == prepared.results
    assert pacing_for_notebook(str(tmp_path / SNAPSHOT_FILE), "x", "y").to_dict() == pacing
    alone = pacing_for_notebook("", str(campaign / "sla.yaml"), str(campaign / "source.yaml"))
    assert {k: alone.to_dict()[k] for k in ("as_of", "pacing", "scope")} == \
        {k: pacing[k] for k in ("as_of", "pacing", "scope")}
    log = "\n".join(prepared.plan.log_lines)
    assert f"sha256 {hashlib.sha256((campaign / 'leads.csv').read_bytes()).hexdigest()}" in log
    assert "read and validate: done in" in log and "models: done in" in log


def test_an_input_replaced_after_the_read_fails_the_run_before_any_notebook(campaign, tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("a kernel was started"))
    out = tmp_path / "reports"
    prepared = prepare_cycle_run(_request(campaign, out, "fit_models=false"))
    leads = campaign / "leads.csv"
    leads.write_text("\n".join(leads.read_text().splitlines()[:1001]) + "\n")   # a shorter export lands
    with pytest.raises(InputChangedError, match="changed between the read and the notebooks") as caught:
        run_notebooks(prepared.plan)
    assert isinstance(caught.value, RunError) and caught.value.failure_dir is not None
    folders = [p.name for p in (out / prepared.plan.sla_slug).iterdir() if p.is_dir()]
    assert len(folders) == 1 and ".failed-" in folders[0]              # no report was committed


def test_runner_owned_parameters_are_refused(campaign, tmp_path):
    from sla_toolkit.errors import ParameterError

    with pytest.raises(ParameterError, match="snapshot: set by the runner"):
        prepare_cycle_run(_request(campaign, tmp_path, "snapshot=other.pkl"))
