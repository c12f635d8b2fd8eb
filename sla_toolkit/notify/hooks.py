"""The command line's side of notifications: build the notice of each command, send it, set the exit code.

A scheduled run must tell people what the run machinery had to repair before it could start (a stale
lock, an abandoned run, a half-finished swap): those lines of ``run.log`` travel with the notice.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .config import NotifySettings, load_notify
from .dispatch import DispatchReport, dispatch, exit_code_after
from .message import Notice, failure_notice

_REPAIR_LINE = re.compile(r"^\S+ (recovered: .*)$")   # RunLog lines: "<UTC stamp> recovered: <action>"


def repair_facts(run_log: Path | None) -> list[str]:
    """The ``recovered:`` lines of a ``run.log``: what the run repaired before it started (a swap left half
    done, runs of the cycle that died and were left ``started`` in the ledger), without their timestamps."""
    if run_log is None or not Path(run_log).is_file():
        return []
    lines = Path(run_log).read_text(encoding="utf-8", errors="replace").splitlines()
    return [match.group(1).strip() for line in lines if (match := _REPAIR_LINE.match(line))]


def digest_notice(run) -> Notice:
    """From a :class:`~sla_toolkit.digest.DigestRun`: its text and Markdown, the HTML attached."""
    pacing = run.digest.marketing.pacing
    title = f"{run.digest.sla}: daily digest {run.digest.as_of:%Y-%m-%d} ({pacing.status.value})"
    return Notice(run.digest.sla, "digest", title, run.renderings["text"], run.renderings["markdown"],
                  run.renderings["html"], pacing.status.value, pacing.probability, report=run.paths.get("html"))


def pacing_notice(run) -> Notice:
    """From a :class:`~sla_toolkit.pacing_run.PacingRun`: the lines ``pace`` prints."""
    pacing = run.pacing
    text = run.text() + "\n"
    return Notice(run.spec.name, "pace", f"{run.spec.name}: pacing {run.as_of:%Y-%m-%d} ({pacing.status.value})",
                  text, text, status=pacing.status.value, probability=pacing.probability)


def cycle_notice(run_dir: Path, command: str = "run") -> Notice:
    """From a completed run folder: each check's status, pacing, and the report attached."""
    results = json.loads((Path(run_dir) / "results.json").read_text(encoding="utf-8"))
    sla_name = str(results.get("sla") or Path(run_dir).parent.name)
    checks = results.get("checks") or []
    missed = [c for c in checks if c.get("status") == "MISSED"]
    pacing = results.get("pacing") or {}
    lines = [f"{sla_name}: cycle report {results.get('cycle_id')} (as of {str(results.get('as_of'))[:10]})",
             f"{len(checks)} checks: " + ", ".join(f"{s} {sum(c.get('status') == s for c in checks)}"
                                                 for s in ("MET", "AT_RISK", "MISSED", "INSUFFICIENT_DATA")
                                                 if any(c.get("status") == s for c in checks))]
    lines += [f"MISSED: {c.get('name')}" for c in missed]
    probability = pacing.get("probability")
    if probability is not None:
        lines.append(f"Pacing: {pacing.get('status')}, P(reach target) {probability:.0%}")
    lines.append(f"Report: {Path(run_dir) / 'report.html'}")
    text = "\n".join(lines) + "\n"
    status = "MISSED" if missed else (pacing.get("status") or None)
    return Notice(sla_name, command, lines[0] + (" - SLA MISSED" if missed else ""), text, text, status=status,
                  probability=probability, report=Path(run_dir) / "report.html").with_facts(
        repair_facts(Path(run_dir) / "run.log"))


def batch_notice(result) -> Notice:
    """From a :class:`~sla_toolkit.batch.BatchResult`: the summary table; failed when any cycle failed."""
    text = result.summary() + "\n"
    title = (f"sla-toolkit batch: {len(result.outcomes) - len(result.failed)} completed, {len(result.failed)} failed, "
             f"{len(result.missed)} with an SLA missed")
    return Notice("batch", "batch", title, text, f"```\n{text}```\n", status="MISSED" if result.missed else None,
                  failed=bool(result.failed))


def sla_name_of(args) -> str:
    """The SLA's name for a failure notice (its file's folder when the spec itself cannot be read)."""
    sla = getattr(args, "sla", None)
    if not sla:
        return "sla-toolkit"
    try:
        from ..spec import load_spec

        return load_spec(sla).name
    except Exception:  # noqa: BLE001 - the spec may be what failed
        return Path(sla).resolve().parent.name or str(sla)


@dataclass
class CliNotifier:
    """Loaded from ``--notify FILE`` before the command runs; :meth:`finish` sends and returns the exit code."""

    settings: NotifySettings
    out: Path
    history_env: str | None = None

    @classmethod
    def from_args(cls, args) -> CliNotifier | None:
        path = getattr(args, "notify", None)
        if not path:
            return None
        return cls(load_notify(path), Path(getattr(args, "out", None) or "reports"), getattr(args, "history_env", None))

    def send(self, notice: Notice) -> DispatchReport:
        history = None
        try:
            from ..history import History

            history = History.at(self.out, self.history_env)
        except Exception as exc:  # noqa: BLE001 - notify even when the ledger is unusable
            print(f"sla-toolkit: warning: history: notifications not recorded: {exc}")
        try:
            return dispatch(notice, self.settings, log_dir=self.out, history=history)
        finally:
            if history is not None:
                history.close()

    def finish(self, args, code: int, error: BaseException | None) -> int:
        """Send the command's notice (or a failure notice) and return the exit code to use."""
        notice = getattr(args, "notice", None)
        if error is None and notice is None:
            return code   # the command had nothing to say (and did not fail)
        if error is not None or notice is None:
            failed = error if error is not None else RuntimeError(f"exit code {code}")
            notice = failure_notice(args.command, sla_name_of(args), failed)
            failure_dir = getattr(failed, "failure_dir", None)
            notice = notice.with_facts(repair_facts(Path(failure_dir) / "run.log" if failure_dir else None))
        return exit_code_after(code, self.send(notice), self.settings)
