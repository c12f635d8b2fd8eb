"""The cycle history ledger on SQLite: schema, run transitions, transactions, cycle comparison, CLI and `run`.

``TestLedger`` runs against any SQLAlchemy URL: tests/integration/test_history_postgres.py runs the same
class against a throwaway PostgreSQL server.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from sla_toolkit import cli
from sla_toolkit.datasets import example_paths
from sla_toolkit.errors import RunError
from sla_toolkit.history import (CAVEAT, SCHEMA_VERSION, AdjustmentOutcome, CheckTrend, History, HistoryError,
                                 HistoryLocation, compare_results, ensure_schema)
from sla_toolkit.history import schema
from sla_toolkit.pipeline import run_cycle
from sla_toolkit.run.notebooks import RunOutcome

SLA = "Acme inbound"


LABELS = {"rate lead->mql": "Lead → MQL conversion", "rate mql->sql": "MQL → SQL conversion",
          "kpi cost_per_lead": "Cost per lead"}


def _check(name, direction, target, estimate, low, high, status, n=400):
    return {"name": name, "target": target, "direction": direction, "estimate": estimate, "low": low,
            "high": high, "n": n, "status": status, "reason": f"{name}: {status}", "basis": "x", "code": "ok",
            "label": LABELS.get(name, "")}


def _finding(kind, topic, impact=-3.0):
    return {"kind": kind, "topic": topic, "sentence": f"{kind} {topic}.", "rule": "rule",
            "evidence": {"estimate": 0.2, "low": 0.1, "high": 0.3, "n": 120, "p_value": 0.001, "q_value": 0.01,
                         "unit": "rate"},
            "action": "act", "source": "s", "confidence": "medium", "impact_customers": impact}


def results_a() -> dict:
    """Cycle 2025-q1 by hand: the checks and findings below give the expected comparison with B."""
    return {"sla": SLA, "cycle_id": "2025-q1", "as_of": "2025-03-31T00:00:00",
            "checks": [_check("rate lead->mql", "at_least", 0.25, 0.20, 0.18, 0.22, "MISSED"),
                       _check("rate mql->sql", "at_least", 0.50, 0.45, 0.40, 0.50, "AT_RISK"),
                       _check("rate sql->customer", "at_least", 0.25, 0.30, 0.28, 0.32, "MET"),
                       _check("kpi cost_per_lead", "at_most", 50.0, 48.0, 46.0, 50.0, "MET"),
                       _check("volume customers", "at_least", 100.0, 90.0, 85.0, 95.0, "AT_RISK"),
                       _check("follow-up mql within 24h", "at_least", 0.9, None, None, None, "INSUFFICIENT_DATA")],
            "findings": {"items": [_finding("adjust", "check:rate lead->mql"),
                                   _finding("adjust", "breakdown:channel=social:lead->mql"),
                                   _finding("adjust", "cost:paid_search", impact=-7.5),
                                   _finding("adjust", "follow_up:response_time"),
                                   _finding("worked", "cost:email", impact=2.0)], "no_evidence": []},
            "next_cycle": {"yaml": "name: Acme inbound\n# next: 2025-q2\n", "changes": []}}


def results_b() -> dict:
    return {"sla": SLA, "cycle_id": "2025-q2", "as_of": "2025-06-30T00:00:00",
            "checks": [_check("rate lead->mql", "at_least", 0.25, 0.27, 0.25, 0.29, "MET"),       # verdict up
                       _check("rate mql->sql", "at_least", 0.50, 0.44, 0.39, 0.49, "AT_RISK"),    # overlaps
                       _check("rate sql->customer", "at_least", 0.25, 0.26, 0.25, 0.27, "MET"),   # wholly lower
                       _check("kpi cost_per_lead", "at_most", 50.0, 40.0, 38.0, 42.0, "MET"),     # wholly cheaper
                       _check("volume customers", "at_least", 100.0, 70.0, 65.0, 75.0, "MISSED"),  # verdict down
                       _check("follow-up mql within 24h", "at_least", 0.9, 0.93, 0.91, 0.95, "MET"),
                       _check("kpi cac", "at_most", 3000.0, 2500.0, 2000.0, 2900.0, "MET")],     # new check
            "findings": {"items": [_finding("adjust", "cost:paid_search", impact=-4.0),
                                   _finding("worked", "breakdown:channel=social:lead->mql", impact=1.0),
                                   _finding("watch", "follow_up:response_time"),
                                   _finding("adjust", "check:volume customers"),
                                   _finding("adjust", "cost:email")], "no_evidence": []},
            "next_cycle": {"yaml": "name: Acme inbound\n# next: 2025-q3\n", "changes": []}}


EXPECTED_TRENDS = {"rate lead->mql": CheckTrend.IMPROVED, "rate mql->sql": CheckTrend.NO_CLEAR_CHANGE,
                   "rate sql->customer": CheckTrend.WORSENED, "kpi cost_per_lead": CheckTrend.IMPROVED,
                   "volume customers": CheckTrend.WORSENED, "follow-up mql within 24h": CheckTrend.NOT_COMPARABLE,
                   "kpi cac": CheckTrend.NOT_COMPARABLE}
EXPECTED_RESOLVED = ("check:rate lead->mql", "breakdown:channel=social:lead->mql", "follow_up:response_time")
EXPECTED_PERSISTING = ("cost:paid_search",)
EXPECTED_NEW = ("check:volume customers", "cost:email")


def record(history: History, results: dict, run_dir: str = "/reports/acme/x") -> str:
    run_id = history.start_run(results["sla"], results["cycle_id"], sla_slug="acme-inbound")
    history.complete_run(run_id, results, run_dir)
    return run_id


def table_counts(history: History, run_id: str) -> dict[str, int]:
    with history.engine.connect() as connection:
        return {t.name: connection.execute(sa.select(sa.func.count()).select_from(t)
                                           .where(t.c.run_id == run_id)).scalar()
                for t in (schema.checks, schema.findings, schema.proposals)}


class TestLedger:
    """The ledger's contract; ``url`` is overridden to run it on PostgreSQL."""

    @pytest.fixture
    def url(self, tmp_path) -> str:
        return f"sqlite:///{tmp_path / 'history.sqlite'}"

    @pytest.fixture
    def history(self, url):
        with History(HistoryLocation(url, "test ledger")) as ledger:
            yield ledger

    def test_schema_creation_is_idempotent(self, history):
        assert ensure_schema(history.engine) == SCHEMA_VERSION
        run_id = history.start_run(SLA, "2025-q1")
        assert ensure_schema(history.engine) == SCHEMA_VERSION
        assert ensure_schema(history.engine) == SCHEMA_VERSION
        with history.engine.connect() as connection:
            versions = connection.execute(sa.select(schema.schema_version.c.version)).scalars().all()
        assert versions == [SCHEMA_VERSION]
        assert {"runs", "checks", "findings", "proposals", "schema_version"} <= set(
            sa.inspect(history.engine).get_table_names())
        assert history.list_runs()["run_id"].tolist() == [run_id]

    def test_a_version_1_ledger_gains_check_labels(self, url):
        engine = sa.create_engine(url)
        with engine.begin() as connection:   # the version-1 checks table: no label column
            connection.execute(sa.text("CREATE TABLE checks (id INTEGER PRIMARY KEY, run_id VARCHAR(32), "
                                       "name VARCHAR(300) NOT NULL, target FLOAT, direction VARCHAR(16), "
                                       "estimate FLOAT, low FLOAT, high FLOAT, n BIGINT, status VARCHAR(32), "
                                       "reason TEXT)"))
            connection.execute(sa.text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at "
                                       "TIMESTAMP NOT NULL)"))
            connection.execute(sa.text("INSERT INTO schema_version VALUES (1, '2025-01-01 00:00:00')"))
            connection.execute(sa.text("INSERT INTO checks (id, run_id, name, status) VALUES (1, 'old', 'rate a->b', 'MET')"))
        assert ensure_schema(engine) == SCHEMA_VERSION == 2
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT name, label FROM checks")).all()
        assert rows == [("rate a->b", None)]
        engine.dispose()

    def test_a_newer_schema_is_refused(self, history):
        ensure_schema(history.engine)
        with history.engine.begin() as connection:
            connection.execute(schema.schema_version.insert().values(version=SCHEMA_VERSION + 1,
                                                                     applied_at=dt.datetime(2030, 1, 1)))
        with pytest.raises(HistoryError, match=f"schema version {SCHEMA_VERSION + 1}, newer than"):
            ensure_schema(history.engine)

    def test_started_then_completed(self, history):
        run_id = history.start_run(SLA, "2025-q1", sla_slug="acme-inbound")
        (started,) = history.list_runs().to_dict("records")
        assert (started["status"], started["kind"], started["cycle_id"]) == ("started", "cycle", "2025-q1")
        assert pd.isna(started["finished_at"]) and pd.isna(started["as_of"])
        history.complete_run(run_id, results_a(), "/reports/acme-inbound/2025-q1")
        (done,) = history.list_runs("acme-inbound").to_dict("records")   # the folder name finds it too
        assert done["status"] == "completed" and pd.isna(done["error"])
        assert done["as_of"] == dt.datetime(2025, 3, 31) and done["finished_at"] >= done["started_at"]
        assert done["run_dir"] == "/reports/acme-inbound/2025-q1"
        checks, found = history.run_rows(run_id)
        assert [c["name"] for c in checks] == [c["name"] for c in results_a()["checks"]]
        assert checks[1] == {"name": "rate mql->sql", "label": "MQL → SQL conversion", "target": 0.5, "direction": "at_least", "estimate": 0.45,
                             "low": 0.40, "high": 0.50, "n": 400, "status": "AT_RISK",
                             "reason": "rate mql->sql: AT_RISK"}
        assert checks[5]["estimate"] is None and checks[5]["status"] == "INSUFFICIENT_DATA"
        assert found[2] == {"topic": "cost:paid_search", "kind": "adjust", "rule": "rule",
                            "sentence": "adjust cost:paid_search.", "estimate": 0.2, "low": 0.1, "high": 0.3,
                            "p_value": 0.001, "q_value": 0.01, "n": 120, "impact": -7.5}
        assert history.proposal(run_id) == results_a()["next_cycle"]["yaml"]

    def test_started_then_failed_keeps_the_error_and_no_rows(self, history):
        run_id = history.start_run(SLA, "2025-q1")
        history.fail_run(run_id, "NotebookRunError: cell 7 failed", "/reports/acme/2025-q1.failed-20250401T000000Z")
        (failed,) = history.list_runs(SLA).to_dict("records")
        assert (failed["status"], failed["error"]) == ("failed", "NotebookRunError: cell 7 failed")
        assert failed["run_dir"].endswith(".failed-20250401T000000Z")
        assert table_counts(history, run_id) == {"checks": 0, "findings": 0, "proposals": 0}

    def test_a_finished_run_cannot_change_status(self, history):
        run_id = record(history, results_a())
        with pytest.raises(HistoryError, match="cannot be finished: it is 'completed', not 'started'"):
            history.fail_run(run_id, "late failure")
        with pytest.raises(HistoryError, match="not in the history"):
            history.complete_run("0" * 32, results_a())
        assert history.list_runs()["status"].tolist() == ["completed"]
        assert table_counts(history, run_id) == {"checks": 6, "findings": 5, "proposals": 1}

    def test_a_row_the_database_rejects_leaves_no_partial_rows(self, history):
        run_id = history.start_run(SLA, "2025-q1")
        broken = results_a()
        del broken["findings"]["items"][3]["topic"]   # NOT NULL violated after the checks went in
        with pytest.raises(sa.exc.IntegrityError):
            history.complete_run(run_id, broken)
        assert history.list_runs()["status"].tolist() == ["started"]
        assert table_counts(history, run_id) == {"checks": 0, "findings": 0, "proposals": 0}
        history.complete_run(run_id, results_a())          # the run can still be completed afterwards
        assert table_counts(history, run_id) == {"checks": 6, "findings": 5, "proposals": 1}

    def test_a_failure_mid_transaction_leaves_no_partial_rows(self, history, monkeypatch):
        run_id = history.start_run(SLA, "2025-q1")

        def disk_full(results):
            raise OSError("disk full")

        monkeypatch.setattr("sla_toolkit.history.store.finding_rows", disk_full)  # after status + checks
        with pytest.raises(OSError, match="disk full"):
            history.complete_run(run_id, results_a(), "/reports/x")
        (row,) = history.list_runs().to_dict("records")
        assert row["status"] == "started" and pd.isna(row["run_dir"]) and pd.isna(row["as_of"])
        assert table_counts(history, run_id) == {"checks": 0, "findings": 0, "proposals": 0}

    def test_compare_cycles_by_hand(self, history):
        record(history, results_a())
        record(history, results_b())
        comparison = history.compare_cycles(SLA, "2025-q1", "2025-q2")
        assert {c.name: c.trend for c in comparison.checks} == EXPECTED_TRENDS
        assert comparison.improved == ("rate lead->mql", "kpi cost_per_lead")
        assert comparison.worsened == ("rate sql->customer", "volume customers")
        assert (comparison.resolved, comparison.persisting, comparison.new) == (
            EXPECTED_RESOLVED, EXPECTED_PERSISTING, EXPECTED_NEW)
        follow = {a.topic: a for a in comparison.adjustments}
        assert follow["breakdown:channel=social:lead->mql"].kind_in_b == "worked"
        assert follow["follow_up:response_time"].kind_in_b == "watch"
        assert follow["check:rate lead->mql"].kind_in_b is None
        assert (follow["cost:paid_search"].impact_a, follow["cost:paid_search"].impact_b) == (-7.5, -4.0)
        assert comparison.to_dict() == compare_results(results_a(), results_b()).to_dict() | {
            "run_a": comparison.run_a, "run_b": comparison.run_b}

    def test_the_latest_completed_run_of_a_cycle_is_compared(self, history):
        record(history, results_a())
        rerun = results_a()
        rerun["checks"][0] = _check("rate lead->mql", "at_least", 0.25, 0.30, 0.28, 0.32, "MET")
        record(history, rerun)
        history.fail_run(history.start_run(SLA, "2025-q1"), "a later failed re-run is not compared")
        record(history, results_b())
        comparison = history.compare_cycles(SLA, "2025-q1", "2025-q2")
        assert comparison.checks[0].status_a == "MET" and comparison.checks[0].trend is CheckTrend.NO_CLEAR_CHANGE

    def test_previous_completed_run_follows_the_cut_off_dates(self, history):
        assert history.previous_completed_run(SLA, "2025-q1") is None
        first = record(history, results_a())
        assert history.previous_completed_run(SLA, "2025-q1") is None
        second = record(history, results_b())
        assert history.previous_completed_run(SLA, "2025-q2").run_id == first
        assert history.previous_completed_run(SLA, "2025-q1") is None
        assert history.previous_completed_run(SLA, "2025-q3").run_id == second   # a cycle in progress
        history.start_run(SLA, "2025-q3")
        assert history.previous_completed_run("acme-inbound", "2025-q3").run_id == second

    def test_unknown_sla_and_cycle_say_what_is_known(self, history):
        record(history, results_a())
        with pytest.raises(HistoryError, match=r"SLA 'Nope' has no runs .* SLAs recorded: \['Acme inbound'\]"):
            history.list_runs("Nope")
        with pytest.raises(HistoryError, match="SLA 'Nope' has no runs"):
            history.compare_cycles("Nope", "2025-q1", "2025-q2")
        with pytest.raises(HistoryError, match=r"cycle '2025-q9' .* completed cycles: \['2025-q1'\]"):
            history.compare_cycles(SLA, "2025-q1", "2025-q9")


