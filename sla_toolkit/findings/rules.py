"""The pre-declared rules that turn the analysis records (:mod:`.inputs`) into findings.

Every rule states its criterion up front. A finding of kind ``worked`` or ``adjust`` about a
comparison requires, all at once: a Benjamini–Hochberg q-value below ``spec.analysis.alpha``
computed over *every* test in the report (one family), n at or above ``spec.analysis.min_n`` on
both sides, and an effect of at least ``spec.analysis.min_effect``. Whatever fails is listed as
"no clear evidence either way" with the reason.
"""
from __future__ import annotations

import math

import numpy as np

from ..check_labels import format_count, format_number, format_value, plural, transition_label
from ..pacing import PREDICTION_CONFIDENCE
from ..compare import SlaCheck
from ..types import CheckKind, Direction, FindingKind, Status, Unit
from .inputs import FindingInputs, SegmentComparison
from .model import Confidence, Evidence, Finding, Findings, NoEvidence
from .decided_rules import hygiene_rules
from .wording import (humanize, interval, is_missing_level, lever_action, levers_note, money, pct, points, qtext,
                      stage_label, where_to_look)

_KIND_ORDER = {FindingKind.ADJUST: 0, FindingKind.WORKED: 1, FindingKind.WATCH: 2}


def derive_findings(inputs: FindingInputs) -> Findings:
    """Apply every rule; returns findings ranked by impact within each kind."""
    family = _test_family(inputs)
    items: list[Finding] = []
    silent: list[NoEvidence] = []
    for rule in (_check_rules, _breakdown_rules, _follow_up_rules, _pacing_rules, _cost_rules, _quality_rules,
                 _hygiene_rules):
        found, quiet = rule(inputs, family)
        items += found
        silent += quiet
    if any(f.topic.startswith("check:volume customers") for f in items):
        # after the volume check, a pacing finding would repeat the same projection
        items = [f for f in items if f.rule != "pacing"]
    items.sort(key=lambda f: (_KIND_ORDER[f.kind], -abs(f.impact_customers)))
    spec = inputs.spec
    return Findings(tuple(items), tuple(silent), levers_note(spec.lever_columns, spec.levers is not None,
                                                             [spec.channel_column, *spec.segments]))


# -- one multiple-testing family for the whole report ---------------------------------------------
def _test_family(inputs: FindingInputs) -> dict[str, float]:
    """q-values keyed by test id: Benjamini–Hochberg over every comparison the report makes.

    The family is every comparison of a group with the rest (breakdowns, response time, cost per
    customer). SLA checks are not in it: they compare an estimate with an agreed target, their
    verdict rests on the interval, and most targets differ from the truth, so their tiny p-values
    would loosen the bar for the comparisons.
    """
    p_values: dict[str, float] = {}
    for row in (*inputs.breakdowns, *inputs.hygiene):
        if row.tested and not math.isnan(row.p_value):
            p_values[row.topic] = row.p_value
    if inputs.follow_up is not None and not math.isnan(inputs.follow_up.p_value):
        p_values["follow_up:association"] = inputs.follow_up.p_value
    for row in inputs.costs:
        if not math.isnan(row.p_value):
            p_values[row.topic] = row.p_value
    if not p_values:
        return {}
    keys = list(p_values)
    from statsmodels.stats.multitest import multipletests   # deferred: heavy, not needed to show results

    _, q_values, _, _ = multipletests([p_values[k] for k in keys], alpha=inputs.spec.analysis.alpha,
                                      method="fdr_bh")
    return dict(zip(keys, map(float, q_values)))


def _check_p_value(check: SlaCheck) -> float:
    """Two-sided p-value of estimate = target, from the check's interval (normal approximation)."""
    if check.status not in (Status.MET, Status.MISSED, Status.AT_RISK) or check.kind is not CheckKind.RATE:
        return float("nan")
    if any(math.isnan(v) for v in (check.estimate, check.low, check.high, check.target)):
        return float("nan")
    from scipy import stats as sps   # deferred: heavy, not needed to show results

    se = (check.high - check.low) / (2 * sps.norm.ppf(0.975))
    if se <= 0:
        return float("nan")
    return float(2 * sps.norm.sf(abs(check.estimate - check.target) / se))


