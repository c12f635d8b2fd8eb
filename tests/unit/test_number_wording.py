"""Numbers in sentences are for people: no ``1e+07``, no ``nan``/``inf``/``None``, no "1 days".

Every sentence builder of the report, findings, pacing (CLI and report), digest and SLA checks is fed
edge values (0, 1, 1.0, ten million, NaN, infinity) and its text is searched for what must never show.
"""
from __future__ import annotations

import math
import re
from types import SimpleNamespace

import pandas as pd
import pytest

from sla_toolkit.check_labels import format_count, format_number, plural
from sla_toolkit.compare import judge
from sla_toolkit.coverage import CoverageGap
from sla_toolkit.digest.render import digest_lines
from sla_toolkit.findings.decided_rules import hygiene_rules
from sla_toolkit.findings.inputs import DecidedSummary, PacingEvidence
from sla_toolkit.findings.rules import _pacing_rules
from sla_toolkit.findings.wording import interval, money, pct, points
from sla_toolkit.history.compare import _fmt as history_figure
from sla_toolkit.pacing import PacingResult, format_pacing
from sla_toolkit.report.sections import pacing_text
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.stats import RateEstimate
from sla_toolkit.types import Direction, Status

EDGES = [0, 1, 1.0, 10_000_000, float("nan"), float("inf")]
NOUNS = "days|leads|customers|simulations|deals|rows|hours|reasons|open deals|new leads|points|lead rows"
NEVER = [re.compile(r"\d[eE][+-]?\d"),                         # scientific notation
         re.compile(r"\b(nan|NaN|inf|Infinity|None)\b"),
         re.compile(rf"(?<![\d.,])1 ({NOUNS})\b")]          # "1 days"


def shown_problems(text: str) -> list[str]:
    return [m.group(0) for pattern in NEVER for m in pattern.finditer(text)]


def _count_of(value) -> int:
    return int(value) if math.isfinite(value) else 1


def pacing_result(value: float, target: int | None = 5, status: Status = Status.AT_RISK) -> PacingResult:
    count = _count_of(value)
    return PacingResult(
        name="edge", as_of=pd.Timestamp("2027-01-10"), deadline=pd.Timestamp("2027-02-01"), days_remaining=value,
        target_customers=target, customers_so_far=count, expected_from_open=value, expected_from_new=value,
        expected_customers=value, low=value, high=value, probability=value, status=status, gap=value,
        leads_so_far=count, daily_leads=value, leads_needed_per_day=value, new_lead_conversion=value,
        n_not_converted=count, simulations=count)


SPEC = spec_from_dict({"name": "edge", "period": {"start": "2027-01-01", "end": "2027-01-31"},
                       "funnel": {"stages": ["lead", "customer"]}})


def report_pacing(value):
    return pacing_text(SimpleNamespace(pacing=pacing_result(value))) + pacing_text(
        SimpleNamespace(pacing=pacing_result(value, target=None, status=Status.MET)))


def cli_pacing(value):
    return format_pacing(pacing_result(value)) + format_pacing(pacing_result(value, target=None))


def finding_pacing(value):
    texts = []
    for status in ("AT_RISK", "MET"):
        evidence = PacingEvidence(status, value, value, value, value, value, _count_of(value), value,
                                  _count_of(value))
        found, quiet = _pacing_rules(SimpleNamespace(pacing=evidence), {})
        texts += [f.sentence + " " + f.action for f in found] + [q.reason for q in quiet]
    return " ".join(texts)


def finding_hygiene(value):
    count = max(_count_of(value), 1)
    summary = DecidedSummary(aging=count, deals=count, aging_share=value, aging_low=0.5, aging_high=value,
                             window_days=count)
    found, _ = hygiene_rules((), summary, SPEC, {})
    return " ".join(f.sentence for f in found)


def check_reasons(value):
    texts = [judge(value, value, value, 0.5, Direction.AT_LEAST, 100, 10)[1],
             judge(value, 0.0, value, 2.0, Direction.AT_LEAST, 100, 10)[1],
             judge(0.1, 0.05, 0.2, value, Direction.AT_LEAST, 100, 10)[1],
             judge(value, value, value, 0.5, Direction.AT_LEAST, _count_of(value) - 1, _count_of(value))[1]]
    return " ".join(texts)


def digest_text(value):
    count = _count_of(value)
    pacing = pacing_result(value)
    window = SimpleNamespace(share=RateEstimate(count, count, value, value, value), by_team=pd.DataFrame())
    digest = SimpleNamespace(
        sla="edge", as_of=pd.Timestamp("2027-01-10"),
        marketing=SimpleNamespace(pacing=pacing, deliveries=(SimpleNamespace(stage="lead", delivered=count,
                                                                             target=value, promised_to_date=value),)),
        sales=SimpleNamespace(today=window, week=None, within_hours=value, waiting=[], note="", team_column=None,
                              stage="lead"))
    changes = SimpleNamespace(previous_status=None, new_waiting=set(), resolved_waiting=["L1"] * count,
                              first=False, since="2027-01-09", mark=lambda key: "")
    lines = digest_lines(digest, changes)
    rows = lines["marketing"] + lines["sales"]
    return " ".join([lines["headline"], *lines["notes"], *(f"{r.label} {r.value}" for r in rows)])


def coverage_sentence(value):
    count = _count_of(value)
    gap = CoverageGap("customer", pd.Timestamp("2027-01-08"), pd.Timestamp("2027-01-05"), count, value,
                      1e-93 if value else value, count, count)
    return gap.sentence


def wording_helpers(value):
    return " ".join([format_number(value), format_count(value, "day"), format_count(value, "lead"), pct(value),
                     points(value), money(value), interval(value, value), interval(value, value, "count"),
                     history_figure(value), plural("lead", value)])


BUILDERS = [coverage_sentence, report_pacing, cli_pacing, finding_pacing, finding_hygiene, check_reasons, digest_text, wording_helpers]


@pytest.mark.parametrize("value", EDGES, ids=lambda v: repr(v))
@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_sentences_never_show_raw_numbers(builder, value):
    text = builder(value)
    assert text.strip()
    assert shown_problems(text) == [], text


@pytest.mark.parametrize("value, noun, expected", [
    (0, "day", "0 days"), (1, "day", "1 day"), (1.0, "lead", "1 lead"), (2, "day", "2 days"),
    (10_000_000, "lead", "10,000,000 leads"), (1_234.5, "lead", "1,234 leads"), (0.25, "customer", "0.2 customers"),
    (float("nan"), "day", "an unknown number of days"), (float("inf"), "day", "an unknown number of days")])
def test_counts_are_worded_for_people(value, noun, expected):
    assert format_count(value, noun) == expected


def test_a_day_left_and_a_lead_not_converted_are_singular():
    text = report_pacing(1) + cli_pacing(1)
    assert "1 day left" in text and "1 lead not converted yet" in text and "1 days" not in text
    assert "10,000,000 days left" in report_pacing(10_000_000)
    assert judge(12_345_678.0, 1.0, 2e7, 0.5, Direction.AT_LEAST, 100, 10)[1] == \
        "estimate 12,345,678 meets the target 0.5"
