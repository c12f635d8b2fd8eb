"""Files shipped inside the package: the paired notebooks and the bundled campaigns.

In git they are the top-level ``notebooks/`` and ``data/`` folders; ``setup.py`` installs them as the
packages ``sla_toolkit._notebooks`` and ``sla_toolkit._data``, so an editable install and a wheel read the
same files through :mod:`importlib.resources`.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import SlaToolkitError

NOTEBOOK_NAMES = ("cycle_report", "daily_pacing")


class BundledFileError(SlaToolkitError):
    """A file that ships with the package is missing (a broken or zipped installation)."""

    exit_code = 1


def _folder(package: str) -> Path:
    root = resources.files(package)
    if not isinstance(root, Path):
        raise BundledFileError(f"{package} is not installed as plain files ({root!r}); "
                               "reinstall sla_toolkit with pip (not as a zip)")
    return root


def notebook_folder() -> Path:
    """The folder holding ``cycle_report.ipynb`` and ``daily_pacing.ipynb`` (and their py:percent pairs)."""
    return _folder("sla_toolkit._notebooks")


def notebook_path(name: str) -> Path:
    """The bundled notebook ``name`` (``"cycle_report"`` or ``"daily_pacing"``)."""
    path = notebook_folder() / f"{name}.ipynb"
    if not path.is_file():
        raise BundledFileError(f"bundled notebook {path} is missing; reinstall sla_toolkit")
    return path


def data_folder() -> Path:
    """The bundled campaigns: ``sample/`` (synthetic, with its leads) and ``examples/<name>/`` (specs only)."""
    return _folder("sla_toolkit._data")


def sample_folder() -> Path:
    """The bundled sample campaign (``sla.yaml``, ``source.yaml``, ``leads.csv``, ``spend.csv``)."""
    return data_folder() / "sample"


def example_folder(name: str) -> Path:
    """The spec and mapping of a worked example on public data (``"olist"``, ``"bank_marketing"``)."""
    folder = data_folder() / "examples" / name
    if not folder.is_dir():
        known = sorted(p.name for p in (data_folder() / "examples").iterdir() if p.is_dir())
        raise BundledFileError(f"no bundled example {name!r}; known: {known}")
    return folder
