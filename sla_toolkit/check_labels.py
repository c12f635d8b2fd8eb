"""One label table and one formatter for SLA checks, used by the report, the findings, history and the CLI.

Checks carry their kind, subject, unit and currency as fields (:class:`~sla_toolkit.compare.SlaCheck`);
nothing here reads a check's name or reason text.
"""
from __future__ import annotations

import math

from .types import CheckKind, Direction, Unit

KPI_LABELS = {"cost_per_lead": "Cost per lead", "cac": "Cost per customer (CAC)", "revenue": "Revenue"}
VOLUME_LABELS = {"customers": "Customers", "leads": "Leads", "revenue": "Revenue"}
NOT_AVAILABLE = "—"


def stage_word(stage: str, plural: bool = False) -> str:
    """``mql`` -> ``MQL``, ``customer`` -> ``customer``; acronyms (3 letters or fewer) upper-case."""
    word = stage.upper() if len(stage) <= 3 else stage.replace("_", " ")
    return f"{word}s" if plural and not word.endswith("s") else word


def transition_label(transition: str) -> str:
    """``"mql->sql"`` -> ``"MQL → SQL"``."""
    a, _, b = transition.partition("->")
    return f"{stage_word(a)} → {stage_word(b)}"


def kpi_label(kpi: str) -> str:
    if kpi in KPI_LABELS:
        return KPI_LABELS[kpi]
    if kpi.startswith("cost_per_"):
        return f"Cost per {stage_word(kpi[len('cost_per_'):])}"
    return kpi.replace("_", " ").capitalize()


def check_label(kind: CheckKind, subject: str, *, bound: str = "", hours: float | None = None,
                final: bool = False) -> str:
    """The human label of a check: ``"Lead → MQL conversion"``, ``"Customers by the deadline"``, ..."""
    if kind is CheckKind.RATE:
        text = f"{transition_label(subject)} conversion"
        return text[:1].upper() + text[1:]
    if kind is CheckKind.FOLLOW_UP:
        within = f" within {hours:g} h" if hours is not None else ""
        return f"{stage_word(subject, plural=True)} followed up{within}"
    if kind is CheckKind.VOLUME:
        what = VOLUME_LABELS.get(subject, subject.capitalize())
        return f"{what} {'reached by' if final else 'by'} the deadline"
    return kpi_label(subject) + (f" ({bound})" if bound else "")


def unit_of(kind: CheckKind, subject: str) -> Unit:
    """The unit a check's figures are in."""
    if kind in (CheckKind.RATE, CheckKind.FOLLOW_UP):
        return Unit.SHARE
    if subject == "revenue" or subject == "cac" or subject.startswith("cost_per_"):
        return Unit.MONEY
    return Unit.COUNT


def _missing(value) -> bool:
    """None, NaN, pandas' NA or an infinity: nothing a sentence can show as a number."""
    if value is None or isinstance(value, str):
        return value is None
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):   # pd.NA and other non-numbers
        return True


def format_number(value: float | None, digits: int = 1) -> str:
    """A number for a sentence: ``12,345,678``, ``3.5``, ``0.0042``; never ``1e+07``; ``—`` when missing.

    Whole numbers and numbers of 100 or more are shown without decimals, numbers from 1 to 100 with
    ``digits`` decimals, smaller ones with ``digits`` significant digits.

    >>> format_number(10_000_000), format_number(2.0), format_number(3.456), format_number(0.00421)
    ('10,000,000', '2', '3.5', '0.004')
    """
    if _missing(value):
        return NOT_AVAILABLE
    value = float(value)
    if abs(round(value, digits)) >= 100 or value == round(value):
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.{digits}f}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plural(noun: str, value: float | None, plural_form: str | None = None) -> str:
    """``noun`` for exactly one, its plural otherwise (``lead``/``leads``; pass irregular plurals)."""
    one = not _missing(value) and format_number(value) == "1"
    return noun if one else (plural_form or f"{noun}s")


def format_count(value: float | None, noun: str, plural_form: str | None = None, digits: int = 1) -> str:
    """``1 day``, ``2 days``, ``10,000,000 leads``, ``0.5 customers``; ``an unknown number of days`` when missing.

    >>> format_count(1, "day"), format_count(1.0, "lead"), format_count(1_234, "lead"), format_count(float("nan"), "day")
    ('1 day', '1 lead', '1,234 leads', 'an unknown number of days')
    """
    if _missing(value):
        return f"an unknown number of {plural_form or noun + 's'}"
    return f"{format_number(value, digits)} {plural(noun, value, plural_form)}"


def format_value(value: float | None, unit: Unit, currency: str | None = None, digits: int = 1) -> str:
    """A figure for people: ``43.0%``, ``1,234``, ``EUR 50,712``; ``—`` when not available."""
    if _missing(value):
        return NOT_AVAILABLE
    if unit is Unit.SHARE:
        return f"{100 * value:.{digits}f}%"
    if unit is Unit.MONEY:
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
        return f"{currency} {shown}" if currency else shown
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 or abs(value) >= 100 else f"{value:,.1f}"


def format_interval(low: float | None, high: float | None, unit: Unit, currency: str | None = None) -> str:
    """``40.1%–45.9%``; ``—`` when either end is missing or the interval is a single point (an actual count)."""
    if _missing(low) or _missing(high) or low == high:
        return NOT_AVAILABLE
    return f"{format_value(low, unit, currency)}–{format_value(high, unit)}"


def direction_words(direction: Direction) -> str:
    return "at least" if direction is Direction.AT_LEAST else "at most"


def format_chance(probability: float | None) -> str:
    """A simulated probability for people: ``under 1%`` / ``over 99%`` rather than a bare 0% or 100%."""
    if _missing(probability):
        return NOT_AVAILABLE
    if probability < 0.01:
        return "under 1%"
    if probability > 0.99:
        return "over 99%"
    return f"{100 * probability:.0f}%"


def format_p(p: float | None) -> str:
    """``p < 0.001`` instead of ``1e-202``; ``—`` when not tested."""
    if _missing(p):
        return NOT_AVAILABLE
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
