"""The fixed cost of `sla-toolkit run` on the bundled sample: what the run spends outside its own timed steps.

Run::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/run_floor.py [--runs 3]
        [--against /path/to/other/checkout] [--workdir /tmp/sla-run-floor]

Each run is the real command in a fresh process tree, measured as ``cycle.py`` measures (wall time,
peak RSS of the tree, the ``done in`` steps of ``run.log``). ``outside_steps_s`` is the wall time not
in any logged step: the CLI process's imports, the spec, mapping and parameter checks, the history ledger
before and after, and the commit of the run folder. The notebook steps include each kernel's own
imports. ``--against`` alternates with the same command run from another checkout of the package (put
first on ``PYTHONPATH``, kernels included), so a change is measured against its base in one invocation.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cycle import run_toolkit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ANALYSIS = ("read and validate", "funnel and survival", "pacing and checks", "breakdowns", "models", "findings",
            "results and snapshot")


def measure(work: Path, number: int, checkout: Path | None) -> dict:
    env = os.environ.copy()
    os.environ.pop("PYTHONPATH", None)
    if checkout is not None:
        os.environ["PYTHONPATH"] = str(checkout)
    try:
        measured = run_toolkit(work, number)
    finally:
        os.environ.clear()
        os.environ.update(env)
    phases = measured["phases"]
    notebooks = {k: v for k, v in phases.items() if k.startswith("notebook ") or k == "start kernel"}
    return {"code": str(checkout or REPO), "run": number, "seconds": measured["seconds"], "exit": measured["exit"],
            "analysis_s": round(sum(phases.get(k, 0.0) for k in ANALYSIS), 2),
            "kernel_and_notebooks_s": round(sum(notebooks.values()), 2),
            "html_s": round(sum(v for k, v in phases.items() if k.startswith("export ")), 2),
            "outside_steps_s": round(measured["seconds"] - sum(phases.values()), 2),
            "peak_rss_tree_mib": measured["peak_rss_tree_mib"], "phases": phases,
            "stderr_tail": measured["stderr_tail"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to alternate with (its package folder's parent)")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="sla-run-floor-"))).resolve()
    shutil.copytree(REPO / "data" / "sample", work, dirs_exist_ok=True)
    print(json.dumps({"what": "setup", "load": round(os.getloadavg()[0], 1), "work": str(work)}), flush=True)
    codes = [None] if args.against is None else [args.against.resolve(), None]
    results: dict[str, list[dict]] = {}
    for number in range(1, args.runs + 1):
        for checkout in codes:
            measured = measure(work, number * 10 + codes.index(checkout), checkout)
            results.setdefault(measured["code"], []).append(measured)
            print(json.dumps(measured), flush=True)
    for code, runs in results.items():
        print(json.dumps({"what": "summary", "code": code, "runs": len(runs), **{
            f"median_{key}": statistics.median(r[key] for r in runs)
            for key in ("seconds", "analysis_s", "kernel_and_notebooks_s", "html_s", "outside_steps_s")},
            "load_after": round(os.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    main()