# -- SLA checks -----------------------------------------------------------------------------------
def _check_rules(inputs: FindingInputs, family: dict[str, float]):
    spec, found, quiet = inputs.spec, [], []
    missed_rates = [c for c in inputs.checks if c.kind is CheckKind.RATE and c.status is Status.MISSED]
    bottleneck = min(missed_rates, key=lambda c: c.estimate / c.target, default=None)
    for row in inputs.checks:
        status, name = row.status, row.name
        q = float("nan")
        evidence = Evidence(row.estimate, row.low, row.high, row.n, _check_p_value(row), q,
                            _EVIDENCE_UNITS[row.unit])
        if status in (Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE):
            quiet.append(NoEvidence(f"check:{name}", f"{status.value}: {row.reason}".strip(": "), row.label))
            continue
        shown = format_value(row.estimate, row.unit, row.currency)
        target = format_value(row.target, row.unit, row.currency)
        paced = row.kind is CheckKind.VOLUME     # a projection to the deadline: a 90% prediction interval
        span = ("" if math.isnan(evidence.low) or math.isnan(evidence.high) or evidence.low == evidence.high else
                interval(evidence.low, evidence.high, evidence.unit,
                         PREDICTION_CONFIDENCE if paced else spec.analysis.confidence, prediction=paced) + "; ")
        impact = _check_impact(row, inputs)
        if status is Status.MISSED:
            is_bottleneck = bottleneck is not None and row.name == bottleneck.name
            sentence = (f"{row.label} was {shown} against a target of {target} ({span}n = {evidence.n:,}): "
                        "the target was missed" + (", the weakest step of the funnel against its target."
                                                   if is_bottleneck else "."))
            found.append(Finding(FindingKind.ADJUST, f"check:{name}", sentence, evidence, _check_action(row),
                                 f"SLA scorecard: {row.label}", _confidence(evidence, spec), impact,
                                 "bottleneck" if is_bottleneck else "check_missed"))
        elif status is Status.AT_RISK:
            sentence = (f"{row.label} was {shown} against a target of {target} ({span}n = {evidence.n:,}): "
                        "short of the target, but the interval still includes it.")
            found.append(Finding(FindingKind.WATCH, f"check:{name}", sentence, evidence,
                                 "Keep measuring; act if the next pacing runs stay below target.",
                                 f"SLA scorecard: {row.label}", Confidence.LOW, impact, "check_at_risk"))
        elif _clearly_met(row):
            sentence = (f"{row.label} was {shown} against a target of {target} ({span}n = {evidence.n:,}): "
                        "met with a margin the data confirms.")
            found.append(Finding(FindingKind.WORKED, f"check:{name}", sentence, evidence,
                                 "Keep the current practice for this step.", f"SLA scorecard: {row.label}",
                                 _confidence(evidence, spec), impact, "check_met"))
        else:
            quiet.append(NoEvidence(f"check:{name}", "met, but the interval still includes the target",
                                    row.label))
    return found, quiet


def _clearly_met(check: SlaCheck) -> bool:
    """Met, and the whole interval clears the target (an actual count without an interval never does)."""
    if check.status is not Status.MET or math.isnan(check.low) or math.isnan(check.high) or check.low == check.high:
        return False
    if check.direction is Direction.AT_MOST:
        return check.high <= check.target
    return check.low >= check.target


def _check_impact(check: SlaCheck, inputs: FindingInputs) -> float:
    if check.kind is CheckKind.RATE and "->" in check.subject:
        to_stage = check.subject.split("->")[1]
        downstream = inputs.downstream_to_customer.get(to_stage, float("nan"))
        value = (check.estimate - check.target) * check.n * downstream
        return 0.0 if math.isnan(value) else float(value)
    if check.kind is CheckKind.VOLUME and check.subject == "customers":
        return check.estimate - check.target
    return 0.0


