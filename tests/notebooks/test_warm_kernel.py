"""The run's kernel starts once the input is valid, warms up while the cycle is computed, then moves into
the run folder; a run refused before the kernel is needed leaves no kernel behind."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from sla_toolkit.cli import main
from sla_toolkit.run import kernel as kernels


@pytest.fixture
def campaign(sample_copy) -> Path:
    return sample_copy


@pytest.fixture
def kernel_calls(monkeypatch) -> list[str]:
    """WarmKernel without a process: records start and shutdown."""
    calls: list[str] = []
    monkeypatch.setattr(kernels.WarmKernel, "start", lambda self: calls.append("start"))
    monkeypatch.setattr(kernels.WarmKernel, "shutdown", lambda self: calls.append("shutdown"))
    return calls


def _run(campaign: Path) -> int:
    return main(["run", "--sla", str(campaign / "sla.yaml"), "--source", str(campaign / "source.yaml"),
                 "--out", str(campaign / "reports")])


def test_bad_input_is_refused_before_any_kernel_starts(campaign, kernel_calls, capsys):
    leads = campaign / "leads.csv"
    header, *rows = leads.read_text().splitlines()
    leads.write_text("\n".join([header.replace("Created Date", "Created"), *rows]) + "\n")
    assert _run(campaign) == 2
    assert "Created Date" in capsys.readouterr().err
    assert "start" not in kernel_calls


def test_a_run_refused_after_the_kernel_started_shuts_it_down(campaign, kernel_calls, monkeypatch, capsys):
    from sla_toolkit import pipeline
    from sla_toolkit.errors import SpecError

    def refuse(*args, **kwargs):
        assert kernel_calls == ["start"]                      # the kernel warms up while the cycle is computed
        raise SpecError("sla.yaml", [("", "refused after the read (test)")])

    monkeypatch.setattr(pipeline, "analyse", refuse)
    assert _run(campaign) == 2
    assert "refused after the read (test)" in capsys.readouterr().err
    assert kernel_calls == ["start", "shutdown"]


def test_the_warm_kernel_moves_into_the_run_folder_and_logs_there(tmp_path):
    kernel = kernels.WarmKernel()
    kernel.start()
    started_in, pid = kernel._folder, kernel.manager.provisioner.process.pid
    folder = tmp_path / "run"
    folder.mkdir()
    with kernel.adopted(folder, folder / "run.log", timeout_s=300) as manager:
        client = manager.blocking_client()
        client.start_channels()
        try:
            reply = client.execute_interactive(
                "import os, sys\n"
                "open('seen.txt', 'w').write(os.getcwd() + '|' + str('sla_toolkit.report.layout' in sys.modules))\n"
                "os.write(2, b'kernel stderr line\\n')", timeout=120)
        finally:
            client.stop_channels()
        assert reply["content"]["status"] == "ok"
    assert (folder / "seen.txt").read_text() == f"{folder}|True"    # warmed up, working in the run folder
    assert "kernel stderr line" in (folder / "run.log").read_text()
    assert not started_in.exists() and not kernel.started
    for _ in range(50):                                               # shut down: no process left behind
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"kernel process {pid} still running")
    kernel.shutdown()                                                 # idempotent


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True



def test_a_kernel_that_dies_while_warming_up_fails_the_run_as_a_dead_kernel(tmp_path, make_plan):
    """Retried by a scheduled run like a kernel dying in a cell; no kernel and no start-up folder left."""
    import os
    import signal

    from sla_toolkit.run.notebooks import NotebookRunError, run_notebooks
    from sla_toolkit.scheduled import retryable

    kernel = kernels.WarmKernel()
    kernel.start()
    started_in = kernel._folder
    os.kill(kernel.manager.provisioner.process.pid, signal.SIGKILL)
    with pytest.raises(NotebookRunError) as caught:
        run_notebooks(make_plan(tmp_path / "reports"), kernel)
    assert caught.value.summary.error_name == "DeadKernelError" and retryable(caught.value)
    assert caught.value.failure_dir is not None and not started_in.exists() and not kernel.started


def test_a_kernel_that_cannot_start_early_is_left_to_the_run(monkeypatch):
    def broken(sink):
        raise RuntimeError("no kernel spec")

    monkeypatch.setattr(kernels, "kernel_manager_logging_to", broken)
    kernel = kernels.WarmKernel()
    kernel.start()                                   # nothing raised: run_notebooks starts its own kernel
    assert not kernel.started and kernel._folder is None


def test_results_handed_to_the_warm_kernel_are_drawn_there_before_the_notebook(tmp_path):
    import pickle

    from sla_toolkit.datasets import example_paths
    from sla_toolkit.io import load_leads
    from sla_toolkit.pipeline import analyse
    from sla_toolkit.spec import load_spec

    paths = example_paths()
    kernel = kernels.WarmKernel()
    kernel.start()
    analyse(load_leads(load_spec(paths.sla), paths.source), on_results=kernel.predraw)
    kernel.predraw({"unpicklable": lambda: None})                       # left to the notebook, nothing raised
    folder = tmp_path / "run"
    folder.mkdir()
    with kernel.adopted(folder, folder / "run.log", timeout_s=300) as manager:   # waits for the drawings
        client = manager.blocking_client()
        client.start_channels()
        try:
            reply = client.execute_interactive(
                "from sla_toolkit.report import charts\n"
                "open('drawn.txt', 'w').write(str(len(charts._DRAWN)))", timeout=120)
        finally:
            client.stop_channels()
        assert reply["content"]["status"] == "ok"
    assert int((folder / "drawn.txt").read_text()) >= 6   # burn-up, funnel, 3 curves, forests, ratios, calibration
    assert not list(tmp_path.glob("results-*.pkl"))
