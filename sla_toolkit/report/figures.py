"""Showing a matplotlib figure in a notebook cell (embedded in the report); the report's own charts are
in :mod:`sla_toolkit.report.charts`."""
from __future__ import annotations

import matplotlib.pyplot as plt


def show(fig: plt.Figure | None) -> None:
    """Display a figure in the notebook (embedded in the report) and release it."""
    if fig is None:
        return
    from IPython.display import display

    display(fig)
    plt.close(fig)
