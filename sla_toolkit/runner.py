"""Run notebooks with papermill: check parameters first, execute, export the report, move it into place.

The parameters a notebook accepts are the literal assignments of its cell tagged ``parameters``.
Unlike papermill (which only warns), an unknown name or a value of the wrong type is a
:class:`~sla_toolkit.errors.ParameterError` raised before any kernel starts. Secrets are never
parameters: papermill writes parameters into the executed notebook and ``run.log``.
"""
from __future__ import annotations

import ast
import dataclasses
import io
import json
import os
import re
import sys
import tokenize
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import nbformat

from .errors import ParameterError, RunError
from .report.export import export_html
from .report.failure import FailureSummary, with_failed_cell, write_failure_report
from .rundir import LOG_FILE, REPORT_FILE, RunFolder, RunLog, check_path_component

KERNEL_NAME = "python3"
_SECRET_PARTS = frozenset({"url", "uri", "dsn", "password", "passwd", "pwd", "token", "secret", "apikey"})
_TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}
_TRUE, _FALSE = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0"}


@dataclass(frozen=True)
class ParameterInfo:
    """One declared notebook parameter: its type, default, whether ``None`` is allowed, and its comment.

    A ``None`` default without an annotation declares an optional string (``as_of = None``).
    """

    name: str
    type: type
    default: Any
    nullable: bool = False
    help: str = ""

    @property
    def type_name(self) -> str:
        return self.type.__name__ + (" or None" if self.nullable else "")


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


# -- declared parameters ------------------------------------------------------------------------------
def _read_notebook(notebook_path: Path | str) -> nbformat.NotebookNode:
    return nbformat.read(str(notebook_path), as_version=4)


