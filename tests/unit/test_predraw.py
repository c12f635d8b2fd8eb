"""Charts drawn from the results handed over while the cycle is computed are the charts the report shows."""
from __future__ import annotations

import pickle

import pytest

from sla_toolkit.datasets import example_paths
from sla_toolkit.io import load_leads
from sla_toolkit.pipeline import analyse
from sla_toolkit.report import charts, layout, predraw
from sla_toolkit.snapshot import cycle_for_notebook, snapshot_bytes
from sla_toolkit.spec import load_spec

SECTIONS = ("pacing", "funnel", "time_to_convert", "breakdowns", "models")


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory):
    """The sample's cycle, the result groups ``analyse`` handed over (pickled), and the run's snapshot file."""
    paths = example_paths()
    groups: list[bytes] = []
    data = load_leads(load_spec(paths.sla), paths.source)
    result = analyse(data, on_results=lambda group: groups.append(pickle.dumps(group)))
    folder = tmp_path_factory.mktemp("run")
    snapshot = folder / "cycle.snapshot.pkl"
    snapshot.write_bytes(snapshot_bytes(result, ()))
    return result, groups, snapshot


def _drawings(monkeypatch) -> list[str]:
    drawn: list[str] = []
    original = charts.figure_html
    monkeypatch.setattr(charts, "figure_html", lambda fig, caption, alt="": drawn.append(caption) or
                        original(fig, caption, alt))
    return drawn


def _report_sections(snapshot) -> list[str]:
    result = cycle_for_notebook(str(snapshot), "", "", as_of=None, cycle_id=None, with_models=True, output_dir="")
    return [getattr(layout, name)(result) for name in SECTIONS]


def test_every_group_of_results_is_handed_over_once_computed(handed_over):
    result, groups, _ = handed_over
    keys = [sorted(pickle.loads(g)) for g in groups]
    assert keys == [["conversion", "time_to_convert"], ["checks", "conversion", "funnel", "pacing"], ["breakdowns"],
                    ["models"]]
    assert pickle.loads(groups[-1])["models"].open_scores is None and result.models.open_scores is not None


def test_predrawn_charts_are_the_report_notebooks_charts(handed_over, tmp_path, monkeypatch):
    _, groups, snapshot = handed_over
    charts._DRAWN.clear()
    drawn = _drawings(monkeypatch)
    without = _report_sections(snapshot)
    assert len(drawn) >= 6                                  # the report draws its charts itself ...
    charts._DRAWN.clear()
    for number, group in enumerate(groups):
        (tmp_path / f"{number}.pkl").write_bytes(group)
        assert predraw.draw(str(tmp_path / f"{number}.pkl")) >= 1
        assert not (tmp_path / f"{number}.pkl").exists()
    drawn.clear()
    assert _report_sections(snapshot) == without            # ... and shows the same HTML when they were predrawn
    assert drawn == []                                       # without drawing any of them again


def test_a_chart_of_different_inputs_is_drawn_again(handed_over, monkeypatch):
    result, _, _ = handed_over
    charts._DRAWN.clear()
    drawn = _drawings(monkeypatch)
    first = charts.time_to_convert_charts(result)
    again = charts.time_to_convert_charts(pickle.loads(pickle.dumps(result)))
    assert again == first and len(drawn) == len(first)
    curves = result.time_to_convert.curves
    changed = curves.assign(conversion=curves["conversion"] * 0.5)
    transition = curves["transition"].iloc[0]
    assert charts.km_chart(changed, transition, 14) != charts.km_chart(curves, transition, 14)
