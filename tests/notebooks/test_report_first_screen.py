"""The demo report's first screen at 1440×900: headline, scorecard and "What to adjust" above the fold;
no table cell in e-notation or showing inf/nan/None/True/False; no internal ids in the text
(the Olist report gets the same checks in tests/integration/test_olist_cycle.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from matplotlib import image

from first_screen import HEIGHT, WIDTH, assert_first_screen, measure, screenshot
from sla_toolkit.cli import main


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    (report,) = out.glob("*/*/report.html")
    return report


def test_demo_first_screen_is_what_a_manager_needs(demo_report, chromium, run_chromium, tmp_path):
    measured = measure(chromium, run_chromium, demo_report, tmp_path)
    assert_first_screen(measured)
    shot = screenshot(chromium, run_chromium, demo_report, tmp_path / "demo.png", tmp_path)
    assert image.imread(shot).shape[:2] == (HEIGHT, WIDTH)
    keep = shutil.os.environ.get("SLA_SCREENSHOTS")
    if keep:
        shutil.copy(shot, f"{keep}/demo-first-screen.png")


def test_status_colours_survive_nbconvert_sanitiser(demo_report):
    """The executed notebook rendered by nbconvert's default sanitiser (untrusted output) keeps the colours."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(demo_report.parent / "cycle_report.ipynb", as_version=4)
    exporter = HTMLExporter()
    exporter.sanitize_html = True
    page, _ = exporter.from_notebook_node(notebook)
    scorecard = page[page.index('id="scorecard"'):]
    assert "\U0001F534 Missed" in scorecard and "\U0001F7E2 Met" in scorecard   # the colour is in the text
    assert "MQL → SQL conversion" in scorecard


@pytest.fixture(scope="module")
def olist_report(olist_dir, tmp_path_factory):
    example = Path(__file__).resolve().parents[2] / "data" / "examples" / "olist"
    out = tmp_path_factory.mktemp("olist")
    assert main(["run", "--sla", str(example / "sla.yaml"), "--source", str(example / "source.yaml"),
                 "--out", str(out)]) == 0
    (report,) = out.glob("*/*/report.html")
    return report


def test_olist_first_screen_is_what_a_manager_needs(olist_report, chromium, run_chromium, tmp_path):
    assert_first_screen(measure(chromium, run_chromium, olist_report, tmp_path))
    shot = screenshot(chromium, run_chromium, olist_report, tmp_path / "olist.png", tmp_path)
    keep = shutil.os.environ.get("SLA_SCREENSHOTS")
    if keep:
        shutil.copy(shot, f"{keep}/olist-first-screen.png")
