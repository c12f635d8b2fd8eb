"""HTML blocks of the cycle report, built from a :class:`~sla_toolkit.pipeline.CycleResult`.

Every piece of user data (SLA name, campaign and channel names, reasons quoting values) is escaped
here or by pandas ``to_html(escape=True)``; nothing is marked safe.
"""
from __future__ import annotations

import math

import pandas as pd

from ..check_labels import format_chance, format_count, format_number, format_p, plural, transition_label
from ..findings.wording import is_missing_level, money, pct, points, stage_label
from ..types import FindingKind
from .sanitize import escape_text as esc
from .sanitize import frame_html
from . import render

STYLE = """
<style>
.sla h1 {font-size: 1.6em; margin-bottom: .2em}
.sla .muted {color: #555}
.sla table.scorecard {border-collapse: collapse; margin: .5em 0}
.sla table.scorecard td, .sla table.scorecard th {border: 1px solid #ccc; padding: 4px 8px; text-align: left}
.sla .status {font-weight: bold; color: white; padding: 2px 6px; border-radius: 3px; white-space: nowrap}
.sla .MET {background: #1b7f3b} .sla .AT_RISK {background: #c77700} .sla .MISSED {background: #b3261e}
.sla .INSUFFICIENT_DATA {background: #7a7a7a} .sla .NOT_APPLICABLE {background: #b0b0b0}
.sla .finding {margin: .4em 0; padding: .4em .6em; border-left: 4px solid #999; background: #fafafa}
.sla .finding-worked {border-color: #1b7f3b} .sla .finding-adjust {border-color: #b3261e}
.sla .finding-watch {border-color: #c77700}
</style>
"""


def header(result) -> str:
    spec = result.spec
    # the run's snapshot leaves the lead table out: a cohort breakdown exists exactly when leads have dates
    dated = not result.funnel.by_cohort.empty
    as_of = (f"data as of {result.as_of:%Y-%m-%d %H:%M}" if dated else
             f"the data has no dates: figures cover every row, read as of the deadline ({result.as_of:%Y-%m-%d})")
    return (STYLE + f'<div class="sla"><h1>SLA report: {esc(spec.name)}</h1>'
            f'<p class="muted">Period {esc(spec.period.start)} to {esc(spec.period.end)} (deadline) · '
            f"{esc(as_of)} · cycle {esc(result.cycle_id)} · {esc(result.scope_note)}</p></div>")


def missing_level_notes(result) -> list[str]:
    """One data-quality note per segment column whose values are missing or "unknown" for some leads."""
    summary = result.breakdowns.summary
    if summary.empty:
        return []
    rows = summary.loc[summary["level"].map(is_missing_level)].drop_duplicates(["column", "level"])
    return [f"{format_count(int(r.n_entered), 'lead')} {plural('has', int(r.n_entered), 'have')} no {r.column} "
            f"value (shown as {r.level!s}): treated as missing, not as a group to keep or drop"
            for r in rows.itertuples()]


_BASIS_WORDS = {"matured_cohort": "leads whose conversion window has ended",
                "km_projection": "Kaplan–Meier projection over all leads, open ones included",
                "plain_rate": "all leads (no dates to censor on)", "pacing": "projection to the deadline",
                "actual": "actual count at the deadline", "wilson": "leads past the promised time",
                "spend / Poisson count": "spend to date over the count to date"}


_COMPETING_BASIS = "cumulative-incidence projection over all leads (losses as a competing event)"


def scorecard(result) -> str:
    """One row per SLA target: human label, target, estimate, interval mark, n, coloured status, in words."""
    return render.scorecard(result)


def headline(result) -> str:
    """The verdict in one sentence and the KPI tiles (customers vs target, bottleneck, follow-up, met)."""
    return render.headline(result)


