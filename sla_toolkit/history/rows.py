"""A run's results dict (``CycleResult.to_dict()``, i.e. results.json) flattened into ledger rows."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping

CHECK_FIELDS = ("name", "label", "target", "direction", "estimate", "low", "high", "n", "status", "reason")
FINDING_FIELDS = ("topic", "kind", "rule", "sentence", "estimate", "low", "high", "p_value", "q_value", "n",
                  "impact")


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _count(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def check_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``checks`` of a results dict (``CycleResult.to_dict()`` / results.json) as ledger rows."""
    return [{"name": c.get("name"), "label": c.get("label") or None, "target": _number(c.get("target")), "direction": c.get("direction"),
             "estimate": _number(c.get("estimate")), "low": _number(c.get("low")), "high": _number(c.get("high")),
             "n": _count(c.get("n")), "status": c.get("status"), "reason": c.get("reason")}
            for c in results.get("checks") or []]


def finding_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The findings of a results dict as ledger rows (evidence flattened, impact in customers)."""
    rows = []
    for item in (results.get("findings") or {}).get("items") or []:
        evidence = item.get("evidence") or {}
        rows.append({"topic": item.get("topic"), "kind": item.get("kind"), "rule": item.get("rule"),
                     "sentence": item.get("sentence"), "estimate": _number(evidence.get("estimate")),
                     "low": _number(evidence.get("low")), "high": _number(evidence.get("high")),
                     "p_value": _number(evidence.get("p_value")), "q_value": _number(evidence.get("q_value")),
                     "n": _count(evidence.get("n")), "impact": _number(item.get("impact_customers"))})
    return rows


def results_as_of(results: Mapping[str, Any]) -> dt.datetime | None:
    """The run's analysis cut-off as a naive datetime (an aware one is converted to UTC)."""
    text = results.get("as_of")
    if not text:
        return None
    stamp = dt.datetime.fromisoformat(str(text))
    return stamp.astimezone(dt.timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp
