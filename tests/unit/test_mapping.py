"""The source mapping: validation, presets, and every way of reading rows (CSV, Parquet, Excel, hook, SQL)."""
from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sla_toolkit.errors import SourceError, SpecError
from sla_toolkit.io import load_leads, load_mapping
from sla_toolkit.io.mapping import IdRule, RuleAction, mapping_from_dict, preset_mapping
from sla_toolkit.spec import spec_from_dict

PRESETS = Path(__file__).resolve().parents[1] / "corpus" / "presets"
AS_OF = "2024-12-31"
SPEC = spec_from_dict({"name": "mapping", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                       "funnel": {"stages": ["lead", "mql", "customer"]}})
LEADS = pd.DataFrame({
    "Lead ID": ["A1", "A2", "A3"],
    "Created": ["2024-01-02", "2024-01-03", "2024-01-04"],
    "MQL": ["2024-01-03", "", "2024-01-06"],
    "Won": ["2024-02-01", "", ""],
    "Source": ["Web; EMEA", "Partner, Inc.", "Web; EMEA"],
})
COLUMNS = {"lead_id": "Lead ID", "created_at": "Created", "mql_at": "MQL", "customer_at": "Won", "channel": "Source"}


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def mapping_problems(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        mapping_from_dict(data, "source.yaml")
    return caught.value.problems


def assert_three_leads(data) -> None:
    leads = data.leads
    assert leads["lead_id"].tolist() == ["A1", "A2", "A3"]
    assert leads["channel"].tolist() == ["Web; EMEA", "Partner, Inc.", "Web; EMEA"]
    assert leads["mql_at"].tolist()[0] == pd.Timestamp("2024-01-03")
    assert data.stage_counts().to_dict() == {"lead": 3, "mql": 2, "customer": 1}


# ---- the mapping model ------------------------------------------------------------------------------------
def test_defaults_and_relative_paths(tmp_path):
    path = write_yaml(tmp_path / "source.yaml", """\
        leads: {path: exports/leads.csv}
        columns: {lead_id: Lead ID}
        """)
    mapping = load_mapping(path)
    assert mapping.base_dir == tmp_path
    assert mapping.resolve("exports/leads.csv") == tmp_path / "exports" / "leads.csv"
    assert mapping.resolve("/abs/leads.csv") == Path("/abs/leads.csv")
    assert mapping.rules.backwards_stages is RuleAction.QUARANTINE
    assert mapping.rules.duplicate_rows is None   # quarantine with a real id column, keep with generated ids
    assert mapping.leads.encoding == "utf-8" and mapping.leads.delimiter is None


def test_every_mapping_problem_is_listed_with_its_path():
    found = dict(mapping_problems({
        "leads": {"path": "a.csv", "format": "json", "delimeter": ";"},
        "columns": {"lead_id": "id"},
        "id": {"generate": "uuid"},
        "rules": {"backwards_stages": "drop"},
        "joins": [{"path": "d.csv", "columns": {}}],
        "spend": {"sql": {"url_env": "1BAD", "query": ""}},
        "extra": 1,
    }))
    assert set(found) == {"leads.format", "leads.delimeter", "id.generate", "rules.backwards_stages",
                          "joins.0.key", "spend.sql.url_env", "spend.sql.query", "extra"}
    assert found["leads.delimeter"].startswith("unknown key")
    assert found["joins.0.key"] == "required, but missing"
    assert "'row_number' or 'hash'" in found["id.generate"]
    assert "'quarantine' or 'flag'" in found["rules.backwards_stages"]


def test_hook_must_name_module_and_function():
    [(path, message)] = mapping_problems({"leads": {"hook": "just_a_module"}, "columns": {"lead_id": "id"}})
    assert path == "leads"
    assert message == "hook must look like 'package.module:function', got 'just_a_module'"


def test_lead_id_must_be_mapped_or_generated():
    [(path, message)] = mapping_problems({"leads": {"path": "a.csv"}})
    assert message.startswith("columns.lead_id is missing")
    assert mapping_from_dict({"leads": {"path": "a.csv"}, "id": {"generate": "hash"}}).id.generate is IdRule.HASH


def test_mapping_must_be_a_mapping():
    assert mapping_problems(["leads.csv"]) == [("", "expected a mapping of keys at the top level, got list")]


# ---- presets ----------------------------------------------------------------------------------------------
def test_presets_ship_their_columns():
    hubspot = preset_mapping("hubspot")["columns"]
    assert hubspot["created_at"] == "Create Date"
    assert hubspot["mql_at"] == "Became a Marketing Qualified Lead Date"
    assert hubspot["customer_at"] == "Became a Customer Date"
    assert hubspot["channel"] == "Original Source"
    salesforce = preset_mapping("salesforce")
    assert salesforce["columns"]["lead_id"] == "Lead ID"
    assert salesforce["joins"][0]["key"] == "Lead ID"
    assert salesforce["joins"][0]["columns"]["customer_at"] == "Close Date"


def test_user_keys_override_the_preset():
    mapping = mapping_from_dict({"preset": "hubspot", "leads": {"path": "c.csv"},
                                 "columns": {"channel": "Latest Source"}, "values": {"*": {"n/a": None}}})
    assert mapping.columns["channel"] == "Latest Source"
    assert mapping.columns["created_at"] == "Create Date"
    assert mapping.values["*"] == {"Select": None, "--": None, "n/a": None}


def test_hubspot_export_loads_end_to_end():
    folder = PRESETS / "hubspot"
    data = load_leads(folder / "sla.yaml", folder / "source.yaml", as_of=AS_OF)
    leads = data.leads
    assert data.quality.input_rows == 5 and data.quality.quarantined_rows == 0
    assert leads["lead_id"].tolist() == ["51001", "51002", "51003", "51004", "51005"]
    assert leads.loc[0, "created_at"] == pd.Timestamp("2024-01-02 09:15")
    assert leads.loc[0, "opportunity_at"] == pd.Timestamp("2024-01-15 10:00")
    assert leads.loc[1, "first_touch_at"] == pd.Timestamp("2024-01-03 15:00")
    # "--" and "Select" are HubSpot's placeholders for "no value"
    assert leads["channel"].isna().tolist() == [False, False, True, True, False]
    assert data.stage_counts().to_dict() == {"lead": 5, "mql": 4, "sql": 3, "opportunity": 2, "customer": 2}
    # contact 51004 became a customer with no earlier lifecycle dates: mql, sql, opportunity implied
    assert data.quality.implied_stage_fills == {"lead": 0, "mql": 1, "sql": 1, "opportunity": 1, "customer": 0}
    assert leads.loc[3, ["reached_mql", "reached_sql", "reached_opportunity"]].all()
    assert pd.isna(leads.loc[3, "mql_at"])


def test_salesforce_report_with_opportunities_loads_end_to_end():
    folder = PRESETS / "salesforce"
    data = load_leads(folder / "sla.yaml", folder / "source.yaml", as_of=AS_OF)
    leads = data.leads.set_index("lead_id")
    assert data.quality.input_rows == 4 and data.quality.accepted_rows == 4
    assert data.quality.joins == [{"file": "opportunities.csv", "rows": 2, "matched": 2, "unmatched": 0,
                                   "duplicate_keys": 0}]
    # US-style report dates (month first)
    assert leads.loc["00Q5g00000AbCdEAA1", "sql_at"] == pd.Timestamp("2024-02-03")
    assert leads.loc["00Q5g00000AbCdEAA4", "customer_at"] == pd.Timestamp("2024-03-20")
    assert leads["revenue"].to_dict() == pytest.approx(
        {"00Q5g00000AbCdEAA1": 24000.0, "00Q5g00000AbCdEAA2": float("nan"), "00Q5g00000AbCdEAA3": float("nan"),
         "00Q5g00000AbCdEAA4": 5500.0}, nan_ok=True)
    assert leads["channel"].isna().tolist() == [False, False, True, False]      # --None--
    assert leads["campaign"].isna().tolist() == [False, True, False, False]
    assert data.stage_counts().to_dict() == {"lead": 4, "mql": 3, "sql": 2, "customer": 2}


def test_salesforce_lost_opportunity_is_not_a_customer(tmp_path):
    folder = PRESETS / "salesforce"
    for name in ("leads.csv", "source.yaml"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    opportunities = (folder / "opportunities.csv").read_text(encoding="utf-8")
    opportunities += "00Q5g00000AbCdEAA2,Globex - Trial,Closed Lost,3/5/2024,0\n"
    (tmp_path / "opportunities.csv").write_text(opportunities, encoding="utf-8")
    data = load_leads(folder / "sla.yaml", tmp_path / "source.yaml", as_of=AS_OF)
    assert not data.leads.set_index("lead_id").loc["00Q5g00000AbCdEAA2", "reached_customer"]


# ---- readers ----------------------------------------------------------------------------------------------
def test_semicolon_csv_with_quoted_fields_is_sniffed(tmp_path):
    LEADS.to_csv(tmp_path / "leads.csv", sep=";", index=False, quoting=1)
    assert '"Web; EMEA"' in (tmp_path / "leads.csv").read_text()
    mapping = mapping_from_dict({"leads": {"path": "leads.csv"}, "columns": COLUMNS}, base_dir=tmp_path)
    assert_three_leads(load_leads(SPEC, mapping, as_of=AS_OF))


def test_tab_separated_file_is_sniffed(tmp_path):
    LEADS.to_csv(tmp_path / "leads.tsv", sep="\t", index=False)
    mapping = mapping_from_dict({"leads": {"path": "leads.tsv"}, "columns": COLUMNS}, base_dir=tmp_path)
    assert_three_leads(load_leads(SPEC, mapping, as_of=AS_OF))


def test_custom_quotechar_and_latin1_encoding(tmp_path):
    text = "Lead ID|Created|MQL|Won|Source\nA1|2024-01-02|2024-01-03|2024-02-01|'Web; EMEA'\n" \
           "A2|2024-01-03|||'Partner, Inc.'\nA3|2024-01-04|2024-01-06||'Web; EMEA'\n"
    (tmp_path / "leads.csv").write_bytes(text.replace("Partner", "Parçeiro").encode("latin-1"))
    mapping = mapping_from_dict({"leads": {"path": "leads.csv", "delimiter": "|", "quotechar": "'",
                                           "encoding": "latin-1"}, "columns": COLUMNS}, base_dir=tmp_path)
    data = load_leads(SPEC, mapping, as_of=AS_OF)
    assert data.leads["channel"].tolist() == ["Web; EMEA", "Parçeiro, Inc.", "Web; EMEA"]


def test_parquet_source(tmp_path):
    frame = LEADS.assign(Created=pd.to_datetime(LEADS["Created"]))
    frame.to_parquet(tmp_path / "leads.parquet")
    mapping = mapping_from_dict({"leads": {"path": "leads.parquet"}, "columns": COLUMNS}, base_dir=tmp_path)
    data = load_leads(SPEC, mapping, as_of=AS_OF)
    assert_three_leads(data)
    assert data.leads["created_at"].dtype == "datetime64[us]"


def test_excel_source_with_named_sheet(tmp_path):
    with pd.ExcelWriter(tmp_path / "crm.xlsx") as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="About", index=False)
        LEADS.assign(Created=pd.to_datetime(LEADS["Created"])).to_excel(writer, sheet_name="Leads", index=False)
    mapping = mapping_from_dict({"leads": {"path": "crm.xlsx", "sheet": "Leads"}, "columns": COLUMNS},
                                base_dir=tmp_path)
    data = load_leads(SPEC, mapping, as_of=AS_OF)
    assert_three_leads(data)
    assert data.leads["created_at"].tolist()[2] == pd.Timestamp("2024-01-04")


def test_several_files_are_stacked_and_keep_their_origin(tmp_path):
    LEADS.iloc[:2].to_csv(tmp_path / "jan.csv", index=False)
    pd.concat([LEADS.iloc[2:], LEADS.iloc[:1].assign(Created="2024-01-01")]).to_csv(tmp_path / "feb.csv",
                                                                                  index=False)
    mapping = mapping_from_dict({"leads": {"paths": ["jan.csv", "feb.csv"]}, "columns": COLUMNS},
                                base_dir=tmp_path)
    data = load_leads(SPEC, mapping, as_of=AS_OF)
    assert_three_leads(data)
    assert data.quarantine[["reason", "_source_file", "_source_row"]].to_dict("records") == [
        {"reason": "duplicate lead_id (first seen in jan.csv row 2)", "_source_file": "feb.csv",
         "_source_row": "3"}]


HOOK_MODULE = '''
import pandas as pd


def read_leads():
    return pd.DataFrame({LEADS})


def read_from(folder):
    return pd.read_csv(folder / "leads.csv")
'''


def test_hook_source_replaces_file_reading(tmp_path, monkeypatch):
    (tmp_path / "crm_hooks_for_tests.py").write_text(
        HOOK_MODULE.replace("{LEADS}", repr(LEADS.to_dict("list"))), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    mapping = mapping_from_dict({"leads": {"hook": "crm_hooks_for_tests:read_leads"}, "columns": COLUMNS},
                                base_dir=tmp_path)
    data = load_leads(SPEC, mapping, as_of=AS_OF)
    assert_three_leads(data)
    assert data.source == "crm_hooks_for_tests:read_leads"


def test_hook_with_a_parameter_gets_the_mapping_folder(tmp_path, monkeypatch):
    (tmp_path / "crm_hooks_for_tests2.py").write_text(HOOK_MODULE.replace("{LEADS}", "{}"), encoding="utf-8")
    LEADS.to_csv(tmp_path / "leads.csv", index=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    mapping = mapping_from_dict({"leads": {"hook": "crm_hooks_for_tests2:read_from"}, "columns": COLUMNS},
                                base_dir=tmp_path)
    assert_three_leads(load_leads(SPEC, mapping, as_of=AS_OF))


# ---- SQL: the URL lives in the environment and never reaches a message ------------------------------------
@pytest.fixture
def crm_database(tmp_path) -> Path:
    path = tmp_path / "private-crm-name.sqlite"
    with sqlite3.connect(path) as connection:
        LEADS.to_sql("leads", connection, index=False)
    return path


def sql_mapping(query: str, tmp_path: Path, **sql):
    return mapping_from_dict({"leads": {"sql": {"url_env": "SLA_TEST_CRM_URL", "query": query, **sql}},
                              "columns": COLUMNS}, base_dir=tmp_path)


def test_sql_source_reads_the_url_from_the_environment(crm_database, tmp_path, monkeypatch):
    monkeypatch.setenv("SLA_TEST_CRM_URL", f"sqlite:///{crm_database}")
    data = load_leads(SPEC, sql_mapping('select * from leads order by "Lead ID"', tmp_path), as_of=AS_OF)
    assert_three_leads(data)
    assert "private-crm-name" not in repr(data.quality.to_dict()) + data.source


@pytest.mark.parametrize("query, problem", [
    ("select * from no_such_table", r"a table in the query does not exist \(no such table: no_such_table\)"),
    ('select * from leads where "Lead ID" = \'none\'', "the query returned no rows"),
])
def test_sql_errors_name_the_variable_not_the_url(query, problem, crm_database, tmp_path, monkeypatch):
    monkeypatch.setenv("SLA_TEST_CRM_URL", f"sqlite:///{crm_database}")
    with pytest.raises(SourceError, match=rf"^SQL source \(\$SLA_TEST_CRM_URL\): {problem}") as caught:
        load_leads(SPEC, sql_mapping(query, tmp_path), as_of=AS_OF)
    assert "private-crm-name" not in str(caught.value)
    assert "sqlite" not in str(caught.value)


def test_a_query_that_runs_too_long_is_stopped(crm_database, tmp_path, monkeypatch):
    monkeypatch.setenv("SLA_TEST_CRM_URL", f"sqlite:///{crm_database}")
    endless = "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n"
    with pytest.raises(SourceError, match=r"the query did not finish within 0.3 s \(sql.timeout_s\)"):
        load_leads(SPEC, sql_mapping(endless, tmp_path, timeout_s=0.3), as_of=AS_OF)


def test_a_url_pasted_into_url_env_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(SpecError) as caught:
        mapping_from_dict({"leads": {"sql": {"url_env": "postgresql://crm:p@ss@db.internal/crm", "query": "x"}},
                           "columns": COLUMNS}, base_dir=tmp_path)
    assert "must be the name of an environment variable holding the database URL" in str(caught.value)
    for part in ("p@ss", "crm:", "db.internal", "postgresql://"):
        assert part not in str(caught.value)


def test_sql_variable_not_set(tmp_path, monkeypatch):
    monkeypatch.delenv("SLA_TEST_CRM_URL", raising=False)
    with pytest.raises(SourceError, match=r"environment variable SLA_TEST_CRM_URL is not set; fix: export "
                                          r"SLA_TEST_CRM_URL=<SQLAlchemy URL>"):
        load_leads(SPEC, sql_mapping("select 1", tmp_path), as_of=AS_OF)


def test_malformed_url_is_a_source_error_without_the_url(tmp_path, monkeypatch):
    monkeypatch.setenv("SLA_TEST_CRM_URL", "postgres-ish://admin:hunter2@db")
    with pytest.raises(SourceError) as caught:
        load_leads(SPEC, sql_mapping("select 1", tmp_path), as_of=AS_OF)
    assert "hunter2" not in str(caught.value)