def top_findings(result, k: int = 3) -> str:
    parts = ['<div class="sla">']
    for kind, heading in ((FindingKind.ADJUST, "What to adjust"), (FindingKind.WORKED, "What worked"),
                          (FindingKind.WATCH, "Watch")):
        chosen = result.findings.top(kind, k)
        total = len(result.findings.of_kind(kind))
        parts.append(f'<h3 id="{kind.value}">{heading} ({total})</h3>')
        parts += [f._repr_html_() for f in chosen] or ["<p class=\"muted\">Nothing passed the evidence bar.</p>"]
        if total > k:
            parts.append(f'<p class="muted">{total - k} more in the findings section.</p>')
    parts.append("</div>")
    return "".join(parts)


def all_findings(result) -> str:
    return '<div class="sla">' + result.findings._repr_html_() + "</div>"


def pacing_text(result) -> str:
    """Pacing in words; takes a cycle result or a daily pacing run (both have ``.pacing``)."""
    p = result.pacing
    if p.status.value == "NOT_APPLICABLE":
        return f'<div class="sla"><p>Pacing not applicable: {esc(p.note)}</p></div>'
    target = format_count(p.target_customers, "customer") if p.target_customers else ""
    if p.days_remaining <= 0:   # after the deadline there is nothing to project: the final result
        verdict = "" if not p.target_customers else (
            ": target reached" if p.customers_so_far >= p.target_customers else ": target not reached")
        against = f"a target of {format_number(p.target_customers)}" if p.target_customers else "no target"
        return (f'<div class="sla"><p><b>Final result</b>: {format_count(p.customers_so_far, "customer")} by the '
                f"deadline against {against}{verdict}.</p></div>")
    per_day = ("–" if math.isnan(p.leads_needed_per_day) else
               "not reachable with new leads in the time left" if math.isinf(p.leads_needed_per_day) else
               format_number(p.leads_needed_per_day))
    gap = f"; gap to target {format_number(p.gap)}" if p.target_customers and math.isfinite(p.gap) else ""
    return (f'<div class="sla"><p><span class="status {esc(p.status.value)}">{esc(p.status.value)}</span> '
            + (f"Probability of reaching {target} by the deadline: <b>{format_chance(p.probability)}</b> "
               f"(from {format_count(p.simulations, 'simulation')})." if target else
               f"No customer target: the projection below is from {format_count(p.simulations, 'simulation')}.")
            + "</p><ul>"
            f"<li>{format_count(p.customers_so_far, 'customer')} so far; {format_number(p.expected_from_open)} "
            f"expected from {format_count(p.n_not_converted, 'lead')} not converted yet; "
            f"{format_number(p.expected_from_new)} from leads still to arrive."
            f"</li><li>Expected at the deadline: {format_number(p.expected_customers)} (90% prediction interval "
            f"{format_number(p.low, 0)}–{format_number(p.high, 0)}){gap}.</li>"
            f"<li>{format_count(p.days_remaining, 'day', digits=0)} left; leads needed per remaining day: {per_day} "
            f"(recent inflow {format_number(p.daily_leads)} per day).</li></ul>"
            + (f'<p class="muted">{esc(p.note)}</p>' if p.note else "") + "</div>")


NO_DATES = "no stage dates"


def conversion_table(result) -> str:
    """Naive, matured and projected rates per transition; flag-only transitions say what does not apply."""
    table = result.conversion.to_frame()
    plain = (table["basis"] == "plain_rate").to_numpy()
    not_applicable = f"not applicable ({NO_DATES})"
    competing = (table.get("projected_method", pd.Series(dtype=str)) == "cumulative_incidence").any()
    projection = ("projection (cumulative incidence, losses as a competing event)" if competing
                  else "Kaplan–Meier projection")
    shown = pd.DataFrame({
        "transition": table["transition"].map(transition_label),
        "window (days)": [not_applicable if p else f"{w:,}" for p, w in zip(plain, table["window_days"])],
        "naive rate (open leads counted as lost)": _rate_text(table, "naive"),
        "matured cohorts": [not_applicable if p else t for p, t in zip(plain, _rate_text(table, "matured"))],
        projection: [not_applicable if p else t for p, t in zip(plain, _rate_text(table, "projected"))],
        "still open": [not_applicable if p else pct(x) for p, x in zip(plain, table["share_open"])],
        "used for verdicts": [_COMPETING_BASIS if competing and b == "km_projection" else _BASIS_WORDS.get(b, b)
                              for b in table["basis"]],
    })
    note = ""
    if plain.all():
        note = (f'<p class="muted">{NO_DATES.capitalize()}: every lead counts as decided, so conversion windows, '
                "matured cohorts, Kaplan–Meier projections and the open share are not applicable; verdicts use "
                "the plain rate.</p>")
    return '<div class="sla">' + frame_html(shown, index=False) + note + clustered_block(result) + "</div>"


