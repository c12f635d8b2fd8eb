"""Write a generated campaign as a user would have it: a CRM export, a spend sheet, two YAML files.

``leads.csv`` uses CRM-style column names ("Lead ID", "Created Date", "MQL Date", ...) and the
placeholder ``Select`` for a region nobody filled in; ``source.yaml`` maps it back to the
canonical lead table, so ``sla_toolkit.io.load_leads(sla.yaml, source.yaml)`` reproduces
``campaign.leads``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..types import stage_column
from .generate import Campaign

MISSING_PLACEHOLDER = "Select"
DATE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_ACRONYMS = {"mql", "sql", "sal", "pql"}
_SPEND_COLUMNS = {"date": "Date", "channel": "Channel", "campaign": "Campaign", "spend": "Spend"}


@dataclass(frozen=True)
class CampaignPaths:
    """Where a campaign's files are: the folder, the two YAML files and the two CSV files."""

    folder: Path
    sla: Path
    source: Path
    leads: Path
    spend: Path

    @classmethod
    def in_folder(cls, folder: str | Path) -> CampaignPaths:
        folder = Path(folder)
        return cls(folder, folder / "sla.yaml", folder / "source.yaml", folder / "leads.csv", folder / "spend.csv")


def stage_label(stage: str) -> str:
    """Human name of a stage as CRMs write it: acronyms upper-case (MQL), others capitalised (Customer)."""
    return stage.upper() if stage in _ACRONYMS else stage.replace("_", " ").title()


def crm_column_names(campaign: Campaign) -> dict[str, str]:
    """Canonical column -> CRM export column, in the order of the export."""
    settings = campaign.settings
    names = {"lead_id": "Lead ID", "created_at": "Created Date"}
    names |= {stage_column(s): f"{stage_label(s)} Date" for s in settings.stages[1:]}
    names |= {"channel": "Original Source", "campaign": "Campaign", "region": "Region", "lead_type": "Lead Type",
              settings.follow_up.team_column: "Sales Rep", "first_touch_at": "First Touch", "lost_at": "Lost Date",
              "revenue": "Revenue"}
    names |= {f.name: f.name.replace("_", " ").title() for f in settings.population.features}
    return names


def write_campaign(campaign: Campaign, folder: str | Path) -> CampaignPaths:
    """Write ``leads.csv``, ``spend.csv``, ``sla.yaml`` and ``source.yaml`` into ``folder``.

    Files are written in a fixed format (``\\n`` line ends, dates to the second, money to the
    cent), so the same campaign always gives byte-identical files.
    """
    paths = CampaignPaths.in_folder(folder)
    paths.folder.mkdir(parents=True, exist_ok=True)
    names = crm_column_names(campaign)
    export = campaign.leads[list(names)].rename(columns=names)
    export["Region"] = export["Region"].fillna(MISSING_PLACEHOLDER)
    export.to_csv(paths.leads, index=False, date_format=DATE_TIME_FORMAT, float_format="%.2f", lineterminator="\n")
    spend = campaign.spend.rename(columns=_SPEND_COLUMNS)
    spend.to_csv(paths.spend, index=False, date_format="%Y-%m-%d", float_format="%.2f", lineterminator="\n")
    paths.sla.write_text(_sla_yaml(campaign), encoding="utf-8")
    paths.source.write_text(_source_yaml(campaign, names), encoding="utf-8")
    return paths


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def _sla_yaml(campaign: Campaign) -> str:
    s = campaign.settings
    header = [
        f"# SLA for the synthetic campaign {s.name!r}, written by sla_toolkit.datasets (seed {s.seed}).",
        "# funnel.targets: per transition, the share of leads entering its first stage that reach the next",
        "# stage within that stage's window (windows_days). follow_up: sales' promise to contact `share` of",
        "# the leads reaching `stage` within `within_hours`. Figures come from the generator's true rates.",
    ]
    body = campaign.spec.model_dump(mode="python", exclude_none=True)
    return "\n".join(header) + "\n" + _dump(body)


def _source_yaml(campaign: Campaign, names: dict[str, str]) -> str:
    header = [
        "# How to read this folder's CRM export (leads.csv) and spend sheet (spend.csv) into the",
        "# canonical lead table. `columns` maps canonical names to the export's column names;",
        f"# the CRM writes {MISSING_PLACEHOLDER!r} where nobody picked a value: it means missing.",
    ]
    body = {
        "leads": {"path": "leads.csv"},
        "columns": dict(names),
        "values": {"*": {MISSING_PLACEHOLDER: None}},
        "spend": {"path": "spend.csv", "columns": dict(_SPEND_COLUMNS)},
        "rules": {"backwards_stages": "quarantine", "duplicate_rows": "quarantine"},
    }
    return "\n".join(header) + "\n" + _dump(body)

