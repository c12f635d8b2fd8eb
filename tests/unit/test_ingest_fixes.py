"""Ingest fixes pinned one by one: placeholder text stays text, mixed and daylight-saving offsets, joins[].where,
ids read as text from every file type, header-only quarantine files, tab delimiters, SQL URLs kept secret and
the printed first reason of each quarantine category.

Every case is a few rows written into ``tmp_path``; expected values are worked out by hand in the comments.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sla_toolkit.cli import main
from sla_toolkit.io import load_leads
from sla_toolkit.io.mapping import load_mapping, mapping_from_dict
from sla_toolkit.spec import spec_from_dict
from ingest_helpers import load_csv_case

AS_OF = "2024-12-31"


def make_spec(stages=("lead", "customer"), **extra):
    return spec_from_dict({"name": "fixes", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                           "funnel": {"stages": list(stages)}, **extra})


def ingest(tmp_path: Path, csv_text: str, mapping: dict, spec=None, files: dict[str, str] | None = None):
    return load_csv_case(tmp_path, csv_text, mapping, spec or make_spec(), files)


def write_case(tmp_path: Path, source: dict | str, *, sla: dict | None = None,
               files: dict[str, str] | None = None) -> list[str]:
    """Write sla.yaml, source.yaml and data files; return the ``validate`` argv for them."""
    sla = sla or {"name": "fixes", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                  "funnel": {"stages": ["lead", "customer"]}}
    # tiny files where one bad row is a large share: the quarantine-share gate (tested in test_quarantine_gate) is off
    sla = {**sla, "analysis": {"max_quarantine_share": 1.0, **sla.get("analysis", {})}}
    (tmp_path / "sla.yaml").write_text(yaml.safe_dump(sla), encoding="utf-8")
    text = source if isinstance(source, str) else yaml.safe_dump(source)
    (tmp_path / "source.yaml").write_text(text, encoding="utf-8")
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    return ["validate", "--sla", str(tmp_path / "sla.yaml"), "--source", str(tmp_path / "source.yaml"),
            "--as-of", AS_OF]


ID_CREATED = {"lead_id": "id", "created_at": "created"}


# -- 1. "NA", "None", "null", "n/a" are text; only blank cells are missing ----------------------------------------

PLACEHOLDERS = """id,created,won,region,source,employees,amount
A,2024-01-02,,NA,None,10,100.5
B,2024-01-03,,None,null,,
C,2024-01-04,,null,n/a,30,7
D,2024-01-05,,n/a,NA,40,
E,2024-01-06,,,,50,20
F,2024-01-07,2024-02-01,EU,web,,1
"""


def test_placeholder_words_stay_text_and_blank_cells_are_missing(tmp_path):
    spec = make_spec(segments=["region"], features=["employees"])
    columns = {**ID_CREATED, "customer_at": "won", "channel": "source", "revenue": "amount"}
    data = ingest(tmp_path, PLACEHOLDERS, {"columns": columns}, spec=spec)
    leads = data.leads.set_index("lead_id")
    assert data.quality.quarantined_rows == 0
    # region "NA" is North America, not a missing value; only E's blank cell is missing
    assert leads["region"].tolist()[:4] == ["NA", "None", "null", "n/a"]
    assert leads["region"].isna().tolist() == [False, False, False, False, True, False]
    assert leads["channel"].tolist()[:4] == ["None", "null", "n/a", "NA"]
    assert leads["channel"].isna().tolist() == [False, False, False, False, True, False]
    # numeric columns with blank cells are still numbers, the blanks NaN
    assert pd.api.types.is_float_dtype(leads["employees"])
    np.testing.assert_array_equal(leads["employees"].to_numpy(), [10.0, np.nan, 30.0, 40.0, 50.0, np.nan])
    assert leads["revenue"].dtype == float
    np.testing.assert_array_equal(leads["revenue"].to_numpy(), [100.5, np.nan, 7.0, np.nan, 20.0, 1.0])


def test_a_value_map_decides_what_a_placeholder_means(tmp_path):
    spec = make_spec(segments=["region"])
    mapping = {"columns": {**ID_CREATED, "customer_at": "won", "channel": "source"},
               "values": {"region": {"NA": "North America", "n/a": None}, "*": {"null": None}}}
    data = ingest(tmp_path, PLACEHOLDERS, mapping, spec=spec)
    leads = data.leads
    # region: NA renamed, n/a and (through "*") null made missing, None untouched
    assert leads["region"].where(leads["region"].notna(), "<missing>").tolist() == [
        "North America", "None", "<missing>", "<missing>", "<missing>", "EU"]
    # the "*" map reaches the channel column too; NA there is not renamed (the region map is per column)
    assert leads["channel"].where(leads["channel"].notna(), "<missing>").tolist() == [
        "None", "<missing>", "n/a", "NA", "<missing>", "web"]


# -- 2. naive and offset dates in one column; offsets that change with daylight saving ------------------------------

MIXED_DATES = """id,created,mql
A,2024-03-30 10:00,2024-03-30T10:00:00+01:00
B,2024-03-30T10:00:00+01:00,2024-03-31T12:00:00+01:00
C,2024-07-01T10:00:00+02:00,2024-07-01 11:00
D,2024-01-15T09:30:00Z,2024-10-27T01:30:00+00:00
E,2024-01-15 09:30,2024-10-27T00:30:00+00:00
"""


def test_naive_and_offset_values_mix_and_offsets_convert_to_the_mapping_zone(tmp_path):
    data = ingest(tmp_path, MIXED_DATES, {"columns": {**ID_CREATED, "mql_at": "mql"},
                                          "dates": {"timezone": "Europe/Paris"}}, spec=make_spec(("lead", "mql")))
    assert data.quality.quarantined_rows == 0
    leads = data.leads
    assert leads["created_at"].dtype == "datetime64[us]" and leads["created_at"].dt.tz is None
    # Paris is UTC+1 until 2024-03-31 01:00 UTC and from 2024-10-27 01:00 UTC, UTC+2 in between.
    assert leads["created_at"].tolist() == [
        pd.Timestamp("2024-03-30 10:00"),  # naive: already Paris time
        pd.Timestamp("2024-03-30 10:00"),  # +01:00 on a winter-time day
        pd.Timestamp("2024-07-01 10:00"),  # +02:00 on a summer-time day
        pd.Timestamp("2024-01-15 10:30"),  # Z = UTC, winter: +1 hour
        pd.Timestamp("2024-01-15 09:30"),  # naive
    ]
    assert leads["mql_at"].tolist() == [
        pd.Timestamp("2024-03-30 10:00"),
        pd.Timestamp("2024-03-31 13:00"),  # 11:00 UTC, after the switch to summer time (+2)
        pd.Timestamp("2024-07-01 11:00"),
        pd.Timestamp("2024-10-27 02:30"),  # 01:30 UTC, after the switch back to winter time (+1)
        pd.Timestamp("2024-10-27 02:30"),  # 00:30 UTC, still summer time (+2): the repeated 02:30 hour
    ]


def test_offsets_without_a_mapping_zone_become_utc_and_other_offset_spellings_parse(tmp_path):
    text = ("id,created,won\nA,2024-07-01T10:00:00+02:00,no\nB,2024-07-01 10:00,no\n"
            "C,2024-01-02T10:00:00-0500,no\nD,2024-01-02T10:00:00-05,no\nE,2024-01-02 23:15:00+05:30,no\n")
    data = ingest(tmp_path, text, {"columns": ID_CREATED, "flags": {"customer": "won"}})
    assert data.quality.quarantined_rows == 0
    assert data.leads["created_at"].tolist() == [
        pd.Timestamp("2024-07-01 08:00"),  # +02:00 -> UTC
        pd.Timestamp("2024-07-01 10:00"),  # naive stays as written
        pd.Timestamp("2024-01-02 15:00"),  # -0500 -> UTC
        pd.Timestamp("2024-01-02 15:00"),  # -05 -> UTC
        pd.Timestamp("2024-01-02 17:45"),  # +05:30 -> UTC
    ]


def test_offset_values_in_a_zone_west_of_utc(tmp_path):
    # New York is UTC-5 in winter and UTC-4 in summer: both offsets land on 10:00 local time
    text = "id,created,won\nA,2024-01-02T15:00:00Z,no\nB,2024-07-02T10:00:00-04:00,no\nC,2024-07-02 10:00,no\n"
    data = ingest(tmp_path, text, {"columns": ID_CREATED, "flags": {"customer": "won"},
                                   "dates": {"timezone": "America/New_York"}})
    assert data.leads["created_at"].tolist() == [pd.Timestamp("2024-01-02 10:00"),
                                                 pd.Timestamp("2024-07-02 10:00"),
                                                 pd.Timestamp("2024-07-02 10:00")]


# -- 3. joins[].where -----------------------------------------------------------------------------------------------

WHERE_LEADS = "id,created\nL1,2024-01-02\nL2,2024-01-03\nL3,2024-01-04\nL4,2024-01-05\n"
# L1's first row is Closed Lost: with the filter applied first, its Closed Won row is the one used.
WHERE_DEALS = """lead,Stage,won_on,amount
L1,Closed Lost,2024-02-01,999
L1,closed won,2024-02-10,100
L2, CLOSED WON ,2024-02-11,200
L3,Won,2024-02-12,300
L4,Open,2024-02-13,400
"""


def _where_mapping(where, columns=None) -> dict:
    return {"columns": ID_CREATED,
            "joins": [{"path": "deals.csv", "key": "lead", "where": where,
                       "columns": columns or {"customer_at": "won_on", "revenue": "amount"}}]}


def test_where_keeps_only_matching_rows_ignoring_case_and_spaces(tmp_path):
    data = ingest(tmp_path, WHERE_LEADS, _where_mapping({"Stage": "Closed Won"}),
                  files={"deals.csv": WHERE_DEALS})
    leads = data.leads.set_index("lead_id")
    assert leads["customer_at"].dropna().to_dict() == {"L1": pd.Timestamp("2024-02-10"),
                                                       "L2": pd.Timestamp("2024-02-11")}
    assert leads["revenue"].dropna().to_dict() == {"L1": 100.0, "L2": 200.0}
    assert leads["reached_customer"].tolist() == [True, True, False, False]
    assert data.quality.joins[0]["matched"] == 2
    # L1 Closed Lost, L3 Won, L4 Open: 3 rows left out
    assert "deals.csv: 3 rows left out by joins[0].where (Stage: Closed Won)" in data.quality.notes
    # the left-out L1 row does not count as a repeated key
    assert not any("repeat" in note for note in data.quality.notes)


def test_where_accepts_a_list_of_values(tmp_path):
    data = ingest(tmp_path, WHERE_LEADS, _where_mapping({"Stage": ["Closed Won", "WON"]}),
                  files={"deals.csv": WHERE_DEALS})
    leads = data.leads.set_index("lead_id")
    assert sorted(leads["customer_at"].dropna().index) == ["L1", "L2", "L3"]
    assert data.quality.joins[0]["matched"] == 3
    [note] = [n for n in data.quality.notes if "where" in n]
    assert note.startswith("deals.csv: 2 rows left out by joins[0].where (Stage: ")


def test_where_compares_numbers_and_booleans_as_text(tmp_path):
    deals = "lead,Probability,IsWon,won_on\nL1,100,TRUE,2024-02-10\nL2,100,false,2024-02-11\nL3,90,true,2024-02-12\n"
    data = ingest(tmp_path, WHERE_LEADS, _where_mapping({"Probability": 100, "IsWon": True},
                                                        columns={"customer_at": "won_on"}),
                  files={"deals.csv": deals})
    assert data.leads.set_index("lead_id")["customer_at"].dropna().index.tolist() == ["L1"]


def test_where_row_count_note_is_printed_by_validate(tmp_path, capsys):
    argv = write_case(tmp_path, {"leads": {"path": "leads.csv"}, **_where_mapping({"Stage": "Closed Won"})},
                      files={"leads.csv": WHERE_LEADS, "deals.csv": WHERE_DEALS})
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "  note: deals.csv: 3 rows left out by joins[0].where (Stage: Closed Won)\n" in out
    assert "stage counts: lead 4 → customer 2" in out


def test_a_where_column_missing_from_the_join_file_exits_2_naming_file_and_column(tmp_path, capsys):
    argv = write_case(tmp_path, {"leads": {"path": "leads.csv"}, **_where_mapping({"Status": "Closed Won"})},
                      files={"leads.csv": WHERE_LEADS, "deals.csv": WHERE_DEALS})
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("sla-toolkit: error: deals.csv: column 'Status' named in joins[0].where is "
                                   "missing")
    assert "found: columns ['lead', 'Stage', 'won_on', 'amount']" in captured.err
    assert "Traceback" not in captured.err


def test_optional_join_columns_absent_from_the_file_are_skipped_with_a_note(tmp_path):
    deals = "lead,won_on\nL1,2024-02-10\n"
    data = ingest(tmp_path, WHERE_LEADS, {"columns": ID_CREATED, "joins": [
        {"path": "deals.csv", "key": "lead",
         "columns": {"customer_at": "won_on", "revenue": "amount", "campaign": "Campaign"}}]},
        files={"deals.csv": deals})
    assert data.quality.quarantined_rows == 0
    assert "revenue" not in data.leads and "campaign" not in data.leads
    assert data.leads["customer_at"].notna().tolist() == [True, False, False, False]
    assert "deals.csv: revenue is mapped to 'amount', which is not in the file; revenue is left out" \
        in data.quality.notes
    assert "deals.csv: campaign is mapped to 'Campaign', which is not in the file; campaign is left out" \
        in data.quality.notes


# -- 4. numeric ids with a blank stay text in every file type --------------------------------------------------------

ID_DEALS = "id,won\n1,2024-02-01\n3,2024-02-03\n"


def _numeric_ids_frame() -> pd.DataFrame:
    # a blank id turns the column into floats 1.0, 2.0, NaN, 3.0 in Parquet and Excel
    return pd.DataFrame({"id": [1.0, 2.0, np.nan, 3.0],
                         "created": ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]})


def _id_join_mapping(leads_file: str) -> dict:
    return {"leads": {"path": leads_file}, "columns": ID_CREATED,
            "joins": [{"path": "deals.csv", "key": "id", "columns": {"customer_at": "won"}}]}


def _check_numeric_ids(data) -> None:
    assert data.leads["lead_id"].tolist() == ["1", "2", "3"]
    assert data.quarantine["reason"].tolist() == ["missing lead_id"]
    assert data.quality.joins[0]["matched"] == 2
    assert data.leads.set_index("lead_id")["customer_at"].dropna().to_dict() == {
        "1": pd.Timestamp("2024-02-01"), "3": pd.Timestamp("2024-02-03")}


def test_numeric_codes_with_a_blank_are_text_in_leads_and_spend(tmp_path):
    text = "id,created,won,channel,campaign,tier\nA,2024-01-02,yes,1,123456789,1\nB,2024-01-03,no,2,,\n" \
           "C,2024-01-04,no,2,123456789,2\n"
    spend = "date,channel,campaign,spend\n2024-01-01,1,123456789,10\n2024-01-02,2,,5\n"
    mapping = {"columns": {**ID_CREATED, "channel": "channel", "campaign": "campaign"},
               "flags": {"customer": "won"}, "spend": {"path": "spend.csv"}}
    data = ingest(tmp_path, text, mapping, spec=make_spec(segments=["tier"]), files={"spend.csv": spend})
    missing = "<missing>"
    assert data.leads["channel"].tolist() == ["1", "2", "2"]
    assert data.leads["campaign"].fillna(missing).tolist() == ["123456789", missing, "123456789"]
    assert data.leads["tier"].fillna(missing).tolist() == ["1", missing, "2"]
    assert data.spend["campaign"].fillna(missing).tolist() == ["123456789", missing]


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx"])
def test_numeric_ids_with_a_blank_stay_text_and_join(tmp_path, kind):
    frame = _numeric_ids_frame()
    leads_file = f"leads.{kind}"
    if kind == "csv":
        (tmp_path / leads_file).write_text("id,created\n1,2024-01-02\n2,2024-01-03\n,2024-01-04\n3,2024-01-05\n",
                                           encoding="utf-8")
    elif kind == "parquet":
        frame.to_parquet(tmp_path / leads_file)
    else:
        frame.to_excel(tmp_path / leads_file, index=False)
    (tmp_path / "deals.csv").write_text(ID_DEALS, encoding="utf-8")
    mapping = mapping_from_dict(_id_join_mapping(leads_file), base_dir=tmp_path)
    _check_numeric_ids(load_leads(make_spec(("lead", "customer")), mapping, as_of=AS_OF))


def test_numeric_join_keys_with_a_blank_in_parquet_match_text_ids(tmp_path):
    (tmp_path / "leads.csv").write_text("id,created\n1,2024-01-02\n2,2024-01-03\n,2024-01-04\n3,2024-01-05\n",
                                        encoding="utf-8")
    pd.DataFrame({"id": [1.0, np.nan, 3.0], "won": ["2024-02-01", "2024-02-02", "2024-02-03"]}).to_parquet(
        tmp_path / "deals.parquet")
    mapping = _id_join_mapping("leads.csv")
    mapping["joins"][0]["path"] = "deals.parquet"
    data = load_leads(make_spec(("lead", "customer")), mapping_from_dict(mapping, base_dir=tmp_path), as_of=AS_OF)
    _check_numeric_ids(data)


def test_numeric_ids_with_a_null_from_sql_stay_text(tmp_path, monkeypatch):
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = create_engine(url)
    _numeric_ids_frame().to_sql("leads", engine, index=False)
    engine.dispose()
    monkeypatch.setenv("SLA_FIXES_DB_URL", url)
    (tmp_path / "deals.csv").write_text(ID_DEALS, encoding="utf-8")
    mapping = _id_join_mapping("unused")
    mapping["leads"] = {"sql": {"url_env": "SLA_FIXES_DB_URL", "query": "select * from leads"}}
    data = load_leads(make_spec(("lead", "customer")), mapping_from_dict(mapping, base_dir=tmp_path), as_of=AS_OF)
    _check_numeric_ids(data)


# -- 5. --quarantine writes a header-only file when nothing is quarantined ------------------------------------------

CLEAN = "id,created,won\nA,2024-01-02,2024-01-05\nB,2024-01-03,\n"


def test_quarantine_file_is_header_only_when_nothing_is_quarantined(tmp_path, capsys):
    source = {"leads": {"path": "leads.csv"}, "columns": {**ID_CREATED, "customer_at": "won"}}
    argv = write_case(tmp_path, source, files={"leads.csv": CLEAN})
    out_csv = tmp_path / "out.csv"
    assert main([*argv, "--quarantine", str(out_csv)]) == 0
    assert f"quarantined rows written to {out_csv} (none: header only)" in capsys.readouterr().out
    lines = out_csv.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    # the same columns as a quarantine file with a row in it
    (tmp_path / "leads.csv").write_text(CLEAN + "A,2024-01-04,\n", encoding="utf-8")
    with_row = tmp_path / "with_row.csv"
    assert main([*argv, "--quarantine", str(with_row)]) == 0
    written = pd.read_csv(with_row, dtype=str)
    assert lines[0].split(",") == list(written.columns) == ["table", "reason", "id", "created", "won",
                                                            "_source_file", "_source_row"]
    assert len(written) == 1


# -- 6. tab-separated files: the TAB alias and a literal "\t" --------------------------------------------------------

# Commas inside values: read with a comma the columns would be wrong.
TAB_LEADS = "id\tcreated\tcompany\twon\nA\t2024-01-02\tAcme, Inc.\tyes\nB\t2024-01-03\tBeta, Ltd\tno\n"


@pytest.mark.parametrize("written", ["TAB", "tab", "'\\t'", '"\\\\t"', '"\\t"'],
                         ids=["TAB", "tab", "single-quoted-backslash-t", "escaped-backslash-t", "real-tab"])
def test_tab_delimiter_spellings_read_a_tab_separated_file(tmp_path, written):
    (tmp_path / "leads.csv").write_text(TAB_LEADS, encoding="utf-8")
    (tmp_path / "source.yaml").write_text(
        f"leads: {{path: leads.csv, delimiter: {written}}}\n"
        "columns: {lead_id: id, created_at: created}\nflags: {customer: won}\n", encoding="utf-8")
    mapping = load_mapping(tmp_path / "source.yaml")
    assert mapping.leads.delimiter == "\t"
    data = load_leads(make_spec(segments=["company"]), mapping, as_of=AS_OF)
    assert data.leads["lead_id"].tolist() == ["A", "B"]
    assert data.leads["company"].tolist() == ["Acme, Inc.", "Beta, Ltd"]
    assert data.leads["created_at"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    assert data.leads["reached_customer"].tolist() == [True, False]


# -- 7. a SQL URL whose driver is missing: exit 2, the URL and its password never shown ---------------------------

@pytest.mark.parametrize("url", ["mysql+nosuchdriver://u:secret@h/db", "mysql+pymysql://u:secret@h/db"],
                         ids=["unknown-driver", "driver-not-installed"])
def test_sql_url_with_a_missing_driver_exits_2_without_showing_the_url(tmp_path, capsys, monkeypatch, url):
    if url.startswith("mysql+pymysql") and importlib.util.find_spec("pymysql") is not None:
        pytest.skip("pymysql is installed, so this URL's driver is not missing")
    monkeypatch.setenv("SLA_FIXES_DB_URL", url)
    argv = write_case(tmp_path, {"leads": {"sql": {"url_env": "SLA_FIXES_DB_URL", "query": "select * from leads"}},
                                 "columns": ID_CREATED})
    assert main(argv) == 2
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert captured.out == ""
    assert captured.err.startswith("sla-toolkit: error: SQL source ($SLA_FIXES_DB_URL): the URL cannot be used")
    assert "fix: set $SLA_FIXES_DB_URL to a SQLAlchemy URL" in captured.err
    assert "secret" not in shown and url not in shown and "u:secret@h" not in shown
    assert "Traceback" not in shown


# -- 8. the first full reason of each quarantine category ---------------------------------------------------------

FLAG_ROWS = """id,created,won
A,2024-01-02,yes
B,2024-01-03,maybe
C,2024-01-04,perhaps
D,soon,no
E,2024-01-06,1
E,2024-01-07,0
,2024-01-08,no
"""
FLAG_MAPPING = {"columns": ID_CREATED, "flags": {"customer": "won"}}


def test_quarantine_examples_hold_the_first_full_reason_of_each_category(tmp_path):
    data = ingest(tmp_path, FLAG_ROWS, FLAG_MAPPING, spec=make_spec(("lead", "customer")))
    q = data.quality
    assert q.quarantine_reasons == {"flag customer": 2, "unparseable created_at": 1, "duplicate lead_id": 1,
                                    "missing lead_id": 1}
    assert q.quarantine_examples == {
        "flag customer": "row 3: flag customer (column 'won') is not yes/no or 0/1, e.g. 'maybe', 'perhaps'",
        "unparseable created_at": "row 5: unparseable created_at (column 'created', e.g. 'soon')",
        "duplicate lead_id": "row 7: duplicate lead_id (first seen in row 6)",
        "missing lead_id": "row 8: missing lead_id",
    }
    assert data.leads["lead_id"].tolist() == ["A", "E"]


def test_validate_prints_the_first_full_reason_per_category(tmp_path, capsys):
    source = {"leads": {"path": "leads.csv"}, **FLAG_MAPPING}
    argv = write_case(tmp_path, source, sla={"name": "fixes", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                                             "funnel": {"stages": ["lead", "customer"]}},
                      files={"leads.csv": FLAG_ROWS})
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "  accepted 2 · quarantined 5\n" in out
    # two rows in the category: "e.g." and the first one in full
    assert ("    quarantined: flag customer: 2\n"
            "      e.g. row 3 quarantined: flag customer (column 'won') is not yes/no or 0/1, "
            "e.g. 'maybe', 'perhaps'\n") in out
    assert ("    quarantined: unparseable created_at: 1\n"
            "      row 5 quarantined: unparseable created_at (column 'created', e.g. 'soon')\n") in out
    assert ("    quarantined: duplicate lead_id: 1\n"
            "      row 7 quarantined: duplicate lead_id (first seen in row 6)\n") in out
    # a category that says it all is printed once, with no detail line
    assert re.search(r"    quarantined: missing lead_id: 1\n(?!      )", out)
