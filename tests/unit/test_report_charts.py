"""The report's charts: burn-up from pacing's own series, forest plots, Kaplan–Meier of the top groups,
the table of contents; each chart is an embedded PNG with a caption a manager reads."""
from __future__ import annotations

import base64
import io
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
from matplotlib import image

from sla_toolkit.check_labels import format_chance
from sla_toolkit.pacing import pace
from sla_toolkit.report import charts
from sla_toolkit.report.export import with_contents

from test_pacing import AS_OF, hand_leads, make_spec


def png_of(html: str) -> np.ndarray:
    found = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert found, "no embedded PNG"
    return image.imread(io.BytesIO(base64.b64decode(found.group(1))))


def caption_of(html: str) -> str:
    return re.search(r"<figcaption[^>]*>(.*?)</figcaption>", html, re.S).group(1)


def test_pacing_keeps_the_burn_up_series_and_the_fan():
    result = pace(hand_leads(), make_spec(simulations=2000), AS_OF)
    # won on 01-02, 01-04, 01-13: the cumulative count by day, nothing after the as-of date
    series = dict(result.cumulative)
    assert series["2027-01-01"] == 0 and series["2027-01-02"] == 1 and series["2027-01-12"] == 2
    assert series["2027-01-13"] == 3 and max(series) == "2027-01-21" and result.cumulative[-1][1] == 3
    q05, q25, q50, q75, q95 = result.fan
    assert q05 <= q25 <= q50 <= q75 <= q95 and q05 == result.low and q95 == result.high
    assert "fan" not in result.to_frame() and result.to_dict()["cumulative"][-1] == ["2027-01-21", 3]


def test_burn_up_chart_caption_states_the_projection_in_words():
    result = pace(hand_leads(), make_spec(customers=5, simulations=2000), AS_OF)
    html = charts.burn_up_chart(result)
    caption = caption_of(html)
    assert caption.startswith("3 customers so far; by 30 Jan 2027 we expect")
    assert f"{format_chance(result.probability)} chance of reaching the target" in caption
    assert png_of(html).shape[1] > 600
    assert charts.burn_up_chart(pace(hand_leads().drop(columns="customer_at"), make_spec(), AS_OF)) == ""


def test_chance_is_never_a_bare_zero_or_hundred():
    assert [format_chance(p) for p in (0.00275, 0.31, 0.996, float("nan"))] == ["under 1%", "31%", "over 99%", "—"]


def _fit(ratio: str, rows: list[tuple]) -> SimpleNamespace:
    summary = pd.DataFrame(rows, columns=["column", "level", "role", ratio, "ci_low", "ci_high"])
    return SimpleNamespace(fitted=True, summary=summary)


def test_ratio_forest_aligns_terms_across_fits_and_drops_references():
    first = _fit("odds_ratio", [("channel", "email", "reference", 1.0, np.nan, np.nan),
                                ("channel", "social", "level", 0.5, 0.4, 0.7),
                                ("pages", "", "numeric", 1.1, 0.9, 1.3)])
    second = _fit("odds_ratio", [("channel", "referral", "level", 2.0, 1.5, 2.6),
                                 ("channel", "social", "level", 0.9, 0.5, 1.6)])
    unfitted = SimpleNamespace(fitted=False, summary=pd.DataFrame())
    rows = charts._ratio_rows(first, "odds_ratio")
    assert rows["label"].tolist() == ["channel: social", "pages (per unit)"]          # reference left out
    html = charts.ratio_forest_chart({"a": first, "b": second, "c": unfitted}, "odds_ratio", "odds ratios")
    assert "associations, not proof of cause" in caption_of(html)
    assert charts.ratio_forest_chart({"c": unfitted}, "odds_ratio", "odds ratios") == ""


def test_breakdown_forest_colours_only_the_flagged_levels():
    summary = pd.DataFrame({
        "transition": ["a->b"] * 4, "column": ["channel"] * 3 + ["region"],
        "level": ["x", "y", "z", "north"], "n_matured": [300, 200, 100, 50],
        "effect": [0.10, -0.08, 0.01, 0.0], "effect_low": [0.05, -0.12, -0.03, 0.0],
        "effect_high": [0.15, -0.03, 0.05, 0.0], "verdict": ["ABOVE_REST", "BELOW_REST", "NO_EVIDENCE", "NO_EVIDENCE"]})
    (html,) = charts.breakdown_forest_charts(SimpleNamespace(breakdowns=SimpleNamespace(summary=summary)))
    caption = caption_of(html)
    assert "clearly above/below (2 of 4: q below" in caption and "pulled to zero" in caption


def km_curves(groups: dict[str, int]) -> pd.DataFrame:
    rows = []
    for group, n in {"all": sum(groups.values()), **groups}.items():
        for t in (1.0, 5.0, 10.0):
            rows.append(("a->b", group, t, t / 20, t / 25, t / 15, n))
    return pd.DataFrame(rows, columns=["transition", "group", "time_days", "conversion", "low", "high", "at_risk"])


def test_km_chart_shows_the_largest_groups_only_and_labels_the_window():
    curves = km_curves({"tiny": 5, "big": 500, "mid": 200, "small": 50, "large": 300, "smallest": 2})
    html = charts.km_chart(curves, "a->b", window=14)
    caption = caption_of(html)
    assert "the 4 largest groups" in caption and "2 smaller groups left out" in caption
    assert "dashed line is the agreed window" in caption
    assert charts.km_chart(curves, "b->c", window=14) == ""


def test_contents_link_every_section_heading():
    page = ('<html><body><main><h2 id="Pacing-to-the-deadline">Pacing to the deadline<a class="anchor-link" '
            'href="#Pacing-to-the-deadline">¶</a></h2><h2 id="Funnel">Funnel<a class="anchor-link" href="#Funnel">'
            "¶</a></h2></main></body></html>")
    out = with_contents(page)
    nav = out[out.index("<nav"):out.index("</nav>")]
    assert nav.count("<a ") == 2 and 'href="#Funnel">Funnel</a>' in nav
    assert with_contents("<main><p>no headings</p></main>") == "<main><p>no headings</p></main>"


def test_burn_up_of_an_equal_pacing_is_drawn_once_and_a_different_one_again():
    import pickle

    result = pace(hand_leads(), make_spec(simulations=2000), AS_OF)
    charts._DRAWN.clear()
    first = charts.burn_up_chart(result)
    again = charts.burn_up_chart(pickle.loads(pickle.dumps(result)))   # the second notebook's own copy
    assert again == first and len(charts._DRAWN) == 1
    other = pace(hand_leads(), make_spec(customers=9, simulations=2000), AS_OF)
    assert charts.burn_up_chart(other) != first and len(charts._DRAWN) == 2
