"""Charts drawn by a run's kernel while the run is still computing the cycle.

``sla-toolkit run`` starts its notebook kernel as soon as the input is read (:mod:`sla_toolkit.run.kernel`),
and the kernel then waits for the cycle. Each group of results is handed to it as soon as the pipeline has
it (:func:`sla_toolkit.pipeline.analyse`'s ``on_results``), pickled to a file, and :func:`draw` draws the
charts those results allow. The charts are remembered by the content of their inputs
(:func:`sla_toolkit.report.charts.drawn_once`), so when the report notebook later shows the same results
from the run's snapshot, each chart is already there; a chart whose inputs differ is simply drawn again.
Nothing here is shown or written: a chart that fails here is left to the notebook, which reports it.
"""
from __future__ import annotations

import os
import pickle
from types import SimpleNamespace

from . import charts, layout

#: each chart of the cycle report, as the report draws it from a result (or from the results handed over so far)
CHARTS = (lambda result: charts.burn_up_chart(result.pacing), charts.funnel_chart, charts.time_to_convert_charts,
          charts.breakdown_forest_charts, lambda result: layout.model_charts(result.models))


def draw(path: str) -> int:
    """Draw the charts that the results pickled at ``path`` (a dict of :class:`CycleResult` fields) allow;
    the file is removed. Returns how many of :data:`CHARTS` were drawn."""
    with open(path, "rb") as handle:
        results = SimpleNamespace(**pickle.load(handle))
    os.remove(path)
    drawn = 0
    for chart in CHARTS:
        try:
            chart(results)
        except Exception:  # noqa: BLE001 - results it needs come later (AttributeError), or the notebook
            continue       # draws this chart itself and reports what fails
        drawn += 1
    return drawn
