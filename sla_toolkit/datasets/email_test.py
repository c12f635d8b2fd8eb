"""A generated randomized e-mail test with known true lifts (three arms, flags visit -> purchase, spend).

Shaped like the public MineThatData e-mail test: every customer in the list is sent one arm at random
(no e-mail, one of two e-mails); the outcome is two flags, visited the site and purchased, and the spend
of those who purchased. Purchase is rare (about 1%) and spend is skewed (lognormal), so revenue per lead
is mostly zeros: the hard case for intervals.

>>> test = generate_email_test(EmailTestSettings(seed=1, n_leads=3_000))
>>> sorted(test.leads["arm"].unique())
['mens_email', 'no_email', 'womens_email']
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..spec import SlaSpec, spec_from_dict
from ..types import reached_column

STAGES = ("recipient", "visit", "purchase")


@dataclass(frozen=True)
class ArmSettings:
    """True behaviour of one arm: P(visit), P(purchase | visit), and lognormal spend of purchasers."""

    visit: float
    purchase_given_visit: float
    spend_log_mean: float = 4.0
    spend_log_sd: float = 1.0

    @property
    def conversion(self) -> float:
        return self.visit * self.purchase_given_visit

    @property
    def mean_spend(self) -> float:
        return math.exp(self.spend_log_mean + self.spend_log_sd ** 2 / 2)

    @property
    def revenue_per_lead(self) -> float:
        return self.conversion * self.mean_spend


def _default_arms() -> dict[str, ArmSettings]:
    return {"no_email": ArmSettings(0.10, 0.08),
            "mens_email": ArmSettings(0.18, 0.08, 4.2),
            "womens_email": ArmSettings(0.15, 0.075)}


@dataclass(frozen=True)
class EmailTestSettings:
    """``assignment`` gives the true chance of each arm (default: the planned equal split); set it
    unequal to plant a sample-ratio mismatch."""

    seed: int = 0
    n_leads: int = 60_000
    arms: dict[str, ArmSettings] = field(default_factory=_default_arms)
    control: str = "no_email"
    assignment: dict[str, float] | None = None
    start: dt.date = dt.date(2025, 3, 3)
    days: int = 14

    @classmethod
    def null(cls, seed: int, n_leads: int = 60_000) -> "EmailTestSettings":
        """Every arm behaves like the control (A/A/A)."""
        same = ArmSettings(0.12, 0.08)
        return cls(seed=seed, n_leads=n_leads, arms={a: same for a in _default_arms()})

    def with_srm(self, arm: str, share: float) -> "EmailTestSettings":
        """Assign ``share`` of leads to ``arm`` and split the rest equally (the plan stays equal)."""
        others = [a for a in self.arms if a != arm]
        return replace(self, assignment={arm: share, **{a: (1 - share) / len(others) for a in others}})


@dataclass(frozen=True)
class EmailTest:
    settings: EmailTestSettings
    spec: SlaSpec
    leads: pd.DataFrame          # canonical lead table

    def true_lift(self, arm: str, metric: str) -> float:
        """True absolute lift of ``arm`` over the control: ``conversion`` or ``revenue_per_lead``."""
        arms = self.settings.arms
        return getattr(arms[arm], metric) - getattr(arms[self.settings.control], metric)


def email_test_spec(settings: EmailTestSettings, *, randomized: bool = True) -> dict:
    """The ``sla.yaml`` of the test as a dict."""
    end = settings.start + dt.timedelta(days=settings.days - 1)
    expected = sum(a.conversion for a in settings.arms.values()) / len(settings.arms)
    return {
        "name": "E-mail test", "period": {"start": settings.start.isoformat(), "end": end.isoformat()},
        "funnel": {"stages": list(STAGES), "targets": {"recipient->visit": 0.12, "visit->purchase": 0.08}},
        "objectives": {"customers": max(1, round(expected * settings.n_leads))},
        "channel_column": "arm", "segments": ["arm"],
        "experiment": {"name": "spring e-mail", "arm_column": "arm", "control": settings.control,
                       "randomized": randomized, "start": settings.start.isoformat(), "unit": "lead",
                       "split": {a: round(1 / len(settings.arms), 6) for a in settings.arms},
                       "primary_metric": "conversion", "min_effect": 0.002},
        "analysis": {"min_n": 100},
    }


def generate_email_test(settings: EmailTestSettings, *, randomized: bool = True) -> EmailTest:
    rng = np.random.default_rng(settings.seed)
    names = list(settings.arms)
    shares = settings.assignment or {a: 1 / len(names) for a in names}
    code = rng.choice(len(names), size=settings.n_leads, p=[shares[a] for a in names])
    arms = [settings.arms[a] for a in names]
    visited = rng.random(settings.n_leads) < np.array([a.visit for a in arms])[code]
    purchased = visited & (rng.random(settings.n_leads) < np.array([a.purchase_given_visit for a in arms])[code])
    log_spend = rng.normal(np.array([a.spend_log_mean for a in arms])[code],
                           np.array([a.spend_log_sd for a in arms])[code])
    spend = np.where(purchased, np.round(np.exp(log_spend), 2), 0.0)
    seconds = np.sort(rng.integers(0, settings.days * 86_400, settings.n_leads))
    created = pd.Timestamp(settings.start) + pd.to_timedelta(seconds, unit="s")
    ids = pd.Series(np.arange(settings.n_leads)).astype("str").str.zfill(7).radd("C")
    arm = pd.Categorical.from_codes(code, names).astype("str")
    leads = pd.DataFrame({"lead_id": ids.to_numpy(), "created_at": created, "arm": arm,
                          reached_column("recipient"): True, reached_column("visit"): visited,
                          reached_column("purchase"): purchased, "revenue": np.where(purchased, spend, np.nan)})
    leads["recipient_at"] = leads["created_at"]
    spec = spec_from_dict(email_test_spec(settings, randomized=randomized), "generated e-mail test")
    return EmailTest(settings, spec, leads)


def email_export(test: EmailTest) -> pd.DataFrame:
    """The file a user would have: one row per customer, flags as yes/no, spend 0 for non-buyers."""
    leads = test.leads
    return pd.DataFrame({"customer_id": leads["lead_id"], "sent_at": leads["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                         "segment": leads["arm"], "visit": np.where(leads["reached_visit"], "yes", "no"),
                         "conversion": np.where(leads["reached_purchase"], "yes", "no"),
                         "spend": leads["revenue"].fillna(0.0)})


def write_email_test(test: EmailTest, folder: str | Path) -> tuple[Path, Path]:
    """Write ``emails.csv``, ``sla.yaml`` and ``source.yaml`` into ``folder``; returns (sla, source)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    email_export(test).to_csv(folder / "emails.csv", index=False)
    sla = folder / "sla.yaml"
    sla.write_text("# A randomized e-mail test: three arms, visit -> purchase flags, spend per customer.\n"
                   + yaml.safe_dump(test.spec.to_dict(), sort_keys=False), encoding="utf-8")
    source = folder / "source.yaml"
    source.write_text(yaml.safe_dump({
        "leads": {"path": "emails.csv"},
        "columns": {"lead_id": "customer_id", "created_at": "sent_at", "arm": "segment", "revenue": "spend"},
        "flags": {"visit": "visit", "purchase": "conversion"},
    }, sort_keys=False), encoding="utf-8")
    return sla, source
