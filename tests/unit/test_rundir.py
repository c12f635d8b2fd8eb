"""The run folder: temporary beside the target, atomic swap, failed runs aside, lock, crash recovery."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sla_toolkit.errors import ParameterError, RunError
from sla_toolkit.run.folder import CycleLockedError, RunFolder, RunLog, check_path_component


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _good_run(out_root: Path, text: str) -> Path:
    with RunFolder(out_root, "acme", "2025-q1") as folder:
        (folder.path / "report.html").write_text(text)
        return folder.commit()


def test_path_components():
    assert check_path_component("2025-q1", "cycle id") == "2025-q1"
    for bad in ["../etc", "a/b", ".hidden", "", "a b"]:
        with pytest.raises(ParameterError, match="cannot be used as a folder name"):
            check_path_component(bad, "cycle id")
    for bad in ["x.failed-1", "c.lock", "q1.old-2", "q1.tmp-x"]:
        with pytest.raises(ParameterError, match="reserve for failed, previous and unfinished runs"):
            check_path_component(bad, "cycle id")
    with pytest.raises(ParameterError, match="is 101 characters long; use at most 100"):
        check_path_component("a" * 101, "cycle id")
    assert check_path_component("a" * 100, "cycle id") == "a" * 100


def test_commit_moves_the_finished_folder_into_place(tmp_path):
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        assert folder.path.parent == tmp_path / "acme" and folder.path.name.startswith(".2025-q1.tmp-")
        assert not (tmp_path / "acme" / "2025-q1").exists()
        (folder.path / "report.html").write_text("v1")
        final = folder.commit()
    assert final == tmp_path / "acme" / "2025-q1"
    assert (final / "report.html").read_text() == "v1"
    assert _names(tmp_path / "acme") == [".2025-q1.lock", "2025-q1"]


def test_commit_replaces_the_previous_run_and_leaves_nothing_behind(tmp_path):
    _good_run(tmp_path, "v1")
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        (folder.path / "other.txt").write_text("v2")
        folder.commit()
    assert _names(tmp_path / "acme" / "2025-q1") == ["other.txt"]
    assert _names(tmp_path / "acme") == [".2025-q1.lock", "2025-q1"]


def test_failed_run_goes_aside_and_good_run_is_untouched(tmp_path):
    good = _good_run(tmp_path, "good report")
    stat_before = (good / "report.html").stat()
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        (folder.path / "report.html").write_text("half a report")
        failed = folder.fail()
    assert failed.parent == tmp_path / "acme" and failed.name.startswith("2025-q1.failed-")
    assert (failed / "report.html").read_text() == "half a report"
    assert (good / "report.html").read_text() == "good report"
    assert (good / "report.html").stat().st_mtime_ns == stat_before.st_mtime_ns


def test_exception_in_block_moves_partial_folder_aside(tmp_path):
    _good_run(tmp_path, "good")
    with pytest.raises(KeyError):
        with RunFolder(tmp_path, "acme", "2025-q1") as folder:
            (folder.path / "partial.txt").write_text("x")
            raise KeyError("boom")
    failed = [p for p in (tmp_path / "acme").iterdir() if ".failed-" in p.name]
    assert len(failed) == 1 and _names(failed[0]) == ["partial.txt"]
    assert (tmp_path / "acme" / "2025-q1" / "report.html").read_text() == "good"


def test_two_failures_in_the_same_second_get_distinct_folders(tmp_path):
    failed = []
    for _ in range(2):
        with RunFolder(tmp_path, "acme", "2025-q1") as folder:
            failed.append(folder.fail())
    assert failed[0] != failed[1] and all(p.is_dir() for p in failed)


def test_block_left_without_commit_discards_the_folder(tmp_path):
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        (folder.path / "x").write_text("x")
    assert _names(tmp_path / "acme") == [".2025-q1.lock"]


def test_overlapping_run_of_the_same_cycle_is_refused(tmp_path):
    with RunFolder(tmp_path, "acme", "2025-q1"):
        with pytest.raises(CycleLockedError, match=rf"another run of cycle '2025-q1' of 'acme' is in progress "
                                                   rf"\(.*\"pid\": {os.getpid()}"):
            with RunFolder(tmp_path, "acme", "2025-q1"):
                pass
        with RunFolder(tmp_path, "acme", "2025-q2") as other_cycle:  # other cycles run in parallel
            other_cycle.commit()
    assert issubclass(CycleLockedError, RunError) and CycleLockedError.exit_code == 1
    with RunFolder(tmp_path, "acme", "2025-q1") as again:  # the lock was released
        again.commit()


def test_recovery_after_a_crash_between_the_two_renames(tmp_path):
    sla_dir = tmp_path / "acme"
    old = sla_dir / ".2025-q1.old-20250101T000000Z-123"
    old.mkdir(parents=True)
    (old / "report.html").write_text("last good")
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        assert folder.recovered == [f"restored {old.name} as 2025-q1"]
        assert (sla_dir / "2025-q1" / "report.html").read_text() == "last good"
    assert _names(sla_dir) == [".2025-q1.lock", "2025-q1"]


def test_recovery_after_a_crash_before_deleting_the_old_folder(tmp_path):
    _good_run(tmp_path, "new")
    old = tmp_path / "acme" / ".2025-q1.old-20250101T000000Z-123"
    old.mkdir()
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        assert folder.recovered == [f"deleted leftover {old.name}"]
    assert (tmp_path / "acme" / "2025-q1" / "report.html").read_text() == "new"
    assert not old.exists()


def test_recovery_keeps_an_interrupted_run_for_diagnosis(tmp_path):
    stale = tmp_path / "acme" / ".2025-q1.tmp-20250101T000000Z-123"
    stale.mkdir(parents=True)
    (stale / "cycle_report.ipynb").write_text("{}")
    with RunFolder(tmp_path, "acme", "2025-q1") as folder:
        assert len(folder.recovered) == 1 and "moved interrupted" in folder.recovered[0]
    interrupted = [p for p in (tmp_path / "acme").iterdir() if p.name.endswith("-interrupted")]
    assert len(interrupted) == 1
    assert _names(interrupted[0]) == ["cycle_report.ipynb", "failure.md"]
    assert "Run interrupted" in (interrupted[0] / "failure.md").read_text()


def test_run_log_lines_and_durations(tmp_path):
    log = RunLog(tmp_path / "run.log")
    log.start("acme", "2025-q1", tmp_path / "acme" / "2025-q1", recovered=["restored x as y"])
    durations: dict[str, float] = {}
    with log.timed("notebook a", durations):
        pass
    with pytest.raises(ValueError):
        with log.timed("notebook b", durations):
            raise ValueError
    lines = (tmp_path / "run.log").read_text().splitlines()
    assert "run start: sla=acme cycle=2025-q1" in lines[0]
    versions = json.loads(lines[1].split("versions: ", 1)[1])
    assert {"python", "pandas", "papermill", "nbconvert", "sla_toolkit"} <= set(versions)
    assert lines[2].endswith("recovered: restored x as y")
    assert "notebook a: done in" in lines[3] and "notebook b: failed in" in lines[4]
    assert set(durations) == {"notebook a", "notebook b"} and all(d >= 0 for d in durations.values())
