"""Spend efficiency per channel: cost per lead and per customer with intervals, and a test against the rest.

Spend is treated as known; the uncertainty is in the counts.

* **Projected customers** (dated stages and an as-of date, basis ``projected``): customers won so far
  undercount a channel whose leads are young (a channel launched late looks expensive), so cost per
  customer divides spend by the customers its leads are projected to deliver within the window,
  ``leads × F(window)``, ``F`` being the channel's own Kaplan–Meier conversion (lost leads at risk,
  never converting). Its variance on the log scale is ``1/leads + Var(F)/F²`` (Poisson leads per unit
  of spend, Greenwood's variance of ``F``); without censoring that is ``1/customers``, the Poisson
  figure. The interval is ``exp(±z·se)`` around it and a channel is compared with the other channels
  (their projected customers summed) by a z-test of the log ratio. A channel whose follow-up does not
  reach the window yet cannot be projected and is not compared (``not_matured``).
* **Customers so far** (stages known only as flags: nothing is censored, basis ``counted``): the exact
  (Garwood) interval of the count (``statsmodels.stats.rates.confint_poisson``) and the score test of
  two Poisson rates (``test_poisson_2indep``).

Findings about costs pass the same gate as rate comparisons (see :mod:`sla_toolkit.findings.rules`):
Benjamini–Hochberg over the report's whole family and a minimum effect, ``analysis.min_effect_relative``
of the rest's cost per customer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats import rates as poisson_rates

from .outcomes import as_of_view, has_timestamps, transition_outcomes
from .results import ResultMixin
from .spec import SlaSpec
from .survival import fit_km
from .types import reached_column

MIN_CUSTOMERS_TO_COMPARE = 5


@dataclass(frozen=True)
class ChannelCosts(ResultMixin):
    """Per-channel spend, leads, customers, cost per lead/customer with intervals, and p-values vs the rest."""

    table: pd.DataFrame
    confidence: float
    title = "Cost per lead and per customer by channel"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def total(self, column: str) -> float:
        return float(self.table[column].sum())


def channel_costs(leads: pd.DataFrame, spend: pd.DataFrame, spec: SlaSpec,
                  as_of: pd.Timestamp | None = None) -> ChannelCosts:
    """Cost per lead and per customer for each channel that has spend.

    With ``as_of`` and dated stages, customers are projected within the window (module docstring).

    Example
    -------
    >>> from sla_toolkit.datasets import load_example_leads
    >>> data = load_example_leads()
    >>> channel_costs(data.leads, data.spend, data.spec).table.columns[0]
    'channel'
    """
    alpha = 1 - spec.analysis.confidence
    if spec.channel_column not in leads:
        return ChannelCosts(pd.DataFrame(), spec.analysis.confidence)
    projected = _projected_customers(leads, spec, as_of)
    channel = leads[spec.channel_column].astype("str")
    customers = leads[reached_column(spec.funnel.last)].groupby(channel, observed=True).sum()
    lead_counts = channel.value_counts()
    money = spend.groupby(spend["channel"].astype("str"))["spend"].sum()
    rows = []
    for name, amount in money.items():
        n_leads, n_customers = int(lead_counts.get(name, 0)), int(customers.get(name, 0))
        row = {"channel": name, "spend": float(amount), "leads": n_leads, "customers_so_far": n_customers,
               **_cost_interval("cost_per_lead", amount, n_leads, alpha)}
        if projected is None:
            rest_spend, rest_customers = float(money.sum() - amount), int(customers.sum() - n_customers)
            row.update({"basis": "counted", "customers": float(n_customers),
                        **_cost_interval("cost_per_customer", amount, n_customers, alpha),
                        "rest_spend": rest_spend, "rest_customers": float(rest_customers),
                        "p_value": _compare(n_customers, amount, rest_customers, rest_spend)})
        else:
            row.update(_projected_row(name, money, projected, customers, alpha))
        rows.append(row)
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.rename(columns={"cost_per_customer_low": "low", "cost_per_customer_high": "high"})
        table["ratio_to_rest"] = table["cost_per_customer"] / (table["rest_spend"] / table["rest_customers"])
    return ChannelCosts(table, spec.analysis.confidence)


def _projected_customers(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp | None) -> pd.DataFrame | None:
    """Per channel: leads, ``F(window)`` and its variance from the channel's Kaplan–Meier curve (None: no dates)."""
    first, last = spec.funnel.first, spec.funnel.last
    if as_of is None or "created_at" not in leads or not has_timestamps(leads, last):
        return None
    as_of = pd.Timestamp(as_of)
    view = as_of_view(leads, spec, as_of)
    outcomes = transition_outcomes(view, spec, first, last, as_of)
    window = spec.funnel.window_between(first, last)
    timed = outcomes["entered"] & outcomes["duration_days"].notna()
    rows = {}
    for name, index in view.loc[timed].groupby(view[spec.channel_column].astype("str"), observed=True).groups.items():
        part = outcomes.loc[index]
        survival = fit_km(part["duration_days"], part["event"])
        if survival is None or float(part["duration_days"].max()) < window:
            rows[name] = (len(part), np.nan, np.nan)
            continue
        position = np.searchsorted(survival.surv_times, window, side="right")
        surv = np.r_[1.0, survival.surv_prob][position]
        se = np.r_[0.0, survival.surv_prob_se][position]
        rows[name] = (len(part), 1 - surv, se ** 2)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["leads", "conversion", "variance"])


