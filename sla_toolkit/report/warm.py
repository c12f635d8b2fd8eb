"""Warming a notebook kernel before its first cell: what the report notebooks import and draw first.

``sla-toolkit run`` starts its kernel while it computes the cycle (:class:`sla_toolkit.run.kernel.WarmKernel`)
and has it call :func:`warm_up`: the imports of both notebooks, the modules the run's snapshot refers to,
and one small chart drawn and encoded the way the report's are (fonts loaded, the mathtext parser that
log-scale tick labels need built, the PNG writer imported). Nothing is displayed and nothing is kept.
"""
from __future__ import annotations

import importlib

#: the report notebooks' imports, and the modules the pickled cycle result refers to
NOTEBOOK_MODULES = ("IPython.display", "matplotlib.pyplot", "sla_toolkit.history.trend",
                    "sla_toolkit.report.figures", "sla_toolkit.report.layout", "sla_toolkit.report.sections",
                    "sla_toolkit.snapshot", "sla_toolkit.pipeline")


def warm_up() -> None:
    """Import :data:`NOTEBOOK_MODULES` and draw one throw-away chart."""
    for name in NOTEBOOK_MODULES:
        importlib.import_module(name)
    from . import charts

    fig, ax = charts.subplots(figsize=(3.0, 2.0))
    ax.plot([1.0, 2.0], [0.5, 2.0], label="warm-up")
    ax.set_xscale("log")
    ax.set_xlabel("days since entering the stage")
    ax.legend(fontsize=8)
    fig.tight_layout()
    charts.figure_html(fig, "warm-up")
