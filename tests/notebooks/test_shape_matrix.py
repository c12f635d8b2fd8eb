"""Every data shape a real export takes runs end to end through ``sla-toolkit run`` (papermill, both
notebooks, nbconvert HTML): flags-only, dated and won/lost/open pipelines; with and without ids,
extras (spend, follow-up, segments, features, revenue); two and five stages.

The shapes are the pairwise covering set :data:`sla_toolkit.datasets.shapes.SHAPE_MATRIX` (6 runs of
2,000 leads instead of the 24 of the full product). Each run must exit 0 with a report whose visible
text never shows a raw error, ``nan``/``None`` or an empty table, and whose sections say plainly what
does not apply.
"""
from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from sla_toolkit.cli import main
from sla_toolkit.datasets.shapes import MISSPELT_PRODUCT, SHAPE_MATRIX, Shape, Timing, write_shape
from sla_toolkit.spec import load_spec

FORBIDDEN = ("KeyError", "Traceback", "nan", "NaN", "None", "inf")


def visible_text(page: str) -> str:
    """What a reader sees: the report without styles, scripts, embedded images and tags."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def empty_tables(page: str) -> list[str]:
    """Tables with a header row and no body rows."""
    return [t[:200] for t in re.findall(r"<table\b.*?</table>", page, flags=re.S)
            if "<th" in t and not re.search(r"<tbody>\s*<tr", t) and "<td" not in t]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("shape-reports")


@pytest.mark.parametrize("shape", SHAPE_MATRIX, ids=lambda s: s.name)
def test_shape_runs_end_to_end(shape: Shape, reports, tmp_path, capsys):
    paths = write_shape(shape, tmp_path)
    code = main(["run", "--sla", str(paths.sla), "--source", str(paths.source), "--out", str(reports)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    slug = load_spec(paths.sla).slug
    (folder,) = [p for p in (reports / slug).iterdir() if p.is_dir() and not p.name.startswith(".")]
    page = (folder / "report.html").read_text()
    text = visible_text(page)
    shown = [(w, text[max(m.start() - 80, 0):m.end() + 40]) for w in FORBIDDEN
             for m in re.finditer(rf"\b{w}\b", text)]
    assert shown == [], shown[:5]
    assert empty_tables(page) == []
    results = json.loads((folder / "results.json").read_text())
    quality = results["data_quality"]
    assert quality["accepted_rows"] + quality["quarantined_rows"] == quality["input_rows"] == shape.rows
    if shape.timing is Timing.FLAGS:
        assert "No stage dates: time to convert is not applicable" in text
        assert "Pacing not applicable" in text
        assert "not applicable (no stage dates)" in text
    if shape.timing is Timing.PIPELINE:   # losses recorded: time to win by cumulative incidence, named
        assert "Method: cumulative incidence, losses as a competing event" in text
    elif shape.timing is Timing.DATED:
        assert "Method: Kaplan–Meier, open leads censored" in text
    if not shape.extras:
        assert "No spend table was mapped: cost KPIs are not applicable" in text
        assert "Follow-up SLA not applicable" in text
    if shape.extras:   # the lookup join on Product: the misspelt key is named with its row count
        unmatched = (pd.read_csv(paths.folder / "leads.csv")["Product"] == MISSPELT_PRODUCT).sum()
        assert f"{unmatched:,} lead rows have a Product that matches no Product Name" in text
        assert f"'{MISSPELT_PRODUCT}' ({unmatched:,} rows)" in text
    if not shape.ids:
        assert quality["quarantined_rows"] == 0   # identical rows are different people when ids are generated
