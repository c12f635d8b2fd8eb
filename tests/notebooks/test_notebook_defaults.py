"""The notebooks run as they are, with their default parameters, from their own folder (as JupyterLab does)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from sla_toolkit.parameters import inspect_parameters
from sla_toolkit.run.notebooks import execute_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", ["daily_pacing", "cycle_report"])
def test_notebook_runs_with_its_defaults(name, tmp_path):
    source = NOTEBOOKS / f"{name}.ipynb"
    declared = inspect_parameters(source)
    assert declared["sla_path"].default == "../data/sample/sla.yaml"
    executed = execute_notebook(source, tmp_path / f"{name}.ipynb", {}, timeout_s=600, cwd=NOTEBOOKS,
                                progress=False)
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "Q1 2025 demand generation" in html
    # charts are PNGs embedded in the HTML sections (report.charts), or figures of their own
    assert "data:image/png;base64," in html or any("image/png" in o.get("data", {}) for o in outputs)


def test_committed_notebooks_have_no_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), path.name
