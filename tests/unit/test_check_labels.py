"""Typed SLA checks: one label table and one formatter; the report's first screen rendered from templates."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd

from sla_toolkit.check_labels import check_label, format_interval, format_p, format_value, unit_of
from sla_toolkit.compare import ChecksResult, SlaCheck
from sla_toolkit.report import render
from sla_toolkit.report.sanitize import people_number
from sla_toolkit.types import CheckKind, Direction, Status, Unit

NAN = float("nan")


def check(kind, subject, status, estimate, low, high, target, **fields) -> SlaCheck:
    unit = unit_of(kind, subject)
    return SlaCheck(f"{kind.value} {subject}", target, fields.pop("direction", Direction.AT_LEAST), estimate, low,
                    high, fields.pop("n", 500), status, "technical reason", fields.pop("basis", ""), kind=kind,
                    subject=subject, unit=unit, label=check_label(kind, subject, **fields.pop("label", {})),
                    **fields)


def test_labels_come_from_fields_not_names():
    assert check_label(CheckKind.RATE, "lead->mql") == "Lead → MQL conversion"
    assert check_label(CheckKind.FOLLOW_UP, "mql", hours=24) == "MQLs followed up within 24 h"
    assert check_label(CheckKind.VOLUME, "customers", final=True) == "Customers reached by the deadline"
    assert check_label(CheckKind.KPI, "cac") == "Cost per customer (CAC)"
    assert check_label(CheckKind.KPI, "cost_per_sql", bound="max") == "Cost per SQL (max)"
    assert unit_of(CheckKind.KPI, "cost_per_sql") is Unit.MONEY and unit_of(CheckKind.VOLUME, "leads") is Unit.COUNT


def test_formatter_writes_figures_for_people():
    assert format_value(0.43, Unit.SHARE) == "43.0%"
    assert format_value(50712.3, Unit.MONEY, "EUR") == "EUR 50,712"
    assert format_value(49.614, Unit.MONEY) == "49.61"
    assert format_value(1279000.0, Unit.COUNT) == "1,279,000"
    assert format_value(math.inf, Unit.MONEY) == format_value(NAN, Unit.SHARE) == "—"
    assert format_interval(0.40, 0.46, Unit.SHARE) == "40.0%–46.0%"
    assert format_interval(665.0, 665.0, Unit.COUNT) == "—"          # an actual count has no interval
    assert format_p(1.46e-202) == "< 0.001" and format_p(0.2392) == "0.239"
    cells = [people_number(v, c) for v, c in [(5.071e4, "cost"), (1e-202, "p"), (math.inf, "x"), (None, "x"),
                                               (True, "x"), (0.2392, "rate"), (pd.NA, "x"), (3, "n")]]
    assert cells == ["50,710", "< 0.001", "—", "—", "yes", "0.239", "—", "3"]


def test_headline_and_scorecard_from_templates_escape_and_colour():
    checks = (check(CheckKind.RATE, "mql->sql", Status.MISSED, 0.43, 0.39, 0.47, 0.54),
              check(CheckKind.VOLUME, "customers", Status.AT_RISK, 80.0, 70.0, 91.0, 89.0, basis="pacing",
                    probability=0.31),
              check(CheckKind.FOLLOW_UP, "mql", Status.MET, 0.93, 0.91, 0.95, 0.9, label={"hours": 24}),
              check(CheckKind.KPI, "<b>x</b>", Status.NOT_APPLICABLE, NAN, NAN, NAN, 10.0))
    result = SimpleNamespace(checks=ChecksResult(checks, pd.Timestamp("2025-03-24")))
    status, _, sentence = render.headline_sentence(checks)
    assert status == "MISSED" and sentence == "1 of 3 SLA targets missed: MQL → SQL conversion; 1 at risk."
    page = render.headline(result)
    assert "Bottleneck step" in page and "MQL → SQL" in page and "31% chance of reaching it" in page
    card = render.scorecard(result)
    assert 'id="scorecard"' in card and "&lt;b&gt;x&lt;/b&gt;" in card and "<b>x</b>" not in card   # autoescape
    assert "background:#b3261e" in card and "\U0001F534 Missed" in card          # inline colour and text mark
    assert "at risk by the deadline: 31% chance of reaching it" in card
    assert card.count("<svg") == 3                                                 # no mark without an estimate
