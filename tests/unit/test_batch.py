"""`sla-toolkit batch`: 12 generated cycles, one broken, on a Dask LocalCluster with two workers and locally;
11 complete, 1 fails with its reason, the exit code says so, and both give identical results.json files."""
import dataclasses
import time
from pathlib import Path

import pytest

from sla_toolkit.batch import BatchInputError, discover
from sla_toolkit.cli import main
from sla_toolkit.datasets import GeneratorSettings, generate_campaign, write_campaign
from sla_toolkit.history import History

N_CYCLES, BROKEN = 12, 7


@pytest.fixture(scope="module")
def cycles(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cycles")
    base = GeneratorSettings.sample().with_expected_leads(400)
    for i in range(N_CYCLES):
        settings = dataclasses.replace(base.with_seed(100 + i), name=f"Region {i:02d} inbound")
        paths = write_campaign(generate_campaign(settings), root / f"region-{i:02d}")
        if i == BROKEN:   # the export lost its creation date column
            lines = paths.leads.read_text().splitlines()
            paths.leads.write_text("\n".join(line.split(",", 2)[0] + "," + line.split(",", 2)[2]
                                             for line in lines) + "\n")
    return root


def results_files(out: Path) -> dict[str, bytes]:
    return {p.parent.parent.name: p.read_bytes() for p in sorted(out.glob("*/*/results.json"))}


def check_batch(out: Path, code: int, printed: str):
    assert code == 1   # a cycle failed
    assert f"{N_CYCLES - 1} completed / 1 failed" in printed
    (broken_line,) = [line for line in printed.splitlines() if "Region 07" in line]
    assert "failed" in broken_line and "created_at" in broken_line   # the reason names what is missing
    assert len(results_files(out)) == N_CYCLES - 1
    with History.at(out) as history:
        runs = history.list_runs()
    assert len(runs) == N_CYCLES and (runs["status"] == "completed").sum() == N_CYCLES - 1
    (failed,) = runs.loc[runs["status"] == "failed"].to_dict("records")
    assert failed["sla_name"] == "Region 07 inbound" and "created_at" in failed["error"]


def test_batch_on_dask_and_locally_agree(cycles, tmp_path, capsys):
    LocalCluster = pytest.importorskip("distributed").LocalCluster   # the [dask] extra (in [test] too)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        started = time.monotonic()
        code = main(["batch", str(cycles), "--out", str(tmp_path / "dask"), "--no-models",
                     "--scheduler", cluster.scheduler_address])
        dask_seconds = time.monotonic() - started
    dask_printed = capsys.readouterr().out
    check_batch(tmp_path / "dask", code, dask_printed)
    started = time.monotonic()
    code = main(["batch", str(cycles), "--out", str(tmp_path / "local"), "--no-models", "--workers", "2"])
    local_seconds = time.monotonic() - started
    local_printed = capsys.readouterr().out
    check_batch(tmp_path / "local", code, local_printed)
    print(f"\n{dask_printed}\nDask (2 workers) {dask_seconds:.1f} s; local (2 processes) {local_seconds:.1f} s")
    assert results_files(tmp_path / "dask") == results_files(tmp_path / "local")


def test_list_file_and_bad_arguments(cycles, tmp_path):
    listing = tmp_path / "cycles.txt"
    listing.write_text(f"# two cycles\n{cycles / 'region-00'}\n{cycles / 'region-01' / 'sla.yaml'} "
                       f"{cycles / 'region-01' / 'source.yaml'}\n\n")
    assert [job.label for job in discover(listing)] == ["region-00", "region-01"]
    listing.write_text(f"{cycles / 'nowhere'}\n")
    with pytest.raises(BatchInputError, match="line 1: no such file"):
        discover(listing)
    with pytest.raises(BatchInputError, match="no folder under .* holds both sla.yaml and source.yaml"):
        discover(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else None)
    assert main(["batch", str(tmp_path / "missing")]) == 2
