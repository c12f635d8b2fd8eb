"""Optional parts of the toolkit (pip extras) and the message when one is missing.

``pip install 'sla_toolkit[parquet]'`` (or ``excel``, ``lab``, ``postgres``) adds them; the test extra has all.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import SlaToolkitError

EXTRAS: dict[str, tuple[str, str]] = {
    # extra -> (module it provides, what it is for)
    "parquet": ("pyarrow", "reading Parquet files"),
    "excel": ("openpyxl", "reading Excel files"),
    "lab": ("jupyterlab", "working in JupyterLab with the paired notebooks"),
    "postgres": ("psycopg", "keeping the history ledger in PostgreSQL"),
    "dask": ("dask", "running many cycles on a Dask cluster"),
}


class MissingExtraError(SlaToolkitError):
    """An optional dependency is not installed; the message names the pip extra that installs it."""

    def __init__(self, extra: str, purpose: str | None = None):
        module, default_purpose = EXTRAS[extra]
        self.extra = extra
        super().__init__(f"{purpose or default_purpose} needs the `{module}` package, which is not installed; "
                         f"install it with: pip install 'sla_toolkit[{extra}]'")


def require(extra: str, purpose: str | None = None) -> ModuleType:
    """Import the module behind ``extra`` or raise :class:`MissingExtraError` naming the extra."""
    module = EXTRAS[extra][0]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(extra, purpose) from None


def installed(extra: str) -> bool:
    """Whether the module behind ``extra`` can be imported (used by ``sla-toolkit doctor``)."""
    return importlib.util.find_spec(EXTRAS[extra][0]) is not None
