"""Kill `sla-toolkit run` (SIGKILL and SIGTERM) at each of the six points of its commit sequence.

The points (sla_toolkit.termination.FAULT_POINTS), in the order a run passes them:
``locked`` (lock held, ledger row started) · ``executed`` (notebooks done) · ``exported`` (report.html and
extras written, nothing moved yet) · ``aside`` (previous report renamed aside) · ``swapped`` (new report
renamed in, previous not yet deleted) · ``committed`` (previous deleted, ledger not yet told).

After each kill: the cycle folder holds a complete report, byte for byte the previous one when the
kill came before the swap; the next run repairs what is left and succeeds; no run stays ``started``.
Runs use the tiny fixture notebook executed in-process (tests/notebooks/tiny_cli.py) so that each case
takes seconds; the folders, lock, ledger, signal handling and exit codes are the real ones.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sla_toolkit.history import History
from sla_toolkit.termination import EXIT_TERMINATED, FAULT_ENV, FAULT_POINTS
from test_run_folders import CYCLE, campaign, digest
from tiny_cli import main as tiny_main

TINY_CLI = Path(__file__).resolve().parent / "tiny_cli.py"
NAME = "Inbound"
# where a kill leaves the cycle folder: the previous report, or the new one once the swap has happened
# (SIGTERM during the two renames waits for both, so at "aside" it already finds the new report in place)
NEW_REPORT_AFTER = {"SIGKILL": {"swapped", "committed"}, "SIGTERM": {"aside", "swapped", "committed"}}


def _argv(sla: Path, out: Path, cycle: str = CYCLE) -> list[str]:
    return ["run", "--sla", str(sla), "--source", str(sla.with_name("source.yaml")), "--out", str(out),
            "--cycle-id", cycle]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict:
    """A reports folder with one good run of CYCLE and one of an earlier cycle."""
    root = tmp_path_factory.mktemp("fault")
    sla = campaign(root / "campaign", NAME)
    out = root / "reports"
    assert tiny_main(_argv(sla, out, "2024-q3"), in_process=True) == 0
    assert tiny_main(_argv(sla, out), in_process=True) == 0
    return {"sla": sla, "out": out}


def _runs(out: Path):
    with History.at(out) as history:
        return history.list_runs()


def _leftovers(sla_dir: Path) -> list[str]:
    return sorted(p.name for p in sla_dir.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("point", FAULT_POINTS)
def test_kill_at_each_point_of_the_commit_sequence(baseline, tmp_path, capfd, point, signal_name):
    out = tmp_path / "reports"
    shutil.copytree(baseline["out"], out)
    sla, sla_dir = baseline["sla"], out / NAME
    previous, earlier = digest(sla_dir / CYCLE), digest(sla_dir / "2024-q3")
    env = {**os.environ, FAULT_ENV: f"{point}:{signal_name}", "TINY_CLI_IN_PROCESS": "1"}
    killed = subprocess.run([sys.executable, str(TINY_CLI), *_argv(sla, out)], env=env, capture_output=True,
                            text=True, timeout=300)

    if signal_name == "SIGKILL":
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        if point == "aside":   # died between the renames: the previous report waits, intact, beside
            (old,) = [p for p in sla_dir.iterdir() if ".old-" in p.name]
            assert digest(old) == previous and not (sla_dir / CYCLE).exists()
    else:
        assert killed.returncode == EXIT_TERMINATED, killed.stderr
        assert "sla-toolkit: terminated (SIGTERM)" in killed.stderr and "Traceback" not in killed.stderr
        assert _leftovers(sla_dir) == []
        assert "started" not in set(_runs(out)["status"])
    new_report = point in NEW_REPORT_AFTER[signal_name]
    if signal_name == "SIGTERM" or point != "aside":
        assert (digest(sla_dir / CYCLE) == previous) is not new_report
    killed_row = _runs(out).iloc[-1]

    capfd.readouterr()
    assert tiny_main(_argv(sla, out), in_process=True) == 0   # the next run repairs and succeeds
    err = capfd.readouterr().err
    runs = _runs(out)
    assert "started" not in set(runs["status"])
    assert digest(sla_dir / "2024-q3") == earlier
    assert _leftovers(sla_dir) == []
    row = runs.set_index("run_id").loc[killed_row["run_id"]]
    assert row["status"] == ("completed" if new_report else "failed")
    if signal_name == "SIGKILL":
        assert "sla-toolkit: recovered: ledger: run " in err
        assert ("recorded as completed" if new_report else "recorded as failed (abandoned)") in err
        if not new_report:
            assert row["error"].startswith("abandoned")
    else:
        assert row["error"] is None if new_report else row["error"].startswith("Terminated")


def test_history_repair_after_a_kill(baseline, tmp_path, capsys):
    out = tmp_path / "reports"
    shutil.copytree(baseline["out"], out)
    sla_dir = out / NAME
    previous = digest(sla_dir / CYCLE)
    env = {**os.environ, FAULT_ENV: "aside:SIGKILL", "TINY_CLI_IN_PROCESS": "1"}
    subprocess.run([sys.executable, str(TINY_CLI), *_argv(baseline["sla"], out)], env=env, timeout=300,
                   capture_output=True)
    assert "started" in set(_runs(out)["status"])
    capsys.readouterr()
    assert tiny_main(["history", "--repair", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{NAME}/{CYCLE}: restored .{CYCLE}.old-" in printed
    assert "died before finishing; recorded as failed (abandoned)" in printed
    assert digest(sla_dir / CYCLE) == previous
    assert "started" not in set(_runs(out)["status"])
    assert tiny_main(["history", "--repair", "--out", str(out)]) == 0
    assert "nothing to repair" in capsys.readouterr().out
