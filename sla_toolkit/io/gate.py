"""Too much quarantined means no verdict: stop before any figure when the share exceeds the agreed maximum."""
from __future__ import annotations

from ..check_labels import format_count
from ..errors import SourceError
from .quality import DataQuality

_FIXES = (
    ("unparseable", "set the column's format under `dates.formats` in source.yaml (e.g. '%m/%d/%Y'), or "
                    "`dates.dayfirst: true` for day-first dates"),
    ("not a number", "numbers with a decimal comma need `leads.decimal: \",\"` (and `leads.thousands: \".\"`) "
                     "in source.yaml"),
    ("duplicate lead_id", "check that columns.lead_id names the id column; repeated ids are usually repeated "
                          "exports stacked together"),
    ("exact duplicate", "if the repeated rows are different people, set `rules.duplicate_rows: flag`"),
    ("flag ", "list the values meaning yes under `flag_true_values` in source.yaml"),
    ("in the future", "check the as-of date and the time zone (`dates.timezone`)"),
    ("go backwards", "set `rules.backwards_stages: flag` to keep such leads"),
    ("missing created_at", "map created_at to a column that is filled for every lead"),
)


def likely_fix(reason: str) -> str:
    """The change to source.yaml that most often cures a quarantine reason."""
    for marker, fix in _FIXES:
        if marker in reason:
            return fix
    return "see quarantine.csv (written by `sla-toolkit validate --quarantine FILE`) for every row and reason"


def enforce_quarantine_share(data) -> None:
    """The gate of ``validate``, ``pace`` and ``run``: :func:`check_quarantine_share` on loaded :class:`LeadData`
    with the spec's ``analysis.max_quarantine_share``."""
    check_quarantine_share(data.quality, data.spec.analysis.max_quarantine_share, data.source)


def check_quarantine_share(quality: DataQuality, max_share: float, label: str) -> None:
    """Raise :class:`SourceError` (exit 2) when more than ``max_share`` of the input rows were quarantined.

    The message gives the rows and the number of reasons (a row can have several), the top three
    reasons with an example row each, and the likely fix of the most frequent one.
    """
    if not quality.input_rows or quality.quarantined_share <= max_share:
        return
    reasons = list(quality.quarantine_reasons.items())
    top = "; ".join(f"{format_count(n, 'row')}: {quality.quarantine_examples.get(reason, reason)}"
                    for reason, n in reasons[:3])
    total_reasons = sum(quality.quarantine_reasons.values())
    problem = (f"{quality.quarantined_rows:,} of {quality.input_rows:,} rows ({quality.quarantined_share:.0%}) "
               f"were quarantined, more than analysis.max_quarantine_share ({max_share:.0%}): no verdict is "
               f"given on so little of the data ({format_count(total_reasons, 'reason')} over "
               f"{format_count(quality.quarantined_rows, 'row')}; "
               f"a row can have several). Top reasons: {top}")
    fix = likely_fix(reasons[0][0]) if reasons else None
    raise SourceError(label, problem, fix=fix)
