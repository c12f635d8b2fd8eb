"""How long `sla-toolkit pace` takes: on the bundled sample (target under 2 s, median of five fresh processes),
or on a campaign folder against the baseline notebook of ``cycle.py`` (target at most 1.5x at 1,000,000 leads).

Run::

    .venv/bin/python benchmarks/pace_cli.py [--runs 5]
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/pace_cli.py --folder /tmp/sla-bench-1000000 \\
        [--pairs 3] [--workdir /tmp/sla-pace-bench]

Each measurement is the real command in a fresh process (imports included), timed and its peak RSS
taken as ``cycle.py`` does (whole process tree, no tracing); one JSON line each, then a summary line.
The ledger goes to a fresh folder: the first run creates it (its time is shown apart, ``new ledger``),
the timed runs add to it, as a daily ``pace`` does. With ``--folder`` (holding ``sla.yaml``,
``source.yaml`` and ``leads.csv`` or ``leads.parquet``; nothing is written there) the runs alternate
with ``cycle.py``'s baseline notebook on the same lead file (read, groupby, papermill + nbconvert).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cycle import BIN, _baseline_notebook, _measure, run_baseline  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def timed(command: list[str], work: Path) -> dict:
    """``cycle._measure`` plus the CPU seconds of the process (user + system): steadier than wall time on a
    shared machine, where the wall time of a short command mostly measures the other users' load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured = _measure(command, work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**measured, "cpu_s": round(cpu, 2)}


def pace_command(folder: Path, out: Path, as_of: str | None) -> list[str]:
    return [str(BIN / "sla-toolkit"), "pace", "--sla", str(folder / "sla.yaml"), "--source",
            str(folder / "source.yaml"), "--out", str(out), *(["--as-of", as_of] if as_of else [])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="campaign folder to time against the baseline (default: the sample)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs on the sample (default 5)")
    parser.add_argument("--pairs", type=int, default=3, help="baseline/pace pairs with --folder (default 3)")
    parser.add_argument("--as-of", help="--as-of for pace (default: 2025-02-15 on the sample, else none)")
    parser.add_argument("--workdir", type=Path, help="where the ledger and the baseline's notebooks go")
    args = parser.parse_args()
    folder = (args.folder or SAMPLE).resolve()
    as_of = args.as_of or (None if args.folder else "2025-02-15")
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="sla-pace-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    command = pace_command(folder, work / "reports", as_of)
    print(json.dumps({"what": "setup", "folder": str(folder), "load": round(os.getloadavg()[0], 1),
                      "cpus": os.cpu_count()}), flush=True)
    first = timed(command, work)
    print(json.dumps({"what": "pace (new ledger)", **first}), flush=True)
    baselines, paces, cpus = [], [], []
    lead_file = next((folder / name for name in ("leads.csv", "leads.parquet") if (folder / name).exists()), None)
    notebook = _baseline_notebook(work, lead_file) if args.folder and lead_file else None
    for number in range(1, (args.pairs if notebook else args.runs) + 1):
        if notebook:
            measured = run_baseline(work, notebook, number)
            baselines.append(measured["seconds"])
            print(json.dumps({"pair": number, **measured}), flush=True)
        measured = timed(command, work)
        paces.append(measured["seconds"])
        cpus.append(measured["cpu_s"])
        ratio = round(measured["seconds"] / statistics.median(baselines), 2) if baselines else None
        print(json.dumps({"pair" if notebook else "run": number, "what": "pace", **measured,
                          "ratio_to_baseline": ratio}), flush=True)
    print(json.dumps({"what": "summary", "folder": str(folder), "pace_median_s": statistics.median(paces),
                      "pace_best_s": min(paces), "pace_median_cpu_s": statistics.median(cpus),
                      "baseline_median_s": statistics.median(baselines) if baselines else None,
                      "ratio_of_medians": round(statistics.median(paces) / statistics.median(baselines), 2)
                      if baselines else None, "load_after": round(os.getloadavg()[0], 1),
                      "target": "< 2 s median" if not args.folder else "<= 1.5x the baseline at 1M leads"}),
          flush=True)


if __name__ == "__main__":
    main()
