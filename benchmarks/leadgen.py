"""A fixed-seed generator of canonical leads over 180 days, independent of :mod:`sla_toolkit.datasets`.

Used by ``benchmarks/cycle.py``: it writes ``leads.csv`` (or ``leads.parquet``), ``sla.yaml`` and
``source.yaml`` into a folder. Everything is vectorised (numpy), so ten million leads take a minute.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

START = np.datetime64("2025-01-01T00:00:00", "s")
DAYS = 180
CHANNELS = np.array(["paid_search", "organic_search", "email", "social", "events", "referral"])
CHANNEL_MQL = np.array([0.22, 0.28, 0.18, 0.12, 0.35, 0.40])
REGIONS = np.array(["NA", "EMEA", "APAC", "LATAM"])
TYPES = np.array(["demo_request", "content_download", "webinar"])
CAMPAIGNS = np.array(["Brand", "Nurture Sequence", "Spring Launch", "Partner Push", "Retargeting"])

SLA_YAML = """name: Benchmark {n} leads
period:
  start: 2025-01-01
  end: 2025-06-29
funnel:
  stages: [lead, mql, sql, customer]
  targets:
    lead->mql: 0.24
    mql->sql: 0.5
    sql->customer: 0.2
  windows_days: {{mql: 14, sql: 30, customer: 60}}
  default_window_days: 90
objectives:
  customers: {customers}
follow_up:
  stage: mql
  within_hours: 24.0
  share: 0.9
  team_column: sales_rep
scope:
  created_in_period: true
channel_column: channel
segments: [region, lead_type]
features: [pages_viewed, email_opens]
leaky: [lost_at, revenue, first_touch_at, sales_rep]
analysis:
  min_n: 30
  alpha: 0.05
  confidence: 0.95
  simulations: 4000
  seed: 0
"""

SOURCE_YAML = """leads:
  path: {file}
columns:
  lead_id: lead_id
"""


def _after(rng: np.random.Generator, base: np.ndarray, mask: np.ndarray, mean_days: float) -> np.ndarray:
    """``base`` plus an exponential delay where ``mask``, else NaT."""
    delay = (rng.exponential(mean_days * 86400, size=base.size)).astype("timedelta64[s]")
    return np.where(mask, base + delay, np.datetime64("NaT"))


def generate_leads(n: int, seed: int = 20251202) -> pd.DataFrame:
    """``n`` canonical leads created uniformly over 180 days; stage times after day 180 are censored."""
    rng = np.random.default_rng(seed)
    as_of = START + np.timedelta64(DAYS * 86400, "s")
    created = START + np.sort(rng.integers(0, DAYS * 86400, size=n)).astype("timedelta64[s]")
    channel = rng.integers(0, len(CHANNELS), size=n)
    pages = rng.poisson(4, size=n)
    opens = rng.poisson(3, size=n)
    logit = np.log(CHANNEL_MQL[channel] / (1 - CHANNEL_MQL[channel])) + 0.08 * (pages - 4) + 0.05 * (opens - 3)
    mql_at = _after(rng, created, rng.random(n) < 1 / (1 + np.exp(-logit)), 3)
    sql_at = _after(rng, mql_at, ~np.isnat(mql_at) & (rng.random(n) < 0.5), 7)
    customer_at = _after(rng, sql_at, ~np.isnat(sql_at) & (rng.random(n) < 0.2), 20)
    for stamps in (mql_at, sql_at, customer_at):
        stamps[stamps > as_of] = np.datetime64("NaT")
    reached_mql = ~np.isnat(mql_at)
    first_touch = _after(rng, mql_at, reached_mql & (rng.random(n) < 0.95), 0.5)
    first_touch[first_touch > as_of] = np.datetime64("NaT")
    lost = _after(rng, created, np.isnat(customer_at) & (rng.random(n) < 0.3), 40)
    lost[(lost > as_of) | (~np.isnat(customer_at))] = np.datetime64("NaT")
    revenue = np.where(~np.isnat(customer_at), np.round(rng.lognormal(9, 0.5, size=n), 2), np.nan)
    reps = np.char.add("rep_", rng.integers(1, 21, size=n).astype(str))
    return pd.DataFrame({
        "lead_id": np.char.add("L", np.char.zfill(np.arange(1, n + 1).astype(str), 9)),
        "created_at": created, "mql_at": mql_at, "sql_at": sql_at, "customer_at": customer_at,
        "channel": CHANNELS[channel], "campaign": CAMPAIGNS[rng.integers(0, len(CAMPAIGNS), size=n)],
        "region": REGIONS[rng.integers(0, len(REGIONS), size=n)],
        "lead_type": TYPES[rng.integers(0, len(TYPES), size=n)],
        "sales_rep": np.where(reached_mql, reps, None), "first_touch_at": first_touch, "lost_at": lost,
        "revenue": revenue, "pages_viewed": pages, "email_opens": opens,
    })


def write_campaign(folder: Path, n: int, parquet: bool = False, seed: int = 20251202) -> Path:
    """Write the lead file, ``sla.yaml`` and ``source.yaml`` into ``folder``; return the lead file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    leads = generate_leads(n, seed)
    path = folder / ("leads.parquet" if parquet else "leads.csv")
    if parquet:
        leads.to_parquet(path, index=False)
    else:
        leads.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    customers = int(max(1, round(n * 0.025)))
    (folder / "sla.yaml").write_text(SLA_YAML.format(n=n, customers=customers), encoding="utf-8")
    (folder / "source.yaml").write_text(SOURCE_YAML.format(file=path.name), encoding="utf-8")
    return path
