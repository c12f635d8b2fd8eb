"""Properties of load_leads on generated lead tables (hypothesis, derandomized).

For any table with blanks, junk dates, future dates, backwards stages and repeated ids:
accepted + quarantined = input, exactly the rows an independent oracle rejects are quarantined,
stage counts never grow down the funnel, and reached_ flags agree with the timestamps.
"""
from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_toolkit.io import load_leads
from sla_toolkit.io.mapping import mapping_from_dict
from sla_toolkit.spec import spec_from_dict

STAGES = ["lead", "mql", "sql", "customer"]
TIMELINE = ["created", "mql", "sql", "won"]
AS_OF = pd.Timestamp("2024-12-31")
LIMIT = AS_OF + pd.Timedelta(days=1)  # the ingest treats dates after as_of + 1 day as "in the future"
START = dt.datetime(2023, 1, 1)
JUNK = ["not a date", "2024-13-45", "31/31/2024", "tbd", "0000-00-00", "2024-02-30 10:00"]
IDS = [f"L{i}" for i in range(20)]
SPEC = spec_from_dict({"name": "property", "period": {"start": "2023-01-01", "end": "2024-12-31"},
                       "funnel": {"stages": STAGES}})
PROPERTY_SETTINGS = settings(max_examples=50, derandomize=True, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.too_slow])


FORMATS = {"date": "%Y-%m-%d", "minutes": "%Y-%m-%d %H:%M", "iso": "%Y-%m-%dT%H:%M:%S"}


def _text(moment: dt.datetime, style: str) -> str:
    return moment.strftime(FORMATS[style])


@st.composite
def lead_rows(draw) -> list[list[str]]:
    """Rows of id, created, mql, sql, won: mostly forward in time, with every kind of defect mixed in."""
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        if rows and draw(st.integers(0, 9)) == 0:
            rows.append(list(draw(st.sampled_from(rows))))  # an exact duplicate of an earlier row
            continue
        lead_id = draw(st.sampled_from(IDS + ["", "  "]))
        style = draw(st.sampled_from(sorted(FORMATS)))
        moment = START + dt.timedelta(hours=draw(st.integers(0, 650 * 24)))
        cells = []
        for position in range(len(TIMELINE)):
            kind = draw(st.sampled_from(["ok"] * 5 + ["blank"] * 3 + ["junk", "future", "backwards"]))
            if position == 0 and kind == "backwards":
                kind = "ok"
            if kind == "blank":
                cells.append("")
            elif kind == "junk":
                cells.append(draw(st.sampled_from(JUNK)))
            elif kind == "future":
                cells.append(_text(dt.datetime(2025, 2, 1) + dt.timedelta(days=draw(st.integers(0, 900))), style))
            elif kind == "backwards":
                cells.append(_text(moment - dt.timedelta(hours=draw(st.integers(1, 30 * 24))), style))
            else:
                if position:
                    moment += dt.timedelta(hours=draw(st.integers(0, 60 * 24)))
                cells.append(_text(moment, style))
        rows.append([lead_id, *cells])
    return rows


def expected_rejections(rows: list[list[str]]) -> set[int]:
    """Independent oracle: line numbers (header = 1) of the rows the contract rejects."""
    rejected, seen = set(), set()
    for line, (lead_id, *cells) in enumerate(rows, start=2):
        stamps = []
        bad = False
        for cell in cells:
            if cell == "":
                stamps.append(None)
            elif cell in JUNK:
                bad = True
                stamps.append(None)
            else:
                stamps.append(pd.Timestamp(cell))
        key = lead_id.strip()
        bad |= key == "" or key in seen
        seen.add(key) if key else None
        bad |= stamps[0] is None
        known = [s for s in stamps if s is not None]
        bad |= any(s > LIMIT for s in known)
        bad |= any(later < max(known[:i]) for i, later in enumerate(known) if i)
        if bad:
            rejected.add(line)
    return rejected


def load(rows: list[list[str]]):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", *TIMELINE])
            writer.writerows(rows)
        mapping = mapping_from_dict({"leads": {"path": "leads.csv", "delimiter": ","},
                                     "columns": {"lead_id": "id", "created_at": "created", "mql_at": "mql",
                                                 "sql_at": "sql", "customer_at": "won"}}, base_dir=Path(folder))
        return load_leads(SPEC, mapping, as_of=AS_OF)


