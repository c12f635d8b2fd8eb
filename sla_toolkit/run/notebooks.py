"""Run notebooks with papermill: check parameters first (:mod:`sla_toolkit.parameters`), execute,
export the report, move it into place."""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import threading
import time
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, TextIO

import nbformat

from ..errors import ParameterError, RunError
from ..parameters import _raise_problems, _read_notebook, inspect_parameters, parameter_problems, validate_parameters
from ..report.export import export_html, prepare_export
from ..report.failure import FailureSummary, with_failed_cell, write_failure_report
from .folder import LOG_FILE, REPORT_FILE, RunFolder, RunLog, check_path_component
from .kernel import KERNEL_NAME, WarmKernel, kernel_manager_logging_to, shared_kernel
from ..termination import fault_point

__all__ = ["KERNEL_NAME", "NotebookJob", "NotebookRunError", "RunOutcome", "RunPlan", "cell_progress",
           "execute_notebook", "run_notebooks"]

class NotebookRunError(RunError):
    """A notebook failed while executing (cell error, timeout, dead kernel); exit code 1.

    ``summary`` says where and why; ``failure_dir`` is set once the failure folder has been written.
    """

    def __init__(self, summary: FailureSummary, failure_dir: Path | None = None):
        self.summary = summary
        self.failure_dir = failure_dir
        kept = f"; executed notebook kept at {summary.executed_notebook}" if summary.executed_notebook else ""
        report = f"; failure report: {failure_dir / 'failure.md'}" if failure_dir else ""
        super().__init__(f"notebook {summary.notebook} failed at {summary.where}: "
                         f"{summary.error_name}: {summary.error_value}{kept}{report}")


# -- execution ------------------------------------------------------------------------------------------
def cell_progress(stream: TextIO | None = None) -> dict | bool:
    """papermill's progress bar as one line, ``cell n of m``, redrawn in place; off unless ``stream``
    (standard output by default) is a terminal, so logs and pipes get no control characters."""
    stream = sys.stdout if stream is None else stream
    if not stream.isatty():
        return False
    return {"file": stream, "desc": "", "leave": False, "unit": "cell",
            "bar_format": "  cell {n_fmt} of {total_fmt} ({elapsed})"}


def _cell_timeout(timeout_s: float | None, deadline: float | None) -> Callable[[Any], int | None]:
    """nbclient's per-cell timeout: the cell limit, cut to what is left before ``deadline`` (monotonic)."""
    def timeout_for(_cell) -> int | None:
        left = math.inf if deadline is None else deadline - time.monotonic()
        limit = min(timeout_s if timeout_s else math.inf, left)
        return None if math.isinf(limit) else max(1, math.ceil(limit))

    return timeout_for


def execute_notebook(input_path: Path | str, output_path: Path | str, parameters: Mapping[str, Any],
                     *, timeout_s: float | None, cwd: Path | str, progress: bool = True,
                     deadline: float | None = None, kernel: Any = None) -> nbformat.NotebookNode:
    """Validate ``parameters``, then execute the notebook with papermill in the ``python3`` kernel.

    The kernel is this interpreter's: the ``python3`` spec of a virtualenv runs ``python``, which
    jupyter_client replaces with ``sys.executable``. The notebook is saved every few seconds while
    cells run and whenever execution stops, so a failure keeps everything executed so far. ``timeout_s`` applies to each cell; ``deadline`` (a
    ``time.monotonic()`` value: the notebook's or the run's time budget) cuts every cell's limit to the
    time left. ``kernel``: a started kernel manager (:func:`shared_kernel`) to run in instead of a new kernel.
    See :mod:`sla_toolkit.run.engine` for the saving.

    Raises
    ------
    ParameterError
        Before any kernel starts.
    NotebookRunError
        When a cell raises, times out or the kernel dies; the executed notebook is kept at ``output_path``.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from .engine import ENGINE_NAME

    input_path, output_path = Path(input_path), Path(output_path)
    normalised = validate_parameters(input_path, parameters)
    failure = FailureSummary(step="execute", error_name="", error_value="", notebook=output_path.stem,
                             notebook_path=str(input_path), executed_notebook=str(output_path))
    kernel_options = {"km": kernel} if kernel is not None else \
        {"kernel_manager_class": kernel_manager_logging_to(output_path.parent / LOG_FILE)}
    try:
        return papermill.execute_notebook(
            str(input_path), str(output_path), parameters=normalised, kernel_name=KERNEL_NAME, engine_name=ENGINE_NAME,
            request_save_on_cell_execute=True, execution_timeout=timeout_s, cwd=str(cwd),
            timeout_func=_cell_timeout(timeout_s, deadline),
            progress_bar=progress and cell_progress(), log_output=False, **kernel_options)
    except papermill.PapermillExecutionError as exc:
        failure = dataclasses.replace(failure, error_name=exc.ename, error_value=exc.evalue,
                                      traceback="\n".join(exc.traceback))
        raise NotebookRunError(with_failed_cell(failure, _read_notebook(output_path), exc.cell_index)) from None
    except (CellTimeoutError, DeadKernelError) as exc:
        failure = dataclasses.replace(
            failure, error_name=type(exc).__name__,
            error_value=_timeout_text(timeout_s, deadline) if isinstance(exc, CellTimeoutError) else str(exc))
        if not output_path.exists():
            raise NotebookRunError(dataclasses.replace(failure, executed_notebook=None)) from None
        raise NotebookRunError(with_failed_cell(failure, _read_notebook(output_path))) from None


def _timeout_text(timeout_s: float | None, deadline: float | None) -> str:
    if deadline is not None and deadline - time.monotonic() <= 1:
        return "the notebook's or the run's time budget ran out (--notebook-timeout / --run-timeout)"
    return f"cell did not finish within {timeout_s} s (the per-cell timeout)"


# -- a whole run ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NotebookJob:
    """One notebook of a run: ``name`` is the executed file's stem (``cycle_report.ipynb``)."""

    name: str
    path: Path
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path).resolve())
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))


