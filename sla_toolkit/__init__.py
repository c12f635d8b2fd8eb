"""sla_toolkit: did marketing and sales meet their SLA, what worked, and what to adjust next cycle.

Public API: :func:`load_spec`, :func:`load_leads`, :func:`run_cycle`, :func:`run_pacing`. The heavier
entry points are imported on first use, so the command line starts fast.
"""
from importlib import metadata

from .errors import SlaToolkitError, SourceError, SpecError
from .spec import SlaSpec, load_spec

__all__ = ["SlaSpec", "SlaToolkitError", "SourceError", "SpecError", "load_leads", "load_spec", "run_cycle",
           "run_pacing"]


def _installed_version() -> str:
    """The version pip installed (pyproject.toml is the one place it is written)."""
    try:
        return metadata.version("sla_toolkit")
    except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
        return "0+unknown"


__version__ = _installed_version()

_LAZY = {"load_leads": ("sla_toolkit.io", "load_leads"), "run_cycle": ("sla_toolkit.pipeline", "run_cycle"),
         "run_pacing": ("sla_toolkit.pacing_run", "run_pacing")}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'sla_toolkit' has no attribute {name!r}")
