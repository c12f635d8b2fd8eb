"""The machinery behind ``sla-toolkit run``: one cycle run (:mod:`.cycle`), its notebooks (:mod:`.notebooks`)
and its folder (:mod:`.folder`).

The public face is small::

    from sla_toolkit.run import CycleRunRequest, run_cycle_notebooks

Names load on first use: the folder module is imported by the history and digest code, which the cycle
module itself imports.
"""
from __future__ import annotations

from importlib import import_module

_PUBLIC = {
    "CycleRunRequest": "cycle", "run_cycle_notebooks": "cycle", "prepare_cycle_run": "cycle",
    "RunPlan": "notebooks", "RunOutcome": "notebooks", "NotebookRunError": "notebooks",
    "execute_notebook": "notebooks", "RunFolder": "folder", "CycleLockedError": "folder",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
