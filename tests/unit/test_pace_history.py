"""`sla-toolkit pace` runs are recorded in the history ledger, so the daily trend is kept."""
from __future__ import annotations

from sla_toolkit.cli import main
from sla_toolkit.datasets import example_paths
from sla_toolkit.history import History


def test_each_pace_run_is_a_completed_pacing_entry_with_its_projection(tmp_path):
    sample = example_paths()
    for day in ("2025-03-10", "2025-03-17"):
        assert main(["pace", "--sla", str(sample.sla), "--source", str(sample.source), "--as-of", day,
                     "--out", str(tmp_path)]) == 0
    with History.at(tmp_path) as history:
        runs = history.list_runs()
        assert list(runs["kind"]) == ["pacing", "pacing"] and list(runs["status"]) == ["completed"] * 2
        assert list(runs["cycle_id"]) == ["2025-03-10", "2025-03-17"]
        checks, findings = history.run_rows(runs["run_id"].iloc[-1])
    (check,) = checks
    assert check["name"] == "pacing customers by the deadline" and check["low"] <= check["estimate"] <= check["high"]
    assert findings == []
