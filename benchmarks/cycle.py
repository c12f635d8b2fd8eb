"""`sla-toolkit run` against a hand-written baseline notebook, side by side, on generated leads.

Run::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/cycle.py --leads 100000 [--parquet]
        [--pairs 3] [--workdir /tmp/sla-bench]

It writes ``--leads`` canonical leads over 180 days (fixed seed, :mod:`leadgen`), then alternates
``--pairs`` times: the baseline (a notebook that reads the file, counts stages with a groupby, executed
by papermill and converted to HTML by ``jupyter nbconvert``) and ``sla-toolkit run`` on the same file.
Each is a whole process tree started from here; nothing is traced (no tracemalloc). One JSON line per
measurement: wall time of each phase (for the run: the steps ``run.log`` times), peak RSS of the whole
process tree (the sum over all descendants, polled from /proc every 0.1 s) and of its largest process
(``getrusage`` of the waited child), the size of ``results.json``, and the ratio to the median
baseline so far. A last line gives the medians. Only ratios within one invocation are comparable:
the machine is shared.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leadgen import write_campaign  # noqa: E402

BIN = Path(sys.executable).parent
PAGE = os.sysconf("SC_PAGE_SIZE")
_TIMED_LINE = re.compile(r"^\S+ (?P<step>.+?): done in (?P<seconds>[\d.]+) s$")

BASELINE_SOURCE = """import pandas as pd
path = "{path}"
leads = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
stages = ["created_at", "mql_at", "sql_at", "customer_at"]
counts = leads.groupby("channel")[stages].count()
counts
"""


def _baseline_notebook(folder: Path, lead_file: Path) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Stage counts by channel"),
                      nbformat.v4.new_code_cell(BASELINE_SOURCE.format(path=lead_file))]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "baseline.ipynb"
    nbformat.write(notebook, str(path))
    return path


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, now."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/statm", "rb") as handle:
                rss[int(entry)] = int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def _measure(command: list[str], cwd: Path) -> dict:
    """Run ``command``; return wall seconds, exit code, peak tree RSS and peak single-process RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    done.set()
    poller.join()
    return {"seconds": round(seconds, 2), "exit": process.returncode, "peak_rss_tree_mib": round(peak[0] / 2**20),
            "peak_rss_largest_process_mib": round(usage.ru_maxrss / 1024),
            "stderr_tail": stderr.decode(errors="replace")[-400:] if process.returncode else ""}


def run_baseline(work: Path, notebook: Path, number: int) -> dict:
    executed = work / f"baseline-{number}.ipynb"
    papermill = _measure([str(BIN / "papermill"), "--no-progress-bar", str(notebook), str(executed)], work)
    nbconvert = _measure([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)], work)
    return {"what": "baseline", "seconds": round(papermill["seconds"] + nbconvert["seconds"], 2),
            "exit": papermill["exit"] or nbconvert["exit"],
            "phases": {"papermill (read, groupby)": papermill["seconds"], "nbconvert html": nbconvert["seconds"]},
            "peak_rss_tree_mib": max(papermill["peak_rss_tree_mib"], nbconvert["peak_rss_tree_mib"]),
            "peak_rss_largest_process_mib": max(papermill["peak_rss_largest_process_mib"],
                                                nbconvert["peak_rss_largest_process_mib"]),
            "stderr_tail": papermill["stderr_tail"] + nbconvert["stderr_tail"]}


def run_toolkit(work: Path, number: int) -> dict:
    out = work / "reports"
    measured = _measure([str(BIN / "sla-toolkit"), "run", "--sla", str(work / "sla.yaml"), "--source",
                         str(work / "source.yaml"), "--out", str(out), "--cycle-id", f"bench-{number}"], work)
    run_dirs = sorted(out.glob(f"*/bench-{number}")) or sorted(out.glob(f"*/bench-{number}.failed-*"))
    phases, results_bytes = {}, None
    if run_dirs:
        for line in (run_dirs[0] / "run.log").read_text(encoding="utf-8").splitlines():
            if match := _TIMED_LINE.match(line):
                phases[match["step"]] = float(match["seconds"])
        results = run_dirs[0] / "results.json"
        results_bytes = results.stat().st_size if results.exists() else None
    return {"what": "sla-toolkit run", **measured, "phases": phases, "results_json_bytes": results_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, required=True)
    parser.add_argument("--parquet", action="store_true", help="write and read Parquet instead of CSV")
    parser.add_argument("--pairs", type=int, default=3, help="alternating baseline/run pairs (default 3)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-baseline", action="store_true", help="only time sla-toolkit run")
    parser.add_argument("--reuse-data", action="store_true",
                        help="keep the lead file already in --workdir (same --leads and seed) instead of regenerating")
    args = parser.parse_args()
    work = (args.workdir or Path(f"/tmp/sla-bench-{args.leads}{'-pq' if args.parquet else ''}")).resolve()
    started = time.perf_counter()
    existing = work / ("leads.parquet" if args.parquet else "leads.csv")
    lead_file = existing if args.reuse_data and existing.exists() else write_campaign(work, args.leads,
                                                                                      parquet=args.parquet)
    notebook = _baseline_notebook(work, lead_file)
    print(json.dumps({"what": "setup", "leads": args.leads, "file": str(lead_file),
                      "file_mib": round(lead_file.stat().st_size / 2**20, 1),
                      "generate_seconds": round(time.perf_counter() - started, 1),
                      "machine": f"{platform.machine()} {os.cpu_count()} cpus, "
                                 f"{os.sysconf('SC_PHYS_PAGES') * PAGE / 2**30:.0f} GiB, "
                                 f"load {os.getloadavg()[0]:.1f}", "python": platform.python_version()}),
          flush=True)
    baselines, runs = [], []
    for number in range(1, args.pairs + 1):
        if not args.no_baseline:
            measured = run_baseline(work, notebook, number)
            baselines.append(measured["seconds"])
            print(json.dumps({"pair": number, "leads": args.leads, **measured}), flush=True)
        measured = run_toolkit(work, number)
        runs.append(measured["seconds"])
        ratio = round(measured["seconds"] / statistics.median(baselines), 2) if baselines else None
        print(json.dumps({"pair": number, "leads": args.leads, **measured, "ratio_to_baseline": ratio}), flush=True)
    summary = {"what": "summary", "leads": args.leads, "parquet": args.parquet, "pairs": args.pairs,
               "baseline_median_s": statistics.median(baselines) if baselines else None,
               "run_median_s": statistics.median(runs),
               "ratio_of_medians": round(statistics.median(runs) / statistics.median(baselines), 2)
               if baselines else None,
               "children_max_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