def _projected_row(name: str, money: pd.Series, projected: pd.DataFrame, so_far: pd.Series, alpha: float) -> dict:
    """Cost per projected customer with its interval, and the z-test of the log ratio against the rest."""
    frame = projected.reindex(money.index)
    customers = frame["leads"] * frame["conversion"]
    # var(log customers) = 1/leads + var(F)/F^2; var of a sum of channels = sum of (customers^2 * that)
    log_var = 1 / frame["leads"] + frame["variance"] / frame["conversion"] ** 2
    own, own_var = float(customers.get(name, np.nan)), float(log_var.get(name, np.nan))
    others = [c for c in money.index if c != name and np.isfinite(customers.get(c, np.nan))]
    rest = float(customers[others].sum()) if others else np.nan
    rest_spend = float(money[others].sum()) if others else np.nan
    rest_var = float((customers[others] ** 2 * log_var[others]).sum() / rest ** 2) if others and rest > 0 else np.nan
    z = norm.ppf(1 - alpha / 2)
    amount = float(money[name])
    cost = amount / own if own > 0 else np.inf
    row = {"basis": "projected" if np.isfinite(own) else "not_matured", "customers": own,
           "cost_per_customer": cost, "cost_per_customer_low": cost * np.exp(-z * np.sqrt(own_var)),
           "cost_per_customer_high": cost * np.exp(z * np.sqrt(own_var)), "rest_spend": rest_spend,
           "rest_customers": rest, "p_value": np.nan}
    enough = (min(int(so_far.get(name, 0)), int(so_far[others].sum()) if others else 0) >= MIN_CUSTOMERS_TO_COMPARE)
    if enough and own > 0 and rest > 0 and np.isfinite(own_var + rest_var):
        statistic = (np.log(amount / own) - np.log(rest_spend / rest)) / np.sqrt(own_var + rest_var)
        row["p_value"] = float(2 * norm.sf(abs(statistic)))
    return row


def _cost_interval(name: str, amount: float, count: int, alpha: float) -> dict[str, float]:
    if count == 0:
        return {name: np.inf, f"{name}_low": float(amount / poisson_rates.confint_poisson(0, 1.0, method="exact-c",
                                                                                alpha=alpha)[1]),
                f"{name}_high": np.inf}
    low_count, high_count = poisson_rates.confint_poisson(count, 1.0, method="exact-c", alpha=alpha)
    return {name: amount / count, f"{name}_low": float(amount / high_count),
            f"{name}_high": float(amount / low_count) if low_count > 0 else np.inf}


def _compare(count: int, spend: float, rest_count: int, rest_spend: float) -> float:
    if min(count, rest_count) < MIN_CUSTOMERS_TO_COMPARE or spend <= 0 or rest_spend <= 0:
        return float("nan")
    return float(poisson_rates.test_poisson_2indep(count, spend, rest_count, rest_spend, method="score").pvalue)
