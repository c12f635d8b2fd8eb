"""Do two versions of the code compute the same figures? Every speed-up is checked with this.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/same_figures.py --leads 100000 --against <git-ref>

It writes ``--leads`` generated leads (:mod:`leadgen`, fixed seed) as CSV, then reads, validates and
analyses them twice in fresh processes: once with this checkout's ``sla_toolkit`` and once with the one
at ``--against`` (extracted with ``git archive`` into a temporary folder). Each prints its
``results.json`` content (``CycleResult.to_dict``) and its wall time; the script compares every number
(relative tolerance ``--tolerance``, default 1e-8) and every text, and prints the differences (none
expected) and the two times.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leadgen import write_campaign  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ANALYSE = """
import json, sys, time
started = time.perf_counter()
from sla_toolkit.io import load_leads
from sla_toolkit.io.mapping import load_mapping
from sla_toolkit.pipeline import analyse
from sla_toolkit.spec import load_spec
folder = sys.argv[1]
data = load_leads(load_spec(folder + "/sla.yaml"), load_mapping(folder + "/source.yaml"))
result = analyse(data).to_dict()
print(json.dumps({"seconds": time.perf_counter() - started, "results": result}, default=str))
"""


def _tree_at(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref, "sla_toolkit"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _analyse(code_root: Path, folder: Path) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(code_root)}
    done = subprocess.run([sys.executable, "-c", ANALYSE, str(folder)], cwd=folder, env=environment,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def differences(a, b, tolerance: float, path: str = "") -> list[str]:
    """Every place where ``a`` and ``b`` differ: numbers beyond ``tolerance`` (relative), anything else unequal."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{path}/{k}: only on one side" for k in set(a) ^ set(b)]
        return found + [d for k in set(a) & set(b) for d in differences(a[k], b[k], tolerance, f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} against {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, tolerance, f"{path}[{i}]")]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if (math.isnan(a) and math.isnan(b)) or a == b:
            return []
        return [] if abs(a - b) <= tolerance * max(1.0, abs(a), abs(b)) else [f"{path}: {a!r} against {b!r}"]
    return [] if a == b else [f"{path}: {str(a)[:80]!r} against {str(b)[:80]!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--against", required=True, help="git ref of the code to compare with (e.g. a commit)")
    parser.add_argument("--tolerance", type=float, default=1e-8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sla-same-figures-") as temp:
        folder = Path(temp) / "data"
        folder.mkdir()
        write_campaign(folder, args.leads)
        here = _analyse(ROOT, folder)
        there = _analyse(_tree_at(args.against, Path(temp) / "reference"), folder)
    found = differences(there["results"], here["results"], args.tolerance)
    print(json.dumps({"leads": args.leads, "against": args.against, "tolerance": args.tolerance,
                      "differences": len(found), "seconds_here": round(here["seconds"], 2),
                      "seconds_against": round(there["seconds"], 2)}))
    for line in found[:50]:
        print(line)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
