"""load_leads: the canonical lead table, quarantine rules, joins, ids, dates, flags, value maps and spend."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sla_toolkit.errors import SourceError
from sla_toolkit.io import load_leads
from sla_toolkit.io.mapping import mapping_from_dict
from sla_toolkit.spec import spec_from_dict
from ingest_helpers import load_csv_case

AS_OF = "2024-12-31"


def make_spec(stages=("lead", "mql", "sql", "customer"), **extra):
    return spec_from_dict({"name": "ingest", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                           "funnel": {"stages": list(stages)}, **extra})


def ingest(tmp_path: Path, csv_text: str, mapping: dict, spec=None, files: dict[str, str] | None = None):
    return load_csv_case(tmp_path, csv_text, mapping, spec or make_spec(), files)


FOUR_STAGES = {"columns": {"lead_id": "id", "created_at": "created", "mql_at": "mql", "sql_at": "sql",
                           "customer_at": "won", "channel": "source", "revenue": "amount"}}
GOOD = """id,created,mql,sql,won,source,amount
L1,2024-01-02 09:00,2024-01-03,2024-01-05,2024-02-01,email,1200.5
L2,2024-01-03,2024-01-04,,,paid,
L3,2024-01-04,,,,,
L4,2024-01-05,,2024-01-20,2024-03-01,organic,300
"""


def test_canonical_table_has_the_contract_columns_and_types(tmp_path):
    data = ingest(tmp_path, GOOD, FOUR_STAGES)
    leads = data.leads
    assert isinstance(leads.index, pd.RangeIndex) and leads.index.tolist() == [0, 1, 2, 3]
    for stage in ("lead", "mql", "sql", "customer"):
        assert leads[f"reached_{stage}"].dtype == bool
        assert leads[f"{stage}_at"].dtype == "datetime64[us]"
    assert leads["created_at"].dtype == "datetime64[us]"
    assert leads["lead_id"].tolist() == ["L1", "L2", "L3", "L4"]
    assert leads["lead_at"].equals(leads["created_at"].rename("lead_at"))
    assert leads["reached_lead"].all()
    assert leads.loc[0, "created_at"] == pd.Timestamp("2024-01-02 09:00")
    assert leads["revenue"].dtype == float and leads.loc[0, "revenue"] == 1200.5
    assert leads["channel"].isna().tolist() == [False, False, True, False]
    assert not any(c.startswith("_") for c in leads.columns)


def test_implied_stages_are_filled_and_counted(tmp_path):
    data = ingest(tmp_path, GOOD, FOUR_STAGES)
    leads = data.leads
    # L4 reached sql and customer without an mql date: mql is implied, its timestamp stays NaT
    assert leads["reached_mql"].tolist() == [True, True, False, True]
    assert pd.isna(leads.loc[3, "mql_at"])
    assert data.quality.implied_stage_fills == {"lead": 0, "mql": 1, "sql": 0, "customer": 0}
    assert data.stage_counts().to_dict() == {"lead": 4, "mql": 3, "sql": 2, "customer": 2}


def test_quality_counts_and_renderings(tmp_path):
    text = GOOD + "L2,2024-01-09,,,,paid,\n"
    data = ingest(tmp_path, text, FOUR_STAGES)
    q = data.quality
    assert (q.input_rows, q.accepted_rows, q.quarantined_rows) == (5, 4, 1)
    assert q.quarantine_reasons == {"duplicate lead_id": 1}
    assert q.quarantined_share == pytest.approx(0.2)
    frame = q.to_frame().set_index("item")["count"]
    assert frame["input rows"] == 5 and frame["quarantined: duplicate lead_id"] == 1
    assert frame["implied stage filled: mql"] == 1
    assert q.to_dict()["accepted_rows"] == 4
    assert "Data quality" in q._repr_html_()


def test_rows_with_several_problems_keep_every_reason(tmp_path):
    text = "id,created,mql,sql,won,source,amount\nL1,2024-01-02,2024-01-03,,,email,\n" \
           "L1,2024-01-09,2031-01-01,2024-01-01,,email,-3\n"
    data = ingest(tmp_path, text, FOUR_STAGES)
    [reason] = data.quarantine["reason"].tolist()
    assert set(reason.split("; ")) == {"duplicate lead_id (first seen in row 2)",
                                       "mql_at in the future (not after 2025-01-01)",
                                       "stage timestamps go backwards", "negative revenue"}


def test_equal_timestamps_are_not_backwards_but_a_gap_does_not_hide_an_earlier_stage(tmp_path):
    text = "id,created,mql,sql,won,source,amount\nL1,2024-01-02,2024-01-02,2024-01-02,,email,\n" \
           "L2,2024-01-10,,2024-01-05,,email,\n"
    data = ingest(tmp_path, text, FOUR_STAGES)
    assert data.leads["lead_id"].tolist() == ["L1"]
    assert data.quarantine["reason"].tolist() == ["stage timestamps go backwards"]


def test_backwards_stages_can_be_kept_and_flagged(tmp_path):
    text = GOOD + "L5,2024-01-10,2024-01-04,,,paid,\n"
    data = ingest(tmp_path, text, {**FOUR_STAGES, "rules": {"backwards_stages": "flag"}})
    assert data.quality.accepted_rows == 5 and data.quality.quarantined_rows == 0
    assert data.quality.flagged == {"stage timestamps go backwards": 1}
    [note] = data.quality.notes
    assert note.startswith("1 lead has a stage earlier than the one before it")
    assert "lead L5 (created_at=2024-01-10 00:00:00, mql_at=2024-01-04 00:00:00)" in note


def test_future_dates_can_be_kept(tmp_path):
    text = GOOD + "L5,2024-01-10,2030-01-04,,,paid,\n"
    quarantined = ingest(tmp_path, text, FOUR_STAGES)
    assert quarantined.quality.quarantine_reasons == {"mql_at in the future": 1}
    kept = ingest(tmp_path, text, {**FOUR_STAGES, "rules": {"future_dates": "flag"}})
    assert kept.quality.accepted_rows == 5


def test_as_of_decides_what_is_in_the_future(tmp_path):
    text = GOOD.replace("2024-03-01", "2024-12-31 18:00")
    (tmp_path / "leads.csv").write_text(text, encoding="utf-8")
    mapping = mapping_from_dict({"leads": {"path": "leads.csv"}, **FOUR_STAGES}, base_dir=tmp_path)
    assert load_leads(make_spec(), mapping, as_of="2024-12-31").quality.quarantined_rows == 0
    early = load_leads(make_spec(), mapping, as_of="2024-06-30")
    assert early.quality.quarantine_reasons == {"customer_at in the future": 1}


def test_flags_accept_the_usual_spellings(tmp_path):
    text = "id,created,won\n" + "".join(f"F{i},2024-01-02,{v}\n" for i, v in enumerate(
        ["Yes", "no", "TRUE", "0", "1.0", "", "won", "Lost", "y", "F"]))
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"},
                                   "flags": {"customer": "won"}}, spec=make_spec(("lead", "customer")))
    assert data.leads["reached_customer"].tolist() == [True, False, True, False, True, False, True, False,
                                                       True, False]
    assert data.leads["customer_at"].isna().all()


def test_custom_flag_values(tmp_path):
    text = "id,created,stage\nA,2024-01-02,Closed Won\nB,2024-01-02,Closed Lost\nC,2024-01-02,Open\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"},
                                   "flags": {"customer": "stage"}, "flag_true_values": ["closed won"],
                                   "values": {"stage": {"Closed Lost": "no", "Open": "no"}}},
                  spec=make_spec(("lead", "customer")))
    assert data.leads["reached_customer"].tolist() == [True, False, False]


def test_flag_only_data_has_no_creation_dates_and_needs_none(tmp_path):
    text = "age;job;y\n41;admin.;no\n35;unknown;yes\n35;unknown;yes\n"
    data = ingest(tmp_path, text, {"leads": {"path": "leads.csv", "delimiter": ";"},
                                   "id": {"generate": "row_number"}, "flags": {"subscribed": "y"},
                                   "values": {"*": {"unknown": None}}},
                  spec=make_spec(("contact", "subscribed"), features=["age", "job"]))
    assert data.leads["created_at"].isna().all() and data.leads["contact_at"].isna().all()
    # without an id column, identical rows are different people: kept and reported
    assert data.leads["lead_id"].tolist() == ["leads.csv:2", "leads.csv:3", "leads.csv:4"]
    assert data.leads["job"].tolist()[1] is None or pd.isna(data.leads["job"].tolist()[1])
    assert pd.api.types.is_numeric_dtype(data.leads["age"]) and data.leads["age"].tolist() == [41, 35, 35]
    assert data.quarantine.empty
    assert data.quality.notes == ["lead_id generated from the row number",
                                  "1 identical row kept; set `rules.duplicate_rows: quarantine` in source.yaml if "
                                  "they are repeats of the same person"]
    repeats = ingest(tmp_path, text, {"leads": {"path": "leads.csv", "delimiter": ";"},
                                      "id": {"generate": "row_number"}, "flags": {"subscribed": "y"},
                                      "values": {"*": {"unknown": None}}, "rules": {"duplicate_rows": "quarantine"}},
                     spec=make_spec(("contact", "subscribed"), features=["age", "job"]))
    assert repeats.leads["lead_id"].tolist() == ["leads.csv:2", "leads.csv:3"]
    assert repeats.quarantine["reason"].tolist() == ["exact duplicate of an earlier row (row 3)"]


def test_hash_ids_are_stable_and_equal_rows_collide(tmp_path):
    text = "created,email\n2024-01-02,a@x\n2024-01-03,b@x\n2024-01-02,a@x\n"
    mapping = {"id": {"generate": "hash"}, "columns": {"created_at": "created"}}
    spec = make_spec(("lead", "won"))
    mapping["flags"] = {"won": "email"}
    mapping["flag_true_values"] = ["a@x"]
    mapping["values"] = {"email": {"b@x": "no"}}
    once = ingest(tmp_path, text, mapping, spec=spec)
    again = ingest(tmp_path, text, mapping, spec=spec)
    assert once.leads["lead_id"].tolist() == again.leads["lead_id"].tolist()
    assert once.leads["lead_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert once.quality.quarantined_rows == 1


def test_value_maps_apply_to_every_column_or_one(tmp_path):
    text = "id,created,won,source,campaign\nA,2024-01-02,no,Select,(none)\nB,2024-01-03,yes,web,spring\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created", "channel": "source",
                                               "campaign": "campaign"}, "flags": {"won": "won"},
                                   "values": {"*": {"Select": None}, "campaign": {"(none)": None}}},
                  spec=make_spec(("lead", "won")))
    assert data.leads["channel"].isna().tolist() == [True, False]
    assert data.leads["campaign"].isna().tolist() == [True, False]


def test_timezone_aware_values_are_converted_to_the_mapping_zone(tmp_path):
    text = "id,created,won\nA,2024-01-02T10:00:00Z,yes\nB,2024-07-02T10:00:00Z,no\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"}, "flags": {"won": "won"},
                                   "dates": {"timezone": "Europe/Paris"}},
                  spec=make_spec(("lead", "won")))
    assert data.leads["created_at"].tolist() == [pd.Timestamp("2024-01-02 11:00"), pd.Timestamp("2024-07-02 12:00")]
    assert data.leads["created_at"].dt.tz is None


def test_offsets_that_change_with_daylight_saving_are_parsed(tmp_path):
    text = "id,created,won\nA,2024-01-02T10:00:00+01:00,yes\nB,2024-07-02T10:00:00+02:00,no\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"}, "flags": {"won": "won"},
                                   "dates": {"timezone": "Europe/Paris"}},
                  spec=make_spec(("lead", "won")))
    assert data.leads["created_at"].tolist() == [pd.Timestamp("2024-01-02 10:00"), pd.Timestamp("2024-07-02 10:00")]


def test_per_column_date_formats_and_dayfirst(tmp_path):
    text = "id,created,won\nA,02/01/2024,05.02.2024\nB,13/01/2024,\n"
    spec = make_spec(("lead", "customer"))
    formats = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created", "customer_at": "won"},
                                      "dates": {"formats": {"created": "%d/%m/%Y", "customer_at": "%d.%m.%Y"}}},
                     spec=spec)
    assert formats.leads["created_at"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-13")]
    assert formats.leads.loc[0, "customer_at"] == pd.Timestamp("2024-02-05")
    dayfirst = ingest(tmp_path, text.replace("05.02.2024", "05/02/2024"),
                      {"columns": {"lead_id": "id", "created_at": "created", "customer_at": "won"},
                       "dates": {"dayfirst": True}}, spec=spec)
    assert dayfirst.leads["created_at"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-13")]


def test_a_value_that_does_not_fit_the_format_is_quarantined(tmp_path):
    text = "id,created,won\nA,02/01/2024,\nB,2024-01-13,\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created", "customer_at": "won"},
                                   "dates": {"formats": {"created": "%d/%m/%Y"}}},
                  spec=make_spec(("lead", "customer")))
    assert data.quarantine["reason"].tolist() == [
        "unparseable created_at (column 'created', e.g. '2024-01-13'); missing created_at"]


DEALS = """lead,won_on,amount
L1,2024-02-01,1200
L4,2024-03-01,300
L4,2024-03-05,999
X9,2024-03-09,50
"""


def test_join_supplies_the_won_date_and_reports_matches(tmp_path):
    mapping = {"columns": {"lead_id": "id", "created_at": "created", "mql_at": "mql", "sql_at": "sql"},
               "joins": [{"path": "deals.csv", "key": "lead", "columns": {"customer_at": "won_on",
                                                                          "revenue": "amount"}}]}
    data = ingest(tmp_path, GOOD, mapping, files={"deals.csv": DEALS})
    leads = data.leads.set_index("lead_id")
    assert leads["customer_at"].dropna().to_dict() == {"L1": pd.Timestamp("2024-02-01"),
                                                       "L4": pd.Timestamp("2024-03-01")}
    assert leads["revenue"].dropna().to_dict() == {"L1": 1200.0, "L4": 300.0}
    assert data.quality.joins == [{"file": "deals.csv", "rows": 4, "matched": 2, "unmatched": 1,
                                   "duplicate_keys": 1}]
    assert data.quality.notes == ["deals.csv: 1 row repeats a lead already seen; the first is used",
                                  "deals.csv: 1 row matches no lead in leads.csv and is not used"]
    assert not any(c.startswith("__") for c in data.quarantine.columns)


def test_numeric_ids_with_a_blank_still_join(tmp_path):
    text = "id,created\n1,2024-01-02\n2,2024-01-03\n,2024-01-04\n3,2024-01-05\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"},
                                   "joins": [{"path": "deals.csv", "key": "id", "columns": {"customer_at": "won"}}]},
                  spec=make_spec(("mql", "customer")), files={"deals.csv": "id,won\n1,2024-02-01\n3,2024-02-03\n"})
    assert data.leads["lead_id"].tolist() == ["1", "2", "3"]
    assert data.quality.joins[0]["matched"] == 2


def test_large_numeric_ids_keep_every_digit(tmp_path):
    text = "id,created,won\n9007199254740993,2024-01-02,no\n9007199254740995,2024-01-03,yes\n"
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"}, "flags": {"won": "won"}},
                  spec=make_spec(("mql", "won")))
    assert data.leads["lead_id"].tolist() == ["9007199254740993", "9007199254740995"]


def test_files_given_on_the_command_line_replace_the_mapped_path(tmp_path):
    (tmp_path / "other.csv").write_text(GOOD.replace("L1,", "Z1,"), encoding="utf-8")
    (tmp_path / "leads.csv").write_text(GOOD, encoding="utf-8")
    mapping = mapping_from_dict({"leads": {"path": "leads.csv"}, **FOUR_STAGES}, base_dir=tmp_path)
    data = load_leads(make_spec(), mapping, as_of=AS_OF, files=[tmp_path / "other.csv"])
    assert data.leads["lead_id"].tolist()[0] == "Z1"


def test_segments_features_and_team_column_are_copied(tmp_path):
    text = "id,created,won,region,employees,industry,rep\nA,2024-01-02,yes,EU,10,saas,ana\n" \
           "B,2024-01-03,no,,ten,retail,bo\n"
    spec = spec_from_dict({"name": "d", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                           "funnel": {"stages": ["lead", "customer"]}, "segments": ["region"],
                           "features": ["employees", "industry"], "follow_up": {"team_column": "rep"}})
    data = ingest(tmp_path, text, {"columns": {"lead_id": "id", "created_at": "created"},
                                   "flags": {"customer": "won"}}, spec=spec)
    leads = data.leads
    assert leads["region"].isna().tolist() == [False, True]
    assert leads["rep"].tolist() == ["ana", "bo"]
    assert leads["industry"].tolist() == ["saas", "retail"]
    # a feature column that is not entirely numeric stays as text rather than losing 'ten'
    assert leads["employees"].tolist() == ["10", "ten"]


SPEND = """Day,Channel,Campaign,Cost
2024-01-01,email,spring,120.5
2024-01-02,paid,spring,-40
2024-01-03,paid,,80
someday,paid,spring,10
2024-01-04,paid,spring,ten
2031-01-01,paid,spring,5
"""


def test_spend_table_is_checked_row_by_row(tmp_path):
    mapping = {**FOUR_STAGES, "spend": {"path": "spend.csv", "columns": {"date": "Day", "channel": "Channel",
                                                                         "campaign": "Campaign", "spend": "Cost"}}}
    data = ingest(tmp_path, GOOD, mapping, files={"spend.csv": SPEND})
    spend = data.spend
    assert list(spend.columns) == ["date", "channel", "campaign", "spend"]
    assert spend["spend"].tolist() == [120.5, 80.0]
    assert spend["date"].dtype == "datetime64[us]"
    assert (data.quality.spend_rows, data.quality.spend_quarantined) == (6, 4)
    bad = data.quarantine[data.quarantine["table"] == "spend"]
    assert dict(zip(bad["_source_row"], bad["reason"])) == {
        "3": "negative spend", "5": "unparseable spend date", "6": "spend is not a number",
        "7": "spend date in the future"}
    assert data.quality.accepted_rows + data.quality.quarantined_rows == data.quality.input_rows == 4


def test_spend_without_campaign_column(tmp_path):
    mapping = {**FOUR_STAGES, "spend": {"path": "spend.csv", "columns": {"date": "Day", "channel": "Channel",
                                                                         "spend": "Cost"}}}
    data = ingest(tmp_path, GOOD, mapping, files={"spend.csv": "Day,Channel,Cost\n2024-01-01,email,12\n"})
    assert data.spend["campaign"].isna().all()


def test_whole_file_error_carries_file_column_and_fix(tmp_path):
    with pytest.raises(SourceError) as caught:
        ingest(tmp_path, GOOD.replace("created,", "created_on,"), FOUR_STAGES)
    error = caught.value
    assert error.column == "created"
    assert "created_on" in error.found
    assert "source.yaml" in error.fix
    assert error.exit_code == 2


def test_the_suggested_delimiter_fix_works(tmp_path):
    (tmp_path / "leads.csv").write_text(GOOD.replace(",", "\t"), encoding="utf-8")
    mapping = {"leads": {"path": "leads.csv", "delimiter": ","}, **FOUR_STAGES}
    with pytest.raises(SourceError) as caught:
        load_leads(make_spec(), mapping_from_dict(mapping, base_dir=tmp_path), as_of=AS_OF)
    suggested = caught.value.fix.split("delimiter: ")[1].split(" in source.yaml")[0]
    import yaml

    fixed = {**mapping, "leads": {"path": "leads.csv", "delimiter": yaml.safe_load(suggested)}}
    assert load_leads(make_spec(), mapping_from_dict(fixed, base_dir=tmp_path), as_of=AS_OF).quality.input_rows == 4
