"""Every notebook in notebooks/ is paired with a py:percent script in sync, has no outputs committed,
and declares a parameters cell of literals without secrets. Passes trivially while notebooks/ is empty."""
from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.compare import compare_notebooks

from sla_toolkit.parameters import inspect_parameters, looks_secret

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SCRIPTS = sorted(p for p in NOTEBOOK_DIR.glob("*.py") if p.name != "__init__.py")  # __init__: package data
PAIR_HINT = "pair it with `jupytext --set-formats ipynb,py:percent {}` and sync with `jupytext --sync {}`"


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_a_py_percent_pair_in_sync(ipynb: Path):
    script = ipynb.with_suffix(".py")
    assert script.exists(), f"{script.name} missing: " + PAIR_HINT.format(ipynb.name, ipynb.name)
    notebook = jupytext.read(ipynb)
    formats = notebook.metadata.get("jupytext", {}).get("formats", "")
    assert "py:percent" in formats, f"{ipynb.name} does not declare the pairing: " + PAIR_HINT.format(
        ipynb.name, ipynb.name)
    paired = jupytext.read(script)
    assert paired.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    # raises jupytext.compare.NotebookDifference naming the first differing cell
    compare_notebooks(paired, notebook, fmt="py:percent")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_has_its_notebook(script: Path):
    assert script.with_suffix(".ipynb").exists(), (
        f"{script.name} has no {script.with_suffix('.ipynb').name}: run `jupytext --sync {script.name}`")


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_committed(ipynb: Path):
    notebook = nbformat.read(ipynb, as_version=4)
    dirty = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"{ipynb.name}: cells {dirty} carry outputs or execution counts; "
                       f"clear them (`jupyter nbconvert --clear-output --inplace {ipynb.name}`)")


@pytest.mark.parametrize("ipynb", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_is_literal_and_secret_free(ipynb: Path):
    declared = inspect_parameters(ipynb)  # raises ParameterError on a non-literal default
    assert declared, f"{ipynb.name} has no cell tagged `parameters`"
    secrets = [name for name in declared if looks_secret(name)]
    assert not secrets, f"{ipynb.name} declares secret-looking parameters {secrets}; read them from the env"
