"""Plain text, Markdown and HTML renderings of a digest (jinja2; the HTML template autoescapes).

All three render the same lines, built once by :func:`digest_lines`, so they never disagree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jinja2

from ..check_labels import format_count, format_number, plural
from .changes import Changes
from .model import Digest, FollowUpWindow

MAX_LISTED = 25   # waiting leads listed in a message; the JSON beside it lists all


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    mark: str = ""


def _number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format_number(value, digits)


def _percent(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.0%}"


def _age(hours: float) -> str:
    days, rest = divmod(int(round(hours)), 24)
    return f"{days} d {rest} h" if days else f"{rest} h"


def _window_line(window: FollowUpWindow | None, label: str, changes: Changes, hours: float) -> Line:
    key = "follow_up_" + label.replace(" ", "_")
    if window is None or window.share.n == 0:
        return Line(f"Follow-up within {format_number(hours)} h, {label}", "no follow-up fell due")
    share = window.share
    return Line(f"Follow-up within {format_number(hours)} h, {label}",
                f"{_percent(share.estimate)} ({share.successes:,} of {share.n:,}; "
                f"{share.confidence:.0%} CI {_percent(share.low)}–{_percent(share.high)})", changes.mark(key))


def digest_lines(digest: Digest, changes: Changes) -> dict:
    """The rendering context: headline, marketing lines, sales lines, team rows, waiting rows, footnotes."""
    pacing, sales = digest.marketing.pacing, digest.sales
    target = format_count(pacing.target_customers, "customer") if pacing.target_customers else "the target"
    status = pacing.status.value + (f" (was {changes.previous_status})" if changes.previous_status else "")
    marketing = []
    for delivery in digest.marketing.deliveries:
        name = "Leads" if delivery.stage == digest.marketing.deliveries[0].stage else f"{delivery.stage.upper()}s"
        promised = ("no target in the spec" if delivery.promised_to_date is None else
                    f"promised to date {_number(delivery.promised_to_date)} of {_number(delivery.target)}")
        marketing.append(Line(f"{name} delivered", f"{delivery.delivered:,} ({promised})",
                              changes.mark(f"delivered_{delivery.stage}")))
    marketing += [
        Line(f"P(reach {target})", f"{_percent(pacing.probability)} (expected {_number(pacing.expected_customers, 1)}, "
                                   f"90% PI {_number(pacing.low)}–{_number(pacing.high)}; "
                                   f"{pacing.customers_so_far:,} so far)", changes.mark("probability")),
        Line("Leads needed per remaining day", f"{_per_day(pacing.leads_needed_per_day)} (recent inflow "
             f"{_number(pacing.daily_leads, 1)} a day; {format_count(pacing.days_remaining, 'day', digits=0)} left)",
             changes.mark("leads_needed_per_day")),
    ]
    if math.isfinite(pacing.leads_probability):
        marketing.append(Line("P(reach the leads objective)", _percent(pacing.leads_probability),
                              changes.mark("leads_probability")))
    sales_lines = [_window_line(sales.today, "today", changes, sales.within_hours),
                   _window_line(sales.week, "this week", changes, sales.within_hours),
                   Line(f"Leads waiting past the {format_number(sales.within_hours)} h promise", f"{len(sales.waiting):,}",
                        changes.mark("waiting_count"))]
    teams = [] if sales.week is None or sales.week.by_team.empty else [
        Line(str(row.team), f"{_percent(row.share)} ({int(row.within)} of {int(row.n)}; "
                            f"CI {_percent(row.low)}–{_percent(row.high)})")
        for row in sales.week.by_team.itertuples()]
    waiting = [Line(w.lead_id, f"waiting {_age(w.age_hours)}" + (f", {w.team}" if w.team else ""),
                    "new" if w.lead_id in changes.new_waiting else "") for w in sales.waiting[:MAX_LISTED]]
    notes = [n for n in (pacing.note, sales.note) if n]
    if len(sales.waiting) > MAX_LISTED:
        notes.append(f"{len(sales.waiting) - MAX_LISTED:,} more waiting {plural('lead', len(sales.waiting) - MAX_LISTED)} in the digest's JSON file")
    if changes.resolved_waiting:
        notes.append(f"{format_count(len(changes.resolved_waiting), 'lead')} no longer waiting since {changes.since}: "
                     + ", ".join(changes.resolved_waiting[:MAX_LISTED]))
    notes.append("no earlier digest: no change marks" if changes.first else f"marks: change since the digest of "
                 f"{changes.since}")
    return {"title": f"{digest.sla}: daily digest {digest.as_of:%Y-%m-%d}", "status": status,
            "headline": f"Status {status}; P(reach {target}) {_percent(pacing.probability)}",
            "marketing": marketing, "sales": sales_lines, "teams": teams, "team_column": sales.team_column,
            "waiting": waiting, "notes": notes, "stage": sales.stage}


def _per_day(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return "not reachable (new leads can no longer convert in time)" if math.isinf(value) else format_number(value)


_TEXT = """{{ title }}
{{ headline }}