ExtraFile = bytes | Callable[[Path], bytes]


@dataclass(frozen=True)
class RunPlan:
    """Everything a run needs. ``notebooks`` accepts ``NotebookJob`` or ``(name, path, parameters)``.

    Notebooks execute in order with the run folder as working directory, so files they write
    (``results.json``...) land in the report folder. ``report_notebook`` (default: the first) is
    exported to ``report.html``. ``extra_files`` are written after execution: bytes as they are,
    callables are called with the run folder and return the bytes. ``prepared_files`` are written the
    same way before the first notebook (the run's snapshot and the outputs computed from it), after
    ``log_lines`` go to ``run.log``. Each of ``checks`` is called with "when" (before the notebooks and
    again before the commit) and raises to fail the run. ``timeout_s`` is per cell,
    ``notebook_timeout_s`` per notebook and ``run_timeout_s`` for all notebooks together (None: no limit).
    ``sla_name`` is recorded as the owner of the SLA folder (a run of another SLA is refused there).
    ``history_run_id`` goes into ``run.log`` so a crashed run's ledger row can be matched to its folder;
    ``on_locked`` is called with the target folder once the cycle's lock is held (ledger repair) and
    returns lines to show.
    """

    notebooks: tuple[NotebookJob, ...]
    out_root: Path
    sla_slug: str
    cycle_id: str
    timeout_s: float | None = 600.0
    extra_files: Mapping[str, ExtraFile] = field(default_factory=dict)
    report_notebook: str | None = None
    report_title: str | None = None
    progress: bool = True
    prepared_files: Mapping[str, ExtraFile] = field(default_factory=dict)
    log_lines: tuple[str, ...] = ()
    checks: tuple[Callable[[str], None], ...] = ()
    notebook_timeout_s: float | None = None
    run_timeout_s: float | None = None
    sla_name: str | None = None
    history_run_id: str | None = None
    on_locked: Callable[[Path], list[str]] | None = None

    def __post_init__(self) -> None:
        jobs = tuple(job if isinstance(job, NotebookJob) else NotebookJob(*job) for job in self.notebooks)
        object.__setattr__(self, "notebooks", jobs)
        object.__setattr__(self, "out_root", Path(self.out_root))
        object.__setattr__(self, "extra_files", MappingProxyType(dict(self.extra_files)))
        object.__setattr__(self, "prepared_files", MappingProxyType(dict(self.prepared_files)))
        check_path_component(self.sla_slug, "SLA slug")
        check_path_component(self.cycle_id, "cycle id")
        names = [job.name for job in jobs]
        reserved = {f"{n}.ipynb" for n in names} | {REPORT_FILE, LOG_FILE, "failure.md", "failure.json"}
        problems = [f"notebook name {n!r} is used twice" for n in sorted(set(names)) if names.count(n) > 1]
        problems += [f"extra file {f!r} must be a plain file name not used by the run "
                     f"({', '.join(sorted(reserved))})"
                     for f in (*self.prepared_files, *self.extra_files)
                     if f in reserved or Path(f).name != f or f.startswith(".")]
        if not jobs:
            problems.append("the plan has no notebooks")
        if self.report_notebook is not None and self.report_notebook not in names:
            problems.append(f"report_notebook {self.report_notebook!r} is not one of {names}")
        for name in names:
            check_path_component(name, "notebook name")
        if problems:
            raise ParameterError("run plan: " + "; ".join(problems))

    @property
    def target(self) -> Path:
        """Where the report folder of this run goes (``<out_root>/<sla_slug>/<cycle_id>``, absolute)."""
        return self.out_root.resolve() / self.sla_slug / self.cycle_id

    @property
    def report_job(self) -> NotebookJob:
        return next(j for j in self.notebooks if j.name == (self.report_notebook or self.notebooks[0].name))


