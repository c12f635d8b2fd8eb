"""Plan and execute the notebook runs behind ``sla-toolkit run`` and ``demo``.

Input is checked before any kernel starts (spec, mapping, data, parameters: exit code 2);
the notebooks then run through :mod:`sla_toolkit.runner` into ``reports/<sla>/<cycle-id>/``, and the
run is recorded in the history ledger (:mod:`sla_toolkit.history`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .bundled import notebook_path
from .history import History, recorded_run
from .io import load_leads
from .io.mapping import load_mapping
from .parameters import inspect_parameters, parse_cli_parameters, read_parameters_file
from .runner import RunOutcome, RunPlan, run_notebooks
from .scope import resolve_as_of
from .spec import load_spec

CYCLE_NOTEBOOK = notebook_path("cycle_report")     # shipped in the package (sla_toolkit.bundled)
PACING_NOTEBOOK = notebook_path("daily_pacing")
DEFAULT_OUT = Path("reports")


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
    declared = inspect_parameters(CYCLE_NOTEBOOK)
    from_file = read_parameters_file(request.parameters_file, declared) if request.parameters_file else {}
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
        progress=request.progress, notebook_timeout_s=request.notebook_timeout_s, run_timeout_s=request.run_timeout_s)


def run_cycle_notebooks(request: CycleRunRequest) -> RunOutcome:
    """Plan, run and record the run in history (started, then completed or failed; see history.recording)."""
    history = History.at(request.out, request.history_env) if request.record_history else None
    try:
        plan = plan_cycle_run(request)
        with recorded_run(history, load_spec(request.sla).name, plan.cycle_id, sla_slug=plan.sla_slug) as recording:
            outcome = run_notebooks(plan)
            recording.completed(outcome.run_dir)
        return outcome
    finally:
        if history is not None:
            history.close()
