"""Cron safety through `sla-toolkit run`: a hanging notebook hits the run timeout and fails loudly (exit 1,
failure report, ledger `failed`, notification sent); a kernel killed mid-run is retried once, then fails."""
import sys
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from notify_servers import WebhookReceiver  # noqa: E402

from sla_toolkit.run import cycle as runs  # noqa: E402
from sla_toolkit.cli import main  # noqa: E402
from sla_toolkit.datasets import example_paths  # noqa: E402
from sla_toolkit.history import History  # noqa: E402
from sla_toolkit.notify.ledger import list_deliveries  # noqa: E402


def cycle_notebook_that(tmp_path: Path, body: str) -> Path:
    """A notebook with the cycle report's own parameters cell whose only other cell is ``body``."""
    real = nbformat.read(runs.CYCLE_NOTEBOOK, as_version=4)
    (source,) = [c.source for c in real.cells if "parameters" in c.metadata.get("tags", [])]
    parameters = nbformat.v4.new_code_cell(source)
    parameters.metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(body)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "cycle_report.ipynb"
    nbformat.write(notebook, path)
    return path


def run_args(out: Path, *extra: str) -> list[str]:
    paths = example_paths()
    return ["run", "--sla", str(paths.sla), "--source", str(paths.source), "--out", str(out), *extra]


def test_hanging_notebook_times_out_and_fails_loudly(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runs, "CYCLE_NOTEBOOK", cycle_notebook_that(tmp_path, "import time\ntime.sleep(600)"))
    webhook = WebhookReceiver().start()
    try:
        monkeypatch.setenv("SLA_TEST_HOOK", webhook.url)
        notify = tmp_path / "notify.yaml"
        notify.write_text("notify:\n  when: [failure]\n  webhooks:\n    - {name: ops, url_env: SLA_TEST_HOOK}\n")
        out = tmp_path / "reports"
        started = time.monotonic()
        code = main(run_args(out, "--run-timeout", "12", "--notify", str(notify)))
        elapsed = time.monotonic() - started
    finally:
        webhook.stop()
    stderr = capsys.readouterr().err
    print(f"\nhanging notebook: exit {code} after {elapsed:.1f} s; webhook received {len(webhook.received)} POST")
    assert code == 1 and elapsed < 120
    assert "time budget ran out" in stderr and "retrying" not in stderr   # a timeout is not retried
    (failed,) = (out / "Q1-2025-demand-generation").glob("*.failed-*")
    assert "time budget ran out" in (failed / "failure.md").read_text()
    assert not (out / "Q1-2025-demand-generation" / "2025-03-23").exists()
    with History.at(out) as history:
        (row,) = history.list_runs().to_dict("records")
        (delivery,) = list_deliveries(history).to_dict("records")
    assert row["status"] == "failed" and "time budget" in row["error"]
    assert delivery["status"] == "sent" and delivery["rules"] == "failure"
    (received,) = webhook.received
    assert "`sla-toolkit run` FAILED" in received["json"]["text"] and "failure.md" in received["json"]["text"]


def test_killed_kernel_is_retried_once_then_fails(tmp_path, monkeypatch, capsys):
    body = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    monkeypatch.setattr(runs, "CYCLE_NOTEBOOK", cycle_notebook_that(tmp_path, body))
    out = tmp_path / "reports"
    code = main(run_args(out, "--run-timeout", "120"))
    stderr = capsys.readouterr().err
    print(f"\nkilled kernel: exit {code}; stderr tail: {stderr.strip().splitlines()[-1][:200]}")
    assert code == 1
    assert stderr.count("retrying once (attempt 2 of 2)") == 1
    assert "the kernel died on each of 2 attempts" in stderr
    assert len(list((out / "Q1-2025-demand-generation").glob("*.failed-*"))) == 2
    with History.at(out) as history:
        runs_recorded = history.list_runs()
    assert list(runs_recorded["status"]) == ["failed", "failed"]
    assert all("DeadKernelError" in e for e in runs_recorded["error"])


@pytest.mark.parametrize("body,error", [("raise ValueError('bad cell')", "ValueError")])
def test_a_failing_cell_is_not_retried(tmp_path, monkeypatch, capsys, body, error):
    monkeypatch.setattr(runs, "CYCLE_NOTEBOOK", cycle_notebook_that(tmp_path, body))
    assert main(run_args(tmp_path / "reports")) == 1
    stderr = capsys.readouterr().err
    assert error in stderr and "retrying" not in stderr
