"""Plan and execute the notebook runs behind ``sla-toolkit run`` and ``demo``.

Input is checked before any kernel starts (spec, mapping, data, parameters: exit code 2). The run
then reads the input once and computes the cycle once (:mod:`sla_toolkit.snapshot`): the result is
written to the run folder with the data files, and the notebooks render it through
:mod:`sla_toolkit.run.notebooks` into ``reports/<sla>/<cycle-id>/``. The run is recorded in the history
ledger (:mod:`sla_toolkit.history`) from the result in memory, with the input's fingerprint.
"""
from __future__ import annotations

import dataclasses
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from ..bundled import notebook_path
from ..history import History, recorded_run
from ..history.recording import RunRecording, warn_on_stderr
from ..history.repair import repair_cycle
from ..history.trend import past_cycles
from ..io import load_leads
from ..io.gate import enforce_quarantine_share
from ..io.mapping import load_mapping
from ..parameters import _raise_problems, inspect_parameters, parse_cli_parameters, read_parameters_file
from .kernel import WarmKernel
from .notebooks import RunOutcome, RunPlan, run_notebooks
from .worker import ModelWorker
from ..snapshot import (SNAPSHOT_FILE, CycleSnapshot, InputChangedError, check_unchanged, fingerprint_all,
                       input_files, snapshot_bytes)
from ..spec import load_spec
from ..termination import Terminated, deferred_termination, fault_point

CYCLE_NOTEBOOK = notebook_path("cycle_report")     # shipped in the package (sla_toolkit.bundled)
PACING_NOTEBOOK = notebook_path("daily_pacing")
DEFAULT_OUT = Path("reports")
# parameters only the run sets, and where the user's say goes instead
RUNNER_OWNED = {"sla_path": "--sla", "source_path": "--source", "as_of": "--as-of", "cycle_id": "--cycle-id",
                "output_dir": "--out", "snapshot": "nothing (the run's own input snapshot)",
                "past_cycles_json": "nothing (read from the history ledger)"}


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


@dataclass(frozen=True)
class PreparedRun:
    """The plan plus what was computed for it: the result, its ``to_dict()`` and the input fingerprints."""

    plan: RunPlan
    result: object
    results: dict
    inputs: tuple


