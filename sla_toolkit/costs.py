"""Spend efficiency per channel: cost per lead and per customer with intervals, and a test against the rest.

Spend is treated as known; the uncertainty is in the counts, modelled as Poisson per unit of spend,
so the interval of cost per customer is spend divided by the exact (Garwood) interval of the count
(``statsmodels.stats.rates.confint_poisson``), and a channel is compared with all other channels by
the score test of two Poisson rates (``test_poisson_2indep``). Customers still to come from open leads
are not counted: costs are "to date" and shrink as open leads convert.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .results import ResultMixin
from .spec import SlaSpec
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


def channel_costs(leads: pd.DataFrame, spend: pd.DataFrame, spec: SlaSpec) -> ChannelCosts:
    """Cost per lead and per customer for each channel that has spend.

    Example
    -------
    >>> from sla_toolkit.datasets import load_example_leads
    >>> data = load_example_leads()
    >>> channel_costs(data.leads, data.spend, data.spec).table.columns[0]
    'channel'
    """
    alpha = 1 - spec.analysis.confidence
    channel = leads[spec.channel_column].astype("str") if spec.channel_column in leads else None
    if channel is None:
        return ChannelCosts(pd.DataFrame(), spec.analysis.confidence)
    customers = leads[reached_column(spec.funnel.last)].groupby(channel, observed=True).sum()
    lead_counts = channel.value_counts()
    money = spend.groupby(spend["channel"].astype("str"))["spend"].sum()
    rows = []
    for name, amount in money.items():
        n_leads = int(lead_counts.get(name, 0))
        n_customers = int(customers.get(name, 0))
        rest_spend = float(money.sum() - amount)
        rest_customers = int(customers.sum() - n_customers)
        rows.append({
            "channel": name, "spend": float(amount), "leads": n_leads, "customers": n_customers,
            **_cost_interval("cost_per_lead", amount, n_leads, alpha),
            **_cost_interval("cost_per_customer", amount, n_customers, alpha),
            "rest_spend": rest_spend, "rest_customers": rest_customers,
            "p_value": _compare(n_customers, amount, rest_customers, rest_spend),
        })
    table = pd.DataFrame(rows)
    if not table.empty:
        table = table.rename(columns={"cost_per_customer_low": "low", "cost_per_customer_high": "high"})
    return ChannelCosts(table, spec.analysis.confidence)


def _cost_interval(name: str, amount: float, count: int, alpha: float) -> dict[str, float]:
    from statsmodels.stats import rates as poisson_rates   # deferred: heavy, not needed to show results

    if count == 0:
        return {name: np.inf, f"{name}_low": float(amount / poisson_rates.confint_poisson(0, 1.0, method="exact-c",
                                                                                alpha=alpha)[1]),
                f"{name}_high": np.inf}
    low_count, high_count = poisson_rates.confint_poisson(count, 1.0, method="exact-c", alpha=alpha)
    return {name: amount / count, f"{name}_low": float(amount / high_count),
            f"{name}_high": float(amount / low_count) if low_count > 0 else np.inf}


def _compare(count: int, spend: float, rest_count: int, rest_spend: float) -> float:
    from statsmodels.stats import rates as poisson_rates

    if min(count, rest_count) < MIN_CUSTOMERS_TO_COMPARE or spend <= 0 or rest_spend <= 0:
        return float("nan")
    return float(poisson_rates.test_poisson_2indep(count, spend, rest_count, rest_spend, method="score").pvalue)
