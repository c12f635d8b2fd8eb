"""Plan and execute the notebook runs behind ``sla-toolkit run`` and ``demo``.

Input is checked before any kernel starts (spec, mapping, data, parameters: exit code 2);
the notebooks then run through :mod:`sla_toolkit.runner` into ``reports/<sla>/<cycle-id>/``, and the
run is recorded in the history ledger (:mod:`sla_toolkit.history`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .errors import ParameterError
from .bundled import notebook_path
from .history import History, recorded_run
from .history.recording import RunRecording
from .history.repair import repair_cycle
from .io import load_leads
from .io.mapping import load_mapping
from .parameters import inspect_parameters, parse_cli_parameters, read_parameters_file
from .runner import RunOutcome, RunPlan, run_notebooks
from .scope import resolve_as_of
from .spec import load_spec
from .termination import Terminated, deferred_termination, fault_point

CYCLE_NOTEBOOK = notebook_path("cycle_report")     # shipped in the package (sla_toolkit.bundled)
PACING_NOTEBOOK = notebook_path("daily_pacing")
DEFAULT_OUT = Path("reports")
RUNNER_OWNED = {"sla_path": "--sla", "source_path": "--source", "as_of": "--as-of", "cycle_id": "--cycle-id",
                "output_dir": "--out"}


@dataclass(frozen=True)
class CycleRunRequest:
    """What the user asked for on the command line."""

    sla: Path
    source: Path
    as_of: str | None = None
    out: Path = DEFAULT_OUT
    cycle_id: str | None = None
    extra_parameters: tuple[str, ...] = ()
    parameters_file: Path | None = None   # YAML mapping of notebook parameters (-f); -p values win
    timeout_s: float = 900.0
    notebook_timeout_s: float | None = None   # whole-notebook limit (None: none)
    run_timeout_s: float | None = None        # all notebooks together (None: none)
    progress: bool = True
    record_history: bool = True
    history_env: str | None = None   # variable holding the history URL (default SLA_HISTORY_URL, else SQLite)


def plan_cycle_run(request: CycleRunRequest) -> RunPlan:
    """Validate everything that can be validated without a kernel, and return the run plan."""
    spec = load_spec(request.sla)
    load_mapping(request.source)
    refuse_runner_owned([pair.partition("=")[0].strip() for pair in request.extra_parameters],
                        f"-p for {CYCLE_NOTEBOOK.name}")
    declared = inspect_parameters(CYCLE_NOTEBOOK)
    from_file = read_parameters_file(request.parameters_file, declared) if request.parameters_file else {}
    refuse_runner_owned(list(from_file), str(request.parameters_file))
    extra = {**from_file, **parse_cli_parameters(list(request.extra_parameters), declared,
                                                 origin=f"-p for {CYCLE_NOTEBOOK.name}")}
    data = load_leads(spec, request.source)
    cutoff = resolve_as_of(data, request.as_of)
    cycle_id = request.cycle_id or f"{cutoff:%Y-%m-%d}"
    common = {"sla_path": str(Path(request.sla).resolve()), "source_path": str(Path(request.source).resolve()),
              "as_of": request.as_of or "", "output_dir": "."}
    report_parameters = {**common, "cycle_id": cycle_id, **extra}
    return RunPlan(
        notebooks=(("cycle_report", CYCLE_NOTEBOOK, report_parameters), ("daily_pacing", PACING_NOTEBOOK, common)),
        out_root=Path(request.out), sla_slug=spec.slug, cycle_id=cycle_id, timeout_s=request.timeout_s,
        report_notebook="cycle_report", report_title=f"SLA report: {spec.name} ({cycle_id})",
        progress=request.progress, notebook_timeout_s=request.notebook_timeout_s, run_timeout_s=request.run_timeout_s,
        sla_name=spec.name)


def refuse_runner_owned(names: list[str], origin: str) -> None:
    """``-p`` or a parameters file cannot set what the runner sets (the report would disagree with its
    folder, title and pacing.json, or be written outside ``--out``)."""
    problems = [f"{name}: set by the runner, not by -p or a parameters file; use {RUNNER_OWNED[name]}"
                for name in names if name in RUNNER_OWNED]
    if problems:
        noun = "parameter" if len(problems) == 1 else "parameters"
        error = ParameterError(f"{origin}: {len(problems)} runner-owned {noun}:\n"
                               + "\n".join(f"  - {p}" for p in problems))
        error.problems = problems
        raise error


def run_cycle_notebooks(request: CycleRunRequest) -> RunOutcome:
    """Plan, run and record the run in history (started, then completed or failed; see history.recording).

    Once the cycle's lock is held, earlier runs of the cycle that died still ``started`` are repaired
    (:func:`sla_toolkit.history.repair.repair_cycle`).
    """
    history = History.at(request.out, request.history_env) if request.record_history else None
    try:
        plan = plan_cycle_run(request)
        with recorded_run(history, plan.sla_name, plan.cycle_id, sla_slug=plan.sla_slug,
                          run_dir=plan.target) as recording:
            if history is not None and recording.run_id is not None:
                plan = dataclasses.replace(plan, history_run_id=recording.run_id,
                                           on_locked=partial(_repair_ledger, history, recording.run_id))
            return _run_and_record(plan, recording)
    finally:
        if history is not None:
            history.close()


def _repair_ledger(history: History, own_run_id: str, target: Path) -> list[str]:
    try:
        return repair_cycle(history, target, keep_run_id=own_run_id)
    except Exception as exc:  # noqa: BLE001 - a ledger that cannot be repaired must not stop the run
        return [f"ledger: earlier runs of this cycle could not be checked: {type(exc).__name__}: {exc}"]


def _run_and_record(plan: RunPlan, recording: RunRecording) -> RunOutcome:
    """Run the plan; record it completed, also when SIGTERM arrives after its report was committed."""
    try:
        outcome = run_notebooks(plan)
    except Terminated as exc:
        if exc.committed_dir is not None:
            with deferred_termination():
                recording.completed(exc.committed_dir)
        raise
    try:
        fault_point("committed")
        with deferred_termination():
            recording.completed(outcome.run_dir)
    except Terminated as exc:
        exc.committed_dir = outcome.run_dir
        if not recording.finished:
            with deferred_termination():
                recording.completed(outcome.run_dir)
        raise
    return outcome
