"""Measure a report's first screen in headless Chromium (1440×900) and read every table cell.

The report has no scripts of its own; a copy gets one that writes element positions into the DOM,
which ``--dump-dom`` then prints.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

WIDTH, HEIGHT = 1440, 900
MEASURE = """<script>
const out = {};
for (const id of ["headline", "scorecard", "adjust", "worked"]) {
  const e = document.getElementById(id);
  out[id] = e ? e.getBoundingClientRect().top + window.scrollY : null;
}
out.cells = Array.from(document.querySelectorAll("td")).map(td => td.innerText.trim());
out.text = document.body.innerText;
const pre = document.createElement("pre"); pre.id = "measured"; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""
BAD_CELL = re.compile(r"\d[eE][+-]\d|^(inf|-inf|nan|NaN|None|True|False|<NA>|NaT)$|\binf\b|\bnan\b")
INTERNAL_IDS = ("breakdown:", "kpi ", "check:", "rate lead->", "follow_up:")


def measure(chromium: str, run_chromium, report: Path, tmp_path: Path) -> dict:
    """Positions (px from the top) of the headline, scorecard and findings headings, every cell, the text."""
    probe = tmp_path / f"measure-{report.parent.name}.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = run_chromium(chromium, tmp_path, f"--window-size={WIDTH},{HEIGHT}", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(chromium: str, run_chromium, report: Path, shot: Path, tmp_path: Path) -> Path:
    run_chromium(chromium, tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", report.as_uri())
    return shot


def assert_first_screen(measured: dict) -> None:
    """Headline, scorecard and "What to adjust" start above the fold; tables and text are for people."""
    for element in ("headline", "scorecard", "adjust"):
        assert measured[element] is not None, f"#{element} missing"
        assert measured[element] < HEIGHT - 40, f"#{element} starts at {measured[element]:.0f}px, below the fold"
    assert measured["adjust"] < measured["worked"], "What to adjust comes before What worked"
    bad = sorted({cell for cell in measured["cells"] if BAD_CELL.search(cell)})
    assert bad == [], f"table cells not formatted for people: {bad[:10]}"
    leaked = [token for token in INTERNAL_IDS if token in measured["text"]]
    assert leaked == [], f"internal ids in the report text: {leaked}"