def _check_action(check: SlaCheck) -> str:
    kind = check.kind
    if kind is CheckKind.RATE:
        return (f"Review the {transition_label(check.subject)} hand-off: qualification criteria, lead quality by "
                "source and sales capacity; re-check it in the next daily pacing runs.")
    if kind is CheckKind.FOLLOW_UP:
        return "Agree with sales how to meet the follow-up promise (routing, capacity, alerts for untouched leads)."
    if kind is CheckKind.VOLUME:
        return "Raise lead volume or conversion to close the gap; see the pacing section for leads needed per day."
    return "Review spend and targeting for this KPI before the next cycle."


# -- breakdowns -----------------------------------------------------------------------------------
def _breakdown_label(row: SegmentComparison) -> str:
    return f"{humanize(row.dimension)} {row.level}, {transition_label(row.transition)}"


def _breakdown_rules(inputs: FindingInputs, family: dict[str, float]):
    spec, found, quiet = inputs.spec, [], []
    for row in inputs.breakdowns:
        topic = row.topic
        if not row.tested:
            quiet.append(NoEvidence(topic, f"insufficient data: n = {row.n} below the minimum "
                                           f"{spec.analysis.min_n}", _breakdown_label(row)))
            continue
        q = family.get(topic, float("nan"))
        lift = row.lift
        evidence = Evidence(row.lift, row.lift_low, row.lift_high, row.n, row.p_value, q, "points")
        enough = row.n >= spec.analysis.min_n and row.rest_n >= spec.analysis.min_n
        minimum = spec.analysis.min_effect if math.isnan(row.min_effect) else row.min_effect
        if not (enough and q < spec.analysis.alpha and abs(lift) >= minimum):
            why = (f"{qtext(q) or 'not tested'}, difference {points(lift)}" if enough
                   else f"n = {row.n} below the minimum")
            quiet.append(NoEvidence(topic, f"no clear difference from the rest ({why})", _breakdown_label(row)))
            continue
        better = lift > 0
        if is_missing_level(row.level):
            quiet.append(NoEvidence(topic, f"{format_count(row.n, 'lead')} {plural('has', row.n, 'have')} no "
                                           f"{row.dimension} value: a data-quality "
                                           "note (their rate differs from the rest), not a level to keep or drop",
                                    _breakdown_label(row)))
            continue
        from_stage, to_stage = row.transition.split("->")
        who = humanize(row.level) + ("" if row.dimension == spec.channel_column else f" ({row.dimension})")
        adjusted = f" after adjusting for {row.adjusted_for}" if row.adjusted_for else ""
        crude = "" if math.isnan(row.crude_lift) else f"; crude difference {points(row.crude_lift)}"
        sentence = (f"{who} converted {pct(row.rate)} of {row.population or 'its leads'} from "
                    f"{stage_label(from_stage)} to {stage_label(to_stage)}, "
                    f"{points(lift)} {'above' if better else 'below'} the rest{adjusted} "
                    f"({interval(row.lift_low, row.lift_high, 'points', spec.analysis.confidence)}; "
                    f"{qtext(q)}; n = {row.n:,}{crude}).")
        impact = lift * row.n * inputs.downstream_to_customer.get(to_stage, float("nan"))
        impact = 0.0 if math.isnan(impact) else float(impact)
        source = f"Breakdown by {row.dimension} ({transition_label(row.transition)})"
        if not spec.is_lever(row.dimension):   # a description: a where-to-look note, never fed to the mix
            found.append(Finding(FindingKind.WATCH, topic, sentence, evidence,
                                 where_to_look(row.level, row.dimension, better), source,
                                 _confidence(evidence, spec), impact, "segment_note"))
            continue
        action = lever_action(row.level, row.dimension, better, row.dimension == spec.channel_column)
        found.append(Finding(FindingKind.WORKED if better else FindingKind.ADJUST, topic, sentence, evidence,
                             action, source, _confidence(evidence, spec), impact, "breakdown"))
    return found, quiet


