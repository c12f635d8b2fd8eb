"""Follow-up and cost tables in the report are worded for people: no internal column names, percentages
with their intervals, money with its currency, "—" where a figure does not apply."""
from __future__ import annotations

import html
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sla_toolkit.followup import follow_up_sla
from sla_toolkit.report.sections import cost_table, follow_up_block
from sla_toolkit.report.sanitize import frame_html

from test_followup import AS_OF, make_leads, make_spec

INTERNAL = ("n_touched", "quantile", "sufficient", "cost_per_lead", "customers_so_far", "p_value", "True", "False",
            "nan", "inf", "->")


def visible(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_follow_up_block_words_every_table():
    text = visible(follow_up_block(SimpleNamespace(follow_up=follow_up_sla(make_leads(), make_spec(), AS_OF))))
    assert not [word for word in INTERNAL if word in text], text
    # 5 touched leads, median 1 hour; team A: 2 of 3 within, Wilson 95% CI 20.8%-93.9%
    assert "Response time, 5 leads touched" in text and "50% within" in text
    assert re.search(r"A\s+2\s+3\s+66\.7% \(20\.8%–93\.9%\)\s+yes", text), text
    assert "MQL → customer" in text or "mql → customer" in text.lower()


def test_cost_table_shows_money_intervals_and_the_basis_in_words():
    table = pd.DataFrame({"channel": ["email", "events"], "spend": [7853.69, 50060.46], "leads": [582, 384],
                          "customers_so_far": [10, 3], "cost_per_lead": [13.4943, 130.3658],
                          "cost_per_lead_low": [12.4412, 117.9571], "cost_per_lead_high": [14.6614, 144.4544],
                          "basis": ["projected", "not_matured"], "cost_per_customer": [392.68, np.inf],
                          "low": [310.2, np.nan], "high": [501.9, np.nan], "p_value": [0.0004, np.nan]})
    shown = cost_table(table, "EUR")
    assert list(shown.columns) == ["channel", "spend (EUR)", "leads", "customers so far", "cost per lead (EUR)",
                                   "cost per customer (EUR)", "customers counted", "p"]
    text = visible(frame_html(shown))
    assert "7,853.69" in text and "13.49 (12.44–14.66)" in text and "392.68 (310.20–501.90)" in text
    assert "customers projected within the window" in text and "too early" in text and "< 0.001" in text
    assert not [word for word in INTERNAL if word in text], text
    assert text.count("—") == 2   # events: no cost per customer, no p-value


def test_scoring_table_names_both_aucs_with_intervals():
    from sla_toolkit.report.sections import scoring_table

    summary = pd.DataFrame({"model": ["logistic_regression", "gradient_boosting"], "auc": [0.5634, 0.5476],
                            "auc_low": [0.5381, 0.5219], "auc_high": [0.5887, 0.5731], "fold_auc_min": [0.5169, 0.5402],
                            "fold_auc_max": [0.6106, 0.5519], "out_of_time_auc": [0.5884, np.nan],
                            "out_of_time_low": [0.5396, np.nan], "out_of_time_high": [0.6372, np.nan],
                            "brier": [0.2047, 0.2285], "chosen": [True, False]})
    text = " ".join(visible(frame_html(scoring_table(summary))).split())
    assert "Logistic regression 0.563 (0.538–0.589) 0.517–0.611 0.588 (0.540–0.637) 0.205 yes" in text, text
    assert "Gradient boosting 0.548 (0.522–0.573) 0.540–0.552 — 0.229 no" in text, text
    assert "auc_low" not in text and "out_of_time" not in text