def test_check_trend_rules():
    a = _check("c", "at_least", 0.5, 0.45, 0.40, 0.50, "AT_RISK")
    assert compare_results({"checks": [a]}, {"checks": [a]}).checks[0].trend is CheckTrend.NO_CLEAR_CHANGE
    for status, trend in (("MET", CheckTrend.IMPROVED), ("MISSED", CheckTrend.WORSENED),
                          ("NOT_APPLICABLE", CheckTrend.NOT_COMPARABLE)):
        b = _check("c", "at_least", 0.5, 0.45, 0.40, 0.50, status)
        assert compare_results({"checks": [a]}, {"checks": [b]}).checks[0].trend is trend
    touching = _check("c", "at_least", 0.5, 0.55, 0.50, 0.60, "AT_RISK")   # shares the bound 0.50: no clear change
    assert compare_results({"checks": [a]}, {"checks": [touching]}).checks[0].trend is CheckTrend.NO_CLEAR_CHANGE


def test_comparison_renders_and_words_it_as_association():
    comparison = compare_results(results_a(), results_b())
    assert CAVEAT in comparison.summary and "not proof" in CAVEAT
    assert comparison.summary.startswith("From 2025-q1 to 2025-q2: 2 of 7 SLA checks improved, 2 worsened. "
                                         "Of the 4 adjustments flagged in 2025-q1: 3 no longer flagged in "
                                         "2025-q2, 1 still flagged; 2 new in 2025-q2.")
    frame = comparison.to_frame()
    assert frame.set_index("name").loc["kpi cost_per_lead", ["estimate_a", "estimate_b", "trend"]].tolist() == [
        48.0, 40.0, "improved"]
    assert comparison.adjustments_frame()["outcome"].value_counts().to_dict() == {
        "resolved": 3, "new": 2, "persisting": 1}
    assert "<table" in comparison._repr_html_() and "not proof" in comparison._repr_html_()
    assert json.loads(json.dumps(comparison.to_dict()))["resolved"] == list(EXPECTED_RESOLVED)
    assert AdjustmentOutcome.RESOLVED.value == "resolved"


