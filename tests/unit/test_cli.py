"""The ``sla-toolkit`` command line: validate, init, exit codes and error output."""
from __future__ import annotations

from pathlib import Path

import pytest

from sla_toolkit import cli
from sla_toolkit.errors import SpecError
from sla_toolkit.io import load_mapping
from sla_toolkit.spec import load_spec

BASE = Path(__file__).resolve().parents[1] / "corpus" / "broken" / "_base"
VALIDATE = ["validate", "--sla", str(BASE / "sla.yaml"), "--source", str(BASE / "source.yaml"),
            "--as-of", "2024-12-31"]


def test_validate_prints_counts_and_exits_0(capsys):
    assert cli.main(VALIDATE) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        "corpus: 4 input rows from leads.csv",
        "  accepted 4 · quarantined 0",
        "  as of 2024-12-31 (given)",
        "  stage counts: lead 4 → mql 3 → sql 2 → customer 1",
        "  implied stages filled: mql 1",
    ]


def test_validate_by_a_column_prints_stage_counts_per_value(capsys):
    assert cli.main([*VALIDATE, "--by", "channel"]) == 0
    table = capsys.readouterr().out.split("implied stages filled: mql 1\n")[1].splitlines()
    assert table[0].split() == ["reached_lead", "reached_mql", "reached_sql", "reached_customer"]
    rows = {line.split()[0]: [int(v) for v in line.split()[1:]] for line in table[2:]}
    assert rows == {"email": [1, 1, 1, 1], "organic": [1, 1, 1, 0], "paid": [2, 1, 0, 0]}


def test_init_writes_starter_files_the_loaders_accept(tmp_path, capsys):
    target = tmp_path / "campaign"
    assert cli.main(["init", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"sla-toolkit validate --sla {target / 'sla.yaml'} --source {target / 'source.yaml'}" in out
    spec = load_spec(target / "sla.yaml")
    mapping = load_mapping(target / "source.yaml")
    assert spec.funnel.stages == ["lead", "mql", "sql", "customer"]
    assert set(spec.funnel.targets) == set(spec.funnel.transitions)
    assert mapping.columns["lead_id"] and mapping.leads.path == "leads.csv"
    for name in ("sla.yaml", "source.yaml"):
        assert (target / name).read_text(encoding="utf-8").count("#") >= 5, f"{name} should be commented"


def test_init_then_validate_points_at_the_missing_export(tmp_path, capsys):
    cli.main(["init", str(tmp_path)])
    capsys.readouterr()
    code = cli.main(["validate", "--sla", str(tmp_path / "sla.yaml"), "--source", str(tmp_path / "source.yaml")])
    assert code == 2
    assert f"{tmp_path / 'leads.csv'}: file not found" in capsys.readouterr().err


def test_init_does_not_overwrite_without_force(tmp_path, capsys):
    (tmp_path / "sla.yaml").write_text("mine", encoding="utf-8")
    assert cli.main(["init", str(tmp_path)]) == 2
    assert f"{tmp_path / 'sla.yaml'} exists; not overwritten (use --force)" in capsys.readouterr().err
    assert (tmp_path / "sla.yaml").read_text(encoding="utf-8") == "mine"
    assert cli.main(["init", str(tmp_path), "--force"]) == 0
    load_spec(tmp_path / "sla.yaml")


def test_missing_argument_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["validate", "--sla", "sla.yaml"])
    assert caught.value.code == 2
    assert "the following arguments are required: --source" in capsys.readouterr().err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in ("validate", "init", "demo"))


def test_debug_shows_the_exception(tmp_path):
    (tmp_path / "sla.yaml").write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(SpecError):
        cli.main(["--debug", "validate", "--sla", str(tmp_path / "sla.yaml"), "--source", "x.yaml"])


def test_an_unexpected_failure_exits_1_without_traceback(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("sla_toolkit.io.load_leads", broken)
    assert cli.main(VALIDATE) == 1
    err = capsys.readouterr().err
    assert err == "sla-toolkit: run failed: RuntimeError: disk on fire (use --debug for the traceback)\n"


def test_bad_as_of_is_bad_input(capsys):
    assert cli.main([*VALIDATE[:-2], "--as-of", "next tuesday-ish"]) == 2
    assert "--as-of" in capsys.readouterr().err


def test_unknown_by_column_is_bad_input(capsys):
    assert cli.main([*VALIDATE, "--by", "region"]) == 2
    assert "region" in capsys.readouterr().err
