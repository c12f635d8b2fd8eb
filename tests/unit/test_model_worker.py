"""Lead scoring cross-validated in a second process: the same suite as in process, and a fall-back when it fails."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from sla_toolkit.datasets import example_paths
from sla_toolkit.io import load_leads
from sla_toolkit.pipeline import analyse
from sla_toolkit.run import worker as worker_module
from sla_toolkit.run.worker import ModelWorker
from sla_toolkit.spec import load_spec


@pytest.fixture(scope="module")
def sample_data():
    paths = example_paths()
    return load_leads(load_spec(paths.sla), paths.source)


@pytest.fixture
def any_size(monkeypatch):
    """Thresholds at zero, so the bundled sample (3,637 leads) goes to the worker."""
    monkeypatch.setattr(worker_module, "MODEL_WORKER_FROM_BYTES", 0)
    monkeypatch.setattr(worker_module, "MODEL_WORKER_FROM_LEADS", 0)
    monkeypatch.setattr(worker_module, "usable_cores", lambda: 2)
    monkeypatch.delenv(worker_module.SWITCH, raising=False)


def _models(result) -> str:
    return json.dumps(result.models.to_dict(), sort_keys=True, default=str)


def test_the_worker_gives_the_suite_an_in_process_fit_gives(sample_data, any_size):
    worker = ModelWorker()
    worker.start_for(1)
    assert worker.started
    try:
        in_worker = analyse(sample_data, fitter=worker.fitter)
    finally:
        worker.shutdown()
    assert not worker.started and worker.log == []
    in_process = analyse(sample_data)
    assert in_worker.models.scoring.fitted and in_worker.models.scoring.summary["auc"].notna().all()
    assert _models(in_worker) == _models(in_process)
    assert in_worker.findings.to_dict() == in_process.findings.to_dict()


def test_a_worker_that_died_is_replaced_by_the_same_fit_in_process(sample_data, any_size):
    worker = ModelWorker()
    worker.start_for(1)
    worker._process.kill()
    worker._process.wait()
    try:
        result = analyse(sample_data, fitter=worker.fitter)
    finally:
        worker.shutdown()
    assert len(worker.log) == 1 and "cross-validated in the main process" in worker.log[0]
    assert _models(result) == _models(analyse(sample_data))


@pytest.mark.parametrize("setting", ["off", "0"])
def test_the_switch_and_small_inputs_keep_everything_in_process(monkeypatch, setting):
    monkeypatch.setattr(worker_module, "usable_cores", lambda: 2)
    monkeypatch.setenv(worker_module.SWITCH, setting)
    worker = ModelWorker()
    worker.start_for(10 ** 12)
    assert not worker.started
    monkeypatch.delenv(worker_module.SWITCH)
    worker.start_for(worker_module.MODEL_WORKER_FROM_BYTES - 1)
    assert not worker.started
    monkeypatch.setattr(worker_module, "usable_cores", lambda: 1)
    worker.start_for(10 ** 12)
    assert not worker.started


def test_a_script_without_a_main_guard_is_not_run_again_by_the_worker(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent("""
        from sla_toolkit.datasets import example_paths
        from sla_toolkit.io import load_leads
        from sla_toolkit.pipeline import analyse
        from sla_toolkit.run import worker as w
        from sla_toolkit.spec import load_spec

        print("script ran", flush=True)
        w.MODEL_WORKER_FROM_BYTES = w.MODEL_WORKER_FROM_LEADS = 0
        w.usable_cores = lambda: 2
        paths = example_paths()
        worker = w.ModelWorker()
        worker.start_for(1)
        result = analyse(load_leads(load_spec(paths.sla), paths.source), fitter=worker.fitter)
        print("worker log:", worker.log, result.models.scoring.fitted, flush=True)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in __import__("os").environ.items() if k != worker_module.SWITCH})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("script ran") == 1
    assert "worker log: [] True" in done.stdout
