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


def lever_action(level: str, dimension: str, better: bool, is_channel: bool) -> str:
    """What to do about a level of a lever (something the teams control): an action, worded as a hypothesis."""
    name = humanize(level)
    if not better:
        return (f"Review {name}'s targeting, lead quality and hand-off before spending more on it; compare with "
                "the best performers.")
    if is_channel:
        return (f"Keep {name} in the mix; a larger share is a hypothesis to test next cycle (an association, not "
                "proof that it would hold at higher volume).")
    return (f"Find out what {name} ({dimension}) does differently and try it elsewhere as a test next cycle (an "
            "association, not proof that it would carry over).")


def where_to_look(level: str, dimension: str, better: bool) -> str:
    """A note about a level of a descriptive segment: where to look, never an action on the mix."""
    return (f"Where to look: conversion is {'higher' if better else 'lower'} where {dimension} is {humanize(level)}. "
            f"{humanize(dimension)} describes the leads; it is not something the teams control, so use it to "
            "brief sales and to choose targeting on the levers, not as a lever itself.")


def levers_note(lever_columns: tuple[str, ...], declared: bool, segments: list[str]) -> str:
    """One sentence saying which columns were treated as levers, and that this was a default when it was."""
    descriptive = [s for s in segments if s not in lever_columns]
    described = (f"; {', '.join(descriptive)} {'is' if len(descriptive) == 1 else 'are'} descriptive "
                 "(where-to-look notes, never fed to the channel mix)") if descriptive else ""
    if declared:
        return f"Levers (declared in levers:): {', '.join(lever_columns) or 'none'}{described}."
    return (f"No levers: declared in sla.yaml, so the channel column ({', '.join(lever_columns)}), where spend goes, "
            f"is taken as the only lever{described}. Declare levers: (e.g. [channel, campaign, team]) to change it.")