# -- follow-up, pacing, costs, data quality -------------------------------------------------------
def _follow_up_rules(inputs: FindingInputs, family: dict[str, float]):
    f, spec = inputs.follow_up, inputs.spec
    if f is None:
        return [], []
    q = family.get("follow_up:association", float("nan"))
    topic = "follow_up:response_time"
    evidence = Evidence(f.diff, f.diff_low, f.diff_high, f.n_late + f.n_on_time, f.p_value, q, "points")
    if min(f.n_late, f.n_on_time) < spec.analysis.min_n:
        return [], [NoEvidence(topic, f"insufficient data: {f.n_late} late and {f.n_on_time} on-time leads",
                               "Follow-up speed and conversion")]
    hurt = f.diff < 0
    if not (q < spec.analysis.alpha and abs(f.diff) >= spec.analysis.min_effect and hurt):
        return [], [NoEvidence(topic, f"no clear link between response time and {f.transition} "
                                      f"({qtext(q)}, difference {points(f.diff)})",
                               "Follow-up speed and conversion")]
    sentence = (f"Leads first contacted later than the promised {format_count(f.within_hours, 'hour')} converted "
                f"{pct(f.rate_late)} at {f.transition}, against {pct(f.rate_on_time)} for leads contacted in time: "
                f"{points(f.diff)} lower ({interval(f.diff_low, f.diff_high, 'points', spec.analysis.confidence)}; "
                f"{qtext(q)}; n = {f.n_late:,} late, {f.n_on_time:,} on time). This is an association: slow "
                "follow-up and weaker leads may go together.")
    to_stage = f.transition.split("->")[1]
    impact = f.diff * f.n_late * inputs.downstream_to_customer.get(to_stage, float("nan"))
    return [Finding(FindingKind.ADJUST, topic, sentence, evidence,
                    f"Enforce the {format_number(f.within_hours)}-hour follow-up promise (routing, alerts for untouched leads) "
                    "and check next cycle whether late leads still convert less.", "Follow-up SLA",
                    _confidence(evidence, spec), 0.0 if math.isnan(impact) else float(impact),
                    "follow_up")], []


def _pacing_rules(inputs: FindingInputs, family: dict[str, float]):
    p = inputs.pacing
    if p is None:
        return [], []
    topic = "pacing:deadline"
    evidence = Evidence(p.expected, p.low, p.high, p.customers_so_far, unit="count")
    status = p.status.upper()
    if status in ("ON_TRACK", "MET"):
        return [], [NoEvidence(topic, f"on track: {pct(p.probability, 0)} probability of reaching "
                                      f"{format_count(p.target, 'customer', digits=0)}", "Pacing to the deadline")]
    if status in ("INSUFFICIENT_DATA", "NOT_APPLICABLE"):
        return [], [NoEvidence(topic, f"pacing: {status}", "Pacing to the deadline")]
    expected = format_count(p.expected, "customer", digits=0)
    sentence = (f"At the current pace {expected} {plural('is', p.expected, 'are')} expected by the "
                f"deadline (90% prediction interval {format_number(p.low, 0)}–{format_number(p.high, 0)}) against a "
                f"target of {format_number(p.target, 0)}: a {pct(p.probability, 0)} chance of reaching it.")
    per_day = ("" if not math.isfinite(p.leads_needed_per_day) or not p.days_left > 0 else
               f" About {format_count(p.leads_needed_per_day, 'new lead', digits=0)} per day "
               f"{plural('is', round(p.leads_needed_per_day), 'are')} needed for the "
               f"remaining {format_count(p.days_left, 'day', digits=0)}.")
    kind = FindingKind.ADJUST if status in ("OFF_TRACK", "MISSED") else FindingKind.WATCH
    return [Finding(kind, topic, sentence, evidence,
                    ("Close the gap:" + per_day) if per_day else "Close the gap with more leads or better conversion.",
                    "Pacing", Confidence.MEDIUM if kind is FindingKind.ADJUST else Confidence.LOW,
                    float(p.expected - p.target), "pacing")], []