@contextmanager
def _phase(name: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started


def prepare_cycle_run(request: CycleRunRequest, history: History | None = None,
                      on_input_read: Callable[[], None] | None = None,
                      on_results: Callable[[dict[str, object]], None] | None = None) -> PreparedRun:
    """Validate everything, read the input once, compute the cycle once; return the run plan.

    With a ``history``, the past cycles of this SLA are read from the ledger once and handed to the report
    notebook (``past_cycles_json``) for its "since last cycle" section. ``on_input_read`` is called once
    the input has been read and validated, before the cycle is computed (the run starts its kernel there);
    ``on_results`` receives each group of results as the cycle is computed (the kernel draws their charts).

    Raises
    ------
    InputChangedError
        When an input file changed while it was being read.
    """
    from ..pipeline import analyse
    from ..report.outputs import output_files, pacing_bytes

    timings: dict[str, float] = {}
    spec = load_spec(request.sla)
    mapping = load_mapping(request.source)
    refuse_runner_owned([pair.partition("=")[0].strip() for pair in request.extra_parameters],
                        f"-p for {CYCLE_NOTEBOOK.name}")
    declared = inspect_parameters(CYCLE_NOTEBOOK)
    from_file = read_parameters_file(request.parameters_file, declared) if request.parameters_file else {}
    refuse_runner_owned(list(from_file), str(request.parameters_file))
    extra = {**from_file, **parse_cli_parameters(list(request.extra_parameters), declared,
                                                 origin=f"-p for {CYCLE_NOTEBOOK.name}")}
    files = input_files(mapping)
    with _phase("fingerprint inputs", timings):
        inputs = fingerprint_all(files)
    worker = ModelWorker()
    try:
        worker.start_for(sum(f.size for f in inputs))   # it imports scikit-learn while the input is read
        with _phase("read and validate", timings):
            data = load_leads(spec, mapping)
            enforce_quarantine_share(data)
        with _phase("fingerprint inputs", timings):
            check_unchanged(inputs, "while the run was reading it")
        if on_input_read is not None:
            on_input_read()
        as_of, cycle_id = request.as_of or None, request.cycle_id or None
        result = analyse(data, as_of=as_of, cycle_id=cycle_id, with_models=extra.get("fit_models", True),
                         timings=timings, fitter=worker.fitter, on_results=on_results)
    finally:
        worker.shutdown()
    with _phase("results and snapshot", timings):
        results = result.to_dict()
        prepared = output_files(result, results)
        prepared["pacing.json"] = pacing_bytes(CycleSnapshot(result, inputs).pacing_run())
        prepared = {SNAPSHOT_FILE: snapshot_bytes(result, inputs), **prepared}
    common = {"sla_path": str(Path(request.sla).resolve()), "source_path": str(Path(request.source).resolve()),
              "as_of": as_of or "", "output_dir": "", "snapshot": SNAPSHOT_FILE}
    report_parameters = {**extra, **common, "cycle_id": result.cycle_id,
                         "past_cycles_json": _past_cycles_json(history, spec.name, result.cycle_id)}
    log_lines = tuple(f"input {f.text()}" for f in inputs) + tuple(
        f"{name}: done in {seconds:.2f} s" for name, seconds in timings.items()) + tuple(worker.log)
    plan = RunPlan(
        notebooks=(("cycle_report", CYCLE_NOTEBOOK, report_parameters), ("daily_pacing", PACING_NOTEBOOK, common)),
        out_root=Path(request.out), sla_slug=spec.slug, cycle_id=result.cycle_id, timeout_s=request.timeout_s,
        report_notebook="cycle_report", report_title=f"SLA report: {spec.name} ({result.cycle_id})",
        progress=request.progress, notebook_timeout_s=request.notebook_timeout_s,
        run_timeout_s=request.run_timeout_s, prepared_files=prepared, log_lines=log_lines,
        checks=(lambda when: check_unchanged(inputs, when),), sla_name=spec.name)
    return PreparedRun(plan, result, results, inputs)


def refuse_runner_owned(names: list[str], origin: str) -> None:
    """``-p`` or a parameters file cannot set what the runner sets (the report would disagree with its
    folder, title and pacing.json, or be written outside ``--out``)."""
    problems = [f"{name}: set by the runner, not by -p or a parameters file; use {RUNNER_OWNED[name]}"
                for name in names if name in RUNNER_OWNED]
    _raise_problems(origin, problems, what="runner-owned parameter")


def plan_cycle_run(request: CycleRunRequest) -> RunPlan:
    """Validate everything that can be validated without a kernel, and return the run plan."""
    return prepare_cycle_run(request).plan


def run_cycle_notebooks(request: CycleRunRequest) -> RunOutcome:
    """Plan, run and record the run in history (started, then completed or failed; see history.recording).

    Once the cycle's lock is held, earlier runs of the cycle that died still ``started`` are repaired
    (:func:`sla_toolkit.history.repair.repair_cycle`). The notebooks' kernel starts as soon as the input is
    read and valid and warms up while the cycle is computed (:class:`~sla_toolkit.run.kernel.WarmKernel`);
    it is shut down however the run ends.
    """
    history = History.at(request.out, request.history_env) if request.record_history else None
    kernel = WarmKernel()
    try:
        prepared = prepare_cycle_run(request, history, on_input_read=kernel.start, on_results=kernel.predraw)
        plan = prepared.plan
        with recorded_run(history, prepared.result.spec.name, plan.cycle_id, sla_slug=plan.sla_slug,
                          run_dir=plan.target) as recording:
            if history is not None and recording.run_id is not None:
                plan = dataclasses.replace(plan, history_run_id=recording.run_id,
                                           on_locked=partial(_repair_ledger, history, recording.run_id))
            return _run_and_record(dataclasses.replace(prepared, plan=plan), recording, kernel)
    finally:
        kernel.shutdown()
        if history is not None:
            history.close()


def _repair_ledger(history: History, own_run_id: str, target: Path) -> list[str]:
    try:
        return repair_cycle(history, target, keep_run_id=own_run_id)
    except Exception as exc:  # noqa: BLE001 - a ledger that cannot be repaired must not stop the run
        return [f"ledger: earlier runs of this cycle could not be checked: {type(exc).__name__}: {exc}"]


def _run_and_record(prepared: PreparedRun, recording: RunRecording, kernel: WarmKernel | None = None) -> RunOutcome:
    """Run the plan; record it completed, also when SIGTERM arrives after its report was committed."""
    def completed(run_dir: Path) -> None:
        with deferred_termination():
            recording.completed(run_dir, results=prepared.results, inputs=prepared.inputs)

    try:
        outcome = run_notebooks(prepared.plan, kernel)
    except Terminated as exc:
        if exc.committed_dir is not None:
            completed(exc.committed_dir)
        raise
    try:
        fault_point("committed")
        completed(outcome.run_dir)
    except Terminated as exc:
        exc.committed_dir = outcome.run_dir
        if not recording.finished:
            completed(outcome.run_dir)
        raise
    return outcome


def _past_cycles_json(history: History | None, sla_name: str, cycle_id: str) -> str:
    """The ledger's past cycles as JSON for the report ("" without history; a ledger that cannot be read
    costs a warning and the section, never the run)."""
    if history is None or (history.location.sqlite_path is not None and not history.location.sqlite_path.exists()):
        return ""   # no ledger yet: nothing to compare, and a refused run must not create one
    try:
        return json.dumps(past_cycles(history, sla_name, cycle_id), default=str)
    except Exception as exc:  # noqa: BLE001 - the report comes first
        warn_on_stderr(f"past cycles could not be read from {history.location.label}: {exc}; the report's "
                       "'since last cycle' section is left empty")
        return ""


__all__ = ["CycleRunRequest", "PreparedRun", "plan_cycle_run", "prepare_cycle_run",
           "run_cycle_notebooks"]
