"""Papermill runs of small fixture notebooks through the runner: report, failures, parameters, timeouts."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import sys

import nbformat
import papermill
import pytest

from sla_toolkit.errors import ParameterError, RunError
from sla_toolkit.report import OfflineReportError, export_html, find_remote_resources
from sla_toolkit.run.notebooks import NotebookRunError, RunPlan, execute_notebook, run_notebooks

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture()
def no_kernel(monkeypatch):
    """Fail the test if papermill is asked to execute anything."""
    def refuse(*args, **kwargs):
        raise AssertionError("papermill.execute_notebook was called: a kernel would have started")
    monkeypatch.setattr(papermill, "execute_notebook", refuse)


def test_run_folder_holds_every_output(good_run):
    run_dir = good_run.run_dir
    assert run_dir.name == "2025-q1" and run_dir.parent.name == "acme-inbound"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "files_before_extras.txt", "kernel_executable.txt", "report.html", "report.ipynb", "results.json",
        "run.log"]
    assert good_run.report_html == run_dir / "report.html"
    assert good_run.notebooks == {"report": run_dir / "report.ipynb"}
    assert (run_dir / "results.json").read_bytes() == b'{"leads": 49}\n'
    # extras are written in order after execution and export; a callable sees the folder at its turn
    assert (run_dir / "files_before_extras.txt").read_text().splitlines() == [
        "kernel_executable.txt", "report.html", "report.ipynb", "results.json", "run.log"]
    assert set(good_run.durations_s) == {"start kernel", "notebook report", "export report.html from report"}


def test_notebook_ran_in_this_venv_with_the_run_folder_as_working_directory(good_run):
    assert (good_run.run_dir / "kernel_executable.txt").read_text() == sys.executable


def test_run_log_records_parameters_durations_and_versions(good_run):
    log = good_run.run_log.read_text()
    assert re.search(r"^\d{4}-\d\d-\d\dT\S+ run start: sla=acme-inbound cycle=2025-q1", log)
    assert '"papermill": "' in log and '"pandas": "' in log
    assert "notebook report: start" in log and "parameters={}" in log
    assert re.search(r"notebook report: done in \d+\.\d\d s", log)
    assert re.search(r"export report.html from report: done in \d+\.\d\d s", log)


def test_report_is_self_contained_without_code_or_prompts(good_run):
    page = good_run.report_html.read_text(encoding="utf-8")
    assert find_remote_resources(page) == []
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page, re.IGNORECASE)
    assert "require.js" not in page and "MathJax.Hub" not in page
    assert re.search(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert "<title>Acme inbound · 2025-q1</title>" in page
    assert "Leads by campaign" in page and "spring-webinar" in page
    # no code: neither the parameters cell nor any code cell's source appears
    for source in ["fail_in_third_cell", "plt.subplots", "import pandas", "kernel_executable"]:
        assert source not in page
    assert "In&nbsp;[" not in page and "In [" not in page


def test_hostile_campaign_name_is_escaped(good_run):
    page = good_run.report_html.read_text(encoding="utf-8")
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert HOSTILE not in page
    assert not re.search(r"<script[^>]*>[^<]*alert", page)


def test_unknown_parameter_rejected_before_a_kernel_starts(tmp_path, make_plan, no_kernel):
    with pytest.raises(ParameterError, match=r"report \(.*report_fixture.ipynb\): colour: unknown parameter; "
                                             r"valid names: title, campaign, n_rows, scale, fail_in_third_cell, "
                                             r"as_of") as caught:
        run_notebooks(make_plan(tmp_path, colour="red"))
    assert caught.value.exit_code == 2
    assert not (tmp_path / "acme-inbound").exists()  # nothing locked, nothing written


def test_wrong_type_rejected_before_a_kernel_starts(tmp_path, make_plan, no_kernel):
    with pytest.raises(ParameterError, match=r"n_rows: expected int \(default 3\), got str 'three'"):
        run_notebooks(make_plan(tmp_path, n_rows="three"))
    with pytest.raises(ParameterError, match=r"db_url: looks like a secret"):
        run_notebooks(make_plan(tmp_path, db_url="postgresql://user:pw@host/db"))


def test_failing_cell_gives_run_error_and_leaves_the_good_run_intact(tmp_path, good_run, make_plan, tree_digest):
    out_root = tmp_path / "reports"
    shutil.copytree(good_run.run_dir.parent.parent, out_root)
    good_dir = out_root / "acme-inbound" / "2025-q1"
    before = tree_digest(good_dir)

    with pytest.raises(NotebookRunError) as caught:
        run_notebooks(make_plan(out_root, fail_in_third_cell=True))

    error = caught.value
    assert isinstance(error, RunError) and error.exit_code == 1
    assert re.search(r"notebook report failed at cell 3 \(index 2, In \[\d+\]\) `if fail_in_third_cell:`: "
                     r"ValueError: injected failure in the third cell", str(error))
    assert tree_digest(good_dir) == before

    failure_dir = error.failure_dir
    assert failure_dir.parent == out_root / "acme-inbound" and failure_dir.name.startswith("2025-q1.failed-")
    assert sorted(p.name for p in failure_dir.iterdir()) == [
        "failure.json", "failure.md", "report.ipynb", "run.log"]
    assert str(failure_dir / "failure.md") in str(error)
    summary = json.loads((failure_dir / "failure.json").read_text())
    assert (summary["status"], summary["cell_index"], summary["cell_first_line"]) == (
        "failed", 2, "if fail_in_third_cell:")
    assert (summary["error_name"], summary["error_value"]) == ("ValueError", "injected failure in the third cell")
    assert summary["executed_notebook"] == "report.ipynb"  # relative to the failure folder
    assert error.summary.executed_notebook == str(failure_dir / "report.ipynb")
    assert summary["last good report (untouched)"] == str(good_dir)
    markdown = (failure_dir / "failure.md").read_text()
    assert "failed at: cell 3" in markdown and "ValueError: injected failure" in markdown
    assert "\x1b[" not in markdown  # colour codes stripped from the traceback
    assert "run FAILED at execute report: ValueError" in (failure_dir / "run.log").read_text()

    executed = nbformat.read(failure_dir / "report.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["ValueError"]


def test_cell_timeout_names_the_running_cell(tmp_path, fixture_dir):
    output = tmp_path / "sleepy.ipynb"
    with pytest.raises(NotebookRunError) as caught:
        execute_notebook(fixture_dir / "sleepy.ipynb", output, {"seconds": 60}, timeout_s=2, cwd=tmp_path,
                         progress=False)
    summary = caught.value.summary
    assert (summary.error_name, summary.cell_index, summary.cell_first_line) == (
        "CellTimeoutError", 2, "time.sleep(seconds)")
    assert "within 2 s" in summary.error_value and output.exists()


def test_export_refuses_a_page_that_loads_from_the_network(tmp_path):
    cell = nbformat.v4.new_code_cell("display(HTML(...))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": '<script src="https://cdn.example.com/widget.js"></script><p>hi</p>'})]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    with pytest.raises(OfflineReportError, match=r"would load from the network: <script src='https://cdn"):
        export_html(notebook, tmp_path / "report.html", "t")
    assert not (tmp_path / "report.html").exists()


def test_export_escapes_the_title(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# body")])
    page = export_html(notebook, tmp_path / "r.html", "<script>alert(2)</script> & co").read_text()
    assert "<title>&lt;script&gt;alert(2)&lt;/script&gt; &amp; co</title>" in page
    assert "alert(2)</script>" not in page


# -- orchestration without kernels: execution replaced by a fake that writes an executed notebook ----------
@pytest.fixture()
def fake_execution(monkeypatch):
    """Replace kernel execution; record calls and write a small 'executed' notebook per call."""
    calls = []

    def fake(input_path, output_path, parameters, *, timeout_s, cwd, progress=True, deadline=None, kernel=None):
        calls.append((input_path.name, dict(parameters), timeout_s, cwd))
        cell = nbformat.v4.new_code_cell("frame")
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": f"<p>{output_path.stem}</p>"})]
        nbformat.write(nbformat.v4.new_notebook(cells=[cell]), output_path)
    monkeypatch.setattr("sla_toolkit.run.notebooks.execute_notebook", fake)
    monkeypatch.setattr("sla_toolkit.run.notebooks.shared_kernel", lambda cwd, log_path: contextlib.nullcontext())
    return calls


def test_plan_runs_every_notebook_in_order_and_exports_the_chosen_one(tmp_path, fixture_dir, fake_execution):
    plan = RunPlan(notebooks=[("daily_pacing", fixture_dir / "report_fixture.ipynb", {"n_rows": 2}),
                              ("cycle_report", fixture_dir / "report_fixture.ipynb", {"scale": 2})],
                   out_root=tmp_path, sla_slug="acme", cycle_id="2025-q1", timeout_s=30,
                   report_notebook="cycle_report")
    outcome = run_notebooks(plan)
    assert [(name, params, timeout) for name, params, timeout, _ in fake_execution] == [
        ("report_fixture.ipynb", {"n_rows": 2}, 30), ("report_fixture.ipynb", {"scale": 2.0}, 30)]
    assert all(cwd.name.startswith(".2025-q1.tmp-") for *_, cwd in fake_execution)
    assert "<p>cycle_report</p>" in outcome.report_html.read_text()
    assert sorted(outcome.notebooks) == ["cycle_report", "daily_pacing"]
    assert all(path.exists() for path in outcome.notebooks.values())


def test_failure_after_execution_is_a_run_error_with_a_failure_folder(tmp_path, make_plan, fake_execution,
                                                                      tree_digest):
    good = run_notebooks(make_plan(tmp_path)).run_dir
    before = tree_digest(good)

    def broken(folder):
        raise KeyError("results")
    plan = dataclasses.replace(make_plan(tmp_path), extra_files={"x.json": broken})
    with pytest.raises(RunError, match=r"run of acme-inbound/2025-q1 failed at write x.json: KeyError: 'results'; "
                                       r"failure report: .*failure.md") as caught:
        run_notebooks(plan)
    assert caught.value.exit_code == 1 and isinstance(caught.value.__cause__, KeyError)
    assert tree_digest(good) == before
    failure = json.loads((caught.value.failure_dir / "failure.json").read_text())
    assert (failure["step"], failure["error_name"], failure["cell_index"]) == ("write x.json", "KeyError", None)
    assert failure["where"] == "write x.json"


@pytest.mark.parametrize(("changes", "message"), [
    ({"cycle_id": "../2025"}, "cycle id '../2025' cannot be used as a folder name"),
    ({"sla_slug": "a/b"}, "SLA slug 'a/b' cannot be used as a folder name"),
    ({"notebooks": []}, "the plan has no notebooks"),
    ({"notebooks": [("a", "x.ipynb", {}), ("a", "y.ipynb", {})]}, "notebook name 'a' is used twice"),
    ({"extra_files": {"report.html": b""}}, "extra file 'report.html' must be a plain file name not used"),
    ({"extra_files": {"../x.json": b""}}, "extra file '../x.json' must be a plain file name"),
    ({"report_notebook": "nope"}, "report_notebook 'nope' is not one of"),
])
def test_bad_plans_are_refused(tmp_path, changes, message):
    arguments = {"notebooks": [("a", "x.ipynb", {})], "out_root": tmp_path, "sla_slug": "acme",
                 "cycle_id": "2025-q1"} | changes
    with pytest.raises(ParameterError, match=re.escape(message)):
        RunPlan(**arguments)


def test_executed_notebook_is_written_every_few_seconds_and_when_execution_stops(tmp_path, monkeypatch):
    """papermill writes before and after every cell; the run's engine at most every SAVE_EVERY_S while
    cells run, and always at the start and the end (a failed run keeps what was executed)."""
    import datetime as dt

    import papermill.engines

    from sla_toolkit.run import engine

    writes = []
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: writes.append(path))
    from papermill.execute import prepare_notebook_metadata

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1") for _ in range(20)])
    notebook.metadata["papermill"] = {}
    notebook = prepare_notebook_metadata(notebook, "in.ipynb", "x.ipynb")
    manager = engine.SavesEveryFewSeconds(notebook, output_path=str(tmp_path / "x.ipynb"), progress_bar=False)
    manager.notebook_start()
    assert len(writes) == 1
    for index, cell in enumerate(notebook.cells):
        manager.cell_start(cell, index)
        manager.cell_complete(cell, index)
    assert len(writes) == 1                                  # 40 per-cell saves within a few seconds: none
    manager.last_save_time -= dt.timedelta(seconds=engine.SAVE_EVERY_S)
    manager.cell_start(notebook.cells[0], 0)
    assert len(writes) == 2                                  # due again
    manager.cell_complete(notebook.cells[0], 0)
    manager.notebook_complete()
    assert len(writes) == 3                                  # the end is always written
    assert papermill.engines.papermill_engines.get_engine(engine.ENGINE_NAME) is engine.ThrottledSaveEngine
