"""The broken-input corpus (tests/corpus/broken/cases.yaml) through the real command line.

Whole-file and configuration problems exit 2 with one message naming the file, the column, what was found
and the fix; row-level problems exit 0 with the rows quarantined, their reasons printed and
accepted + quarantined = input.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sla_toolkit.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "broken"
BASE = CORPUS / "_base"
AS_OF = "2024-12-31"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
BY_NAME = {case["case"]: case for case in CASES}
SCRIPT = Path(sys.executable).with_name("sla-toolkit")


def _param(case: dict):
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
    return pytest.param(case, id=case["case"], marks=marks)


def _argv(case: dict) -> list[str]:
    folder = CORPUS / case["case"]
    if "command" in case:
        scratch = tempfile.mkdtemp(prefix="sla-corpus-")   # where a run may write (never the repository)
        return [a.replace("{case}", str(folder)).replace("{base}", str(BASE)).replace("{tmp}", scratch)
                for a in case["command"]]
    sla = folder / case["sla"] if "sla" in case else (folder / "sla.yaml" if (folder / "sla.yaml").exists()
                                                      else BASE / "sla.yaml")
    source = folder / case["source"] if "source" in case else (
        folder / "source.yaml" if (folder / "source.yaml").exists() else BASE / "source.yaml")
    extra = [str(folder / a) if not a.startswith("-") else a for a in case.get("args", [])]
    return ["validate", "--sla", str(sla), "--source", str(source), "--as-of", AS_OF, *extra]


def _environment(case: dict) -> dict[str, str | None]:
    folder = CORPUS / case["case"]
    env: dict[str, str | None] = {k: v.replace("{case}", str(folder)) for k, v in case.get("env", {}).items()}
    env.update({name: None for name in case.get("unset_env", [])})
    return env


def _apply_environment(case: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _environment(case).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    if case.get("pythonpath"):
        monkeypatch.syspath_prepend(str(CORPUS / case["case"]))


def _check_output(case: dict, code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert code == case["exit"], f"exit {code}; stderr: {err}"
    for pattern in case.get("stderr", []):
        assert re.search(pattern, err), f"{pattern!r} not found in stderr:\n{err}"
    for pattern in case.get("stdout", []):
        assert re.search(pattern, out), f"{pattern!r} not found in stdout:\n{out}"
    for secret in case.get("hidden", []):
        assert secret not in out + err
    if case["exit"] != 0:
        # `run` says what it starts before the error
        assert err.startswith("sla-toolkit: error: ") or ("command" in case and "\nsla-toolkit: error: " in err)
        assert out == ""
        return
    assert err == ""
    rows = case["rows"]
    counted = re.search(r": ([\d,]+) input rows from .*\n  accepted ([\d,]+) · quarantined ([\d,]+)", out)
    n_in, n_ok, n_bad = (int(g.replace(",", "")) for g in counted.groups())
    assert (n_in, n_ok, n_bad) == (rows["input"], rows["accepted"], rows["quarantined"])
    assert n_ok + n_bad == n_in
    printed = {m.group(1): int(m.group(2)) for m in re.finditer(r"    quarantined: (.+): (\d+)\n", out)}
    for reason, n in case.get("reasons", {}).items():
        assert printed.get(reason) == n, f"reason {reason!r}: printed {printed}"
    if not rows["quarantined"]:
        assert not printed


def test_corpus_has_enough_cases_and_every_folder_is_listed():
    whole_file = [c for c in CASES if c["exit"] == 2 and not c.get("xfail")]
    row_level = [c for c in CASES if c["exit"] == 0]
    assert len(whole_file) >= 22
    assert len(row_level) >= 9
    assert len(BY_NAME) == len(CASES), "case names must be unique"
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "_base" and p.name != "__pycache__"}
    assert folders == set(BY_NAME)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case_through_cli_main(case, capsys, monkeypatch):
    _apply_environment(case, monkeypatch)
    code = main(_argv(case))
    captured = capsys.readouterr()
    _check_output(case, code, captured.out, captured.err)


SUBPROCESS_CASES = ["rate_above_one", "binary_junk",
                    "hook_not_dataframe", "sql_query_fails", "row_all_problems"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_case_through_installed_script(name, tmp_path):
    case = BY_NAME[name]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLA_CORPUS_")}
    env.update({k: v for k, v in _environment(case).items() if v is not None})
    if case.get("pythonpath"):
        env["PYTHONPATH"] = str(CORPUS / name)
    done = subprocess.run([str(SCRIPT), *_argv(case)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    _check_output(case, done.returncode, done.stdout, done.stderr)


def test_python_dash_m_reports_a_bad_spec_without_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sla_toolkit", *_argv(BY_NAME["unknown_spec_key"])],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    _check_output(BY_NAME["unknown_spec_key"], done.returncode, done.stdout, done.stderr)


def test_quarantine_file_has_every_rejected_row_with_reason_and_source_row(tmp_path, capsys):
    out_csv = tmp_path / "out.csv"
    code = main([*_argv(BY_NAME["row_all_problems"]), "--quarantine", str(out_csv)])
    assert code == 0
    assert f"quarantined rows written to {out_csv}" in capsys.readouterr().out
    written = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    by_row = dict(zip(written["_source_row"].astype(int), written["reason"]))
    # line numbers in leads.csv (header = line 1)
    assert by_row == {
        4: "duplicate lead_id (first seen in row 3)",
        5: "unparseable mql_at (column 'MQL Date', e.g. 'not a date')",
        6: f"mql_at in the future (not after {pd.Timestamp(AS_OF) + pd.Timedelta(days=1):%Y-%m-%d})",
        7: "stage timestamps go backwards",
        8: "missing lead_id",
        9: "missing created_at",
        10: "revenue is not a number (column 'Amount', e.g. 'lots')",
        11: "negative revenue",
    }
    assert set(written["table"]) == {"leads"}
    assert set(written["_source_file"]) == {"leads.csv"}
    # the original values are kept as they were in the file
    assert written.set_index("_source_row").loc["10", "Amount"] == "lots"
    source = pd.read_csv(CORPUS / "row_all_problems" / "leads.csv")
    assert len(written) + 3 == len(source)


def test_spend_quarantine_is_written_with_its_table_and_row(tmp_path):
    out_csv = tmp_path / "out.csv"
    assert main([*_argv(BY_NAME["row_negative_spend"]), "--quarantine", str(out_csv)]) == 0
    written = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert written[["table", "reason", "_source_file", "_source_row", "Cost"]].to_dict("records") == [
        {"table": "spend", "reason": "negative spend", "_source_file": "spend.csv", "_source_row": "3",
         "Cost": "-40.0"}]


def test_exact_duplicate_names_the_row_it_repeats(tmp_path):
    out_csv = tmp_path / "out.csv"
    assert main([*_argv(BY_NAME["identical_rows_quarantined"]), "--quarantine", str(out_csv)]) == 0
    written = pd.read_csv(out_csv, dtype=str)
    assert written[["reason", "_source_row"]].to_dict("records") == [
        {"reason": "exact duplicate of an earlier row (row 2)", "_source_row": "4"}]


def test_flag_reason_in_the_quarantine_says_what_was_found(tmp_path):
    out_csv = tmp_path / "out.csv"
    assert main([*_argv(BY_NAME["row_flag_maybe"]), "--quarantine", str(out_csv)]) == 0
    written = pd.read_csv(out_csv, dtype=str)
    assert written["reason"].tolist() == ["flag customer (column 'Won') is not yes/no or 0/1, e.g. 'maybe'"]


def test_printed_flag_reason_says_what_was_wrong(capsys):
    assert main(_argv(BY_NAME["row_flag_maybe"])) == 0
    assert re.search(r"quarantined: .*not yes/no", capsys.readouterr().out)


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c["exit"] == 0])
def test_row_cases_through_the_python_api(case):
    from sla_toolkit.io import load_leads

    argv = _argv(case)
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "--file"]
    data = load_leads(argv[2], argv[4], as_of=AS_OF, files=files or None)
    q = data.quality
    rows = case["rows"]
    assert (q.input_rows, q.accepted_rows, q.quarantined_rows) == (rows["input"], rows["accepted"],
                                                                  rows["quarantined"])
    assert len(data.leads) == q.accepted_rows
    lead_quarantine = data.quarantine[data.quarantine["table"] == "leads"]
    assert len(lead_quarantine) == q.quarantined_rows
    assert (lead_quarantine["reason"].str.len() > 0).all()
    assert data.leads["lead_id"].is_unique and data.leads["lead_id"].notna().all()
