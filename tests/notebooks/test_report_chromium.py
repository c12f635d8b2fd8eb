"""Open report.html in headless Chromium with networking disabled: it renders, and the table is there."""
from __future__ import annotations

import numpy as np
from matplotlib import image


def test_report_renders_offline_to_a_non_blank_page(chromium, run_chromium, good_run, tmp_path):
    screenshot = tmp_path / "report.png"
    run_chromium(chromium, tmp_path, f"--screenshot={screenshot}", "--window-size=1200,900",
              good_run.report_html.as_uri())
    pixels = image.imread(screenshot)[..., :3]  # RGB floats in [0, 1]
    assert pixels.shape[:2] == (900, 1200)
    grey = pixels.mean(axis=2)
    assert grey.std() > 0.05  # a blank (all white or all black) page has no variance
    assert (grey < 0.5).mean() > 0.005  # some dark text and the chart's bars
    bar_blue = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's tab:blue: the embedded chart rendered
    assert (np.abs(pixels - bar_blue).max(axis=2) < 0.03).sum() > 1000


def test_rendered_dom_has_the_table_and_no_live_script(chromium, run_chromium, good_run, tmp_path):
    dom = run_chromium(chromium, tmp_path, "--dump-dom", good_run.report_html.as_uri()).stdout
    assert '<table border="1" class="dataframe">' in dom
    assert "<td>spring-webinar</td>" in dom and "<td>autumn-ads</td>" in dom
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in dom
    assert "<script" not in dom.lower()
