"""Issue [11] command-line tools: --version, "did you mean", schema, notebooks, doctor, -f, missing extras."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
import yaml

from sla_toolkit import cli
from sla_toolkit.errors import ParameterError, SpecError
from sla_toolkit.extras import MissingExtraError, require
from sla_toolkit.parameters import inspect_parameters, read_parameters_file
from sla_toolkit.spec import spec_from_dict

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"


def as_json(path: Path):
    """YAML as an editor's schema validator sees it (dates are text)."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"sla-toolkit {metadata.version('sla_toolkit')}"


def test_a_mistyped_command_gets_a_suggestion(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["vaildate"])
    assert stop.value.code == 2
    assert "unknown command 'vaildate'; did you mean 'validate'?" in capsys.readouterr().err


def test_help_has_no_rst_markup_and_every_option_is_explained(capsys):
    parser = cli.build_parser()
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            texts.append(sub.format_help())
            undocumented = [a.dest for a in sub._actions if not a.help]
            assert undocumented == [], f"{name}: options without help: {undocumented}"
    assert not [t for t in texts if "``" in t or ":func:" in t or ":mod:" in t]


@pytest.mark.parametrize(("kind", "files"), [
    ("sla", ["data/sample/sla.yaml", "data/examples/olist/sla.yaml", "data/examples/bank_marketing/sla.yaml",
             "sla_toolkit/templates/sla.yaml"]),
    ("source", ["data/sample/source.yaml", "data/examples/olist/source.yaml", "sla_toolkit/templates/source.yaml"]),
])
def test_schema_accepts_the_bundled_files_and_refuses_a_typo(kind, files, capsys):
    assert cli.main(["schema", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    for name in files:
        jsonschema.validate(as_json(REPO / name), schema)
    typo = {**as_json(REPO / files[0]), "segmnts": []}
    with pytest.raises(jsonschema.ValidationError, match="segmnts"):
        jsonschema.validate(typo, schema)


def test_unknown_spec_keys_get_a_suggestion_at_any_depth():
    data = yaml.safe_load((SAMPLE / "sla.yaml").read_text())
    data["funnel"]["tragets"] = data["funnel"].pop("targets")
    data["kpis"] = {"cac": {"maxx": 300}}
    with pytest.raises(SpecError) as error:
        spec_from_dict(data)
    assert ("funnel.tragets", "unknown key (check the spelling; unknown keys are not ignored); "
            "did you mean 'targets'?") in error.value.problems
    assert any(path == "kpis.cac.maxx" and message.endswith("did you mean 'max'?")
               for path, message in error.value.problems)


def test_notebooks_copies_the_pairs_and_the_sample_they_default_to(tmp_path, capsys):
    assert cli.main(["notebooks", str(tmp_path)]) == 0
    copied = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert copied == ["data/sample/README.md", "data/sample/leads.csv", "data/sample/sla.yaml",
                      "data/sample/source.yaml", "data/sample/spend.csv", "notebooks/cycle_report.ipynb",
                      "notebooks/cycle_report.py", "notebooks/daily_pacing.ipynb", "notebooks/daily_pacing.py"]
    default = inspect_parameters(tmp_path / "notebooks" / "cycle_report.ipynb")["sla_path"].default
    assert (tmp_path / "notebooks" / default).resolve() == (tmp_path / "data" / "sample" / "sla.yaml").resolve()
    assert cli.main(["notebooks", str(tmp_path)]) == 2
    assert "not overwritten (use --force)" in capsys.readouterr().err


def test_parameters_file_is_checked_like_p_values(tmp_path):
    declared = inspect_parameters(REPO / "notebooks" / "cycle_report.ipynb")
    good = tmp_path / "params.yaml"
    good.write_text("as_of: 2025-03-20\ncycle_id: march\n")
    assert read_parameters_file(good, declared) == {"as_of": "2025-03-20", "cycle_id": "march"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("as_off: 2025-03-20\ncycle_id: 3\n")
    with pytest.raises(ParameterError, match=r"bad.yaml: 2 parameter problems") as error:
        read_parameters_file(bad, declared)
    assert "as_off: unknown parameter" in str(error.value) and "cycle_id: expected str" in str(error.value)


def test_a_missing_extra_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)   # import pyarrow now raises ImportError
    with pytest.raises(MissingExtraError, match=r"reading leads.parquet needs the `pyarrow` package.*"
                                                r"pip install 'sla_toolkit\[parquet\]'"):
        require("parquet", "reading leads.parquet")


def test_a_parquet_file_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    from sla_toolkit.io import load_leads

    import pandas as pd

    leads = pd.read_csv(SAMPLE / "leads.csv", dtype=str).head(50)
    leads.to_parquet(tmp_path / "leads.parquet")
    source = yaml.safe_load((SAMPLE / "source.yaml").read_text())
    source["leads"] = {"path": "leads.parquet"}
    source.pop("spend")
    (tmp_path / "source.yaml").write_text(yaml.safe_dump(source))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=r"sla_toolkit\[parquet\]"):
        load_leads(SAMPLE / "sla.yaml", tmp_path / "source.yaml")


def test_doctor_passes_in_the_test_environment():
    done = subprocess.run([sys.executable, "-m", "sla_toolkit", "doctor", "--out", "reports-doctor"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("ok    kernel: python3 runs") for line in lines)
    assert any("extra [parquet]" in line and "installed" in line for line in lines)
    assert lines[-1] == "all required checks passed"