Marketing -> sales
{% for l in marketing %}  {{ l.label }}: {{ l.value }}{% if l.mark %}  [{{ l.mark }}]{% endif %}
{% endfor %}
Sales -> marketing ({{ stage }} follow-up)
{% for l in sales %}  {{ l.label }}: {{ l.value }}{% if l.mark %}  [{{ l.mark }}]{% endif %}
{% endfor %}{% if teams %}  This week by {{ team_column }}:
{% for l in teams %}    {{ l.label }}: {{ l.value }}
{% endfor %}{% endif %}{% if waiting %}  Waiting past the promise (act today):
{% for l in waiting %}    {{ l.label }}: {{ l.value }}{% if l.mark %}  [{{ l.mark }}]{% endif %}
{% endfor %}{% endif %}
{% for n in notes %}Note: {{ n }}
{% endfor %}"""

_MARKDOWN = """**{{ title }}**
{{ headline }}

*Marketing → sales*
{% for l in marketing %}- {{ l.label }}: {{ l.value }}{% if l.mark %} _{{ l.mark }}_{% endif %}
{% endfor %}
*Sales → marketing ({{ stage }} follow-up)*
{% for l in sales %}- {{ l.label }}: {{ l.value }}{% if l.mark %} _{{ l.mark }}_{% endif %}
{% endfor %}{% if teams %}
This week by {{ team_column }}:
{% for l in teams %}- {{ l.label }}: {{ l.value }}
{% endfor %}{% endif %}{% if waiting %}
Waiting past the promise (act today):
{% for l in waiting %}- `{{ l.label }}` {{ l.value }}{% if l.mark %} **{{ l.mark }}**{% endif %}
{% endfor %}{% endif %}
{% for n in notes %}_{{ n }}_
{% endfor %}"""

_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:46em;margin:1em auto;color:#222}
td{padding:2px 8px;vertical-align:top}.mark{color:#555;font-size:90%}.new{color:#a00;font-weight:bold}</style>
</head><body>
<h2>{{ title }}</h2>
<p><strong>{{ headline }}</strong></p>
<h3>Marketing → sales</h3>
<table>{% for l in marketing %}<tr><td>{{ l.label }}</td><td>{{ l.value }}</td><td class="mark">{{ l.mark }}</td></tr>
{% endfor %}</table>
<h3>Sales → marketing ({{ stage }} follow-up)</h3>
<table>{% for l in sales %}<tr><td>{{ l.label }}</td><td>{{ l.value }}</td><td class="mark">{{ l.mark }}</td></tr>
{% endfor %}</table>
{% if teams %}<h4>This week by {{ team_column }}</h4>
<table>{% for l in teams %}<tr><td>{{ l.label }}</td><td>{{ l.value }}</td></tr>{% endfor %}</table>{% endif %}
{% if waiting %}<h4>Waiting past the promise (act today)</h4>
<table>{% for l in waiting %}<tr><td><code>{{ l.label }}</code></td><td>{{ l.value }}</td>
<td class="new">{{ l.mark }}</td></tr>{% endfor %}</table>{% endif %}
{% for n in notes %}<p class="mark">{{ n }}</p>{% endfor %}
</body></html>
"""

_TEXT_ENV = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
_HTML_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
FORMATS = ("text", "markdown", "html")


def render(digest: Digest, changes: Changes, fmt: str = "text") -> str:
    """The digest as ``text``, ``markdown`` or ``html`` (every value escaped in HTML)."""
    context = digest_lines(digest, changes)
    if fmt == "html":
        return _HTML_ENV.from_string(_HTML).render(**context)
    if fmt not in FORMATS:
        raise ValueError(f"unknown digest format {fmt!r}; use one of {FORMATS}")
    return _TEXT_ENV.from_string(_TEXT if fmt == "text" else _MARKDOWN).render(**context)