def _cost_rules(inputs: FindingInputs, family: dict[str, float]):
    spec, found, quiet = inputs.spec, [], []
    for row in inputs.costs:
        topic = row.topic
        q = family.get(topic, float("nan"))
        if math.isnan(row.p_value):
            quiet.append(NoEvidence(topic, "cost per customer: too few customers to compare",
                                    f"Cost per customer, {humanize(row.channel)}"))
            continue
        rest = row.rest_spend / row.rest_customers if row.rest_customers else float("nan")
        cheaper = row.cost_per_customer < rest
        evidence = Evidence(row.cost_per_customer, row.low, row.high, int(round(row.customers)), row.p_value, q,
                            "money")
        gap = abs(row.cost_per_customer / rest - 1) if rest and not math.isnan(rest) else float("nan")
        if not (q < spec.analysis.alpha and gap >= spec.analysis.min_effect_relative):
            why = qtext(q) if not q < spec.analysis.alpha else (
                f"{gap:.0%} apart, below the minimum of {spec.analysis.min_effect_relative:.0%}")
            quiet.append(NoEvidence(topic, f"cost per customer not clearly different from the rest ({why})",
                                    f"Cost per customer, {humanize(row.channel)}"))
            continue
        counted = (f"{row.customers:,.0f} customers projected within the window, {row.customers_so_far:,} so far"
                   if row.basis == "projected" else f"{row.customers:,.0f} customers")
        sentence = (f"{humanize(row.channel)} cost {money(row.cost_per_customer)} per customer "
                    f"({interval(evidence.low, evidence.high, 'money', spec.analysis.confidence)}; "
                    f"{counted}) against {money(rest)} for the other channels ({qtext(q)}).")
        action = ("Shift budget toward it within the proposal's bounds, as a hypothesis to test." if cheaper else
                  "Cut or retarget its spend within the proposal's bounds, as a hypothesis to test.")
        gained = row.spend / rest - row.customers if rest and not math.isnan(rest) else 0.0
        found.append(Finding(FindingKind.WORKED if cheaper else FindingKind.ADJUST, topic, sentence, evidence,
                             action, "Spend and cost per customer", _confidence(evidence, spec), -gained, "cost"))
    return found, quiet


def _hygiene_rules(inputs: FindingInputs, family: dict[str, float]):
    return hygiene_rules(inputs.hygiene, inputs.decided, inputs.spec, family)


def _quality_rules(inputs: FindingInputs, family: dict[str, float]):
    if not inputs.input_rows:
        return [], []
    share = inputs.quarantined_rows / inputs.input_rows
    topic = "data_quality:quarantine"
    if share <= inputs.spec.analysis.quarantine_watch_share:
        return [], []
    top = ", ".join(f"{reason} ({n:,})" for reason, n in list(inputs.quarantine_reasons.items())[:3])
    sentence = (f"{inputs.quarantined_rows:,} of {inputs.input_rows:,} input rows ({pct(share)}) were set aside "
                f"because they break the data contract: {top}. Results describe the accepted rows only.")
    kind = FindingKind.ADJUST if share > 5 * inputs.spec.analysis.quarantine_watch_share else FindingKind.WATCH
    evidence = Evidence(share, float("nan"), float("nan"), inputs.input_rows, unit="rate")
    return [Finding(kind, topic, sentence, evidence,
                    "Fix the export or the CRM fields behind the main reasons (see quarantine.csv).", "Data quality",
                    Confidence.HIGH, 0.0, "data_quality")], []


# -- small helpers --------------------------------------------------------------------------------
_EVIDENCE_UNITS = {Unit.SHARE: "rate", Unit.MONEY: "money", Unit.COUNT: "count"}


def _confidence(evidence: Evidence, spec) -> Confidence:
    if not np.isnan(evidence.q_value) and evidence.q_value < spec.analysis.alpha / 5 \
            and evidence.n >= 3 * spec.analysis.min_n:
        return Confidence.HIGH
    return Confidence.MEDIUM