@dataclass(frozen=True)
class RunOutcome:
    """Where a successful run's files are (all inside ``run_dir``) and how long each step took."""

    run_dir: Path
    report_html: Path
    notebooks: Mapping[str, Path]
    extra_files: Mapping[str, Path]
    run_log: Path
    durations_s: Mapping[str, float]


def _validate_plan(plan: RunPlan) -> dict[str, dict[str, Any]]:
    """Check every notebook's parameters before anything runs; one error lists all problems."""
    normalised, problems = {}, []
    for job in plan.notebooks:
        values, found = parameter_problems(inspect_parameters(job.path), job.parameters)
        normalised[job.name] = values
        problems += [f"{job.name} ({job.path}): {p}" for p in found]
    _raise_problems(f"run of {plan.sla_slug}/{plan.cycle_id}", problems)
    return normalised


def _prepare_export() -> None:
    """Background thread while the notebooks run (this process only waits for the kernel meanwhile)."""
    try:
        prepare_export()
    except Exception:  # noqa: BLE001 - the export itself will raise whatever this hit, with its context
        pass


def _record_failure(folder: RunFolder, log: RunLog, plan: RunPlan, step: str, exc: BaseException) -> Path:
    """Write the failure report and run.log line, then move the folder aside; return where it went."""
    if isinstance(exc, NotebookRunError):
        summary = exc.summary
    else:
        summary = FailureSummary(step=step, error_name=type(exc).__name__, error_value=str(exc),
                                 traceback="".join(traceback.format_exception(exc)))
    if summary.executed_notebook:  # the folder is about to move: name the file relative to it
        summary = dataclasses.replace(summary, executed_notebook=Path(summary.executed_notebook).name)
    log.write(f"run FAILED at {step}: {summary.error_name}: {summary.error_value}")
    last_good = str(folder.target) if folder.target.exists() else "none"
    write_failure_report(folder.path, summary, {"sla": plan.sla_slug, "cycle": plan.cycle_id, "step": step,
                                                "last good report (untouched)": last_good})
    return folder.fail()


def _run_error(exc: Exception, failure_dir: Path, context: str) -> RunError:
    """The error to raise for a failed run: always a RunError carrying ``failure_dir``."""
    if isinstance(exc, NotebookRunError):
        summary = exc.summary
        if summary.executed_notebook:
            summary = dataclasses.replace(summary, executed_notebook=str(failure_dir / Path(
                summary.executed_notebook).name))
        return NotebookRunError(summary, failure_dir)
    if isinstance(exc, RunError):
        error = exc
    else:
        error = RunError(f"{context}: {type(exc).__name__}: {exc}; failure report: {failure_dir / 'failure.md'}")
    error.failure_dir = failure_dir
    return error