@PROPERTY_SETTINGS
@given(lead_rows())
def test_ingest_accounts_for_every_row_and_keeps_the_funnel_consistent(rows):
    data = load(rows)
    quality, leads = data.quality, data.leads
    quarantine = data.quarantine[data.quarantine["table"] == "leads"]

    assert quality.input_rows == len(rows)
    assert quality.accepted_rows + quality.quarantined_rows == quality.input_rows
    assert len(leads) == quality.accepted_rows and len(quarantine) == quality.quarantined_rows
    assert set(quarantine["_source_row"].astype(int)) == expected_rejections(rows)
    assert all(isinstance(r, str) and r for r in quarantine["reason"])

    counts = [int(leads[f"reached_{s}"].sum()) for s in STAGES]
    assert counts == sorted(counts, reverse=True), f"stage counts grow down the funnel: {counts}"
    assert counts[0] == len(leads)

    assert leads["lead_id"].notna().all() and leads["lead_id"].is_unique
    assert leads["created_at"].notna().all() and leads["lead_at"].equals(leads["created_at"].rename("lead_at"))
    for earlier, later in zip(STAGES, STAGES[1:]):
        assert (~leads[f"reached_{later}"] | leads[f"reached_{earlier}"]).all()
    for stage in STAGES[1:]:
        stamped = leads[f"{stage}_at"].notna()
        assert (~stamped | leads[f"reached_{stage}"]).all()
        implied = leads[f"reached_{stage}"] & ~stamped
        assert quality.implied_stage_fills[stage] == int(implied.sum())
    for stamps in leads[["created_at", "mql_at", "sql_at", "customer_at"]].itertuples(index=False):
        known = [s for s in stamps if pd.notna(s)]
        assert known == sorted(known) and all(s <= LIMIT for s in known)


FLAG_VALUES = ["yes", "no", "1", "0", "Y", "N", "true", "False", "", "maybe", "won", "lost", "2"]
TRUTHY = {"yes", "1", "y", "true", "won"}
FALSY = {"no", "0", "n", "false", "", "lost"}


@settings(PROPERTY_SETTINGS, max_examples=30)
@given(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(["", "2024-01-05", "2024-03-01 09:30", "tbd"]),
                          st.sampled_from(FLAG_VALUES)), min_size=1, max_size=30))
def test_flag_stages_follow_the_flag_values(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([("id", "created", "mql", "won"),
                                          *((i, "2024-01-02", mql, won) for i, mql, won in rows)])
        spec = spec_from_dict({"name": "flags", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                               "funnel": {"stages": ["lead", "mql", "customer"]}})
        mapping = mapping_from_dict({"leads": {"path": "leads.csv", "delimiter": ","},
                                     "columns": {"lead_id": "id", "created_at": "created", "mql_at": "mql"},
                                     "flags": {"customer": "won"}}, base_dir=Path(folder))
        data = load_leads(spec, mapping, as_of=AS_OF)
    quality, leads = data.quality, data.leads
    assert quality.accepted_rows + quality.quarantined_rows == quality.input_rows == len(rows)
    first_seen, expected_bad = set(), set()
    for line, (lead_id, mql, won) in enumerate(rows, start=2):
        if lead_id in first_seen or mql == "tbd" or won.lower() not in TRUTHY | FALSY:
            expected_bad.add(line)
        first_seen.add(lead_id)
    assert set(data.quarantine["_source_row"].astype(int)) == expected_bad
    accepted_rows = [row for line, row in enumerate(rows, start=2) if line not in expected_bad]
    assert leads["reached_customer"].tolist() == [won.lower() in TRUTHY for _, _, won in accepted_rows]
    assert leads["reached_mql"].tolist() == [mql != "" or won.lower() in TRUTHY for _, mql, won in accepted_rows]
    assert leads["customer_at"].isna().all()
    counts = data.stage_counts().tolist()
    assert counts == sorted(counts, reverse=True)
