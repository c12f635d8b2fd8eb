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


# -- a local ledger is written without SQLAlchemy, exactly as History writes it ------------------------------
import sqlite3  # noqa: E402

import pytest  # noqa: E402

from sla_toolkit.history import ensure_schema  # noqa: E402
from sla_toolkit.history import pacing_ledger  # noqa: E402
from sla_toolkit.history.pacing_ledger import PacingLedger  # noqa: E402
from sla_toolkit.history.trend import record_pacing  # noqa: E402
from sla_toolkit.pacing_run import run_pacing  # noqa: E402


@pytest.fixture(scope="module")
def pace_run():
    sample = example_paths()
    return run_pacing(sample.sla, sample.source, as_of="2025-03-10")


def _ledger(folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with History.at(folder) as history:
        ensure_schema(history.engine)


def _rows(folder, table: str, skip: tuple[str, ...]) -> list[dict]:
    connection = sqlite3.connect(folder / "history.sqlite")
    connection.row_factory = sqlite3.Row
    names = [row[1] for row in connection.execute(f"PRAGMA table_info({table})") if row[1] not in skip]
    listed = ", ".join(f"{n}, typeof({n}) AS {n}_type" for n in names)
    rows = [dict(row) for row in connection.execute(f"SELECT {listed} FROM {table}")]
    connection.close()
    return rows


def test_the_direct_sqlite_path_writes_what_history_writes(pace_run, tmp_path):
    by_history, direct = tmp_path / "history", tmp_path / "direct"
    with History.at(by_history) as history:
        record_pacing(history, pace_run, pytest.fail)
    _ledger(direct)
    ledger = PacingLedger.at(direct)
    ledger.record(pace_run, pytest.fail)
    assert ledger.history is None   # written with sqlite3: History (SQLAlchemy) never opened
    times = ("run_id", "started_at", "finished_at")
    assert _rows(direct, "runs", times) == _rows(by_history, "runs", times)
    assert _rows(direct, "checks", ("id", "run_id")) == _rows(by_history, "checks", ("id", "run_id"))
    for table in ("findings", "proposals", "run_inputs"):
        assert _rows(direct, table, ()) == _rows(by_history, table, ()) == []
    stamps = [{k: v for k, v in row.items() if k in times[1:]} for row in _rows(direct, "runs", ())]
    history_stamps = [{k: v for k, v in row.items() if k in times[1:]} for row in _rows(by_history, "runs", ())]
    assert [len(v) for s in stamps for v in s.values()] == [len(v) for s in history_stamps for v in s.values()]
    with History.at(direct) as history:   # and History reads it back like its own
        (run,) = history.list_runs().itertuples()
        assert (run.kind, run.status, run.cycle_id) == ("pacing", "completed", "2025-03-10")
        assert run.started_at <= run.finished_at and history.run_rows(run.run_id)[1] == []


def test_a_locked_local_ledger_only_warns_and_records_nothing(pace_run, tmp_path, monkeypatch):
    _ledger(tmp_path)
    monkeypatch.setattr(pacing_ledger, "SQLITE_BUSY_TIMEOUT_S", 0.05)
    warnings = []
    holder = sqlite3.connect(tmp_path / "history.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        PacingLedger.at(tmp_path).record(pace_run, warnings.append)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert warnings == [f"the pace run was not recorded in {tmp_path.resolve() / 'history.sqlite'}: "
                        "(sqlite3.OperationalError) database is locked"]
    with History.at(tmp_path) as history:
        assert history.list_runs().empty


def test_a_ledger_of_another_schema_version_goes_through_history(pace_run, tmp_path):
    _ledger(tmp_path)
    connection = sqlite3.connect(tmp_path / "history.sqlite")
    connection.execute("INSERT INTO schema_version VALUES (99, '2030-01-01 00:00:00.000000')")
    connection.commit()
    connection.close()
    warnings = []
    ledger = PacingLedger.at(tmp_path)
    ledger.record(pace_run, warnings.append)
    assert ledger.history is not None and len(warnings) == 1
    assert "schema version 99, newer than this sla_toolkit understands" in warnings[0]
