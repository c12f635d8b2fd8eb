"""Report folders through `sla-toolkit run` (tiny notebooks): one folder per SLA name, runner-owned
parameters, a folder owned by another SLA, planted symbolic links."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from sla_toolkit.datasets import example_paths
from sla_toolkit.history import History
from sla_toolkit.naming import folder_slug
from sla_toolkit.run.folder import OWNER_FILE

from tiny_cli import main as tiny_main

CYCLE = "2024-q4"


def campaign(folder: Path, name: str, rows: int = 300) -> Path:
    """The sample campaign's first ``rows`` leads, its SLA called ``name``; returns its sla.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = example_paths()
    for path in (sample.source, sample.spend):
        shutil.copy(path, folder / path.name)
    with sample.leads.open(encoding="utf-8") as source, (folder / sample.leads.name).open("w", encoding="utf-8") as copy:
        copy.writelines(line for _, line in zip(range(rows + 1), source))
    spec = yaml.safe_load(sample.sla.read_text(encoding="utf-8"))
    spec["name"] = name
    (folder / "sla.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return folder / "sla.yaml"


def run(sla: Path, out: Path, *extra: str) -> int:
    return tiny_main(["run", "--sla", str(sla), "--source", str(sla.with_name("source.yaml")), "--out", str(out),
                      "--cycle-id", CYCLE, *extra])


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_slas_named_only_in_cyrillic_get_two_folders_and_two_ledger_rows(tmp_path):
    out = tmp_path / "reports"
    marketing, sales = campaign(tmp_path / "m", "Маркетинг"), campaign(tmp_path / "s", "Продажи")
    assert run(marketing, out) == 0
    first = out / folder_slug("Маркетинг") / CYCLE
    before = digest(first)
    assert run(sales, out) == 0
    second = out / folder_slug("Продажи") / CYCLE
    assert first != second and first.parent.name.startswith("Marketing-") and second.parent.name.startswith(
        "Prodazhi-")
    assert digest(first) == before                      # the second SLA did not touch the first's report
    assert json.loads((second / "results.json").read_text(encoding="utf-8"))["sla"] == "Продажи"
    assert json.loads((first / "results.json").read_text(encoding="utf-8"))["sla"] == "Маркетинг"
    assert (first.parent / OWNER_FILE).read_text(encoding="utf-8") == "Маркетинг"
    with History.at(out) as history:
        runs = history.list_runs()
    assert sorted(runs["sla_name"]) == ["Маркетинг", "Продажи"]
    assert set(runs["status"]) == {"completed"}
    assert sorted(runs["run_dir"]) == sorted([str(first), str(second)])


def test_a_folder_owned_by_another_sla_is_refused(tmp_path, capsys):
    out = tmp_path / "reports"
    first, second = campaign(tmp_path / "a", "Inbound EMEA"), campaign(tmp_path / "b", "Inbound-EMEA")
    assert folder_slug("Inbound EMEA") == folder_slug("Inbound-EMEA")   # the one collision left: spaces vs dashes
    assert run(first, out) == 0
    before = digest(out / "Inbound-EMEA" / CYCLE)
    capsys.readouterr()
    assert run(second, out) == 2
    err = capsys.readouterr().err
    assert "belongs to the SLA 'Inbound EMEA' (see .sla-name in it), not to 'Inbound-EMEA'" in err
    assert digest(out / "Inbound-EMEA" / CYCLE) == before


@pytest.mark.parametrize(("name", "option"), [("output_dir", "--out"), ("as_of", "--as-of"),
                                              ("cycle_id", "--cycle-id"), ("sla_path", "--sla"),
                                              ("source_path", "--source")])
def test_runner_owned_parameters_are_refused(tmp_path, capsys, name, option):
    sla = campaign(tmp_path / "c", "Inbound")
    assert run(sla, tmp_path / "reports", "-p", f"{name}=/elsewhere") == 2
    err = capsys.readouterr().err
    assert f"{name}: set by the runner, not by -p or a parameters file; use {option}" in err
    assert not (tmp_path / "reports" / "Inbound").exists() and not Path("/elsewhere").exists()


def test_planted_symbolic_links_are_not_followed(tmp_path, capsys):
    out, victim = tmp_path / "reports", tmp_path / "victim.txt"
    victim.write_text("precious")
    sla = campaign(tmp_path / "c", "Inbound")
    (out / "Inbound").mkdir(parents=True)
    os.symlink(victim, out / "Inbound" / f".{CYCLE}.lock")
    assert run(sla, out) == 1
    assert "is a symbolic link; refusing to follow it" in capsys.readouterr().err
    assert victim.read_text() == "precious"
    (out / "Inbound" / f".{CYCLE}.lock").unlink()
    shutil.rmtree(out / "Inbound")
    os.symlink(tmp_path / "c", out / "Inbound")          # the SLA folder itself pointing elsewhere
    assert run(sla, out) == 1
    assert "is a symbolic link; a run writes only into real folders" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["leads.csv", "sla.yaml", "source.yaml",
                                                                   "spend.csv"]


@pytest.mark.parametrize("cycle", ["q1.old-1", "q1.tmp-1", "q1.failed-x", "x" * 101])
def test_reserved_cycle_ids_are_refused(tmp_path, capsys, cycle):
    sla = campaign(tmp_path / "c", "Inbound")
    code = tiny_main(["run", "--sla", str(sla), "--source", str(sla.with_name("source.yaml")),
                      "--out", str(tmp_path / "reports"), "--cycle-id", cycle])
    assert code == 2
    assert "cycle id" in capsys.readouterr().err
    assert not (tmp_path / "reports" / "Inbound").exists()
