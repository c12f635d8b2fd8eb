"""Hostile files and values: spreadsheet formulas in CSV output, YAML size and file-type limits, FIFOs,
the portable lock refusing planted links."""
from __future__ import annotations

import os
import threading

import pandas as pd
import pytest

from sla_toolkit.cli import main
from sla_toolkit.csv_output import neutralise_cell, neutralised, write_csv
from sla_toolkit.errors import SourceError, SpecError
from sla_toolkit.io import load_leads
from sla_toolkit.locking import FileLock, LockHeldError, UnsafeLockFileError
from sla_toolkit.yaml_input import MAX_YAML_BYTES, read_yaml
from test_broken_inputs import AS_OF, BASE, CORPUS


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"), ("@SUM(A1:A2)", "'@SUM(A1:A2)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-12.5", "-12.5"), ("+3", "+3"), ("1e5", "1e5"), ("plain", "plain"), ("a=b", "a=b"), ("", "")])
def test_formula_cells_are_prefixed_and_plain_numbers_kept(cell, written):
    assert neutralise_cell(cell) == written


def test_every_text_column_and_the_header_are_neutralised_numbers_untouched(tmp_path):
    frame = pd.DataFrame({"=name": ["=1+1", "ok", None], "amount": [-1.5, 2.0, None],
                          "note": pd.array(["@x", "-", "fine"], dtype="str")})
    out = neutralised(frame)
    assert list(out.columns) == ["'=name", "amount", "note"]
    assert out["'=name"].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(out["'=name"].iloc[2])
    assert out["amount"].tolist()[:2] == [-1.5, 2.0]
    assert out["note"].tolist() == ["'@x", "'-", "fine"]
    assert frame["=name"].iloc[0] == "=1+1"                        # the caller's frame is left alone
    text = write_csv(frame, tmp_path / "q.csv").read_text()
    assert "\n'=1+1," in text and ",'@x" in text


def test_validate_quarantine_file_is_neutralised(tmp_path, capsys):
    leads = pd.read_csv(BASE / "leads.csv", dtype=str, keep_default_na=False)
    leads.loc[0, "Lead ID"] = leads.loc[1, "Lead ID"]             # a duplicate id: quarantined
    leads.loc[1, "Source"] = '=HYPERLINK("http://evil","click")'
    leads.loc[0, "Source"] = "@cmd"
    leads.to_csv(tmp_path / "leads.csv", index=False)
    out_csv = tmp_path / "rejected.csv"
    assert main(["validate", "--sla", str(BASE / "sla.yaml"), "--source", str(BASE / "source.yaml"), "--as-of",
                 AS_OF, "--file", str(tmp_path / "leads.csv"), "--quarantine", str(out_csv)]) == 0
    written = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert len(written) >= 1
    cells = written.to_numpy().ravel().tolist()
    assert not [c for c in cells if c[:1] in ("=", "@", "+") or (c[:1] == "-" and not c[1:2].isdigit())]
    assert any(c.startswith("'=HYPERLINK") or c == "'@cmd" for c in cells)


def test_yaml_files_over_the_size_cap_are_refused(tmp_path):
    big = tmp_path / "sla.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_YAML_BYTES + 1)                      # sparse: no disk used
    with pytest.raises(SpecError, match=r"is 1,000,001 bytes; a spec or mapping file is at most 1,000,000 bytes"):
        read_yaml(big)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "sla.yaml"
    os.mkfifo(fifo)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(pytest.raises(SpecError, read_yaml, fifo)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome, "reading a FIFO hung"
    assert "is not a regular file (a pipe, device or socket)" in str(outcome[0].value)
    leads = tmp_path / "leads.csv"
    os.mkfifo(leads)
    with pytest.raises(SourceError, match=r"leads\.csv: is a named pipe \(FIFO\), not a file"):
        load_leads(BASE / "sla.yaml", BASE / "source.yaml", as_of=AS_OF, files=[leads])


def test_lock_refuses_symlinks_and_hard_links_and_reports_the_holder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "soft.lock")
    with pytest.raises(UnsafeLockFileError, match="is a symbolic link"):
        FileLock(tmp_path / "soft.lock").acquire("me")
    os.link(victim, tmp_path / "hard.lock")
    with pytest.raises(UnsafeLockFileError, match="hard link"):
        FileLock(tmp_path / "hard.lock").acquire("me")
    assert victim.read_text() == "precious"
    first, second = FileLock(tmp_path / "a.lock"), FileLock(tmp_path / "a.lock")
    first.acquire('{"pid": 1}')
    with pytest.raises(LockHeldError) as held:
        second.acquire("other")
    assert held.value.holder == '{"pid": 1}'
    first.release()
    second.acquire("other")
    second.release()


