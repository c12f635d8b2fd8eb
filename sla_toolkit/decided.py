"""Closed-lost is a decision: win rate among decided deals, and aging open deals as pipeline hygiene.

When the mapping records losses (a ``lost_at`` date or a status column, see ``source.yaml`` ``lost:``),
every deal is *won*, *lost* or still *open* at the as-of date:

* the **win rate among decided deals** is ``won / (won + lost)`` with its Wilson interval. It is not
  the within-window conversion (which counts every lead entered): it answers "when sales decide a
  deal, how often do they win it?", and a pile of stale open deals does not move it;
* **aging open deals** are open longer than the funnel's conversion window (first to last stage):
  a hygiene figure, since such a deal is usually lost without anyone closing it in the CRM;
* per group (channel, segments, follow-up team) both figures, each level against the rest, so that
  findings about win rates rest on decided deals and stale deals get a hygiene finding of their own.

Without recorded losses nothing here applies, and :attr:`DecidedDeals.applicable` says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .breakdowns import level_labels
from .outcomes import as_of_view, lost_mask
from .results import ResultMixin
from .spec import SlaSpec
from .stats import RateEstimate, wilson_bounds, wilson_interval
from .types import reached_column

_DAY = pd.Timedelta(days=1)
NOT_APPLICABLE = "no lost deals are recorded (map lost_at or a lost status): win rate among decided deals " \
                 "is not applicable"
GROUP_COLUMNS = ["column", "level", "deals", "won", "lost", "open", "aging", "win_rate", "win_low", "win_high",
                 "aging_share", "aging_low", "aging_high"]


@dataclass(frozen=True)
class DecidedDeals(ResultMixin):
    """Won, lost and open deals at the as-of date; win rate among decided deals; aging open deals.

    Attributes
    ----------
    win_rate : won / (won + lost), Wilson interval.
    aging_share : aging open deals / all deals (Wilson): the share of the pipeline that is stale.
    groups : one row per level of each group column (``GROUP_COLUMNS``).
    """

    applicable: bool
    note: str
    won: int
    lost: int
    open: int
    aging: int
    window_days: int
    win_rate: RateEstimate
    aging_share: RateEstimate
    groups: pd.DataFrame
    title = "Decided deals: win rate and aging open deals"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"won": self.won, "lost": self.lost, "open": self.open, "aging_open": self.aging,
                              "window_days": self.window_days, "win_rate": self.win_rate.estimate,
                              "win_low": self.win_rate.low, "win_high": self.win_rate.high,
                              "decided": self.win_rate.n, "aging_share": self.aging_share.estimate,
                              "aging_low": self.aging_share.low, "aging_high": self.aging_share.high}])

    def to_dict(self) -> dict:
        from .results import jsonable

        return {"applicable": self.applicable, "note": self.note, "summary": jsonable(self.to_frame()),
                "groups": jsonable(self.groups)}


def losses_recorded(leads: pd.DataFrame) -> bool:
    """True when the lead table says which deals were lost (a ``lost`` flag or ``lost_at`` column)."""
    return "lost" in leads or ("lost_at" in leads and bool(leads["lost_at"].notna().any()))


def decision_states(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per lead: ``won``, ``lost``, ``open`` (exactly one is True) and ``aging`` (open past the window)."""
    won = leads[reached_column(spec.funnel.last)].fillna(False).astype(bool)
    lost = lost_mask(leads, spec) & ~won
    still_open = ~won & ~lost
    window = spec.funnel.cumulative_window(spec.funnel.last)
    created = leads["created_at"] if "created_at" in leads else pd.Series(pd.NaT, index=leads.index)
    age = (pd.Timestamp(as_of) - created) / _DAY
    aging = still_open & (age > window).fillna(False).astype(bool)
    return pd.DataFrame({"won": won, "lost": lost, "open": still_open, "aging": aging}, index=leads.index)


def decided_deals(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> DecidedDeals:
    """Win rate among decided deals and aging open deals, overall and per group column."""
    confidence = spec.analysis.confidence
    window = spec.funnel.cumulative_window(spec.funnel.last)
    if not losses_recorded(leads):
        empty = wilson_interval(0, 0, confidence)
        return DecidedDeals(False, NOT_APPLICABLE, 0, 0, 0, 0, window, empty, empty,
                            pd.DataFrame(columns=GROUP_COLUMNS))
    view = as_of_view(leads, spec, pd.Timestamp(as_of))
    states = decision_states(view, spec, as_of)
    won, lost, n_open, aging = (int(states[c].sum()) for c in ("won", "lost", "open", "aging"))
    dated = "created_at" in view and bool(view["created_at"].notna().any())
    note = "" if dated else "no created_at dates: aging open deals cannot be told apart"
    return DecidedDeals(True, note, won, lost, n_open, aging, window, wilson_interval(won, won + lost, confidence),
                        wilson_interval(aging, len(view), confidence), _groups(view, states, spec))


def group_columns(spec: SlaSpec) -> list[str]:
    team = [spec.follow_up.team_column] if spec.follow_up and spec.follow_up.team_column else []
    return list(dict.fromkeys([spec.channel_column, *spec.segments, *team]))


def _groups(view: pd.DataFrame, states: pd.DataFrame, spec: SlaSpec) -> pd.DataFrame:
    parts = []
    for column in group_columns(spec):
        if column not in view:
            continue
        labels = level_labels(view[column])
        counts = states.astype(int).groupby(labels.rename("level"), sort=True).sum()
        counts["deals"] = labels.value_counts().reindex(counts.index).to_numpy()
        decided = counts["won"] + counts["lost"]
        win_low, win_high = wilson_bounds(counts["won"], decided, spec.analysis.confidence)
        aging_low, aging_high = wilson_bounds(counts["aging"], counts["deals"], spec.analysis.confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            parts.append(pd.DataFrame({
                "column": column, "level": counts.index.to_numpy(dtype=object), "deals": counts["deals"].to_numpy(),
                "won": counts["won"].to_numpy(), "lost": counts["lost"].to_numpy(), "open": counts["open"].to_numpy(),
                "aging": counts["aging"].to_numpy(),
                "win_rate": np.where(decided > 0, counts["won"] / decided, np.nan), "win_low": win_low,
                "win_high": win_high, "aging_share": counts["aging"] / counts["deals"], "aging_low": aging_low,
                "aging_high": aging_high}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=GROUP_COLUMNS)
