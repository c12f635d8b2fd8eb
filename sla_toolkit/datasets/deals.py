"""Generated won / lost / open deals whose true win rate among decided deals is known.

Used by the closed-lost tests and the coverage study (studies/win_rate_coverage.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..decided import decided_deals
from ..spec import SlaSpec, spec_from_dict


def generated_deals(seed: int, n: int = 4000, win_rate: float = 0.35, stale: dict[str, float] | None = None,
                    as_of: str = "2025-07-01") -> pd.DataFrame:
    """Deals created over H1 2025; each is decided (won with ``win_rate``, else lost) after a delay with the
    same distribution for wins and losses, so decided deals at any date are a fair sample of the truth.
    A share ``stale[team]`` of a team's deals is never closed in the CRM (open forever)."""
    rng = np.random.default_rng(seed)
    stale = stale or {"north": 0.0, "south": 0.0}
    teams = rng.choice(list(stale), size=n)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.uniform(0, 170, n), unit="D")
    decided_after = pd.to_timedelta(rng.gamma(2.0, 10.0, n), unit="D")
    never = rng.uniform(size=n) < np.array([stale[t] for t in teams])
    won = rng.uniform(size=n) < win_rate
    decided_at = (created + decided_after).where(~never)
    cutoff = pd.Timestamp(as_of)
    return _deal_table("D", created, teams, decided_at.where(decided_at <= cutoff), won)


def _deal_table(prefix: str, created: pd.Series, teams, decided_at: pd.Series, won: np.ndarray) -> pd.DataFrame:
    """Canonical lead columns for deals decided at ``decided_at`` (NaT: still open), won where ``won``."""
    leads = pd.DataFrame({"lead_id": [f"{prefix}{i}" for i in range(len(created))],
                          "created_at": created.astype("datetime64[us]"), "team": teams})
    leads["reached_lead"], leads["lead_at"] = True, leads["created_at"]
    leads["customer_at"] = decided_at.where(won).astype("datetime64[us]")
    leads["reached_customer"] = leads["customer_at"].notna()
    leads["lost_at"] = decided_at.where(~won).astype("datetime64[us]")
    leads["lost"] = leads["lost_at"].notna()
    return leads


def competing_deals(seed: int, n: int = 3000, win_probability: float = 0.3, as_of: str = "2025-07-20") -> pd.DataFrame:
    """Deals whose true conversion within 45 days is known (:func:`competing_truth`), with heavy, fast losses.

    Each deal is won with ``win_probability`` after Gamma(2, 10) days (mean 20), otherwise lost after
    Exponential(8) days; deals are created over H1 2025 and seen at ``as_of``, so young deals are open.
    Kaplan–Meier that censors losses at their date overstates conversion; the cumulative incidence does not.
    """
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.uniform(0, 180, n), unit="D")
    won = rng.uniform(size=n) < win_probability
    delay = np.where(won, rng.gamma(2.0, 10.0, n), rng.exponential(8.0, n))
    decided_at = created + pd.to_timedelta(delay, unit="D")
    return _deal_table("C", created, rng.choice(["north", "south"], size=n),
                       decided_at.where(decided_at <= pd.Timestamp(as_of)), won)


def competing_truth(win_probability: float = 0.3, window_days: float = 45) -> float:
    """True share of :func:`competing_deals` won within ``window_days``: p * P(Gamma(2, 10) <= window)."""
    from scipy.stats import gamma

    return win_probability * float(gamma.cdf(window_days, 2.0, scale=10.0))


def pipeline_spec(min_n: int = 50) -> SlaSpec:
    return spec_from_dict({"name": "deals", "period": {"start": "2025-01-01", "end": "2025-06-30"},
                           "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 45}},
                           "channel_column": "team", "analysis": {"min_n": min_n, "simulations": 200}})


def win_rate_covers(seed: int, truth: float = 0.35) -> bool:
    """One seed of the coverage study: does the reported 95% interval hold the true decided win rate?"""
    deals = decided_deals(generated_deals(seed, n=1500, win_rate=truth), pipeline_spec(), pd.Timestamp("2025-07-01"))
    return deals.win_rate.low <= truth <= deals.win_rate.high


