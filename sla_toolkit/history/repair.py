"""Finish the ledger rows of runs that died (SIGKILL, power loss) without recording their outcome.

A run records ``started`` with the folder its report will go to, and writes its ledger id into
``run.log``. When such a run is found still ``started`` while nobody holds its cycle's lock, it is dead:

- if the cycle folder holds a ``run.log`` naming it and a ``results.json``, it committed its report before
  dying and is recorded ``completed`` from that report;
- otherwise it is recorded ``failed`` as abandoned (its partial folder, if any, was moved to a
  ``.failed-...-interrupted`` folder by the folder recovery of :mod:`sla_toolkit.run.folder`).

Only call these functions while holding the cycle's lock (:class:`~sla_toolkit.run.folder.RunFolder`).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..run.folder import LOG_FILE
from .store import History

ABANDONED = ("abandoned: the run stopped without finishing (process killed or machine restarted); "
             "found by a later run of the same cycle")


def _committed_by(target: Path, run_id: str) -> bool:
    log = target / LOG_FILE
    if not (log.is_file() and (target / "results.json").is_file()):
        return False
    with log.open(encoding="utf-8", errors="replace") as handle:
        return f"history_run={run_id}" in handle.readline()


def repair_cycle(history: History, target: Path | str, keep_run_id: str | None = None) -> list[str]:
    """Finish every ``started`` run whose report goes to ``target`` (except ``keep_run_id``, the caller).

    Returns one line per run repaired, for the terminal and ``run.log``.
    """
    target, actions = Path(target), []
    for row in history.started_runs(target):
        run_id = row["run_id"]
        if run_id == keep_run_id:
            continue
        which = f"run {run_id[:8]} of {row['cycle_id']!r} (started {str(row['started_at'])[:16]} UTC)"
        if _committed_by(target, run_id):
            results = json.loads((target / "results.json").read_text(encoding="utf-8"))
            history.complete_run(run_id, results, target)
            actions.append(f"ledger: {which} had committed its report before it died; recorded as completed")
        else:
            history.fail_run(run_id, ABANDONED)
            actions.append(f"ledger: {which} died before finishing; recorded as failed (abandoned)")
    return actions


def repair_all(history: History) -> list[str]:
    """``sla-toolkit history --repair``: repair every cycle with a run left ``started``.

    A cycle is repaired only when its folder is on this machine and its lock is free (no run in
    progress); its leftover folders are repaired first, as the next run would.
    """
    from ..run.folder import CycleLockedError, RunFolder

    lines, seen = [], set()
    for row in history.started_runs():
        target = row["run_dir"]
        if target is None:
            lines.append(f"run {row['run_id'][:8]} of {row['sla_name']!r} / {row['cycle_id']!r}: no report folder "
                         "recorded (an older version, or a pacing run); left 'started'")
            continue
        if target in seen:
            continue
        seen.add(target)
        target = Path(target)
        if not target.parent.is_dir():
            lines.append(f"{target}: not on this machine; its runs are left 'started' (repair them there)")
            continue
        try:
            with RunFolder(target.parent.parent, target.parent.name, target.name).locked() as recovered:
                lines += [f"{target.parent.name}/{target.name}: {action}" for action in recovered]
                lines += repair_cycle(history, target)
        except CycleLockedError:
            lines.append(f"{target}: a run is in progress; left alone")
    return lines