def clustered_block(result) -> str:
    """With analysis.cluster: naive and cluster-robust intervals side by side, overdispersion and its warning."""
    clustered = getattr(result, "clustered", None)
    if clustered is None:
        return ""
    from ..clustered import OVERDISPERSION_WARNING

    t = clustered.summary
    level = f"{round(100 * clustered.confidence)}%"
    shown = pd.DataFrame({
        "transition": t["transition"].map(transition_label), "n (matured)": t["n"].map("{:,}".format),
        f"{clustered.column} clusters": t["clusters"],
        f"rate, {level} CI treating leads as independent": [f"{pct(r)} ({pct(lo)}–{pct(hi)})" for r, lo, hi in
                                                             zip(t["rate"], t["naive_low"], t["naive_high"])],
        f"{level} CI, cluster-robust": [f"{pct(lo)}–{pct(hi)}" for lo, hi in zip(t["robust_low"], t["robust_high"])],
        "overdispersion (Pearson χ²/df)": [f"{d:.2f}" if d == d else "–" for d in t["dispersion"]],
    })
    warned = "".join(f"<li><b>Warning:</b> {esc(w)}.</li>" for w in clustered.warnings)
    notes = "".join(f"<li>{esc(n)}</li>" for n in clustered.notes)
    return (f"<h4>Leads clustered by {esc(clustered.column)}</h4>" + frame_html(shown, index=False)
            + (f"<ul>{warned}</ul>" if warned else
               f'<p class="muted">Overdispersion at or below {OVERDISPERSION_WARNING}: leads of one '
               f"{esc(clustered.column)} convert about as independently as a binomial model assumes.</p>")
            + (f'<ul class="muted">{notes}</ul>' if notes else ""))


def decided_block(result) -> str:
    """Win rate among decided deals beside the within-window conversion, and aging open deals."""
    d = result.decided
    if d is None or not d.applicable:
        return ('<div class="sla"><p>No lost deals are recorded: the win rate among decided deals and aging open '
                "deals are not applicable (map <code>lost_at</code> or a lost status in source.yaml).</p></div>")
    spec = result.spec
    name = f"{spec.funnel.first}->{spec.funnel.last}"
    within = next((t for t in result.conversion.transitions if t.transition == name), None)
    w = d.win_rate
    rows = [("won", f"{d.won:,}"), ("lost", f"{d.lost:,}"), ("still open", f"{d.open:,}"),
            ("win rate among decided deals (won ÷ (won + lost))",
             "–" if w.n == 0 else f"{pct(w.estimate)} (95% CI {pct(w.low)}–{pct(w.high)}; n = {w.n:,})")]
    if within is not None and not math.isnan(within.estimate):
        rows.append((f"conversion within the {within.window_days}-day window (all leads)",
                     f"{pct(within.estimate)} (95% CI {pct(within.low)}–{pct(within.high)}; n = {within.n:,})"))
    a = d.aging_share
    rows.append((f"aging open deals (open longer than {d.window_days} days)",
                 d.note or f"{d.aging:,} of {format_count(a.n, 'deal')}: {pct(a.estimate)} (95% CI {pct(a.low)}–"
                           f"{pct(a.high)})"))
    table = pd.DataFrame(rows, columns=["figure", "value"])
    return ('<div class="sla"><h4>Decided deals and pipeline hygiene</h4>' + frame_html(table, index=False)
            + '<p class="muted">Lost deals are decided: they leave the pool of deals that may still convert. '
              "The win rate among decided deals is not moved by stale open deals; aging open deals are a hygiene "
              "figure of their own.</p></div>")