# -- command line ----------------------------------------------------------------------------------------
@pytest.fixture
def reports(tmp_path) -> Path:
    with History.at(tmp_path) as history:
        record(history, results_a())
        record(history, results_b())
        history.fail_run(history.start_run(SLA, "2025-q3", sla_slug="acme-inbound"), "RunError: cell 3 failed")
    return tmp_path


def test_cli_lists_runs(reports, capsys):
    assert cli.main(["history", "--out", str(reports)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["started", "(UTC)", "sla", "cycle", "kind"]
    assert [line.split()[4:7] for line in lines[1:]] == [["2025-q1", "cycle", "completed"],
                                                         ["2025-q2", "cycle", "completed"],
                                                         ["2025-q3", "cycle", "failed"]]
    assert lines[3].endswith("RunError: cell 3 failed")
    assert cli.main(["history", "--out", str(reports), "--sla-name", "acme-inbound"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_cli_compares_two_cycles(reports, capsys):
    assert cli.main(["history", "--out", str(reports), "--sla-name", SLA, "--compare", "2025-q1", "2025-q2"]) == 0
    out = capsys.readouterr().out
    assert "Lead → MQL conversion" in out and "(improved)" in out and "not proof" in out
    assert "rate lead->mql " not in out                       # the check's label, not its internal name
    assert "  - adjust cost:paid_search." in out.split("still flagged in 2025-q2:\n")[1]
    resolved = out.split("no longer flagged in 2025-q2:\n")[1].split("\n\n")[0].splitlines()
    expected = ["  - adjust check:rate lead->mql.",               # the finding's sentence, not its topic id
                "  - worked breakdown:channel=social:lead->mql. (now: worked)",
                "  - watch follow_up:response_time. (now: watch)"]
    assert resolved == expected


@pytest.mark.parametrize("arguments, message", [
    (["--sla-name", SLA, "--compare", "2025-q1", "2025-q7"], "cycle '2025-q7' of 'Acme inbound' has no completed"),
    (["--sla-name", SLA, "--compare", "2025-q1", "2025-q3"], "cycle '2025-q3' of 'Acme inbound' has no completed"),
    (["--sla-name", "Other SLA"], "SLA 'Other SLA' has no runs in the history"),
    (["--compare", "2025-q1", "2025-q2"], "--compare needs --sla-name"),
    (["--history-env", "SLA_TEST_UNSET_VARIABLE"], "SLA_TEST_UNSET_VARIABLE (named by --history-env) is not set"),
])
def test_cli_bad_history_requests_exit_2(reports, capsys, arguments, message):
    assert cli.main(["history", "--out", str(reports), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_cli_without_a_history_exits_2_and_creates_nothing(tmp_path, capsys):
    assert cli.main(["history", "--out", str(tmp_path / "reports")]) == 2
    assert "no history at" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_the_environment_variable_wins_over_the_default_file(reports, tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "team"
    elsewhere.mkdir()
    monkeypatch.setenv("SLA_TEAM_LEDGER", f"sqlite:///{reports / 'history.sqlite'}")
    assert cli.main(["history", "--out", str(elsewhere), "--history-env", "SLA_TEAM_LEDGER"]) == 0
    assert "2025-q2" in capsys.readouterr().out
    monkeypatch.setenv("SLA_HISTORY_URL", f"sqlite:///{reports / 'history.sqlite'}")
    assert cli.main(["history", "--out", str(elsewhere)]) == 0
    assert "2025-q2" in capsys.readouterr().out


# -- `sla-toolkit run` records its runs (notebooks replaced by the pipeline's results) ------------------
@pytest.fixture(scope="module")
def cycle_results() -> dict[str, dict]:
    sample = example_paths()
    return {as_of: run_cycle(sample.sla, sample.source, as_of=as_of, with_models=False).to_dict()
            for as_of in ("2025-02-28", "2025-03-23")}


class _NoKernel:
    """Stands in for the warm kernel where the notebook run is faked: nothing to start, draw or shut down."""

    def start(self) -> None:
        pass

    def predraw(self, results) -> None:
        pass

    def shutdown(self) -> None:
        pass


@pytest.fixture
def fake_notebooks(monkeypatch, cycle_results):
    """Replace the notebook run by one that commits a folder holding the pipeline's results.json."""
    monkeypatch.setattr("sla_toolkit.run.cycle.WarmKernel", _NoKernel)

    def run(plan, kernel=None):
        folder = plan.out_root.resolve() / plan.sla_slug / plan.cycle_id
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(cycle_results[plan.cycle_id]), encoding="utf-8")
        return RunOutcome(run_dir=folder, report_html=folder / "report.html", notebooks={}, extra_files={},
                          run_log=folder / "run.log", durations_s={})

    monkeypatch.setattr("sla_toolkit.run.cycle.run_notebooks", run)
    return run


NO_MODELS = ("-p", "fit_models=false")   # the ledger is under test, and the fixture's results have no models


def _run_sample(out: Path, as_of: str, *extra: str) -> int:
    sample = example_paths()
    return cli.main(["run", "--sla", str(sample.sla), "--source", str(sample.source), "--out", str(out),
                     "--as-of", as_of, *extra])


def test_run_records_completed_cycles_that_compare(fake_notebooks, cycle_results, tmp_path, capsys):
    assert _run_sample(tmp_path, "2025-02-28", *NO_MODELS) == 0
    assert _run_sample(tmp_path, "2025-03-23", *NO_MODELS) == 0
    with History.at(tmp_path, must_exist=True) as history:
        runs = history.list_runs()
        assert runs["status"].tolist() == ["completed", "completed"]
        assert runs["as_of"].dt.strftime("%Y-%m-%d").tolist() == ["2025-02-28", "2025-03-23"]
        later = cycle_results["2025-03-23"]
        checks, found = history.run_rows(runs["run_id"].iloc[1])
        assert [(c["name"], c["status"]) for c in checks] == [(c["name"], c["status"]) for c in later["checks"]]
        assert [f["topic"] for f in found] == [f["topic"] for f in later["findings"]["items"]]
        assert history.proposal(runs["run_id"].iloc[1]) == later["next_cycle"]["yaml"]
        comparison = history.compare_cycles(later["sla"], "2025-02-28", "2025-03-23")
    adjust = {as_of: {f["topic"] for f in r["findings"]["items"] if f["kind"] == "adjust"}
              for as_of, r in cycle_results.items()}
    assert set(comparison.resolved) == adjust["2025-02-28"] - adjust["2025-03-23"]
    assert set(comparison.persisting) == adjust["2025-02-28"] & adjust["2025-03-23"]
    assert set(comparison.new) == adjust["2025-03-23"] - adjust["2025-02-28"]
    assert "warning" not in capsys.readouterr().err


def test_a_failed_run_is_recorded_as_failed_with_its_exit_code(monkeypatch, tmp_path, capsys):
    def broken(plan, kernel=None):
        error = RunError("notebook cycle_report failed at cell 4: ValueError: boom")
        error.failure_dir = plan.out_root / plan.sla_slug / f"{plan.cycle_id}.failed-20250301T000000Z"
        raise error

    monkeypatch.setattr("sla_toolkit.run.cycle.run_notebooks", broken)
    monkeypatch.setattr("sla_toolkit.run.cycle.WarmKernel", _NoKernel)
    assert _run_sample(tmp_path, "2025-02-28", *NO_MODELS) == 1
    with History.at(tmp_path) as history:
        (row,) = history.list_runs().to_dict("records")
    assert (row["status"], row["cycle_id"]) == ("failed", "2025-02-28")
    assert row["error"] == "RunError: notebook cycle_report failed at cell 4: ValueError: boom"
    assert row["run_dir"].endswith("2025-02-28.failed-20250301T000000Z")


def test_bad_input_is_refused_before_anything_is_recorded(fake_notebooks, tmp_path, capsys):
    assert _run_sample(tmp_path, "2025-02-28", "-p", "no_such_parameter=1") == 2
    assert not (tmp_path / "history.sqlite").exists()


@pytest.mark.parametrize("variable, value, message", [
    ("SLA_TEST_UNSET_VARIABLE", None, "SLA_TEST_UNSET_VARIABLE (named by --history-env) is not set"),
    ("SLA_TEST_LEDGER", "not a url", "SLA_TEST_LEDGER does not hold a database URL"),
    ("SLA_TEST_LEDGER", "nosuchdb://h/db", "cannot use this URL (NoSuchModuleError: Can't load plugin"),
])
def test_bad_history_settings_refuse_the_run_before_it_starts(fake_notebooks, tmp_path, monkeypatch, capsys,
                                                              variable, value, message):
    if value is not None:
        monkeypatch.setenv(variable, value)
    assert _run_sample(tmp_path, "2025-02-28", "--history-env", variable) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_never_shows_its_password(reports, monkeypatch, capsys):
    monkeypatch.setenv("SLA_HISTORY_URL", "postgresql+psycopg://ledger:s3cret@127.0.0.1:1/ledger")
    assert cli.main(["history", "--out", str(reports)]) == 1
    err = capsys.readouterr().err
    assert "postgresql+psycopg://ledger:***@127.0.0.1:1/ledger (from $SLA_HISTORY_URL) could not be read" in err
    assert "s3cret" not in err


def test_a_history_that_cannot_be_written_only_warns(fake_notebooks, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SLA_HISTORY_URL", f"sqlite:///{tmp_path / 'missing-folder' / 'history.sqlite'}")
    assert _run_sample(tmp_path, "2025-02-28", *NO_MODELS) == 0
    err = capsys.readouterr().err
    assert "sla-toolkit: warning: history: could not record the start of the run" in err
    assert "the run goes on without history" in err and "missing-folder" in err
    assert json.loads((tmp_path / "Q1-2025-demand-generation" / "2025-02-28" / "results.json").read_text())


def test_results_that_cannot_be_recorded_leave_the_report_and_a_failed_row(fake_notebooks, tmp_path, monkeypatch,
                                                                            capsys):
    def refuse(self, run_id, results, run_dir=None):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(History, "complete_run", refuse)
    assert _run_sample(tmp_path, "2025-03-23", *NO_MODELS) == 0
    err = capsys.readouterr().err
    assert "the run completed (report in" in err and "but its results were not recorded" in err
    folder = tmp_path / "Q1-2025-demand-generation" / "2025-03-23"
    assert (folder / "results.json").exists()
    with History.at(tmp_path) as history:
        (row,) = history.list_runs().to_dict("records")
    assert row["status"] == "failed" and row["error"].startswith(f"run completed (report in {folder})")


def test_a_real_run_records_its_completed_cycle(tmp_path, capsys):
    """The real notebooks (models off to keep it short) end with a completed run in the default ledger."""
    started = time.monotonic()
    assert _run_sample(tmp_path, "2025-03-23", "-p", "fit_models=false") == 0
    with History.at(tmp_path, must_exist=True) as history:
        (row,) = history.list_runs().to_dict("records")
        saved = json.loads((Path(row["run_dir"]) / "results.json").read_text())
        checks, _ = history.run_rows(row["run_id"])
    assert (row["status"], row["cycle_id"], row["sla_name"]) == ("completed", "2025-03-23", saved["sla"])
    assert [c["estimate"] for c in checks] == [c["estimate"] for c in saved["checks"]]
    print(f"real run with history: {time.monotonic() - started:.1f} s")
