"""Finding inputs and rules for recorded losses: win rates among decided deals, and stale open deals.

With losses recorded, a group's within-window rate for the last stage counts its stale open deals as
failures, so one team holding more forgotten deals looks worse at winning. :func:`decided_breakdown_rows`
therefore replaces those breakdown rows by rows on decided deals only (won / (won + lost)); stale
deals are judged apart, by :func:`hygiene_rows` and :func:`hygiene_rules` (pipeline hygiene).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..breakdowns import _two_proportion
from ..check_labels import format_count, plural
from ..decided import DecidedDeals
from ..spec import SlaSpec
from ..types import FindingKind
from .inputs import DecidedSummary, HygieneComparison, SegmentComparison, records
from .model import Confidence, Evidence, Finding, NoEvidence
from .wording import humanize, interval, is_missing_level, pct, points, qtext

DECIDED_POPULATION = "its decided deals (won or lost)"
def _compare(groups: pd.DataFrame, k_column: str, n_column: str, min_n: int, alpha: float) -> pd.DataFrame:
    """Each level against the rest of its column: counts, rates, lift, interval and p-value."""
    parts = []
    for column, rows in groups.groupby("column", sort=False):
        k = rows[k_column].to_numpy(float)
        n = rows[n_column].to_numpy(float)
        k_rest, n_rest = k.sum() - k, n.sum() - n
        table = pd.DataFrame({"dimension": column, "level": rows["level"].astype(str).to_numpy(), "n": n.astype(int),
                              "successes": k.astype(int), "rest_n": n_rest.astype(int)})
        with np.errstate(invalid="ignore", divide="ignore"):
            table["rate"] = np.where(n > 0, k / n, np.nan)
            table["rest_rate"] = np.where(n_rest > 0, k_rest / n_rest, np.nan)
        for name in ("lift", "lift_low", "lift_high", "p_value"):
            table[name] = np.nan
        tested = (n >= min_n) & (n_rest >= min_n) & (len(rows) > 1)
        if tested.any():
            found = _two_proportion(k[tested], n[tested], k_rest[tested], n_rest[tested], alpha)
            for name in ("lift", "lift_low", "lift_high", "p_value"):
                table.loc[tested, name] = found[name]
        table["tested"] = tested
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def decided_breakdown_rows(decided: DecidedDeals, spec: SlaSpec) -> tuple[SegmentComparison, ...]:
    """Segment comparisons of the win rate among decided deals."""
    compared = [spec.channel_column, *spec.segments]   # the columns the breakdowns compare
    groups = decided.groups.loc[decided.groups["column"].isin(compared)]
    groups = groups.assign(decided=groups["won"] + groups["lost"])
    table = _compare(groups, "won", "decided", spec.analysis.min_n, 1 - spec.analysis.confidence)
    if table.empty:
        return ()
    from ..breakdowns import minimum_effect
    from ..stats import wilson_bounds

    table["rate_low"], table["rate_high"] = wilson_bounds(table["successes"], table["n"], spec.analysis.confidence)
    table["transition"] = f"{spec.funnel.first}->{spec.funnel.last}"
    table["population"] = DECIDED_POPULATION
    # a crude comparison (no adjusted model for decided deals), gated by the same practical minimum
    table["crude_lift"] = table["lift"]
    table["min_effect"] = minimum_effect(table["rest_rate"], spec.analysis.min_effect,
                                         spec.analysis.min_effect_relative)
    return records(SegmentComparison, table)


def hygiene_rows(decided: DecidedDeals, spec: SlaSpec) -> tuple[HygieneComparison, ...]:
    """Per level: aging open deals among all its deals, against the rest."""
    if not decided.applicable or decided.groups.empty:
        return ()
    table = _compare(decided.groups, "aging", "deals", spec.analysis.min_n, 1 - spec.analysis.confidence)
    table = table.rename(columns={"successes": "aging", "rate": "share", "rest_rate": "rest_share"})
    return records(HygieneComparison, table)


def hygiene_rules(hygiene: tuple[HygieneComparison, ...], decided_summary: DecidedSummary | None, spec: SlaSpec,
                  family: dict[str, float]) -> tuple[list[Finding], list[NoEvidence]]:
    """WATCH findings: the pipeline holds many stale open deals; a group holds more of them than the rest."""
    found, quiet = [], []
    analysis = spec.analysis
    s = decided_summary
    if s is not None and s.aging and s.aging_low > 0.05:
        sentence = (f"{format_count(s.aging, 'open deal')} ({pct(s.aging_share)} of all "
                    f"{format_count(s.deals, 'deal')}; "
                    f"{interval(s.aging_low, s.aging_high, confidence=analysis.confidence)}) "
                    f"{plural('has', s.aging, 'have')} been open "
                    f"longer than the {s.window_days}-day window: they inflate the open pipeline.")
        found.append(Finding(FindingKind.WATCH, "hygiene:aging_open", sentence,
                             Evidence(s.aging_share, s.aging_low, s.aging_high, s.deals),
                             "Close or re-qualify deals open longer than the window before the next forecast; "
                             "a stale deal is usually a loss nobody recorded.", "Pipeline hygiene: aging open deals",
                             Confidence.MEDIUM, 0.0, "hygiene"))
    for row in hygiene:
        topic = row.topic
        if not row.tested or is_missing_level(row.level):
            continue
        q = family.get(topic, float("nan"))
        lift = row.lift
        if not (q < analysis.alpha and lift > 0 and abs(lift) >= analysis.min_effect):
            quiet.append(NoEvidence(topic, f"stale open deals: no clear difference from the rest ({qtext(q)}, "
                                           f"difference {points(lift)})",
                                    f"Stale open deals, {row.dimension} {row.level}"))
            continue
        who = humanize(row.level) + ("" if row.dimension == spec.channel_column else f" ({row.dimension})")
        sentence = (f"{who} holds more stale open deals: {pct(row.share)} of its {format_count(row.n, 'deal')} have "
                    f"been open longer than the window, {points(lift)} above the rest "
                    f"({interval(row.lift_low, row.lift_high, 'points', analysis.confidence)}; {qtext(q)}).")
        found.append(Finding(FindingKind.WATCH, topic, sentence,
                             Evidence(row.lift, row.lift_low, row.lift_high, row.n, row.p_value, q, "points"),
                             f"Ask {humanize(row.level)} to close or re-qualify its old open deals; its win rate "
                             "among decided deals is judged separately.", f"Pipeline hygiene by {row.dimension}",
                             Confidence.HIGH if q < analysis.alpha / 10 else Confidence.MEDIUM, 0.0, "hygiene"))
    return found, quiet


def decided_summary(decided: DecidedDeals) -> DecidedSummary | None:
    """The overall figures the hygiene rule reads (None when losses are not recorded)."""
    if not decided.applicable:
        return None
    a = decided.aging_share
    return DecidedSummary(int(decided.aging), int(a.n), float(a.estimate), float(a.low), float(a.high),
                          int(decided.window_days))