def _annotation_type(node: ast.expr | None) -> tuple[type, bool] | None:
    """Understand ``float``, ``str | None`` and ``Optional[str]``; anything else means 'use the default'."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _annotation_type(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.Name) and node.id in _TYPE_NAMES:
        return _TYPE_NAMES[node.id], False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        others = [s for s in sides if s not in nones]
        if len(nones) == 1 and (inner := _annotation_type(others[0])):
            return inner[0], True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Optional":
        if inner := _annotation_type(node.slice):
            return inner[0], True
    return None


def _comments_by_line(source: str) -> dict[int, str]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return {}
    return {tok.start[0]: tok.string.lstrip("#").strip() for tok in tokens if tok.type == tokenize.COMMENT}


def parse_parameters_cell(source: str, origin: str = "parameters cell") -> dict[str, ParameterInfo]:
    """Parse the literal assignments of a parameters cell (IPython ``%``/``!`` lines are skipped)."""
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{origin}: not valid Python at line {exc.lineno}: {exc.msg}") from None
    comments, declared, problems = _comments_by_line(source), {}, []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation = node.targets[0].id, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation = node.target.id, node.annotation
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        else:
            problems.append(f"line {node.lineno}: only `name = literal` assignments belong in a parameters cell")
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            problems.append(f"line {node.lineno}: default of {name!r} is not a literal "
                            f"({ast.get_source_segment(source, node.value)})")
            continue
        declared_type = _annotation_type(annotation) or _type_of_default(default)
        declared[name] = ParameterInfo(name, declared_type[0], default, declared_type[1],
                                       comments.get(node.end_lineno or node.lineno, ""))
    if problems:
        raise ParameterError(f"{origin}: " + "; ".join(problems))
    return declared


def _type_of_default(default: Any) -> tuple[type, bool]:
    if default is None:
        return str, True
    if isinstance(default, tuple):
        return list, False
    return type(default), False


def inspect_parameters(notebook_path: Path | str) -> dict[str, ParameterInfo]:
    """The parameters a notebook declares, by name, in cell order (empty without a ``parameters`` cell).

    Examples
    --------
    >>> inspect_parameters("notebooks/daily_pacing.ipynb")["as_of"].type_name  # doctest: +SKIP
    'str or None'
    """
    notebook = _read_notebook(notebook_path)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return parse_parameters_cell(cell.source, origin=f"{notebook_path}: parameters cell")
    return {}


def looks_secret(name: str) -> bool:
    """True for names such as ``db_url``, ``api_token``, ``password``, ``warehouse_dsn``."""
    return any(part in _SECRET_PARTS for part in re.split(r"[^a-z0-9]+", name.lower())) or any(
        word in name.lower() for word in ("password", "secret", "token"))


def _check_value(info: ParameterInfo, value: Any) -> tuple[Any, str | None]:
    """Return ``(normalised value, None)`` or ``(value, problem)``."""
    if value is None:
        return (None, None) if info.nullable else (value, f"expected {info.type_name}, got None")
    if isinstance(value, os.PathLike) and info.type is str:
        return os.fspath(value), None
    if info.type is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), None
    if info.type is list and isinstance(value, tuple):
        return list(value), None
    if isinstance(value, info.type) and not (isinstance(value, bool) and info.type is not bool):
        return value, None
    return value, (f"expected {info.type_name} (default {info.default!r}), "
                   f"got {type(value).__name__} {value!r}")


def _secret_problem(name: str) -> str:
    return (f"{name}: looks like a secret and is never accepted as a parameter (parameters are saved in "
            f"the executed notebook and run.log); put it in the environment variable named in "
            f"source.yaml (e.g. `leads: sql: url_env: SLA_DB_URL`) and let the notebook read it")


def parameter_problems(declared: Mapping[str, ParameterInfo], given: Mapping[str, Any]
                       ) -> tuple[dict[str, Any], list[str]]:
    """Check ``given`` against ``declared``; return the normalised values and every problem found."""
    normalised, problems = {}, []
    valid = ", ".join(declared) or "(none: the notebook has no parameters cell)"
    for name, value in given.items():
        if looks_secret(name):
            problems.append(_secret_problem(name))
        elif name not in declared:
            problems.append(f"{name}: unknown parameter; valid names: {valid}")
        else:
            normalised[name], problem = _check_value(declared[name], value)
            if problem:
                problems.append(f"{name}: {problem}")
    return normalised, problems


def _raise_problems(origin: str, problems: list[str]) -> None:
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        error = ParameterError(f"{origin}: {len(problems)} parameter {noun}:\n"
                               + "\n".join(f"  - {p}" for p in problems))
        error.problems = problems
        raise error


def validate_parameters(notebook_path: Path | str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``given`` against the notebook's declared parameters; return them normalised (int -> float).

    Raises
    ------
    ParameterError
        Listing every unknown name (with the valid names), type mismatch and secret-looking name.
    """
    normalised, problems = parameter_problems(inspect_parameters(notebook_path), given)
    _raise_problems(str(notebook_path), problems)
    return normalised


def coerce_cli_value(text: str, declared_type: type, *, nullable: bool = False) -> Any:
    """Convert a command-line string (``-p name=value``) to the declared type.

    ``"none"``/``"null"`` give ``None`` when the parameter is nullable; booleans accept
    true/false, yes/no, on/off, 1/0; lists and dicts are JSON.
    """
    if nullable and text.strip().lower() in {"none", "null"}:
        return None
    try:
        if declared_type is bool:
            if text.strip().lower() in _TRUE | _FALSE:
                return text.strip().lower() in _TRUE
            raise ValueError(text)
        if declared_type in (int, float):
            return declared_type(text.strip())
        if declared_type in (list, dict):
            value = json.loads(text)
            if not isinstance(value, declared_type):
                raise ValueError(text)
            return value
        return text
    except ValueError:
        raise ParameterError(f"expected {declared_type.__name__}, got {text!r}") from None


