"""What changed since the previous digest: one mark per figure, new and resolved waiting leads (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

# figures whose change is shown as percentage points rather than as a plain difference
_SHARES = ("probability", "leads_probability", "follow_up_today", "follow_up_this_week")


@dataclass(frozen=True)
class Changes:
    """Differences between today's figures and those of the previous digest (``since``: its date)."""

    since: str | None
    deltas: Mapping[str, float] = field(default_factory=dict)
    previous_status: str | None = None
    new_waiting: frozenset[str] = frozenset()
    resolved_waiting: tuple[str, ...] = ()

    @property
    def first(self) -> bool:
        """True when there was no earlier digest to compare with."""
        return self.since is None

    def mark(self, key: str) -> str:
        """A short change mark for one figure, e.g. ``▲ +12`` / ``▼ -4 pp`` / ``= `` ('' when unknown)."""
        if self.first or key not in self.deltas:
            return ""
        delta = self.deltas[key]
        if key in _SHARES:
            delta, unit = delta * 100, " pp"
        else:
            unit = ""
        if abs(delta) < 0.05:
            return "= unchanged"
        arrow = "▲" if delta > 0 else "▼"
        shown = f"{delta:+,.0f}" if float(delta).is_integer() and not unit else f"{delta:+,.1f}"
        return f"{arrow} {shown}{unit}"

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since, "deltas": dict(self.deltas), "previous_status": self.previous_status,
                "new_waiting": sorted(self.new_waiting), "resolved_waiting": list(self.resolved_waiting)}


def compare_figures(current: Mapping[str, Any], previous: Mapping[str, Any] | None,
                    since: str | None) -> Changes:
    """Changes from ``previous`` (the figures of the digest dated ``since``) to ``current``."""
    if previous is None:
        return Changes(None)
    deltas = {}
    for key, value in current.items():
        before = previous.get(key)
        if _number(value) and _number(before):
            deltas[key] = float(value) - float(before)
    earlier_ids = set(previous.get("waiting_ids") or ())
    now_ids = list(current.get("waiting_ids") or ())
    status = previous.get("status")
    return Changes(since, deltas, status if status != current.get("status") else None,
                   frozenset(i for i in now_ids if i not in earlier_ids),
                   tuple(sorted(earlier_ids.difference(now_ids))))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
