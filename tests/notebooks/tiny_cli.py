"""``sla-toolkit`` with the tiny fixture notebook standing in for both real notebooks.

The run machinery (planning, folders, locks, ledger, signals, exit codes) is the real one; only the
notebooks are swapped, so a run takes seconds. Used in-process (:func:`main`) and as a script run in a
child process (``python tiny_cli.py run --sla ...``) by the fault-injection tests.

``in_process=True`` (or ``$TINY_CLI_IN_PROCESS=1`` for the script) also replaces the kernel: the
notebook's code cells run in this process and the notebook is saved as if executed. The fault tests use
it, since what they exercise is the folder, lock and ledger sequence around the notebooks, and a kernel
start per run would make the twelve kills slow; papermill itself is tested by the other notebook tests.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from unittest import mock

TINY_NOTEBOOK = Path(__file__).resolve().parent / "fixtures" / "tiny_run.ipynb"


def _execute_here(input_path, output_path, parameters, *, cwd, **_options):
    """Stand-in for :func:`sla_toolkit.run.notebooks.execute_notebook`: run the code cells in this process."""
    import nbformat

    from sla_toolkit.parameters import validate_parameters

    values = validate_parameters(input_path, parameters)
    notebook = nbformat.read(str(input_path), as_version=4)
    namespace: dict = {}
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        for cell in notebook.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, str(input_path), "exec"), namespace)   # noqa: S102 - test fixture
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(values)
    finally:
        os.chdir(previous)
    nbformat.write(notebook, str(output_path))
    return notebook


def main(argv: list[str], *, in_process: bool = False) -> int:
    from sla_toolkit import cli
    from sla_toolkit.run import cycle as runs
    from sla_toolkit.run import notebooks as runner

    if argv[:1] == ["run"]:
        argv = [*argv, "-p", "fit_models=false"]   # the run computes the cycle itself: skip the models
    with mock.patch.object(runs, "CYCLE_NOTEBOOK", TINY_NOTEBOOK), \
            mock.patch.object(runs, "PACING_NOTEBOOK", TINY_NOTEBOOK):
        if not in_process:
            return cli.main(argv)
        with mock.patch.object(runner, "execute_notebook", _execute_here), \
                mock.patch.object(runner, "shared_kernel", lambda cwd, log_path: contextlib.nullcontext()), \
                mock.patch.object(runs.WarmKernel, "start", lambda self: None):
            return cli.main(argv)


if __name__ == "__main__":
    # jsonschema's optional IRI format check builds a grammar at import (seconds per child process);
    # nbformat never needs it, so the fault tests' child processes skip it
    sys.modules.setdefault("rfc3987_syntax", None)
    sys.exit(main(sys.argv[1:], in_process=os.environ.get("TINY_CLI_IN_PROCESS") == "1"))