def parse_cli_parameters(pairs: list[str], declared: Mapping[str, ParameterInfo],
                         origin: str = "-p") -> dict[str, Any]:
    """Turn ``["min_n=30", "as_of=2025-03-31"]`` into typed values, collecting every problem."""
    given, problems = {}, []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"{pair!r}: expected name=value")
        elif looks_secret(name):
            problems.append(_secret_problem(name))
        elif name not in declared:
            problems.append(f"{name}: unknown parameter; valid names: {', '.join(declared) or '(none)'}")
        else:
            try:
                given[name] = coerce_cli_value(text, declared[name].type, nullable=declared[name].nullable)
            except ParameterError as exc:
                problems.append(f"{name}: {exc}")
    _raise_problems(origin, problems)
    return given


# -- execution ------------------------------------------------------------------------------------------
def _kernel_manager_logging_to(log_path: Path) -> type:
    """A kernel manager whose kernel appends its own stderr (ipykernel's start-up and shut-down
    messages) to the run's ``run.log`` beside the executed notebook, instead of the user's terminal."""
    from jupyter_client import AsyncKernelManager

    class KernelLogManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            with open(log_path, "ab") as sink:   # the kernel process keeps its own copy of the handle
                kw["stderr"] = sink
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return KernelLogManager


def _interactive() -> bool:
    return sys.stderr.isatty()


def execute_notebook(input_path: Path | str, output_path: Path | str, parameters: Mapping[str, Any],
                     *, timeout_s: float | None, cwd: Path | str, progress: bool = True
                     ) -> nbformat.NotebookNode:
    """Validate ``parameters``, then execute the notebook with papermill in the ``python3`` kernel.

    The kernel is this interpreter's: the ``python3`` spec of a virtualenv runs ``python``, which
    jupyter_client replaces with ``sys.executable``. The notebook is saved after every cell, so
    a failure keeps everything executed so far. ``timeout_s`` applies to each cell.

    Raises
    ------
    ParameterError
        Before any kernel starts.
    NotebookRunError
        When a cell raises, times out or the kernel dies; the executed notebook is kept at ``output_path``.
    """
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    input_path, output_path = Path(input_path), Path(output_path)
    normalised = validate_parameters(input_path, parameters)
    failure = FailureSummary(step="execute", error_name="", error_value="", notebook=output_path.stem,
                             notebook_path=str(input_path), executed_notebook=str(output_path))
    try:
        return papermill.execute_notebook(
            str(input_path), str(output_path), parameters=normalised, kernel_name=KERNEL_NAME,
            request_save_on_cell_execute=True, execution_timeout=timeout_s, cwd=str(cwd),
            progress_bar=progress and _interactive(), log_output=False,
            kernel_manager_class=_kernel_manager_logging_to(output_path.parent / LOG_FILE))
    except papermill.PapermillExecutionError as exc:
        failure = dataclasses.replace(failure, error_name=exc.ename, error_value=exc.evalue,
                                      traceback="\n".join(exc.traceback))
        raise NotebookRunError(with_failed_cell(failure, _read_notebook(output_path), exc.cell_index)) from None
    except (CellTimeoutError, DeadKernelError) as exc:
        failure = dataclasses.replace(
            failure, error_name=type(exc).__name__,
            error_value=f"cell did not finish within {timeout_s} s (the per-cell timeout)"
            if isinstance(exc, CellTimeoutError) else str(exc))
        if not output_path.exists():
            raise NotebookRunError(dataclasses.replace(failure, executed_notebook=None)) from None
        raise NotebookRunError(with_failed_cell(failure, _read_notebook(output_path))) from None


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
    callables are called with the run folder and return the bytes. ``timeout_s`` is per cell.
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

    def __post_init__(self) -> None:
        jobs = tuple(job if isinstance(job, NotebookJob) else NotebookJob(*job) for job in self.notebooks)
        object.__setattr__(self, "notebooks", jobs)
        object.__setattr__(self, "out_root", Path(self.out_root))
        object.__setattr__(self, "extra_files", MappingProxyType(dict(self.extra_files)))
        check_path_component(self.sla_slug, "SLA slug")
        check_path_component(self.cycle_id, "cycle id")
        names = [job.name for job in jobs]
        reserved = {f"{n}.ipynb" for n in names} | {REPORT_FILE, LOG_FILE, "failure.md", "failure.json"}
        problems = [f"notebook name {n!r} is used twice" for n in sorted(set(names)) if names.count(n) > 1]
        problems += [f"extra file {f!r} must be a plain file name not used by the run "
                     f"({', '.join(sorted(reserved))})"
                     for f in self.extra_files if f in reserved or Path(f).name != f or f.startswith(".")]
        if not jobs:
            problems.append("the plan has no notebooks")
        if self.report_notebook is not None and self.report_notebook not in names:
            problems.append(f"report_notebook {self.report_notebook!r} is not one of {names}")
        for name in names:
            check_path_component(name, "notebook name")
        if problems:
            raise ParameterError("run plan: " + "; ".join(problems))

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


def run_notebooks(plan: RunPlan) -> RunOutcome:
    """Validate, execute every notebook, export ``report.html``, write extras and ``run.log``, commit.

    On failure the partial folder becomes ``<cycle-id>.failed-<stamp>/`` with ``failure.md`` and
    ``failure.json``; any earlier good run of the cycle stays as it was. The error raised is a
    :class:`RunError` (exit code 1) whose ``failure_dir`` names that folder.
    """
    parameters = _validate_plan(plan)
    durations: dict[str, float] = {}
    with RunFolder(plan.out_root, plan.sla_slug, plan.cycle_id) as folder:
        log = RunLog(folder.path / LOG_FILE)
        log.start(plan.sla_slug, plan.cycle_id, folder.target, recovered=folder.recovered)
        step = "start"
        try:
            for number, job in enumerate(plan.notebooks, start=1):
                step = f"execute {job.name}"
                log.write(f"notebook {job.name}: start {job.path} "
                          f"parameters={json.dumps(parameters[job.name], default=str)}")
                if plan.progress:
                    print(f"[{number}/{len(plan.notebooks)}] executing {job.name} ...", file=sys.stderr, flush=True)
                with log.timed(f"notebook {job.name}", durations):
                    execute_notebook(job.path, folder.path / f"{job.name}.ipynb", parameters[job.name],
                                     timeout_s=plan.timeout_s, cwd=folder.path, progress=plan.progress)
                if plan.progress:
                    print(f"[{number}/{len(plan.notebooks)}] {job.name} done in "
                          f"{durations.get(f'notebook {job.name}', float('nan')):.1f} s", file=sys.stderr, flush=True)
            step = "export report.html"
            report = plan.report_job
            with log.timed(f"export {REPORT_FILE} from {report.name}", durations):
                export_html(folder.path / f"{report.name}.ipynb", folder.path / REPORT_FILE,
                            plan.report_title or f"{plan.sla_slug} · {plan.cycle_id}")
            for file_name, content in plan.extra_files.items():
                step = f"write {file_name}"
                data = content(folder.path) if callable(content) else content
                (folder.path / file_name).write_bytes(data)
            log.write(f"run ok; moving into {folder.target}")
            run_dir = folder.commit()
        except BaseException as exc:
            failure_dir = _record_failure(folder, log, plan, step, exc)
            if isinstance(exc, Exception):
                raise _run_error(exc, failure_dir, f"run of {plan.sla_slug}/{plan.cycle_id} failed at {step}") \
                    from (None if isinstance(exc, RunError) else exc)
            raise
    return RunOutcome(
        run_dir=run_dir, report_html=run_dir / REPORT_FILE, run_log=run_dir / LOG_FILE,
        notebooks=MappingProxyType({job.name: run_dir / f"{job.name}.ipynb" for job in plan.notebooks}),
        extra_files=MappingProxyType({name: run_dir / name for name in plan.extra_files}),
        durations_s=MappingProxyType(durations))