def run_notebooks(plan: RunPlan, kernel: WarmKernel | None = None) -> RunOutcome:
    """Validate, execute every notebook, export ``report.html``, write extras and ``run.log``, commit.

    ``kernel``: a started :class:`~sla_toolkit.run.kernel.WarmKernel` to run the notebooks in (moved into
    the run folder and shut down after the last notebook); without one, a kernel starts in the run folder.

    On failure the partial folder becomes ``<cycle-id>.failed-<stamp>/`` with ``failure.md`` and
    ``failure.json``; any earlier good run of the cycle stays as it was. The error raised is a
    :class:`RunError` (exit code 1) whose ``failure_dir`` names that folder.
    """
    parameters = _validate_plan(plan)
    durations: dict[str, float] = {}
    run_deadline = None if plan.run_timeout_s is None else time.monotonic() + plan.run_timeout_s
    with RunFolder(plan.out_root, plan.sla_slug, plan.cycle_id, owner=plan.sla_name) as folder:
        log = RunLog(folder.path / LOG_FILE)
        recovered = folder.recovered + (plan.on_locked(folder.target) if plan.on_locked else [])
        log.start(plan.sla_slug, plan.cycle_id, folder.target, recovered=recovered, run_id=plan.history_run_id)
        for action in recovered:
            print(f"sla-toolkit: recovered: {action}", file=sys.stderr, flush=True)
        step = "start"
        try:
            fault_point("locked")
            for line in plan.log_lines:
                log.write(line)
            for file_name, content in plan.prepared_files.items():
                step = f"write {file_name}"
                with log.timed(f"write {file_name}", durations):
                    (folder.path / file_name).write_bytes(content(folder.path) if callable(content) else content)
            for check in plan.checks:
                step = "check inputs"
                check("between the read and the notebooks")
            step = f"execute {plan.notebooks[0].name}"
            threading.Thread(target=_prepare_export, name="prepare-export", daemon=True).start()
            with ExitStack() as kernel_scope:
                with log.timed("start kernel", durations):
                    log_path = folder.path / LOG_FILE
                    manager = kernel_scope.enter_context(
                        kernel.adopted(folder.path, log_path, plan.timeout_s)
                        if kernel is not None and kernel.started else shared_kernel(folder.path, log_path))
                for number, job in enumerate(plan.notebooks, start=1):
                    step = f"execute {job.name}"
                    log.write(f"notebook {job.name}: start {job.path} "
                              f"parameters={json.dumps(parameters[job.name], default=str)}")
                    if plan.progress:
                        print(f"[{number}/{len(plan.notebooks)}] executing {job.name} ...", file=sys.stderr,
                              flush=True)
                    deadline = min((d for d in (run_deadline, None if plan.notebook_timeout_s is None else
                                                time.monotonic() + plan.notebook_timeout_s) if d is not None),
                                   default=None)
                    with log.timed(f"notebook {job.name}", durations):
                        execute_notebook(job.path, folder.path / f"{job.name}.ipynb", parameters[job.name],
                                         timeout_s=plan.timeout_s, cwd=folder.path, progress=plan.progress,
                                         deadline=deadline, kernel=manager)
                    if plan.progress:
                        print(f"[{number}/{len(plan.notebooks)}] {job.name} done in "
                              f"{durations.get(f'notebook {job.name}', float('nan')):.1f} s", file=sys.stderr,
                              flush=True)
            fault_point("executed")
            step = "export report.html"
            report = plan.report_job
            with log.timed(f"export {REPORT_FILE} from {report.name}", durations):
                export_html(folder.path / f"{report.name}.ipynb", folder.path / REPORT_FILE,
                            plan.report_title or f"{plan.sla_slug} · {plan.cycle_id}")
            for file_name, content in plan.extra_files.items():
                step = f"write {file_name}"
                data = content(folder.path) if callable(content) else content
                (folder.path / file_name).write_bytes(data)
            for check in plan.checks:
                step = "check inputs"
                check("while the notebooks ran")
            log.write(f"run ok; moving into {folder.target}")
            fault_point("exported")
            run_dir = folder.commit()
        except BaseException as exc:
            if folder.final_path is not None:   # SIGTERM held during the commit: the report is in place
                exc.committed_dir = folder.final_path
                raise
            failure_dir = _record_failure(folder, log, plan, step, exc)
            exc.failure_dir = failure_dir
            if isinstance(exc, Exception):
                raise _run_error(exc, failure_dir, f"run of {plan.sla_slug}/{plan.cycle_id} failed at {step}") \
                    from (None if isinstance(exc, RunError) else exc)
            raise
    return RunOutcome(
        run_dir=run_dir, report_html=run_dir / REPORT_FILE, run_log=run_dir / LOG_FILE,
        notebooks=MappingProxyType({job.name: run_dir / f"{job.name}.ipynb" for job in plan.notebooks}),
        extra_files=MappingProxyType({name: run_dir / name for name in plan.extra_files}),
        durations_s=MappingProxyType(durations))
