"""Plain-language formatting for findings. Associations are never worded as causes."""
from __future__ import annotations

import math

CAUSAL_PHRASES = ("caused", "causes", "because of", "drove", "drives", "driven by", "led to", "leads to",
                  "resulted in", "due to", "thanks to", "made customers", "produced")


def _shown(value) -> bool:
    return value is not None and math.isfinite(value)


def pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}%" if _shown(value) else "n/a"


def points(value: float, digits: int = 1) -> str:
    if not _shown(value):
        return "n/a"
    size = 100 * abs(value)
    return f"{size:.{digits}f} {'point' if f'{size:.{digits}f}' in ('1', '1.' + '0' * digits) else 'points'}"


def interval(low: float, high: float, unit: str = "rate", confidence: float = 0.95, prediction: bool = False) -> str:
    """``95% CI a–b``; a prediction interval (of a future count) says so: ``90% prediction interval a–b``."""
    label = f"{round(100 * confidence)}% {'prediction interval' if prediction else 'CI'}"
    if not (_shown(low) and _shown(high)):
        return f"{label} not available"
    if unit == "points":
        return f"{label} {100 * low:+.1f} to {100 * high:+.1f} points"
    if unit == "money":
        return f"{label} {money(low)}–{money(high)}"
    if unit == "count":
        return f"{label} {low:,.0f}–{high:,.0f}"
    return f"{label} {pct(low)}–{pct(high)}"


def money(value: float) -> str:
    return f"{value:,.2f}" if _shown(value) else "n/a"


def qtext(q: float) -> str:
    if not _shown(q):
        return ""
    return "q < 0.001" if q < 0.001 else f"q = {q:.3f}"


def humanize(level: str) -> str:
    """``paid_search`` -> ``Paid search`` for sentences (the raw value stays in the evidence)."""
    text = str(level).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "(blank)"


def is_causal(sentence: str) -> bool:
    lowered = sentence.lower()
    return any(phrase in lowered for phrase in CAUSAL_PHRASES)


ACRONYMS = frozenset({"mql", "sql", "sal", "pql", "sqo", "mqa", "sqa", "poc"})


def stage_label(stage: str, plural: bool = False) -> str:
    """``mql`` -> ``MQL``, ``sales_qualified`` -> ``sales qualified``: acronyms upper-case, words lower-case.

    Stage names are used as given in sentences, never pluralised by rule ("engageds"); ``plural`` is
    only for generated column headers of the example data.
    """
    word = stage.upper() if stage.lower() in ACRONYMS else stage.replace("_", " ")
    return f"{word}s" if plural and not word.endswith("s") else word


MISSING_WORDS = frozenset({"", "(missing)", "(blank)", "unknown", "nan", "none", "null", "n/a", "na", "<na>", "-"})


def is_missing_level(level) -> bool:
    """True for levels that only say the value is missing ("(missing)", "unknown", ...): a data-quality
    note, never a lever to keep in or drop from the mix."""
    return str(level).strip().lower() in MISSING_WORDS
