"""The SLA spec that goes with a generated campaign, derived from its settings and truth."""
from __future__ import annotations

from typing import Any

from ..spec import SlaSpec, spec_from_dict
from .settings import GeneratorSettings
from .truth import CampaignTruth

# Columns that only exist because of the outcome (or sales' handling of it): never model inputs.
LEAKY_COLUMNS = ["lost_at", "revenue", "first_touch_at"]
KPI_SLACK = 1.15  # cost ceilings sit 15 % above the expected cost


def build_spec(settings: GeneratorSettings, truth: CampaignTruth) -> SlaSpec:
    """An :class:`SlaSpec` matching the generated data.

    Targets per transition are ``round(target_ratio x true rate, 2)``; the customer objective
    is ``objective_ratio`` x the expected number of customers by the period's end; cost
    ceilings are 15 % above the expected cost per lead and cost per customer.
    """
    return spec_from_dict(spec_dict(settings, truth), source=f"generated spec ({settings.name})")


def spec_dict(settings: GeneratorSettings, truth: CampaignTruth) -> dict[str, Any]:
    stages = list(settings.stages)
    last = stages[-1]
    follow_up = settings.follow_up
    expected_customers = truth.expected_by_deadline[last]
    customers = max(1, round(settings.objective_ratio * expected_customers))
    data: dict[str, Any] = {
        "name": settings.name,
        "period": {"start": settings.period.start, "end": settings.period.end},
        "funnel": {
            "stages": stages,
            "targets": {name: t.target for name, t in truth.transitions.items()},
            "windows_days": {t.to_stage: t.window_days for t in truth.transitions.values()},
        },
        "objectives": {"customers": customers,
                       "revenue": float(round(customers * truth.revenue_mean, -3)) or None},
        "follow_up": {"stage": follow_up.stage, "within_hours": follow_up.within_hours,
                      "share": follow_up.promised_share, "team_column": follow_up.team_column},
        "kpis": _kpis(truth, expected_customers),
        "scope": {"created_in_period": True},
        "channel_column": "channel",
        "segments": list(settings.population.segments),
        "features": [f.name for f in settings.population.features],
        "leaky": [*LEAKY_COLUMNS, follow_up.team_column],
    }
    if data["objectives"]["revenue"] is None:
        del data["objectives"]["revenue"]
    return data


def _kpis(truth: CampaignTruth, expected_customers: float) -> dict[str, dict[str, float]]:
    if truth.expected_spend <= 0:
        return {}
    kpis = {"cost_per_lead": {"max": round(KPI_SLACK * truth.expected_spend / truth.expected_leads, 0)}}
    if expected_customers > 0:
        kpis["cac"] = {"max": round(KPI_SLACK * truth.expected_spend / expected_customers, -1)}
    return kpis