def test_corpus_grew_by_the_hardening_cases():
    names = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert {"spec_alias", "mapping_alias_bomb", "spec_duplicate_key", "history_corrupt_sqlite",
            "run_runner_owned_parameter", "sql_timeout", "parquet_nested_mapped"} <= names


def test_excel_header_row_and_skip_rows(tmp_path):
    """A CRM export with two title rows above the header and a units row below it."""
    import openpyxl

    from sla_toolkit.io.mapping import mapping_from_dict

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["CRM export, Q1"], ["generated 2024-12-31"],
                ["Lead ID", "Created", "MQL Date", "SQL Date", "Won Date", "Source", "Amount"],
                ["(id)", "(date)", "(date)", "(date)", "(date)", "(text)", "(EUR)"],
                ["L1", "2024-02-01", "2024-02-03", None, None, "ads", None],
                ["L2", "2024-02-02", "not a date", None, None, "email", None]):
        sheet.append(row)
    book.save(tmp_path / "leads.xlsx")
    columns = {"lead_id": "Lead ID", "created_at": "Created", "mql_at": "MQL Date", "sql_at": "SQL Date",
               "customer_at": "Won Date", "channel": "Source", "revenue": "Amount"}
    mapping = mapping_from_dict({"leads": {"path": "leads.xlsx", "header_row": 3, "skip_rows": 1},
                                 "columns": columns}, base_dir=tmp_path)
    data = load_leads(BASE / "sla.yaml", mapping, as_of=AS_OF)
    assert (data.quality.input_rows, data.quality.accepted_rows) == (2, 1)
    assert data.leads["lead_id"].tolist() == ["L1"]
    assert data.quarantine["_source_row"].astype(int).tolist() == [6]   # the sheet's own row number
    with pytest.raises(SourceError, match=r"required columns missing.*found: columns \[.CRM export, Q1."):
        load_leads(BASE / "sla.yaml", mapping_from_dict({"leads": {"path": "leads.xlsx"}, "columns": columns},
                                                       base_dir=tmp_path), as_of=AS_OF)


def test_library_warnings_never_reach_the_report():
    import nbformat

    from sla_toolkit.report.export import render_html

    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="/srv/crm/secret_path.py:12: "
                                           "PerformanceWarning: DataFrame is highly fragmented\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="visible line\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    page = render_html(notebook, "t")
    assert "visible line" in page
    assert "PerformanceWarning" not in page and "/srv/crm" not in page
    assert notebook.cells[0].outputs[0]["name"] == "stderr"        # the executed notebook keeps it


class _DriverError(Exception):
    def __init__(self, text: str, sqlstate: str | None = None):
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("error", "said"), [
    (_DriverError('password authentication failed for user "crm"', "28P01"), "refused the login (authentication"),
    (_DriverError('relation "leadz" does not exist', "42P01"), 'a table in the query does not exist (relation "leadz"'),
    (_DriverError("canceling statement due to statement timeout", "57014"), "did not finish within 5 s"),
    (_DriverError('connection to server at "db.internal" failed: Connection refused'), "cannot connect"),
    (_DriverError("division by zero", "22012"), "the query failed (_DriverError)"),
])
def test_sql_failures_are_told_apart_without_the_secret(error, said):
    from sla_toolkit.io.sql_errors import describe_failure

    wrapped = RuntimeError("Execution failed on sql 'select ...'")
    wrapped.__cause__ = error
    text = describe_failure(wrapped, 5, "hunter2")
    assert said in text and "hunter2" not in text