def costs_block(result) -> str:
    """Cost KPIs per channel, or why they do not apply."""
    if result.costs is None:
        return '<div class="sla"><p>No spend table was mapped: cost KPIs are not applicable.</p></div>'
    currency = result.spec.currency
    return '<div class="sla"><h4>Cost per lead and per customer by channel</h4>' + frame_html(
        cost_table(result.costs.table, currency)) + "</div>"


def cost_table(table: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """The cost table in words: spend, cost per lead and per customer with their intervals, and the basis."""
    unit = f" ({currency})" if currency else ""
    basis = {"projected": "customers projected within the window", "counted": "customers won (no stage dates)",
             "not_matured": "too early: the window has not passed for enough leads"}
    shown = pd.DataFrame({"channel": table["channel"], f"spend{unit}": table["spend"].map(money),
                          "leads": table["leads"], "customers so far": table["customers_so_far"],
                          f"cost per lead{unit}": [_money_ci(*v) for v in zip(
                              table["cost_per_lead"], table["cost_per_lead_low"], table["cost_per_lead_high"])]})
    if "cost_per_customer" in table:
        shown[f"cost per customer{unit}"] = [_money_ci(*v) for v in zip(
            table["cost_per_customer"], table["low"], table["high"])]
    if "basis" in table:
        shown["customers counted"] = [basis.get(str(b), str(b).replace("_", " ")) for b in table["basis"]]
    if "p_value" in table:
        shown["p"] = table["p_value"]   # against the other channels
    return shown


def _money_ci(value: float, low: float, high: float) -> str:
    if not (math.isfinite(value) and math.isfinite(low) and math.isfinite(high)):
        return money(value) if math.isfinite(value) else "—"
    return f"{money(value)} ({money(low)}–{money(high)})"


def _pct_with_interval(values, lows, highs) -> list[str]:
    """``47.2% (42.3%–52.1%)`` per row; "—" where there is no estimate."""
    return ["—" if pd.isna(v) else f"{pct(v)} ({pct(lo)}–{pct(hi)})" for v, lo, hi in zip(values, lows, highs)]


def _rate_text(table: pd.DataFrame, prefix: str) -> list[str]:
    return [("–" if pd.isna(r) else f"{pct(r)} ({pct(lo)}–{pct(hi)}; n = {int(n):,})")
            for r, lo, hi, n in zip(table[f"{prefix}_rate"], table[f"{prefix}_low"], table[f"{prefix}_high"],
                                    table[f"{prefix}_n"])]


def quality_block(result) -> str:
    q = result.quality
    notes = "".join(f"<li>{esc(n)}</li>" for n in (*q.notes, *missing_level_notes(result)))
    return ('<div class="sla">' + frame_html(q.to_frame(), index=False)
            + (f"<ul>{notes}</ul>" if notes else "")
            + '<p class="muted">Quarantined rows, with the reason for each, are in quarantine.csv next to this '
              "report. Input rows = accepted + quarantined.</p></div>")


METHODS = """
<div class="sla">
<ul>
<li><b>Intervals.</b> Rates carry 95% Wilson intervals with their denominator (n). Projections and the
reverse funnel carry 90% intervals.</li>
<li><b>Open leads are not failures.</b> A lead whose conversion window has not ended by the as-of date is
"open". Verdicts use the rate among matured leads (whose window has ended) when they are numerous enough,
otherwise a Kaplan–Meier projection that uses every lead; the naive rate is shown for reference only. When
lost deals are recorded, the projection and time to convert are cumulative incidences with loss as a competing
event (Aalen–Johansen): a lost deal no longer counts as a possible conversion.</li>
<li><b>SLA statuses.</b> MET: the estimate meets the target. AT_RISK: it misses, but the interval still
contains the target (or pacing gives a middling probability). MISSED: the interval excludes the target.
INSUFFICIENT_DATA: fewer leads than the agreed minimum. NOT_APPLICABLE: the data lacks what the check needs.</li>
<li><b>What worked / what to adjust.</b> A finding is stated only when it passes a test after
Benjamini–Hochberg control over every comparison in this report (q below the agreed level), has enough
leads on both sides, and an effect at least as large as agreed. Everything else is listed as "no clear
evidence either way". Differences between channels or segments are associations, not proof of cause.</li>
<li><b>Models.</b> Adjusted odds ratios come from a logistic regression (binomial GLM) that holds the other
columns fixed; lead scoring compares two models by cross-validated ROC AUC (with a DeLong interval),
Brier score and calibration. When leads have a time order the folds chain forward in time and the model
with the better out-of-time AUC (the latest leads, scored by a model of the earlier ones) is chosen. An input
that separates converters almost on its own (AUC ≥ 0.95) or carries over half the importance is flagged as a
possible leak, with the model refit without it. The Cox model gives hazard ratios of converting sooner.</li>
<li><b>Costs.</b> Spend is taken as known and counts as Poisson: cost per customer intervals divide spend by
the exact interval of the customer count. Costs are to date: open leads may still convert.</li>
<li><b>Next cycle.</b> The proposed targets change only where a finding supports it; channel-mix shifts are
bounded and are hypotheses to test.</li>
</ul></div>
"""


def pacing_header(run) -> str:
    spec = run.spec
    return (STYLE + f'<div class="sla"><h1>Daily pacing: {esc(spec.name)}</h1><p class="muted">As of '
            f"{esc(f'{run.as_of:%Y-%m-%d}')} · deadline {esc(spec.period.end)} · {esc(run.scope_note)}</p></div>")


def _ci(rate, low, high, scale: float = 100.0, signed: bool = False) -> str:
    if any(pd.isna(x) for x in (rate, low)) or not math.isfinite(rate):
        return "—"
    sign = "+" if signed else ""
    if pd.isna(high) or not math.isfinite(high):   # an open-ended interval (e.g. a median not yet reached)
        return f"{scale * rate:{sign}.1f} ({scale * low:{sign}.1f} or more)"
    return f"{scale * rate:{sign}.1f} ({scale * low:{sign}.1f} to {scale * high:{sign}.1f})"


_VERDICT_WORDS = {"ABOVE_REST": "above the rest", "BELOW_REST": "below the rest",
                  "NO_EVIDENCE": "no clear difference", "INSUFFICIENT_DATA": "insufficient data"}


def breakdown_block(result) -> str:
    """One readable table per segment column and transition: rate, lift against the rest, q, verdict."""
    summary = result.breakdowns.summary
    if summary.empty:
        return '<div class="sla"><p>No segment columns to break down.</p></div>'
    parts = ['<div class="sla">']
    plain = {t.transition for t in result.conversion.transitions if t.basis.value == "plain_rate"}
    for (column, transition), rows in summary.groupby(["column", "transition"], sort=False):
        shown = pd.DataFrame({
            "level": rows["level"].astype(str),
            ("leads" if transition in plain else "matured leads"): rows["n_matured"].astype(int),
            "converted": rows["conversions"].astype(int),
            "rate % (95% CI)": [_ci(r, lo, hi) for r, lo, hi in zip(rows["rate"], rows["rate_low"], rows["rate_high"])],
            "crude difference, points (95% CI)": [_ci(r, lo, hi, signed=True) for r, lo, hi in
                                                   zip(rows["lift"], rows["lift_low"], rows["lift_high"])],
            "adjusted, shrunk difference (95% CI)": [_ci(r, lo, hi, signed=True) for r, lo, hi in
                                                      zip(rows["effect"], rows["effect_low"], rows["effect_high"])],
            "p (adjusted)": [format_p(p) for p in rows["p_value"]],
            "q (BH)": [format_p(q) for q in rows["q_value"]],
            "verdict": [_VERDICT_WORDS.get(str(getattr(v, "value", v)), str(v)) for v in rows["verdict"]],
        })
        parts.append(f"<h4>{esc(column)}: {esc(transition_label(transition))}</h4>" + frame_html(shown, index=False))
    b = result.breakdowns
    definition = (f"{NO_DATES}: conversions among all leads (windows and maturity are not applicable)"
                  if set(summary["transition"]) <= plain else b.rate_definition)
    adjusted_for = next((str(a) for a in summary["adjusted_for"] if isinstance(a, str)), "nothing")
    parts.append(f'<p class="muted">Rate: {esc(definition)}. Verdicts rest on a binomial model adjusted '
                 f"for {esc(adjusted_for)}; the adjusted difference is shrunk across levels (empirical Bayes) "
                 f"because the largest differences are overstated. Benjamini–Hochberg over {b.n_tests} "
                 f"comparisons (q &lt; {b.alpha:g}) and a practical minimum difference; levels with fewer than "
                 f"{b.min_n} matured leads are not tested. Differences are associations, not proof of cause.</p></div>")
    return "".join(parts)


def follow_up_block(result) -> str:
    f = result.follow_up
    if f.reason.value != "ok":
        why = "; ".join(f.notes) or f.reason.value
        return f'<div class="sla"><p>Follow-up SLA not applicable: {esc(why)}</p></div>'
    s = f.share
    counts = ", ".join(f"{esc(k.replace('_', ' '))}: {v:,}" for k, v in f.counts.items())
    text = (f'<div class="sla"><p>{pct(s.estimate)} of leads at stage {esc(f.stage)} were first contacted within '
            f"{format_count(f.within_hours, 'hour')} (95% CI {pct(s.low)}–{pct(s.high)}; n = {s.n:,}); promised: "
            f"{pct(f.target_share, 0)}. {counts}.</p>")
    if not f.response_hours.empty:
        hours = f.response_hours
        text += (f"<h4>Response time, {format_count(int(hours['n_touched'].iloc[0]), 'lead')} touched</h4>"
                 + frame_html(pd.DataFrame({
                     "share of leads answered": [f"{100 * q:.0f}% within" for q in hours["quantile"]],
                     "hours": hours["hours"]})))
    if not f.by_team.empty:
        team = f.by_team
        text += "<h4>By team</h4>" + frame_html(pd.DataFrame({
            "team": team["team"], "within the promise": team["within"], "leads": team["n"],
            "share within (95% CI)": _pct_with_interval(team["share"], team["low"], team["high"]),
            "enough leads": team["sufficient"]}))
    a = f.association
    if a is not None and not math.isnan(a.difference):
        rows = a.to_frame()
        text += (f"<h4>Response time and conversion ({esc(transition_label(a.outcome_transition))}), "
                 "an association</h4>"
                 + frame_html(pd.DataFrame({
                     "response": rows["response"], "leads": rows["n"], "converted": rows["converted"],
                     "rate (95% CI)": _pct_with_interval(rows["rate"], rows["low"], rows["high"])}))
                 + f'<p class="muted">Answered within the promise minus late or never: {points(a.difference)} '
                   f"({'p ' if format_p(a.p_value).startswith('<') else 'p = '}{format_p(a.p_value)}).</p>")
    return text + "</div>"


_GLM_COLUMNS = {"term": "term", "n": "n", "conversions": "conversions", "odds_ratio": "odds ratio",
                "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "p", "note": "note"}
_COX_COLUMNS = {"term": "term", "n": "n", "events": "conversions", "hazard_ratio": "hazard ratio",
                "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "p", "note": "note"}


def _fit_block(title: str, fit, columns: dict[str, str]) -> str:
    head = f"<h4>{esc(title)}</h4>"
    if fit is None:
        return head + "<p>Not fitted.</p>"
    if not fit.fitted and fit.reason.value == "no_timestamps":
        return head + f"<p>{NO_DATES.capitalize()}: not applicable ({esc(fit.message)}).</p>"
    if not fit.fitted:
        return head + f"<p>Cannot fit ({esc(fit.reason.value)}): {esc(fit.message)}</p>"
    table = fit.summary[[c for c in columns if c in fit.summary]].rename(columns=columns)
    notes = "".join(f"<li>{esc(n)}</li>" for n in fit.notes)
    return (head + f"<p>{esc(fit.message)} (n = {fit.n_rows:,}, conversions = {fit.n_events:,})</p>"
            + frame_html(table, index=False, float_format=lambda x: f"{x:.3g}", na_rep="–")
            + (f'<ul class="muted">{notes}</ul>' if notes else ""))


def models_block(result) -> str:
    m = result.models
    if m.skipped:
        return f'<div class="sla"><p>{esc(m.skipped)}.</p></div>'
    parts = ['<div class="sla">']
    for transition, fit in m.adjusted_effects.items():
        parts.append(_fit_block(f"Adjusted odds ratios of converting: {transition_label(transition)}", fit, _GLM_COLUMNS))
    scoring = m.scoring
    parts.append(f"<h4>Lead scoring ({esc(transition_label(m.scoring_transition))})</h4>")
    if scoring is None or not scoring.fitted:
        parts.append("<p>Cannot fit" + (f" ({esc(scoring.reason.value)}): {esc(scoring.message)}" if scoring else "")
                     + "</p>")
    else:
        parts.append(f"<p>{esc(scoring.message)}</p>" + frame_html(scoring_table(scoring.summary)))
        parts.append(_leak_block(scoring))
        if getattr(scoring, "sampled_from", 0):
            sample_note = next((n for n in scoring.notes if "stratified random sample" in n), "")
            parts.append(f"<p>Sample: {esc(sample_note)}.</p>")
        n_open = None if m.open_scores is None else m.open_scores.to_dict()["n_open_leads"]   # rows or a summary
        if n_open:
            parts.append(f"<p>{n_open:,} open leads; expected to convert within the window: "
                         f"{m.open_scores.expected_conversions:,.1f} (each lead's score: "
                         "open_lead_scores.parquet in the run folder).</p>")
        elif n_open is not None:
            parts.append("<p>No open leads: scoring of open leads is not applicable.</p>")
    parts.append(_fit_block(f"Time to convert, Cox model ({transition_label(m.scoring_transition)})", m.time_to_convert,
                            _COX_COLUMNS))
    parts.append('<p class="muted">Odds and hazard ratios compare each level with the reference level, holding '
                 "the other columns fixed. They describe associations in this data.</p></div>")
    return "".join(parts)


def scoring_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The lead-scoring models side by side, in words: AUC across folds and on the latest leads, with intervals."""
    def auc(value, low, high) -> str:
        return "—" if not math.isfinite(value) else f"{value:.3f} ({low:.3f}–{high:.3f})"

    shown = pd.DataFrame({"model": summary["model"].astype(str).str.replace("_", " ").str.capitalize(),
                          "AUC, cross-validated (95% CI)": [auc(*v) for v in zip(
                              summary["auc"], summary["auc_low"], summary["auc_high"])]})
    if "fold_auc_min" in summary:
        shown["AUC range over folds"] = [f"{lo:.3f}–{hi:.3f}" if math.isfinite(lo) else "—"
                                         for lo, hi in zip(summary["fold_auc_min"], summary["fold_auc_max"])]
    if "out_of_time_auc" in summary:
        shown["AUC on the latest leads (95% CI)"] = [auc(*v) for v in zip(
            summary["out_of_time_auc"], summary["out_of_time_low"], summary["out_of_time_high"])]
    shown["Brier score"] = summary["brier"]
    shown["chosen"] = summary["chosen"]
    return shown


def _leak_block(scoring) -> str:
    """Possible leaks by name, with the chosen model's AUC with and without them."""
    leaks = getattr(scoring, "possible_leaks", ())
    if not leaks:
        return ""
    why = scoring.leak_check.set_index("feature")["why"]
    items = "".join(f"<li><b>{esc(name)}</b>: {esc(why.get(name, ''))}</li>" for name in leaks)
    return (f'<p><b>Possible leak</b> (an input that may be filled in after the outcome):</p><ul>{items}</ul>'
            + frame_html(scoring.leak_refit, index=False, float_format=lambda x: f"{x:.3g}")
            + "<p>If it is only known once a deal is decided, list it under <code>leaky:</code> in sla.yaml.</p>")


def time_to_convert_block(result) -> str:
    """Median days to convert and the share converted within 7/30/90 days, with intervals; the method is named
    (Kaplan–Meier, or cumulative incidence with losses as a competing event when losses are recorded)."""
    t = result.time_to_convert
    s = t.summary
    if s.empty:
        return '<div class="sla"><p>No stage dates: time to convert is not applicable.</p></div>'
    method = getattr(t, "method", None)
    competing = method is not None and method.value == "cumulative_incidence"
    shown = pd.DataFrame({"transition": s["transition"].map(transition_label), "group": s["group"].astype(str),
                          "leads": s["n"],
                          "converted": s["events"],
                          f"median days ({'CIF' if competing else 'KM'}, 95% CI)": [
                              _ci(m, lo, hi, scale=1.0) for m, lo, hi in
                                                       zip(s["km_median_days"], s["km_median_low"],
                                                           s["km_median_high"])]})
    for h in t.horizons_days:
        shown[f"within {h} days, % (95% CI)"] = [_ci(r, lo, hi) for r, lo, hi in zip(
            s[f"share_within_{h}"], s[f"share_within_{h}_low"], s[f"share_within_{h}_high"])]
    if competing:
        note = ("Method: cumulative incidence, losses as a competing event (Aalen–Johansen): a lost lead stops "
                "counting as a possible conversion from its loss date; open leads count for as long as they have "
                "been open. Median: among leads that convert within the window, from that curve. Shares: "
                "cumulative incidence with 95% intervals (delta method, log(-log) scale).")
    else:
        note = ("Method: Kaplan–Meier, open leads censored. Median: among leads that convert within the window, "
                "from the Kaplan–Meier curve (open leads count for as long as they have been open). Shares: "
                "Kaplan–Meier with intervals.")
    return '<div class="sla">' + frame_html(shown, index=False) + f'<p class="muted">{note}</p></div>'


def reverse_funnel_block(result) -> str:
    r = result.reverse_funnel
    if r.table.empty:
        return '<div class="sla"><p>No customer objective: the reverse funnel is not applicable.</p></div>'
    t = r.table
    shown = pd.DataFrame({
        "stage": t["stage"], "needed at observed rates": [f"{x:,.0f}" for x in t["needed"]],
        f"{round(100 * r.confidence)}% interval": [f"{lo:,.0f}–{hi:,.0f}" for lo, hi in zip(t["low"], t["high"])],
        "needed at the agreed rates": ["–" if pd.isna(x) else f"{x:,.0f}" for x in t["needed_at_target_rates"]],
        "reached so far": [f"{x:,.0f}" for x in t["reached_so_far"]],
    })
    plan = ""
    if r.plan is not None and r.plan.leads:
        first = str(t["stage"].iloc[0])
        who = "leads" if first.lower() in ("lead", "leads") else f"leads at {esc(stage_label(first))}"
        plan = (f"<p><b>Lead target to plan with:</b> {r.plan.leads:,} {who} reach "
                f"{r.target_customers:,} customers with {r.plan.confidence:.0%} confidence "
                f"({esc(r.plan.basis_words)}: {r.plan.rate:.2%}, 90% interval {r.plan.rate_low:.2%}–"
                f"{r.plan.rate_high:.2%}; binomial variation included). The figure at the observed rate, "
                f"{r.plan.leads_at_rate:,}, would reach them with probability {r.plan.probability_at_rate:.0%}.</p>")
    return ('<div class="sla"><h4>Reverse funnel: volume needed for '
            f"{r.target_customers:,} customers</h4>" + frame_html(shown, index=False) + plan
            + f'<p class="muted">{esc(r.method)}.</p></div>')


def collapsed(block: str, summary: str) -> str:
    """A section for analysts, closed by default (``<details>``): models, time to convert, quality, methods."""
    return (f'<details class="sla"><summary style="cursor:pointer;color:#1a4d8f">{esc(summary)}</summary>'
            f"{block}</details>")
